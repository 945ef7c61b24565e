"""rule data_manifest: results/manifest.tsv and the gaps report."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.data import build_manifest

build_manifest(
    snakemake.input[0],
    snakemake.output.manifest,
    snakemake.output.gaps,
    dataset=snakemake.params.dataset,
    classes=snakemake.params.classes,
    on_bad_clip=snakemake.params.on_bad_clip,
)
