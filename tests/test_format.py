"""The Python code is formatted by one formatter: ruff (pinned in requirements.txt, settings in pyproject.toml)."""

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Folders of Python code; the rules (.smk) are snakefmt's (tests/test_workflow.py).
FOLDERS = ("src", "tests", "benchmarks", "workflow/scripts")


def test_python_code_is_ruff_formatted():
    """Every .py file as `ruff format` writes it, with the settings of pyproject.toml."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", *FOLDERS], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode == 0, f"run ruff format on the files it names:\n{result.stdout}{result.stderr}"


def test_no_formatter_exemptions():
    """No comment exempts code from the formatter (fmt: skip, fmt: off): its output is the style."""
    marked = [
        f"{path.relative_to(REPO)}:{number}"
        for folder in FOLDERS
        for path in sorted((REPO / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"#\s*fmt:\s*(skip|off)\b", line)
    ]
    assert not marked, f"remove the formatter exemptions: {marked}"
