"""rules report_figure6, report_figure7: one frame of HR128 beside the same frame of the LR sets (6) or SR sets (7)."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.data import read_manifest
from mesr.report.figures import example_frame, figure6, figure7
from mesr.report.provenance import provenance

clip_id, frame = example_frame(
    read_manifest(snakemake.input.manifest),
    clip_id=snakemake.params.clip_id,
    frame=snakemake.params.frame,
)
{6: figure6, 7: figure7}[snakemake.params.figure](
    dict(zip(snakemake.params.sets, snakemake.input.sets)),
    [snakemake.output.png, snakemake.output.pdf],
    clip_id=clip_id,
    frame=frame,
    provenance=provenance(snakemake.config),
)
