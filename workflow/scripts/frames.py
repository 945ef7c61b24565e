"""rules report_figure6, report_figure7: one frame of HR128 beside the same frame of the LR sets (6) or SR sets (7).

Figure 6 of face-cropped data first shows the frame as the dataset holds it, its face region outlined.
"""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.data import clip_frames, read_clip, read_manifest
from mesr.data.faces import read_faces
from mesr.report.figures import example_frame, figure6, figure7
from mesr.report.provenance import provenance

manifest = read_manifest(snakemake.input.manifest)
clip_id, frame = example_frame(manifest, clip_id=snakemake.params.clip_id, frame=snakemake.params.frame)
extra = {}
if "faces" in snakemake.input.keys():
    row = next(manifest[manifest.clip_id == clip_id].itertuples())
    path = clip_frames(snakemake.input.dataset, row, dataset=snakemake.params.dataset, **snakemake.params.options)
    extra["source"] = (read_clip([path[frame]])[0], read_faces(snakemake.input.faces)[clip_id])
{6: figure6, 7: figure7}[snakemake.params.figure](
    dict(zip(snakemake.params.sets, snakemake.input.sets)),
    [snakemake.output.png, snakemake.output.pdf],
    clip_id=clip_id,
    frame=frame,
    provenance=provenance(snakemake.config),
    **extra,
)
