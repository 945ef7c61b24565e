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
