# Stage "degrade": HR128 and the LR sets, one .npy per clip (docs/layout.md#sets-and-naming, docs/degradation.md).


rule degrade_hr:
    input:
        manifest="results/manifest.tsv",
        faces="results/data/faces.tsv",
        dataset=DATASET,
        code=get_sources("degrade"),
    output:
        directory(set_dir(HR)),
    log:
        f"logs/degrade/{HR}.log",
    benchmark:
        f"logs/benchmarks/degrade/{HR}.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        keep_aspect=config["preprocess"]["keep_aspect"],
        dataset=config["dataset"]["name"],
        options=DATASET_OPTIONS,
    script:
        "../scripts/degrade_hr.py"


rule degrade_lr:
    input:
        manifest="results/manifest.tsv",
        hr=set_dir(HR),
        code=get_sources("degrade"),
    output:
        directory("results/sets/LR{size}"),
    log:
        "logs/degrade/LR{size}.log",
    benchmark:
        "logs/benchmarks/degrade/LR{size}.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        degradation=get_lr_params,
    script:
        "../scripts/degrade_lr.py"
