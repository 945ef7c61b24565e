"""Where a table or figure came from: config hash, git commit, package versions (docs/reports.md)."""

import hashlib
import json
import subprocess
from importlib import metadata
from pathlib import Path

import yaml

from mesr.io import write_text

__all__ = ["PACKAGES", "config_hash", "git_commit", "provenance", "provenance_line", "write_config"]

#: The pinned third-party packages whose versions are recorded.
PACKAGES = (
    "snakemake",
    "numpy",
    "scipy",
    "opencv-contrib-python-headless",
    "tensorflow-cpu",
    "tensorflow",
    "keras",
    "scikit-image",
    "scikit-learn",
    "pandas",
    "matplotlib",
)


def config_hash(config):
    """SHA-256 of the config as canonical JSON (sorted keys), first 12 hex digits."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def git_commit(path=None):
    """Commit of the repository holding ``path`` (this package by default), '+dirty' if modified.

    Returns "unknown" outside a git checkout.
    """
    where = Path(path) if path else Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def provenance(config):
    """The provenance record written with every table and figure.

    Parameters
    ----------
    config : dict
        The workflow's config (``snakemake.config``).

    Returns
    -------
    dict
        ``config_sha256``, ``git_commit`` and ``packages`` (name -> version of
        the installed packages among :data:`PACKAGES`).
    """
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {"config_sha256": config_hash(config), "git_commit": git_commit(), "packages": versions}


def provenance_line(record):
    """One line of text summarising a provenance record."""
    packages = ", ".join(f"{k} {v}" for k, v in record["packages"].items())
    return f"config {record['config_sha256']}, commit {record['git_commit']}, {packages}"


def write_config(config, path):
    """Write the resolved config as YAML, headed by its provenance as comments."""
    record = provenance(config)
    header = "".join(
        f"# {line}\n"
        for line in (
            "Resolved configuration of this run (defaults filled in).",
            f"config_sha256: {record['config_sha256']}",
            f"git_commit: {record['git_commit']}",
            "packages: " + ", ".join(f"{k} {v}" for k, v in record["packages"].items()),
        )
    )
    write_text(path, header + yaml.safe_dump(json.loads(json.dumps(config, default=str)), sort_keys=False))
