"""SAMM (docs/data.md#other-datasets): finding the dataset root and listing its clips from the FACS coding sheet.

Layout as received::

    SAMM_Micro_FACS_Codes_v2.xlsx                 (or a dated SAMM_Micro_FACS_Codes*.xlsx)
    SAMM/{SSS}/{Filename}/{SSS}_{frame}.jpg       (variant "full": full frames, need a face crop)
    SAMM_CROP/{SSS}/{Filename}/{SSS}_{frame}.jpg  (variant "cropped": the optional face crops)

``{SSS}`` is the three-digit subject folder (``006``) and ``Filename`` the
clip folder (``006_1_2``). The zero-padding of the frame number varies
between clips (``006_05562.jpg``, ``011_3012.jpg``): the frame number is the
digits after the last ``_`` and frames are sorted by that integer.

The sheet (the first one) has free text in Excel rows 1-13, its header in row
14 and data from row 15; twelve columns: ``Subject`` (int, folder ``%03d``),
``Filename``, ``Inducement Code``, ``Onset Frame``, ``Apex Frame``,
``Offset Frame``, ``Duration``, ``Micro``, ``Action Units``, ``Estimated
Emotion`` (capitalised: Anger, Contempt, Disgust, Fear, Happiness, Sadness,
Surprise, Others), ``Objective Classes`` and ``Notes``. A clip is the frames
onset..offset of its folder; its id is ``Filename``.

Annotation defects are kept as annotated and never repaired: an apex that is
missing or outside onset..offset (``028_4_1``, ``032_3_1``) becomes a note;
an onset or offset that is not a number, an offset of 0 or before the onset
makes the clip bad (``ClipRecord.problem``), as does a clip whose folder is
absent or holds no frame in onset..offset.
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

NAME = "samm"
#: Recording rate, frames per second.
FPS = 200
#: ``cropped`` reads ``SAMM_CROP/`` (face crops), ``full`` reads ``SAMM/`` (full frames).
VARIANTS = ("cropped", "full")
#: Whether a variant's frames are full frames that need a face crop (docs/degradation.md).
FULL_FRAME = {"cropped": False, "full": True}
#: The annotated emotions (column ``Estimated Emotion``), lower case.
EMOTIONS = ("anger", "contempt", "disgust", "fear", "happiness", "sadness", "surprise", "others")
#: Columns the coding sheet must have.
REQUIRED_COLUMNS = ("Subject", "Filename", "Onset Frame", "Apex Frame", "Offset Frame", "Estimated Emotion")
#: Excel row of the sheet's header (rows above it are free text).
HEADER_ROW = 14

SHEET_GLOB = "SAMM_Micro_FACS_Codes*.xlsx"
_FOLDERS = {"cropped": "SAMM_CROP", "full": "SAMM"}
_FRAME = r".+_(\d+)\.jpg"  # greedy: the digits after the last "_"
_SUBJECT_FOLDER = re.compile(r"^\d{3}$")


def frame_pattern(*, variant="cropped"):
    """The file name of a frame (its group: the frame number): ``{SSS}_{frame}.jpg`` in both variants.

    Raises
    ------
    ValueError
        If ``variant`` is unknown (the message lists the valid ones).
    """
    check_option("variant", variant, VARIANTS)
    return _FRAME


def find_root(source):
    """Return the folder holding the SAMM coding sheet and frame folders, found below ``source``.

    The root is a folder with a ``SAMM_Micro_FACS_Codes*.xlsx`` file beside
    ``SAMM/`` and/or ``SAMM_CROP/``. It is looked for in ``source`` itself,
    then in its sub-folders, then one level deeper (a doubled top folder
    after unzipping).

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
    >>> find_root("/data/SAMM")  # doctest: +SKIP
    PosixPath('/data/SAMM/SAMM_data')
    """
    return find_sheet_root(
        source, dataset="SAMM", sheet_glob=SHEET_GLOB, folders=(_FOLDERS["full"], _FOLDERS["cropped"])
    )


def scan(root, *, variant="cropped"):
    """List the clips of a SAMM root from its coding sheet.

    Parameters
    ----------
    root : path-like
        The folder holding the coding sheet (see :func:`find_root`).
    variant : {"cropped", "full"}
        ``cropped`` reads ``SAMM_CROP/{SSS}/{Filename}/{SSS}_{frame}.jpg``,
        ``full`` reads ``SAMM/{SSS}/{Filename}/{SSS}_{frame}.jpg`` (full
        frames: see :data:`FULL_FRAME`).

    Returns
    -------
    records : list of ClipRecord
        One per sheet row, sorted by subject then clip id in natural order;
        ``clip_id`` is the sheet's ``Filename``, ``subject`` the three-digit
        folder name, ``path`` the clip folder under ``root``. ``frames`` and
        ``frame_paths`` hold the frames found in onset..offset, ascending by
        frame number. A bad clip has ``problem`` set (and no frames);
        annotation defects that are kept are in ``notes``.
    gaps : list of (kind, clip_id, detail)
        ``("unlisted_clip", "<folder>", "<path> is not in <sheet>")`` for
        every clip folder on disk that the sheet does not list.

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
    >>> records, gaps = scan(find_root("/data/SAMM"), variant="full")  # doctest: +SKIP
    >>> records[0].clip_id, records[0].subject, records[0].emotion  # doctest: +SKIP
    ('006_1_2', '006', 'disgust')
    """
    check_option("variant", variant, VARIANTS)
    root = Path(root)
    sheets = sorted(p for p in root.glob(SHEET_GLOB) if p.is_file())
    if not sheets:
        raise ValueError(f"{root}: no coding sheet {SHEET_GLOB} (use find_root to locate the SAMM root)")
    sheet = sheets[-1]
    frames_root = root / _FOLDERS[variant]
    if not frames_root.is_dir():
        raise ValueError(f"{root}: no {_FOLDERS[variant]}/ folder for variant {variant!r}{_other_variant(root)}")
    rows = _read_sheet(sheet)

    records = []
    listed = {}
    for row, values in rows:
        filename = values["filename"]
        if filename in listed:
            raise ValueError(
                f"{sheet}: rows {listed[filename]} and {row} both list {filename}; a clip must be listed once"
            )
        listed[filename] = row
        clip_dir = frames_root / values["subject"] / filename
        records.append(
            clip_record(
                values,
                clip_dir,
                f"{sheet.name} row {row}",
                dataset=NAME,
                clip_id=filename,
                pattern=_FRAME,
                frame_name="{SSS}_{frame}.jpg",
                full_frame=FULL_FRAME[variant],
            )
        )

    listed_dirs = {(values["subject"], values["filename"]) for _, values in rows}
    gaps = []
    for subject_dir in sorted(p for p in frames_root.iterdir() if p.is_dir() and _SUBJECT_FOLDER.match(p.name)):
        for clip_dir in sorted(p for p in subject_dir.iterdir() if p.is_dir()):
            if (subject_dir.name, clip_dir.name) not in listed_dirs:
                gaps.append(("unlisted_clip", clip_dir.name, f"{clip_dir} is not in {sheet.name}"))
    gaps.sort(key=lambda gap: natural_key(gap[1]))
    records.sort(key=lambda r: (natural_key(r.subject), natural_key(r.clip_id)))
    bad = sum(r.problem is not None for r in records)
    logger.info(
        "%s (%s): %d clips listed, %d bad, %d unlisted folders", sheet.name, variant, len(records), bad, len(gaps)
    )
    return records, gaps


def _read_sheet(sheet):
    """(Excel row, parsed values) of each non-blank data row of the coding sheet."""
    table = pd.read_excel(sheet, sheet_name=0, header=None, engine="openpyxl", dtype=object)
    # Excel row r is table row r - 1 (openpyxl keeps leading blank rows; pad if the sheet ends early).
    if len(table) < HEADER_ROW:
        raise ValueError(f"{sheet}: no header in Excel row {HEADER_ROW} (the sheet has {len(table)} rows)")
    header = ["" if blank(c) else str(c).strip() for c in table.iloc[HEADER_ROW - 1]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ValueError(
            f"{sheet}: missing column(s) {', '.join(missing)}; the first sheet must have its header in "
            f"Excel row {HEADER_ROW} with {', '.join(REQUIRED_COLUMNS)}"
        )
    column = {name: header.index(name) for name in REQUIRED_COLUMNS}
    rows = []
    for position in range(HEADER_ROW, len(table)):
        row = position + 1  # Excel's numbering
        cells = {name: table.iat[position, index] for name, index in column.items()}
        if all(blank(v) for v in cells.values()):
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
                f"expected one of {', '.join(e.capitalize() for e in EMOTIONS)}"
            )
        rows.append(
            (
                row,
                {
                    "subject": f"{subject_number:03d}",
                    "filename": str(cells["Filename"]).strip(),
                    "emotion": label,
                    "onset": cells["Onset Frame"],
                    "apex": cells["Apex Frame"],
                    "offset": cells["Offset Frame"],
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
