# Stage "features": LBP-TOP and LPQ-TOP of every clip of every set (docs/descriptors.md).


rule features_extract:
    input:
        manifest="results/manifest.tsv",
        clips=get_set_dir,
        code=get_sources("features"),
    output:
        "results/features/{set}/{descriptor}.npz",
    log:
        "logs/features/{set}/{descriptor}.log",
    benchmark:
        "logs/benchmarks/features/{set}/{descriptor}.tsv"
    conda:
        "../../envs/features.yaml"
    params:
        descriptor_params=get_descriptor_params,
        temporal=config["features"]["temporal"],
        frame_rates=FRAME_RATES,
    script:
        "../scripts/features.py"
