"""The other datasets' twins through the whole study: CASME II, SAMM (face-cropped) and the MEGC 2019 composite
(docs/data.md#other-datasets, docs/evaluation.md#several-datasets)."""

import json

import numpy as np
import pandas as pd
import pytest
from matplotlib.pyplot import imread
from workflow_runs import snakemake

from mesr.data import MANIFEST_COLUMNS
from mesr.data.megc2019 import GROUND_TRUTH, read_ground_truth
from mesr.evaluate import metrics

pytestmark = pytest.mark.workflow

#: The mini CASME II twin, bicubic upscaling only (the networks are the SMIC mini study's business).
CASME2_MINI = {
    "dataset": {"name": "casme2", "source": "synthetic", "synthetic": {"preset": "mini", "seed": 0}},
    "models": {name: None for name in ("esrgan", "psnr_large", "psnr_small", "noise_cancel", "nesrgan_plus")},
}


@pytest.fixture(scope="module")
def casme2_run(tmp_path_factory):
    """The CASME II twin with the flow methods on TV-L1 flow to the annotated apex (LPQ-TOP left out)."""
    workdir = tmp_path_factory.mktemp("casme2-run")
    features = {
        "descriptors": ["lbp_top", "bi_woof", "ststnet"],
        "ststnet": {"epochs": 5, "learning_rate": 1.0e-3, "batch_size": 16},
    }
    snakemake(workdir, "--cores", "2", config={**CASME2_MINI, "features": features})
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
    assert {"Bi-WOOF (ours)", "STSTNet (ours)"} <= set(table.columns) and "Bi-WOOF (paper)" not in table.columns


def test_casme2_flow_goes_to_the_annotated_apex_and_feeds_bi_woof_and_ststnet(casme2_run):
    manifest = pd.read_csv(casme2_run / "results" / "manifest.tsv", sep="\t", dtype={"subject": str})
    flow = np.load(casme2_run / "results" / "features" / "HR128" / "flow.npz")
    assert list(flow["clip_id"]) == list(manifest.clip_id) and flow["u"].shape == (len(manifest), 128, 128)
    sources = dict(zip(flow["clip_id"], flow["apex_source"]))
    assert sources.pop("sub04_EP12_01f") == "max_flow"  # its apex is '/': the flow's own apex instead
    assert set(sources.values()) == {"annotated"}
    row = manifest.set_index("clip_id").loc["sub01_EP01_2"]
    assert flow["apex"][list(flow["clip_id"]).index("sub01_EP01_2")] == row.apex - row.first_frame
    assert json.loads(str(flow["params"]))["method"] == "tvl1"
    features = np.load(casme2_run / "results" / "features" / "LR32" / "bi_woof.npz")
    assert features["features"].shape == (len(manifest), 5 * 5 * 8)
    for method in ("bi_woof", "ststnet"):
        folder = casme2_run / "results" / "evaluation" / "LR32" / method
        predictions = pd.read_csv(folder / "predictions.tsv", sep="\t", dtype={"subject": str})
        assert predictions.clip_id.tolist() == manifest.clip_id.tolist()
        assert json.loads((folder / "metrics.json").read_text())["n"] == len(manifest)


@pytest.fixture(scope="module")
def samm_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("samm-run")
    config = {
        **CASME2_MINI,
        "dataset": {"name": "samm", "variant": "full", "source": "synthetic", "synthetic": {"preset": "mini"}},
        "preprocess": {"face_crop": "haar"},
    }
    snakemake(workdir, "--cores", "2", config=config)
    return workdir


def test_samm_twin_runs_to_the_tables_from_face_crops_of_its_full_frames(samm_run, casme2_run):
    manifest = pd.read_csv(samm_run / "results" / "manifest.tsv", sep="\t", dtype={"subject": str})
    assert list(manifest.columns) == MANIFEST_COLUMNS and set(manifest.dataset) == {"samm"}
    assert manifest.subject.unique().tolist() == ["006", "007", "009", "011"]  # zero-padded folder names
    assert manifest.path.str.startswith("SAMM_data/SAMM/").all() and (manifest.width == 640).all()
    # one face region per clip, found on its onset frame: about the 60% of the height the face fills
    faces = pd.read_csv(samm_run / "results" / "data" / "faces.tsv", sep="\t", dtype={"clip_id": str})
    assert faces.clip_id.tolist() == manifest.clip_id.tolist()
    assert faces.height.between(240, 384).all() and faces.width.between(240, 384).all()
    assert np.load(samm_run / "results" / "sets" / "HR128" / f"{manifest.clip_id[0]}.npy").shape[1:] == (128, 128, 3)
    # Figure 6 shows the source frame and its region first: four panels in the same width, so less tall
    heights = [imread(run / "results" / "figures" / "figure6.png").shape[0] for run in (samm_run, casme2_run)]
    assert heights[0] < 0.9 * heights[1]
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


#: The mini MEGC 2019 composite (SMIC-HS, CASME II and SAMM twins, SAMM from its full frames, face-cropped) with
#: one cross-database pair, bicubic upscaling only.
MEGC_MINI = {
    **CASME2_MINI,
    "dataset": {
        "name": "megc2019",
        "source": "synthetic",
        "synthetic": {"preset": "mini"},
        "variant": {"samm": "full"},
    },
    "preprocess": {"face_crop": "haar"},
    "evaluation": {"cross_database": [["casme2", "samm"]], "bootstrap": 200},
}


@pytest.fixture(scope="module")
def megc_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("megc-run")
    snakemake(workdir, "--cores", "2", config=MEGC_MINI)
    return workdir


def read_tsv(path):
    return pd.read_csv(path, sep="\t", dtype={"clip_id": str, "subject": str})


def test_composite_manifest_holds_the_ground_truths_clips_and_labels(megc_run):
    manifest = read_tsv(megc_run / "results" / "manifest.tsv")
    truth = read_ground_truth(next((megc_run / "resources" / "megc2019").rglob(GROUND_TRUTH)))
    assert sorted(manifest.clip_id) == sorted(truth.clip_id)
    assert manifest.set_index("clip_id").label.to_dict() == truth.set_index("clip_id").label.to_dict()
    assert set(manifest.dataset) == {"smic_hs", "casme2", "samm"}
    assert manifest.groupby("subject").dataset.nunique().max() == 1  # folder names never collide
    # SAMM's full frames are face-cropped; SMIC-HS and CASME II's face crops are kept whole
    faces = read_tsv(megc_run / "results" / "data" / "faces.tsv").set_index("clip_id")
    rows = manifest.set_index("clip_id")
    cropped = faces.height < rows.height
    assert set(rows.dataset[cropped]) == {"samm"} and cropped[rows.dataset == "samm"].all()
    gaps = read_tsv(megc_run / "results" / "data" / "gaps.tsv")
    assert set(gaps[gaps.kind == "not_in_ground_truth"].clip_id) == {"sub02_EP13_04", "sub04_EP09f", "007_6_1"}
    assert "ground truth says positive" in gaps.set_index("clip_id").detail["006_1_2"]  # the GT wins


def test_composite_loso_runs_over_every_subject_and_scores_each_part_from_the_same_folds(megc_run):
    manifest = read_tsv(megc_run / "results" / "manifest.tsv")
    folder = megc_run / "results" / "evaluation" / "HR128" / "lpq_top"
    predictions = read_tsv(folder / "predictions.tsv")
    assert predictions.fold.nunique() == manifest.subject.nunique() == 12  # 4 subjects of each part
    assert predictions.set_index("clip_id").dataset.to_dict() == manifest.set_index("clip_id").dataset.to_dict()
    content = json.loads((folder / "metrics.json").read_text())
    assert list(content["per_dataset"]) == ["casme2", "samm", "smic_hs"]
    for name, part in predictions.groupby("dataset"):
        expected = metrics(part.true, part.predicted, content["labels"])
        scores = content["per_dataset"][name]
        assert scores["n"] == len(part)
        assert np.array_equal(scores["confusion"], expected["confusion"]), name
        for key in ("accuracy", "uf1", "uar"):
            assert scores[key] == pytest.approx(expected[key]), (name, key)
    # the MEGC log: one header per (dataset, subject), then video, truth and prediction as class indices
    log = (folder / "megc_log.txt").read_text().splitlines()
    headers = [line for line in log if len(line.split()) == 2]
    assert headers[0] == "casme2 sub01" and len(headers) == 12 and len(log) == 12 + len(predictions)
    index = {label: str(i) for i, label in enumerate(content["labels"])}
    row = predictions.set_index("clip_id").loc["sub01_EP01_2"]
    assert f"sub01_EP01_2 {index[row.true]} {index[row.predicted]}" in log


def test_composite_table_and_figure(megc_run):
    table = pd.read_csv(megc_run / "results" / "tables" / "megc.csv", comment="#", dtype=str)
    assert list(table.columns[:4]) == ["Set", "Descriptor", "UF1 all", "UAR all"]
    assert {"UF1 SMIC", "UAR CASME II", "UF1 SAMM"} <= set(table.columns)
    baseline = table.set_index("Set").loc["MEGC 2019 baseline"]
    assert (baseline["UF1 all"], baseline["UAR SMIC"], baseline["UF1 SAMM"]) == ("0.5882", "0.5280", "0.3954")
    hr = table[(table.Set == "HR128") & (table.Descriptor == "LPQ-TOP")].iloc[0]
    content = json.loads((megc_run / "results" / "evaluation" / "HR128" / "lpq_top" / "metrics.json").read_text())
    assert hr["UAR CASME II"] == f"{content['per_dataset']['casme2']['uar']:.4f}"
    assert (megc_run / "results" / "figures" / "per_dataset.png").stat().st_size > 1000


def test_cross_database_predicts_exactly_the_test_databases_clips(megc_run):
    manifest = read_tsv(megc_run / "results" / "manifest.tsv")
    folder = megc_run / "results" / "evaluation" / "LR32" / "lbp_top" / "cross" / "casme2-samm"
    predictions = read_tsv(folder / "predictions.tsv")
    assert sorted(predictions.clip_id) == sorted(manifest.clip_id[manifest.dataset == "samm"])
    content = json.loads((folder / "metrics.json").read_text())
    assert (content["train"], content["test"], content["n"]) == ("casme2", "samm", len(predictions))
    assert content["n_train"] == (manifest.dataset == "casme2").sum()
    table = pd.read_csv(megc_run / "results" / "tables" / "cross_database.csv", comment="#", dtype=str)
    row = table[(table.Set == "LR32") & (table.Descriptor == "LBP-TOP")].iloc[0]
    assert row["UF1 CASME II to SAMM"] == f"{content['uf1']:.4f}"
