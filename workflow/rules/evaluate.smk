# Stage "evaluate": LOSO SVM of every (set, descriptor) (docs/evaluation.md).


rule evaluate_loso:
    input:
        "results/features/{set}/{descriptor}.npz",
        code=get_sources("evaluate"),
    output:
        predictions="results/evaluation/{set}/{descriptor}/predictions.tsv",
        metrics="results/evaluation/{set}/{descriptor}/metrics.json",
    log:
        "logs/evaluate/{set}/{descriptor}.log",
    benchmark:
        "logs/benchmarks/evaluate/{set}/{descriptor}.tsv"
    conda:
        "../../envs/evaluate.yaml"
    params:
        evaluation=config["evaluation"],
    script:
        "../scripts/evaluate.py"
