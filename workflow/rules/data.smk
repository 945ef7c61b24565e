# Stage "data": the dataset (or its synthetic twin) under resources/, the manifest and the face regions
# (docs/data.md).


# On clusters, fetching runs where snakemake runs (the login node: internet, no compute job).
localrules:
    data_acquire,


rule data_acquire:
    input:
        code=get_sources("data"),
    output:
        directory(DATASET),
    log:
        "logs/data/acquire.log",
    conda:
        "../../envs/data.yaml"
    params:
        dataset=config["dataset"],
        downloads=DOWNLOADS,
    script:
        "../scripts/acquire.py"


rule data_manifest:
    input:
        DATASET,
        code=get_sources("data"),
    output:
        manifest=report(
            "results/manifest.tsv",
            caption="../report/manifest.rst",
            category="Data",
        ),
        gaps=report(
            "results/data/gaps.tsv",
            caption="../report/gaps.rst",
            category="Data",
        ),
        faces="results/data/faces.tsv",
    log:
        "logs/data/manifest.log",
    conda:
        "../../envs/data.yaml"
    params:
        dataset=config["dataset"]["name"],
        classes=config["dataset"]["classes"],
        on_bad_clip=config["dataset"]["on_bad_clip"],
        options=DATASET_OPTIONS,
        face_crop=config["preprocess"]["face_crop"],
        face_margin=config["preprocess"]["face_margin"],
    script:
        "../scripts/manifest.py"
