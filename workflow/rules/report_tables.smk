# Stage "report", tables: Tables 1 and 2, the composite and cross-database tables, the trained networks and the
# resolved config, from result files only (docs/reports.md). Each rule passes its inputs to the library as a
# mapping and reads nothing else.


rule report_table1:
    input:
        quality=quality_files(),
        code=get_sources("report"),
    output:
        table=report(
            "results/tables/table1.md",
            caption="../report/table1.rst",
            category="Tables",
            labels={"table": "1", "format": "md"},
        ),
        csv="results/tables/table1.csv",
        tex="results/tables/table1.tex",
    log:
        "logs/report/table1.log",
    conda:
        "../../envs/report.yaml"
    params:
        sets=quality_sets(),
        models=list(models()),
    script:
        "../scripts/table1.py"


rule report_table2:
    input:
        metrics=evaluation_files("metrics.json"),
        predictions=evaluation_files("predictions.tsv"),
        code=get_sources("report"),
    output:
        table=report(
            "results/tables/table2.md",
            caption="../report/table2.rst",
            category="Tables",
            labels={"table": "2", "format": "md"},
        ),
        csv="results/tables/table2.csv",
        tex="results/tables/table2.tex",
        extended=report(
            "results/tables/table2_extended.md",
            caption="../report/table2_extended.rst",
            category="Tables",
            labels={"table": "2 (extended)", "format": "md"},
        ),
        extended_csv="results/tables/table2_extended.csv",
        extended_tex="results/tables/table2_extended.tex",
    log:
        "logs/report/table2.log",
    conda:
        "../../envs/report.yaml"
    params:
        pairs=evaluation_pairs(),
        models=list(models()),
        descriptors=descriptors(),
    script:
        "../scripts/table2.py"


rule report_megc_table:
    input:
        metrics=evaluation_files("metrics.json"),
        code=get_sources("report"),
    output:
        table=report(
            "results/tables/megc.md",
            caption="../report/megc_table.rst",
            category="Tables",
            labels={"table": "composite", "format": "md"},
        ),
        csv="results/tables/megc.csv",
        tex="results/tables/megc.tex",
    log:
        "logs/report/megc_table.log",
    conda:
        "../../envs/report.yaml"
    params:
        pairs=evaluation_pairs(),
        models=list(models()),
        descriptors=descriptors(),
    script:
        "../scripts/megc_table.py"


rule report_cross_table:
    input:
        metrics=cross_files("metrics.json"),
        code=get_sources("report"),
    output:
        table=report(
            "results/tables/cross_database.md",
            caption="../report/cross_table.rst",
            category="Tables",
            labels={"table": "cross-database", "format": "md"},
        ),
        csv="results/tables/cross_database.csv",
        tex="results/tables/cross_database.tex",
    log:
        "logs/report/cross_table.log",
    conda:
        "../../envs/report.yaml"
    params:
        evaluations=cross_evaluations(),
        models=list(models()),
        descriptors=descriptors(),
    script:
        "../scripts/cross_table.py"


rule report_training_table:
    input:
        settings=expand_trained("results/models/{model}/x{scale}/weights.yaml"),
        heldout=expand_trained("results/models/{model}/x{scale}/heldout.json"),
        code=get_sources("report"),
    output:
        table=report(
            "results/tables/training.md",
            caption="../report/training_table.rst",
            category="Training",
            labels={"model": "all", "scale": "table"},
        ),
        csv="results/tables/training.csv",
        tex="results/tables/training.tex",
    log:
        "logs/report/training_table.log",
    conda:
        "../../envs/report.yaml"
    params:
        trained=[[model, scale] for model, scale in trained()],
    script:
        "../scripts/training_table.py"


rule report_config:
    input:
        code=get_sources("report"),
    output:
        report(
            "results/config.yaml",
            caption="../report/config.rst",
            category="Configuration",
        ),
    log:
        "logs/report/config.log",
    conda:
        "../../envs/report.yaml"
    params:
        config=config,
    script:
        "../scripts/config.py"
