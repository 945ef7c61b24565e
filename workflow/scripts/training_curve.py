"""rule report_training_curve: loss and validation PSNR of one training."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.report.figures import training_curve_figure
from mesr.report.provenance import provenance

training_curve_figure(
    snakemake.input[0],
    [snakemake.output.png, snakemake.output.pdf],
    title=f"{snakemake.wildcards.model} x{snakemake.wildcards.scale}",
    provenance=provenance(snakemake.config),
)
