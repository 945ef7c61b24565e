"""rule degrade_lr: HR128 blurred, decimated and noised into one LR set."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.degrade import make_lr_set

make_lr_set(
    snakemake.input.manifest,
    snakemake.input.hr,
    snakemake.output[0],
    **snakemake.params.degradation,
)
