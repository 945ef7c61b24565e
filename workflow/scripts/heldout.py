"""rule train_heldout: PSNR of a trained network and of bicubic on held-out images."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.sr.training import heldout_psnr
from mesr.sr.devices import check_gpu

check_gpu(snakemake.resources.get("gpu", 0), require=snakemake.config["require_gpu"])

heldout_psnr(
    **snakemake.params.training,
    weights=snakemake.input.weights,
    images=snakemake.input.images,
    output=snakemake.output[0],
)
