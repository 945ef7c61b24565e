"""rule superres_download: a weights file from its URL (or published name), checked by size and SHA-256."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.data import download

source = snakemake.params.source
download(source["url"], snakemake.output[0], sha256=source["sha256"], size=source.get("size"))
