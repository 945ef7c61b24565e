"""rule superres_convert: a PyTorch .pth file of a real-world SR network in the project's HDF5 layout."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.sr import convert_pth

convert_pth(snakemake.input.pth, snakemake.output[0], source=snakemake.params.source, **snakemake.params.model)
