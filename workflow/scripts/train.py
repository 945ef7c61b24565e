"""rule train_model: one network trained at one scale (resumes from its checkpoint)."""

from mesr.logs import log_to

log_to(snakemake.log[0])

from mesr.sr.training import train_model
from mesr.sr.devices import check_gpu

check_gpu(snakemake.resources.get("gpu", 0), require=snakemake.config["require_gpu"])

train_model(
    **snakemake.params.training,
    images=snakemake.input.images,
    output=snakemake.output.weights,
    checkpoint_dir=snakemake.params.checkpoints,
    curve=snakemake.output.curve,
    threads=snakemake.threads,
)
