"""The MEGC 2019 composite (docs/data.md#megc-2019-composite): SMIC-HS, CASME II and SAMM with the organisers'
ground truth.

Layout of an acquired composite::

    combined_3class_gt.csv   the organisers' ground truth
    smic_hs/                 SMIC-HS as :func:`mesr.data.smic.find_root` accepts it (e.g. a link to ``HS``)
    casme2/                  CASME II as :func:`mesr.data.casme2.find_root` accepts it
    samm/                    SAMM as :func:`mesr.data.samm.find_root` accepts it

The ground truth has no header and CRLF line ends (LF is accepted too); each
row is ``database,subject,video,label`` with ``database`` one of ``smic``,
``casme2``, ``samm`` and ``label`` 0 (negative), 1 (positive) or 2
(surprise). Its ids are not the folder names: SMIC's subject ``s01`` and video
``s01_ne_01`` are the folders ``s1`` and ``s1_ne_01`` (the subject number is
unpadded wherever it occurs), SAMM's subject ``6`` is the folder ``006`` (its
video, ``006_1_2``, is the clip id), CASME II's subject ``sub01`` and video
``EP02_01f`` are the clip ``sub01_EP02_01f``.

Each part is read by its own adapter; the ground truth says which clips the
composite holds and their class. A class that disagrees with the part's own
annotation is kept as the ground truth gives it and noted; a clip of a part
that the ground truth does not list is reported (``not_in_ground_truth``), a
clip the ground truth lists but the part lacks is a bad clip.
"""

import logging
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pandas as pd

from mesr._checks import check_option
from mesr.data.datasets import ClipRecord, adapter, class_of, frame_rate
from mesr.io import natural_key

__all__ = [
    "DATABASES",
    "FPS",
    "GROUND_TRUTH",
    "GROUND_TRUTH_COLUMNS",
    "LABELS",
    "NAME",
    "PARTS",
    "find_root",
    "part_options",
    "read_ground_truth",
    "scan",
]

logger = logging.getLogger(__name__)

NAME = "megc2019"
#: The parts, as adapter names (:data:`mesr.data.datasets.DATASETS`), each in its folder of that name.
PARTS = ("smic_hs", "casme2", "samm")
#: The organisers' ground truth file, beside the parts' folders.
GROUND_TRUTH = "combined_3class_gt.csv"
#: The classes, by the ground truth's label number.
LABELS = ("negative", "positive", "surprise")
#: The ground truth's database -> the part.
DATABASES = {"smic": "smic_hs", "casme2": "casme2", "samm": "samm"}
#: Frames per second of each part.
FPS = {part: frame_rate(part) for part in PARTS}
#: Columns of :func:`read_ground_truth`'s table.
GROUND_TRUTH_COLUMNS = ["line", "dataset", "subject", "clip_id", "label"]

_SMIC_ID = re.compile(r"^s0*(\d+)(_.+)?$")
_CASME2_SUBJECT = re.compile(r"^sub0*(\d+)$")
_SAMM_SUBJECT = re.compile(r"^0*(\d+)$")
_LABEL = re.compile(r"^[0-9]+$")
#: What a part's own annotation is called in the notes.
_ANNOTATION = {"smic_hs": "class folder", "casme2": "sheet", "samm": "sheet"}


def read_ground_truth(path):
    """Read the organisers' ``combined_3class_gt.csv`` with its ids turned into the parts' folder names.

    Parameters
    ----------
    path : path-like
        The file: no header, rows ``database,subject,video,label`` with CRLF
        or LF line ends; spaces around a field and blank lines are ignored.

    Returns
    -------
    pandas.DataFrame
        :data:`GROUND_TRUTH_COLUMNS`, one row per line in file order:
        ``line`` (1-based), ``dataset`` (the part, :data:`PARTS`),
        ``subject`` (its folder name: ``s1``, ``sub01``, ``006``),
        ``clip_id`` (as the part's adapter names the clip: ``s1_ne_01``,
        ``sub01_EP02_01f``, ``006_1_2``) and ``label`` (:data:`LABELS`).

    Raises
    ------
    ValueError
        If the file cannot be read or holds no row, or a line has not four
        fields, a blank field, an unknown database, a subject or video of
        the wrong form, a label that is not 0, 1 or 2, or lists a clip an
        earlier line lists; the message names the file and the line(s).

    Examples
    --------
    >>> read_ground_truth("/data/MEGC2019/combined_3class_gt.csv").iloc[0].tolist()  # doctest: +SKIP
    [1, 'casme2', 'sub01', 'sub01_EP02_01f', 'positive']
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise ValueError(f"{path}: cannot read the ground truth ({error.strerror or error})") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    rows = []
    seen = {}
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        fields = [field.strip() for field in line.split(",")]
        if len(fields) != 4:
            raise ValueError(
                f"{where}: {len(fields)} field(s) in {line.strip()!r}; expected database,subject,video,label"
            )
        if not all(fields):
            blank = ("database", "subject", "video", "label")[fields.index("")]
            raise ValueError(f"{where}: {blank} is blank in {line.strip()!r}")
        database, subject, video, label = fields
        if database.lower() not in DATABASES:
            hint = " (the file has no header)" if number == 1 and database.lower() == "database" else ""
            raise ValueError(f"{where}: unknown database {database!r}; expected one of {', '.join(DATABASES)}{hint}")
        part = DATABASES[database.lower()]
        if not _LABEL.match(label) or int(label) >= len(LABELS):
            raise ValueError(f"{where}: label {label!r} is not one of 0 (negative), 1 (positive), 2 (surprise)")
        subject, clip_id = _folder_ids(part, subject, video, where)
        if (part, clip_id) in seen:
            raise ValueError(
                f"{path}: lines {seen[part, clip_id]} and {number} both list {clip_id} of {part}; "
                "a clip must be listed once"
            )
        seen[part, clip_id] = number
        rows.append((number, part, subject, clip_id, LABELS[int(label)]))
    if not rows:
        raise ValueError(f"{path}: empty; expected rows database,subject,video,label (no header)")
    return pd.DataFrame(rows, columns=GROUND_TRUTH_COLUMNS)


def _folder_ids(part, subject, video, where):
    """(subject folder, clip id) of a ground truth row's subject and video, checked against each other."""
    if part == "smic_hs":
        subject_match, video_match = _SMIC_ID.match(subject), _SMIC_ID.match(video)
        if not subject_match or subject_match.group(2):
            raise ValueError(f"{where}: SMIC subject {subject!r} is not s<number> (s01)")
        if not video_match or not video_match.group(2):
            raise ValueError(f"{where}: SMIC video {video!r} is not s<number>_<class>_<number> (s01_ne_01)")
        folder = f"s{int(subject_match.group(1))}"
        clip_id = f"s{int(video_match.group(1))}{video_match.group(2)}"
        if int(video_match.group(1)) != int(subject_match.group(1)):
            raise ValueError(f"{where}: SMIC video {video!r} is not of subject {subject!r}")
        return folder, clip_id
    if part == "casme2":
        match = _CASME2_SUBJECT.match(subject)
        if not match:
            raise ValueError(f"{where}: CASME II subject {subject!r} is not sub<number> (sub01)")
        folder = f"sub{int(match.group(1)):02d}"
        return folder, f"{folder}_{video}"
    match = _SAMM_SUBJECT.match(subject)
    if not match:
        raise ValueError(f"{where}: SAMM subject {subject!r} is not a subject number (6)")
    folder = f"{int(match.group(1)):03d}"
    prefix = video.split("_", 1)[0]
    if not prefix.isdigit() or int(prefix) != int(match.group(1)):
        raise ValueError(f"{where}: SAMM video {video!r} is not of subject {subject!r} ({folder}_...)")
    return folder, video


def part_options(part, *, variant=None):
    """The keyword arguments of a part's ``scan`` (and ``frame_pattern``) for the composite's options.

    Parameters
    ----------
    part : str
        One of :data:`PARTS`.
    variant : mapping, optional
        Part -> variant of that part's adapter (``{"samm": "full"}``); parts
        not in it read their adapter's default. A single variant name is
        refused: it cannot say which part it is for.

    Returns
    -------
    dict
        ``{"variant": ...}`` when ``variant`` names one for ``part``, else ``{}``.

    Raises
    ------
    ValueError
        If ``part`` is no part, ``variant`` is not a mapping, names an unknown
        part or a part without variants, or a variant its part does not have.

    Examples
    --------
    >>> part_options("samm", variant={"samm": "full"}), part_options("casme2", variant={"samm": "full"})
    ({'variant': 'full'}, {})
    """
    check_option("part", part, PARTS)
    if variant is None:
        return {}
    if not isinstance(variant, Mapping):
        raise ValueError(
            f"dataset.variant of {NAME} must map parts to variants (e.g. {{samm: full}}), got {variant!r}: "
            f"a single variant cannot say which of {', '.join(PARTS)} it is for"
        )
    for name, value in variant.items():
        if name not in PARTS:
            raise ValueError(f"dataset.variant of {NAME}: {name!r} is no part; the parts are {', '.join(PARTS)}")
        valid = getattr(adapter(name)[0], "VARIANTS", ())
        if not valid:
            raise ValueError(f"dataset.variant of {NAME}: {name} has no variants; leave it out")
        check_option(f"dataset.variant.{name}", value, valid)
    return {"variant": variant[part]} if part in variant else {}


def find_root(source):
    """Return the folder holding ``combined_3class_gt.csv`` beside ``smic_hs/``, ``casme2/`` and ``samm/``.

    It is looked for in ``source`` itself, then in its sub-folders, then one
    level deeper (a doubled top folder after unzipping).

    Parameters
    ----------
    source : path-like
        The acquired composite, or a folder above it.

    Returns
    -------
    pathlib.Path
        The root.

    Raises
    ------
    ValueError
        If ``source`` is not a folder, holds no such root (naming what a
        folder holding the ground truth lacks), or holds two at the same depth.

    Examples
    --------
    >>> find_root("resources/megc2019")  # doctest: +SKIP
    PosixPath('resources/megc2019')
    """
    source = Path(source)
    if not source.is_dir():
        raise ValueError(f"source must be a folder holding the MEGC 2019 composite, got {str(source)!r} (not a folder)")
    level = [source]
    lacking = []
    for _ in range(3):
        found = []
        for folder in level:
            if (folder / GROUND_TRUTH).is_file():
                missing = [f"{part}/" for part in PARTS if not (folder / part).is_dir()]
                if missing:
                    lacking.append(f"{folder} lacks {', '.join(missing)}")
                else:
                    found.append(folder)
        if len(found) > 1:
            raise ValueError(f"{source}: more than one MEGC 2019 composite found: {', '.join(map(str, found))}")
        if found:
            return found[0]
        level = sorted(child for folder in level for child in folder.iterdir() if child.is_dir())
    hint = f" ({'; '.join(lacking)})" if lacking else ""
    raise ValueError(
        f"{source}: no MEGC 2019 composite found; expected a folder holding {GROUND_TRUTH} beside "
        f"{', '.join(f'{p}/' for p in PARTS)} in {source}, a sub-folder of it, or one level deeper{hint}"
    )


def scan(root, *, variant=None):
    """List the clips of the composite: the ground truth's rows, each read by its part's adapter.

    Parameters
    ----------
    root : path-like
        The composite's root (see :func:`find_root`).
    variant : mapping, optional
        Part -> variant (see :func:`part_options`).

    Returns
    -------
    records : list of ClipRecord
        One per ground truth row, sorted by dataset (the part), subject and
        clip id in natural order: the part's record with ``label`` set to
        the ground truth's class. A class that disagrees with the part's own
        annotation (its emotion mapped by :func:`mesr.data.datasets.class_of`
        under ``megc3``) is kept and noted in ``notes``; a row whose clip
        the part does not have is a bad clip (``problem`` set, no frames,
        ``path`` the part's root).
    gaps : list of (kind, clip_id, detail)
        The parts' own gaps, then ``("not_in_ground_truth", clip_id,
        "<part>: emotion <e>, not in combined_3class_gt.csv")`` for each clip
        of a part the ground truth does not list.

    Raises
    ------
    ValueError
        If the ground truth is refused (:func:`read_ground_truth`), a part
        cannot be found or scanned (naming the part), or ``variant`` is
        refused (:func:`part_options`).
    """
    root = Path(root)
    truth = read_ground_truth(root / GROUND_TRUTH)
    records, gaps = [], []
    absent = 0
    for part in PARTS:
        options = part_options(part, variant=variant)
        module, defaults = adapter(part)
        try:
            part_root = module.find_root(root / part, **defaults)
            part_records, part_gaps = module.scan(part_root, **defaults, **options)
        except ValueError as error:
            raise ValueError(f"{NAME} part {part}: {error}") from None
        by_id = {record.clip_id: record for record in part_records}
        listed = set()
        for row in truth[truth.dataset == part].itertuples(index=False):
            listed.add(row.clip_id)
            record = by_id.get(row.clip_id)
            if record is None:
                records.append(_absent(row, part_root))
                absent += 1
                continue
            records.append(_labelled(record, row))
        gaps += part_gaps
        gaps += [
            ("not_in_ground_truth", record.clip_id, f"{part}: emotion {record.emotion}, not in {GROUND_TRUTH}")
            for record in sorted(part_records, key=lambda r: natural_key(r.clip_id))
            if record.clip_id not in listed
        ]
        logger.info(
            "%s: %d clips in %s, %d of them in %s", part, len(by_id), part_root, len(listed & set(by_id)), GROUND_TRUTH
        )
    records.sort(key=lambda r: (r.dataset, natural_key(r.subject), natural_key(r.clip_id)))
    logger.info("%s: %d rows, %d clips not found in their part", GROUND_TRUTH, len(records), absent)
    return records, gaps


def _absent(row, part_root):
    """The bad clip of a ground truth row whose clip its part does not have."""
    return ClipRecord(
        clip_id=row.clip_id,
        dataset=row.dataset,
        subject=row.subject,
        emotion="",
        path=part_root,
        frames=(),
        frame_paths=(),
        problem=f"{GROUND_TRUTH} line {row.line} lists {row.clip_id} of {row.dataset}, which is not in {part_root}",
        label=row.label,
    )


def _labelled(record, row):
    """The part's record with the ground truth's class; a disagreement with the part's annotation is noted."""
    mapped = class_of(record.dataset, record.emotion, "megc3")
    notes = record.notes
    if mapped != row.label:
        note = (
            f"ground truth says {row.label} ({GROUND_TRUTH} line {row.line}), the {_ANNOTATION[row.dataset]}'s "
            f"{record.emotion!r} maps to {mapped or 'none'}"
        )
        logger.warning("%s: %s; the ground truth's class is kept", record.clip_id, note)
        notes = notes + (note,)
    return replace(record, label=row.label, notes=notes)
