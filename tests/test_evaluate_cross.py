"""Tests of the multi-dataset evaluation of mesr.evaluate: per-dataset metrics of the pooled LOSO,
cross-database training and testing, and the MEGC log (docs/evaluation.md)."""

import json
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import mesr.evaluate
from mesr.evaluate import bootstrap_ci, cross_database, evaluate_features, megc_log, metrics, write_megc_log

CLASSES = np.array(["negative", "positive", "surprise"])
CENTRES = {"negative": [5.0, 0.0, 0.0], "positive": [0.0, 5.0, 0.0], "surprise": [0.0, 0.0, 5.0]}


def write_npz(path, features, labels, subjects, datasets=None, clip_ids=None):
    clip_ids = clip_ids if clip_ids is not None else np.array([f"c{i:03d}" for i in range(len(labels))])
    arrays = {
        "features": np.asarray(features, dtype=float),
        "clip_id": np.asarray(clip_ids),
        "subject": np.asarray(subjects),
        "label": np.asarray(labels),
        "params": np.array(json.dumps({"descriptor": "lbp_top"})),
    }
    if datasets is not None:
        arrays["dataset"] = np.asarray(datasets)
    np.savez(path, **arrays)
    return path


# ------------------------------------------------------------------ per-dataset metrics of the pooled LOSO


def composite():
    """Two datasets; every clip sits at the centre of the class it will be predicted as (known predictions).

    alpha: subjects s1, s2, s3, each negative, negative, positive, surprise; s1 also a negative clip at the
    positive centre. beta: subjects 001, 002, each negative, positive (no surprise at all); 002 also a
    positive clip at the surprise centre.
    """
    rows = []  # (dataset, subject, true, predicted)
    for subject in ("s1", "s2", "s3"):
        rows += [("alpha", subject, c, c) for c in ("negative", "negative", "positive", "surprise")]
    rows.append(("alpha", "s1", "negative", "positive"))
    for subject in ("001", "002"):
        rows += [("beta", subject, c, c) for c in ("negative", "positive")]
    rows.append(("beta", "002", "positive", "surprise"))
    datasets, subjects, true, predicted = (np.array(column) for column in zip(*rows))
    noise = np.random.default_rng(0).normal(scale=0.1, size=(len(rows), 3))
    features = np.array([CENTRES[p] for p in predicted]) + noise
    return features, true, subjects, datasets, predicted


def test_per_dataset_metrics_hand_computed(tmp_path):
    features, true, subjects, datasets, expected = composite()
    clip_ids = np.array([f"{s}_{i:02d}" for i, s in enumerate(subjects)])
    npz = write_npz(tmp_path / "megc.npz", features, true, subjects, datasets, clip_ids)
    summary = evaluate_features(npz, tmp_path / "out", bootstrap=0)

    predictions = pd.read_csv(tmp_path / "out" / "predictions.tsv", sep="\t", dtype=str)
    assert list(predictions.columns) == ["clip_id", "dataset", "subject", "true", "predicted", "fold"]
    assert dict(zip(predictions["clip_id"], predictions["predicted"])) == dict(zip(clip_ids, expected))
    assert dict(zip(predictions["clip_id"], predictions["dataset"])) == dict(zip(clip_ids, datasets))
    # one LOSO over every subject of the study, in natural order
    assert summary["classifier"]["fold_subjects"] == ["001", "002", "s1", "s2", "s3"]
    assert summary["n_subjects"] == 5 and summary["n"] == 18

    alpha, beta = summary["per_dataset"]["alpha"], summary["per_dataset"]["beta"]
    assert list(summary["per_dataset"]) == ["alpha", "beta"]
    # alpha: 13 clips, one negative called positive
    assert alpha["n"] == 13 and alpha["n_subjects"] == 3
    assert alpha["confusion"] == [[6, 1, 0], [0, 3, 0], [0, 0, 3]]
    assert alpha["accuracy"] == pytest.approx(12 / 13)
    assert alpha["recall"] == pytest.approx({"negative": 6 / 7, "positive": 1.0, "surprise": 1.0})
    assert alpha["uar"] == pytest.approx((6 / 7 + 1 + 1) / 3)
    # F1 negative 2*6/(12+0+1) = 12/13; positive 2*3/(6+1+0) = 6/7; surprise 1
    assert alpha["uf1"] == pytest.approx((12 / 13 + 6 / 7 + 1) / 3)
    # beta: 5 clips, no surprise clip, yet its row and column are there; one positive called surprise
    assert beta["n"] == 5 and beta["n_subjects"] == 2
    assert beta["confusion"] == [[2, 0, 0], [0, 2, 1], [0, 0, 0]]
    assert beta["accuracy"] == pytest.approx(4 / 5)
    assert beta["recall"] == pytest.approx({"negative": 1.0, "positive": 2 / 3, "surprise": None})
    assert beta["uar"] == pytest.approx((1 + 2 / 3) / 2)  # over the classes present
    # F1 negative 1; positive 2*2/(4+0+1) = 4/5; surprise predicted once, never true: 0
    assert beta["uf1"] == pytest.approx((1 + 4 / 5 + 0) / 3)
    # the pooled metrics are those of all clips, and the parts add up to them
    assert summary["confusion"] == (np.array(alpha["confusion"]) + np.array(beta["confusion"])).tolist()
    assert summary["accuracy"] == pytest.approx(16 / 18)
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["per_dataset"] == json.loads(
        json.dumps(summary["per_dataset"])
    )


def test_single_dataset_gets_a_dataset_column_but_no_per_dataset(tmp_path):
    features, true, subjects, datasets, _ = composite()
    alpha = datasets == "alpha"
    npz = write_npz(tmp_path / "alpha.npz", features[alpha], true[alpha], subjects[alpha], datasets[alpha])
    summary = evaluate_features(npz, tmp_path / "with", bootstrap=0)
    assert "per_dataset" not in summary
    predictions = pd.read_csv(tmp_path / "with" / "predictions.tsv", sep="\t")
    assert list(predictions.columns) == ["clip_id", "dataset", "subject", "true", "predicted", "fold"]
    assert set(predictions["dataset"]) == {"alpha"}
    # without the array (an older file): same metrics, no dataset column
    old = write_npz(tmp_path / "old.npz", features[alpha], true[alpha], subjects[alpha])
    assert evaluate_features(old, tmp_path / "without", bootstrap=0) == summary
    assert "dataset" not in pd.read_csv(tmp_path / "without" / "predictions.tsv", sep="\t").columns


def one_clip_of_001_in_alpha(datasets, subjects):
    datasets = datasets.copy()
    datasets[np.flatnonzero(subjects == "001")[0]] = "alpha"
    return datasets


@pytest.mark.parametrize(
    "change, match",
    [
        (one_clip_of_001_in_alpha, r"bad\.npz: subject\(s\) in more than one dataset \(001: alpha, beta\)"),
        (lambda d, s: np.where(s == "s2", "", d), r"bad\.npz: 'dataset' holds empty names"),
        (lambda d, s: d[:-1], r"bad\.npz: 'dataset' must have shape \(18,\)"),
        (lambda d, s: np.arange(d.size), r"bad\.npz: 'dataset' must hold dataset names \(str\)"),
    ],
)
def test_bad_dataset_array(tmp_path, change, match):
    features, true, subjects, datasets, _ = composite()
    npz = write_npz(tmp_path / "bad.npz", features, true, subjects, change(datasets, subjects))
    with pytest.raises(ValueError, match=match):
        evaluate_features(npz, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ cross-database


def two_databases(seed=0, shift=2.0, scale=3.0):
    """alpha: 4 subjects a1..a4; beta: 3 subjects b1..b3, same classes but features scaled and shifted."""
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(3, 4)) * 1.5

    def block(prefix, n_subjects, per_class):
        subjects = np.repeat([f"{prefix}{i}" for i in range(1, n_subjects + 1)], 3 * per_class)
        labels = np.tile(np.repeat(CLASSES, per_class), n_subjects)
        return means[np.searchsorted(CLASSES, labels)] + rng.normal(size=(labels.size, 4)), labels, subjects

    xa, ya, sa = block("a", 4, 3)
    xb, yb, sb = block("b", 3, 2)
    features = np.vstack([xa, xb * scale + shift])
    datasets = np.array(["alpha"] * ya.size + ["beta"] * yb.size)
    return features, np.concatenate([ya, yb]), np.concatenate([sa, sb]), datasets


class RecordingScaler(StandardScaler):
    """StandardScaler that records the first column (a sample id) of every matrix it is fit on."""

    seen: ClassVar[list] = []

    def fit(self, X, y=None, sample_weight=None):
        RecordingScaler.seen.append(np.asarray(X)[:, 0].astype(int))
        return super().fit(X, y, sample_weight)


def test_cross_database_scales_on_the_training_database_only(tmp_path):
    features, labels, subjects, datasets = two_databases()
    train = datasets == "alpha"
    clip_ids = np.array([f"{s}_{i:03d}" for i, s in enumerate(subjects)])
    npz = write_npz(tmp_path / "f.npz", features, labels, subjects, datasets, clip_ids)
    summary = cross_database(npz, tmp_path / "out", train="alpha", test="beta", C=0.5, bootstrap=300, seed=1)

    # the reference: a pipeline fitted by hand on the training rows
    reference = make_pipeline(StandardScaler(), SVC(kernel="linear", C=0.5)).fit(features[train], labels[train])
    expected = dict(zip(clip_ids[~train], reference.predict(features[~train])))
    # a scaler that also saw the test database would have answered otherwise: the check is sensitive
    leaky = StandardScaler().fit(features)
    svc = SVC(kernel="linear", C=0.5).fit(leaky.transform(features[train]), labels[train])
    assert list(svc.predict(leaky.transform(features[~train]))) != list(expected.values())

    predictions = pd.read_csv(tmp_path / "out" / "predictions.tsv", sep="\t", dtype=str)
    assert list(predictions.columns) == ["clip_id", "dataset", "subject", "true", "predicted"]
    assert dict(zip(predictions["clip_id"], predictions["predicted"])) == expected
    assert set(predictions["dataset"]) == {"beta"} and len(predictions) == 18
    assert list(predictions["subject"]) == sorted(predictions["subject"])

    stored = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert stored == json.loads(json.dumps(summary))
    recomputed = metrics(predictions["true"], predictions["predicted"], CLASSES, subjects=predictions["subject"])
    assert {k: stored[k] for k in recomputed} == json.loads(json.dumps(recomputed))
    assert (stored["train"], stored["test"], stored["n"], stored["n_train"]) == ("alpha", "beta", 18, 36)
    assert (stored["n_subjects"], stored["n_train_subjects"]) == (3, 4)
    assert stored["ci95"] == bootstrap_ci(
        predictions["true"], predictions["predicted"], predictions["subject"], CLASSES, resamples=300, seed=1
    )
    assert stored["bootstrap"] == {"resamples": 300, "seed": 1, "unit": "subject"}
    assert stored["classifier"]["params"]["C"] == 0.5
    assert stored["features_params"] == {"descriptor": "lbp_top"}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["metrics.json", "predictions.tsv"]
    assert "ci95" not in cross_database(npz, tmp_path / "no-ci", train="alpha", test="beta", bootstrap=0)


def test_cross_database_search_uses_the_training_subjects_only(tmp_path, monkeypatch):
    features, labels, subjects, datasets = two_databases(seed=1)
    train = datasets == "alpha"
    ids = np.column_stack([np.arange(labels.size), features])
    npz = write_npz(tmp_path / "f.npz", ids, labels, subjects, datasets)
    grid = [0.001, 0.1, 10.0]
    RecordingScaler.seen = []
    monkeypatch.setattr(mesr.evaluate, "StandardScaler", RecordingScaler)
    summary = cross_database(npz, tmp_path / "out", train="alpha", test="beta", search={"C": grid}, bootstrap=0)
    monkeypatch.undo()

    # 3 candidates x 4 inner folds, then the refit on the whole training database; never a test row
    assert len(RecordingScaler.seen) == 3 * 4 + 1
    training_rows = set(np.flatnonzero(train).tolist())
    assert all(set(seen.tolist()) <= training_rows for seen in RecordingScaler.seen)
    assert set(RecordingScaler.seen[-1].tolist()) == training_rows
    # the same choice and predictions as GridSearchCV with a LOSO over the training subjects, by hand
    search = GridSearchCV(
        make_pipeline(StandardScaler(), SVC(kernel="linear")), {"svc__C": grid}, cv=LeaveOneGroupOut()
    ).fit(ids[train], labels[train], groups=subjects[train])
    assert summary["classifier"]["params"]["C"] == search.best_params_["svc__C"]
    predictions = pd.read_csv(tmp_path / "out" / "predictions.tsv", sep="\t", dtype=str)
    order = np.argsort(predictions["clip_id"].to_numpy())
    expected = search.predict(ids[~train])  # the clip ids c000.. follow the rows
    np.testing.assert_array_equal(predictions["predicted"].to_numpy()[order], expected)


def test_cross_database_errors(tmp_path):
    features, labels, subjects, datasets = two_databases()
    npz = write_npz(tmp_path / "f.npz", features, labels, subjects, datasets)
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="train and test must be different datasets, got 'alpha' for both"):
        cross_database(npz, out, train="alpha", test="alpha")
    with pytest.raises(ValueError, match=r"f\.npz: no clip of train dataset 'casme2'; datasets present: \['alpha', "):
        cross_database(npz, out, train="casme2", test="beta")
    with pytest.raises(
        ValueError, match=r"f\.npz: no clip of test dataset 'samm'; datasets present: \['alpha', 'beta'"
    ):
        cross_database(npz, out, train="alpha", test="samm")
    old = write_npz(tmp_path / "old.npz", features, labels, subjects)
    with pytest.raises(ValueError, match=r"old\.npz: no 'dataset' array"):
        cross_database(old, out, train="alpha", test="beta")
    # surprise never in the training database, but in the test one
    no_surprise = (datasets == "beta") | (labels != "surprise")
    gap = write_npz(
        tmp_path / "gap.npz", features[no_surprise], labels[no_surprise], subjects[no_surprise], datasets[no_surprise]
    )
    with pytest.raises(ValueError, match=r"gap\.npz: class\(es\) \['surprise'\] of test dataset 'beta' never occur"):
        cross_database(gap, out, train="alpha", test="beta")
    # the other way round is fine: a class absent from the test database has recall null
    summary = cross_database(gap, out, train="beta", test="alpha", bootstrap=0)
    assert summary["recall"]["surprise"] is None and len(summary["confusion"]) == 3
    single = (datasets == "beta") | (labels == "negative")
    one = write_npz(tmp_path / "one.npz", features[single], labels[single], subjects[single], datasets[single])
    with pytest.raises(ValueError, match=r"one\.npz: training dataset 'alpha' holds a single class 'negative'"):
        cross_database(one, out, train="alpha", test="beta")
    lone = (datasets == "beta") | (subjects == "a1")
    solo = write_npz(tmp_path / "solo.npz", features[lone], labels[lone], subjects[lone], datasets[lone])
    with pytest.raises(ValueError, match=r"solo\.npz: the search's inner LOSO needs at least 2 subjects"):
        cross_database(solo, tmp_path / "solo", train="alpha", test="beta", search={"C": [1.0]})
    with pytest.raises(ValueError, match="kernel must be one of"):
        cross_database(npz, tmp_path / "solo", train="alpha", test="beta", kernel="sigmoid")
    assert not (tmp_path / "solo").exists()


# ------------------------------------------------------------------ MEGC log


def test_megc_log_hand_written():
    rows = pd.DataFrame(
        [  # clip_id, dataset, subject, true, predicted; shuffled
            ("sub01_EP02", "casme2", "sub01", "positive", "positive"),
            ("s10_ne_01", "smic_hs", "s10", "negative", "surprise"),
            ("006_1_2", "samm", "006", "surprise", "negative"),
            ("s2_po_03", "smic_hs", "s2", "positive", "negative"),
            ("sub01_EP01", "casme2", "sub01", "negative", "negative"),
            ("s2_sur_01", "smic_hs", "s2", "surprise", "surprise"),
        ],
        columns=["clip_id", "dataset", "subject", "true", "predicted"],
    )
    expected = (
        "casme2 sub01\nsub01_EP01 0 0\nsub01_EP02 1 1\n"
        "samm 006\n006_1_2 2 0\n"
        "smic_hs s2\ns2_po_03 1 0\ns2_sur_01 2 2\n"
        "smic_hs s10\ns10_ne_01 0 2\n"
    )
    assert megc_log(rows) == expected
    assert megc_log(rows.iloc[::-1]) == expected  # the row order does not matter
    # the class index follows the labels' order
    assert megc_log(rows.iloc[:1], labels=["surprise", "positive", "negative"]) == "casme2 sub01\nsub01_EP02 1 1\n"


def test_write_megc_log_from_a_predictions_file(tmp_path):
    table = pd.DataFrame(
        {
            "clip_id": ["006_1_2", "007_3_1"],
            "dataset": ["samm", "samm"],
            "subject": ["006", "007"],
            "true": ["negative", "surprise"],
            "predicted": ["positive", "surprise"],
            "fold": [0, 1],
        }
    )
    table.to_csv(tmp_path / "predictions.tsv", sep="\t", index=False)
    path = write_megc_log(tmp_path / "predictions.tsv", tmp_path / "logs" / "megc.log")
    # read as text: subject 006 keeps its zeros
    assert path.read_text() == "samm 006\n006_1_2 0 1\nsamm 007\n007_3_1 2 2\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["megc.log"]


def test_megc_log_errors():
    good = {"clip_id": ["c1"], "dataset": ["smic_hs"], "subject": ["s1"], "true": ["negative"], "predicted": ["a"]}
    with pytest.raises(ValueError, match=r"predictions column 'predicted' holds classes \['a'\] not in labels"):
        megc_log(good)
    with pytest.raises(ValueError, match=r"predictions lack column\(s\) \['dataset'\]"):
        megc_log({k: v for k, v in good.items() if k != "dataset"})
    with pytest.raises(ValueError, match=r"column 'subject' holds empty names or names with whitespace \['s 1'\]"):
        megc_log(good | {"subject": ["s 1"], "predicted": ["negative"]})
    with pytest.raises(ValueError, match="predictions hold no clip"):
        megc_log({k: [] for k in good})
