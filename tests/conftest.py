import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the tests' own helper modules

from mesr.data import generate  # noqa: E402


@pytest.fixture(scope="session")
def mini_tree(tmp_path_factory):
    """A synthetic SMIC-HS of the ``mini`` preset, generated once per test session."""
    root = tmp_path_factory.mktemp("synthetic") / "smic"
    generate(root, preset="mini", seed=0)
    return root


@pytest.fixture(scope="session")
def mini_repo(tmp_path_factory):
    """A copy of the workflow and its library (Snakefile, workflow/, config/, envs/, src/), run by ``mini_run``.

    tests/test_incremental.py edits its modules (and restores them) to see what reruns, without touching the
    repository's own. Every snakemake run that compares with ``mini_run`` uses ``mini_repo / "Snakefile"``: the
    code is an input of the jobs, and the copy is outside git (tables record the commit as "unknown").
    """
    from workflow_runs import REPO

    root = tmp_path_factory.mktemp("repo")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("workflow", "config", "envs", "src"):
        shutil.copytree(REPO / name, root / name, ignore=ignore)
    shutil.copy2(REPO / "Snakefile", root / "Snakefile")
    return root


@pytest.fixture(scope="session")
def mini_run(tmp_path_factory, mini_repo):
    """The whole mini study (tests/workflow_runs.MINI) run once with ``--cores 2`` from ``mini_repo``, shared by
    the workflow tests.

    Tests may add files beside ``results/`` (a report) but must not change what is in it.
    """
    from workflow_runs import MINI, snakemake

    workdir = tmp_path_factory.mktemp("mini-run")
    snakemake(workdir, "--cores", "2", config=MINI, snakefile=mini_repo / "Snakefile")
    return workdir
