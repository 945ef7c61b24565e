"""rule data_acquire: SMIC-HS (or the synthetic twin) under resources/."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.data import acquire_dataset

acquire_dataset(
    snakemake.params.dataset,
    snakemake.output[0],
    downloads=snakemake.params.downloads,
)
