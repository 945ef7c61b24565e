"""The workflow itself, run by snakemake on the mini preset (docs/layout.md, data.md, degradation.md, reports.md)."""

import hashlib
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from smic_trees import write_tree
from workflow_runs import MINI, REPO, snakemake

pytestmark = pytest.mark.workflow


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def set_digests(workdir):
    return {str(p.relative_to(workdir)): digest(p) for p in sorted((workdir / "results" / "sets").rglob("*.npy"))}


def test_every_output_of_the_mini_study(mini_run):
    manifest = pd.read_csv(mini_run / "results" / "manifest.tsv", sep="\t")
    assert len(manifest) == 12 and manifest.subject.nunique() == 4
    for name, side in [("HR128", 128), ("LR64", 64), ("LR32", 32)]:
        folder = mini_run / "results" / "sets" / name
        assert sorted(p.stem for p in folder.glob("*.npy")) == sorted(manifest.clip_id)
        for row in manifest.itertuples():
            clip = np.load(folder / f"{row.clip_id}.npy")
            assert clip.shape == (row.n_frames, side, side, 3) and clip.dtype == np.uint8
    sr_sets = ["SR64-psnr_small", "SR64-bicubic", "SR32-esrgan", "SR32-bicubic"]
    for name in sr_sets:
        clips = sorted((mini_run / "results" / "sets" / name).glob("*.npy"))
        assert [p.stem for p in clips] == sorted(manifest.clip_id)
        assert np.load(clips[0]).shape[1:] == (128, 128, 3)
    sets = ["HR128", *sr_sets, "LR64", "LR32"]
    for name in sets:
        for descriptor, length in [("lbp_top", 64 * 3 * 59), ("lpq_top", 64 * 3 * 256)]:
            features = np.load(mini_run / "results" / "features" / name / f"{descriptor}.npz")
            assert features["features"].shape == (12, length)
            assert list(features["clip_id"]) == list(manifest.clip_id)
            assert set(features["dataset"]) == {"smic_hs"}
            folder = mini_run / "results" / "evaluation" / name / descriptor
            predictions = pd.read_csv(folder / "predictions.tsv", sep="\t")
            assert list(predictions.columns) == ["clip_id", "dataset", "subject", "true", "predicted", "fold"]
            assert len(predictions) == 12 and predictions.fold.nunique() == 4
            metrics = json.loads((folder / "metrics.json").read_text())
            assert 0 <= metrics["accuracy"] <= 1 and np.sum(metrics["confusion"]) == 12
            assert "per_dataset" not in metrics  # one dataset: its scores are the study's
            log = (folder / "megc_log.txt").read_text().splitlines()
            assert log[0] == "smic_hs s1" and len(log) == 4 + 12
            for suffix in ("png", "pdf"):
                assert (mini_run / "results" / "figures" / "confusion" / f"{name}_{descriptor}.{suffix}").exists()
    for name in sr_sets + ["LR64", "LR32"]:
        quality = pd.read_csv(mini_run / "results" / "quality" / f"{name}.tsv", sep="\t")
        assert list(quality.columns) == ["clip_id", "frame", "psnr_y", "ssim_y", "psnr_rgb", "ssim_rgb"]
        assert len(quality) == manifest.n_frames.sum()
    table1 = pd.read_csv(mini_run / "results" / "tables" / "table1.csv", comment="#")
    assert table1.set_index("Set").loc["SR64-noise_cancel"].str.contains("not run").any()
    assert float(table1.set_index("Set").loc["SR32-esrgan", "PSNR (ours)"]) > 0  # a 15-step model: any finite PSNR
    table = pd.read_csv(mini_run / "results" / "tables" / "table2.csv", comment="#")
    assert {"SR64-bicubic", "SR64-psnr_small", "SR32-esrgan"} <= set(table.Set)
    assert (table.loc[table.Set == "SR64-esrgan"].iloc[0] == "not run").any()
    for stem in ("table2", "table2_extended"):
        for suffix in ("md", "csv", "tex"):
            assert "config_sha256" in (mini_run / "results" / "tables" / f"{stem}.{suffix}").read_text()
    for model, scale in [("psnr_small", 2), ("esrgan", 4)]:
        # the networks' jobs asked for a GPU and ran on the CPU: their logs say so (docs/layout.md#gpu)
        log = (mini_run / "logs" / "train" / f"{model}_x{scale}.log").read_text()
        assert "the job requested 1 GPU(s), but TensorFlow" in log and "runs on the CPU" in log
        folder = mini_run / "results" / "models" / model / f"x{scale}"
        settings = yaml.safe_load((folder / "weights.yaml").read_text())
        assert settings["steps"]["total"] == (12 if model == "psnr_small" else 15)
        heldout = json.loads((folder / "heldout.json").read_text())
        assert heldout["images"] == ["chelsea.png", "coffee.png", "moon.png"] and heldout["psnr"] > 0
        for suffix in ("png", "pdf"):
            assert (mini_run / "results" / "figures" / "training" / f"{model}_x{scale}.{suffix}").exists()
    training = pd.read_csv(mini_run / "results" / "tables" / "training.csv", comment="#", dtype=str)
    assert training[["Model", "Scale", "Steps", "Perceptual features"]].values.tolist() == [
        ["esrgan", "x4", "12 + 3", "random VGG19"],
        ["psnr_small", "x2", "12 + 0", "-"],
    ]
    for stem in ("figure6", "figure7", "accuracy", "psnr_accuracy"):
        for suffix in ("png", "pdf"):
            assert (mini_run / "results" / "figures" / f"{stem}.{suffix}").stat().st_size > 1000
    assert b"config " in (mini_run / "results" / "figures" / "figure6.pdf").read_bytes()  # provenance
    for log in (
        "data/acquire",
        "data/manifest",
        "degrade/HR128",
        "degrade/LR64",
        "degrade/LR32",
        "report/figure6",
        "superres/SR64-bicubic",
        "features/HR128/lbp_top",
        "evaluate/LR32/lpq_top",
        "report/table2",
    ):
        assert (mini_run / "logs" / f"{log}.log").exists(), log
    assert not list(mini_run.rglob("*.partial")) and not list(mini_run.rglob("*.tmp"))


def result_digests(workdir):
    """Every file under results/ (sets, trained weights, quality, features, evaluation, tables, figures)."""
    root = workdir / "results"
    return {str(p.relative_to(root)): digest(p) for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_config_same_bytes(mini_repo, mini_run, tmp_path):
    """A second run of the same code, with --cores 1 where the first had --cores 2, writes the same bytes
    everywhere.

    STSTNet and what gathers it are left out, for time: tests/test_ststnet.py checks its determinism.
    """
    snakefile = mini_repo / "Snakefile"
    snakemake(tmp_path, "--cores", "1", "--omit-from", "evaluate_ststnet", config=MINI, snakefile=snakefile)
    assert set_digests(tmp_path) == set_digests(mini_run)
    ours, reference = result_digests(tmp_path), result_digests(mini_run)
    assert set(ours) < set(reference)
    for kind in ("models/psnr_small/x2/weights.hdf5", "features/LR32/bi_woof.npz", "tables/table1.csv"):
        assert kind in ours, kind
    assert "/ststnet/" not in " ".join(ours) and len(ours) > len(reference) // 2
    assert [name for name in ours if ours[name] != reference[name]] == []


def test_report_builds(mini_repo, mini_run):
    snakemake(mini_run, "--report", "report.html", config=MINI, snakefile=mini_repo / "Snakefile")
    html = (mini_run / "report.html").read_text(errors="replace")
    for item in ("table2.md", "table1.md", "figure6.png", "figure7.png", "config.yaml", "psnr_small_x2.png"):
        assert item in html, item


def test_lint_is_clean():
    result = snakemake(REPO, "--lint", "--configfile", str(REPO / "config" / "demo.yaml"), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations" in result.stdout + result.stderr


def test_rules_are_snakefmt_formatted():
    """The Snakefile and every .smk file as snakefmt (pinned, settings in pyproject.toml) writes them."""
    files = [REPO / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]
    result = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", *map(str, files)], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode == 0, f"run snakefmt on the files it names:\n{result.stdout}{result.stderr}"


def test_paper_config_with_only_the_source_set(tmp_path):
    """config/config.yaml plus a one-key overlay reaches the manifest; nothing later is demanded."""
    write_tree(tmp_path / "SMIC", [(1, "negative", 1, range(10000, 10008)), (2, "positive", 1, range(20000, 20009))])
    snakemake(
        tmp_path / "run", "results/manifest.tsv", "--cores", "1", config={"dataset": {"source": str(tmp_path / "SMIC")}}
    )
    manifest = pd.read_csv(tmp_path / "run" / "results" / "manifest.tsv", sep="\t")
    assert manifest.clip_id.tolist() == ["s1_ne_01", "s2_po_01"]
    assert (tmp_path / "run" / "resources" / "smic_hs" / "HS").is_symlink()


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
    result = snakemake(
        tmp_path / "run",
        "results/manifest.tsv",
        "--cores",
        "1",
        config={"dataset": {"source": str(tmp_path / "SMIC")}},
        check=False,
    )
    assert result.returncode != 0
    assert "reg_image10004.bmp: cannot decode image" in result.stdout + result.stderr
    assert not (tmp_path / "run" / "results" / "manifest.tsv").exists()


def test_given_weights_from_a_file_and_a_url(tmp_path):
    """Weights given per scale are used as they are: a local file, and a URL checked by its SHA-256."""
    from http_server import FileServer

    from mesr.sr import build, save_weights
    from mesr.sr.inference import upscale

    params = {"C": 1, "D": 1, "G": 4, "G0": 4}
    local, remote = build("rdn", params, 2), build("rdn", params, 2)
    save_weights(local, tmp_path / "local.hdf5")
    save_weights(remote, tmp_path / "remote.hdf5")
    payload = (tmp_path / "remote.hdf5").read_bytes()
    with FileServer({"/weights/remote.hdf5": payload}) as server:
        config = {
            "dataset": MINI["dataset"],
            "models": {
                "psnr_small": {"params": params, "weights": {"x2": str(tmp_path / "local.hdf5")}},
                "psnr_large": {
                    "params": params,
                    "weights": {
                        "x2": {
                            "url": f"{server.url}/weights/remote.hdf5",
                            "sha256": hashlib.sha256(payload).hexdigest(),
                        }
                    },
                },
                "esrgan": None,
                "noise_cancel": None,
                "nesrgan_plus": None,
                "bicubic": None,
            },
        }
        snakemake(
            tmp_path / "run",
            "results/sets/SR64-psnr_small",
            "results/sets/SR64-psnr_large",
            "--cores",
            "2",
            config=config,
        )
    run = tmp_path / "run"
    assert (run / "resources" / "weights" / "psnr_large" / "x2.hdf5").read_bytes() == payload
    lr = np.load(run / "results" / "sets" / "LR64" / "s1_ne_01.npy")
    for name, model in (("psnr_small", local), ("psnr_large", remote)):
        sr = np.load(run / "results" / "sets" / f"SR64-{name}" / "s1_ne_01.npy")
        assert np.array_equal(sr, upscale(model, lr, scale=2)), name
    assert not (run / "results" / "models").exists()  # nothing was trained


def test_demo_trained_networks_beat_bicubic_on_heldout_images(tmp_path):
    """config/demo.yaml as shipped: an RDN and an ESRGAN generator, trained by the workflow on the
    scikit-image training images, beat bicubic upscaling on the held-out ones (issue 6)."""
    targets = [f"results/models/{model}/x2/heldout.json" for model in ("psnr_small", "esrgan")]
    snakemake(tmp_path, *targets, "--cores", "2", "--configfile", str(REPO / "config" / "demo.yaml"))
    for target in targets:
        heldout = json.loads((tmp_path / target).read_text())
        assert heldout["images"] == ["chelsea.png", "coffee.png", "moon.png"] and heldout["pairs"] == 64
        assert heldout["psnr"] > heldout["psnr_bicubic"], (target, heldout)
