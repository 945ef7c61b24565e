"""CASME II (docs/data.md#other-datasets): finding the dataset root and listing its clips from the coding sheet.

Layout as received::

    CASME2-coding-20140508.xlsx                         (or a later CASME2-coding-*.xlsx)
    Cropped/sub{NN}/{Filename}/reg_img{n}.jpg           (variant "cropped": face crops)
    CASME2_RAW_selected/sub{NN}/{Filename}/img{n}.jpg   (variant "raw": full frames)

The sheet (``Sheet1``, header in row 1) has nine columns: ``Subject`` (int,
folder ``sub%02d``), ``Filename``, a blank-header column, ``OnsetFrame``,
``ApexFrame`` (an int, or ``/`` when missing), ``OffsetFrame``, a blank-header
column, ``Action Units`` and ``Estimated Emotion``. A clip is the frames
onset..offset of its folder; frame numbers are unpadded (``img99`` then
``img100``), so frames are sorted by the integer in their name. The same
``Filename`` recurs under several subjects: a clip is keyed by subject and
filename, and its id is ``sub{NN}_{Filename}``.

Annotation defects are kept as annotated and never repaired: an apex ``/``
or outside onset..offset becomes a note; an onset or offset that is not a
number, an offset of 0 or before the onset makes the clip bad
(``ClipRecord.problem``), as does a clip whose folder is absent or holds no
frame in onset..offset.
"""

import logging
import math
import numbers
import re
from pathlib import Path

import pandas as pd

from mesr._checks import check_option
from mesr.data.datasets import ClipRecord, list_frames
from mesr.io import natural_key

__all__ = [
    "EMOTIONS",
    "FPS",
    "FULL_FRAME",
    "NAME",
    "REQUIRED_COLUMNS",
    "VARIANTS",
    "find_root",
    "frame_pattern",
    "scan",
]

logger = logging.getLogger(__name__)

NAME = "casme2"
#: Recording rate, frames per second.
FPS = 200
#: ``cropped`` reads ``Cropped/`` (face crops), ``raw`` reads ``CASME2_RAW_selected/`` (full frames).
VARIANTS = ("cropped", "raw")
#: Whether a variant's frames are full frames that need a face crop (docs/degradation.md).
FULL_FRAME = {"cropped": False, "raw": True}
#: The annotated emotions (column ``Estimated Emotion``), lower case.
EMOTIONS = ("happiness", "disgust", "repression", "surprise", "others", "fear", "sadness")
#: Columns the coding sheet must have.
REQUIRED_COLUMNS = ("Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame", "Estimated Emotion")

SHEET_GLOB = "CASME2-coding-*.xlsx"
SHEET_NAME = "Sheet1"
_FOLDERS = {"cropped": "Cropped", "raw": "CASME2_RAW_selected"}
_FRAMES = {"cropped": r"reg_img(\d+)\.jpg", "raw": r"img(\d+)\.jpg"}
_SUBJECT_FOLDER = re.compile(r"^sub\d+$")
_WHOLE_NUMBER = re.compile(r"^\s*(\d+)(?:\.0*)?\s*$")


def frame_pattern(*, variant="cropped"):
    """The file name of a frame (its group: the frame number): ``reg_img{n}.jpg`` (cropped), ``img{n}.jpg`` (raw).

    Raises
    ------
    ValueError
        If ``variant`` is unknown (the message lists the valid ones).
    """
    return _FRAMES[check_option("variant", variant, VARIANTS)]


def find_root(source):
    """Return the folder holding the CASME II coding sheet and frame folders, found below ``source``.

    The root is a folder with a ``CASME2-coding-*.xlsx`` file beside
    ``Cropped/`` and/or ``CASME2_RAW_selected/``. It is looked for in
    ``source`` itself, then in its sub-folders, then one level deeper (a
    doubled top folder after unzipping, ``CASME2/CASME2/``).

    Parameters
    ----------
    source : path-like
        The dataset folder, or a folder above it.

    Returns
    -------
    pathlib.Path
        The root.

    Raises
    ------
    ValueError
        If ``source`` is not a folder, holds no such root, or holds two at the
        same depth; the message names ``source`` and what was expected.

    Examples
    --------
    >>> find_root("/data/CASME2")  # doctest: +SKIP
    PosixPath('/data/CASME2/CASME2')
    """
    source = Path(source)
    if not source.is_dir():
        raise ValueError(f"source must be a folder holding CASME II, got {str(source)!r} (not a folder)")
    level = [source]
    for _ in range(3):
        found = [folder for folder in level if _is_root(folder)]
        if len(found) > 1:
            raise ValueError(f"{source}: more than one CASME II root found: {', '.join(map(str, found))}")
        if found:
            return found[0]
        level = sorted(child for folder in level for child in folder.iterdir() if child.is_dir())
    raise ValueError(
        f"{source}: no CASME II found; expected a folder holding {SHEET_GLOB} beside "
        f"{_FOLDERS['cropped']}/ or {_FOLDERS['raw']}/ in {source}, a sub-folder of it, or one level deeper"
    )


def _is_root(folder):
    has_sheet = any(p.is_file() for p in folder.glob(SHEET_GLOB))
    return has_sheet and any((folder / name).is_dir() for name in _FOLDERS.values())


def scan(root, *, variant="cropped"):
    """List the clips of a CASME II root from its coding sheet.

    Parameters
    ----------
    root : path-like
        The folder holding the coding sheet (see :func:`find_root`).
    variant : {"cropped", "raw"}
        ``cropped`` reads ``Cropped/sub{NN}/{Filename}/reg_img{n}.jpg``,
        ``raw`` reads ``CASME2_RAW_selected/sub{NN}/{Filename}/img{n}.jpg``
        (full frames: see :data:`FULL_FRAME`).

    Returns
    -------
    records : list of ClipRecord
        One per sheet row, sorted by subject then clip id in natural order;
        ``path`` is the clip folder under ``root`` (absolute when ``root``
        is). ``frames`` and ``frame_paths`` hold the frames found in
        onset..offset, ascending by frame number. A bad clip has ``problem``
        set (and no frames); annotation defects that are kept are in ``notes``.
    gaps : list of (kind, clip_id, detail)
        ``("unlisted_clip", "sub{NN}_{folder}", "<path> is not in <sheet>")``
        for every clip folder on disk that the sheet does not list.

    Raises
    ------
    ValueError
        If ``variant`` is unknown, ``root`` holds no coding sheet or no
        folder for the variant, the sheet lacks a required column (naming the
        file and the columns), or a row has an unknown emotion, no subject or
        filename, or repeats another row's clip (naming the row, counted as
        in Excel).

    Examples
    --------
    >>> records, gaps = scan(find_root("/data/CASME2"))  # doctest: +SKIP
    >>> records[0].clip_id, records[0].emotion  # doctest: +SKIP
    ('sub01_EP02_01f', 'happiness')
    """
    check_option("variant", variant, VARIANTS)
    root = Path(root)
    sheets = sorted(p for p in root.glob(SHEET_GLOB) if p.is_file())
    if not sheets:
        raise ValueError(f"{root}: no coding sheet {SHEET_GLOB} (use find_root to locate the CASME II root)")
    sheet = sheets[-1]
    frames_root = root / _FOLDERS[variant]
    if not frames_root.is_dir():
        raise ValueError(f"{root}: no {_FOLDERS[variant]}/ folder for variant {variant!r}")
    rows = _read_sheet(sheet)

    records = []
    listed = {}
    for row, values in rows:
        subject, filename = values["subject"], values["filename"]
        if (subject, filename) in listed:
            raise ValueError(
                f"{sheet}: rows {listed[subject, filename]} and {row} both list {subject}/{filename}; "
                "a clip must be listed once"
            )
        listed[subject, filename] = row
        records.append(_clip(values, frames_root / subject / filename, variant, f"{sheet.name} row {row}"))

    gaps = []
    for subject_dir in sorted(p for p in frames_root.iterdir() if p.is_dir() and _SUBJECT_FOLDER.match(p.name)):
        for clip_dir in sorted(p for p in subject_dir.iterdir() if p.is_dir()):
            if (subject_dir.name, clip_dir.name) not in listed:
                gaps.append(
                    ("unlisted_clip", f"{subject_dir.name}_{clip_dir.name}", f"{clip_dir} is not in {sheet.name}")
                )
    gaps.sort(key=lambda gap: natural_key(gap[1]))
    records.sort(key=lambda r: (natural_key(r.subject), natural_key(r.clip_id)))
    bad = sum(r.problem is not None for r in records)
    logger.info(
        "%s (%s): %d clips listed, %d bad, %d unlisted folders", sheet.name, variant, len(records), bad, len(gaps)
    )
    return records, gaps


def _read_sheet(sheet):
    """(Excel row, parsed values) of each non-blank row of the coding sheet."""
    try:
        table = pd.read_excel(sheet, sheet_name=SHEET_NAME, header=0, engine="openpyxl", dtype=object)
    except ValueError as error:  # no sheet of that name
        raise ValueError(f"{sheet}: cannot read sheet {SHEET_NAME!r}: {error}") from error
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(
            f"{sheet}: missing column(s) {', '.join(missing)}; the sheet {SHEET_NAME!r} must have a header row "
            f"with {', '.join(REQUIRED_COLUMNS)}"
        )
    rows = []
    for index, cells in table.iterrows():
        row = index + 2  # Excel's numbering: header in row 1
        if all(_blank(cells[c]) for c in REQUIRED_COLUMNS):
            continue
        subject_number = _integer(cells["Subject"])
        if subject_number is None:
            raise ValueError(f"{sheet} row {row}: Subject must be a subject number, got {cells['Subject']!r}")
        if _blank(cells["Filename"]):
            raise ValueError(f"{sheet} row {row}: Filename is blank")
        emotion = cells["Estimated Emotion"]
        label = "" if _blank(emotion) else str(emotion).strip().lower()
        if label not in EMOTIONS:
            raise ValueError(
                f"{sheet} row {row}: unknown emotion {emotion!r} in column 'Estimated Emotion'; "
                f"expected one of {', '.join(EMOTIONS)}"
            )
        rows.append(
            (
                row,
                {
                    "subject": f"sub{subject_number:02d}",
                    "filename": str(cells["Filename"]).strip(),
                    "emotion": label,
                    "onset": cells["OnsetFrame"],
                    "apex": cells["ApexFrame"],
                    "offset": cells["OffsetFrame"],
                },
            )
        )
    return rows


def _clip(values, clip_dir, variant, where):
    """The record of one sheet row: annotation checked, frames onset..offset listed."""
    onset, apex, offset = (_integer(values[k]) for k in ("onset", "apex", "offset"))
    problem = None
    if onset is None:
        problem = f"{where}: onset {_shown(values['onset'])} is not a frame number"
    elif offset is None:
        problem = f"{where}: offset {_shown(values['offset'])} is not a frame number"
    elif offset == 0:
        problem = f"{where}: offset 0"
    elif offset < onset:
        problem = f"{where}: offset {offset} before onset {onset}"
    notes = []
    if apex is None:
        raw = values["apex"]
        missing = _blank(raw) or str(raw).strip() == "/"
        notes.append(f"apex {_shown(raw)} ({'missing' if missing else 'not a frame number'})")
    elif problem is None and not onset <= apex <= offset:
        notes.append(f"apex {apex} outside onset..offset {onset}..{offset}")

    numbered = []
    if problem is None and not clip_dir.is_dir():
        problem = f"in {where} but not on disk: {clip_dir}"
    elif problem is None:
        present = list_frames(clip_dir, _FRAMES[variant])
        numbered = [(n, p) for n, p in present if onset <= n <= offset]
        if not numbered:
            found = f"frames on disk {present[0][0]}..{present[-1][0]}" if present else "no frame on disk"
            name = "reg_img{n}.jpg" if variant == "cropped" else "img{n}.jpg"
            problem = f"{clip_dir}: no {name} frame in onset..offset {onset}..{offset} ({found})"
    return ClipRecord(
        clip_id=f"{values['subject']}_{values['filename']}",
        dataset=NAME,
        subject=values["subject"],
        emotion=values["emotion"],
        path=clip_dir,
        frames=tuple(n for n, _ in numbered),
        frame_paths=tuple(p for _, p in numbered),
        onset=onset,
        apex=apex,
        offset=offset,
        problem=problem,
        notes=tuple(notes),
    )


def _integer(value):
    """A whole number from a cell (int, whole float, or text such as ``"46"``); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return int(value) if math.isfinite(value) and value == int(value) and value >= 0 else None
    if isinstance(value, str) and (match := _WHOLE_NUMBER.match(value)):
        return int(match.group(1))
    return None


def _blank(value):
    """True for an empty cell (NaN, None) or one holding only spaces."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    return isinstance(value, str) and not value.strip()


def _shown(value):
    """A cell value as the messages show it."""
    return "blank" if _blank(value) else repr(value.strip() if isinstance(value, str) else value)
