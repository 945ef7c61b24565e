# Stage "quality": PSNR and SSIM of every SR set, and of every LR set upscaled bicubically, against HR128
# (docs/quality.md).


rule quality_score:
    input:
        manifest="results/manifest.tsv",
        hr=set_dir(HR),
        test=get_set_dir,
        code=get_sources("quality"),
    output:
        "results/quality/{set}.tsv",
    log:
        "logs/quality/{set}.log",
    benchmark:
        "logs/benchmarks/quality/{set}.tsv"
    conda:
        "../../envs/features.yaml"
    params:
        comparison=get_quality_params,
    script:
        "../scripts/quality.py"
