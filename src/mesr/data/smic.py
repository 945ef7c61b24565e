"""SMIC (docs/data.md#smic-hs-as-received): HS, VIS and NIR clips, and reading frames.

Layout of the cropped set::

    SMIC_all_cropped/HS/s{N}/micro/{negative|positive|surprise}/s{N}_{ne|po|sur}_{NN}/reg_image{frame}.bmp
    SMIC_all_cropped/{VIS|NIR}/s{N}/micro/{class}/s{N}_{ne|po|sur}_{NN}/reg_{frame}.bmp

HS frame numbers are absolute indices of the recording with 5 to 8 digits,
VIS/NIR ones 5 digits, so frames are sorted by the integer in their name,
never by string. Subjects and labels come from the folder names; SMIC has no
onset/apex/offset annotation. Anything else beside the layout (the other
modalities, ``non_micro/``, ``Thumbs.db``) is ignored.
"""

import logging
import re
from pathlib import Path

from mesr.data.datasets import ClipRecord, list_frames
from mesr.io import natural_key

__all__ = ["CLASSES", "FPS", "MODALITIES", "find_root", "frame_pattern", "scan"]

logger = logging.getLogger(__name__)

#: Class folder name -> clip id abbreviation.
CLASSES = {"negative": "ne", "positive": "po", "surprise": "sur"}
#: Modality folder -> frame rate (fps).
MODALITIES = {"HS": 100, "VIS": 25, "NIR": 25}
#: Frame rate of SMIC-HS.
FPS = MODALITIES["HS"]
_SUBJECT = re.compile(r"^s(\d+)$")
_CLIP = re.compile(r"^s(\d+)_(ne|po|sur)_(\d+)$")


def frame_pattern(*, modality="HS"):
    """The file name of a frame (its group: the frame number): ``reg_image{n}.bmp`` (HS), ``reg_{n}.bmp``."""
    return r"reg_image(\d+)\.bmp" if modality == "HS" else r"reg_(\d+)\.bmp"


def find_root(source, *, modality="HS"):
    """Return the modality folder (``HS``, ``VIS``, ``NIR``) below a SMIC copy.

    ``source`` may be that folder itself, ``SMIC_all_cropped``, the SMIC root
    holding it, or a folder one level above any of them (an unzipped archive
    that doubled its top folder).

    Raises
    ------
    ValueError
        If no folder of subject directories (``s1`` ...) can be found.
    """
    source = Path(source)
    others = set(MODALITIES) - {modality}
    candidates = [source] if source.name not in others else []
    for top in [source] + (sorted(p for p in source.iterdir() if p.is_dir()) if source.is_dir() else []):
        candidates += [top / modality, top / "SMIC_all_cropped" / modality]
    for candidate in candidates:
        if candidate.is_dir() and any(_SUBJECT.match(p.name) and p.is_dir() for p in candidate.iterdir()):
            return candidate
    raise ValueError(
        f"{source}: no SMIC-{modality} tree found; expected subject folders s1, s2, ... in {source}, "
        f"{source / modality} or {source / 'SMIC_all_cropped' / modality}"
    )


def scan(root, *, modality="HS"):
    """List the micro-expression clips of a modality folder.

    Parameters
    ----------
    root : path-like
        The ``HS``, ``VIS`` or ``NIR`` folder (see :func:`find_root`).
    modality : {"HS", "VIS", "NIR"}

    Returns
    -------
    records : list of ClipRecord
        Sorted by subject, then clip id, in natural order; the emotion is the
        class folder. Clip folders without any frame are returned with empty
        ``frames`` so that the manifest reports them.
    gaps : list of (kind, clip_id, detail)
        Clips missing from a subject's class numbering (``missing_clip``,
        e.g. ``s18_sur_03`` between ``_02`` and ``_04``).

    Raises
    ------
    ValueError
        On an unknown class folder, a clip folder whose name does not match its
        subject and class, or the same clip id twice; the message names the path.
    """
    dataset = f"smic_{modality.lower()}"
    pattern = frame_pattern(modality=modality)
    records = []
    for subject_dir in Path(root).iterdir():
        micro = subject_dir / "micro"
        if not _SUBJECT.match(subject_dir.name) or not micro.is_dir():
            continue
        for class_dir in sorted(p for p in micro.iterdir() if p.is_dir()):
            if class_dir.name not in CLASSES:
                raise ValueError(
                    f"{class_dir}: unknown class folder {class_dir.name!r}; expected one of {', '.join(CLASSES)}"
                )
            for clip_dir in sorted(p for p in class_dir.iterdir() if p.is_dir()):
                records.append(_scan_clip(clip_dir, subject_dir.name, class_dir.name, dataset, pattern))
    seen = {}
    for record in records:
        if record.clip_id in seen:
            raise ValueError(f"duplicate clip id {record.clip_id}: {seen[record.clip_id]} and {record.path}")
        seen[record.clip_id] = record.path
    records.sort(key=lambda r: (natural_key(r.subject), natural_key(r.clip_id)))
    return records, [
        ("missing_clip", clip_id, "absent from its class's numbering") for clip_id in _numbering_gaps(records)
    ]


def _scan_clip(clip_dir, subject, label, dataset, pattern):
    match = _CLIP.match(clip_dir.name)
    if not match or int(match.group(1)) != int(subject[1:]) or match.group(2) != CLASSES[label]:
        raise ValueError(
            f"{clip_dir}: clip folder name should be {subject}_{CLASSES[label]}_NN for subject {subject}, class {label}"
        )
    numbered = list_frames(clip_dir, pattern)
    return ClipRecord(
        clip_id=clip_dir.name,
        dataset=dataset,
        subject=subject,
        emotion=label,
        path=clip_dir,
        frames=tuple(n for n, _ in numbered),
        frame_paths=tuple(p for _, p in numbered),
    )


def _numbering_gaps(records):
    """Clip ids missing from a subject's class numbering (e.g. s18_sur_03 between _02 and _04)."""
    groups = {}
    for record in records:
        groups.setdefault((record.subject, record.emotion), []).append(record.clip_id)
    missing = []
    for (subject, label), clip_ids in groups.items():
        numbers = sorted(int(c.rsplit("_", 1)[1]) for c in clip_ids)
        width = len(clip_ids[0].rsplit("_", 1)[1])
        for n in sorted(set(range(1, numbers[-1] + 1)) - set(numbers)):
            missing.append(f"{subject}_{CLASSES[label]}_{n:0{width}d}")
    return missing
