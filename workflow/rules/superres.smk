# Stage "superres": every LR set super-resolved back to 128x128 by every model (docs/models.md).


# On clusters, downloading weights runs where snakemake runs (the login node: internet, no compute job).
localrules:
    superres_download,


rule superres_download:
    input:
        code=get_sources("data"),
    output:
        "resources/weights/{model}/x{scale}.{format}",
    log:
        "logs/superres/download_{model}_x{scale}.{format}.log",
    wildcard_constraints:
        format="hdf5|pth",
    conda:
        "../../envs/data.yaml"
    params:
        source=get_weights_download,
    script:
        "../scripts/download_weights.py"


# Real-ESRGAN and SwinIR come as PyTorch files: read without PyTorch, written in the HDF5 layout of the others.
rule superres_convert:
    input:
        pth=get_pth_weights,
        code=get_sources("superres"),
    output:
        "results/models/{model}/x{scale}/converted.hdf5",
    log:
        "logs/superres/convert_{model}_x{scale}.log",
    conda:
        "../../envs/tensorflow.yaml"
    params:
        model=get_convert_settings,
        source=get_pth_source,
    script:
        "../scripts/convert_weights.py"


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
