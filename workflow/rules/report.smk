# Stage "report": tables and figures built from result files only (SPEC §10).


rule report_figure6:
    input:
        manifest="results/manifest.tsv",
        sets=get_figure6_sets,
    output:
        png=report(
            "results/figures/figure6.png",
            caption="../report/figure6.rst",
            category="Figures",
            labels={"figure": "6", "format": "png"},
        ),
        pdf="results/figures/figure6.pdf",
    params:
        clip_id=config["report"]["figure_clip"],
        frame=config["report"]["figure_frame"],
    log:
        "logs/report/figure6.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../scripts/figure6.py"


rule report_table2:
    input:
        metrics=get_all_metrics,
        predictions=get_all_predictions,
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
    params:
        sets=study_sets(),
        descriptors=descriptors(),
        evaluation="results/evaluation",
    log:
        "logs/report/table2.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../scripts/table2.py"


rule report_confusion:
    input:
        "results/evaluation/{set}/{descriptor}/metrics.json",
    output:
        png=report(
            "results/figures/confusion/{set}_{descriptor}.png",
            caption="../report/confusion.rst",
            category="Confusion matrices",
            subcategory="{descriptor}",
            labels={"set": "{set}", "descriptor": "{descriptor}"},
        ),
        pdf="results/figures/confusion/{set}_{descriptor}.pdf",
    log:
        "logs/report/confusion/{set}_{descriptor}.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../scripts/confusion.py"


rule report_accuracy:
    input:
        get_all_metrics,
    output:
        png=report(
            "results/figures/accuracy.png",
            caption="../report/accuracy.rst",
            category="Figures",
            labels={"figure": "accuracy by set", "format": "png"},
        ),
        pdf="results/figures/accuracy.pdf",
    params:
        pairs=list(evaluation_files("metrics.json")),
    log:
        "logs/report/accuracy.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../scripts/accuracy.py"
