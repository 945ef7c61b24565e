"""rule report_psnr_accuracy: reconstruction quality against recognition accuracy."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.report.figures import psnr_accuracy_figure
from mesr.report.provenance import provenance

psnr_accuracy_figure(
    dict(zip(snakemake.params.sets, snakemake.input.quality)),
    dict(zip(map(tuple, snakemake.params.pairs), snakemake.input.metrics)),
    [snakemake.output.png, snakemake.output.pdf],
    provenance=provenance(snakemake.config),
)
