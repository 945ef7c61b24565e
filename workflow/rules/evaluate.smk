# Stage "evaluate": LOSO SVM of every (set, descriptor), STSTNet trained per LOSO fold, and the cross-database
# evaluations (docs/evaluation.md).


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
    wildcard_constraints:
        descriptor="|".join(d for d in DESCRIPTORS if d != "ststnet"),
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


rule evaluate_ststnet:
    input:
        "results/features/{set}/flow.npz",
        code=get_sources("ststnet"),
    output:
        predictions="results/evaluation/{set}/ststnet/predictions.tsv",
        metrics="results/evaluation/{set}/ststnet/metrics.json",
        megc_log="results/evaluation/{set}/ststnet/megc_log.txt",
    log:
        "logs/evaluate/{set}/ststnet.log",
    benchmark:
        "logs/benchmarks/evaluate/{set}/ststnet.tsv"
    conda:
        "../../envs/tensorflow.yaml"
    resources:
        gpu=1,
    params:
        training=config["features"]["ststnet"],
        labels=config["evaluation"]["labels"],
        bootstrap=config["evaluation"]["bootstrap"],
        bootstrap_seed=config["evaluation"]["seed"],
    script:
        "../scripts/ststnet.py"
