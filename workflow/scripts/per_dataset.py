"""rule report_per_dataset: UF1 of every set for the whole study and each of its datasets."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.report.figures import per_dataset_figure
from mesr.report.provenance import provenance

per_dataset_figure(
    dict(zip(map(tuple, snakemake.params.pairs), snakemake.input.metrics)),
    [snakemake.output.png, snakemake.output.pdf],
    provenance=provenance(snakemake.config),
)
