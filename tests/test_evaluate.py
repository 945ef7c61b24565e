"""Tests of mesr.evaluate: LOSO SVM against a plain-loop reference, leakage, metrics, McNemar, files."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom
from sklearn.model_selection import LeaveOneGroupOut, ParameterGrid, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import mesr.evaluate
from mesr.evaluate import bootstrap_ci, evaluate_features, loso_folds, loso_predict, mcnemar_exact, metrics

CLASSES = np.array(["negative", "positive", "surprise"])


def make_data(seed, n_subjects=5, per_class=3, dim=6, signal=1.0):
    """Class means + subject offsets + noise; subjects listed in a shuffled order."""
    rng = np.random.default_rng(seed)
    subjects = np.repeat(rng.permutation(np.arange(1, n_subjects + 1) * 3), 3 * per_class)
    labels = np.tile(np.repeat(CLASSES, per_class), n_subjects)
    means = rng.normal(size=(3, dim)) * signal
    offsets = rng.normal(size=(n_subjects * 3 + 1, dim))
    features = means[np.searchsorted(CLASSES, labels)] + offsets[subjects] + rng.normal(size=(labels.size, dim))
    return features, labels, subjects


def reference_loso(features, labels, subjects, **svc):
    """Plain loop over the sorted subjects: scaler fit on the training subjects, SVC, predict."""
    predicted = np.empty_like(labels)
    fold = np.empty(labels.size, dtype=int)
    for k, subject in enumerate(sorted(set(subjects.tolist()))):
        train, test = subjects != subject, subjects == subject
        scaler = StandardScaler().fit(features[train])
        model = SVC(**svc).fit(scaler.transform(features[train]), labels[train])
        predicted[test] = model.predict(scaler.transform(features[test]))
        fold[test] = k
    return predicted, fold


# ------------------------------------------------------------------ against an independent reference


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(
    "svc",
    [
        {},
        {"kernel": "rbf", "C": 10.0, "gamma": 0.1},
        {"kernel": "poly", "degree": 2, "C": 0.5},
        {"kernel": "linear", "C": 0.05, "class_weight": "balanced"},
    ],
)
def test_loso_matches_plain_loop_reference(seed, svc):
    features, labels, subjects = make_data(seed)
    expected, expected_fold = reference_loso(features, labels, subjects, **({"kernel": "linear"} | svc))
    result = loso_predict(features, labels, subjects, **svc)
    np.testing.assert_array_equal(result.predicted, expected)
    np.testing.assert_array_equal(result.fold, expected_fold)
    assert result.subjects == (3, 6, 9, 12, 15)
    assert all(p["C"] == svc.get("C", 1.0) for p in result.params)
    if svc.get("kernel") != "poly":  # the generated classes are learnable (not by a degree-2 polynomial)
        assert np.mean(result.predicted == labels) > 0.5


def test_nested_search_matches_plain_loop_reference():
    features, labels, subjects = make_data(2, n_subjects=4, signal=0.6)
    grid = [0.001, 0.1, 10.0]
    expected = np.empty_like(labels)
    expected_c = []
    for subject in sorted(set(subjects.tolist())):
        train, test = subjects != subject, subjects == subject
        inner_subjects = sorted(set(subjects[train].tolist()))
        scores = []
        for c in grid:  # mean over inner folds of the accuracy on the held-out training subject
            fold_scores = []
            for inner in inner_subjects:
                fit = train & (subjects != inner)
                held = train & (subjects == inner)
                scaler = StandardScaler().fit(features[fit])
                model = SVC(kernel="linear", C=c).fit(scaler.transform(features[fit]), labels[fit])
                fold_scores.append(np.mean(model.predict(scaler.transform(features[held])) == labels[held]))
            scores.append(np.mean(fold_scores))
        best = grid[int(np.flatnonzero(np.isclose(scores, max(scores)))[0])]  # first of ties
        expected_c.append(best)
        scaler = StandardScaler().fit(features[train])
        model = SVC(kernel="linear", C=best).fit(scaler.transform(features[train]), labels[train])
        expected[test] = model.predict(scaler.transform(features[test]))

    result = loso_predict(features, labels, subjects, search={"C": grid})
    np.testing.assert_array_equal(result.predicted, expected)
    assert [p["C"] for p in result.params] == expected_c


# ------------------------------------------------------------------ LOSO structure and leakage


class RecordingScaler(StandardScaler):
    """StandardScaler that records the first column (a sample id) of every matrix it is fit on."""

    seen = []

    def fit(self, X, y=None, sample_weight=None):
        RecordingScaler.seen.append(np.asarray(X)[:, 0].astype(int))
        return super().fit(X, y, sample_weight)


@pytest.fixture
def recording(monkeypatch):
    RecordingScaler.seen = []
    monkeypatch.setattr(mesr.evaluate, "StandardScaler", RecordingScaler)
    return RecordingScaler.seen


def with_ids(features):
    return np.column_stack([np.arange(features.shape[0]), features])


def test_loso_fold_properties(recording):
    features, labels, subjects = make_data(3)
    result = loso_predict(with_ids(features), labels, subjects)
    order = sorted(set(subjects.tolist()))
    assert result.subjects == tuple(order)  # folds = subjects, in sorted (fixed) order
    assert len(recording) == len(order)  # one scaler fit per fold
    for k, (subject, train) in enumerate(zip(order, recording)):
        test = np.flatnonzero(result.fold == k)
        assert set(subjects[test].tolist()) == {subject}  # the fold tests exactly one subject
        assert subject not in set(subjects[train].tolist())  # never also in training
        assert sorted(np.concatenate([train, test]).tolist()) == list(range(labels.size))  # cover all
    # the fold of a sample is the rank of its subject, whatever the input order
    np.testing.assert_array_equal(result.fold, np.searchsorted(order, subjects))


def test_nested_search_never_fits_on_the_test_subject(recording):
    features, labels, subjects = make_data(4, n_subjects=4)
    grid = {"C": [0.1, 1.0], "kernel": ["linear", "rbf"]}
    result = loso_predict(with_ids(features), labels, subjects, search=grid)
    order = sorted(set(subjects.tolist()))
    n_candidates, n_inner = 4, len(order) - 1
    block = n_candidates * n_inner + 1  # inner fits, then the refit on all training subjects
    assert len(recording) == len(order) * block
    for k, subject in enumerate(order):
        fits = recording[k * block : (k + 1) * block]
        test = set(np.flatnonzero(subjects == subject).tolist())
        for seen in fits:
            assert not test & set(seen.tolist()), f"fold {k} fit on a sample of test subject {subject}"
        # inner fits each leave out one training subject; the refit uses all training samples
        assert sorted(len(set(subjects[s].tolist())) for s in fits) == [n_inner - 1] * (block - 1) + [n_inner]
        assert set(fits[-1].tolist()) == set(range(labels.size)) - test
        assert result.params[k]["C"] in (0.1, 1.0)


def chance_bound(n, classes=3):
    """Accuracy that chance exceeds with probability 0.001."""
    return binom.ppf(0.999, n, 1 / classes) / n


def test_subject_identity_without_class_information_gives_chance():
    rng = np.random.default_rng(5)
    n_subjects, per_subject = 12, 12
    subjects = np.repeat(np.arange(1, n_subjects + 1), per_subject)
    labels = np.concatenate([rng.permutation(np.repeat(CLASSES, per_subject // 3)) for _ in range(n_subjects)])
    features = np.eye(n_subjects)[subjects - 1] * 10 + rng.normal(size=(labels.size, n_subjects))
    accuracy = np.mean(loso_predict(features, labels, subjects).predicted == labels)
    assert accuracy <= chance_bound(labels.size)


def test_sample_level_cv_would_exploit_subject_identity():
    # each subject mostly shows one class: features naming the subject then name the class
    rng = np.random.default_rng(6)
    n_subjects, per_subject = 12, 12
    subjects = np.repeat(np.arange(1, n_subjects + 1), per_subject)
    dominant = CLASSES[np.arange(n_subjects) % 3][subjects - 1]
    labels = np.where(rng.random(labels_n := subjects.size) < 0.8, dominant, rng.choice(CLASSES, labels_n))
    features = np.eye(n_subjects)[subjects - 1] * 10 + rng.normal(size=(labels_n, n_subjects))
    leaky = cross_val_predict(
        make_pipeline(StandardScaler(), SVC(kernel="linear")),
        features,
        labels,
        cv=StratifiedKFold(4, shuffle=True, random_state=0),
    )
    honest = loso_predict(features, labels, subjects).predicted
    assert np.mean(leaky == labels) > chance_bound(labels_n) + 0.2
    assert np.mean(honest == labels) <= chance_bound(labels_n)


def test_search_that_saw_the_test_subject_would_exploit_a_leak():
    # features are noise; each subject mostly shows one class; the grid holds three class weights,
    # each making the SVM answer (almost) one class. Choosing on the test subject picks its class.
    rng = np.random.default_rng(7)
    n_subjects = 9
    subjects = np.repeat(np.arange(1, n_subjects + 1), 6)
    labels = np.concatenate([[CLASSES[s % 3]] * 5 + [CLASSES[(s + 1) % 3]] for s in range(n_subjects)])
    features = rng.normal(size=(labels.size, 4))
    grid = {"class_weight": [{c: (100.0 if c == k else 1.0) for c in CLASSES} for k in CLASSES]}

    leaky = np.empty_like(labels)
    for train, test in LeaveOneGroupOut().split(features, labels, subjects):
        candidates = []
        for params in ParameterGrid(grid):
            model = make_pipeline(StandardScaler(), SVC(kernel="linear", C=0.01, **params))
            predicted = model.fit(features[train], labels[train]).predict(features[test])
            candidates.append((np.mean(predicted == labels[test]), predicted))
        leaky[test] = max(candidates, key=lambda c: c[0])[1]
    nested = loso_predict(features, labels, subjects, C=0.01, search=grid).predicted

    assert np.mean(leaky == labels) > chance_bound(labels.size) + 0.2
    assert np.mean(nested == labels) <= chance_bound(labels.size)


def test_loso_is_deterministic():
    features, labels, subjects = make_data(8)
    a = loso_predict(features, labels, subjects, kernel="rbf", search={"C": [0.1, 1.0]})
    b = loso_predict(features, labels, subjects, kernel="rbf", search={"C": [0.1, 1.0]})
    np.testing.assert_array_equal(a.predicted, b.predicted)
    assert a.params == b.params


def test_loso_logs_one_line_per_fold(caplog):
    features, labels, subjects = make_data(9)
    with caplog.at_level("INFO", logger="mesr.evaluate"):
        loso_predict(features, labels, subjects)
    assert sum(r.getMessage().startswith("fold ") for r in caplog.records) == 5


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kernel": "sigmoid"}, "kernel must be one of 'linear', 'rbf', 'poly'"),
        ({"C": 0}, "C must be a finite number > 0"),
        ({"gamma": "big"}, "gamma must be one of 'scale', 'auto'"),
        ({"degree": 0}, "degree must be a positive integer, got 0"),
        ({"class_weight": "even"}, "class_weight must be one of None, 'balanced'"),
        ({"search": {"tol": [1e-3]}}, "search key must be one of"),
        ({"search": {"C": []}}, r"search\['C'\] must be a non-empty list"),
        ({"search": {"C": [1.0, -1.0]}}, r"search\['C'\] must be a finite number > 0"),
    ],
)
def test_loso_rejects_bad_options(kwargs, match):
    features, labels, subjects = make_data(0)
    with pytest.raises(ValueError, match=match):
        loso_predict(features, labels, subjects, **kwargs)


def test_loso_rejects_bad_inputs():
    features, labels, subjects = make_data(0)
    with pytest.raises(ValueError, match="features must be 2-D"):
        loso_predict(features[0], labels, subjects)
    with pytest.raises(ValueError, match="same length"):
        loso_predict(features, labels[:-1], subjects)
    with pytest.raises(ValueError, match="features must be finite"):
        loso_predict(np.where(features > 1, np.nan, features), labels, subjects)
    with pytest.raises(ValueError, match="LOSO needs at least 2 subjects, got 1"):
        loso_predict(features, labels, np.ones_like(subjects))
    two = np.where(subjects == subjects[0], 1, 2)
    with pytest.raises(ValueError, match=r"nested LOSO \(search\) needs at least 3 subjects, got 2"):
        loso_predict(features, labels, two, search={"C": [1.0]})
    single = np.where(subjects == subjects[0], labels, "negative")
    with pytest.raises(ValueError, match="the training subjects hold a single class 'negative'"):
        loso_predict(features, single, subjects)


def test_loso_folds_run_the_subjects_in_natural_order():
    subjects = np.array(["s10", "s2", "s10", "s1", "s2"])
    labels = np.array(["negative", "positive", "surprise", "positive", "negative"])
    folds = list(loso_folds(subjects, labels))
    assert [(k, subject) for k, subject, _, _ in folds] == [(0, "s1"), (1, "s2"), (2, "s10")]
    for _, subject, train, test in folds:
        assert set(test.tolist()) == set(np.flatnonzero(subjects == subject).tolist())
        assert sorted(train.tolist() + test.tolist()) == list(range(subjects.size))
    single = np.array(["negative", "negative", "negative", "positive", "negative"])
    with pytest.raises(
        ValueError, match=r"^flow\.npz: fold 0 \(test subject s1\): the training subjects hold a single"
    ):
        list(loso_folds(subjects, single, source="flow.npz"))


# ------------------------------------------------------------------ metrics and McNemar


def test_metrics_hand_checked():
    true = ["negative", "negative", "negative", "positive", "positive", "surprise"]
    predicted = ["negative", "negative", "positive", "positive", "surprise", "surprise"]
    m = metrics(true, predicted, ["negative", "positive", "surprise"], subjects=[1, 1, 1, 2, 2, 10])
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["recall"] == pytest.approx({"negative": 2 / 3, "positive": 1 / 2, "surprise": 1.0})
    assert m["uar"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    # F1: negative P 1 R 2/3 -> 4/5; positive P 1/2 R 1/2 -> 1/2; surprise P 1/2 R 1 -> 2/3
    assert m["uf1"] == pytest.approx((4 / 5 + 1 / 2 + 2 / 3) / 3)
    assert m["confusion"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert m["labels"] == ["negative", "positive", "surprise"]
    assert m["per_subject"] == {
        "1": {"n": 3, "accuracy": pytest.approx(2 / 3)},
        "2": {"n": 2, "accuracy": 0.5},
        "10": {"n": 1, "accuracy": 1.0},
    }
    assert list(m["per_subject"]) == ["1", "2", "10"]  # numeric subject order
    # pooled 4/6, but the mean of the subjects' accuracies weighs each subject once
    assert m["subject_mean_accuracy"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    json.dumps(m)


def test_metrics_megc_definitions_and_argument_order():
    # MEGC: TP/FP/FN per class over the pooled predictions, truth first.
    # true      a a a a b b c c
    # predicted a a b c b a c c
    # a: TP 2 (clips 1, 2), FN 2 (3 -> b, 4 -> c), FP 1 (6: b -> a): F1 4/7, recall 2/4
    # b: TP 1 (5), FN 1 (6 -> a), FP 1 (3: a -> b): F1 2/4, recall 1/2
    # c: TP 2 (7, 8), FN 0, FP 1 (4: a -> c): F1 4/5, recall 2/2
    # UF1 = (4/7 + 1/2 + 4/5) / 3 = 0.6238; UAR = (1/2 + 1/2 + 1) / 3 = 0.6667.
    # Swapped (predicted first) UAR would be the mean precision (2/3 + 1/2 + 2/3) / 3 = 0.6111.
    true = list("aaaabbcc")
    predicted = list("aabcbacc")
    m = metrics(true, predicted, ["a", "b", "c"])
    assert m["uf1"] == pytest.approx((4 / 7 + 1 / 2 + 4 / 5) / 3) and round(m["uf1"], 4) == 0.6238
    assert m["uar"] == pytest.approx(2 / 3) and round(m["uar"], 4) == 0.6667
    assert m["recall"] == {"a": 0.5, "b": 0.5, "c": 1.0}
    assert m["confusion"] == [[2, 1, 1], [1, 1, 0], [0, 0, 2]]  # rows true, columns predicted
    assert round(metrics(predicted, true, ["a", "b", "c"])["uar"], 4) == 0.6111
    # a class true but never predicted counts F1 0, and recall 0 in UAR
    never = metrics(list("aabbcc"), list("aabbbb"), ["a", "b", "c"])
    assert never["uf1"] == pytest.approx((1 + 2 / 3 + 0) / 3)  # b: TP 2, FP 2, FN 0 -> 4/6
    assert never["uar"] == pytest.approx((1 + 1 + 0) / 3)


def slow_bootstrap(true, predicted, subjects, labels, resamples, seed):
    """The subject-level bootstrap written out: draw subjects, pool their clips, score with metrics()."""
    true, predicted, subjects = map(np.asarray, (true, predicted, subjects))
    names = np.unique(subjects)
    draws = np.random.default_rng(seed).integers(0, names.size, size=(resamples, names.size))
    scores = {"accuracy": [], "uf1": [], "uar": []}
    for draw in draws:
        chosen = np.concatenate([np.flatnonzero(subjects == names[i]) for i in draw])
        m = metrics(true[chosen], predicted[chosen], labels)
        for key in scores:
            scores[key].append(m[key])
    return {key: list(np.percentile(values, [2.5, 97.5])) for key, values in scores.items()}


@pytest.mark.parametrize("seed", [0, 3])
def test_bootstrap_ci_equals_the_slow_reference(seed):
    rng = np.random.default_rng(seed)
    subjects = np.repeat(np.arange(1, 13), rng.integers(2, 12, 12))
    true = rng.choice(CLASSES[:2], subjects.size)  # 'surprise' never true: UAR over the two others, F1 0
    predicted = np.where(rng.random(subjects.size) < 0.6, true, rng.choice(CLASSES, subjects.size))
    ci = bootstrap_ci(true, predicted, subjects, list(CLASSES), resamples=300, seed=seed)
    expected = slow_bootstrap(true, predicted, subjects, list(CLASSES), 300, seed)
    assert list(ci) == ["accuracy", "uf1", "uar"]
    for key in ci:
        assert ci[key] == pytest.approx(expected[key], abs=1e-12)
        point = metrics(true, predicted, list(CLASSES))[key]
        assert ci[key][0] <= point <= ci[key][1]  # the interval covers the point estimate
    assert bootstrap_ci(true, predicted, subjects, list(CLASSES), resamples=300, seed=seed) == ci
    assert bootstrap_ci(true, predicted, subjects, list(CLASSES), resamples=300, seed=seed + 1) != ci


def test_bootstrap_ci_rejects_bad_input():
    with pytest.raises(ValueError, match="same length"):
        bootstrap_ci(["a", "b"], ["a", "b"], [1], ["a", "b"])
    with pytest.raises(ValueError, match="resamples must be a positive integer"):
        bootstrap_ci(["a"], ["a"], [1], ["a"], resamples=0)
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\)"):
        bootstrap_ci(["a"], ["a"], [1], ["a"], level=95)


def test_metrics_class_absent_from_true():
    m = metrics(["a", "a", "b", "b"], ["a", "c", "b", "b"], ["a", "b", "c"])
    assert m["recall"] == {"a": 0.5, "b": 1.0, "c": None}
    assert m["uar"] == pytest.approx(0.75)  # mean recall over the classes that occur
    assert m["uf1"] == pytest.approx((2 / 3 + 1 + 0) / 3)  # F1 a: P 1 R 1/2; c never right
    assert m["confusion"] == [[1, 0, 1], [0, 2, 0], [0, 0, 0]]


def test_metrics_rejects_bad_input():
    with pytest.raises(ValueError, match=r"predicted holds labels not in labels \['a', 'b'\]: \['z'\]"):
        metrics(["a", "b"], ["a", "z"], ["a", "b"])
    with pytest.raises(ValueError, match="true and predicted must have the same length"):
        metrics(["a", "b"], ["a"], ["a", "b"])
    with pytest.raises(ValueError, match="at least one sample"):
        metrics([], [], ["a"])
    with pytest.raises(ValueError, match="distinct classes"):
        metrics(["a"], ["a"], ["a", "a"])


@pytest.mark.parametrize(
    "b, c, expected",
    [
        (0, 5, 0.0625),  # 2 * 0.5**5
        (5, 0, 0.0625),
        (3, 3, 1.0),
        (0, 0, 1.0),
        (1, 9, 2 * (1 + 10) / 1024),
        (2, 4, 44 / 64),  # 2 * (1 + 6 + 15) / 64
    ],
)
def test_mcnemar_exact_hand_computed(b, c, expected):
    both_right, both_wrong = 7, 4  # concordant pairs do not matter
    a = [True] * b + [False] * c + [True] * both_right + [False] * both_wrong
    other = [False] * b + [True] * c + [True] * both_right + [False] * both_wrong
    assert mcnemar_exact(a, other) == pytest.approx(expected, rel=1e-12)
    assert mcnemar_exact(np.array(a, dtype=int), np.array(other, dtype=int)) == pytest.approx(expected)


def test_mcnemar_rejects_bad_input():
    with pytest.raises(ValueError, match="same length"):
        mcnemar_exact([True], [True, False])
    with pytest.raises(ValueError, match="correct_b must hold booleans"):
        mcnemar_exact([True, False], [0.5, 1])


# ------------------------------------------------------------------ evaluate_features files


def write_npz(path, features, labels, subjects, *, drop=None, clip_ids=None):
    clip_ids = (
        clip_ids
        if clip_ids is not None
        else np.array([f"s{s}_{l[:2]}_{i:02d}" for i, (s, l) in enumerate(zip(subjects, labels))])
    )
    arrays = {
        "features": features,
        "clip_id": clip_ids,
        "subject": subjects,
        "label": labels,
        "params": np.array(json.dumps({"descriptor": "lbp_top", "blocks": [8, 8]})),
    }
    arrays.pop(drop, None)
    np.savez(path, **arrays)
    return path


def test_evaluate_features_writes_predictions_and_metrics(tmp_path):
    features, labels, subjects = make_data(10)
    npz = write_npz(tmp_path / "lbp_top.npz", features, labels, subjects)
    out = tmp_path / "evaluation" / "HR128" / "lbp_top"
    summary = evaluate_features(npz, out, C=0.5)

    predictions = pd.read_csv(out / "predictions.tsv", sep="\t")
    assert list(predictions.columns) == ["clip_id", "subject", "true", "predicted", "fold"]
    assert len(predictions) == labels.size
    assert list(predictions["subject"]) == sorted(subjects.tolist())  # sorted by subject then clip id
    for _, group in predictions.groupby("subject"):
        assert list(group["clip_id"]) == sorted(group["clip_id"])
    assert list(predictions["fold"]) == list(np.searchsorted(sorted(set(subjects.tolist())), predictions["subject"]))
    # same predictions as the reference, matched on clip id
    expected, _ = reference_loso(features, labels, subjects, kernel="linear", C=0.5)
    clip_ids = [f"s{s}_{l[:2]}_{i:02d}" for i, (s, l) in enumerate(zip(subjects, labels))]
    assert dict(zip(predictions["clip_id"], predictions["predicted"])) == dict(zip(clip_ids, expected))

    stored = json.loads((out / "metrics.json").read_text())
    assert stored == json.loads(json.dumps(summary))
    assert {"accuracy", "uf1", "uar", "recall", "confusion", "labels", "per_subject"} <= set(stored)
    assert stored["labels"] == ["negative", "positive", "surprise"]
    assert stored["accuracy"] == pytest.approx(np.mean(predictions["true"] == predictions["predicted"]))
    recomputed = metrics(predictions["true"], predictions["predicted"], CLASSES, subjects=predictions["subject"])
    assert {
        k: v for k, v in stored.items() if k not in ("n_subjects", "classifier", "features_params", "ci95", "bootstrap")
    } == json.loads(json.dumps(recomputed))
    assert stored["bootstrap"] == {"resamples": 2000, "seed": 0, "unit": "subject"}
    # the clips in file order give the same intervals: the bootstrap resamples subjects, not rows
    assert stored["ci95"] == bootstrap_ci(
        predictions["true"], predictions["predicted"], predictions["subject"], CLASSES, resamples=2000, seed=0
    )
    assert evaluate_features(npz, tmp_path / "no-ci", C=0.5, bootstrap=0).keys() == stored.keys() - {"ci95"}
    assert stored["n_subjects"] == 5
    assert stored["classifier"]["C"] == 0.5 and stored["classifier"]["kernel"] == "linear"
    assert stored["classifier"]["fold_subjects"] == [3, 6, 9, 12, 15]
    assert stored["features_params"] == {"descriptor": "lbp_top", "blocks": [8, 8]}
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "predictions.tsv"]  # no temporaries


def test_evaluate_features_ignores_input_order_and_is_deterministic(tmp_path):
    features, labels, subjects = make_data(11)
    order = np.random.default_rng(0).permutation(labels.size)
    clip_ids = np.array([f"c{i:03d}" for i in range(labels.size)])
    first = write_npz(tmp_path / "a.npz", features, labels, subjects, clip_ids=clip_ids)
    shuffled = write_npz(tmp_path / "b.npz", features[order], labels[order], subjects[order], clip_ids=clip_ids[order])
    grid = {"C": [0.1, 1.0]}
    evaluate_features(first, tmp_path / "a", search=grid)
    evaluate_features(shuffled, tmp_path / "b", search=grid)
    for name in ("predictions.tsv", "metrics.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    fold_params = json.loads((tmp_path / "a" / "metrics.json").read_text())["classifier"]["fold_params"]
    assert len(fold_params) == 5 and all(p["C"] in (0.1, 1.0) for p in fold_params)


def test_evaluate_features_custom_labels(tmp_path):
    features, labels, subjects = make_data(12)
    npz = write_npz(tmp_path / "x.npz", features, labels, subjects)
    order = ["surprise", "negative", "positive", "other"]
    summary = evaluate_features(npz, tmp_path / "out", labels=order)
    assert summary["labels"] == order and len(summary["confusion"]) == 4
    assert summary["recall"]["other"] is None


def test_evaluate_features_errors(tmp_path):
    features, labels, subjects = make_data(13)
    one = write_npz(tmp_path / "one.npz", features, labels, np.full_like(subjects, 4))
    with pytest.raises(ValueError, match=r"LOSO needs at least two subjects, .*one\.npz has 1"):
        evaluate_features(one, tmp_path / "out")
    missing = write_npz(tmp_path / "missing.npz", features, labels, subjects, drop="subject")
    with pytest.raises(ValueError, match=r"missing\.npz: missing array\(s\) \['subject'\]"):
        evaluate_features(missing, tmp_path / "out")
    odd = write_npz(tmp_path / "odd.npz", features, np.where(labels == "surprise", "happy", labels), subjects)
    with pytest.raises(ValueError, match=r"odd\.npz: 'label' holds classes \['happy'\]"):
        evaluate_features(odd, tmp_path / "out")
    twice = write_npz(tmp_path / "twice.npz", features, labels, subjects, clip_ids=np.array(["c"] * labels.size))
    with pytest.raises(ValueError, match=r"twice\.npz: duplicate clip ids \['c'\]"):
        evaluate_features(twice, tmp_path / "out")
    (tmp_path / "junk.npz").write_text("not an archive")
    with pytest.raises(ValueError, match=r"junk\.npz: cannot read features file"):
        evaluate_features(tmp_path / "junk.npz", tmp_path / "out")
    assert not (tmp_path / "out").exists()
