# Stage "train": networks without weights for a scale are trained by the workflow (docs/models.md).


rule train_skimage_images:
    input:
        code=get_sources("training_images"),
    output:
        train=directory("resources/training/skimage/train"),
        heldout=directory("resources/training/skimage/heldout"),
    log:
        "logs/train/skimage_images.log",
    conda:
        "../../envs/tensorflow.yaml"
    script:
        "../scripts/skimage_images.py"


rule train_model:
    input:
        images=get_training_images,
        code=get_sources("train"),
    output:
        weights="results/models/{model}/x{scale}/weights.hdf5",
        settings="results/models/{model}/x{scale}/weights.yaml",
        curve="results/models/{model}/x{scale}/curve.tsv",
    log:
        "logs/train/{model}_x{scale}.log",
    benchmark:
        "logs/benchmarks/train/{model}_x{scale}.tsv"
    conda:
        "../../envs/tensorflow.yaml"
    threads: 1
    resources:
        gpu=1,
    params:
        training=get_training_params,
        checkpoints="results/models/{model}/x{scale}/checkpoint",
    script:
        "../scripts/train.py"


rule train_heldout:
    input:
        weights="results/models/{model}/x{scale}/weights.hdf5",
        images=get_heldout_images,
        code=get_sources("train"),
    output:
        "results/models/{model}/x{scale}/heldout.json",
    log:
        "logs/train/{model}_x{scale}_heldout.log",
    conda:
        "../../envs/tensorflow.yaml"
    resources:
        gpu=1,
    params:
        training=get_training_params,
    script:
        "../scripts/heldout.py"
