"""rule features_extract: one descriptor over every clip of one set."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.descriptors import extract_set

extract_set(
    snakemake.input.clips,
    snakemake.input.manifest,
    descriptor=snakemake.wildcards.descriptor,
    params=snakemake.params.descriptor_params,
    temporal=snakemake.params.temporal,
    frame_rates=snakemake.params.frame_rates,
    output=snakemake.output[0],
)
