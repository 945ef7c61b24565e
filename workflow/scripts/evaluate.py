"""rule evaluate_loso: LOSO SVM on one features file, and its predictions in the MEGC log format."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path

from mesr.evaluate import evaluate_features, write_megc_log

evaluate_features(
    snakemake.input[0],
    Path(snakemake.output.metrics).parent,
    **snakemake.params.evaluation,
)
write_megc_log(snakemake.output.predictions, snakemake.output.megc_log, labels=snakemake.params.evaluation["labels"])
