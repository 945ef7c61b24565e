"""Tables 1 and 2, the composite and cross-database tables, the trained networks' table, and their md/csv/tex writer.

Everything "ours" is read from ``results/quality/{set}.tsv`` (Table 1,
docs/quality.md) and from ``metrics.json`` and ``predictions.tsv`` files (Table 2,
docs/evaluation.md); the paper's numbers come from :mod:`mesr.report.paper`. Nothing is
hard-coded here.

Cells are strings, formatted for reading: accuracies in percent with two
decimals, PSNR in dB with two decimals, SSIM with four; ``"not run"`` where
the config does not produce a set or its result file is absent, ``"-"``
where a column does not apply (no paper value, no p-value for HR/LR rows) and
``"n.a."`` where a p-value or a difference with the paper cannot be computed
because a set it needs was not run.

Written tables carry their provenance (config hash, git commit, package
versions): a ``Provenance:`` line below the markdown table, ``%`` comment
lines at the top of the ``.tex`` file and ``# `` comment lines at the top of
the ``.csv`` file, which is read back with
``pandas.read_csv(path, comment="#")`` (hence no cell may contain ``#``).
"""

import json
import logging
import math
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from mesr.evaluate import mcnemar_exact, read_metrics
from mesr.io import write_text
from mesr.quality import quality_means
from mesr.report.paper import (
    DATASET_NAMES,
    DESCRIPTOR_NAMES,
    DESCRIPTORS,
    MEGC2019_BASELINE,
    MODEL_NAMES,
    PAPER_MODELS,
    TABLE1,
    TABLE2,
    TABLE2_ROWS,
    dataset_order,
    parse_set,
)

__all__ = [
    "NOT_RUN",
    "NOT_APPLICABLE",
    "UNAVAILABLE",
    "LR_UPSCALED",
    "MAJORITY",
    "majority_baseline",
    "table1_rows",
    "table1",
    "table2_rows",
    "table2",
    "table2_extended",
    "MEGC_BASELINE",
    "megc_table",
    "cross_table",
    "training_table",
    "write_table",
]

logger = logging.getLogger(__name__)

#: Cell of a set the config does not produce, or whose result file is absent.
NOT_RUN = "not run"
#: Cell of a column that does not apply to the row.
NOT_APPLICABLE = "-"
#: Cell of a comparison whose other set was not run.
UNAVAILABLE = "n.a."  # not "n/a", which pandas.read_csv reads as NaN


def table2_rows(sets=(), models=None):
    """Set names of Table 2's rows in the paper's order, extra SR sets appended to their block.

    Parameters
    ----------
    sets : iterable of str, optional
        Sets the config produces; SR sets the paper does not have (e.g.
        ``SR64-bicubic``) become extra rows at the end of their resolution
        block.
    models : sequence of str, optional
        Config model keys; extra rows follow the paper's model order, then this
        order, then the alphabetical order.

    Returns
    -------
    list of str
        ``HR128``; ``SR64-{model}``...; ``SR32-{model}``...; ``LR64``; ``LR32``.

    Raises
    ------
    ValueError
        If a name in ``sets`` is not a set name (docs/layout.md#sets-and-naming).

    Examples
    --------
    >>> table2_rows(["SR64-bicubic", "HR128"])[:6]
    ['HR128', 'SR64-esrgan', 'SR64-psnr_large', 'SR64-psnr_small', 'SR64-noise_cancel', 'SR64-bicubic']
    """
    parsed = {name: parse_set(name) for name in sets}
    order = list(PAPER_MODELS) + [m for m in (models or ()) if m not in PAPER_MODELS]

    def rank(name):
        model = parsed[name][2]
        return (order.index(model) if model in order else len(order), model)

    rows = ["HR128"]
    for resolution in (64, 32):
        paper = [row for row in TABLE2_ROWS if row.startswith(f"SR{resolution}-")]
        extra = [name for name, (kind, res, _) in parsed.items() if kind == "SR" and res == resolution]
        rows += paper + sorted(set(extra) - set(paper), key=rank)
    return rows + ["LR64", "LR32"]


def _existing(files, what):
    """The entries of ``files`` ({key: path}) whose file exists; the others are logged as not run."""
    found = {}
    for key, path in files.items():
        if Path(path).is_file():
            found[key] = Path(path)
        else:
            logger.info("%s: absent, %s shown as %r", path, what(key), NOT_RUN)
    return found


def _check_pairs(files, name):
    """Validate a {(set, descriptor): path} mapping."""
    if not isinstance(files, Mapping):
        raise ValueError(f"{name} must be a mapping {{(set, descriptor): path}}, got {type(files).__name__}")
    for key in files:
        if not (isinstance(key, tuple) and len(key) == 2):
            raise ValueError(f"{name} keys must be (set, descriptor) tuples, got {key!r}")
        parse_set(key[0])


def _read_predictions(path):
    """True and predicted label per clip (indexed by clip_id) of a predictions.tsv."""
    table = pd.read_csv(path, sep="\t", dtype={"clip_id": str, "true": str, "predicted": str})
    missing = [c for c in ("clip_id", "true", "predicted") if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}")
    if table["clip_id"].duplicated().any():
        raise ValueError(f"{path}: duplicate clip ids")
    return table.set_index("clip_id")[["true", "predicted"]].assign(path=str(path))


def _mcnemar(a, b):
    """Exact McNemar p-value of two predictions tables on the clips they share."""
    shared = a.index.intersection(b.index, sort=False)
    if len(shared) != len(a) or len(shared) != len(b):
        logger.warning(
            "McNemar on the %d clips shared by %s (%d) and %s (%d)",
            len(shared),
            a["path"].iloc[0],
            len(a),
            b["path"].iloc[0],
            len(b),
        )
    if len(shared) == 0:
        return None
    a, b = a.loc[shared], b.loc[shared]
    if not np.array_equal(a["true"].to_numpy(), b["true"].to_numpy()):
        raise ValueError(f"{a['path'].iloc[0]} and {b['path'].iloc[0]} disagree on the true labels of shared clips")
    return mcnemar_exact(a["true"] == a["predicted"], b["true"] == b["predicted"])


def _percent(fraction):
    return f"{100 * fraction:.2f}"


def _paper(value):
    return NOT_APPLICABLE if value is None else f"{value:.2f}"


def _p_value(p):
    return UNAVAILABLE if p is None else f"{p:.3g}"


def _row_labels(name):
    kind, resolution, model = parse_set(name)
    method = MODEL_NAMES.get(model, model) if model else NOT_APPLICABLE
    return {"Resolution": f"{kind} {resolution}", "Method": method, "Set": name}


#: Method and Set cells of the majority-class baseline row of Table 2.
MAJORITY = "majority class"


def majority_baseline(confusion):
    """Accuracy, UF1 and UAR of always predicting the most frequent true class.

    Parameters
    ----------
    confusion : (K, K) array_like
        Confusion matrix (rows true classes) of an evaluation: only its row
        sums, the class counts, are used.

    Returns
    -------
    dict
        ``accuracy`` (n of the majority class / n), ``uf1`` (its F1 over K
        classes, the others 0) and ``uar`` (1 / number of classes present).

    Examples
    --------
    >>> majority_baseline([[60, 10, 0], [30, 21, 0], [40, 3, 0]])["accuracy"]
    0.6097560975609756
    """
    counts = np.asarray(confusion, dtype=float).sum(axis=1)
    top, total = counts.max(), counts.sum()
    return {
        "accuracy": top / total,
        "uf1": 2 * top / (top + total) / counts.size,
        "uar": 1 / np.count_nonzero(counts),
    }


def _majority(results, descriptor):
    """The majority baseline of a descriptor's evaluations (they share their clips), or None if none ran."""
    paths = [path for (_, d), path in results.items() if d == descriptor]
    return majority_baseline(read_metrics(paths[0])["confusion"]) if paths else None


def _majority_labels():
    return {"Resolution": NOT_APPLICABLE, "Method": MAJORITY, "Set": NOT_APPLICABLE}


def _interval(bounds):
    return f"[{_percent(bounds[0])}, {_percent(bounds[1])}]"


def _prepare(metrics, models, descriptors):
    descriptors = tuple(descriptors)
    if not descriptors:
        raise ValueError("descriptors must name at least one descriptor, got none")
    _check_pairs(metrics, "metrics")
    rows = table2_rows({name for name, _ in metrics}, models)
    return descriptors, rows, _existing(metrics, lambda key: f"{key[0]} {key[1]}")


def table2(metrics, *, models=None, provenance=None, descriptors=DESCRIPTORS):
    """Table 2: LOSO accuracy per set and descriptor, the paper's values beside ours.

    Parameters
    ----------
    metrics : mapping
        ``{(set, descriptor): path of its metrics.json}`` of every evaluation
        the config produces (its sets are the rows beside the paper's); a
        path whose file is absent is shown as ``"not run"``.
    models : sequence of str, optional
        Config model keys, ordering the extra SR rows (see :func:`table2_rows`).
    provenance : dict, optional
        Config hash, git commit, package versions; kept in ``df.attrs`` for
        :func:`write_table`.
    descriptors : sequence of str, optional
        Descriptor keys, default ``("lbp_top", "lpq_top")``.

    Returns
    -------
    pandas.DataFrame
        One row per set (``Resolution``, ``Method``, ``Set``), then per
        descriptor ``"{name} (ours)"`` and, for the paper's LBP-TOP and
        LPQ-TOP, ``"{name} (paper)"`` (accuracy, %:
        ours pooled over all clips; the paper does not define its own), then
        ``"Li et al. 2019"``; a last row ``"majority class"``: the accuracy
        of always predicting the most frequent class (:func:`majority_baseline`).
        Cells are strings.

    Raises
    ------
    ValueError
        On a malformed set name or metrics file.

    Examples
    --------
    >>> table2({}).loc[0, ["Set", "LBP-TOP (ours)", "LBP-TOP (paper)"]].tolist()
    ['HR128', 'not run', '50.06']
    """
    descriptors, rows, results = _prepare(metrics, models, descriptors)
    records = []
    for name in rows:
        record = _row_labels(name)
        paper = TABLE2.get(name, {})
        for descriptor in descriptors:
            title = DESCRIPTOR_NAMES.get(descriptor, descriptor)
            path = results.get((name, descriptor))
            record[f"{title} (ours)"] = _percent(read_metrics(path)["accuracy"]) if path else NOT_RUN
            if descriptor in DESCRIPTORS:  # the paper's two; the flow methods have no paper column
                record[f"{title} (paper)"] = _paper(paper.get(descriptor))
        record["Li et al. 2019"] = _paper(paper.get("li2019"))
        records.append(record)
    record = _majority_labels()
    for descriptor in descriptors:
        title = DESCRIPTOR_NAMES.get(descriptor, descriptor)
        baseline = _majority(results, descriptor)
        record[f"{title} (ours)"] = _percent(baseline["accuracy"]) if baseline else NOT_RUN
        if descriptor in DESCRIPTORS:
            record[f"{title} (paper)"] = NOT_APPLICABLE
    record["Li et al. 2019"] = NOT_APPLICABLE
    records.append(record)
    frame = pd.DataFrame.from_records(records)
    frame.attrs["provenance"] = provenance
    return frame


def _score(value):
    """A UF1 or UAR cell: a fraction with four decimals, as MEGC reports them."""
    return UNAVAILABLE if value is None else f"{value:.4f}"


#: Set and Descriptor cells of the MEGC 2019 baseline row of the composite table.
MEGC_BASELINE = "MEGC 2019 baseline"


def megc_table(metrics, *, models=None, provenance=None, descriptors=DESCRIPTORS):
    """The composite table: UF1 and UAR of the whole study and of each of its datasets, per set and descriptor.

    Parameters
    ----------
    metrics : mapping
        ``{(set, descriptor): path of its metrics.json}``; every file holds
        ``per_dataset`` (a study of several datasets, docs/evaluation.md#several-datasets).
        A path whose file is absent is shown as ``"not run"``.
    models : sequence of str, optional
        Config model keys, ordering the SR rows (see :func:`table2_rows`).
    provenance : dict, optional
        Kept in ``df.attrs`` for :func:`write_table`.
    descriptors : sequence of str, optional
        Descriptor keys, default ``("lbp_top", "lpq_top")``.

    Returns
    -------
    pandas.DataFrame
        One row per (set, descriptor) that the config produces: ``Set``,
        ``Descriptor``, then ``UF1`` and ``UAR`` of the whole study
        (``"... all"``) and of each dataset (``"UF1 SMIC"``...), pooled over
        the LOSO folds, four decimals. When the study is the MEGC 2019
        composite (SMIC-HS, CASME II, SAMM), a last row holds the
        challenge's LBP-TOP baseline as printed (:data:`MEGC2019_BASELINE`).

    Raises
    ------
    ValueError
        If no metrics file exists, or one has no ``per_dataset`` (naming it).
    """
    descriptors, rows, results = _prepare(metrics, models, descriptors)
    if not results:
        raise ValueError("megc_table needs at least one metrics.json; none exists")
    parts = {}
    for path in results.values():
        content = read_metrics(path)
        if "per_dataset" not in content:
            raise ValueError(f"{path}: no per_dataset (the study holds one dataset); the composite table needs several")
        parts[path] = content
    datasets = dataset_order(next(iter(parts.values()))["per_dataset"])
    columns = [("all", None)] + [(DATASET_NAMES.get(name, name), name) for name in datasets]
    records = []
    for name in rows:
        for descriptor in descriptors:
            if (name, descriptor) not in metrics:
                continue
            record = {"Set": name, "Descriptor": DESCRIPTOR_NAMES.get(descriptor, descriptor)}
            path = results.get((name, descriptor))
            for title, dataset in columns:
                if path is None:
                    record[f"UF1 {title}"] = record[f"UAR {title}"] = NOT_RUN
                    continue
                scores = parts[path] if dataset is None else parts[path]["per_dataset"].get(dataset, {})
                record[f"UF1 {title}"] = _score(scores.get("uf1"))
                record[f"UAR {title}"] = _score(scores.get("uar"))
            records.append(record)
    if set(datasets) == {"smic_hs", "casme2", "samm"}:
        record = {"Set": MEGC_BASELINE, "Descriptor": DESCRIPTOR_NAMES["lbp_top"]}
        for title, dataset in columns:
            uf1, uar = MEGC2019_BASELINE[dataset or "composite"]
            record[f"UF1 {title}"], record[f"UAR {title}"] = _score(uf1), _score(uar)
        records.append(record)
    frame = pd.DataFrame.from_records(records)
    frame.attrs["provenance"] = provenance
    return frame


def cross_table(metrics, *, models=None, provenance=None, descriptors=DESCRIPTORS):
    """The cross-database table: UF1 and UAR of every (train, test) pair, per set and descriptor.

    Parameters
    ----------
    metrics : mapping
        ``{(set, descriptor, train, test): path of its metrics.json}``
        (docs/evaluation.md#several-datasets); an absent file is ``"not run"``.
    models, provenance, descriptors
        As :func:`megc_table`.

    Returns
    -------
    pandas.DataFrame
        One row per (set, descriptor): ``Set``, ``Descriptor``, then per pair
        in the given order ``"UF1 {train} to {test}"`` and ``"UAR ..."``
        (display names), four decimals.

    Raises
    ------
    ValueError
        On a malformed key.
    """
    for key in metrics:
        if not (isinstance(key, tuple) and len(key) == 4):
            raise ValueError(f"metrics keys must be (set, descriptor, train, test) tuples, got {key!r}")
    pairs = list(dict.fromkeys((train, test) for _, _, train, test in metrics))
    evaluations = {(name, descriptor) for name, descriptor, _, _ in metrics}
    descriptors = [d for d in descriptors if any(d == e[1] for e in evaluations)]
    rows = table2_rows({name for name, _ in evaluations}, models)
    results = _existing(metrics, lambda key: f"{key[0]} {key[1]} {key[2]} to {key[3]}")
    records = []
    for name in rows:
        for descriptor in descriptors:
            if (name, descriptor) not in evaluations:
                continue
            record = {"Set": name, "Descriptor": DESCRIPTOR_NAMES.get(descriptor, descriptor)}
            for train, test in pairs:
                title = f"{DATASET_NAMES.get(train, train)} to {DATASET_NAMES.get(test, test)}"
                path = results.get((name, descriptor, train, test))
                content = read_metrics(path) if path else {}
                record[f"UF1 {title}"] = _score(content["uf1"]) if path else NOT_RUN
                record[f"UAR {title}"] = _score(content["uar"]) if path else NOT_RUN
            records.append(record)
    frame = pd.DataFrame.from_records(records)
    frame.attrs["provenance"] = provenance
    return frame


#: Columns of the extended Table 2 per descriptor: (metrics.json key, column); "ci95" columns show its interval.
_EXTENDED_SCORES = (
    ("accuracy", "accuracy"),
    ("ci95:accuracy", "accuracy 95% CI"),
    ("subject_mean_accuracy", "subject-mean accuracy"),
    ("uf1", "UF1"),
    ("ci95:uf1", "UF1 95% CI"),
    ("uar", "UAR"),
    ("ci95:uar", "UAR 95% CI"),
)


def _extended_cell(content, key):
    if content is None:
        return NOT_RUN
    if key.startswith("ci95:"):
        bounds = content.get("ci95", {}).get(key[5:])
        return _interval(bounds) if bounds else NOT_APPLICABLE
    return _percent(content[key]) if key in content else NOT_APPLICABLE


def table2_extended(metrics, predictions, *, models=None, provenance=None, descriptors=DESCRIPTORS):
    """Extended Table 2: accuracy, UF1, UAR and exact McNemar p-values per set and descriptor.

    Parameters are those of :func:`table2`, and:

    predictions : mapping
        ``{(set, descriptor): path of its predictions.tsv}``; the McNemar
        tests read them (a path whose file is absent gives ``"n.a."``).

    Returns
    -------
    pandas.DataFrame
        One row per set (``Resolution``, ``Method``, ``Set``), then per
        descriptor ``"{name} accuracy"`` (pooled), ``"{name} accuracy 95% CI"``,
        ``"{name} subject-mean accuracy"`` (mean of the per-subject
        accuracies), ``"{name} UF1"``, ``"{name} UF1 95% CI"``,
        ``"{name} UAR"``, ``"{name} UAR 95% CI"`` (percent, 2 decimals; the
        intervals are the subject-level bootstrap of ``metrics.json``'s
        ``ci95``, ``"-"`` without one), ``"{name} p vs LR"`` (an ``SR{r}`` set against
        ``LR{r}``) and ``"{name} p vs HR128"``: two-sided exact McNemar
        p-values of paired correctness on the clips both sets share (matched on
        ``clip_id``), 3 significant digits. ``"-"`` for HR/LR rows, ``"n.a."``
        where either set's predictions are absent. A last row
        ``"majority class"`` gives the scores of always predicting the most
        frequent class.

    Raises
    ------
    ValueError
        On a malformed file, or two sets disagreeing on the true label of a
        clip.
    """
    descriptors, rows, results = _prepare(metrics, models, descriptors)
    _check_pairs(predictions, "predictions")
    predictions = _existing(predictions, lambda key: f"predictions of {key[0]} {key[1]}")
    read = {}

    def predictions_of(name, descriptor):
        key = (name, descriptor)
        if key not in read:
            read[key] = _read_predictions(predictions[key]) if key in predictions else None
        return read[key]

    records = []
    for name in rows:
        record = _row_labels(name)
        kind, resolution, _ = parse_set(name)
        for descriptor in descriptors:
            title = DESCRIPTOR_NAMES.get(descriptor, descriptor)
            path = results.get((name, descriptor))
            content = read_metrics(path) if path else None
            for key, column in _EXTENDED_SCORES:
                record[f"{title} {column}"] = _extended_cell(content, key)
            for reference, column in ((f"LR{resolution}", "p vs LR"), ("HR128", "p vs HR128")):
                if kind != "SR":
                    record[f"{title} {column}"] = NOT_APPLICABLE
                    continue
                ours, theirs = predictions_of(name, descriptor), predictions_of(reference, descriptor)
                if content is None:
                    record[f"{title} {column}"] = NOT_RUN
                elif ours is None or theirs is None:
                    record[f"{title} {column}"] = UNAVAILABLE
                else:
                    record[f"{title} {column}"] = _p_value(_mcnemar(ours, theirs))
        records.append(record)
    record = _majority_labels()
    for descriptor in descriptors:
        title = DESCRIPTOR_NAMES.get(descriptor, descriptor)
        baseline = _majority(results, descriptor)
        for key, column in _EXTENDED_SCORES:
            shown = _percent(baseline[key]) if baseline and key in baseline else NOT_APPLICABLE
            record[f"{title} {column}"] = shown if baseline else NOT_RUN
        record[f"{title} p vs LR"] = record[f"{title} p vs HR128"] = NOT_APPLICABLE
    records.append(record)
    frame = pd.DataFrame.from_records(records)
    frame.attrs["provenance"] = provenance
    return frame


# --------------------------------------------------------------------------- Table 1

#: Method shown for the LR rows of Table 1: the LR set upscaled bicubically to 128x128.
LR_UPSCALED = "LR upscaled (bicubic)"

#: Table 1's scores: (column title, key of :func:`mesr.quality.quality_means`, decimals, paper key).
_TABLE1_SCORES = (("PSNR", "psnr_y", 2, "psnr"), ("SSIM", "ssim_y", 4, "ssim"))
_TABLE1_RGB = (("PSNR RGB", "psnr_rgb", 2), ("SSIM RGB", "ssim_rgb", 4))


def table1_rows(sets=(), models=None):
    """Set names of Table 1's rows: the paper's SR rows, extra SR sets in their block, then LR64, LR32.

    Parameters
    ----------
    sets : iterable of str, optional
        Sets the config produces; SR sets the paper does not have (e.g.
        ``SR64-bicubic``) become extra rows at the end of their resolution
        block. ``HR128`` (scored against itself) is never a row.
    models : sequence of str, optional
        Config model keys, ordering the extra rows (as :func:`table2_rows`).

    Returns
    -------
    list of str
        ``SR64-{model}``...; ``SR32-{model}``...; ``LR64``; ``LR32`` (the LR
        sets upscaled bicubically).

    Raises
    ------
    ValueError
        If a name in ``sets`` is not a set name (docs/layout.md#sets-and-naming).

    Examples
    --------
    >>> table1_rows()[3:]
    ['SR64-noise_cancel', 'SR32-esrgan', 'SR32-nesrgan_plus', 'LR64', 'LR32']
    """
    return table2_rows(sets, models)[1:]


def _difference(ours, paper, decimals):
    """``ours`` as displayed (rounded) minus ``paper``, signed; never ``-0.00``."""
    if math.isinf(ours):
        return f"{ours:+}"
    value = round(round(ours, decimals) - paper, decimals) + 0.0
    return f"{value:+.{decimals}f}"


def table1(quality, *, models=None, provenance=None):
    """Table 1: PSNR and SSIM of every SR set (and bicubically upscaled LR set) against HR128.

    Parameters
    ----------
    quality : mapping
        ``{set: path of its quality TSV}`` (written by
        :func:`mesr.quality.quality_set`; ``LR64`` and ``LR32`` are the LR sets
        upscaled bicubically) of every set the config produces; a path whose
        file is absent is shown as ``"not run"``.
    models : sequence of str, optional
        Config model keys, ordering the extra SR rows (see :func:`table1_rows`).
    provenance : dict, optional
        Config hash, git commit, package versions; kept in ``df.attrs`` for
        :func:`write_table`.

    Returns
    -------
    pandas.DataFrame
        One row per set (``Resolution``, ``Method``, ``Set``; LR rows have
        the method ``"LR upscaled (bicubic)"``), then ``PSNR (ours)``,
        ``PSNR (paper)``, ``PSNR (ours - paper)``, ``SSIM (ours)``,
        ``SSIM (paper)``, ``SSIM (ours - paper)`` (on BT.601 Y, border of s
        pixels cropped: the study's choice, the paper does not say, docs/quality.md), then
        ``PSNR RGB (ours)`` and ``SSIM RGB (ours)``. Means over all frames of
        all clips; PSNR in dB with 2 decimals, SSIM with 4. The difference is
        our displayed (rounded) value minus the paper's, signed, so the three
        columns agree to the last digit. Cells are strings: ``"not run"``,
        ``"-"`` (no paper value), ``"n.a."`` (a difference without our value).

    Raises
    ------
    ValueError
        On a malformed set name or quality file.

    Examples
    --------
    >>> table1({}).loc[0, ["Set", "PSNR (ours)", "PSNR (paper)", "SSIM (paper)"]].tolist()
    ['SR64-esrgan', 'not run', '35.79', '0.9826']
    """
    if not isinstance(quality, Mapping):
        raise ValueError(f"quality must be a mapping {{set: path}}, got {type(quality).__name__}")
    for name in quality:
        parse_set(name)
    found = _existing(quality, str)
    records = []
    for name in table1_rows(quality, models):
        record = _row_labels(name)
        if name.startswith("LR"):
            record["Method"] = LR_UPSCALED
        path = found.get(name)
        means = quality_means(path) if path else None
        paper = TABLE1.get(name, {})
        for title, key, decimals, paper_key in _TABLE1_SCORES:
            ours, theirs = (means[key] if means else None), paper.get(paper_key)
            record[f"{title} (ours)"] = NOT_RUN if ours is None else f"{ours:.{decimals}f}"
            record[f"{title} (paper)"] = NOT_APPLICABLE if theirs is None else f"{theirs:.{decimals}f}"
            if theirs is None:
                record[f"{title} (ours - paper)"] = NOT_APPLICABLE
            elif ours is None:
                record[f"{title} (ours - paper)"] = UNAVAILABLE
            else:
                record[f"{title} (ours - paper)"] = _difference(ours, theirs, decimals)
        for title, key, decimals in _TABLE1_RGB:
            record[f"{title} (ours)"] = f"{means[key]:.{decimals}f}" if means else NOT_RUN
        records.append(record)
    frame = pd.DataFrame.from_records(records)
    frame.attrs["provenance"] = provenance
    return frame


def training_table(trained, *, provenance=None):
    """The networks the workflow trained: held-out and validation PSNR beside bicubic upscaling.

    Parameters
    ----------
    trained : sequence of (model, scale, settings, heldout)
        One entry per trained (model key, int scale), in row order, with the
        paths of its ``weights.yaml`` (written by
        :func:`mesr.sr.training.train_model`) and ``heldout.json`` (by
        :func:`mesr.sr.training.heldout_psnr`).
    provenance : dict, optional
        As for :func:`table1`.

    Returns
    -------
    pandas.DataFrame
        One row per network: ``Method``, ``Model``, ``Scale`` (``x2``),
        ``Steps`` (``PSNR + GAN``), ``Held-out PSNR``, ``Held-out bicubic``,
        ``Gain over bicubic`` (dB, signed, from the displayed values) and
        ``Validation PSNR``, ``Validation bicubic`` (RGB PSNR in dB with 2
        decimals, on patches made by the model's own LR operator), and
        ``Perceptual features`` (``random VGG19`` where the GAN stage used
        random features, a demonstration only; ``-`` without a perceptual loss).

    Raises
    ------
    ValueError
        If a file lacks a field the table needs (the message names the file).
    """
    records = []
    for model, scale, settings_path, heldout_path in trained:
        settings = _read_record(settings_path, yaml.safe_load, ("steps", "validation", "perceptual"))
        heldout = _read_record(heldout_path, json.loads, ("psnr", "psnr_bicubic"))
        shown = {
            key: f"{value:.2f}"
            for key, value in (
                ("heldout", heldout["psnr"]),
                ("bicubic", heldout["psnr_bicubic"]),
                ("validation", settings["validation"]["psnr"]),
                ("validation_bicubic", settings["validation"]["psnr_bicubic"]),
            )
        }
        perceptual = settings["perceptual"]
        records.append(
            {
                "Method": MODEL_NAMES.get(model, model),
                "Model": model,
                "Scale": f"x{scale}",
                "Steps": f"{settings['steps']['psnr']} + {settings['steps']['gan']}",
                "Held-out PSNR": shown["heldout"],
                "Held-out bicubic": shown["bicubic"],
                "Gain over bicubic": _difference(heldout["psnr"], float(shown["bicubic"]), 2),
                "Validation PSNR": shown["validation"],
                "Validation bicubic": shown["validation_bicubic"],
                "Perceptual features": NOT_APPLICABLE
                if perceptual is None
                else ("random VGG19" if perceptual["random"] else "ImageNet VGG19"),
            }
        )
    frame = pd.DataFrame.from_records(records, columns=_TRAINING_COLUMNS)
    frame.attrs["provenance"] = provenance
    return frame


_TRAINING_COLUMNS = (
    "Method",
    "Model",
    "Scale",
    "Steps",
    "Held-out PSNR",
    "Held-out bicubic",
    "Gain over bicubic",
    "Validation PSNR",
    "Validation bicubic",
    "Perceptual features",
)


def _read_record(path, parse, fields):
    try:
        record = parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot be read ({error})") from error
    missing = [field for field in fields if not isinstance(record, dict) or field not in record]
    if missing:
        raise ValueError(f"{path}: missing {', '.join(missing)}")
    return record


# --------------------------------------------------------------------------- writers


def _cell(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _provenance_lines(provenance):
    lines = []
    for key, value in provenance.items():
        if isinstance(value, Mapping):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        lines.append(f"{key}: {value}")
    return lines


_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_TEX_PATTERN = re.compile("|".join(re.escape(c) for c in _TEX_SPECIAL))


def _tex(text):
    return _TEX_PATTERN.sub(lambda m: _TEX_SPECIAL[m.group()], text)


def _md(text):
    return text.replace("|", r"\|").replace("\n", " ")


def _numeric(text):
    """Whether a cell is a number or one of this module's placeholders (such columns align right)."""
    if text in ("", NOT_RUN, NOT_APPLICABLE, UNAVAILABLE):
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True


def write_table(df, stem, *, provenance=None, caption=None):
    """Write a table as ``{stem}.md``, ``{stem}.csv`` and ``{stem}.tex``, with its provenance.

    Parameters
    ----------
    df : pandas.DataFrame
        The table; its columns are written, its index is not (keep row labels
        in columns). Cells are written with ``str`` (None and NaN as empty),
        so format numbers beforehand.
    stem : path-like
        Output path without extension, e.g. ``results/tables/table2``.
    provenance : dict, optional
        What the table came from (config hash, git commit, package versions:
        a nested dict is written as ``name version`` pairs). Default:
        ``df.attrs["provenance"]``; one of the two is required.
    caption : str, optional
        One sentence: above the markdown table, in ``\\caption`` of the tex
        table, as a ``# caption:`` line of the csv.

    Returns
    -------
    list of pathlib.Path
        The three files written (each atomically).

    Raises
    ------
    ValueError
        Without provenance, or when a cell or column name contains ``#``
        (the csv comment character).

    Notes
    -----
    Markdown: GitHub pipe table (columns whose cells are all numbers or
    placeholders are right-aligned, others left-aligned) and a ``Provenance:`` line below. CSV: ``# `` comment
    lines (caption, provenance) then the table; read it back with
    ``pandas.read_csv(path, comment="#")``. TeX: ``%`` comment lines, then a
    ``table`` environment holding the caption, a ``\\label{tab:<stem name>}``
    and a booktabs ``tabular`` (needs ``\\usepackage{booktabs}``).
    """
    if provenance is None:
        provenance = df.attrs.get("provenance")
    if not isinstance(provenance, Mapping) or not provenance:
        raise ValueError(f"provenance must be a non-empty dict (config hash, git commit, versions), got {provenance!r}")
    stem = Path(stem)
    columns = [str(c) for c in df.columns]
    cells = [[_cell(v) for v in row] for row in df.itertuples(index=False, name=None)]
    hashed = [text for text in columns + [c for row in cells for c in row] if "#" in text]
    if hashed:
        raise ValueError(f"table cells must not contain '#' (the csv comment character), got {hashed[:3]!r}")
    right = [all(_numeric(row[j]) for row in cells) for j in range(len(columns))]
    caption = " ".join((caption or "").split())
    provenance_lines = _provenance_lines(provenance)

    md = [f"**{_md(caption)}**", ""] if caption else []
    md.append("| " + " | ".join(_md(c) for c in columns) + " |")
    md.append("|" + "|".join("---:" if r else ":---" for r in right) + "|")
    md += ["| " + " | ".join(_md(c) for c in row) + " |" for row in cells]
    md += ["", "Provenance: " + "; ".join(_md(line) for line in provenance_lines), ""]

    csv = [f"# caption: {caption}"] if caption else []
    csv += [f"# {line}" for line in provenance_lines]
    body = pd.DataFrame(cells, columns=columns).to_csv(index=False, lineterminator="\n")

    tex = ["% " + line.replace("\n", " ") for line in ["provenance"] + provenance_lines]
    tex += [r"% needs \usepackage{booktabs}", r"\begin{table}[htbp]", r"\centering"]
    if caption:
        tex.append(rf"\caption{{{_tex(caption)}}}")
    tex.append(rf"\label{{tab:{_tex(stem.name)}}}")
    tex.append(r"\begin{tabular}{" + "".join("r" if r else "l" for r in right) + "}")
    tex += [r"\toprule", " & ".join(_tex(c) for c in columns) + r" \\", r"\midrule"]
    tex += [" & ".join(_tex(c) for c in row) + r" \\" for row in cells]
    tex += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]

    paths = [stem.with_name(stem.name + suffix) for suffix in (".md", ".csv", ".tex")]
    for path, text in zip(paths, ("\n".join(md), "\n".join(csv) + "\n" + body, "\n".join(tex))):
        write_text(path, text)
    return paths
