"""Running the real workflow with snakemake on tiny configs in temporary directories."""

import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
TINY_TRAINING = {
    "images": "skimage",
    "seed": 0,
    "patch_size": 8,
    "batch_size": 4,
    "psnr": {"steps": 12, "learning_rate": 1.0e-3, "decay_steps": None},
    "validation": {"every": 6, "patches": 4},
    "checkpoint_every": 6,
}
#: The mini study: the mini synthetic preset, bicubic, and two tiny networks trained by the workflow
#: (an RDN at x2, an ESRGAN generator at x4 with a short GAN stage); the other paper models dropped. Every
#: method runs: the texture descriptors, Bi-WOOF and a briefly trained STSTNet on DIS flow (TV-L1 is the
#: CASME II run's).
MINI = {
    "dataset": {"source": "synthetic", "synthetic": {"preset": "mini", "seed": 0}},
    "features": {
        "descriptors": ["lbp_top", "lpq_top", "bi_woof", "ststnet"],
        "flow": {"method": "dis"},
        "ststnet": {"epochs": 5, "learning_rate": 1.0e-3, "batch_size": 16},
    },
    "models": {
        "psnr_small": {"params": {"C": 1, "D": 1, "G": 4, "G0": 4}, "training": TINY_TRAINING},
        "esrgan": {
            "params": {"C": 1, "D": 1, "G": 4, "G0": 4, "T": 1},
            "scales": [4],
            "training": {
                **TINY_TRAINING,
                "gan": {"steps": 3, "learning_rate": 1.0e-4, "discriminator_filters": 4},
                "perceptual": {"weights": "random"},
            },
        },
        "psnr_large": None,
        "noise_cancel": None,
        "nesrgan_plus": None,
    },
}


def snakemake(workdir, *arguments, config=None, check=True, snakefile=REPO / "Snakefile", timeout=None):
    """Run snakemake on the repository's Snakefile (or ``snakefile``) in ``workdir``; returns the CompletedProcess.

    ``config`` (a dict) is written to ``workdir/test-config.yaml`` and passed with ``--configfile``;
    ``timeout`` (seconds) ends a run that hangs (subprocess.TimeoutExpired).
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile), "--directory", str(workdir)]
    command += list(arguments)
    if config is not None:
        (workdir / "test-config.yaml").write_text(yaml.safe_dump(config))
        command += ["--configfile", str(workdir / "test-config.yaml")]
    result = subprocess.run(command, capture_output=True, text=True, cwd=workdir, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
        )
    return result
