"""CAS(ME)^3 part A (docs/data.md#other-datasets): finding the dataset root and listing its micro-expressions from
the label sheet.

Layout as received::

    cas(me)3_part_A_ME_label_JpgIndex_v2.xlsx
    part_A/.../spNO.{k}/{Filename}/color/{n}.jpg   (full frames of the whole stimulus video)
    part_A/.../spNO.{k}/{Filename}/depth/{n}.png   (depth frames: never read)

``spNO.{k}`` is the subject folder, named exactly as the sheet's ``Subject``
(subject numbers are not contiguous: ``spNO.1``, ``spNO.2``, ``spNO.10``) and
``Filename`` a single letter naming the stimulus video (``a`` to ``m``; one
upper-case ``J`` occurs). Copies put one or two folders of their own between
``part_A/`` and the subject folders (``part_A/data/part_A/spNO.1``): the subject
folders are looked for in ``part_A/`` and up to two levels below it. Frame
numbers are unpadded (``99.jpg`` then ``100.jpg``), so frames are sorted by the
integer in their name, and a damaged frame is absent from the numbering.

The sheet (``label``, header in row 1) has the columns ``Subject``,
``Filename``, ``Onset``, ``Apex``, ``Offset``, ``AU``, ``Objective class`` and
``emotion`` (anger, disgust, fear, happy, sad, surprise, others, in any case:
``others`` and ``Others`` both occur); frame numbers are stored as text. One
video holds several micro-expressions, so a clip is keyed by subject, video and
onset, its id is ``{Subject}_{Filename}_{Onset}`` (``spNO.1_e_62``) and it is
the frames onset..offset of the video's ``color/`` folder.

Annotation defects are kept as annotated and never repaired: an apex outside
onset..offset (onset after apex exists) becomes a note; an onset or offset that
is not a number, an offset of 0 (it exists) or before the onset makes the clip
bad (``ClipRecord.problem``), as does a video whose ``color/`` folder is absent
or holds no frame in onset..offset.
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

NAME = "casme3_a"
#: Recording rate, frames per second.
FPS = 30
#: ``full`` reads the ``color/`` frames of each video (full frames).
VARIANTS = ("full",)
#: Whether a variant's frames are full frames that need a face crop (docs/degradation.md).
FULL_FRAME = {"full": True}
#: The annotated emotions (column ``emotion``), lower case.
EMOTIONS = ("anger", "disgust", "fear", "happy", "sad", "surprise", "others")
#: Columns the label sheet must have.
REQUIRED_COLUMNS = ("Subject", "Filename", "Onset", "Apex", "Offset", "emotion")

SHEET_GLOB = "cas(me)3_part_A_ME_label_JpgIndex*.xlsx"
SHEET_NAME = "label"
#: The folder below the root that holds the subject folders (possibly a level or two deeper).
FOLDER = "part_A"
#: Levels below ``part_A/`` where the folder holding the subject folders may be.
SUBJECTS_DEPTH = 2
_FRAME = r"(\d+)\.jpg"
_COLOR = "color"
_SUBJECT_FOLDER = re.compile(r"^spNO\.\d+$")
_SKIPPED = re.compile(r"^(\.|__MACOSX$)")  # hidden folders and macOS resource forks of an unzipped copy


def frame_pattern(*, variant="full"):
    """The file name of a frame (its group: the frame number): ``{n}.jpg``, unpadded.

    Raises
    ------
    ValueError
        If ``variant`` is unknown (the message lists the valid ones).
    """
    check_option("variant", variant, VARIANTS)
    return _FRAME


def find_root(source):
    """Return the folder holding the CAS(ME)^3 part A label sheet beside ``part_A/``, found below ``source``.

    The root is a folder with a ``cas(me)3_part_A_ME_label_JpgIndex*.xlsx``
    file beside ``part_A/``. It is looked for in ``source`` itself, then in its
    sub-folders, then one level deeper (a doubled top folder after unzipping).

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
    >>> find_root("/data/CASME3")  # doctest: +SKIP
    PosixPath('/data/CASME3/CAS(ME)3')
    """
    return find_sheet_root(source, dataset="CAS(ME)^3 part A", sheet_glob=SHEET_GLOB, folders=(FOLDER,))


def scan(root, *, variant="full"):
    """List the micro-expressions of a CAS(ME)^3 part A root from its label sheet.

    Parameters
    ----------
    root : path-like
        The folder holding the label sheet (see :func:`find_root`).
    variant : {"full"}
        Reads ``part_A/.../{Subject}/{Filename}/color/{n}.jpg`` (full frames:
        see :data:`FULL_FRAME`); ``depth/`` is never read.

    Returns
    -------
    records : list of ClipRecord
        One per sheet row, sorted by subject then clip id in natural order
        (``spNO.2`` before ``spNO.10``); ``clip_id`` is
        ``{Subject}_{Filename}_{Onset}``, ``subject`` the subject folder's
        name, ``path`` the video's ``color/`` folder under ``root``, shared by
        the clips of one video. ``frames`` and ``frame_paths`` hold the frames
        found in onset..offset, ascending by frame number. A bad clip has
        ``problem`` set (and no frames); annotation defects that are kept are
        in ``notes``.
    gaps : list of (kind, clip_id, detail)
        ``("unlisted_clip", "<Subject>_<Filename>", "<path> is not in <sheet>")``
        for every video folder on disk that the sheet does not list.

    Raises
    ------
    ValueError
        If ``variant`` is unknown, ``root`` holds no label sheet, no
        ``part_A/`` or no subject folder (or subject folders in two places),
        the sheet lacks a required column (naming the file and the columns),
        or a row has an unknown emotion, no subject or filename, or repeats
        another row's clip (naming the rows, counted as in Excel).

    Notes
    -----
    A video folder is matched to the sheet's ``Filename`` exactly, or, when no
    folder has that name, to the one folder of the subject whose name differs
    only in case (the sheet's ``J``); the clip id keeps the sheet's spelling.

    Examples
    --------
    >>> records, gaps = scan(find_root("/data/CASME3"))  # doctest: +SKIP
    >>> records[0].clip_id, records[0].subject, records[0].emotion  # doctest: +SKIP
    ('spNO.1_e_62', 'spNO.1', 'happy')
    """
    check_option("variant", variant, VARIANTS)
    root = Path(root)
    sheets = sorted(p for p in root.glob(SHEET_GLOB) if p.is_file())
    if not sheets:
        raise ValueError(f"{root}: no label sheet {SHEET_GLOB} (use find_root to locate the CAS(ME)^3 part A root)")
    sheet = sheets[-1]
    if not (root / FOLDER).is_dir():
        raise ValueError(f"{root}: no {FOLDER}/ folder beside {sheet.name}")
    subjects_root = _subjects_root(root / FOLDER)
    rows = _read_sheet(sheet)

    records = []
    listed = {}
    videos = set()  # (subject, video folder name) the sheet lists
    for row, values in rows:
        subject, filename = values["subject"], values["filename"]
        onset = _onset_text(values["onset"])
        clip_id = f"{subject}_{filename}_{onset}"
        if clip_id in listed:
            raise ValueError(
                f"{sheet}: rows {listed[clip_id]} and {row} both list {subject}/{filename} onset {onset}; "
                "a micro-expression must be listed once"
            )
        listed[clip_id] = row
        video_dir = _video_folder(subjects_root / subject, filename)
        videos.add((subject, video_dir.name))
        records.append(
            clip_record(
                values,
                video_dir / _COLOR,
                f"{sheet.name} row {row}",
                dataset=NAME,
                clip_id=clip_id,
                pattern=_FRAME,
                frame_name="color/{n}.jpg",
                full_frame=FULL_FRAME[variant],
            )
        )

    gaps = []
    for subject_dir in _subject_folders(subjects_root):
        for video_dir in sorted(p for p in subject_dir.iterdir() if p.is_dir()):
            if (subject_dir.name, video_dir.name) not in videos:
                gaps.append(
                    ("unlisted_clip", f"{subject_dir.name}_{video_dir.name}", f"{video_dir} is not in {sheet.name}")
                )
    gaps.sort(key=lambda gap: natural_key(gap[1]))
    records.sort(key=lambda r: (natural_key(r.subject), natural_key(r.clip_id)))
    bad = sum(r.problem is not None for r in records)
    logger.info(
        "%s (%s): %d clips listed, %d bad, %d unlisted video folders in %s",
        sheet.name,
        variant,
        len(records),
        bad,
        len(gaps),
        subjects_root,
    )
    return records, gaps


def _onset_text(cell):
    """The onset as the clip id writes it: the frame number (``"62"`` for 62, 62.0 or ``" 62"``), else the cell's text."""
    number = frame_number(cell)
    if number is not None:
        return str(number)
    return "" if blank(cell) else str(cell).strip()


def _subject_folders(folder):
    """The ``spNO.{k}`` folders directly in ``folder``, in name order."""
    return sorted(p for p in folder.iterdir() if p.is_dir() and _SUBJECT_FOLDER.match(p.name))


def _subjects_root(part_a):
    """The one folder holding the subject folders: ``part_A/`` or a folder up to two levels below it."""
    found = []
    level = [part_a]
    for _ in range(SUBJECTS_DEPTH + 1):
        found += [folder for folder in level if _subject_folders(folder)]
        level = sorted(
            child
            for folder in level
            for child in folder.iterdir()
            if child.is_dir() and not _SUBJECT_FOLDER.match(child.name) and not _SKIPPED.match(child.name)
        )
    if not found:
        raise ValueError(
            f"{part_a}: no subject folder spNO.{{k}} found in it or up to {SUBJECTS_DEPTH} levels below it"
        )
    if len(found) > 1:
        raise ValueError(
            f"{part_a}: subject folders spNO.{{k}} found in {len(found)} places: {', '.join(map(str, found))}; "
            "keep one copy"
        )
    return found[0]


def _video_folder(subject_dir, filename):
    """The folder of a video: ``filename`` itself, else the one folder whose name differs only in case."""
    exact = subject_dir / filename
    if exact.is_dir() or not subject_dir.is_dir():
        return exact
    same = [p for p in subject_dir.iterdir() if p.is_dir() and p.name.lower() == filename.lower()]
    return same[0] if len(same) == 1 else exact


def _read_sheet(sheet):
    """(Excel row, parsed values) of each non-blank row of the label sheet."""
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
        subject = "" if blank(cells["Subject"]) else str(cells["Subject"]).strip()
        if not _SUBJECT_FOLDER.match(subject):
            raise ValueError(
                f"{sheet} row {row}: Subject must be a subject folder spNO.{{k}}, got {cells['Subject']!r}"
            )
        if blank(cells["Filename"]):
            raise ValueError(f"{sheet} row {row}: Filename is blank")
        emotion = cells["emotion"]
        label = "" if blank(emotion) else str(emotion).strip().lower()
        if label not in EMOTIONS:
            raise ValueError(
                f"{sheet} row {row}: unknown emotion {emotion!r} in column 'emotion'; "
                f"expected one of {', '.join(EMOTIONS)}"
            )
        rows.append(
            (
                row,
                {
                    "subject": subject,
                    "filename": str(cells["Filename"]).strip(),
                    "emotion": label,
                    "onset": cells["Onset"],
                    "apex": cells["Apex"],
                    "offset": cells["Offset"],
                },
            )
        )
    return rows
