"""rule report_figure7: the same frame from every SR set."""
from mesr.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path

from mesr.data import read_manifest
from mesr.report.figures import example_frame, figure7
from mesr.report.provenance import provenance

clip_id, frame = example_frame(
    read_manifest(snakemake.input.manifest),
    clip_id=snakemake.params.clip_id,
    frame=snakemake.params.frame,
)
figure7(
    {Path(folder).name: folder for folder in snakemake.input.sets},
    [snakemake.output.png, snakemake.output.pdf],
    clip_id=clip_id,
    frame=frame,
    provenance=provenance(snakemake.config),
)
