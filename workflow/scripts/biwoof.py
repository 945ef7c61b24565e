"""rule features_biwoof: Bi-WOOF of every clip of one set, from its optical flow."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.biwoof import extract_biwoof_set

extract_biwoof_set(snakemake.input[0], params=snakemake.params.bi_woof, output=snakemake.output[0])
