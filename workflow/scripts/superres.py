"""rule superres_upscale: one LR set super-resolved by one model."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.sr import superresolve_set
from mesr.sr.devices import check_gpu

check_gpu(snakemake.resources.get("gpu", 0), require=snakemake.config["require_gpu"])

superresolve_set(
    snakemake.input.lr,
    snakemake.output[0],
    snakemake.input.manifest,
    weights=snakemake.input.weights or None,
    **snakemake.params.model,
)
