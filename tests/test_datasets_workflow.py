"""The other datasets' twins through the whole study: CASME II and SAMM (docs/data.md#other-datasets)."""

import json

import numpy as np
import pandas as pd
import pytest
from workflow_runs import snakemake

from mesr.data import MANIFEST_COLUMNS

pytestmark = pytest.mark.workflow

#: The mini CASME II twin, bicubic upscaling only (the networks are the SMIC mini study's business).
CASME2_MINI = {
    "dataset": {"name": "casme2", "source": "synthetic", "synthetic": {"preset": "mini", "seed": 0}},
    "models": {name: None for name in ("esrgan", "psnr_large", "psnr_small", "noise_cancel", "nesrgan_plus")},
}


@pytest.fixture(scope="module")
def casme2_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("casme2-run")
    snakemake(workdir, "--cores", "2", config=CASME2_MINI)
    return workdir


def test_casme2_twin_manifest_and_gaps(casme2_run):
    manifest = pd.read_csv(casme2_run / "results" / "manifest.tsv", sep="\t", dtype={"subject": str})
    assert list(manifest.columns) == MANIFEST_COLUMNS
    assert set(manifest.dataset) == {"casme2"} and manifest.subject.tolist()[0] == "sub01"
    assert manifest.subject.is_monotonic_increasing  # sub01 .. sub04, natural order
    # the sheet's onset..offset cut the clip: its frames are exactly that interval
    assert (manifest.first_frame == manifest.onset).all() and (manifest.last_frame == manifest.offset).all()
    assert (manifest.n_frames == manifest.offset - manifest.onset + 1 - manifest.missing_frames).all()
    row = manifest.set_index("clip_id").loc["sub01_EP01_2"]
    assert (row.emotion, row.label, row.path) == ("repression", "negative", "CASME2/Cropped/sub01/EP01_2")
    assert set(manifest.label) == {"negative", "positive", "surprise"}  # megc3 classes
    assert not manifest.emotion.isin(["others", "fear", "sadness"]).any()
    gaps = pd.read_csv(casme2_run / "results" / "data" / "gaps.tsv", sep="\t")
    excluded = gaps[gaps.kind == "excluded_label"]
    assert set(excluded.clip_id) == {"sub02_EP13_04", "sub04_EP09f"}  # 'others' and CASME II's 'fear'
    bad = gaps[gaps.kind == "bad_annotation"]
    assert bad.values.tolist() == [["bad_annotation", "sub04_EP12_01f", "apex '/' (missing)"]]
    assert "sub04_EP12_01f" in set(manifest.clip_id)  # kept as annotated, never repaired
    assert pd.isna(manifest.set_index("clip_id").loc["sub04_EP12_01f", "apex"])


def test_casme2_twin_runs_to_the_tables(casme2_run):
    manifest = pd.read_csv(casme2_run / "results" / "manifest.tsv", sep="\t", dtype={"subject": str})
    for name, side in [("HR128", 128), ("LR64", 64), ("SR32-bicubic", 128)]:
        clips = sorted((casme2_run / "results" / "sets" / name).glob("*.npy"))
        assert [p.stem for p in clips] == sorted(manifest.clip_id)
        assert np.load(clips[0]).shape[1:] == (side, side, 3)
    folder = casme2_run / "results" / "evaluation" / "HR128" / "lbp_top"
    predictions = pd.read_csv(folder / "predictions.tsv", sep="\t", dtype={"subject": str})
    assert predictions.subject.tolist() == manifest.subject.tolist()  # folder names, folds in natural order
    assert predictions.fold.max() == manifest.subject.nunique() - 1
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["labels"] == ["negative", "positive", "surprise"] and metrics["n"] == len(manifest)
    assert list(metrics["per_subject"]) == ["sub01", "sub02", "sub03", "sub04"]
    table = pd.read_csv(casme2_run / "results" / "tables" / "table2.csv", comment="#", dtype=str).set_index("Set")
    assert table.loc["HR128", "LBP-TOP (ours)"] != "not run" and table.loc["SR64-esrgan", "LBP-TOP (ours)"] == "not run"
    assert (casme2_run / "results" / "figures" / "figure6.png").stat().st_size > 1000


@pytest.fixture(scope="module")
def samm_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("samm-run")
    config = {**CASME2_MINI, "dataset": {"name": "samm", "source": "synthetic", "synthetic": {"preset": "mini"}}}
    snakemake(workdir, "--cores", "2", config=config)
    return workdir


def test_samm_twin_runs_to_the_tables(samm_run):
    manifest = pd.read_csv(samm_run / "results" / "manifest.tsv", sep="\t", dtype={"subject": str})
    assert list(manifest.columns) == MANIFEST_COLUMNS and set(manifest.dataset) == {"samm"}
    assert manifest.subject.unique().tolist() == ["006", "007", "009", "011"]  # zero-padded folder names
    assert manifest.path.str.startswith("SAMM_data/SAMM_CROP/").all()
    assert (manifest.first_frame == manifest.onset).all() and (manifest.last_frame == manifest.offset).all()
    gaps = pd.read_csv(samm_run / "results" / "data" / "gaps.tsv", sep="\t")
    assert gaps[gaps.kind == "excluded_label"].clip_id.tolist() == ["007_6_1"]  # 'Others'
    assert gaps[gaps.kind == "bad_annotation"].clip_id.tolist() == ["009_3_1"]  # apex after the offset, kept
    metrics = json.loads((samm_run / "results" / "evaluation" / "HR128" / "lpq_top" / "metrics.json").read_text())
    assert metrics["n"] == len(manifest) and list(metrics["per_subject"]) == ["006", "007", "009", "011"]
    table = pd.read_csv(samm_run / "results" / "tables" / "table1.csv", comment="#", dtype=str).set_index("Set")
    assert float(table.loc["SR64-bicubic", "PSNR (ours)"]) > 20


def test_vis_twin_plans_the_study(tmp_path):
    """SMIC-VIS through the workflow's planning: its own resources folder and classes."""
    config = {**CASME2_MINI, "dataset": {"name": "smic_vis", "source": "synthetic", "synthetic": {"preset": "mini"}}}
    result = snakemake(tmp_path, "-n", "results/manifest.tsv", config=config)
    assert "resources/smic_vis" in result.stdout
