"""rule superres_download: a weights file from its URL, checked against its SHA-256."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.data import download

download(snakemake.params.source["url"], snakemake.output[0], sha256=snakemake.params.source["sha256"])
