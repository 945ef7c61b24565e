"""rule degrade_hr: every clip cropped to its face region and resized to 128x128."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.degrade import make_hr_set

make_hr_set(
    snakemake.input.manifest,
    snakemake.input.dataset,
    snakemake.output[0],
    faces=snakemake.input.faces,
    keep_aspect=snakemake.params.keep_aspect,
    dataset=snakemake.params.dataset,
    options=snakemake.params.options,
)
