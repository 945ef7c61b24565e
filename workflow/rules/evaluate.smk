# Stage "evaluate": LOSO SVM of every (set, descriptor), and the cross-database evaluations (docs/evaluation.md).


rule evaluate_loso:
    input:
        "results/features/{set}/{descriptor}.npz",
        code=get_sources("evaluate"),
    output:
        predictions="results/evaluation/{set}/{descriptor}/predictions.tsv",
        metrics="results/evaluation/{set}/{descriptor}/metrics.json",
        megc_log="results/evaluation/{set}/{descriptor}/megc_log.txt",
    log:
        "logs/evaluate/{set}/{descriptor}.log",
    benchmark:
        "logs/benchmarks/evaluate/{set}/{descriptor}.tsv"
    conda:
        "../../envs/evaluate.yaml"
    params:
        evaluation=SVM_SETTINGS,
    script:
        "../scripts/evaluate.py"


rule evaluate_cross:
    input:
        "results/features/{set}/{descriptor}.npz",
        code=get_sources("evaluate"),
    output:
        predictions="results/evaluation/{set}/{descriptor}/cross/{train}-{test}/predictions.tsv",
        metrics="results/evaluation/{set}/{descriptor}/cross/{train}-{test}/metrics.json",
    log:
        "logs/evaluate/{set}/{descriptor}/cross/{train}-{test}.log",
    conda:
        "../../envs/evaluate.yaml"
    params:
        evaluation=SVM_SETTINGS,
    script:
        "../scripts/evaluate_cross.py"
