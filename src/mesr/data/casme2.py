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
import re
from pathlib import Path

import pandas as pd

from mesr._checks import check_option
from mesr.data.sheets import blank, clip_record, find_sheet_root, frame_number
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
    return find_sheet_root(
        source, dataset="CASME II", sheet_glob=SHEET_GLOB, folders=(_FOLDERS["cropped"], _FOLDERS["raw"])
    )


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
        raise ValueError(f"{root}: no {_FOLDERS[variant]}/ folder for variant {variant!r}{_other_variant(root)}")
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
        records.append(
            clip_record(
                values,
                frames_root / subject / filename,
                f"{sheet.name} row {row}",
                dataset=NAME,
                clip_id=f"{subject}_{filename}",
                pattern=_FRAMES[variant],
                frame_name="reg_img{n}.jpg" if variant == "cropped" else "img{n}.jpg",
                full_frame=FULL_FRAME[variant],
            )
        )

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
        if all(blank(cells[c]) for c in REQUIRED_COLUMNS):
            continue
        subject_number = frame_number(cells["Subject"])
        if subject_number is None:
            raise ValueError(f"{sheet} row {row}: Subject must be a subject number, got {cells['Subject']!r}")
        if blank(cells["Filename"]):
            raise ValueError(f"{sheet} row {row}: Filename is blank")
        emotion = cells["Estimated Emotion"]
        label = "" if blank(emotion) else str(emotion).strip().lower()
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


def _other_variant(root):
    """The hint of a missing variant's message: the variant the root holds, and its face crop."""
    for variant, folder in _FOLDERS.items():
        if (root / folder).is_dir():
            crop = " with preprocess.face_crop: haar" if FULL_FRAME[variant] else ""
            return f"; it holds {folder}/: set dataset.variant: {variant}{crop}"
    return ""
