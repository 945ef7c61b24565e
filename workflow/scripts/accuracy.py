"""rule report_accuracy: accuracy of every set and descriptor."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.report.figures import accuracy_figure
from mesr.report.provenance import provenance

accuracy_figure(
    dict(zip(map(tuple, snakemake.params.pairs), snakemake.input.metrics)),
    [snakemake.output.png, snakemake.output.pdf],
    provenance=provenance(snakemake.config),
)
