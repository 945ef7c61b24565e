"""A synthetic CAS(ME)^3 part A in the real layout, label sheet and quirks (docs/data.md#other-datasets).

CAS(ME)^3 cannot be shipped, so tests and demonstrations run on this twin,
read by the real adapter (:mod:`mesr.data.casme3`). Faces and movements are
those of the synthetic SMIC-HS (:mod:`mesr.data.synthetic`): each
micro-expression's motion follows the class its emotion maps to (anger,
disgust, fear, sad: negative; happy: positive; surprise: surprise; others: any
of the three, drawn per clip), so the labels are learnable.

What a real copy holds, and so does the twin:

- ``cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx``, sheet ``label``, header in
  row 1 with the eight columns in order (``emotion`` in lower case), frame
  numbers stored as text in most rows (as ints in a few), ``Others`` and
  ``others`` both, one upper-case ``Filename`` (``J``), one row with offset 0
  (``spNO.2_m``) and one with the apex before the onset (``spNO.10_d``);
- ``part_A/data/part_A/spNO.{k}/{Filename}/color/{n}.jpg``: an intermediate
  folder below ``part_A/``, subjects with non-contiguous numbers (``spNO.1``,
  ``spNO.2``, ``spNO.10``, ``spNO.216``), whole stimulus videos numbered from
  ``1.jpg`` unpadded, longer than their micro-expressions (the face at rest
  before, between and after them), one video holding two micro-expressions
  (``spNO.1_e_62`` and ``spNO.1_e_95``, the second crossing ``99.jpg`` to
  ``100.jpg``), one frame absent inside a micro-expression (``spNO.2_c``);
  full 640x480 frames (the face, about 60% of the frame height, on a
  grey-noise background), JPEG quality 95;
- ``depth/{n}.png`` beside ``color/`` in every video (two 16-bit frames in the
  twin, numbered inside a micro-expression), which the loader must not read.
"""

import logging

import cv2
import numpy as np
import openpyxl

from mesr._checks import check_integer, check_option
from mesr.data.synthetic import render_clip, subject_appearance
from mesr.data.twins import apex_index, save_sheet, write_full_frames
from mesr.io import atomic_dir

__all__ = ["COLUMNS", "PRESETS", "SHEET_FILE", "SUBJECTS_FOLDER", "TOP", "write_casme3"]

logger = logging.getLogger(__name__)

#: The folder ``write_casme3`` writes under its ``root``.
TOP = "CASME3"
SHEET_FILE = "cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx"
#: Where the subject folders are, below ``TOP``: ``part_A`` and an intermediate folder of the copy.
SUBJECTS_FOLDER = "part_A/data/part_A"
#: The eight columns of the real sheet, in order.
COLUMNS = ("Subject", "Filename", "Onset", "Apex", "Offset", "AU", "Objective class", "emotion")
#: The movement class of each emotion (lower case); ``None``: drawn per clip among the three.
MOTION = {
    "anger": "negative",
    "disgust": "negative",
    "fear": "negative",
    "sad": "negative",
    "happy": "positive",
    "surprise": "surprise",
    "others": None,
}
_ACTION_UNITS = {
    "negative": ("4", "4+7", "R14", "L14", "9+10"),
    "positive": ("12", "6+12", "R12"),
    "surprise": ("1+2", "1+2+5", "2"),
}
_OBJECTIVE = {"negative": 4, "positive": 1, "surprise": 2}

# (subject number, Filename, emotion as written, quirks) of the mini preset, in sheet order. Quirks: "onset:<n>"
# a fixed onset (the rows of one video in ascending order), "boundary" a clip of 10 frames from onset 95 (frames
# 99.jpg then 100.jpg), "int" the frame numbers stored as numbers (text otherwise), "offset0" offset 0,
# "apex_before" an apex before the onset, "missing" a frame absent inside onset..offset.
_MINI = (
    (1, "a", "anger", ()),
    (1, "e", "happy", ("onset:62",)),
    (1, "e", "surprise", ("onset:95", "boundary", "int")),
    (1, "J", "Others", ()),
    (2, "b", "disgust", ()),
    (2, "c", "sad", ("missing",)),
    (2, "f", "others", ()),
    (2, "m", "happy", ("offset0",)),
    (10, "a", "fear", ()),
    (10, "d", "surprise", ("apex_before",)),
    (10, "g", "happy", ("int",)),
    (10, "k", "sad", ()),
    (216, "b", "happy", ()),
    (216, "e", "disgust", ()),
    (216, "h", "surprise", ()),
    (216, "l", "anger", ("int",)),
)
_DEMO_SUBJECTS = (1, 2, 3, 10, 11, 39, 77, 216)
_DEMO_EXTRA = ("fear", "sad", "disgust", "happy", "surprise", "anger", "fear", "happy")
_VIDEOS = "abcdefghijklm"

#: Size presets: clip lengths (onset..offset) in frames.
PRESETS = {"mini": {"frames": (10, 14)}, "demo": {"frames": (16, 24)}}
_REST = {"lead": (3, 9), "between": (3, 7), "tail": (2, 6)}  # frames at rest around the micro-expressions
_SENSOR_NOISE = 1.0  # grey levels on the frames at rest, as render_clip's
_DEPTH_SIZE = (48, 64)
_SHEET_DATE = (2022, 1, 1, 0, 0, 0)  # every date inside the xlsx, so that a seed writes identical bytes


def write_casme3(root, *, preset="mini", seed=0):
    """Write a synthetic CAS(ME)^3 part A tree under ``root/CASME3/``.

    Parameters
    ----------
    root : path-like
        Destination; ``root/CASME3/`` receives the label sheet and
        ``part_A/data/part_A/``. Written under a temporary name and renamed,
        so a killed run leaves no tree that looks complete.
    preset : {"mini", "demo"}
        ``mini``: 16 micro-expressions in 15 videos of 4 subjects (spNO.1,
        spNO.2, spNO.10, spNO.216), 10-14 frames, with every quirk listed in
        the module docstring; ``demo``: 48 micro-expressions of 8 subjects, 6
        each (anger, disgust, happy, surprise, others and one more) in 5
        videos (one holding two), 16-24 frames.
    seed : int
        Everything (faces, movements, frame numbers) follows from it: the
        same seed writes identical files.

    Returns
    -------
    list of str
        The clip ids (``{Subject}_{Filename}_{Onset}``), in sheet order.

    Raises
    ------
    ValueError
        For an unknown preset or a negative seed.

    Examples
    --------
    >>> write_casme3(tmp_path, preset="mini", seed=0)[:3]  # doctest: +SKIP
    ['spNO.1_a_5', 'spNO.1_e_62', 'spNO.1_e_95']
    """
    check_option("preset", preset, tuple(PRESETS))
    seed = check_integer("seed", seed, allow_zero=True)
    clips = _MINI if preset == "mini" else _demo_clips(seed)
    with atomic_dir(root) as staging:
        clip_ids = _write_tree(staging / TOP, clips, PRESETS[preset]["frames"], seed)
    return clip_ids


def _demo_clips(seed):
    rng = np.random.default_rng([seed, 13])
    clips = []
    for subject, extra in zip(_DEMO_SUBJECTS, _DEMO_EXTRA):
        videos = sorted(rng.choice(list(_VIDEOS), 5, replace=False).tolist())
        double = int(rng.integers(0, 5))  # the video that holds two micro-expressions
        emotions = ("anger", "disgust", "happy", "surprise", "Others" if subject % 2 else "others", extra)
        for video, emotion in zip(videos[: double + 1] + videos[double:], rng.permutation(emotions)):
            clips.append((subject, video, str(emotion), ()))
    return tuple(clips)


def _write_tree(top, clips, lengths, seed):
    videos = {}  # (subject, Filename) -> indices of its clips, in sheet order
    for index, (subject, filename, _, _) in enumerate(clips):
        videos.setdefault((subject, filename), []).append(index)
    appearances = {}
    rows = [None] * len(clips)
    for number, ((subject, filename), indices) in enumerate(videos.items()):
        if subject not in appearances:
            appearances[subject] = subject_appearance(np.random.default_rng([seed, subject]))
        rng = np.random.default_rng([seed, subject, 1000 + number])
        video_dir = top / SUBJECTS_FOLDER / f"spNO.{subject}" / filename
        frames, annotations, missing = _render_video(
            appearances[subject], [clips[i] for i in indices], lengths, seed, indices, rng
        )
        kept = [n for n in range(1, len(frames) + 1) if n not in missing]
        write_full_frames(video_dir / "color", frames[[n - 1 for n in kept]], [f"{n}.jpg" for n in kept], rng)
        _write_depth(video_dir / "depth", annotations[0]["Onset"], rng)
        for index, values in zip(indices, annotations):
            rows[index] = {"Subject": f"spNO.{subject}", "Filename": filename, **values}
    _write_sheet(top / SHEET_FILE, rows)
    logger.info(
        "synthetic CAS(ME)^3 part A: %d clips in %d videos of %d subjects", len(rows), len(videos), len(appearances)
    )
    return [f"{r['Subject']}_{r['Filename']}_{int(r['Onset'])}" for r in rows]


def _render_video(looks, clips, lengths, seed, indices, video_rng):
    """A whole video: (T, H, W, 3) frames numbered from 1, the sheet cells of its clips, and the absent frames."""
    pieces = []  # the video's frames, in order
    annotations = []
    missing = set()
    size = None
    for position, ((subject, _, emotion, quirks), index) in enumerate(zip(clips, indices)):
        rng = np.random.default_rng([seed, subject, index])
        motion = MOTION[emotion.lower()] or str(rng.choice(list(_ACTION_UNITS)))
        n_frames = 10 if "boundary" in quirks else int(rng.integers(lengths[0], lengths[1] + 1))
        clip = render_clip(looks, motion, n_frames, rng)
        if size is None:
            size = clip.shape[1:3]
        elif clip.shape[1:3] != size:  # one face size per video
            clip = np.stack([cv2.resize(f, size[::-1], interpolation=cv2.INTER_AREA) for f in clip])
        fixed = [int(q.split(":")[1]) for q in quirks if q.startswith("onset:")]
        done = sum(len(p) for p in pieces)
        rest = fixed[0] - 1 - done if fixed else int(video_rng.integers(*_REST["between" if position else "lead"]))
        pieces.append(_at_rest(clip[0], rest, video_rng))
        onset = done + rest + 1
        offset = onset + n_frames - 1
        apex = onset + apex_index(clip)
        pieces.append(clip)
        if "apex_before" in quirks:
            apex = onset - int(rng.integers(2, 6))
        if "missing" in quirks:
            missing.add(next(n for n in range(onset + 2, offset) if n != apex))
        if "offset0" in quirks:
            offset = 0
        values = {
            "Onset": onset,
            "Apex": apex,
            "Offset": offset,
            "AU": str(rng.choice(_ACTION_UNITS[motion])),
            "Objective class": _OBJECTIVE[motion] if MOTION[emotion.lower()] else 7,
            "emotion": emotion,
        }
        if "int" not in quirks:
            values.update({column: str(values[column]) for column in ("Onset", "Apex", "Offset")})
        annotations.append(values)
    pieces.append(_at_rest(pieces[-1][-1], int(video_rng.integers(*_REST["tail"])), video_rng))
    return np.concatenate(pieces), annotations, missing


def _at_rest(frame, count, rng):
    """``count`` frames of the face at rest: ``frame`` with fresh sensor noise on each."""
    noise = _SENSOR_NOISE * rng.standard_normal((count,) + frame.shape, dtype=np.float32)
    return np.clip(np.rint(frame + noise), 0, 255).astype(np.uint8)


def _write_depth(depth_dir, first, rng):
    """Two 16-bit depth frames, ``{first}.png`` and the next, as the depth camera's."""
    depth_dir.mkdir(parents=True)
    for number in (int(first), int(first) + 1):
        depth = rng.integers(600, 1200, _DEPTH_SIZE, dtype=np.uint16)
        if not cv2.imwrite(str(depth_dir / f"{number}.png"), depth):
            raise OSError(f"{depth_dir / f'{number}.png'}: cannot write PNG")


def _write_sheet(path, rows):
    """The label sheet as the real one: ``label``, header in row 1, the eight columns."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "label"
    sheet.append(list(COLUMNS))
    for values in rows:
        sheet.append([values[column] for column in COLUMNS])
    save_sheet(book, path, _SHEET_DATE)
