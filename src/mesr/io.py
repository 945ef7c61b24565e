"""Atomic file writing: outputs appear under their final name only when complete (SPEC §13)."""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["atomic_path", "atomic_dir", "write_text", "save_clip", "load_clip"]


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path`` and rename it to ``path`` on success.

    On any exception the temporary file is removed, so a failed or killed
    writer never leaves a file that looks complete.

    Parameters
    ----------
    path : str or path-like
        Final destination. Its parent directory is created if needed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
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
    any exception the partial folder is removed.
    """
    path = Path(path)
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
    """Write one clip of a set (SPEC §4) as ``.npy``, atomically.

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
