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
