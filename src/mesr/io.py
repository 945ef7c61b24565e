"""Atomic file writing: outputs appear under their final name only when complete (docs/reliability.md);
clip files; the natural order of names."""

import contextlib
import glob
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

__all__ = [
    "atomic_path",
    "atomic_dir",
    "make_parent",
    "write_text",
    "save_clip",
    "load_clip",
    "load_npz",
    "check_clip_arrays",
    "natural_key",
]


def make_parent(path):
    """Create the parent folder of ``path``; an error says why ``path`` cannot be written.

    Parameters
    ----------
    path : str or path-like
        A file or folder about to be written.

    Returns
    -------
    pathlib.Path
        The parent folder.

    Raises
    ------
    NotADirectoryError
        If a file stands where a folder of the path should be (names both).
    PermissionError
        If a folder of the path cannot be created or written to (names both).
    """
    path = Path(path)
    parent = path.parent
    for ancestor in [parent, *parent.parents]:
        if ancestor.exists() or ancestor.is_symlink():
            if not ancestor.is_dir():
                raise NotADirectoryError(f"cannot write {path}: {ancestor} is a file, not a folder")
            break
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except PermissionError as error:
        raise PermissionError(f"cannot write {path}: no permission to create {error.filename or parent}") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write {path}: folder {parent} is not writable")
    return parent


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path`` and rename it to ``path`` on success.

    On any exception the temporary file is removed, so a failed or killed
    writer never leaves a file that looks complete. Temporaries of ``path``
    left by a writer killed earlier (``.{name}.XXXXXXXX.tmp``) are removed
    first: each output has one writer at a time.

    Parameters
    ----------
    path : str or path-like
        Final destination. Its parent directory is created if needed.

    Raises
    ------
    OSError
        If ``path`` cannot be written (see :func:`make_parent`).
    """
    path = Path(path)
    make_parent(path)
    for stale in path.parent.glob(f".{glob.escape(path.name)}.{'?' * 8}.tmp"):  # mkstemp's names
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp's 0600 would make outputs private to their writer
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text(path, text):
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)


@contextlib.contextmanager
def atomic_dir(path):
    """Yield an empty ``.partial`` folder beside ``path``, renamed to ``path`` on success.

    A previous ``path`` is replaced only once the new folder is complete; on
    any exception the partial folder is removed. A partial folder left by a
    writer killed earlier is removed first.

    Raises
    ------
    OSError
        If ``path`` cannot be written (see :func:`make_parent`).
    """
    path = Path(path)
    make_parent(path)
    staging = path.with_name(f".{path.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(path, ignore_errors=True)
    staging.rename(path)


def save_clip(path, clip):
    """Write one clip of a set (docs/layout.md#sets-and-naming) as ``.npy``, atomically.

    Parameters
    ----------
    path : str or path-like
        Destination ``results/sets/{set}/{clip_id}.npy``.
    clip : (T, H, W, 3) ndarray of uint8
        RGB frames in temporal order.

    Raises
    ------
    ValueError
        If ``clip`` is not a (T, H, W, 3) uint8 array.
    """
    clip = np.asarray(clip)
    if clip.dtype != np.uint8 or clip.ndim != 4 or clip.shape[-1] != 3:
        raise ValueError(f"clip for {path} must be (T, H, W, 3) uint8, got {clip.shape} {clip.dtype}")
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, clip)


def load_clip(path):
    """Read one clip of a set, checking that it is a (T, H, W, 3) uint8 array.

    Raises
    ------
    ValueError
        If the file cannot be read or holds something else; the message names the file.
    """
    try:
        clip = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: cannot read clip ({error})") from error
    if clip.dtype != np.uint8 or clip.ndim != 4 or clip.shape[-1] != 3:
        raise ValueError(f"{path}: expected a (T, H, W, 3) uint8 clip, found {clip.shape} {clip.dtype}")
    return clip


def load_npz(path, names, *, what):
    """Read the arrays ``names`` of a per-clip ``.npz`` written by a stage (features, optical flow).

    Such a file holds its data arrays (one row per clip), ``clip_id``,
    ``subject``, ``label``, ``params`` (a JSON string of the settings that made
    it) and, in a study of several datasets, ``dataset``.

    Parameters
    ----------
    path : path-like
        The file.
    names : sequence of str
        The arrays it must hold.
    what : str
        What the file is, for the messages (``'features'``, ``'flow'``).

    Returns
    -------
    arrays : dict of str to ndarray
        The arrays ``names``.
    datasets : ndarray or None
        The ``dataset`` array, or None when the file has none.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it is not an ``.npz`` archive of arrays or lacks one of ``names``; the message names the file.
    """
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except Exception as error:  # not an npz: BadZipFile, pickled content, truncated file
        raise ValueError(f"{path}: cannot read {what} file: {error}") from error
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: expected an .npz archive of arrays {list(names)}, got a single array")
    with data:
        missing = [name for name in names if name not in data.files]
        if missing:
            raise ValueError(f"{path}: missing array(s) {missing}; a {what} file holds {list(names)}")
        return {name: data[name] for name in names}, (data["dataset"] if "dataset" in data.files else None)


def check_clip_arrays(path, arrays, datasets, n, *, like):
    """Check the clip metadata of a per-clip ``.npz`` (:func:`load_npz`) whose data arrays have ``n`` rows.

    Returns
    -------
    clip_ids, labels : (n,) ndarray of str
    subjects : (n,) ndarray
        As stored.
    params : dict
        The decoded ``params``.
    datasets : (n,) ndarray of str or None

    Raises
    ------
    ValueError
        Naming the file: a metadata array whose length is not ``n`` (``like`` names the data array it
        should match), duplicate clip ids, ``params`` that is not JSON, or a ``dataset`` array that is not
        one non-empty name per clip with each subject in one dataset.
    """
    for name in ("clip_id", "subject", "label"):
        if arrays[name].shape != (n,):
            raise ValueError(f"{path}: '{name}' must have shape ({n},) like '{like}', got {arrays[name].shape}")
    clip_ids = arrays["clip_id"].astype(str)
    unique, counts = np.unique(clip_ids, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"{path}: duplicate clip ids {unique[counts > 1].tolist()}")
    try:
        params = json.loads(str(arrays["params"]))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: 'params' is not a JSON string: {error}") from error
    subjects = arrays["subject"]
    if datasets is not None:
        if datasets.shape != (n,):
            raise ValueError(f"{path}: 'dataset' must have shape ({n},) like '{like}', got {datasets.shape}")
        if datasets.dtype.kind != "U":
            raise ValueError(f"{path}: 'dataset' must hold dataset names (str), got dtype {datasets.dtype}")
        if np.any(np.char.str_len(np.char.strip(datasets)) == 0):
            raise ValueError(f"{path}: 'dataset' holds empty names; every clip needs the name of its dataset")
        pairs = np.unique(np.stack([subjects.astype(str), datasets]), axis=1)
        found, per_subject = np.unique(pairs[0], return_counts=True)
        if (per_subject > 1).any():
            listing = "; ".join(
                f"{subject}: {', '.join(sorted(pairs[1][pairs[0] == subject]))}" for subject in found[per_subject > 1]
            )
            raise ValueError(
                f"{path}: subject(s) in more than one dataset ({listing}); the LOSO folds need subject ids "
                f"unique across datasets"
            )
    return clip_ids, subjects, arrays["label"].astype(str), params, datasets


def natural_key(name):
    """Sort key of a name in natural order: its runs of digits compare as numbers (``s2`` before ``s10``).

    Examples
    --------
    >>> sorted(["s10", "s2", "sub01", "006", "spNO.10", "spNO.9"], key=natural_key)
    ['006', 's2', 's10', 'spNO.9', 'spNO.10', 'sub01']
    """
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", str(name)) if part
    )
