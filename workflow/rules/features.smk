# Stage "features": LBP-TOP and LPQ-TOP of every clip of every set, the onset-apex optical flow, and
# Bi-WOOF on it (docs/descriptors.md).


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
    wildcard_constraints:
        descriptor="|".join(TEXTURE),
    conda:
        "../../envs/features.yaml"
    params:
        descriptor_params=get_descriptor_params,
        temporal=config["features"]["temporal"],
        frame_rates=FRAME_RATES,
    script:
        "../scripts/features.py"


rule features_flow:
    input:
        manifest="results/manifest.tsv",
        clips=get_set_dir,
        code=get_sources("flow"),
    output:
        "results/features/{set}/flow.npz",
    log:
        "logs/features/{set}/flow.log",
    benchmark:
        "logs/benchmarks/features/{set}/flow.tsv"
    conda:
        "../../envs/features.yaml"
    params:
        flow=config["features"]["flow"],
    script:
        "../scripts/flow.py"


rule features_biwoof:
    input:
        "results/features/{set}/flow.npz",
        code=get_sources("bi_woof"),
    output:
        "results/features/{set}/bi_woof.npz",
    log:
        "logs/features/{set}/bi_woof.log",
    conda:
        "../../envs/features.yaml"
    params:
        bi_woof=config["features"]["bi_woof"],
    script:
        "../scripts/biwoof.py"
