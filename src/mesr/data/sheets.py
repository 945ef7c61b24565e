"""What the datasets annotated in spreadsheets share (docs/data.md#other-datasets): cells read as written,
the root found below a source folder, and one clip record per sheet row.

CASME II (:mod:`mesr.data.casme2`) and SAMM (:mod:`mesr.data.samm`) differ in their sheet's layout and
their folders, not in how a row becomes a clip: onset and offset must be frame numbers (else the clip is
bad), a missing or outlying apex is kept and noted, and the clip is the frames onset..offset of its folder.
"""

import math
import numbers
import re
from pathlib import Path

from mesr.data.datasets import ClipRecord, list_frames

__all__ = ["blank", "clip_record", "find_sheet_root", "frame_number", "shown"]

_WHOLE_NUMBER = re.compile(r"^\s*(\d+)(?:\.0*)?\s*$")


def blank(value):
    """True for an empty cell (NaN, None) or one holding only spaces."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    return isinstance(value, str) and not value.strip()


def shown(value):
    """A cell value as the messages show it."""
    return "blank" if blank(value) else repr(value.strip() if isinstance(value, str) else value)


def frame_number(value):
    """A whole number >= 0 from a cell (int, whole float, or text such as ``"46"``); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value) if value >= 0 else None
    if isinstance(value, numbers.Real):
        return int(value) if math.isfinite(value) and value == int(value) and value >= 0 else None
    if isinstance(value, str) and (match := _WHOLE_NUMBER.match(value)):
        return int(match.group(1))
    return None


def find_sheet_root(source, *, dataset, sheet_glob, folders):
    """The folder holding a ``sheet_glob`` file beside one of ``folders``, in ``source`` or up to two levels below.

    Two levels cover a dataset folder inside ``source`` and a doubled top folder after unzipping.

    Raises
    ------
    ValueError
        If ``source`` is not a folder, holds no such root, or holds two at the same depth; the message
        names ``source`` and what was expected.
    """
    source = Path(source)
    if not source.is_dir():
        raise ValueError(f"source must be a folder holding {dataset}, got {str(source)!r} (not a folder)")

    def is_root(folder):
        return any(p.is_file() for p in folder.glob(sheet_glob)) and any((folder / n).is_dir() for n in folders)

    level = [source]
    for _ in range(3):
        found = [folder for folder in level if is_root(folder)]
        if len(found) > 1:
            raise ValueError(f"{source}: more than one {dataset} root found: {', '.join(map(str, found))}")
        if found:
            return found[0]
        level = sorted(child for folder in level for child in folder.iterdir() if child.is_dir())
    raise ValueError(
        f"{source}: no {dataset} found; expected a folder holding {sheet_glob} beside "
        f"{' or '.join(f'{n}/' for n in folders)} in {source}, a sub-folder of it, or one level deeper"
    )


def clip_record(values, clip_dir, where, *, dataset, clip_id, pattern, frame_name, full_frame=False):
    """The record of one sheet row: onset/apex/offset checked, the frames onset..offset of ``clip_dir`` listed.

    Parameters
    ----------
    values : dict
        The row's ``subject``, ``emotion``, and ``onset``, ``apex``, ``offset`` cells as written.
    clip_dir : pathlib.Path
        The clip's frame folder.
    where : str
        The row, as messages name it (``"<sheet> row 17"``).
    dataset, clip_id : str
        The record's dataset and clip id.
    pattern, frame_name : str
        The frame file pattern (:func:`mesr.data.datasets.list_frames`) and its readable form for messages.
    full_frame : bool
        Whether the frames are full frames (:class:`mesr.data.datasets.ClipRecord`).

    Returns
    -------
    ClipRecord
        A bad clip (``problem`` set, no frames) when onset or offset is not a frame number, the offset is 0
        or before the onset, the folder is absent or holds no frame in onset..offset; an apex that is
        missing or outside onset..offset is kept and noted.
    """
    onset, apex, offset = (frame_number(values[k]) for k in ("onset", "apex", "offset"))
    problem = None
    if onset is None:
        problem = f"{where}: onset {shown(values['onset'])} is not a frame number"
    elif offset is None:
        problem = f"{where}: offset {shown(values['offset'])} is not a frame number"
    elif offset == 0:
        problem = f"{where}: offset 0"
    elif offset < onset:
        problem = f"{where}: offset {offset} before onset {onset}"
    notes = []
    if apex is None:
        raw = values["apex"]
        missing = blank(raw) or str(raw).strip() == "/"
        notes.append(f"apex {shown(raw)} ({'missing' if missing else 'not a frame number'})")
    elif problem is None and not onset <= apex <= offset:
        notes.append(f"apex {apex} outside onset..offset {onset}..{offset}")

    numbered = []
    if problem is None and not clip_dir.is_dir():
        problem = f"in {where} but not on disk: {clip_dir}"
    elif problem is None:
        present = list_frames(clip_dir, pattern)
        numbered = [(n, p) for n, p in present if onset <= n <= offset]
        if not numbered:
            found = f"frames on disk {present[0][0]}..{present[-1][0]}" if present else "no frame on disk"
            problem = f"{clip_dir}: no {frame_name} frame in onset..offset {onset}..{offset} ({found})"
    return ClipRecord(
        clip_id=clip_id,
        dataset=dataset,
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
        full_frame=full_frame,
    )
