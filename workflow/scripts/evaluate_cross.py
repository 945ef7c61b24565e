"""rule evaluate_cross: fit on every clip of one dataset, predict every clip of another."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path

from mesr.evaluate import cross_database

cross_database(
    snakemake.input[0],
    Path(snakemake.output.metrics).parent,
    train=snakemake.wildcards.train,
    test=snakemake.wildcards.test,
    **snakemake.params.evaluation,
)
