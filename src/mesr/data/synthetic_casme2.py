"""A synthetic CASME II in the real layout, coding sheet and quirks (docs/data.md#other-datasets).

CASME II cannot be shipped, so tests and demonstrations run on this twin,
read by the real adapter (:mod:`mesr.data.casme2`). Faces and movements are
those of the synthetic SMIC-HS (:mod:`mesr.data.synthetic`): each clip's
motion follows the class its emotion maps to (disgust, repression: negative;
happiness: positive; surprise: surprise; others, fear, sadness: any of the
three, drawn per clip), so the labels are learnable.

What a real copy holds, and so does the twin:

- ``CASME2-coding-20140508.xlsx``, ``Sheet1``, the nine columns in order
  (two with blank headers), apex ``/`` in one row (``sub04/EP12_01f``), a
  few numbers stored as text;
- ``Cropped/sub{NN}/{Filename}/reg_img{n}.jpg`` face crops and
  ``CASME2_RAW_selected/sub{NN}/{Filename}/img{n}.jpg`` full 640x480 frames
  (the face, about 60% of the frame height, on a grey background), JPEG
  quality 95, the same frame numbers in both;
- irregular names (``EP01_2``, ``EP08_1``, ``EP06_02_01``, ``EP09f``), the
  same Filename under several subjects, unpadded frame numbers crossing a
  digit boundary (``reg_img95`` ... ``reg_img104``), clip folders holding a
  few frames beyond onset..offset, a ``Desktop - Shortcut.lnk`` and a
  ``Thumbs.db`` among the frames, one ``others`` clip at least.
"""

import logging

import numpy as np
import openpyxl

from mesr._checks import check_integer, check_option
from mesr.data.synthetic import subject_appearance, render_clip
from mesr.data.twins import apex_index, save_sheet, write_face_crops, write_full_frames
from mesr.io import atomic_dir

__all__ = ["PRESETS", "write_casme2"]

logger = logging.getLogger(__name__)

SHEET_FILE = "CASME2-coding-20140508.xlsx"
#: The nine columns of the real sheet, in order; ``None`` is a blank header.
COLUMNS = (
    "Subject",
    "Filename",
    None,
    "OnsetFrame",
    "ApexFrame",
    "OffsetFrame",
    None,
    "Action Units",
    "Estimated Emotion",
)
#: The movement class of each emotion; ``None``: drawn per clip among the three.
MOTION = {
    "disgust": "negative",
    "repression": "negative",
    "happiness": "positive",
    "surprise": "surprise",
    "others": None,
    "fear": None,
    "sadness": None,
}
_ACTION_UNITS = {
    "negative": ("4", "4+7", "14", "L14"),
    "positive": ("12", "6+12", "R12"),
    "surprise": ("1+2", "1+2+25", "2"),
}

# (subject, Filename, emotion, quirks) of the mini preset. Quirks: "slash" apex "/", "text:<column>" the
# cell stored as text, "boundary" frames crossing 99/100 (disk 93..106, onset 95), "pad" frames on disk
# beyond onset..offset, "lnk" a Desktop - Shortcut.lnk and "thumbs" a Thumbs.db among the frames.
_MINI = (
    (1, "EP02_01f", "happiness", ("text:OnsetFrame", "lnk")),
    (1, "EP01_2", "repression", ()),
    (1, "EP09f", "surprise", ("boundary",)),
    (1, "EP19_05f", "disgust", ("text:ApexFrame",)),
    (2, "EP02_01f", "disgust", ("text:Subject",)),
    (2, "EP08_1", "happiness", ("pad",)),
    (2, "EP06_02_01", "surprise", ("thumbs",)),
    (2, "EP13_04", "others", ()),
    (3, "EP03_02", "repression", ("text:OffsetFrame",)),
    (3, "EP07_01", "happiness", ()),
    (3, "EP15_03f", "surprise", ()),
    (3, "EP01_2", "disgust", ()),
    (4, "EP12_01f", "repression", ("slash",)),
    (4, "EP05_02", "happiness", ()),
    (4, "EP16_04f", "surprise", ("pad",)),
    (4, "EP09f", "fear", ()),
)
# Demo: six clips per subject, names drawn from a pool so that names recur across subjects.
_DEMO_SUBJECTS = (1, 2, 4, 9, 11, 15, 17, 26)
_DEMO_EXTRA = ("happiness", "surprise", "fear", "sadness", "happiness", "surprise", "disgust", "happiness")
_NAMES = (
    "EP02_01f",
    "EP01_2",
    "EP08_1",
    "EP06_02_01",
    "EP09f",
    "EP12_01f",
    "EP19_05f",
    "EP13_04",
    "EP03_02",
    "EP07_01",
    "EP15_03f",
    "EP05_02",
    "EP16_04f",
    "EP11_01",
)

#: Size presets: clip lengths (onset..offset) in frames.
PRESETS = {"mini": {"frames": (10, 14)}, "demo": {"frames": (16, 24)}}
_SHEET_DATE = (2014, 5, 8, 0, 0, 0)  # every date inside the xlsx, so that a seed writes identical bytes


def write_casme2(root, *, preset="mini", seed=0):
    """Write a synthetic CASME II tree under ``root/CASME2/``.

    Parameters
    ----------
    root : path-like
        Destination; ``root/CASME2/`` receives the coding sheet, ``Cropped/``
        and ``CASME2_RAW_selected/``. Written under a temporary name and
        renamed, so a killed run leaves no tree that looks complete.
    preset : {"mini", "demo"}
        ``mini``: 16 clips of 4 subjects (sub01-sub04), 10-14 frames, with
        every quirk listed in the module docstring; ``demo``: 48 clips of 8
        subjects, 6 each (disgust, repression, happiness, surprise, others and
        one more), 16-24 frames.
    seed : int
        Everything (faces, movements, frame numbers, names) follows from it:
        the same seed writes identical files.

    Returns
    -------
    list of str
        The clip ids (``sub{NN}_{Filename}``), in sheet order.

    Raises
    ------
    ValueError
        For an unknown preset or a negative seed.

    Examples
    --------
    >>> write_casme2(tmp_path, preset="mini", seed=0)[:2]  # doctest: +SKIP
    ['sub01_EP02_01f', 'sub01_EP01_2']
    """
    check_option("preset", preset, tuple(PRESETS))
    seed = check_integer("seed", seed, allow_zero=True)
    clips = _MINI if preset == "mini" else _demo_clips(seed)
    with atomic_dir(root) as staging:
        clip_ids = _write_tree(staging / "CASME2", clips, PRESETS[preset]["frames"], seed)
    return clip_ids


def _demo_clips(seed):
    rng = np.random.default_rng([seed, 7])
    clips = []
    for subject, extra in zip(_DEMO_SUBJECTS, _DEMO_EXTRA):
        names = rng.choice(len(_NAMES), 6, replace=False)
        emotions = ("disgust", "repression", "happiness", "surprise", "others", extra)
        clips.extend((subject, _NAMES[i], emotion, ()) for i, emotion in zip(names, emotions))
    return tuple(clips)


def _write_tree(casme, clips, lengths, seed):
    rows = []
    appearances = {}
    for index, (subject, filename, emotion, quirks) in enumerate(clips):
        rng = np.random.default_rng([seed, subject, index])
        if subject not in appearances:
            appearances[subject] = subject_appearance(np.random.default_rng([seed, subject]))
        motion = MOTION[emotion] or str(rng.choice(list(_ACTION_UNITS)))
        n_frames = 10 if "boundary" in quirks else int(rng.integers(lengths[0], lengths[1] + 1))
        before, after = (2, 2) if "boundary" in quirks else (2, 3) if "pad" in quirks else (0, 0)
        first = 93 if "boundary" in quirks else int(rng.integers(1, 300))
        clip = render_clip(appearances[subject], motion, before + n_frames + after, rng)
        onset = first + before
        offset = onset + n_frames - 1
        apex = onset + apex_index(clip[before : before + n_frames])
        folder = f"sub{subject:02d}/{filename}"
        numbers = range(first, first + len(clip))
        write_face_crops(casme / "Cropped" / folder, clip, [f"reg_img{n}.jpg" for n in numbers])
        write_full_frames(casme / "CASME2_RAW_selected" / folder, clip, [f"img{n}.jpg" for n in numbers], rng)
        for name, content in (("lnk", "Desktop - Shortcut.lnk"), ("thumbs", "Thumbs.db")):
            if name in quirks:
                for variant in ("Cropped", "CASME2_RAW_selected"):
                    (casme / variant / folder / content).write_bytes(b"L\x00\x00\x00" + bytes(60))
        values = {
            "Subject": subject,
            "Filename": filename,
            "OnsetFrame": onset,
            "ApexFrame": "/" if "slash" in quirks else apex,
            "OffsetFrame": offset,
            "Action Units": str(rng.choice(_ACTION_UNITS[motion])),
            "Estimated Emotion": emotion,
        }
        for quirk in quirks:
            if quirk.startswith("text:"):
                values[quirk[5:]] = str(values[quirk[5:]])
        rows.append(values)
    _write_sheet(casme / SHEET_FILE, rows)
    logger.info("synthetic CASME II: %d clips of %d subjects", len(rows), len(appearances))
    return [f"sub{int(r['Subject']):02d}_{r['Filename']}" for r in rows]


def _write_sheet(path, rows):
    """The coding sheet as the real one: ``Sheet1``, header in row 1, two blank-header columns."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sheet1"
    sheet.append(list(COLUMNS))
    for values in rows:
        sheet.append([None if column is None else values[column] for column in COLUMNS])
    save_sheet(book, path, _SHEET_DATE)
