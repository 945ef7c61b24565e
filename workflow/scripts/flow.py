"""rule features_flow: the onset-apex optical flow and optical strain of every clip of one set."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.flow import extract_flow_set

extract_flow_set(
    snakemake.input.clips,
    snakemake.input.manifest,
    **snakemake.params.flow,
    output=snakemake.output[0],
)
