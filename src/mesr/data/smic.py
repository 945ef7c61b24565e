"""SMIC-HS (docs/data.md#smic-hs-as-received): finding clips, reading frames, the manifest (docs/data.md#manifest).

Layout of the cropped set::

    SMIC_all_cropped/HS/s{N}/micro/{negative|positive|surprise}/s{N}_{ne|po|sur}_{NN}/reg_image{frame}.bmp

Frame numbers are absolute indices of the recording with 5 to 8 digits, so
frames are sorted by the integer in their name, never by string. Subjects and
labels come from the folder names. Anything else beside the layout
(``NIR/``, ``VIS/``, ``non_micro/``, ``Thumbs.db``) is ignored.
"""

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from mesr.io import atomic_path

__all__ = [
    "CLASSES",
    "ClipRecord",
    "find_hs_root",
    "scan_clips",
    "list_frames",
    "read_clip",
    "build_manifest",
    "read_manifest",
    "MANIFEST_COLUMNS",
]

logger = logging.getLogger(__name__)

#: Class folder name -> clip id abbreviation.
CLASSES = {"negative": "ne", "positive": "po", "surprise": "sur"}
MANIFEST_COLUMNS = [
    "clip_id",
    "subject",
    "label",
    "n_frames",
    "first_frame",
    "last_frame",
    "height",
    "width",
    "missing_frames",
    "path",
]
_SUBJECT = re.compile(r"^s(\d+)$")
_FRAME = re.compile(r"^reg_image(\d+)\.bmp$", re.IGNORECASE)
_CLIP = re.compile(r"^s(\d+)_(ne|po|sur)_(\d+)$")


@dataclass(frozen=True)
class ClipRecord:
    """One clip folder found on disk, before its frames are read."""

    clip_id: str
    subject: int
    label: str
    path: Path
    frames: tuple  # absolute frame numbers, ascending
    frame_paths: tuple

    @property
    def missing_frames(self):
        """Frame numbers absent between the first and the last frame."""
        present = set(self.frames)
        return [f for f in range(self.frames[0], self.frames[-1] + 1) if f not in present]


def find_hs_root(root):
    """Return the ``HS`` folder under a SMIC root, ``SMIC_all_cropped`` or ``HS`` itself.

    Raises
    ------
    ValueError
        If no folder of subject directories (``s1`` ...) can be found.
    """
    root = Path(root)
    for candidate in (root, root / "HS", root / "SMIC_all_cropped" / "HS"):
        if candidate.is_dir() and any(_SUBJECT.match(p.name) and p.is_dir() for p in candidate.iterdir()):
            return candidate
    raise ValueError(
        f"{root}: no SMIC-HS tree found; expected subject folders s1, s2, ... in {root}, "
        f"{root / 'HS'} or {root / 'SMIC_all_cropped' / 'HS'}"
    )


def scan_clips(hs_root):
    """List the micro-expression clips of an ``HS`` folder.

    Parameters
    ----------
    hs_root : path-like
        The ``HS`` folder (see :func:`find_hs_root`).

    Returns
    -------
    list of ClipRecord
        Sorted by subject, then clip id. Clip folders without any frame are
        returned with empty ``frames`` so the caller can report them.

    Raises
    ------
    ValueError
        On an unknown class folder, a clip folder whose name does not match its
        subject and class, or the same clip id twice; the message names the path.
    """
    records = []
    for subject_dir in Path(hs_root).iterdir():
        match = _SUBJECT.match(subject_dir.name)
        micro = subject_dir / "micro"
        if not match or not micro.is_dir():
            continue
        subject = int(match.group(1))
        for class_dir in sorted(p for p in micro.iterdir() if p.is_dir()):
            if class_dir.name not in CLASSES:
                raise ValueError(
                    f"{class_dir}: unknown class folder {class_dir.name!r}; expected one of {', '.join(CLASSES)}"
                )
            for clip_dir in sorted(p for p in class_dir.iterdir() if p.is_dir()):
                records.append(_scan_clip(clip_dir, subject, class_dir.name))
    seen = {}
    for record in records:
        if record.clip_id in seen:
            raise ValueError(f"duplicate clip id {record.clip_id}: {seen[record.clip_id]} and {record.path}")
        seen[record.clip_id] = record.path
    return sorted(records, key=lambda r: (r.subject, r.clip_id))


def _scan_clip(clip_dir, subject, label):
    match = _CLIP.match(clip_dir.name)
    if not match or int(match.group(1)) != subject or match.group(2) != CLASSES[label]:
        raise ValueError(
            f"{clip_dir}: clip folder name should be s{subject}_{CLASSES[label]}_NN for subject s{subject}, "
            f"class {label}"
        )
    numbered = list_frames(clip_dir)
    return ClipRecord(
        clip_id=clip_dir.name,
        subject=subject,
        label=label,
        path=clip_dir,
        frames=tuple(n for n, _ in numbered),
        frame_paths=tuple(p for _, p in numbered),
    )


def list_frames(clip_dir):
    """(frame number, path) of the ``reg_image*.bmp`` files of a clip folder, in temporal order.

    Frames are ordered by the integer in their name: widths vary (5 to 8
    digits), so string order would be wrong. Other files are ignored.
    """
    return sorted((int(m.group(1)), p) for p in Path(clip_dir).iterdir() if p.is_file() and (m := _FRAME.match(p.name)))


def read_clip(frame_paths):
    """Read BMP frames into one (T, H, W, 3) uint8 RGB array.

    Greyscale BMPs are expanded to three equal channels.

    Raises
    ------
    ValueError
        If there is no frame, a frame cannot be decoded (truncated, empty, not
        an image), or frames differ in size; the message names the file.
    """
    if not frame_paths:
        raise ValueError("clip has no frame")
    frames = []
    for path in frame_paths:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"{path}: cannot decode image (truncated, empty or not a BMP)")
        if frames and image.shape != frames[0].shape:
            raise ValueError(
                f"{path}: frame is {image.shape[1]}x{image.shape[0]}, other frames of the clip are "
                f"{frames[0].shape[1]}x{frames[0].shape[0]}"
            )
        frames.append(image)
    return np.stack(frames)[..., ::-1].copy()


def build_manifest(root, manifest_path, gaps_path, *, on_bad_clip="fail"):
    """Scan a SMIC-HS tree and write the manifest and the gaps report.

    Every frame is decoded once, so an unreadable file is found here and not
    in a later stage.

    Parameters
    ----------
    root : path-like
        SMIC root, ``SMIC_all_cropped`` or ``HS`` folder.
    manifest_path : path-like
        Output TSV with :data:`MANIFEST_COLUMNS`, one row per clip, sorted by
        subject then clip id.
    gaps_path : path-like
        Output TSV (columns kind, clip_id, detail) listing missing frames,
        clips missing from a numbering sequence, and skipped clips.
    on_bad_clip : {"fail", "skip"}
        What to do with a clip that cannot be read.

    Returns
    -------
    pandas.DataFrame
        The manifest.

    Raises
    ------
    ValueError
        On a bad clip with ``on_bad_clip="fail"``, or when no clip is found.
    """
    if on_bad_clip not in ("fail", "skip"):
        raise ValueError(f"on_bad_clip must be 'fail' or 'skip', got {on_bad_clip!r}")
    hs_root = find_hs_root(root)
    rows, gaps = [], []
    for record in scan_clips(hs_root):
        try:
            if not record.frames:
                raise ValueError(f"{record.path}: clip folder holds no reg_image*.bmp frame")
            clip = read_clip(record.frame_paths)
        except ValueError as error:
            if on_bad_clip == "fail":
                raise ValueError(
                    f"bad clip {record.clip_id}: {error} (set dataset.on_bad_clip: skip to skip it)"
                ) from None
            logger.warning("skipping clip %s: %s", record.clip_id, error)
            gaps.append(("skipped_clip", record.clip_id, str(error)))
            continue
        missing = record.missing_frames
        if missing:
            logger.warning("%s misses %d frame(s): %s", record.clip_id, len(missing), _ranges(missing))
            gaps.append(("missing_frames", record.clip_id, _ranges(missing)))
        rows.append(
            {
                "clip_id": record.clip_id,
                "subject": record.subject,
                "label": record.label,
                "n_frames": clip.shape[0],
                "first_frame": record.frames[0],
                "last_frame": record.frames[-1],
                "height": clip.shape[1],
                "width": clip.shape[2],
                "missing_frames": len(missing),
                "path": str(record.path.relative_to(hs_root)),
            }
        )
    if not rows:
        raise ValueError(f"{hs_root}: no readable micro-expression clip found")
    manifest = pd.DataFrame(rows, columns=MANIFEST_COLUMNS)
    gaps.extend(("missing_clip", clip_id, "absent from its class's numbering") for clip_id in _numbering_gaps(manifest))
    logger.info("%d clips of %d subjects in %s", len(manifest), manifest.subject.nunique(), hs_root)
    with atomic_path(manifest_path) as tmp:
        manifest.to_csv(tmp, sep="\t", index=False)
    with atomic_path(gaps_path) as tmp:
        pd.DataFrame(gaps, columns=["kind", "clip_id", "detail"]).to_csv(tmp, sep="\t", index=False)
    return manifest


def read_manifest(path):
    """Read ``results/manifest.tsv`` with clip ids as strings."""
    return pd.read_csv(path, sep="\t", dtype={"clip_id": str, "label": str, "path": str})


def _numbering_gaps(manifest):
    """Clip ids missing from a subject's class numbering (e.g. s18_sur_03 between _02 and _04)."""
    missing = []
    for (subject, label), group in manifest.groupby(["subject", "label"]):
        numbers = sorted(int(c.rsplit("_", 1)[1]) for c in group.clip_id)
        width = len(group.clip_id.iloc[0].rsplit("_", 1)[1])
        for n in sorted(set(range(1, numbers[-1] + 1)) - set(numbers)):
            missing.append(f"s{subject}_{CLASSES[label]}_{n:0{width}d}")
    return missing


def _ranges(numbers):
    """'3,5-7' for [3, 5, 6, 7]."""
    parts = []
    start = previous = numbers[0]
    for number in numbers[1:] + [None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = number
    return ",".join(parts)
