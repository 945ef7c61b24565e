"""rule report_table1: Table 1 (PSNR/SSIM) in md, csv and tex."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path

from mesr.report.provenance import provenance
from mesr.report.tables import table1, write_table

table = table1(
    dict(zip(snakemake.params.sets, snakemake.input.quality)),
    models=snakemake.params.models,
)
write_table(
    table,
    Path(snakemake.output.table).with_suffix(""),
    provenance=provenance(snakemake.config),
    caption="PSNR (dB) and SSIM on the Y channel (the study's choice) against HR128, ours beside the paper's.",
)
