"""rule train_skimage_images: the natural images bundled with scikit-image, for the demo's training."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.sr.patches import export_skimage_images

export_skimage_images(snakemake.output.train, snakemake.output.heldout)
