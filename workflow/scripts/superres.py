"""rule superres_upscale: one LR set super-resolved by one model."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.sr import superresolve_set

superresolve_set(
    snakemake.input.lr,
    snakemake.output[0],
    snakemake.input.manifest,
    weights=snakemake.input.weights or None,
    **snakemake.params.model,
)
