"""The paper's figures, drawn from result files only (docs/reports.md).

All figures share one style (8 pt text, TrueType fonts embedded in PDFs),
are sized for a two-column paper (3.4 in for one column, 7 in for two) and
are written as PNG (300 dpi) and vector PDF, each carrying its provenance in
the file's metadata.
"""

import json
import logging
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.lines  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mesr.evaluate import read_metrics  # noqa: E402
from mesr.io import atomic_path, load_clip  # noqa: E402
from mesr.quality import quality_means  # noqa: E402
from mesr.report.paper import DATASET_NAMES, DESCRIPTOR_NAMES, MODEL_NAMES, dataset_order, parse_set  # noqa: E402
from mesr.report.provenance import provenance_line  # noqa: E402

__all__ = [
    "COLUMN_WIDTH",
    "PAGE_WIDTH",
    "accuracy_figure",
    "confusion_figure",
    "draw_psnr_accuracy",
    "example_frame",
    "figure6",
    "per_dataset_figure",
    "figure7",
    "psnr_accuracy_figure",
    "save_figure",
    "training_curve_figure",
]

logger = logging.getLogger(__name__)

COLUMN_WIDTH = 3.4  # inches
PAGE_WIDTH = 7.0
_STYLE = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "pdf.fonttype": 42,
    "svg.fonttype": "none",
    "savefig.dpi": 300,
}


def save_figure(figure, outputs, provenance):
    """Save ``figure`` to every path of ``outputs`` (by suffix), atomically, with provenance metadata.

    The PDF carries no creation date, so the same results give the same bytes.
    """
    description = provenance_line(provenance)
    for output in outputs:
        output = Path(output)
        suffix = output.suffix.lower()
        if suffix == ".pdf":
            meta = {"Subject": description, "Keywords": json.dumps(provenance, sort_keys=True), "CreationDate": None}
        elif suffix == ".png":
            meta = {"Description": description, "Software": "mesr"}
        else:
            raise ValueError(f"{output}: unsupported figure format {suffix!r}; use .png or .pdf")
        with atomic_path(output) as tmp:
            figure.savefig(tmp, format=suffix[1:], metadata=meta, bbox_inches="tight", pad_inches=0.02)
    plt.close(figure)


def example_frame(manifest, *, clip_id=None, frame=None):
    """The (clip id, frame index) shown in Figures 6 and 7.

    Parameters
    ----------
    manifest : pandas.DataFrame
        The manifest.
    clip_id : str, optional
        Clip to show; the first clip of the manifest by default.
    frame : int, optional
        Frame index in the clip; the middle frame (near the apex) by default.

    Raises
    ------
    ValueError
        If the clip is not in the manifest or the frame is out of range.
    """
    rows = manifest.set_index("clip_id")
    clip_id = clip_id or rows.index[0]
    if clip_id not in rows.index:
        raise ValueError(f"report.figure_clip: clip {clip_id!r} is not in the manifest")
    n_frames = int(rows.loc[clip_id, "n_frames"])
    frame = n_frames // 2 if frame is None else frame
    if not 0 <= frame < n_frames:
        raise ValueError(f"report.figure_frame: {frame} is outside clip {clip_id} ({n_frames} frames)")
    return clip_id, frame


def figure6(sets, outputs, *, clip_id, frame, provenance, source=None):
    """Figure 6: one HR frame and the same frame in LR64 and LR32, after the source frame and its face crop.

    Parameters
    ----------
    sets : dict
        Set name -> set folder, in display order (e.g. HR128, LR64, LR32).
    outputs : list of path-like
        ``.png`` and ``.pdf`` files to write.
    clip_id, frame
        The frame shown (see :func:`example_frame`).
    provenance : dict
        See :func:`mesr.report.provenance.provenance`.
    source : (numpy.ndarray, tuple), optional
        The frame as the dataset holds it ((H, W, 3) uint8 RGB) and its face
        region ``(top, left, height, width)``: shown first, the region
        outlined, when the frames were face-cropped.
    """
    images = {name: load_clip(Path(folder) / f"{clip_id}.npy")[frame] for name, folder in sets.items()}
    panels = len(images) + (source is not None)
    with plt.rc_context(_STYLE):
        figure, axes = plt.subplots(1, panels, figsize=(COLUMN_WIDTH, COLUMN_WIDTH / panels + 0.3))
        axes = list(np.atleast_1d(axes))
        if source is not None:
            image, (top, left, height, width) = source
            ax = axes.pop(0)
            ax.imshow(image)
            ax.add_patch(Rectangle((left - 0.5, top - 0.5), width, height, fill=False, edgecolor="yellow", lw=0.8))
            ax.set_title(f"source, crop\n{image.shape[1]}×{image.shape[0]}")
            ax.set_axis_off()
        for ax, (name, image) in zip(axes, images.items()):
            # Same displayed size for all: low resolution shows as larger pixels.
            ax.imshow(image, interpolation="nearest")
            ax.set_title(f"{_label(name)}\n{image.shape[1]}×{image.shape[0]}")
            ax.set_axis_off()
        figure.suptitle(f"{clip_id}, frame {frame}", y=0.02, va="bottom", fontsize=6)
        save_figure(figure, outputs, provenance)
    logger.info("figure 6 from %s frame %d", clip_id, frame)


def _label(set_name):
    """'HR128' -> 'HR', 'SR64-esrgan' -> 'SR esrgan'."""
    if set_name.startswith("SR"):
        return "SR " + set_name.split("-", 1)[1]
    return set_name.rstrip("0123456789")


def confusion_figure(metrics_path, outputs, *, title, provenance):
    """Confusion matrix of one (set, descriptor) evaluation, counts and row-normalised shading.

    Parameters
    ----------
    metrics_path : path-like
        ``metrics.json`` of the evaluation (keys ``confusion`` and ``labels``).
    outputs : list of path-like
        ``.png`` and ``.pdf`` files to write.
    title : str
        Shown above the matrix (e.g. "HR128, LBP-TOP").
    provenance : dict
        See :func:`mesr.report.provenance.provenance`.
    """
    content = read_metrics(metrics_path)
    counts = np.asarray(content["confusion"], dtype=float)
    labels = content["labels"]
    totals = counts.sum(axis=1, keepdims=True)
    rates = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    with plt.rc_context(_STYLE):
        figure, ax = plt.subplots(figsize=(COLUMN_WIDTH * 0.62, COLUMN_WIDTH * 0.58))
        ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
        for (row, col), count in np.ndenumerate(counts):
            colour = "white" if rates[row, col] > 0.6 else "black"
            ax.text(col, row, f"{int(count)}", ha="center", va="center", color=colour)
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{title}\naccuracy {100 * content['accuracy']:.1f}%, UF1 {content['uf1']:.2f}")
        save_figure(figure, outputs, provenance)


def _baselines(contents):
    """(chance, majority) accuracy in percent of evaluations sharing their clips: 1/K and the top class's share."""
    content = next(iter(contents))
    counts = np.asarray(content["confusion"], dtype=float).sum(axis=1)
    return 100 / len(content["labels"]), 100 * counts.max() / counts.sum()


def _draw_baselines(ax, contents):
    """Chance and majority-class lines, labelled in the legend."""
    chance, majority = _baselines(contents)
    ax.axhline(chance, color="grey", linewidth=0.8, linestyle=":", label=f"chance (1/{round(100 / chance)})")
    ax.axhline(majority, color="grey", linewidth=0.8, linestyle="--", label=f"majority class ({majority:.1f}%)")


def accuracy_figure(metrics, outputs, *, provenance):
    """LOSO accuracy of every set (rows in the order of Table 2) for each descriptor.

    Bars are the accuracy pooled over all clips; error bars the 95%
    subject-level bootstrap interval of ``metrics.json`` (``ci95``) when it
    has one. The dotted line is chance (1/K, K the number of classes), the
    dashed one the majority-class rate (the share of the most frequent class),
    both from the evaluations' labels.

    Parameters
    ----------
    metrics : dict
        (set, descriptor) -> ``metrics.json`` path; sets in display order.
    outputs : list of path-like
        ``.png`` and ``.pdf`` files to write.
    provenance : dict
        See :func:`mesr.report.provenance.provenance`.
    """
    contents = {key: read_metrics(path) for key, path in metrics.items()}
    sets = list(dict.fromkeys(s for s, _ in metrics))
    descriptors = list(dict.fromkeys(d for _, d in metrics))
    width = 0.8 / len(descriptors)
    with plt.rc_context(_STYLE):
        figure, ax = plt.subplots(figsize=(PAGE_WIDTH * 0.6, 2.4))
        for index, descriptor in enumerate(descriptors):
            shown = [contents.get((s, descriptor)) for s in sets]
            values = np.array([100 * c["accuracy"] if c else np.nan for c in shown])
            bounds = np.array(
                [100 * np.array(c["ci95"]["accuracy"]) if c and "ci95" in c else [np.nan] * 2 for c in shown]
            ).reshape(len(sets), 2)
            errors = np.abs(bounds.T - values)
            positions = np.arange(len(sets)) + (index - (len(descriptors) - 1) / 2) * width
            ax.bar(positions, values, width, label=DESCRIPTOR_NAMES.get(descriptor, descriptor), color=f"C{index}")
            if np.isfinite(errors).any():
                ax.errorbar(positions, values, yerr=errors, fmt="none", ecolor="black", elinewidth=0.6, capsize=1.5)
        _draw_baselines(ax, contents.values())
        ax.set_xticks(range(len(sets)), sets, rotation=35, ha="right")
        ax.set_ylabel("LOSO accuracy (%), pooled")
        ax.set_ylim(0, 100)
        ax.legend(frameon=False, ncols=3, loc="lower center", bbox_to_anchor=(0.5, 1.0))
        ax.spines[["top", "right"]].set_visible(False)
        save_figure(figure, outputs, provenance)


def per_dataset_figure(metrics, outputs, *, provenance):
    """UF1 of every set for the whole study and each of its datasets: grouped bars, one panel per descriptor.

    Parameters
    ----------
    metrics : dict
        (set, descriptor) -> ``metrics.json`` path holding ``per_dataset``
        (docs/evaluation.md#several-datasets); sets in display order.
    outputs : list of path-like
        ``.png`` and ``.pdf`` files to write.
    provenance : dict
        See :func:`mesr.report.provenance.provenance`.
    """
    contents = {key: read_metrics(path) for key, path in metrics.items()}
    sets = list(dict.fromkeys(s for s, _ in metrics))
    descriptors = list(dict.fromkeys(d for _, d in metrics))
    datasets = dataset_order(next(iter(contents.values()))["per_dataset"])
    groups = [(None, "all")] + [(name, DATASET_NAMES.get(name, name)) for name in datasets]
    width = 0.8 / len(groups)
    with plt.rc_context(_STYLE):
        figure, axes = plt.subplots(
            len(descriptors), 1, figsize=(PAGE_WIDTH * 0.6, 1.9 * len(descriptors) + 0.5), sharex=True, squeeze=False
        )
        for ax, descriptor in zip(axes[:, 0], descriptors):
            for index, (dataset, label) in enumerate(groups):
                values = [_uf1(contents.get((name, descriptor)), dataset) for name in sets]
                positions = np.arange(len(sets)) + (index - (len(groups) - 1) / 2) * width
                ax.bar(positions, values, width, label=label, color=f"C{index}")
            ax.set_ylabel(f"UF1, {DESCRIPTOR_NAMES.get(descriptor, descriptor)}")
            ax.set_ylim(0, 1)
            ax.spines[["top", "right"]].set_visible(False)
        axes[0, 0].legend(frameon=False, ncols=len(groups), loc="lower center", bbox_to_anchor=(0.5, 1.0))
        axes[-1, 0].set_xticks(range(len(sets)), sets, rotation=35, ha="right")
        save_figure(figure, outputs, provenance)


def _uf1(content, dataset):
    """UF1 of a metrics.json content for the whole study (dataset None) or one dataset; NaN when absent."""
    if content is None:
        return np.nan
    scores = content if dataset is None else content["per_dataset"].get(dataset, {})
    return scores.get("uf1", np.nan)


def _method_label(set_name):
    """'SR64-psnr_small' -> 'RDN psnr-small', 'LR32' -> 'LR 32 (bicubic)', 'HR128' -> 'HR 128'."""
    kind, resolution, model = parse_set(set_name)
    if kind == "SR":
        return MODEL_NAMES.get(model, model)
    return f"LR {resolution} (bicubic)" if kind == "LR" else f"HR {resolution}"


def figure7(sets, outputs, *, clip_id, frame, provenance):
    """Figure 7: the same frame from every SR set, HR128 first for reference.

    One row per input resolution (SR 64, then SR 32), the sets of a row in
    the order given; HR128, when given, opens the first row. Each panel is
    titled with the method (:data:`mesr.report.paper.MODEL_NAMES`) and the
    resolution, and drawn with ``interpolation="nearest"``.

    Parameters
    ----------
    sets : dict
        Set name -> set folder (``results/sets/{set}``): ``HR128`` and
        ``SR64-{model}``, ``SR32-{model}`` sets, in display order.
    outputs : list of path-like
        ``.png`` and ``.pdf`` files to write.
    clip_id : str
        The clip shown (see :func:`example_frame`).
    frame : int
        Frame index in the clip.
    provenance : dict
        See :func:`mesr.report.provenance.provenance`.

    Raises
    ------
    ValueError
        If ``sets`` holds no SR set or an LR set (Figure 6 shows those), or
        ``frame`` is outside a clip (naming its file).

    Examples
    --------
    >>> figure7({"HR128": "results/sets/HR128", "SR64-esrgan": "results/sets/SR64-esrgan"},
    ...         ["figure7.png", "figure7.pdf"], clip_id="s1_ne_01", frame=10,
    ...         provenance=record)  # doctest: +SKIP
    """
    rows = {64: [], 32: []}
    reference = None
    for name in sets:
        kind, resolution, _ = parse_set(name)
        if kind == "LR":
            raise ValueError(f"sets must hold HR128 and SR sets (LR sets are Figure 6's), got {name!r}")
        if kind == "HR":
            reference = name
        else:
            rows[resolution].append(name)
    rows = [names for names in rows.values() if names]
    if not rows:
        raise ValueError(f"sets must hold at least one SR set, got {list(sets)!r}")
    images = {}
    for name, folder in sets.items():
        path = Path(folder) / f"{clip_id}.npy"
        clip = load_clip(path)
        if not 0 <= frame < len(clip):
            raise ValueError(f"{path}: frame {frame} is outside the clip ({len(clip)} frames)")
        images[name] = clip[frame]
    offset = 1 if reference else 0
    n_rows, n_cols = len(rows), offset + max(len(names) for names in rows)
    panel = min(PAGE_WIDTH / n_cols, 1.4)
    panels = [(0, 0, reference)] if reference else []
    panels += [(r, offset + c, name) for r, names in enumerate(rows) for c, name in enumerate(names)]
    # method names wrap to the panel's width (about 0.6 em a character), so that neighbours never overlap
    characters = max(8, int(panel * 72 / (0.6 * _STYLE["axes.titlesize"])))
    titles = {}
    for _, _, name in panels:
        kind, resolution, _ = parse_set(name)
        subtitle = "reference" if kind == "HR" else f"SR {resolution}"
        titles[name] = f"{textwrap.fill(_method_label(name), characters, break_on_hyphens=False)}\n{subtitle}"
    title_height = 0.15 * max(title.count("\n") + 1 for title in titles.values())  # inches
    height = (panel + title_height) * n_rows + 0.15
    with plt.rc_context(_STYLE):
        figure, axes = plt.subplots(n_rows, n_cols, figsize=(panel * n_cols, height), squeeze=False)
        for ax in axes.flat:
            ax.set_axis_off()
        for row, col, name in panels:
            ax = axes[row, col]
            ax.imshow(images[name], interpolation="nearest")
            ax.set_title(titles[name])
        figure.subplots_adjust(
            left=0.01,
            right=0.99,
            bottom=0.15 / height,
            top=1 - title_height / height,
            wspace=0.08,
            hspace=title_height / panel,
        )
        figure.suptitle(f"{clip_id}, frame {frame}", y=0.0, va="bottom", fontsize=6)
        save_figure(figure, outputs, provenance)
    logger.info("figure 7 from %s frame %d, %d sets", clip_id, frame, len(sets))


_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h", "*", "p")
#: Fill of a descriptor's points: the first filled, the second hollow.
_FILLS = ("full", "none", "left", "bottom")
#: Line styles of the HR128 reference lines, one per descriptor (dotted and dashed are chance and majority).
_REFERENCE_STYLES = ("-", "-.", (0, (6, 1, 1, 1, 1, 1)), (0, (9, 2)))


def psnr_accuracy_figure(quality, metrics, outputs, *, provenance):
    """PSNR (Y) of every set against its LOSO accuracy, one point per (set, descriptor).

    Parameters
    ----------
    quality : dict
        Set name -> quality TSV (``results/quality/{set}.tsv``, see
        :func:`mesr.quality.quality_set`); ``LR64``/``LR32`` are the LR sets
        upscaled bicubically.
    metrics : dict
        (set, descriptor) -> ``metrics.json`` path (key ``accuracy``).
        Pairs whose set has no quality TSV are not points: HR128's are drawn
        as a horizontal reference line per descriptor, others left out, as
        are sets whose mean PSNR is infinite (identical to HR).
    outputs : list of path-like
        ``.png`` and ``.pdf`` files to write.
    provenance : dict
        See :func:`mesr.report.provenance.provenance`.

    Raises
    ------
    ValueError
        If no (set, descriptor) has both a quality TSV and a metrics file,
        or a file is malformed (naming it).

    Notes
    -----
    Each set has its own marker and colour, keyed in the legend beside the
    axes (no label is written on the plot, so none can hide another); a
    descriptor is told by the marker's fill (the first descriptor filled, the
    second hollow), and a set's points stand on one vertical line since its
    descriptors share its PSNR. The dotted line is chance (1/K), the dashed
    one the majority-class rate, the solid ones HR128's accuracy.

    Examples
    --------
    >>> psnr_accuracy_figure({"SR64-esrgan": "results/quality/SR64-esrgan.tsv"},
    ...                      {("SR64-esrgan", "lbp_top"): "results/evaluation/SR64-esrgan/lbp_top/metrics.json"},
    ...                      ["psnr_accuracy.png", "psnr_accuracy.pdf"], provenance=record)  # doctest: +SKIP
    """
    figure = draw_psnr_accuracy(quality, metrics)
    with plt.rc_context(_STYLE):  # savefig reads the dpi and the PDF font type from the style
        save_figure(figure, outputs, provenance)


def draw_psnr_accuracy(quality, metrics):
    """The figure of :func:`psnr_accuracy_figure`, drawn but not saved (for inspection and tests)."""
    psnr = {}
    for name, path in quality.items():
        parse_set(name)
        psnr[name] = quality_means(path)["psnr_y"]
        if not np.isfinite(psnr[name]):
            logger.warning("%s: mean PSNR is infinite, %s left out of the PSNR-accuracy figure", path, name)
    contents = {key: read_metrics(path) for key, path in metrics.items()}
    points = [
        (name, descriptor, psnr[name], 100 * content["accuracy"])
        for (name, descriptor), content in contents.items()
        if np.isfinite(psnr.get(name, np.nan))
    ]
    if not points:
        raise ValueError("no (set, descriptor) has both a quality TSV and a metrics file: nothing to plot")
    descriptors = list(dict.fromkeys(d for _, d, _, _ in points))
    sets = list(dict.fromkeys(n for n, _, _, _ in points))
    with plt.rc_context(_STYLE):
        figure, ax = plt.subplots(figsize=(PAGE_WIDTH * 0.62, 2.6))
        set_handles = []
        for index, name in enumerate(sets):
            style = {"marker": _MARKERS[index % len(_MARKERS)], "color": f"C{index % 10}", "markersize": 4.5}
            chosen = [(d, x, y) for n, d, x, y in points if n == name]
            ys = [y for _, _, y in chosen]
            ax.plot([psnr[name]] * 2, [min(ys), max(ys)], color="grey", linewidth=0.5, zorder=2)
            for descriptor, x, y in chosen:
                ax.plot(
                    [x],
                    [y],
                    linestyle="none",
                    fillstyle=_FILLS[descriptors.index(descriptor) % len(_FILLS)],
                    zorder=3,
                    **style,
                )
            kind, resolution, _ = parse_set(name)
            label = _method_label(name) if kind == "LR" else f"{_method_label(name)} {resolution}"
            set_handles.append(matplotlib.lines.Line2D([], [], linestyle="none", label=label, **style))
        descriptor_handles = [
            matplotlib.lines.Line2D(
                [],
                [],
                linestyle="none",
                marker="o",
                color="black",
                markersize=4.5,
                fillstyle=_FILLS[i % len(_FILLS)],
                label=DESCRIPTOR_NAMES.get(d, d),
            )
            for i, d in enumerate(descriptors)
        ]
        for index, descriptor in enumerate(descriptors):
            hr = contents.get(("HR128", descriptor))
            if hr is not None:
                ax.axhline(
                    100 * hr["accuracy"],
                    color="black",
                    linewidth=0.7,
                    alpha=0.6,
                    linestyle=_REFERENCE_STYLES[index % len(_REFERENCE_STYLES)],
                    label=f"HR128, {DESCRIPTOR_NAMES.get(descriptor, descriptor)}",
                )
        _draw_baselines(ax, contents.values())
        line_handles, _ = ax.get_legend_handles_labels()
        ax.set_xlabel("PSNR on Y against HR128 (dB)")
        ax.set_ylabel("LOSO accuracy (%), pooled")
        ax.margins(x=0.1, y=0.15)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(
            handles=set_handles + descriptor_handles + line_handles,
            frameon=False,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            borderaxespad=0,
            handletextpad=0.3,
            fontsize=6,
        )
    logger.info("PSNR-accuracy figure: %d points of %d sets", len(points), len(sets))
    return figure


def training_curve_figure(curve, outputs, *, title, provenance):
    """Training curve of one model: loss and validation PSNR (with bicubic's) against the step.

    Parameters
    ----------
    curve : path-like
        Training-curve TSV of :func:`mesr.sr.training.train_model` (columns
        step, stage, loss, ..., val_psnr, val_psnr_bicubic; ``NA`` where a
        term does not apply).
    outputs : list of path-like
        ``.png`` and ``.pdf`` files to write.
    title : str
        Shown above the plot (e.g. "esrgan x4").
    provenance : dict
        See :func:`mesr.report.provenance.provenance`.
    """
    rows = pd.read_csv(curve, sep="\t", na_values="NA")
    with plt.rc_context(_STYLE):
        figure, (loss_ax, psnr_ax) = plt.subplots(1, 2, figsize=(PAGE_WIDTH * 0.6, 1.9))
        for stage, group in rows.dropna(subset=["loss"]).groupby("stage", sort=False):
            loss_ax.plot(group.step, group.loss, marker=".", label=f"{stage} stage")
        loss_ax.set_xlabel("step")
        loss_ax.set_ylabel("training loss")
        loss_ax.legend(frameon=False)
        psnr_ax.plot(rows.step, rows.val_psnr, marker=".", label="model")
        psnr_ax.plot(rows.step, rows.val_psnr_bicubic, linestyle="--", color="grey", label="bicubic")
        psnr_ax.set_xlabel("step")
        psnr_ax.set_ylabel("validation PSNR (dB)")
        psnr_ax.legend(frameon=False)
        for ax in (loss_ax, psnr_ax):
            ax.spines[["top", "right"]].set_visible(False)
        figure.suptitle(title)
        save_figure(figure, outputs, provenance)
