"""rule evaluate_loso: LOSO SVM on one features file."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path

from mesr.evaluate import evaluate_features

evaluate_features(
    snakemake.input[0],
    Path(snakemake.output.metrics).parent,
    **snakemake.params.evaluation,
)
