"""rule report_confusion: the confusion matrix of one (set, descriptor)."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.report.figures import confusion_figure
from mesr.report.paper import DESCRIPTOR_NAMES
from mesr.report.provenance import provenance

confusion_figure(
    snakemake.input.metrics,
    [snakemake.output.png, snakemake.output.pdf],
    title=f"{snakemake.wildcards.set}, {DESCRIPTOR_NAMES[snakemake.wildcards.descriptor]}",
    provenance=provenance(snakemake.config),
)
