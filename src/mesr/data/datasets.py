"""Dataset adapters, classes and the manifest (docs/data.md#manifest, docs/data.md#other-datasets).

Every dataset has an adapter module, selected by ``dataset.name``: ``smic_hs``,
``smic_vis`` and ``smic_nir`` (:mod:`mesr.data.smic`), ``casme2``
(:mod:`mesr.data.casme2`), ``samm`` (:mod:`mesr.data.samm`), ``casme3_a`` (CAS(ME)^3 part A,
:mod:`mesr.data.casme3`), and the composite ``megc2019`` (:mod:`mesr.data.megc2019`), whose ``PARTS``
are adapters themselves and whose ``part_options`` gives each part's scan options. An adapter knows its
dataset's layout and annotation; it exposes

- ``FPS``, the frame rate;
- ``FRAME_PATTERN`` (or ``frame_pattern(variant)``): the regular expression of
  a frame file name, whose one group is the frame number;
- ``find_root(source, ...)``: the dataset's root below an acquired folder;
- ``scan(root, ...)``: ``(records, gaps)``, one :class:`ClipRecord` per clip
  the annotation lists (or, without annotation, per clip folder), and the
  gaps it found (clip folders not in the annotation, clips missing from a
  numbering).

:func:`build_manifest` turns the records into ``results/manifest.tsv``: it
reads every frame once (a clip that cannot be read is a bad clip), maps each
annotated emotion to the evaluated class (:func:`class_of`) and reports in
``gaps.tsv`` what it leaves out and why.
"""

import importlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from mesr._checks import check_option
from mesr.data.faces import CASCADE_FILE, FACE_COLUMNS, face_region
from mesr.io import atomic_path, natural_key

__all__ = [
    "DATASETS",
    "CLASS_SCHEMES",
    "GAP_COLUMNS",
    "MANIFEST_COLUMNS",
    "ClipRecord",
    "adapter",
    "build_manifest",
    "class_of",
    "class_labels",
    "clip_frames",
    "frame_rate",
    "list_frames",
    "read_clip",
    "read_manifest",
]

logger = logging.getLogger(__name__)

#: Adapter name -> (module, keyword arguments of its find_root and scan).
DATASETS = {
    "smic_hs": ("mesr.data.smic", {"modality": "HS"}),
    "smic_vis": ("mesr.data.smic", {"modality": "VIS"}),
    "smic_nir": ("mesr.data.smic", {"modality": "NIR"}),
    "casme2": ("mesr.data.casme2", {}),
    "samm": ("mesr.data.samm", {}),
    "casme3_a": ("mesr.data.casme3", {}),
    "megc2019": ("mesr.data.megc2019", {}),
}
#: How annotated emotions become the evaluated classes (docs/data.md#classes).
CLASS_SCHEMES = ("megc3", "native")
#: The three classes of MEGC 2019, in the order of the confusion matrices.
MEGC3 = ("negative", "positive", "surprise")
_MEGC3_MAPPING = {
    "negative": "negative",
    "positive": "positive",
    "surprise": "surprise",
    "repression": "negative",
    "anger": "negative",
    "contempt": "negative",
    "disgust": "negative",
    "fear": "negative",
    "sadness": "negative",
    "sad": "negative",
    "happiness": "positive",
    "happy": "positive",
}
#: The challenge's exceptions: CASME II's negative class is disgust and repression only.
_MEGC3_EXCEPTIONS = {"casme2": {"fear": None, "sadness": None}}
#: The emotions of each dataset, in the order of its native classes.
NATIVE_CLASSES = {
    "smic_hs": MEGC3,
    "smic_vis": MEGC3,
    "smic_nir": MEGC3,
    "casme2": ("happiness", "disgust", "repression", "surprise", "others"),
    "samm": ("anger", "contempt", "disgust", "fear", "happiness", "sadness", "surprise", "others"),
    "casme3_a": ("anger", "disgust", "fear", "happy", "sad", "surprise", "others"),
}

MANIFEST_COLUMNS = [
    "clip_id",
    "dataset",
    "subject",
    "label",
    "emotion",
    "n_frames",
    "first_frame",
    "last_frame",
    "onset",
    "apex",
    "offset",
    "height",
    "width",
    "missing_frames",
    "path",
]
GAP_COLUMNS = ["kind", "clip_id", "detail"]


@dataclass(frozen=True)
class ClipRecord:
    """One clip of a dataset as its adapter found it, before its frames are read.

    ``frames`` are the clip's frame numbers in ascending order, already cut to
    onset..offset where the annotation gives them; ``problem`` says why the
    clip cannot be read (it is then a bad clip); ``notes`` are annotation
    defects kept as annotated (each becomes a ``bad_annotation`` gap);
    ``full_frame`` says whether the frames show more than the face (they
    then need a face crop, docs/degradation.md#face-crop); ``label`` is the
    evaluated class when a ground truth gives it (the MEGC 2019 composite),
    else None and the class follows from ``emotion`` (:func:`class_of`).
    """

    clip_id: str
    dataset: str
    subject: str
    emotion: str
    path: Path
    frames: tuple
    frame_paths: tuple
    onset: int | None = None
    apex: int | None = None
    offset: int | None = None
    problem: str | None = None
    notes: tuple = ()
    full_frame: bool = False
    label: str | None = None

    @property
    def missing_frames(self):
        """Frame numbers absent between the first and the last frame."""
        if not self.frames:
            return []
        present = set(self.frames)
        return [f for f in range(self.frames[0], self.frames[-1] + 1) if f not in present]


def adapter(name):
    """The adapter module of a dataset and the keyword arguments of its ``find_root`` and ``scan``.

    Raises
    ------
    ValueError
        If ``name`` is not a dataset (the message lists them).
    """
    module, options = DATASETS[check_option("dataset.name", name, tuple(DATASETS))]
    return importlib.import_module(module), dict(options)


def frame_rate(name):
    """Frames per second of a dataset (its adapter's ``FPS``; SMIC: of the modality; a composite: per part)."""
    module, options = adapter(name)
    return module.MODALITIES[options["modality"]] if "modality" in options else module.FPS


def list_frames(folder, pattern):
    """(frame number, path) of the files of ``folder`` whose name matches ``pattern``, in temporal order.

    ``pattern`` is a regular expression whose first group is the frame number:
    frames are ordered by that integer, never by string (widths vary), and
    other files (``Thumbs.db``, ``.lnk`` shortcuts) are ignored.
    """
    pattern = re.compile(pattern, re.IGNORECASE)
    return sorted(
        (int(m.group(1)), p) for p in Path(folder).iterdir() if p.is_file() and (m := pattern.fullmatch(p.name))
    )


def clip_frames(source, row, *, dataset="smic_hs", **options):
    """Frame paths of one manifest row, in temporal order: its folder's frames from first_frame to last_frame.

    Parameters
    ----------
    source : path-like
        The acquired folder the manifest's paths are relative to.
    row
        A manifest row (``path``, ``first_frame``, ``last_frame``).
    dataset : str
        Adapter name; ``options`` are the keyword arguments of its scan (``variant``).
    """
    module, defaults = adapter(dataset)
    if hasattr(module, "PARTS"):  # a composite: the frames are those of the row's part
        options = module.part_options(row.dataset, **options)
        module, defaults = adapter(row.dataset)
    pattern = module.frame_pattern(**defaults, **options)
    return [
        path
        for number, path in list_frames(Path(source) / row.path, pattern)
        if row.first_frame <= number <= row.last_frame
    ]


def class_of(dataset, emotion, scheme="megc3"):
    """The evaluated class of an annotated emotion, or None when the scheme leaves it out.

    Parameters
    ----------
    dataset : str
        Adapter name (the MEGC 2019 mapping has per-dataset exceptions).
    emotion : str
        The annotated emotion (any case).
    scheme : {"megc3", "native"}
        ``megc3``: negative (repression, anger, contempt, disgust, fear,
        sadness), positive (happiness) and surprise, as MEGC 2019 (CASME II:
        negative is disgust and repression only); other emotions are left
        out. ``native``: the dataset's own emotions (:data:`NATIVE_CLASSES`).

    Examples
    --------
    >>> class_of("casme2", "Repression"), class_of("casme2", "fear"), class_of("casme2", "others", "native")
    ('negative', None, 'others')
    """
    check_option("dataset.classes", scheme, CLASS_SCHEMES)
    emotion = emotion.lower()
    if scheme == "native":
        return emotion if emotion in NATIVE_CLASSES[dataset] else None
    exceptions = _MEGC3_EXCEPTIONS.get(dataset, {})
    return exceptions[emotion] if emotion in exceptions else _MEGC3_MAPPING.get(emotion)


def class_labels(dataset, scheme="megc3"):
    """The classes a study of ``dataset`` evaluates, in confusion-matrix order."""
    check_option("dataset.classes", scheme, CLASS_SCHEMES)
    if scheme == "native" and dataset not in NATIVE_CLASSES:
        raise ValueError(f"{dataset} has no native classes (its ground truth gives megc3 classes): use megc3")
    return list(MEGC3 if scheme == "megc3" else NATIVE_CLASSES[dataset])


def build_manifest(
    source,
    manifest_path,
    gaps_path,
    faces_path=None,
    *,
    dataset="smic_hs",
    classes="megc3",
    on_bad_clip="fail",
    face_crop="none",
    face_margin=0.1,
    **options,
):
    """Scan a dataset and write the manifest, the gaps report and the face regions.

    Every frame is decoded once, so an unreadable file is found here and not
    in a later stage; so is a clip whose onset frame shows no face.

    Parameters
    ----------
    source : path-like
        The acquired folder; the adapter finds the dataset's root below it.
    manifest_path : path-like
        Output TSV with :data:`MANIFEST_COLUMNS`, one row per evaluated clip,
        sorted by dataset, subject and clip id in natural order (``s2``
        before ``s10``). ``path`` is the clip's folder relative to ``source``.
    gaps_path : path-like
        Output TSV (:data:`GAP_COLUMNS`): missing frames, clips missing from a
        numbering, clip folders the annotation does not list, annotation
        defects (``bad_annotation``), clips of no evaluated class
        (``excluded_label``) and skipped bad clips (``skipped_clip``).
    faces_path : path-like, optional
        Output TSV (:data:`mesr.data.faces.FACE_COLUMNS`): the region of each
        manifest clip's frames that becomes HR (the whole frame with
        ``face_crop="none"``).
    dataset : str
        Adapter name (:data:`DATASETS`).
    classes : {"megc3", "native"}
        How emotions map to evaluated classes (:func:`class_of`).
    on_bad_clip : {"fail", "skip"}
        What to do with a clip that cannot be read.
    face_crop : {"none", "haar"}
        ``haar`` finds the face on the onset frame of each clip of full
        frames (:func:`mesr.data.faces.face_region`); a clip without one is
        a bad clip. Face crops are kept whole; full frames read with
        ``none`` are warned about.
    face_margin : float
        Fraction of the face box added on each side.
    **options
        Keyword arguments of the adapter's ``scan`` (e.g. ``variant``).

    Returns
    -------
    pandas.DataFrame
        The manifest.

    Raises
    ------
    ValueError
        On a bad clip with ``on_bad_clip="fail"`` (naming it and the file),
        or when no clip is left.
    """
    check_option("on_bad_clip", on_bad_clip, ("fail", "skip"))
    module, defaults = adapter(dataset)
    source = Path(source)
    root = module.find_root(source, **defaults)
    records, found = module.scan(root, **defaults, **options)
    full_frames = sorted({record.dataset for record in records if record.full_frame})
    if face_crop == "none" and full_frames:
        logger.warning(
            "%s: full frames, and preprocess.face_crop is none: HR128 will be the whole frame, background "
            "included; set preprocess.face_crop: haar",
            ", ".join(full_frames),
        )
    if face_crop != "none" and len(full_frames) < len({record.dataset for record in records}):
        logger.info("face crops are kept whole; preprocess.face_crop applies to full frames only")
    if classes != "megc3" and any(record.label is not None for record in records):
        raise ValueError(f"{dataset} gives its clips the megc3 classes; dataset.classes {classes!r} cannot apply")
    rows, gaps, regions = [], [], []
    for record in records:
        gaps.extend(("bad_annotation", record.clip_id, note) for note in record.notes)
        label = record.label if record.label is not None else class_of(record.dataset, record.emotion, classes)
        if label is None:
            gaps.append(("excluded_label", record.clip_id, f"emotion {record.emotion!r} is no class of {classes}"))
            continue
        try:
            if record.problem:
                raise ValueError(record.problem)
            if not record.frames:
                raise ValueError(f"{record.path}: clip folder holds no frame")
            clip = read_clip(record.frame_paths)
            region = face_region(clip[0], method=face_crop if record.full_frame else "none", margin=face_margin)
            if region is None:
                raise ValueError(f"{record.frame_paths[0]}: no face found on the onset frame ({CASCADE_FILE})")
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
                "dataset": record.dataset,
                "subject": record.subject,
                "label": label,
                "emotion": record.emotion,
                "n_frames": clip.shape[0],
                "first_frame": record.frames[0],
                "last_frame": record.frames[-1],
                "onset": record.onset,
                "apex": record.apex,
                "offset": record.offset,
                "height": clip.shape[1],
                "width": clip.shape[2],
                "missing_frames": len(missing),
                "path": record.path.relative_to(source).as_posix(),
            }
        )
        regions.append((record.clip_id, *region))
    gaps += found  # what the adapter found beside the clips: absent or unlisted clips
    if not rows:
        raise ValueError(f"{root}: no readable micro-expression clip of an evaluated class found")
    rows.sort(key=lambda row: (row["dataset"], natural_key(row["subject"]), natural_key(row["clip_id"])))
    manifest = pd.DataFrame(rows, columns=MANIFEST_COLUMNS).astype(
        {"onset": "Int64", "apex": "Int64", "offset": "Int64"}
    )
    logger.info("%d clips of %d subjects in %s", len(manifest), manifest.subject.nunique(), root)
    with atomic_path(manifest_path) as tmp:
        manifest.to_csv(tmp, sep="\t", index=False)
    with atomic_path(gaps_path) as tmp:
        pd.DataFrame(gaps, columns=GAP_COLUMNS).to_csv(tmp, sep="\t", index=False)
    if faces_path is not None:
        faces = pd.DataFrame(regions, columns=FACE_COLUMNS).set_index("clip_id").loc[manifest.clip_id]
        with atomic_path(faces_path) as tmp:
            faces.reset_index().to_csv(tmp, sep="\t", index=False)
    return manifest


def read_clip(frame_paths):
    """Read image frames (BMP, JPEG, PNG) into one (T, H, W, 3) uint8 RGB array.

    Greyscale images are expanded to three equal channels.

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
            raise ValueError(f"{path}: cannot decode image (truncated, empty or not an image)")
        if frames and image.shape != frames[0].shape:
            raise ValueError(
                f"{path}: frame is {image.shape[1]}x{image.shape[0]}, other frames of the clip are "
                f"{frames[0].shape[1]}x{frames[0].shape[0]}"
            )
        frames.append(image)
    return np.stack(frames)[..., ::-1].copy()


def read_manifest(path):
    """Read ``results/manifest.tsv`` with ids, subjects, labels and paths as strings."""
    strings = {name: str for name in ("clip_id", "dataset", "subject", "label", "emotion", "path")}
    return pd.read_csv(path, sep="\t", dtype={**strings, "onset": "Int64", "apex": "Int64", "offset": "Int64"})


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
