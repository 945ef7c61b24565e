# Stage "report": tables and figures built from result files only (SPEC §10).


rule report_figure6:
    input:
        manifest="results/manifest.tsv",
        sets=get_figure6_sets,
        code=get_sources("report"),
    output:
        png=report(
            "results/figures/figure6.png",
            caption="../report/figure6.rst",
            category="Figures",
            labels={"figure": "6", "format": "png"},
        ),
        pdf="results/figures/figure6.pdf",
    log:
        "logs/report/figure6.log",
    conda:
        "../../envs/report.yaml"
    params:
        clip_id=config["report"]["figure_clip"],
        frame=config["report"]["figure_frame"],
    script:
        "../scripts/figure6.py"


rule report_table2:
    input:
        metrics=get_all_metrics,
        predictions=get_all_predictions,
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
        sets=study_sets(),
        descriptors=descriptors(),
        evaluation="results/evaluation",
    script:
        "../scripts/table2.py"


rule report_confusion:
    input:
        metrics=get_all_metrics,
        code=get_sources("report"),
    output:
        report(
            expand(
                "results/figures/confusion/{pair}.{suffix}",
                pair=confusion_pairs(),
                suffix=["png", "pdf"],
            ),
            caption="../report/confusion.rst",
            category="Confusion matrices",
        ),
    log:
        "logs/report/confusion.log",
    conda:
        "../../envs/report.yaml"
    params:
        pairs=list(evaluation_files("metrics.json")),
    script:
        "../scripts/confusion.py"


rule report_accuracy:
    input:
        metrics=get_all_metrics,
        code=get_sources("report"),
    output:
        png=report(
            "results/figures/accuracy.png",
            caption="../report/accuracy.rst",
            category="Figures",
            labels={"figure": "accuracy by set", "format": "png"},
        ),
        pdf="results/figures/accuracy.pdf",
    log:
        "logs/report/accuracy.log",
    conda:
        "../../envs/report.yaml"
    params:
        pairs=list(evaluation_files("metrics.json")),
    script:
        "../scripts/accuracy.py"


rule report_figure7:
    input:
        manifest="results/manifest.tsv",
        sets=get_figure7_sets,
        code=get_sources("report"),
    output:
        png=report(
            "results/figures/figure7.png",
            caption="../report/figure7.rst",
            category="Figures",
            labels={"figure": "7", "format": "png"},
        ),
        pdf="results/figures/figure7.pdf",
    log:
        "logs/report/figure7.log",
    conda:
        "../../envs/report.yaml"
    params:
        clip_id=config["report"]["figure_clip"],
        frame=config["report"]["figure_frame"],
    script:
        "../scripts/figure7.py"


rule report_table1:
    input:
        quality=get_quality_files,
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


rule report_psnr_accuracy:
    input:
        quality=get_quality_files,
        metrics=get_all_metrics,
        code=get_sources("report"),
    output:
        png=report(
            "results/figures/psnr_accuracy.png",
            caption="../report/psnr_accuracy.rst",
            category="Figures",
            labels={"figure": "PSNR against accuracy", "format": "png"},
        ),
        pdf="results/figures/psnr_accuracy.pdf",
    log:
        "logs/report/psnr_accuracy.log",
    conda:
        "../../envs/report.yaml"
    params:
        sets=quality_sets(),
        pairs=list(evaluation_files("metrics.json")),
    script:
        "../scripts/psnr_accuracy.py"


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


rule report_training_curve:
    input:
        "results/models/{model}/x{scale}/curve.tsv",
        code=get_sources("report"),
    output:
        png=report(
            "results/figures/training/{model}_x{scale}.png",
            caption="../report/training_curve.rst",
            category="Training",
            labels={"model": "{model}", "scale": "x{scale}"},
        ),
        pdf="results/figures/training/{model}_x{scale}.pdf",
    log:
        "logs/report/training_curve_{model}_x{scale}.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../scripts/training_curve.py"


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
