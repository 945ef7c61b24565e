"""rule report_megc_table: UF1 and UAR of the whole study and of each dataset, in md, csv and tex."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path

from mesr.report.provenance import provenance
from mesr.report.tables import megc_table, write_table

write_table(
    megc_table(
        dict(zip(map(tuple, snakemake.params.pairs), snakemake.input.metrics)),
        models=snakemake.params.models,
        descriptors=snakemake.params.descriptors,
    ),
    Path(snakemake.output.table).with_suffix(""),
    provenance=provenance(snakemake.config),
    caption="UF1 and UAR (MEGC definitions: counts pooled over all LOSO folds of the whole study) for all clips "
    "and for each dataset's clips of the same folds, per set and descriptor; the MEGC 2019 baseline row is the "
    "challenge's LBP-TOP (radii 1,1,4, 4 points per plane, 5x5 blocks, TIM to 10 frames) as printed.",
)
