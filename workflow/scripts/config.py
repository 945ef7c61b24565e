"""rule report_config: the resolved configuration (defaults filled) with its provenance."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.report.provenance import write_config

write_config(snakemake.params.config, snakemake.output[0])
