"""Reconstruction quality: PSNR and SSIM of every SR set against HR128 (docs/quality.md, Table 1).

Conventions (those of docs/quality.md, held by the tests):

- The primary scores are on the luma channel Y of ITU-R BT.601,
  ``Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255`` on 0..255 RGB values,
  kept as float64 (not rounded), data range 255, with a border of ``s``
  pixels (the scale factor) cropped on each side before scoring. The same
  scores on the three RGB channels (same border) are reported beside them.
- SSIM is the one of Wang et al. (2004): Gaussian weights of sigma 1.5
  (an 11-tap window: scipy's ``gaussian_filter`` truncated at 3.5 sigma,
  ``mode="reflect"``), K1 = 0.01, K2 = 0.03, population (not sample)
  covariances, and the mean of the SSIM map after dropping its 5-pixel rim
  (the window radius). This is what
  ``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=255)`` computes; it is implemented
  here, vectorised over frames, so the library does not depend on
  scikit-image (the tests compare both). On RGB, SSIM is the mean of the
  three channels' SSIMs, as scikit-image's ``channel_axis``.
- PSNR is ``10 log10(data_range**2 / MSE)``, the MSE over all scored pixels
  (and channels) of one frame; identical frames give ``inf`` (as
  scikit-image, without its warning).
- A set's score is the arithmetic mean over all frames of all its clips of
  the per-frame scores (not the PSNR of the pooled MSE). A frame with an
  infinite PSNR makes its set's mean PSNR ``inf``: it is kept, not skipped
  nor capped, so that a set identical to HR shows as such.

Dtype policy: inputs may be any real dtype; they are converted to float64
before any arithmetic, and all sums accumulate in float64.
"""

import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage

from mesr._checks import check_array, check_integer, check_positive
from mesr.io import atomic_path, load_clip
from mesr.sr.bicubic import upscale_bicubic

__all__ = ["COLUMNS", "METRICS", "rgb_to_y", "psnr", "ssim", "frame_quality", "quality_set", "quality_means"]

logger = logging.getLogger(__name__)

#: Per-frame scores, in the order of the quality TSV's columns after ``clip_id`` and ``frame``.
METRICS = ("psnr_y", "ssim_y", "psnr_rgb", "ssim_rgb")

#: Columns of ``results/quality/{set}.tsv``.
COLUMNS = ("clip_id", "frame") + METRICS

_SIGMA = 1.5
_TRUNCATE = 3.5
_RADIUS = int(_TRUNCATE * _SIGMA + 0.5)  # 5, as scipy.ndimage computes it
_WINDOW = 2 * _RADIUS + 1  # 11
_K1, _K2 = 0.01, 0.03
_CHUNK = 32  # frames scored at once: bounds memory for long clips


# --------------------------------------------------------------------------- colour


def rgb_to_y(image):
    """Luma Y of ITU-R BT.601 from 0..255 RGB values, as float64.

    Parameters
    ----------
    image : (..., 3) array_like
        RGB values in 0..255 (uint8 or float), channels in the last axis.

    Returns
    -------
    (...) ndarray of float64
        ``16 + (65.481 R + 128.553 G + 24.966 B) / 255``: 16 for black, 235
        for white. Not rounded.

    Raises
    ------
    ValueError
        If the last axis does not hold 3 channels.

    Examples
    --------
    >>> rgb_to_y(np.array([[0, 0, 0], [255, 255, 255]], dtype=np.uint8)).round(6).tolist()
    [16.0, 235.0]
    """
    image = np.asarray(image)
    if image.ndim < 1 or image.shape[-1] != 3:
        raise ValueError(f"image must have 3 (RGB) channels in the last axis, got shape {image.shape}")
    if image.dtype.kind not in "biuf":
        raise ValueError(f"image must hold real numbers, got dtype {image.dtype}")
    rgb = image.astype(np.float64, copy=False)
    return 16.0 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255.0


# --------------------------------------------------------------------------- kernels (clean input)


def _crop(array, border, axes):
    """``array`` without ``border`` pixels on each side of ``axes``."""
    if border == 0:
        return array
    index = [slice(None)] * array.ndim
    for axis in axes:
        index[axis] = slice(border, array.shape[axis] - border)
    return array[tuple(index)]


def _psnr_kernel(reference, test, data_range, axes):
    """PSNR over ``axes`` of float64 arrays (other axes kept): inf where the MSE is 0."""
    mse = np.mean(np.square(reference - test), axis=axes, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(data_range**2 / mse)


def _ssim_kernel(reference, test, data_range, axes):
    """Mean SSIM (Wang et al. 2004) over the two spatial ``axes`` of float64 arrays, other axes kept."""

    def blur(array):
        return ndimage.gaussian_filter(array, sigma=_SIGMA, truncate=_TRUNCATE, mode="reflect", axes=axes)

    ux, uy = blur(reference), blur(test)
    vx = blur(reference * reference) - ux * ux
    vy = blur(test * test) - uy * uy
    vxy = blur(reference * test) - ux * uy
    c1, c2 = (_K1 * data_range) ** 2, (_K2 * data_range) ** 2
    ssim_map = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return _crop(ssim_map, _RADIUS, axes).mean(axis=axes, dtype=np.float64)


def _frames_quality(hr, sr, border):
    """Per-frame scores of (N, H, W, 3) float64 clips: dict METRICS -> (N,) float64."""
    spatial = (1, 2)
    hr_y, sr_y = _crop(rgb_to_y(hr), border, spatial), _crop(rgb_to_y(sr), border, spatial)
    hr, sr = _crop(hr, border, spatial), _crop(sr, border, spatial)
    return {
        "psnr_y": _psnr_kernel(hr_y, sr_y, 255.0, spatial),
        "ssim_y": _ssim_kernel(hr_y, sr_y, 255.0, spatial),
        "psnr_rgb": _psnr_kernel(hr, sr, 255.0, (1, 2, 3)),
        "ssim_rgb": _ssim_kernel(hr, sr, 255.0, spatial).mean(axis=-1),
    }


# --------------------------------------------------------------------------- public scores


def _check_border(border):
    if isinstance(border, bool) or not isinstance(border, (int, np.integer)) or border < 0:
        raise ValueError(f"border must be an integer >= 0, got {border!r}")
    return int(border)


def _check_pair(reference, test, *, data_range, border, channel_axis, window):
    """Validated float64 copies of an image pair, with batch axis 0 added and the channel axis last."""
    reference = check_array("reference", reference, ndim=(2, 3))
    test = check_array("test", test, ndim=(2, 3))
    for name, array in (("reference", reference), ("test", test)):
        if array.dtype.kind not in "biuf":
            raise ValueError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if reference.shape != test.shape:
        raise ValueError(f"reference and test must have the same shape, got {reference.shape} and {test.shape}")
    check_positive("data_range", data_range)
    border = _check_border(border)
    if channel_axis is None:
        if reference.ndim != 2:
            raise ValueError(f"reference must be 2-D (H, W) without channel_axis, got shape {reference.shape}")
    else:
        if reference.ndim != 3:
            raise ValueError(f"reference must be 3-D with channel_axis={channel_axis}, got shape {reference.shape}")
        if (
            isinstance(channel_axis, bool)
            or not isinstance(channel_axis, (int, np.integer))
            or not -3 <= channel_axis < 3
        ):
            raise ValueError(f"channel_axis must be None or an integer in [-3, 2], got {channel_axis!r}")
        reference, test = np.moveaxis(reference, channel_axis, -1), np.moveaxis(test, channel_axis, -1)
    height, width = reference.shape[:2]
    if min(height, width) - 2 * border < window:
        raise ValueError(
            f"border={border} leaves {height - 2 * border}x{width - 2 * border} pixels of {height}x{width} images; "
            f"at least {window}x{window} are needed"
        )
    as_batch = [np.asarray(a, dtype=np.float64)[np.newaxis] for a in (reference, test)]
    return as_batch[0], as_batch[1], border


def psnr(reference, test, *, data_range=255, border=0, channel_axis=None):
    """Peak signal-to-noise ratio of ``test`` against ``reference``, in dB.

    Parameters
    ----------
    reference, test : (H, W) or (H, W, C) array_like
        The images, of the same shape; any real dtype (scored in float64).
    data_range : float, optional
        Peak-to-peak range of the values (255 for 0..255 images).
    border : int, optional
        Pixels cropped on each side of both spatial axes before scoring
        (docs/quality.md: the scale factor).
    channel_axis : int, optional
        Axis of the channels of 3-D images (not cropped); the MSE pools all
        channels. None: 2-D images.

    Returns
    -------
    float
        ``10 log10(data_range**2 / MSE)``; ``inf`` for identical images.

    Raises
    ------
    ValueError
        On shapes that differ or do not fit ``channel_axis``, a negative or
        non-integer ``border``, a border that leaves no pixel, or a
        non-positive ``data_range``.

    See Also
    --------
    skimage.metrics.peak_signal_noise_ratio : the same value on the cropped arrays.

    Examples
    --------
    >>> reference = np.zeros((4, 4))
    >>> round(psnr(reference, reference + 1.0), 4)
    48.1308
    >>> psnr(reference, reference)
    inf
    """
    reference, test, border = _check_pair(
        reference, test, data_range=data_range, border=border, channel_axis=channel_axis, window=1
    )
    axes = tuple(range(1, reference.ndim))
    spatial = (1, 2)
    value = _psnr_kernel(_crop(reference, border, spatial), _crop(test, border, spatial), float(data_range), axes)
    return float(value[0])


def ssim(reference, test, *, data_range=255, border=0, channel_axis=None):
    """Mean structural similarity (Wang et al. 2004) of ``test`` against ``reference``.

    Gaussian weights of sigma 1.5 (11x11 window), K1 = 0.01, K2 = 0.03,
    population covariances; the mean of the SSIM map without its 5-pixel rim.

    Parameters
    ----------
    reference, test : (H, W) or (H, W, C) array_like
        The images, of the same shape; any real dtype (scored in float64).
    data_range : float, optional
        Peak-to-peak range of the values (255 for 0..255 images).
    border : int, optional
        Pixels cropped on each side of both spatial axes before scoring.
    channel_axis : int, optional
        Axis of the channels of 3-D images; the result is the mean of the
        channels' SSIMs. None: 2-D images.

    Returns
    -------
    float
        Mean SSIM, at most 1 (for identical images).

    Raises
    ------
    ValueError
        On shapes that differ or do not fit ``channel_axis``, a negative or
        non-integer ``border``, fewer than 11x11 pixels left after cropping,
        or a non-positive ``data_range``.

    See Also
    --------
    skimage.metrics.structural_similarity : the same value with
        ``gaussian_weights=True, sigma=1.5, use_sample_covariance=False``.

    References
    ----------
    Z. Wang, A. C. Bovik, H. R. Sheikh and E. P. Simoncelli, "Image quality
    assessment: from error visibility to structural similarity", IEEE Trans.
    Image Process. 13(4), 600-612, 2004. doi:10.1109/TIP.2003.819861

    Examples
    --------
    >>> image = np.arange(256, dtype=float).reshape(16, 16)
    >>> ssim(image, image)
    1.0
    """
    reference, test, border = _check_pair(
        reference, test, data_range=data_range, border=border, channel_axis=channel_axis, window=_WINDOW
    )
    spatial = (1, 2)
    value = _ssim_kernel(_crop(reference, border, spatial), _crop(test, border, spatial), float(data_range), spatial)
    return float(np.mean(value[0]))


def frame_quality(hr_frame, sr_frame, *, scale):
    """PSNR and SSIM of one SR frame against its HR frame, on Y and on RGB (docs/quality.md).

    Parameters
    ----------
    hr_frame, sr_frame : (H, W, 3) array_like
        RGB frames with values in 0..255 (uint8 or float), of the same shape.
    scale : int
        The SR scale factor: ``scale`` pixels are cropped on each side.

    Returns
    -------
    dict
        ``psnr_y``, ``ssim_y`` (on BT.601 Y, see :func:`rgb_to_y`),
        ``psnr_rgb``, ``ssim_rgb`` (on the three channels); data range 255.

    Raises
    ------
    ValueError
        If the frames are not (H, W, 3) arrays of the same shape, or ``scale``
        is not a positive integer.

    References
    ----------
    Z. Wang et al. (2004), doi:10.1109/TIP.2003.819861

    Examples
    --------
    >>> frame = np.full((32, 32, 3), 128, dtype=np.uint8)
    >>> frame_quality(frame, frame, scale=2)
    {'psnr_y': inf, 'ssim_y': 1.0, 'psnr_rgb': inf, 'ssim_rgb': 1.0}
    """
    scale = check_integer("scale", scale)
    hr_frame = check_array("hr_frame", hr_frame, ndim=3)
    sr_frame = check_array("sr_frame", sr_frame, ndim=3)
    for name, frame in (("hr_frame", hr_frame), ("sr_frame", sr_frame)):
        if frame.shape[-1] != 3:
            raise ValueError(f"{name} must be (H, W, 3) RGB, got shape {frame.shape}")
    hr_y, sr_y = rgb_to_y(hr_frame), rgb_to_y(sr_frame)
    return {
        "psnr_y": psnr(hr_y, sr_y, data_range=255, border=scale),
        "ssim_y": ssim(hr_y, sr_y, data_range=255, border=scale),
        "psnr_rgb": psnr(hr_frame, sr_frame, data_range=255, border=scale, channel_axis=-1),
        "ssim_rgb": ssim(hr_frame, sr_frame, data_range=255, border=scale, channel_axis=-1),
    }


# --------------------------------------------------------------------------- sets


def _load(folder, clip_id):
    path = Path(folder) / f"{clip_id}.npy"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: clip file missing (clip {clip_id!r} of set folder {folder})")
    return path, load_clip(path)


def quality_set(hr_dir, sr_dir, clip_ids, output_tsv, *, scale, upscale_lr=False):
    """Score every frame of a set against HR128 and write ``results/quality/{set}.tsv`` (docs/quality.md).

    Parameters
    ----------
    hr_dir : path-like
        The HR set folder (``results/sets/HR128``).
    sr_dir : path-like
        The folder of the set scored: an SR set, or an LR set with
        ``upscale_lr=True``.
    clip_ids : iterable of str
        Clips to score: ``{clip_id}.npy`` in both folders, (T, H, W, 3) uint8.
    output_tsv : path-like
        Written atomically, one row per frame: columns ``clip_id``, ``frame``
        (index in the clip, from 0), ``psnr_y``, ``ssim_y``, ``psnr_rgb``,
        ``ssim_rgb`` (full precision; identical frames give ``inf``).
    scale : int
        The set's scale factor (2 for SR64/LR64, 4 for SR32/LR32): the border
        cropped.
    upscale_lr : bool, optional
        Whether ``sr_dir`` holds LR clips to upscale bicubically first, with
        :func:`mesr.sr.upscale_bicubic` (``cv2.resize``, ``INTER_CUBIC``,
        rounded to uint8: the same frames as the ``bicubic`` SR model).

    Returns
    -------
    dict
        Mean of each score over all frames of all clips (keys ``psnr_y``,
        ``ssim_y``, ``psnr_rgb``, ``ssim_rgb``); an infinite frame PSNR makes
        the mean PSNR infinite.

    Raises
    ------
    FileNotFoundError
        If a clip file is missing (the message names it).
    ValueError
        If no clip is given, a file is not a (T, H, W, 3) uint8 clip, an SR
        clip's shape differs from its HR clip's, or an LR clip's size times
        ``scale`` is not the HR size (each naming the file).

    References
    ----------
    Z. Wang et al. (2004), doi:10.1109/TIP.2003.819861

    Examples
    --------
    >>> means = quality_set("results/sets/HR128", "results/sets/SR64-esrgan", ["s1_ne_01"],
    ...                     "results/quality/SR64-esrgan.tsv", scale=2)  # doctest: +SKIP
    """
    scale = check_integer("scale", scale)
    clip_ids = [str(c) for c in ([clip_ids] if isinstance(clip_ids, str) else clip_ids)]
    if not clip_ids:
        raise ValueError("clip_ids must name at least one clip, got none")
    columns = {name: [] for name in COLUMNS}
    for clip_id in clip_ids:
        hr_path, hr = _load(hr_dir, clip_id)
        path, clip = _load(sr_dir, clip_id)
        if upscale_lr:
            if (clip.shape[0], clip.shape[1] * scale, clip.shape[2] * scale) != hr.shape[:3]:
                raise ValueError(
                    f"{path}: LR clip of shape {clip.shape} upscaled x{scale} does not match the HR clip "
                    f"{hr_path} of shape {hr.shape}"
                )
            clip = upscale_bicubic(clip, scale)
        elif clip.shape != hr.shape:
            raise ValueError(
                f"{path}: clip of shape {clip.shape} does not match the HR clip {hr_path} of shape {hr.shape}"
            )
        for start in range(0, len(hr), _CHUNK):
            scores = _frames_quality(
                hr[start : start + _CHUNK].astype(np.float64), clip[start : start + _CHUNK].astype(np.float64), scale
            )
            for name in METRICS:
                columns[name].append(scores[name])
        columns["clip_id"] += [clip_id] * len(hr)
        columns["frame"].append(np.arange(len(hr)))
    table = pd.DataFrame(
        {name: (values if name == "clip_id" else np.concatenate(values)) for name, values in columns.items()}
    )
    with atomic_path(output_tsv) as tmp:
        table.to_csv(tmp, sep="\t", index=False, lineterminator="\n")
    means = {name: float(table[name].mean()) for name in METRICS}
    logger.info(
        "%s: %d frames of %d clips, PSNR-Y %.2f dB, SSIM-Y %.4f",
        output_tsv,
        len(table),
        len(clip_ids),
        means["psnr_y"],
        means["ssim_y"],
    )
    return means


def quality_means(path):
    """Per-set means of a quality TSV written by :func:`quality_set`.

    Parameters
    ----------
    path : path-like
        ``results/quality/{set}.tsv``.

    Returns
    -------
    dict
        Mean of ``psnr_y``, ``ssim_y``, ``psnr_rgb``, ``ssim_rgb`` over all
        rows (frames), and ``frames``, the number of rows. ``inf`` frame PSNRs
        are kept, making the mean infinite.

    Raises
    ------
    ValueError
        If the file lacks a column, holds no row or a non-numeric score (the
        message names the file).

    Examples
    --------
    >>> quality_means("results/quality/SR64-esrgan.tsv")["psnr_y"]  # doctest: +SKIP
    35.79...
    """
    table = pd.read_csv(path, sep="\t", dtype={"clip_id": str})
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing} of a quality table")
    if table.empty:
        raise ValueError(f"{path}: no frame scored (empty quality table)")
    means = {}
    for name in METRICS:
        values = pd.to_numeric(table[name], errors="coerce")
        if values.isna().any():
            raise ValueError(f"{path}: column {name} holds non-numeric or empty values")
        means[name] = float(values.mean())
        if math.isinf(means[name]):
            logger.info("%s: some frames are identical to HR, mean %s is inf", path, name)
    means["frames"] = len(table)
    return means
