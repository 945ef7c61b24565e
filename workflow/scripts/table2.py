"""rule report_table2: Table 2 and its extended version in md, csv and tex."""
from mesr.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path

from mesr.report.provenance import provenance
from mesr.report.tables import table2, table2_extended, write_table

record = provenance(snakemake.config)
for build, output, caption in [
    (table2, snakemake.output.table, "LOSO accuracy (%) per set and descriptor, ours beside the paper's."),
    (table2_extended, snakemake.output.extended, "UF1, UAR and exact McNemar p-values per set and descriptor."),
]:
    table = build(snakemake.params.evaluation, sets=snakemake.params.sets, descriptors=snakemake.params.descriptors)
    write_table(table, Path(output).with_suffix(""), provenance=record, caption=caption)
