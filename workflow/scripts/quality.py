"""rule quality_score: PSNR/SSIM of one set against HR128, frame by frame."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.data import read_manifest
from mesr.quality import quality_set

quality_set(
    snakemake.input.hr,
    snakemake.input.test,
    list(read_manifest(snakemake.input.manifest).clip_id),
    snakemake.output[0],
    **snakemake.params.comparison,
)
