# Stage "report", figures: Figures 6 and 7, accuracy, UF1 per dataset, PSNR against accuracy, confusion matrices
# and training curves, from result files only (docs/reports.md).


rule report_figure6:
    input:
        unpack(get_face_crop_source),
        manifest="results/manifest.tsv",
        sets=[set_dir(name) for name in frame_sets(6)],
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
        figure=6,
        sets=frame_sets(6),
        dataset=config["dataset"]["name"],
        options=DATASET_OPTIONS,
        clip_id=config["report"]["figure_clip"],
        frame=config["report"]["figure_frame"],
    script:
        "../scripts/frames.py"


rule report_figure7:
    input:
        manifest="results/manifest.tsv",
        sets=[set_dir(name) for name in frame_sets(7)],
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
        figure=7,
        sets=frame_sets(7),
        clip_id=config["report"]["figure_clip"],
        frame=config["report"]["figure_frame"],
    script:
        "../scripts/frames.py"


rule report_accuracy:
    input:
        metrics=evaluation_files("metrics.json"),
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
        pairs=evaluation_pairs(),
    script:
        "../scripts/accuracy.py"


rule report_per_dataset:
    input:
        metrics=evaluation_files("metrics.json"),
        code=get_sources("report"),
    output:
        png=report(
            "results/figures/per_dataset.png",
            caption="../report/per_dataset.rst",
            category="Figures",
            labels={"figure": "UF1 per dataset", "format": "png"},
        ),
        pdf="results/figures/per_dataset.pdf",
    log:
        "logs/report/per_dataset.log",
    conda:
        "../../envs/report.yaml"
    params:
        pairs=evaluation_pairs(),
    script:
        "../scripts/per_dataset.py"


rule report_psnr_accuracy:
    input:
        quality=quality_files(),
        metrics=evaluation_files("metrics.json"),
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
        pairs=evaluation_pairs(),
    script:
        "../scripts/psnr_accuracy.py"


rule report_confusion:
    input:
        metrics="results/evaluation/{set}/{descriptor}/metrics.json",
        code=get_sources("report"),
    output:
        png=report(
            "results/figures/confusion/{set}_{descriptor}.png",
            caption="../report/confusion.rst",
            category="Confusion matrices",
            labels={"set": "{set}", "descriptor": "{descriptor}"},
        ),
        pdf="results/figures/confusion/{set}_{descriptor}.pdf",
    log:
        "logs/report/confusion/{set}_{descriptor}.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../scripts/confusion.py"


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
