"""What the synthetic twins of annotated datasets share (docs/data.md#other-datasets): the annotated apex of
a rendered clip, face crops and full frames written as JPEG files, and a coding sheet saved with fixed
dates, so that a seed writes identical bytes."""

import io
import re
import zipfile

import cv2
import numpy as np

__all__ = ["FULL_FRAME_SIZE", "apex_index", "save_sheet", "write_face_crops", "write_full_frames"]

#: Height and width of the full frames (CASME2_RAW_selected/, SAMM/).
FULL_FRAME_SIZE = (480, 640)
_FACE_HEIGHT = 0.6  # of the full frame's height
_JPEG = [cv2.IMWRITE_JPEG_QUALITY, 95]


def apex_index(clip):
    """Index of the frame that differs most from the first one: the annotated apex."""
    change = np.abs(clip.astype(np.float64) - clip[0]).mean(axis=(1, 2, 3))
    return int(np.argmax(change))


def write_face_crops(clip_dir, clip, names):
    """Each frame of ``clip`` ((T, H, W, 3) uint8 RGB) as the JPEG file of its name in ``clip_dir``."""
    clip_dir.mkdir(parents=True)
    for name, frame in zip(names, clip):
        _write_jpeg(clip_dir / name, frame)


def write_full_frames(clip_dir, clip, names, rng):
    """The face, scaled to about 60% of the frame height, near the centre of a static grey-noise background."""
    height, width = FULL_FRAME_SIZE
    scale = _FACE_HEIGHT * height / clip.shape[1]
    size = (round(clip.shape[2] * scale), round(clip.shape[1] * scale))  # (width, height) for OpenCV
    top = (height - size[1]) // 2 + int(rng.integers(-40, 41))  # near the centre, as the subjects sat
    left = (width - size[0]) // 2 + int(rng.integers(-80, 81))
    noise = cv2.GaussianBlur(rng.normal(0, 12, FULL_FRAME_SIZE).astype(np.float32), (0, 0), 3)
    background = np.clip(rng.uniform(105, 150) + noise, 0, 255)[..., None] * rng.uniform(0.95, 1.05, 3)
    background = np.clip(np.rint(background), 0, 255).astype(np.uint8)
    clip_dir.mkdir(parents=True)
    for name, face in zip(names, clip):
        frame = background.copy()
        frame[top : top + size[1], left : left + size[0]] = cv2.resize(face, size, interpolation=cv2.INTER_CUBIC)
        _write_jpeg(clip_dir / name, frame)


def save_sheet(book, path, date):
    """Save an openpyxl workbook with every date inside it set to ``date`` (a 6-tuple), so that it is reproducible.

    Cells holding digits as text are formatted as text (``@``), as Excel shows numbers stored as text.
    """
    for row in book.active.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.isdigit():
                cell.number_format = "@"
    packed = io.BytesIO()
    book.save(packed)
    # openpyxl stamps the save time into docProps/core.xml and the zip entries: fix both.
    stamp = "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z".format(*date).encode()
    with zipfile.ZipFile(packed) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp, data)
            target.writestr(zipfile.ZipInfo(name, date_time=date), data, zipfile.ZIP_DEFLATED)


def _write_jpeg(path, rgb):
    if not cv2.imwrite(str(path), np.ascontiguousarray(rgb[..., ::-1]), _JPEG):
        raise OSError(f"{path}: cannot write JPEG")
