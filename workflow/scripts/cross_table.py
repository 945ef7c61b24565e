"""rule report_cross_table: UF1 and UAR of every cross-database pair, in md, csv and tex."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path

from mesr.report.provenance import provenance
from mesr.report.tables import cross_table, write_table

write_table(
    cross_table(
        dict(zip(map(tuple, snakemake.params.evaluations), snakemake.input.metrics)),
        models=snakemake.params.models,
        descriptors=snakemake.params.descriptors,
    ),
    Path(snakemake.output.table).with_suffix(""),
    provenance=provenance(snakemake.config),
    caption="Cross-database UF1 and UAR: the SVM fitted on every clip of one dataset (scaling and any search on it "
    "alone) predicts every clip of the other, per set and descriptor.",
)
