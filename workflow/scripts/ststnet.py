"""rule evaluate_ststnet: STSTNet trained and tested in every LOSO fold of one set's optical flow."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path

from mesr.evaluate import write_megc_log
from mesr.sr.devices import check_gpu
from mesr.ststnet import ststnet_loso

check_gpu(snakemake.resources.get("gpu", 0), require=snakemake.config["require_gpu"])
ststnet_loso(
    snakemake.input[0],
    Path(snakemake.output.metrics).parent,
    **snakemake.params.training,
    labels=snakemake.params.labels,
    bootstrap=snakemake.params.bootstrap,
    bootstrap_seed=snakemake.params.bootstrap_seed,
)
write_megc_log(snakemake.output.predictions, snakemake.output.megc_log, labels=snakemake.params.labels)
