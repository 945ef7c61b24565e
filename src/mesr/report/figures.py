"""The paper's figures, drawn from result files only (SPEC §10).

All figures share one style (8 pt text, TrueType fonts embedded in PDFs),
are sized for a two-column paper (3.4 in for one column, 7 in for two) and
are written as PNG (300 dpi) and vector PDF, each carrying its provenance in
the file's metadata.
"""

import json
import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..io import atomic_path, load_clip  # noqa: E402
from .provenance import provenance_line  # noqa: E402

__all__ = ["COLUMN_WIDTH", "PAGE_WIDTH", "example_frame", "figure6", "save_figure"]

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


def figure6(sets, outputs, *, clip_id, frame, provenance):
    """Figure 6: one HR frame and the same frame in LR64 and LR32.

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
    """
    images = {name: load_clip(Path(folder) / f"{clip_id}.npy")[frame] for name, folder in sets.items()}
    with plt.rc_context(_STYLE):
        figure, axes = plt.subplots(1, len(images), figsize=(COLUMN_WIDTH, COLUMN_WIDTH / len(images) + 0.3))
        for ax, (name, image) in zip(np.atleast_1d(axes), images.items()):
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
