"""The workflow itself, run by snakemake on the mini preset (SPEC §2-§5, §10)."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from smic_trees import write_tree
from workflow_runs import MINI, REPO, snakemake

pytestmark = pytest.mark.workflow


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def set_digests(workdir):
    return {str(p.relative_to(workdir)): digest(p) for p in sorted((workdir / "results" / "sets").rglob("*.npy"))}


@pytest.fixture(scope="module")
def mini_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("mini-run")
    snakemake(workdir, "--cores", "2", config=MINI)
    return workdir


def test_every_output_of_the_mini_study(mini_run):
    manifest = pd.read_csv(mini_run / "results" / "manifest.tsv", sep="\t")
    assert len(manifest) == 12 and manifest.subject.nunique() == 4
    for name, side in [("HR128", 128), ("LR64", 64), ("LR32", 32)]:
        folder = mini_run / "results" / "sets" / name
        assert sorted(p.stem for p in folder.glob("*.npy")) == sorted(manifest.clip_id)
        for row in manifest.itertuples():
            clip = np.load(folder / f"{row.clip_id}.npy")
            assert clip.shape == (row.n_frames, side, side, 3) and clip.dtype == np.uint8
    for name, side in [("SR64-bicubic", 128), ("SR32-bicubic", 128)]:
        clips = sorted((mini_run / "results" / "sets" / name).glob("*.npy"))
        assert [p.stem for p in clips] == sorted(manifest.clip_id)
        assert np.load(clips[0]).shape[1:] == (side, side, 3)
    sets = ["HR128", "SR64-bicubic", "SR32-bicubic", "LR64", "LR32"]
    for name in sets:
        for descriptor, length in [("lbp_top", 64 * 3 * 59), ("lpq_top", 64 * 3 * 256)]:
            features = np.load(mini_run / "results" / "features" / name / f"{descriptor}.npz")
            assert features["features"].shape == (12, length)
            assert list(features["clip_id"]) == list(manifest.clip_id)
            folder = mini_run / "results" / "evaluation" / name / descriptor
            predictions = pd.read_csv(folder / "predictions.tsv", sep="\t")
            assert list(predictions.columns) == ["clip_id", "subject", "true", "predicted", "fold"]
            assert len(predictions) == 12 and predictions.fold.nunique() == 4
            metrics = json.loads((folder / "metrics.json").read_text())
            assert 0 <= metrics["accuracy"] <= 1 and np.sum(metrics["confusion"]) == 12
            for suffix in ("png", "pdf"):
                assert (mini_run / "results" / "figures" / "confusion" / f"{name}_{descriptor}.{suffix}").exists()
    table = pd.read_csv(mini_run / "results" / "tables" / "table2.csv", comment="#")
    assert "SR64-bicubic" in set(table.Set) and (table.Set == "SR64-esrgan").sum() == 1
    assert (table.loc[table.Set == "SR64-esrgan"].iloc[0] == "not run").any()
    for stem in ("table2", "table2_extended"):
        for suffix in ("md", "csv", "tex"):
            assert "config_sha256" in (mini_run / "results" / "tables" / f"{stem}.{suffix}").read_text()
    for stem in ("figure6", "accuracy"):
        for suffix in ("png", "pdf"):
            assert (mini_run / "results" / "figures" / f"{stem}.{suffix}").stat().st_size > 1000
    assert b"config " in (mini_run / "results" / "figures" / "figure6.pdf").read_bytes()  # provenance
    for log in ("data/acquire", "data/manifest", "degrade/HR128", "degrade/LR64", "degrade/LR32", "report/figure6",
                "superres/SR64-bicubic", "features/HR128/lbp_top", "evaluate/LR32/lpq_top", "report/table2"):
        assert (mini_run / "logs" / f"{log}.log").exists(), log
    assert not list(mini_run.rglob("*.partial")) and not list(mini_run.rglob("*.tmp"))


def test_same_config_same_bytes(mini_run, tmp_path):
    snakemake(tmp_path, "--cores", "1", config=MINI)
    assert set_digests(tmp_path) == set_digests(mini_run)
    names = ["manifest.tsv", "figures/figure6.pdf", "figures/figure6.png", "tables/table2.csv", "tables/table2.md"]
    names += [str(p.relative_to(mini_run / "results")) for p in (mini_run / "results" / "evaluation").rglob("*.*")]
    names += [str(p.relative_to(mini_run / "results")) for p in (mini_run / "results" / "features").rglob("*.npz")]
    for name in names:
        assert digest(tmp_path / "results" / name) == digest(mini_run / "results" / name), name


def test_complete_run_has_nothing_left_to_do(mini_run):
    result = snakemake(mini_run, "--cores", "1", "-n", config=MINI)
    assert "Nothing to be done" in result.stdout + result.stderr


def test_lint_is_clean():
    result = snakemake(REPO, "--lint", "--configfile", str(REPO / "config" / "demo.yaml"), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations" in result.stdout + result.stderr


def test_paper_config_with_only_the_source_set(tmp_path):
    """config/config.yaml plus a one-key overlay reaches the manifest; nothing later is demanded."""
    write_tree(tmp_path / "SMIC", [(1, "negative", 1, range(10000, 10008)), (2, "positive", 1, range(20000, 20009))])
    snakemake(tmp_path / "run", "results/manifest.tsv", "--cores", "1", config={"dataset": {"source": str(tmp_path / "SMIC")}})
    manifest = pd.read_csv(tmp_path / "run" / "results" / "manifest.tsv", sep="\t")
    assert manifest.clip_id.tolist() == ["s1_ne_01", "s2_po_01"]
    assert (tmp_path / "run" / "resources" / "smic" / "HS").is_symlink()


def test_missing_source_is_named(tmp_path):
    result = snakemake(tmp_path, "-n", "--cores", "1", check=False)
    assert result.returncode != 0
    assert "dataset.source is not set" in result.stdout + result.stderr


def test_invalid_config_value_names_the_key(tmp_path):
    config = {**MINI, "degrade": {"noise_sigma": -1}}
    result = snakemake(tmp_path, "-n", "--cores", "1", config=config, check=False)
    assert result.returncode != 0
    assert "noise_sigma" in result.stdout + result.stderr


def test_unknown_config_key_is_named(tmp_path):
    config = {**MINI, "degrade": {"noise_sgima": 1.0}}
    result = snakemake(tmp_path, "-n", "--cores", "1", config=config, check=False)
    assert result.returncode != 0
    assert "noise_sgima" in result.stdout + result.stderr


def test_bad_clip_fails_the_run_with_its_name(tmp_path):
    hs = write_tree(tmp_path / "SMIC", [(1, "negative", 1, range(10000, 10008))])
    (hs / "s1" / "micro" / "negative" / "s1_ne_01" / "reg_image10004.bmp").write_bytes(b"BM")
    result = snakemake(tmp_path / "run", "results/manifest.tsv", "--cores", "1",
                       config={"dataset": {"source": str(tmp_path / "SMIC")}}, check=False)
    assert result.returncode != 0
    assert "reg_image10004.bmp: cannot decode image" in result.stdout + result.stderr
    assert not (tmp_path / "run" / "results" / "manifest.tsv").exists()
