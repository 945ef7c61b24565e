"""A synthetic MEGC 2019 composite: the twins of its three parts and the organisers' ground truth
(docs/data.md#megc-2019-composite).

The composite cannot be shipped, so tests and demonstrations run on this twin,
read by the real adapter (:mod:`mesr.data.megc2019`). It writes, under
``root/MEGC2019/``:

- ``smic_hs/``: the synthetic SMIC-HS (:func:`mesr.data.synthetic.generate`);
- ``casme2/``: the synthetic CASME II (:func:`mesr.data.synthetic_casme2.write_casme2`);
- ``samm/``: the synthetic SAMM (:func:`mesr.data.synthetic_samm.write_samm`);
- ``combined_3class_gt.csv`` in the organisers' format and with their quirks:
  no header, CRLF line ends, ids that are not the folder names (SMIC ``s01``
  and ``s01_ne_01``, SAMM subject ``6``, CASME II ``sub01`` with the video
  ``EP02_01f``), spaces around the fields of one row. It lists every clip of
  the three twins whose emotion maps to a class of MEGC 2019, with that class,
  except one (:data:`DISAGREEING`), whose label the ground truth changes, as
  happens between the organisers' file and the datasets' sheets.

The parts' clips of no class (``others``, CASME II ``fear``) are left out of
the ground truth, as in the real file.
"""

import logging

from mesr._checks import check_integer, check_option
from mesr.data.casme2 import scan as scan_casme2
from mesr.data.datasets import class_of
from mesr.data.megc2019 import GROUND_TRUTH, LABELS, PARTS
from mesr.data.samm import scan as scan_samm
from mesr.data.smic import CLASSES
from mesr.data.synthetic import generate
from mesr.data.synthetic_casme2 import write_casme2
from mesr.data.synthetic_samm import TOP as SAMM_TOP
from mesr.data.synthetic_samm import write_samm
from mesr.io import atomic_dir

__all__ = ["DISAGREEING", "PRESETS", "TOP", "write_megc2019"]

logger = logging.getLogger(__name__)

#: The folder ``write_megc2019`` writes under its ``root``.
TOP = "MEGC2019"
#: Size presets: those of the parts' twins.
PRESETS = ("mini", "demo")
#: The row whose label disagrees with its part's annotation: the first clip of this part and class (in the
#: part's order) gets this label instead.
DISAGREEING = ("samm", "negative", "positive")
_DATABASES = {"smic_hs": "smic", "casme2": "casme2", "samm": "samm"}
_SMIC_CLASSES = {abbreviation: label for label, abbreviation in CLASSES.items()}


def write_megc2019(root, *, preset="mini", seed=0):
    """Write a synthetic MEGC 2019 composite under ``root/MEGC2019/``.

    Parameters
    ----------
    root : path-like
        Destination; ``root/MEGC2019/`` receives ``smic_hs/``, ``casme2/``,
        ``samm/`` and ``combined_3class_gt.csv``. Written under a temporary
        name and renamed, so a killed run leaves no tree that looks complete.
    preset : {"mini", "demo"}
        The parts' presets: ``mini`` (SMIC-HS 12 clips, CASME II and SAMM 16
        each, 4 subjects each; 41 rows of ground truth: SMIC-HS 4/4/4
        negative/positive/surprise, CASME II 6/4/4, SAMM 6/5/4), ``demo``
        (48 clips of 8 subjects each; 126 rows: 16/16/16, 17/11/10, 20/11/9).
    seed : int
        Everything follows from it: the same seed writes identical files.

    Returns
    -------
    list of str
        The clip ids the ground truth lists, in its order (the parts' clip ids).

    Raises
    ------
    ValueError
        For an unknown preset or a negative seed.

    Examples
    --------
    >>> write_megc2019(tmp_path, preset="mini", seed=0)[:2]  # doctest: +SKIP
    ['s1_ne_01', 's1_po_01']
    """
    check_option("preset", preset, PRESETS)
    seed = check_integer("seed", seed, allow_zero=True)
    with atomic_dir(root) as staging:
        top = staging / TOP
        smic = generate(top / "smic_hs", dataset="smic_hs", preset=preset, seed=seed)
        write_casme2(top / "casme2", preset=preset, seed=seed)
        write_samm(top / "samm", preset=preset, seed=seed)
        clips = {
            "smic_hs": [(clip_id.split("_")[0], clip_id, _SMIC_CLASSES[clip_id.split("_")[1]]) for clip_id in smic],
            "casme2": [(r.subject, r.clip_id, r.emotion) for r in scan_casme2(top / "casme2" / "CASME2")[0]],
            "samm": [(r.subject, r.clip_id, r.emotion) for r in scan_samm(top / "samm" / SAMM_TOP)[0]],
        }
        lines, clip_ids = _ground_truth(clips)
        (top / GROUND_TRUTH).write_bytes("".join(line + "\r\n" for line in lines).encode())
    logger.info("synthetic MEGC 2019: %d clips in %s", len(clip_ids), GROUND_TRUTH)
    return clip_ids


def _ground_truth(clips):
    """The lines of the ground truth (the organisers' ids) and the clip ids they list."""
    lines, clip_ids = [], []
    part, changed_from, changed_to = DISAGREEING
    changed = False
    for name in PARTS:
        for subject, clip_id, emotion in clips[name]:
            label = class_of(name, emotion, "megc3")
            if label is None:
                continue
            if name == part and label == changed_from and not changed:
                label, changed = changed_to, True
            fields = [_DATABASES[name], *_organisers_ids(name, subject, clip_id), str(LABELS.index(label))]
            if len(lines) == 1:
                fields[1:3] = [f" {fields[1]}", f"{fields[2]}  "]  # stray spaces, as in hand-edited files
            lines.append(",".join(fields))
            clip_ids.append(clip_id)
    return lines, clip_ids


def _organisers_ids(part, subject, clip_id):
    """(subject, video) as the organisers' file writes them."""
    if part == "smic_hs":
        number = int(subject[1:])
        return f"s{number:02d}", f"s{number:02d}_{clip_id.split('_', 1)[1]}"
    if part == "casme2":
        return subject, clip_id[len(subject) + 1 :]
    return str(int(subject)), clip_id
