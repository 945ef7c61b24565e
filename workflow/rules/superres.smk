# Stage "superres": every LR set super-resolved back to 128x128 by every model (docs/models.md).


# On clusters, downloading weights runs where snakemake runs (the login node: internet, no compute job).
localrules:
    superres_download,


rule superres_download:
    input:
        code=get_sources("data"),
    output:
        "resources/weights/{model}/x{scale}.hdf5",
    log:
        "logs/superres/download_{model}_x{scale}.log",
    conda:
        "../../envs/data.yaml"
    params:
        source=get_weights_download,
    script:
        "../scripts/download_weights.py"


rule superres_upscale:
    input:
        manifest="results/manifest.tsv",
        lr="results/sets/LR{size}",
        weights=get_weights,
        code=get_sources("superres"),
    output:
        directory("results/sets/SR{size}-{model}"),
    log:
        "logs/superres/SR{size}-{model}.log",
    benchmark:
        "logs/benchmarks/superres/SR{size}-{model}.tsv"
    conda:
        "../../envs/tensorflow.yaml"
    resources:
        gpu=get_superres_gpu,
    params:
        model=get_model_settings,
    script:
        "../scripts/superres.py"
