"""Data: dataset adapters and the manifest, acquisition, the synthetic twins (docs/data.md)."""

from mesr.data.acquire import acquire_dataset, download, safe_extract, sha256_of
from mesr.data.datasets import (
    DATASETS,
    MANIFEST_COLUMNS,
    ClipRecord,
    adapter,
    build_manifest,
    class_labels,
    class_of,
    clip_frames,
    list_frames,
    read_clip,
    read_manifest,
)
from mesr.data.synthetic import PRESETS, generate

__all__ = [
    "DATASETS",
    "MANIFEST_COLUMNS",
    "PRESETS",
    "ClipRecord",
    "acquire_dataset",
    "adapter",
    "build_manifest",
    "class_labels",
    "class_of",
    "clip_frames",
    "download",
    "generate",
    "list_frames",
    "read_clip",
    "read_manifest",
    "safe_extract",
    "sha256_of",
]
