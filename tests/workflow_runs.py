"""Running the real workflow with snakemake on tiny configs in temporary directories."""

import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
PAPER_MODELS = ("esrgan", "psnr_large", "psnr_small", "noise_cancel", "nesrgan_plus")
#: The mini study: synthetic mini preset, the bicubic baseline as the only model.
MINI = {
    "dataset": {"source": "synthetic", "synthetic": {"preset": "mini", "seed": 0}},
    "models": {key: None for key in PAPER_MODELS},
}


def snakemake(workdir, *arguments, config=None, check=True):
    """Run snakemake on the repository's Snakefile in ``workdir``; returns the CompletedProcess.

    ``config`` (a dict) is written to ``workdir/test-config.yaml`` and passed with ``--configfile``.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir)]
    command += list(arguments)
    if config is not None:
        (workdir / "test-config.yaml").write_text(yaml.safe_dump(config))
        command += ["--configfile", str(workdir / "test-config.yaml")]
    result = subprocess.run(command, capture_output=True, text=True, cwd=workdir)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
    return result
