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
def mini_run(tmp_path_factory):
    """The whole mini study (tests/workflow_runs.MINI) run once with ``--cores 2``, shared by the workflow tests.

    Tests may add files beside ``results/`` (a report) but must not change what is in it.
    """
    from workflow_runs import MINI, snakemake

    workdir = tmp_path_factory.mktemp("mini-run")
    snakemake(workdir, "--cores", "2", config=MINI)
    return workdir
