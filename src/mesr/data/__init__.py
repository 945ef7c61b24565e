"""Data: the SMIC-HS layout and manifest, acquisition, the synthetic twin (docs/data.md)."""

from mesr.data.acquire import acquire_dataset, download, safe_extract, sha256_of
from mesr.data.smic import (
    CLASSES,
    MANIFEST_COLUMNS,
    build_manifest,
    find_hs_root,
    list_frames,
    read_clip,
    read_manifest,
    scan_clips,
)
from mesr.data.synthetic import PRESETS, generate

__all__ = [
    "CLASSES",
    "MANIFEST_COLUMNS",
    "PRESETS",
    "acquire_dataset",
    "build_manifest",
    "download",
    "find_hs_root",
    "generate",
    "list_frames",
    "read_clip",
    "read_manifest",
    "safe_extract",
    "scan_clips",
    "sha256_of",
]
