# Config validation, wildcard constraints and the input/param functions of every stage.
import os
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate


validate(config, schema="../../config/schema.yaml", set_default=True)

if not config["dataset"]["source"]:
    raise WorkflowError(
        "dataset.source is not set: give the SMIC-HS folder, archive or URL in a config file "
        "(e.g. snakemake --configfile my.yaml with 'dataset: {source: /data/SMIC}'), "
        "or use the synthetic data: --configfile config/demo.yaml"
    )

# The library lives in src/ and is importable without installation (SPEC §2).
SRC = str(Path(workflow.basedir) / "src")
os.environ.update(PYTHONPATH=os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")])))

DATASET = "resources/smic"
DOWNLOADS = "resources/downloads"
HR = "HR128"


wildcard_constraints:
    size="64|32",
    set="HR128|LR64|LR32|SR(64|32)-[A-Za-z0-9_]+",


def lr_sets():
    """LR set names of the configured scales: LR64 for x2, LR32 for x4."""
    return [f"LR{128 // scale}" for scale in sorted(config["degrade"]["scales"])]


def set_dir(name):
    return f"results/sets/{name}"


def get_lr_params(wildcards):
    """Degradation settings of one LR set, from its size."""
    scale = 128 // int(wildcards.size)
    if scale not in config["degrade"]["scales"]:
        raise WorkflowError(f"LR{wildcards.size} needs scale {scale} in degrade.scales")
    return {
        "scale": scale,
        "blur_sigma": config["degrade"]["blur_sigma"][f"x{scale}"],
        "noise_sigma": config["degrade"]["noise_sigma"],
        "seed": config["degrade"]["seed"],
    }


def get_figure6_sets(wildcards):
    """HR and LR set folders shown in Figure 6, in display order."""
    return [set_dir(name) for name in [HR] + lr_sets()]


def get_final_outputs(wildcards):
    """Everything the workflow produces at this point of its development."""
    return [
        "results/manifest.tsv",
        "results/data/gaps.tsv",
        *[set_dir(name) for name in [HR] + lr_sets()],
        "results/figures/figure6.png",
        "results/figures/figure6.pdf",
    ]
