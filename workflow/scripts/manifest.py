"""rule data_manifest: results/manifest.tsv, the gaps report and the face regions."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.data import build_manifest

build_manifest(
    snakemake.input[0],
    snakemake.output.manifest,
    snakemake.output.gaps,
    snakemake.output.faces,
    dataset=snakemake.params.dataset,
    classes=snakemake.params.classes,
    on_bad_clip=snakemake.params.on_bad_clip,
    face_crop=snakemake.params.face_crop,
    face_margin=snakemake.params.face_margin,
    **snakemake.params.options,
)
