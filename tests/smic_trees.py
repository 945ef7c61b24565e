"""Builders of small SMIC-HS trees in the real layout, and a digest of a whole tree, for tests."""

import hashlib
from pathlib import Path

import cv2
import numpy as np

ABBREVIATIONS = {"negative": "ne", "positive": "po", "surprise": "sur"}


def write_clip(hs, subject, label, number, frames, *, size=(30, 24), seed=0):
    """Write one clip folder; frame k's pixels all equal k + 1 in channel 0 so order can be checked.

    Returns the clip folder.
    """
    clip_dir = Path(hs) / f"s{subject}" / "micro" / label / f"s{subject}_{ABBREVIATIONS[label]}_{number:02d}"
    clip_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    height, width = size
    for k, frame_number in enumerate(frames):
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        image[..., 2] = k + 1  # BGR on disk: channel 2 is red, channel 0 once read as RGB
        assert cv2.imwrite(str(clip_dir / f"reg_image{frame_number}.bmp"), image)
    return clip_dir


def write_tree(root, clips):
    """Write ``root/SMIC_all_cropped/HS`` with ``clips`` = [(subject, label, number, frames), ...]."""
    hs = Path(root) / "SMIC_all_cropped" / "HS"
    for index, (subject, label, number, frames) in enumerate(clips):
        write_clip(hs, subject, label, number, frames, seed=index)
    return hs


def tree_digest(root):
    """SHA-256 over every file's relative path and bytes, in path order: equal digests, equal trees."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
