"""Face crop of full-frame datasets (docs/degradation.md#face-crop).

SAMM without ``SAMM_CROP/``, CASME II ``variant: raw`` and CAS(ME)^3 come as
full frames: the face fills a part of the frame only, and stretching the whole
frame to 128x128 would describe the background. ``preprocess.face_crop: haar``
finds one box per clip on its onset frame (the clip's first frame) with
OpenCV's bundled frontal-face Haar cascade, enlarges it by
``preprocess.face_margin`` and applies it to every frame of the clip, so the
face does not jitter between frames and the micro-movement stays the only
motion. ``none`` keeps the whole frame; so does ``haar`` for datasets that
ship face crops (``ClipRecord.full_frame`` false).

The box of every clip is recorded in ``results/data/faces.tsv``
(:data:`FACE_COLUMNS`) by the manifest step, where a clip without a face is a
bad clip like any unreadable one.
"""

import functools
import logging
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from mesr._checks import check_option

__all__ = ["FACE_COLUMNS", "FACE_CROPS", "CASCADE_FILE", "crop", "face_region", "find_face", "read_faces"]

logger = logging.getLogger(__name__)

#: Values of ``preprocess.face_crop``.
FACE_CROPS = ("none", "haar")
#: The cascade, from OpenCV's ``cv2.data.haarcascades``.
CASCADE_FILE = "haarcascade_frontalface_default.xml"
#: Columns of ``results/data/faces.tsv``: the region of each clip's frames that becomes HR128, in pixels.
FACE_COLUMNS = ["clip_id", "top", "left", "height", "width"]

# detectMultiScale settings: the usual ones (OpenCV's tutorials), and a face at least a fifth of the frame's
# shorter side, which rules out small false detections in the background of a seated subject's frame.
_SCALE_FACTOR = 1.1
_MIN_NEIGHBOURS = 5
_MIN_FACE = 0.2


@functools.cache
def _cascade():
    path = Path(cv2.data.haarcascades) / CASCADE_FILE
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise RuntimeError(f"{path}: cannot load OpenCV's Haar cascade (is opencv-contrib-python-headless installed?)")
    return cascade


def find_face(frame):
    """The largest frontal face of an RGB frame as ``(top, left, height, width)``, or None when there is none.

    Parameters
    ----------
    frame : numpy.ndarray
        (H, W, 3) uint8 RGB.

    Examples
    --------
    >>> find_face(np.full((240, 320, 3), 128, np.uint8)) is None
    True
    """
    grey = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    side = max(1, round(_MIN_FACE * min(grey.shape)))
    boxes = _cascade().detectMultiScale(
        grey, scaleFactor=_SCALE_FACTOR, minNeighbors=_MIN_NEIGHBOURS, minSize=(side, side)
    )
    if len(boxes) == 0:
        return None
    left, top, width, height = max((tuple(int(v) for v in box) for box in boxes), key=lambda b: b[2] * b[3])
    return top, left, height, width


def face_region(frame, *, method="none", margin=0.1):
    """The region of a clip's onset frame that becomes HR: ``(top, left, height, width)``, or None.

    Parameters
    ----------
    frame : numpy.ndarray
        (H, W, 3) uint8 RGB, the clip's first frame.
    method : {"none", "haar"}
        ``none``: the whole frame. ``haar``: the face :func:`find_face` finds,
        enlarged by ``margin`` times its height (width) above and below (left
        and right), clipped to the frame.
    margin : float
        Fraction of the face box added on each side (>= 0).

    Returns
    -------
    tuple of int or None
        None when ``method`` is ``haar`` and no face is found.

    Raises
    ------
    ValueError
        If ``method`` is unknown or ``margin`` negative.
    """
    check_option("preprocess.face_crop", method, FACE_CROPS)
    if not margin >= 0:
        raise ValueError(f"preprocess.face_margin must be >= 0, got {margin!r}")
    rows, cols = frame.shape[:2]
    if method == "none":
        return 0, 0, rows, cols
    face = find_face(frame)
    if face is None:
        return None
    top, left, height, width = face
    grow_y, grow_x = round(margin * height), round(margin * width)
    top, bottom = max(top - grow_y, 0), min(top + height + grow_y, rows)
    left, right = max(left - grow_x, 0), min(left + width + grow_x, cols)
    return top, left, bottom - top, right - left


def crop(frames, region):
    """``frames[:, top:top + height, left:left + width]`` for ``region = (top, left, height, width)``.

    Raises
    ------
    ValueError
        If the region does not lie inside the frames.
    """
    top, left, height, width = region
    rows, cols = frames.shape[1:3]
    if top < 0 or left < 0 or height < 1 or width < 1 or top + height > rows or left + width > cols:
        raise ValueError(f"face region {tuple(region)} does not lie inside frames of {cols}x{rows}")
    return frames[:, top : top + height, left : left + width]


def read_faces(path):
    """``results/data/faces.tsv`` as ``{clip_id: (top, left, height, width)}``.

    Raises
    ------
    ValueError
        If a column is missing (naming the file and the columns).
    """
    table = pd.read_csv(path, sep="\t", dtype={"clip_id": str})
    missing = [column for column in FACE_COLUMNS if column not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; rebuild the manifest")
    return {row.clip_id: (row.top, row.left, row.height, row.width) for row in table.itertuples()}
