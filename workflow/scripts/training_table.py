"""rule report_training_table: the trained networks against bicubic upscaling, in md, csv and tex."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path

from mesr.report.provenance import provenance
from mesr.report.tables import training_table, write_table

table = training_table(
    [
        (model, scale, settings, heldout)
        for (model, scale), settings, heldout in zip(
            snakemake.params.trained, snakemake.input.settings, snakemake.input.heldout
        )
    ]
)
write_table(
    table,
    Path(snakemake.output.table).with_suffix(""),
    provenance=provenance(snakemake.config),
    caption="RGB PSNR (dB) of the networks the workflow trained and of bicubic upscaling, "
    "on patches of held-out images and on validation patches of the training images.",
)
