"""Leave-one-subject-out SVM evaluation and its metrics (docs/evaluation.md, Table 2).

Every (set, descriptor) pair is classified by a multi-class SVM under
leave-one-subject-out (LOSO) cross-validation:

* fold ``k`` tests the ``k``-th subject in natural order (``s2`` before
  ``s10``; :func:`loso_folds`, shared with :mod:`mesr.ststnet`), so the fold
  order is fixed;
* the estimator is a ``Pipeline(StandardScaler, SVC)`` cloned per fold, so the
  scaling is fit on the training fold only;
* hyper-parameters are either fixed or chosen by an inner LOSO over the
  training subjects only (nested cross-validation): the outer test subject
  never influences a choice. The inner score is the mean accuracy over the
  inner folds (scikit-learn's ``GridSearchCV`` convention); ties go to the
  first candidate in ``ParameterGrid`` order.

The headline metric is the accuracy pooled over all clips (the paper never
defines its accuracy, and its values are not k/164 for any k, so this is the
study's choice); the mean of the per-subject accuracies, UF1 and UAR (MEGC
standard), per-class recall, the confusion matrix, the per-subject
accuracies and subject-level bootstrap confidence intervals
(:func:`bootstrap_ci`) are stored beside it. :func:`mcnemar_exact` compares
two classifiers on the same clips.

A study may pool the clips of several datasets (the MEGC 2019 composite:
SMIC-HS, CASME II and SAMM), named per clip by the features file's optional
``dataset`` array. The LOSO folds then run over every subject of the study,
and the metrics of each dataset's clips are stored beside the pooled ones
(``per_dataset``). :func:`cross_database` fits on every clip of one dataset
and tests every clip of another; :func:`megc_log` and :func:`write_megc_log`
write predictions in the MEGC log format.

:func:`write_loso_outputs` writes the two files of a LOSO run for any
classifier run over the same folds (e.g. :mod:`mesr.ststnet`).
"""

import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import binom
from sklearn.base import clone
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    recall_score,
)
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from mesr._checks import check_array, check_integer, check_option, check_positive
from mesr.io import check_clip_arrays, load_npz, natural_key, write_text

__all__ = [
    "DEFAULT_LABELS",
    "KERNELS",
    "SEARCH_PARAMETERS",
    "LosoResult",
    "loso_clips",
    "loso_folds",
    "loso_predict",
    "metrics",
    "bootstrap_ci",
    "mcnemar_exact",
    "evaluate_features",
    "write_loso_outputs",
    "cross_database",
    "megc_log",
    "write_megc_log",
    "read_metrics",
]

logger = logging.getLogger(__name__)

#: SMIC-HS classes, in the order of the confusion matrix rows and columns.
DEFAULT_LABELS = ("negative", "positive", "surprise")
#: SVC kernels the study allows.
KERNELS = ("linear", "rbf", "poly")
#: SVC hyper-parameters an inner search may choose.
SEARCH_PARAMETERS = ("C", "gamma", "degree", "kernel", "class_weight")
#: Arrays the features stage writes into its ``.npz``.
_NPZ_ARRAYS = ("features", "clip_id", "subject", "label", "params")


@dataclass(frozen=True)
class LosoResult:
    """Predictions of a LOSO run.

    Attributes
    ----------
    predicted : (N,) ndarray
        Predicted label of every sample, in the input order.
    fold : (N,) ndarray of int
        Index of the fold in which each sample was tested.
    subjects : tuple
        Test subject of each fold, in fold order (sorted subject ids).
    params : tuple of dict
        SVC hyper-parameters used in each fold (the fixed ones, or those the
        inner search chose).
    """

    predicted: np.ndarray
    fold: np.ndarray
    subjects: tuple
    params: tuple


def _check_gamma(gamma):
    if isinstance(gamma, str):
        return check_option("gamma", gamma, ("scale", "auto"))
    return check_positive("gamma", gamma)


def _check_class_weight(class_weight):
    if class_weight is None or isinstance(class_weight, dict):
        return class_weight
    return check_option("class_weight", class_weight, (None, "balanced"))


def _check_search(search):
    if search is None:
        return None
    if not isinstance(search, dict) or not search:
        raise ValueError(f"search must be None or a non-empty dict of lists, got {search!r}")
    checkers = {
        "C": lambda v: check_positive("search['C']", v),
        "gamma": _check_gamma,
        "degree": lambda v: check_integer("search['degree']", v),
        "kernel": lambda v: check_option("search['kernel']", v, KERNELS),
        "class_weight": _check_class_weight,
    }
    grid = {}
    for key, values in search.items():
        check_option("search key", key, SEARCH_PARAMETERS)
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise ValueError(f"search[{key!r}] must be a non-empty list of values, got {values!r}")
        values = list(values)
        if not values:
            raise ValueError(f"search[{key!r}] must be a non-empty list of values, got []")
        for value in values:
            checkers[key](value)
        grid[f"svc__{key}"] = values
    return grid


def _check_classifier(kernel, C, gamma, degree, class_weight, search):
    """Check the SVC settings; return ``degree`` (as int) and the search grid (``None`` without search)."""
    check_option("kernel", kernel, KERNELS)
    check_positive("C", C)
    _check_gamma(gamma)
    degree = check_integer("degree", degree)
    _check_class_weight(class_weight)
    return degree, _check_search(search)


def _make_pipeline(kernel, C, gamma, degree, class_weight):
    """The per-fold estimator: scaling then SVC (SVC is deterministic; random_state fixed anyway)."""
    svc = SVC(kernel=kernel, C=C, gamma=gamma, degree=degree, class_weight=class_weight, random_state=0)
    return Pipeline([("scaler", StandardScaler()), ("svc", svc)])


def _fit(template, grid, features, labels, groups):
    """Fit a clone of ``template``; with a grid, choose by an inner LOSO over ``groups`` and refit on all rows."""
    if grid is None:
        return clone(template).fit(features, labels)
    inner = GridSearchCV(
        clone(template), grid, scoring="accuracy", cv=LeaveOneGroupOut(), refit=True, error_score="raise"
    )
    inner.fit(features, labels, groups=groups)
    return inner.best_estimator_


def _svc_params(estimator):
    params = estimator.named_steps["svc"].get_params()
    return {key: params[key] for key in SEARCH_PARAMETERS}


def loso_predict(
    features, labels, subjects, *, kernel="linear", C=1.0, gamma="scale", degree=3, class_weight=None, search=None
):
    """Predict every sample by leave-one-subject-out cross-validation.

    Parameters
    ----------
    features : (N, D) array_like of float
        One descriptor per sample; must be finite.
    labels : (N,) array_like
        True class of every sample.
    subjects : (N,) array_like
        Subject id of every sample (the LOSO groups).
    kernel : {"linear", "rbf", "poly"}, optional
        SVC kernel.
    C : float, optional
        SVC regularisation, > 0.
    gamma : {"scale", "auto"} or float, optional
        Kernel coefficient of ``rbf`` and ``poly``.
    degree : int, optional
        Degree of the ``poly`` kernel.
    class_weight : None, "balanced" or dict, optional
        SVC class weights.
    search : dict of list, optional
        Grid of SVC hyper-parameters (keys among ``C``, ``gamma``, ``degree``,
        ``kernel``, ``class_weight``), e.g. ``{"C": [0.1, 1, 10]}``, chosen in
        every outer fold by an inner LOSO over the training subjects only
        (mean inner-fold accuracy; ties go to the first candidate of
        ``sklearn.model_selection.ParameterGrid``). Parameters not in the grid
        keep the values given above. ``None`` (default) fixes them.

    Returns
    -------
    LosoResult
        ``predicted`` and ``fold`` per sample, the test subject of each fold
        and the hyper-parameters used in each fold.

    Raises
    ------
    ValueError
        On malformed arguments, fewer than two subjects (three with
        ``search``, so that the inner LOSO has two folds), or a training fold
        holding a single class.

    Examples
    --------
    >>> x = np.array([[0.0], [0.1], [1.0], [1.1], [0.05], [1.05]])
    >>> y = np.array(["a", "a", "b", "b", "a", "b"])
    >>> result = loso_predict(x, y, [1, 1, 2, 2, 3, 3])
    >>> result.predicted.tolist(), result.fold.tolist()
    (['a', 'a', 'b', 'b', 'a', 'b'], [0, 0, 1, 1, 2, 2])
    """
    features = check_array("features", features, ndim=2)
    if features.dtype.kind not in "iuf":
        raise ValueError(f"features must be numeric, got dtype {features.dtype}")
    features = features.astype(np.float64, copy=False)
    if not np.all(np.isfinite(features)):
        raise ValueError("features must be finite, got NaN or infinite values")
    labels = check_array("labels", labels, ndim=1)
    subjects = check_array("subjects", subjects, ndim=1)
    n = features.shape[0]
    if labels.shape[0] != n or subjects.shape[0] != n:
        raise ValueError(
            f"features, labels and subjects must have the same length, got {n}, {labels.shape[0]} "
            f"and {subjects.shape[0]}"
        )
    degree, grid = _check_classifier(kernel, C, gamma, degree, class_weight, search)

    unique_subjects = np.unique(subjects)
    minimum = 2 if grid is None else 3
    if unique_subjects.size < minimum:
        what = "LOSO" if grid is None else "nested LOSO (search)"
        raise ValueError(f"{what} needs at least {minimum} subjects, got {unique_subjects.size}")

    template = _make_pipeline(kernel, C, gamma, degree, class_weight)
    predicted = np.empty(n, dtype=labels.dtype)
    fold = np.full(n, -1, dtype=np.int64)
    fold_subjects, fold_params = [], []
    groups = _natural_ranks(subjects)
    n_folds = unique_subjects.size
    for k, test_subject, train, test in loso_folds(subjects, labels):
        estimator = _fit(template, grid, features[train], labels[train], groups[train])
        predicted[test] = estimator.predict(features[test])
        fold[test] = k
        params = _svc_params(estimator)
        fold_subjects.append(test_subject)
        fold_params.append(params)
        logger.info(
            "fold %d/%d: test subject %s, %d train / %d test samples, accuracy %.4f, params %s",
            k + 1,
            n_folds,
            test_subject,
            train.size,
            test.size,
            float(np.mean(predicted[test] == labels[test])),
            params,
        )
    return LosoResult(predicted=predicted, fold=fold, subjects=tuple(fold_subjects), params=tuple(fold_params))


def metrics(true, predicted, labels, *, subjects=None):
    """Accuracy, UF1, UAR, per-class recall and confusion matrix of predictions.

    Parameters
    ----------
    true, predicted : (N,) array_like
        True and predicted labels, every value one of ``labels``.
    labels : sequence
        All classes, in the order of the confusion matrix rows and columns.
    subjects : (N,) array_like, optional
        Subject of every sample; adds the per-subject accuracies.

    Returns
    -------
    dict
        ``accuracy`` (pooled over all samples), ``uf1`` (macro F1 over all
        ``labels``, 0 for a class never true nor predicted), ``uar``
        (``balanced_accuracy_score``: mean recall over the classes present in
        ``true``), ``recall`` (label -> fraction, ``None`` for a class absent
        from ``true``), ``confusion`` (list of lists, rows true, columns
        predicted), ``labels``, ``n``; with ``subjects`` also ``per_subject``
        (subject as str -> ``{"n", "accuracy"}``, sorted by subject) and
        ``subject_mean_accuracy`` (the unweighted mean of those accuracies).
        All rates are fractions.

    Raises
    ------
    ValueError
        On arrays of different lengths, no samples, duplicate labels or values
        outside ``labels``.

    Examples
    --------
    >>> m = metrics(["a", "a", "b", "b"], ["a", "b", "b", "b"], ["a", "b"])
    >>> m["accuracy"], m["uar"], m["recall"], m["confusion"]
    (0.75, 0.75, {'a': 0.5, 'b': 1.0}, [[1, 1], [0, 2]])
    """
    true = check_array("true", true, ndim=1)
    predicted = check_array("predicted", predicted, ndim=1)
    if true.shape != predicted.shape:
        raise ValueError(f"true and predicted must have the same length, got {true.size} and {predicted.size}")
    if true.size == 0:
        raise ValueError("true and predicted must hold at least one sample, got 0")
    labels = list(labels)
    if not labels or len(set(labels)) != len(labels):
        raise ValueError(f"labels must be a non-empty list of distinct classes, got {labels!r}")
    for name, values in (("true", true), ("predicted", predicted)):
        unknown = sorted(set(values.tolist()) - set(labels), key=str)
        if unknown:
            raise ValueError(f"{name} holds labels not in labels {labels!r}: {unknown!r}")

    confusion = confusion_matrix(true, predicted, labels=labels)
    support = confusion.sum(axis=1)
    recall = recall_score(true, predicted, labels=labels, average=None, zero_division=0)
    with warnings.catch_warnings():
        # a class predicted but never true is ignored by UAR, which is what we want
        warnings.simplefilter("ignore", UserWarning)
        uar = balanced_accuracy_score(true, predicted)
    result = {
        "accuracy": float(accuracy_score(true, predicted)),
        "uf1": float(f1_score(true, predicted, labels=labels, average="macro", zero_division=0)),
        "uar": float(uar),
        "recall": {_json_key(label): (float(r) if s > 0 else None) for label, r, s in zip(labels, recall, support)},
        "confusion": confusion.astype(int).tolist(),
        "labels": [_json_value(label) for label in labels],
        "n": int(true.size),
    }
    if subjects is not None:
        subjects = check_array("subjects", subjects, ndim=1)
        if subjects.shape != true.shape:
            raise ValueError(f"subjects must have the same length as true, got {subjects.size} and {true.size}")
        correct = true == predicted
        result["per_subject"] = {
            _json_key(s): {"n": int(np.sum(subjects == s)), "accuracy": float(np.mean(correct[subjects == s]))}
            for s in sorted(np.unique(subjects), key=natural_key)
        }
        result["subject_mean_accuracy"] = float(np.mean([v["accuracy"] for v in result["per_subject"].values()]))
    return result


def bootstrap_ci(true, predicted, subjects, labels, *, resamples=2000, seed=0, level=0.95):
    """Subject-level bootstrap confidence intervals of accuracy, UF1 and UAR.

    Each resample draws as many subjects as there are, with replacement, and
    pools the clips of the drawn subjects (a subject drawn twice counts
    twice); the metrics of :func:`metrics` are computed on every resample
    from the summed per-subject confusion matrices, and the interval is the
    percentile interval of their distribution. Resampling subjects, not
    clips, keeps the clips of one subject together, as LOSO tests them.

    Parameters
    ----------
    true, predicted, subjects : (N,) array_like
        True and predicted label and subject of every sample.
    labels : sequence
        All classes (UF1 averages over all of them, a class never true nor
        predicted counting 0, as :func:`metrics`).
    resamples : int, optional
        Number of bootstrap resamples.
    seed : int, optional
        Seed of the resampling (``numpy.random.default_rng``).
    level : float, optional
        Coverage of the interval, in (0, 1).

    Returns
    -------
    dict
        ``{"accuracy": [lo, hi], "uf1": [lo, hi], "uar": [lo, hi]}``, fractions.

    Raises
    ------
    ValueError
        On arrays of different lengths, values outside ``labels`` or a bad
        option.

    References
    ----------
    Efron, B. & Tibshirani, R. J. (1993) An Introduction to the Bootstrap,
    Chapman & Hall, doi:10.1201/9780429246593 (ch. 13, percentile interval).

    Examples
    --------
    >>> ci = bootstrap_ci(["a", "a", "b", "b"], ["a", "b", "b", "b"], [1, 1, 2, 2], ["a", "b"], resamples=200)
    >>> sorted(ci)
    ['accuracy', 'uar', 'uf1']
    """
    true = check_array("true", true, ndim=1)
    predicted = check_array("predicted", predicted, ndim=1)
    subjects = check_array("subjects", subjects, ndim=1)
    if not true.shape == predicted.shape == subjects.shape:
        lengths = f"{true.size}, {predicted.size} and {subjects.size}"
        raise ValueError(f"true, predicted and subjects must have the same length, got {lengths}")
    resamples = check_integer("resamples", resamples)
    seed = check_integer("seed", seed, allow_zero=True)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    labels = list(labels)
    names, subject_index = np.unique(subjects, return_inverse=True)
    # one confusion matrix per subject, then one per resample as their weighted sum
    per_subject = np.stack(
        [
            confusion_matrix(true[subject_index == i], predicted[subject_index == i], labels=labels)
            for i in range(names.size)
        ]
    )
    draws = np.random.default_rng(seed).integers(0, names.size, size=(resamples, names.size))
    weights = np.zeros((resamples, names.size))
    np.add.at(weights, (np.arange(resamples)[:, None], draws), 1.0)
    confusion = np.einsum("bs,skl->bkl", weights, per_subject)
    hits = np.diagonal(confusion, axis1=1, axis2=2)
    support, called = confusion.sum(axis=2), confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(support > 0, hits / support, np.nan)
        f1_denominator = support + called
        f1 = np.where(f1_denominator > 0, 2 * hits / f1_denominator, 0.0)
    scores = {
        "accuracy": hits.sum(axis=1) / support.sum(axis=1),
        "uf1": f1.mean(axis=1),
        "uar": np.nanmean(recall, axis=1),
    }
    tail = 100 * (1 - level) / 2
    return {name: [float(v) for v in np.percentile(values, [tail, 100 - tail])] for name, values in scores.items()}


def loso_folds(subjects, labels, *, source=None):
    """The leave-one-subject-out folds, one per subject in natural order (``s2`` before ``s10``).

    Every LOSO classifier of the study (:func:`loso_predict`,
    :func:`mesr.ststnet.ststnet_loso`) runs these folds, so their
    predictions pair clip by clip.

    Parameters
    ----------
    subjects, labels : (N,) ndarray
        Subject and true label of every clip.
    source : path-like, optional
        File the clips come from, named in errors.

    Yields
    ------
    fold : int
        Fold index.
    test_subject : str or int
        The subject held out.
    train, test : ndarray of int
        Indices of the training and test clips.

    Raises
    ------
    ValueError
        When a fold's training subjects hold a single class.
    """
    prefix = "" if source is None else f"{source}: "
    groups = _natural_ranks(subjects)
    for k in range(groups.max() + 1):
        test, train = np.flatnonzero(groups == k), np.flatnonzero(groups != k)
        test_subject = _json_value(subjects[test[0]])
        if np.unique(labels[train]).size < 2:
            raise ValueError(
                f"{prefix}fold {k} (test subject {test_subject}): the training subjects hold a single class "
                f"{_json_value(labels[train][0])!r}; a classifier needs at least two"
            )
        yield k, test_subject, train, test


def loso_clips(path, clip_ids, subjects, true, labels):
    """Checks every LOSO evaluation of a file makes, and the order of its rows.

    The labels must hold every clip's class and the file at least two
    subjects (errors name ``path``); a class with no clip is logged as a
    warning.

    Returns
    -------
    labels : list of str
        ``labels`` as str.
    order : ndarray of int
        Row order by subject then clip id, both in natural order (the
        manifest order, docs/data.md#manifest).
    """
    labels = _check_labels(path, true, labels)
    n_subjects = np.unique(subjects).size
    if n_subjects < 2:
        raise ValueError(
            f"LOSO needs at least two subjects, {path} has {n_subjects} "
            f"(subject {', '.join(map(str, np.unique(subjects).tolist()))}): the dataset cannot be evaluated"
        )
    _warn_absent(path, true, labels)
    return labels, _manifest_order(subjects, clip_ids)


def _natural_ranks(subjects):
    """Each subject's rank in the natural order of the subjects (``s2`` before ``s10``; numbers as numbers)."""
    names = sorted(set(subjects.tolist()), key=natural_key)
    rank = {name: index for index, name in enumerate(names)}
    return np.array([rank[subject] for subject in subjects.tolist()])


def _json_value(value):
    """Plain Python value of a numpy scalar (``json.dumps`` default hook); other values unchanged."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _json_default(value):
    if isinstance(value, (np.generic, np.ndarray)):
        return _json_value(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON: {value!r}")


def _json_key(value):
    return str(_json_value(value))


def mcnemar_exact(correct_a, correct_b):
    """Two-sided exact (binomial) McNemar test on paired correctness.

    Parameters
    ----------
    correct_a, correct_b : (N,) array_like of bool
        Whether classifier A, resp. B, got each sample right (same samples,
        same order).

    Returns
    -------
    float
        ``min(1, 2 * binom.cdf(min(b, c), b + c, 0.5))`` where ``b`` counts
        samples A got right and B wrong, ``c`` the opposite; 1 when
        ``b + c = 0``.

    Raises
    ------
    ValueError
        On arrays of different lengths or non-boolean values.

    References
    ----------
    McNemar, Q. (1947). Note on the sampling error of the difference between
    correlated proportions or percentages. Psychometrika 12, 153-157.
    :doi:`10.1007/BF02295996`

    Examples
    --------
    >>> mcnemar_exact([True] * 5, [False] * 5)
    0.0625
    """
    a = check_array("correct_a", correct_a, ndim=1)
    b_ = check_array("correct_b", correct_b, ndim=1)
    if a.shape != b_.shape:
        raise ValueError(f"correct_a and correct_b must have the same length, got {a.size} and {b_.size}")
    for name, values in (("correct_a", a), ("correct_b", b_)):
        if values.dtype != bool and not np.all(np.isin(values, (0, 1))):
            raise ValueError(f"{name} must hold booleans (or 0/1), got dtype {values.dtype}")
    a, b_ = a.astype(bool), b_.astype(bool)
    b = int(np.sum(a & ~b_))
    c = int(np.sum(~a & b_))
    if b + c == 0:
        return 1.0
    return float(min(1.0, 2.0 * binom.cdf(min(b, c), b + c, 0.5)))


def _read_features(path):
    """Read and check a features ``.npz``.

    Returns ``features, clip_ids, subjects, labels, params, datasets``;
    ``datasets`` is ``None`` when the file has no ``dataset`` array (a file of
    a single, unnamed dataset).
    """
    arrays, datasets = load_npz(path, _NPZ_ARRAYS, what="features")
    features = arrays["features"]
    if features.ndim != 2 or features.dtype.kind not in "iuf":
        raise ValueError(f"{path}: 'features' must be a 2-D numeric array, got {features.dtype} {features.shape}")
    if not np.all(np.isfinite(features)):
        raise ValueError(f"{path}: 'features' holds NaN or infinite values")
    clip_ids, subjects, labels, params, datasets = check_clip_arrays(
        path, arrays, datasets, features.shape[0], like="features"
    )
    return features.astype(np.float64), clip_ids, subjects, labels, params, datasets


def _check_labels(path, true, labels):
    """``labels`` as a list of str; an error names the file if a clip's class is not one of them."""
    labels = [str(label) for label in labels]
    unknown = sorted(set(true.tolist()) - set(labels))
    if unknown:
        raise ValueError(f"{path}: 'label' holds classes {unknown} not in labels {labels}")
    return labels


def _warn_absent(path, true, labels, where=""):
    absent = [label for label in labels if label not in set(true.tolist())]
    if absent:
        logger.warning(
            "%s: no clip%s of class(es) %s; their recall is null and they count 0 in UF1",
            path,
            where,
            ", ".join(absent),
        )


def _manifest_order(subjects, clip_ids):
    """Row order by subject then clip id, both in natural order (the manifest order, docs/data.md#manifest)."""
    order = sorted(range(len(clip_ids)), key=lambda i: (natural_key(subjects[i]), natural_key(clip_ids[i])))
    return np.asarray(order, dtype=np.intp)


def _per_dataset(true, predicted, datasets, subjects, labels):
    """Metrics of each dataset's clips (datasets in natural order of their names), on the study's labels."""
    parts = {}
    for name in sorted(set(datasets.tolist()), key=natural_key):
        rows = datasets == name
        part = metrics(true[rows], predicted[rows], labels)
        parts[name] = {"n": part["n"], "n_subjects": int(np.unique(subjects[rows]).size)}
        parts[name].update({key: part[key] for key in ("accuracy", "uf1", "uar", "recall", "confusion")})
    return parts


def _write_outputs(output_dir, predictions, summary):
    output_dir = Path(output_dir)
    write_text(output_dir / "predictions.tsv", predictions.to_csv(sep="\t", index=False, lineterminator="\n"))
    write_text(output_dir / "metrics.json", json.dumps(summary, indent=2, default=_json_default) + "\n")


def write_loso_outputs(
    output_dir,
    *,
    clip_ids,
    subjects,
    true,
    predicted,
    fold,
    labels,
    classifier,
    features_params,
    datasets=None,
    bootstrap=2000,
    seed=0,
):
    """Write the ``predictions.tsv`` and ``metrics.json`` of a LOSO run, as :func:`evaluate_features` does.

    Any classifier cross-validated over the same folds (e.g. :mod:`mesr.ststnet`)
    writes its results through this function, so that Table 2 and the
    composite tables read them unchanged (docs/evaluation.md#outputs).

    Parameters
    ----------
    output_dir : path-like
        Folder that receives both files (created if needed).
    clip_ids, subjects, true, predicted : (N,) array_like
        Clip id, subject, true and predicted label of every clip, in the
        order of the rows of ``predictions.tsv`` (the manifest order: by
        subject, then clip id, in natural order).
    fold : (N,) array_like of int
        Index of the fold that tested each clip.
    labels : sequence of str
        All classes, in confusion-matrix order.
    classifier : dict
        The ``classifier`` entry of ``metrics.json``: the model, its settings
        and, per fold, the test subject (``fold_subjects``).
    features_params : dict
        The ``features_params`` entry: the settings of the input file.
    datasets : (N,) array_like of str, optional
        Dataset of every clip: adds the ``dataset`` column and, with more
        than one dataset, ``per_dataset``.
    bootstrap : int, optional
        Subject-level bootstrap resamples of ``ci95`` (:func:`bootstrap_ci`);
        0 for none.
    seed : int, optional
        Seed of the bootstrap.

    Returns
    -------
    dict
        The content written to ``metrics.json``: the keys of :func:`metrics`
        (with ``per_subject``), ``per_dataset`` (several datasets only),
        ``ci95`` (``bootstrap`` > 0), ``bootstrap``, ``n_subjects``,
        ``classifier`` and ``features_params``, in that order.

    Raises
    ------
    ValueError
        On a bad ``bootstrap`` or labels outside ``labels`` (:func:`metrics`).

    Notes
    -----
    ``predictions.tsv`` has columns ``clip_id``, ``dataset`` (with
    ``datasets``), ``subject``, ``true``, ``predicted``, ``fold``. Both files
    are written atomically.
    """
    subjects, true, predicted = np.asarray(subjects), np.asarray(true), np.asarray(predicted)
    columns = {"clip_id": clip_ids}
    if datasets is not None:
        datasets = np.asarray(datasets)
        columns["dataset"] = datasets
    columns.update({"subject": subjects, "true": true, "predicted": predicted, "fold": fold})
    predictions = pd.DataFrame(columns)
    summary = metrics(true, predicted, labels, subjects=subjects)
    if datasets is not None and np.unique(datasets).size > 1:
        summary["per_dataset"] = _per_dataset(true, predicted, datasets, subjects, labels)
    bootstrap = check_integer("bootstrap", bootstrap, allow_zero=True)
    if bootstrap:
        summary["ci95"] = bootstrap_ci(true, predicted, subjects, labels, resamples=bootstrap, seed=seed)
    summary["bootstrap"] = {"resamples": bootstrap, "seed": seed, "unit": "subject"}
    summary["n_subjects"] = int(np.unique(subjects).size)
    summary["classifier"] = classifier
    summary["features_params"] = features_params
    _write_outputs(output_dir, predictions, summary)
    return summary


def evaluate_features(
    features_npz,
    output_dir,
    *,
    kernel="linear",
    C=1.0,
    gamma="scale",
    degree=3,
    class_weight=None,
    search=None,
    labels=DEFAULT_LABELS,
    bootstrap=2000,
    seed=0,
):
    """Run the LOSO SVM on one features file and write its predictions and metrics.

    Parameters
    ----------
    features_npz : path-like
        ``.npz`` of the features stage with arrays ``features`` (N, D) float,
        ``clip_id`` (N,) str, ``subject`` (N,) str or int, ``label`` (N,) str,
        ``params`` (a JSON string of the descriptor settings) and, optionally,
        ``dataset`` (N,) str, the dataset of every clip (e.g. ``smic_hs``,
        ``casme2``, ``samm``). A file without ``dataset`` holds one unnamed
        dataset.
    output_dir : path-like
        Folder that receives ``predictions.tsv`` and ``metrics.json``
        (created if needed).
    kernel, C, gamma, degree, class_weight, search
        Classifier settings, as in :func:`loso_predict`.
    labels : sequence of str, optional
        All classes in confusion-matrix order; default the SMIC-HS classes
        ``("negative", "positive", "surprise")``.
    bootstrap : int, optional
        Subject-level bootstrap resamples of the 95% confidence intervals
        (:func:`bootstrap_ci`); 0 for none.
    seed : int, optional
        Seed of the bootstrap.

    Returns
    -------
    dict
        The content written to ``metrics.json``: the keys of :func:`metrics`
        plus ``per_subject``, ``subject_mean_accuracy``, ``per_dataset``
        (only when the file names more than one dataset: dataset ->
        ``{n, n_subjects, accuracy, uf1, uar, recall, confusion}``, the
        metrics of that dataset's clips on the study's ``labels``), ``ci95``
        (``{accuracy, uf1, uar: [lo, hi]}``, with ``bootstrap`` > 0) and
        ``bootstrap`` (resamples and seed), ``classifier`` (settings, and the
        hyper-parameters of every fold), ``features_params`` and
        ``n_subjects``.

    Raises
    ------
    ValueError
        Naming the file: a missing or malformed array, duplicate clip ids,
        labels outside ``labels``, fewer than two subjects, or a subject
        found in two datasets.

    Notes
    -----
    Samples are sorted by subject then clip id (the manifest order, docs/data.md#manifest)
    before the LOSO, so the result does not depend on the order of the file;
    ``predictions.tsv`` (columns ``clip_id, subject, true, predicted, fold``,
    and ``dataset`` after ``clip_id`` when the file has that array) is in
    that order. Both files are written atomically.

    With several datasets the LOSO folds run over every subject of the study
    (subject ids are unique across datasets: a subject found in two datasets
    is an error), so each dataset's metrics in ``per_dataset`` come from the
    same folds as the pooled ones, as the MEGC 2019 composite protocol
    scores them. A single-dataset file gets no ``per_dataset``: it would
    repeat the pooled metrics (docs/evaluation.md).
    """
    path = Path(features_npz)
    features, clip_ids, subjects, true, params, datasets = _read_features(path)
    labels, order = loso_clips(path, clip_ids, subjects, true, labels)
    features, clip_ids, subjects, true = features[order], clip_ids[order], subjects[order], true[order]
    n_datasets = 1 if datasets is None else np.unique(datasets).size
    if datasets is not None:
        datasets = datasets[order]
    logger.info(
        "%s: %d clips, %d subjects, %d dataset(s), %d features",
        path,
        features.shape[0],
        np.unique(subjects).size,
        n_datasets,
        features.shape[1],
    )
    result = loso_predict(
        features,
        true,
        subjects,
        kernel=kernel,
        C=C,
        gamma=gamma,
        degree=degree,
        class_weight=class_weight,
        search=search,
    )

    classifier = {
        "model": "SVC",
        "cv": "leave-one-subject-out (the study's choice: the paper names only training and testing sets)",
        "scaling": "StandardScaler fit on the training fold",
        "kernel": kernel,
        "C": C,
        "gamma": gamma,
        "degree": degree,
        "class_weight": class_weight,
        "search": search,
        "fold_subjects": [_json_value(s) for s in result.subjects],
        "fold_params": [dict(p) for p in result.params],
    }
    summary = write_loso_outputs(
        output_dir,
        clip_ids=clip_ids,
        subjects=subjects,
        true=true,
        predicted=result.predicted,
        fold=result.fold,
        labels=labels,
        datasets=datasets,
        classifier=classifier,
        features_params=params,
        bootstrap=bootstrap,
        seed=seed,
    )
    logger.info("%s: accuracy %.4f, UF1 %.4f, UAR %.4f", path, summary["accuracy"], summary["uf1"], summary["uar"])
    return summary


def cross_database(
    features_npz,
    output_dir,
    *,
    train,
    test,
    kernel="linear",
    C=1.0,
    gamma="scale",
    degree=3,
    class_weight=None,
    search=None,
    labels=DEFAULT_LABELS,
    bootstrap=2000,
    seed=0,
):
    """Fit the SVM on every clip of one dataset, predict every clip of another, write the results.

    Parameters
    ----------
    features_npz : path-like
        ``.npz`` of the features stage, with the ``dataset`` array (see
        :func:`evaluate_features`).
    output_dir : path-like
        Folder that receives ``predictions.tsv`` and ``metrics.json``
        (created if needed).
    train, test : str
        Names of the training and the test dataset, as in the ``dataset``
        array; they must differ.
    kernel, C, gamma, degree, class_weight, search
        Classifier settings, as in :func:`loso_predict`. The scaler is fit on
        the training dataset only; with ``search`` the hyper-parameters are
        chosen by a LOSO over the training dataset's subjects (mean
        inner-fold accuracy, ties to the first candidate), then refit on the
        whole training dataset. The test dataset never influences a choice.
    labels : sequence of str, optional
        All classes in confusion-matrix order (default ``DEFAULT_LABELS``).
    bootstrap : int, optional
        Resamples of the subject-level bootstrap over the test dataset's
        subjects (:func:`bootstrap_ci`); 0 for none.
    seed : int, optional
        Seed of the bootstrap.

    Returns
    -------
    dict
        The content written to ``metrics.json``: the keys of :func:`metrics`
        on the test clips (``accuracy``, ``uf1``, ``uar``, ``recall``,
        ``confusion``, ``labels``, ``n``, ``per_subject``,
        ``subject_mean_accuracy``), ``ci95`` (with ``bootstrap`` > 0),
        ``bootstrap``, ``train``, ``test``, ``n_subjects`` (test subjects),
        ``n_train`` and ``n_train_subjects``, ``classifier`` (settings and
        the hyper-parameters used, ``params``) and ``features_params``.

    Raises
    ------
    ValueError
        ``train`` equal to ``test``; naming the file: no ``dataset`` array, a
        dataset not in the file (the error lists those present), a
        malformed array, labels outside ``labels``, a training dataset of a
        single class, or a class of the test dataset that never occurs in
        the training dataset (the classifier could never predict it, so the
        score would be capped by construction rather than by the features).

    Notes
    -----
    ``predictions.tsv`` has one row per test clip, sorted by subject then
    clip id, columns ``clip_id, dataset, subject, true, predicted``. Both
    files are written atomically (docs/evaluation.md).
    """
    path = Path(features_npz)
    if train == test:
        raise ValueError(
            f"train and test must be different datasets, got {train!r} for both "
            f"(evaluate_features runs the LOSO within a study)"
        )
    features, clip_ids, subjects, true, params, datasets = _read_features(path)
    if datasets is None:
        raise ValueError(
            f"{path}: no 'dataset' array; a cross-database evaluation needs the dataset of every clip "
            f"(re-run the features stage)"
        )
    present = sorted(set(datasets.tolist()), key=natural_key)
    for role, name in (("train", train), ("test", test)):
        if name not in present:
            raise ValueError(f"{path}: no clip of {role} dataset {name!r}; datasets present: {present}")
    labels = _check_labels(path, true, labels)
    degree, grid = _check_classifier(kernel, C, gamma, degree, class_weight, search)
    bootstrap = check_integer("bootstrap", bootstrap, allow_zero=True)

    order = _manifest_order(subjects, clip_ids)
    features, clip_ids, subjects, true, datasets = (a[order] for a in (features, clip_ids, subjects, true, datasets))
    fit, held = datasets == train, datasets == test
    seen = set(true[fit].tolist())
    if len(seen) < 2:
        raise ValueError(
            f"{path}: training dataset {train!r} holds a single class {seen.pop()!r}; an SVM needs at least two"
        )
    unseen = [label for label in labels if label in set(true[held].tolist()) - seen]
    if unseen:
        raise ValueError(
            f"{path}: class(es) {unseen} of test dataset {test!r} never occur in training dataset {train!r}: "
            f"the classifier could never predict them"
        )
    n_train_subjects = np.unique(subjects[fit]).size
    if grid is not None and n_train_subjects < 2:
        raise ValueError(
            f"{path}: the search's inner LOSO needs at least 2 subjects in training dataset {train!r}, "
            f"got {n_train_subjects}"
        )
    _warn_absent(path, true[held], labels, f" in test dataset {test!r}")

    template = _make_pipeline(kernel, C, gamma, degree, class_weight)
    estimator = _fit(template, grid, features[fit], true[fit], _natural_ranks(subjects[fit]))
    predicted = estimator.predict(features[held])
    used = _svc_params(estimator)
    logger.info(
        "%s: trained on %s (%d clips, %d subjects), tested on %s (%d clips), params %s",
        path,
        train,
        int(fit.sum()),
        n_train_subjects,
        test,
        int(held.sum()),
        used,
    )

    predictions = pd.DataFrame(
        {
            "clip_id": clip_ids[held],
            "dataset": datasets[held],
            "subject": subjects[held],
            "true": true[held],
            "predicted": predicted,
        }
    )
    summary = metrics(true[held], predicted, labels, subjects=subjects[held])
    if bootstrap:
        summary["ci95"] = bootstrap_ci(true[held], predicted, subjects[held], labels, resamples=bootstrap, seed=seed)
    summary["bootstrap"] = {"resamples": bootstrap, "seed": seed, "unit": "subject"}
    summary["train"] = train
    summary["test"] = test
    summary["n_subjects"] = int(np.unique(subjects[held]).size)
    summary["n_train"] = int(fit.sum())
    summary["n_train_subjects"] = int(n_train_subjects)
    summary["classifier"] = {
        "model": "SVC",
        "cv": "cross-database: fit on every clip of the training dataset, tested on every clip of the test dataset"
        + ("" if grid is None else "; search by leave-one-subject-out over the training dataset's subjects"),
        "scaling": "StandardScaler fit on the training dataset",
        "kernel": kernel,
        "C": C,
        "gamma": gamma,
        "degree": degree,
        "class_weight": class_weight,
        "search": search,
        "params": used,
    }
    summary["features_params"] = params
    _write_outputs(output_dir, predictions, summary)
    logger.info(
        "%s: %s -> %s: accuracy %.4f, UF1 %.4f, UAR %.4f",
        path,
        train,
        test,
        summary["accuracy"],
        summary["uf1"],
        summary["uar"],
    )
    return summary


#: Columns of the predictions that the MEGC log reads.
_MEGC_COLUMNS = ("clip_id", "dataset", "subject", "true", "predicted")


def megc_log(predictions, *, labels=DEFAULT_LABELS):
    """Text of predictions in the MEGC log format.

    For each dataset, then each of its subjects, a header line
    ``{dataset} {subject}`` followed by one line ``{clip_id} {true} {predicted}``
    per clip, the classes written as their 0-based index in ``labels``
    (0 negative, 1 positive, 2 surprise with the default labels). Datasets,
    subjects and clips are in natural order of their names (``s2`` before
    ``s10``), whatever the order of the rows.

    Parameters
    ----------
    predictions : pandas.DataFrame, mapping of columns or path-like
        Columns ``clip_id``, ``dataset``, ``subject``, ``true`` and
        ``predicted`` (others are ignored), e.g. a ``predictions.tsv`` of
        :func:`evaluate_features` or :func:`cross_database`; a path is read
        as such a file, every column as text (so subject ``006`` stays
        ``006``).
    labels : sequence of str, optional
        The classes, in index order.

    Returns
    -------
    str
        The log, one line per header or clip, ending in a newline.

    Raises
    ------
    ValueError
        On a missing column, no rows, duplicate labels, a class outside
        ``labels``, or a name that is empty or holds whitespace (the format
        separates fields by spaces).

    Examples
    --------
    >>> rows = {"clip_id": ["s1_ne_01", "s1_po_02"], "dataset": ["smic_hs"] * 2, "subject": ["s1", "s1"],
    ...         "true": ["negative", "positive"], "predicted": ["negative", "surprise"]}
    >>> print(megc_log(rows), end="")
    smic_hs s1
    s1_ne_01 0 0
    s1_po_02 1 2
    """
    if isinstance(predictions, (str, Path)):
        table = pd.read_csv(predictions, sep="\t", dtype=str, keep_default_na=False)
    else:
        table = pd.DataFrame(predictions)
    missing = [column for column in _MEGC_COLUMNS if column not in table.columns]
    if missing:
        raise ValueError(f"predictions lack column(s) {missing}; the MEGC log needs {list(_MEGC_COLUMNS)}")
    if table.empty:
        raise ValueError("predictions hold no clip")
    labels = [str(label) for label in labels]
    if not labels or len(set(labels)) != len(labels):
        raise ValueError(f"labels must be a non-empty list of distinct classes, got {labels!r}")
    text = {column: table[column].astype(str) for column in _MEGC_COLUMNS}
    for column in ("clip_id", "dataset", "subject"):
        bad = ((text[column] == "") | text[column].str.contains(r"\s", regex=True)).to_numpy()
        if bad.any():
            raise ValueError(
                f"predictions column {column!r} holds empty names or names with whitespace "
                f"{sorted(set(text[column][bad].tolist()))!r}; the MEGC log separates fields by spaces"
            )
    text = {column: values.to_numpy(dtype=str) for column, values in text.items()}
    index = {label: i for i, label in enumerate(labels)}
    for column in ("true", "predicted"):
        unknown = sorted(set(text[column].tolist()) - set(labels))
        if unknown:
            raise ValueError(f"predictions column {column!r} holds classes {unknown} not in labels {labels}")
    dataset, subject, clip_id = text["dataset"], text["subject"], text["clip_id"]
    order = sorted(
        range(len(table)), key=lambda i: (natural_key(dataset[i]), natural_key(subject[i]), natural_key(clip_id[i]))
    )
    lines, group = [], None
    for i in order:
        if (dataset[i], subject[i]) != group:
            group = (dataset[i], subject[i])
            lines.append(f"{dataset[i]} {subject[i]}")
        lines.append(f"{clip_id[i]} {index[text['true'][i]]} {index[text['predicted'][i]]}")
    return "\n".join(lines) + "\n"


def write_megc_log(predictions, path, *, labels=DEFAULT_LABELS):
    """Write :func:`megc_log` of ``predictions`` to ``path``, atomically.

    Parameters
    ----------
    predictions : pandas.DataFrame, mapping of columns or path-like
        As in :func:`megc_log`.
    path : path-like
        The log file (its folder is created if needed).
    labels : sequence of str, optional
        The classes, in index order.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    text = megc_log(predictions, labels=labels)
    write_text(path, text)
    return Path(path)


def read_metrics(path):
    """Read a ``metrics.json`` written by :func:`evaluate_features`.

    Parameters
    ----------
    path : path-like
        The file.

    Returns
    -------
    dict
        Its content, holding at least ``accuracy``, ``uf1``, ``uar``,
        ``confusion`` and ``labels``.

    Raises
    ------
    ValueError
        If the file is not JSON or lacks one of those keys (naming the file).
    """
    try:
        content = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON: {error}") from error
    missing = [key for key in _METRICS_KEYS if not isinstance(content, dict) or key not in content]
    if missing:
        raise ValueError(f"{path}: missing key(s) {missing} of an evaluation metrics file")
    return content


#: Keys of ``metrics.json`` that the report stage reads.
_METRICS_KEYS = ("accuracy", "uf1", "uar", "confusion", "labels")
