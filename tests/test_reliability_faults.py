"""Reliability under faults (docs/reliability.md): killed runs, killed trainings, secrets.

A run killed with SIGKILL leaves no output that looks complete, and ``snakemake --unlock`` then
``snakemake --rerun-incomplete`` finishes it with the results of an uninterrupted run, byte for byte.
Same config, same bytes across runs and core counts: tests/test_workflow.py::test_same_config_same_bytes.
"""

import base64
import contextlib
import hashlib
import io
import os
import re
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from http_server import FileServer
from smic_trees import write_tree
from workflow_runs import MINI, REPO, TINY_TRAINING, snakemake

pytestmark = pytest.mark.workflow


def start(workdir, config, *arguments):
    """Start snakemake on ``config`` in its own process group (so that the test can kill all of it)."""
    (workdir / "test-config.yaml").write_text(yaml.safe_dump(config))
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        *arguments,
        "--configfile",
        str(workdir / "test-config.yaml"),
    ]  # targets before --configfile
    with open(workdir / "console.txt", "w") as console:
        return subprocess.Popen(command, cwd=workdir, stdout=console, stderr=subprocess.STDOUT, start_new_session=True)


def kill_when(process, found, *, timeout=300):
    """SIGKILL ``process`` and all its jobs as soon as ``found()`` returns something; return it."""
    deadline = time.monotonic() + timeout
    try:
        while not (hit := found()):
            assert process.poll() is None, "the run ended before the fault could be injected:\n" + console_of(process)
            assert time.monotonic() < deadline, "the fault point was never reached"
            time.sleep(0.01)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    return hit


def console_of(process):
    return (Path(process.args[process.args.index("--directory") + 1]) / "console.txt").read_text()[-3000:]


def result_files(workdir):
    """Files under results/ that are outputs: not the trainings' resumable state under checkpoint/."""
    root = workdir / "results"
    return {str(p.relative_to(root)): p for p in root.rglob("*") if p.is_file() and "checkpoint" not in p.parts}


def looks_complete(name):
    return not (name.startswith(".") or "/." in name)


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


#: Outputs of the mini study that need no training: the killed run makes these only, to compare with mini_run's.
UNTRAINED = [
    "results/sets/SR64-bicubic",
    "results/sets/SR32-bicubic",
    "results/evaluation/LR64/lbp_top/metrics.json",
    "results/quality/SR32-bicubic.tsv",
]


def test_killed_run_leaves_nothing_that_looks_complete_and_resumes_to_the_same_bytes(mini_run, tmp_path):
    """Part of the mini study, in a folder with a space and a non-ASCII letter, killed while a set is half-written."""
    workdir = tmp_path / "dossier é" / "run 1"
    workdir.mkdir(parents=True)
    sets = workdir / "results" / "sets"

    def set_half_written():
        return next((p for p in sets.glob(".*.partial") if any(p.glob("*.npy"))), None) if sets.is_dir() else None

    half_written = kill_when(start(workdir, MINI, *UNTRAINED, "--cores", "2"), set_half_written)
    reference = result_files(mini_run)
    left = result_files(workdir)
    assert half_written.name in [Path(name).parts[1] for name in left if name.startswith("sets/.")]
    assert not (sets / half_written.name[1 : -len(".partial")]).exists()
    for name, path in left.items():  # whatever has its final name is complete
        if looks_complete(name):
            assert digest(path) == digest(reference[name]), f"{name} is left incomplete"

    snakemake(workdir, "--unlock", config=MINI)
    snakemake(workdir, *UNTRAINED, "--cores", "2", "--rerun-incomplete", config=MINI)
    resumed = result_files(workdir)
    stale = [name for name in resumed if not looks_complete(name) and Path(name).name != ".snakemake_timestamp"]
    assert not stale  # no temporary left
    assert {f"results/{name}" for name in resumed} >= {
        target for target in UNTRAINED if target.endswith((".json", ".tsv"))
    }
    assert {Path(name).parts[1] for name in resumed if name.startswith("sets/")} >= {"SR64-bicubic", "SR32-bicubic"}
    different = [name for name in resumed if digest(resumed[name]) != digest(reference[name])]
    assert not different, different


def test_killed_training_resumes_from_its_checkpoint(tmp_path):
    """A training job killed after its first checkpoint resumes from it when the workflow is rerun, and its
    training curve still starts at step 0."""
    training = {
        **TINY_TRAINING,
        "psnr": {**TINY_TRAINING["psnr"], "steps": 120},
        "validation": {"every": 20, "patches": 4},
        "checkpoint_every": 20,
    }
    psnr_small = {**MINI["models"]["psnr_small"], "training": training}
    config = {
        "dataset": MINI["dataset"],
        "models": {**MINI["models"], "esrgan": None, "bicubic": None, "psnr_small": psnr_small},
    }
    folder = tmp_path / "results" / "models" / "psnr_small" / "x2"
    target = str(folder.relative_to(tmp_path) / "weights.hdf5")
    checkpoint = folder / "checkpoint" / "checkpoint.npz"
    kill_when(start(tmp_path, config, target, "--cores", "1"), checkpoint.is_file)
    assert not [p.name for p in folder.glob("*") if p.is_file()]  # no weights, settings or curve yet

    snakemake(tmp_path, "--unlock", config=config)
    snakemake(tmp_path, target, "--cores", "1", "--rerun-incomplete", config=config)
    log = (tmp_path / "logs" / "train" / "psnr_small_x2.log").read_text()
    resumed_at = int(re.search(r"resuming from the checkpoint of step (\d+)", log).group(1))
    assert resumed_at in (20, 40, 60, 80, 100)
    assert f"step {resumed_at + 20}/120" in log and "step 20/120" not in log.split("resuming")[1]
    settings = yaml.safe_load((folder / "weights.yaml").read_text())
    assert settings["steps"]["total"] == 120
    curve = pd.read_csv(folder / "curve.tsv", sep="\t")
    assert curve.step.tolist() == [0, 20, 40, 60, 80, 100, 120]


SECRET_USER, SECRET_PASSWORD = "mesr-user-Zq81w", "mesr-pass-Xk29-9f3b"


def tar_gz_of(folder):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        bundle.add(folder, arcname=folder.name)
    return buffer.getvalue()


def test_credentials_from_the_environment_are_written_nowhere(tmp_path, monkeypatch):
    """A download with basic auth, a failed one with a wrong password, and the report: neither the user, the
    password nor the Authorization token appears on the console or in any file of the run folder."""
    write_tree(tmp_path / "src", [(1, "negative", 1, range(10000, 10006)), (2, "surprise", 1, range(20000, 20008))])
    monkeypatch.setenv("MESR_TEST_USER", SECRET_USER)
    monkeypatch.setenv("MESR_TEST_PASS", "wrong-" + SECRET_PASSWORD)
    secrets = [
        SECRET_USER,
        SECRET_PASSWORD,
        base64.b64encode(f"{SECRET_USER}:{SECRET_PASSWORD}".encode()).decode(),
        base64.b64encode(f"{SECRET_USER}:wrong-{SECRET_PASSWORD}".encode()).decode(),
    ]
    targets = ["results/manifest.tsv", "results/config.yaml"]
    consoles = []
    with FileServer({"/smic.tar.gz": tar_gz_of(tmp_path / "src" / "SMIC_all_cropped")}) as server:
        server.auth = (SECRET_USER, SECRET_PASSWORD)
        config = {
            "dataset": {
                "source": f"{server.url}/smic.tar.gz",
                "credentials": {"username_env": "MESR_TEST_USER", "password_env": "MESR_TEST_PASS"},
            }
        }
        failed = snakemake(tmp_path / "run", *targets, "--cores", "1", config=config, check=False)
        assert failed.returncode != 0 and "HTTP 401" in failed.stdout + failed.stderr
        consoles.append(failed.stdout + failed.stderr)
        monkeypatch.setenv("MESR_TEST_PASS", SECRET_PASSWORD)
        for arguments in ([*targets, "--cores", "1"], [*targets, "--report", "report.html"]):
            result = snakemake(tmp_path / "run", *arguments, config=config)
            consoles.append(result.stdout + result.stderr)
    run = tmp_path / "run"
    assert (run / "results" / "manifest.tsv").is_file() and (run / "report.html").is_file()
    assert "MESR_TEST_PASS" in (run / "results" / "config.yaml").read_text()  # the variable's name, not its value
    files = [p for p in run.rglob("*") if p.is_file()]
    assert any(".snakemake" in p.parts for p in files) and any("logs" in p.parts for p in files)
    for secret in secrets:
        assert not any(secret in console for console in consoles), secret
        leaks = [str(p) for p in files if secret.encode() in p.read_bytes()]
        assert not leaks, (secret, leaks)
