"""rule report_confusion: the confusion matrix of every (set, descriptor), one figure each."""
from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.report.figures import confusion_figure
from mesr.report.paper import DESCRIPTOR_NAMES
from mesr.report.provenance import provenance

record = provenance(snakemake.config)
figures = zip(snakemake.output[::2], snakemake.output[1::2])  # (png, pdf) per pair, as expanded
for (name, descriptor), metrics, outputs in zip(snakemake.params.pairs, snakemake.input.metrics, figures):
    confusion_figure(metrics, list(outputs), title=f"{name}, {DESCRIPTOR_NAMES[descriptor]}", provenance=record)
