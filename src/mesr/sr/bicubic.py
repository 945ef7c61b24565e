"""Bicubic upscaling with OpenCV: the baseline every learned model is compared with."""

import logging

import cv2
import numpy as np

from mesr._checks import check_array, check_integer

__all__ = ["upscale_bicubic"]

logger = logging.getLogger(__name__)


def upscale_bicubic(frames, scale):
    """Upscale uint8 RGB frames by ``scale`` with OpenCV's bicubic interpolation.

    Parameters
    ----------
    frames : (N, H, W, 3) ndarray of uint8
        RGB frames.
    scale : int
        Integer upscaling factor (>= 1).

    Returns
    -------
    (N, scale*H, scale*W, 3) ndarray of uint8
        Each frame resized with ``cv2.resize(..., interpolation=cv2.INTER_CUBIC)``
        (Keys kernel, a = -0.75; OpenCV rounds and saturates to uint8).

    Raises
    ------
    ValueError
        If ``frames`` is not a 4-D uint8 array with 3 channels, or ``scale``
        is not a positive integer.

    Examples
    --------
    >>> frames = np.zeros((2, 8, 8, 3), dtype=np.uint8)
    >>> upscale_bicubic(frames, 4).shape
    (2, 32, 32, 3)
    """
    frames = _check_frames("frames", frames)
    scale = check_integer("scale", scale)
    n, height, width, _ = frames.shape
    out = np.empty((n, height * scale, width * scale, 3), dtype=np.uint8)
    for i in range(n):
        out[i] = cv2.resize(frames[i], (width * scale, height * scale), interpolation=cv2.INTER_CUBIC)
    return out


def _check_frames(name, frames):
    """Return ``frames`` as an ndarray after checking it is (N, H, W, 3) uint8."""
    frames = check_array(name, frames, ndim=4)
    if frames.dtype != np.uint8:
        raise ValueError(f"{name} must have dtype uint8, got {frames.dtype}")
    if frames.shape[-1] != 3:
        raise ValueError(f"{name} must have 3 (RGB) channels in the last axis, got shape {frames.shape}")
    if min(frames.shape[1:3]) < 1:
        raise ValueError(f"{name} must have non-empty frames, got shape {frames.shape}")
    return frames
