"""The study on a real SLURM cluster through profiles/slurm: the same results as a local run.

A one-node cluster on this machine (tests/slurm/setup.sh: Debian's slurm-wlm and munge, no accounting, one
fake GPU as gres) is started once per session when SLURM is not running and we are root, and stopped
after; elsewhere the tests skip and say why. The workflow is submitted job by job with ``sbatch`` by
snakemake-executor-plugin-slurm; each job runs ``python -m snakemake`` of this venv on the node.
"""

import hashlib
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from workflow_runs import MINI, REPO, snakemake

pytestmark = [pytest.mark.workflow, pytest.mark.slurm]

SETUP = REPO / "tests" / "slurm" / "setup.sh"
MARKER = "# written by mesr tests/slurm/setup.sh"
PROFILE = REPO / "profiles" / "slurm"
#: The mini study, smaller: both trained networks (GPU jobs), no bicubic model, one descriptor.
STUDY = {
    **MINI,
    "models": {**MINI["models"], "bicubic": None},
    "features": {"descriptors": ["lbp_top"]},
}
TARGETS = ["results/tables/table1.md", "results/tables/table2.md"]
GPU_JOBS = {"train_model", "superres_upscale"}


def _slurm_ready():
    """Whether a SLURM controller answers (scontrol ping: at once, where sinfo retries for 10 s) with a usable node."""
    try:
        if subprocess.run(["scontrol", "ping"], capture_output=True, timeout=30).returncode != 0:
            return False
        result = subprocess.run(["sinfo", "--noheader", "--format=%t"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and any(
        state.rstrip("*~#") in {"idle", "mix", "alloc"} for state in result.stdout.split()
    )


@pytest.fixture(scope="session")
def slurm_cluster():
    """A working SLURM cluster: the one running here if setup.sh made it, else one started for the session."""
    conf = Path("/etc/slurm/slurm.conf")
    ours = conf.is_file() and MARKER in conf.read_text()
    if _slurm_ready():
        if not ours and os.environ.get("MESR_TEST_SLURM") != "existing":
            pytest.skip(
                "a SLURM cluster not made by tests/slurm/setup.sh runs here; "
                "MESR_TEST_SLURM=existing submits the test jobs to it"
            )
        yield
        return
    if os.geteuid() != 0:
        pytest.skip("SLURM is not running here, and starting a test cluster (tests/slurm/setup.sh) needs root")
    if shutil.which("slurmctld") is None and shutil.which("apt-get") is None:
        pytest.skip("SLURM is not installed and apt-get is not available to install slurm-wlm")
    if conf.is_file() and not ours:
        pytest.skip(f"{conf} exists but SLURM does not answer; tests/slurm/setup.sh does not replace it")
    try:
        result = subprocess.run(["bash", str(SETUP), "start"], capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            pytest.skip(f"SLURM could not be started: {(result.stderr or result.stdout).strip()[-1500:]}")
        yield
    finally:
        subprocess.run(["bash", str(SETUP), "stop"], capture_output=True, text=True, timeout=120)


def _memory_overrides():
    """--set-resources lowering the profile's memory requests to what the test node has (small CI machines)."""
    node = subprocess.run(["sinfo", "--noheader", "--format=%m"], capture_output=True, text=True).stdout.split()
    available = min(int(value.rstrip("+")) for value in node)
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    too_big = [
        f"{rule}:mem_mb={available // 2}"
        for rule, resources in profile["set-resources"].items()
        if resources.get("mem_mb", 0) > available
    ]
    return ["--set-resources", *too_big] if too_big else []


@pytest.fixture(scope="module")
def runs(slurm_cluster, tmp_path_factory):
    """(SLURM work directory, its snakemake output, local work directory): the study through profiles/slurm,
    and the same study run locally at the same time (the SLURM run mostly waits for status checks)."""
    slurm, local = tmp_path_factory.mktemp("slurm-run"), tmp_path_factory.mktemp("local-run")
    with ThreadPoolExecutor(1) as pool:
        local_done = pool.submit(snakemake, local, *TARGETS, "--cores", "2", config=STUDY, timeout=900)
        # first status check 8 s after a submission: most jobs here take 5-7 s (the plugin adds 10 s per
        # check that finds nothing finished, and starts over after one that does)
        result = snakemake(
            slurm,
            *TARGETS,
            "--profile",
            str(PROFILE),
            "--slurm-init-seconds-before-status-checks",
            "8",
            *_memory_overrides(),
            config=STUDY,
            timeout=900,
        )
        local_done.result()
    return slurm, result.stdout + result.stderr, local


def _digests(root, pattern):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.glob(pattern))}


def _slurm_jobs(output):
    """{SLURM job id: scontrol's fields} of every job the run submitted."""
    ids = set(re.findall(r"submitted with SLURM jobid (\d+)", output))
    lines = subprocess.run(["scontrol", "--oneliner", "show", "job"], capture_output=True, text=True).stdout
    jobs = {}
    for line in lines.splitlines():
        fields = dict(re.findall(r"(\w+)=(\S*)", line))
        if fields.get("JobId") in ids:
            jobs[fields["JobId"]] = fields
    assert set(jobs) == ids, f"jobs unknown to scontrol (MinJobAge passed?): {sorted(ids - set(jobs))}"
    return jobs


def test_the_jobs_ran_as_slurm_jobs(runs):
    workdir, output, local_run = runs
    jobs = _slurm_jobs(output)
    ran = re.findall(r"^(local)?rule (\w+):$", output, flags=re.M)
    dry = snakemake(local_run, *TARGETS, "-n", "--forceall", config=STUDY).stdout
    assert len(ran) == len(re.findall(r"^(?:local)?rule \w+:$", dry, flags=re.M))  # the whole study ran
    assert {rule for local, rule in ran if local} == {"data_acquire"}  # localrules: on the submitting host
    assert len(jobs) == len([rule for local, rule in ran if not local]) > 20  # every other job through sbatch
    assert {fields["JobState"] for fields in jobs.values()} == {"COMPLETED"}
    assert {fields["WorkDir"] for fields in jobs.values()} == {str(workdir)}


def test_network_jobs_get_the_gpu_one_at_a_time(runs):
    jobs = _slurm_jobs(runs[1])
    gpu, other = [], []
    for fields in jobs.values():
        rule = re.match(r"rule_(\w+?)(_wildcards_.*)?$", fields["Comment"]).group(1)
        (gpu if rule in GPU_JOBS else other).append(fields)
        assert ("gpu:1" in fields.get("TresPerJob", "")) == (rule in GPU_JOBS), fields["Comment"]
    assert len(gpu) == 4  # train and superres of psnr_small (x2) and esrgan (x4)
    spans = sorted((job["StartTime"], job["EndTime"]) for job in gpu)
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start >= end, f"two GPU jobs shared the one GPU: {spans}"


def test_slurm_results_equal_local_results(runs):
    slurm, _, local_run = runs
    for pattern in (
        "results/features/**/*.npz",
        "results/evaluation/**/*.*",
        "results/tables/*.*",
        "results/manifest.tsv",
        "results/sets/HR128/*.npy",
        "results/sets/LR*/*.npy",
    ):
        local_files = _digests(local_run, pattern)
        assert local_files and _digests(slurm, pattern) == local_files, pattern
    sr_files = sorted(p.relative_to(local_run) for p in local_run.glob("results/sets/SR*/*.npy"))
    assert sr_files == sorted(p.relative_to(slurm) for p in slurm.glob("results/sets/SR*/*.npy")) and sr_files
    for name in sr_files:  # networks: equal up to float rounding (one grey level)
        a, b = np.load(local_run / name).astype(int), np.load(slurm / name).astype(int)
        assert a.shape == b.shape and np.abs(a - b).max() <= 1, name
    for path in local_run.glob("results/quality/*.tsv"):
        pd.testing.assert_frame_equal(
            pd.read_csv(slurm / path.relative_to(local_run), sep="\t"), pd.read_csv(path, sep="\t"), rtol=1e-6
        )


def test_a_finished_run_has_nothing_left_to_submit(runs):
    result = snakemake(runs[0], *TARGETS, "--profile", str(PROFILE), "-n", config=STUDY)
    assert "Nothing to be done" in result.stdout + result.stderr
