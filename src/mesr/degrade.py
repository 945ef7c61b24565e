"""HR128 and the degraded LR sets (docs/degradation.md; eq. 1 of the paper: L = S·Y·Z + x).

Conventions (also in the README):

- HR: the clip's face region (``results/data/faces.tsv``, the whole frame
  unless ``preprocess.face_crop`` finds a face: :mod:`mesr.data.faces`) of
  every frame resized to ``size`` x ``size`` with OpenCV's area
  interpolation; the aspect ratio is not kept unless ``keep_aspect="crop"``,
  which first cuts the centred square of side min(H, W).
- LR: Gaussian blur of standard deviation ``blur_sigma`` with a kernel of
  2*ceil(3*sigma)+1 taps, borders reflected without repeating the edge pixel
  (OpenCV's BORDER_REFLECT_101, numpy's "reflect"); decimation by s in the
  sampling phase ``phase``: ``centred`` (default) takes the blurred image at
  the centre of every s x s block, HR coordinate s*i + (s-1)/2 (for even s
  between HR pixels: the Gaussian is sampled at half-pixel offsets, 2r+2
  taps); ``corner`` keeps the pixel at offset (s-1)//2 of every block (half
  an HR pixel off the centre for even s); additive Gaussian noise of
  ``noise_sigma`` grey levels; rounding to the nearest integer (ties to
  even); clipping to 0..255.
- The noise generator of frame f of clip c is seeded with
  (seed, crc32(c), f, s), so results never depend on job order.
"""

import logging
import math
import zlib
from pathlib import Path

import cv2
import numpy as np

from mesr._checks import check_array, check_integer, check_option, check_positive
from mesr.data.datasets import clip_frames, read_clip, read_manifest
from mesr.data.faces import crop, read_faces
from mesr.io import atomic_dir, load_clip, save_clip

__all__ = ["PHASES", "gaussian_kernel", "resize_hr", "degrade", "make_hr_set", "make_lr_set"]

logger = logging.getLogger(__name__)


def gaussian_kernel(sigma, *, half_pixel=False):
    """Normalised 1-D Gaussian of 2*ceil(3*sigma)+1 taps, or sampled between pixels.

    Parameters
    ----------
    sigma : float
        Standard deviation in pixels, > 0.
    half_pixel : bool, optional
        Sample the Gaussian at the half-integer offsets -r-0.5 .. r+0.5
        (2r+2 taps, r = ceil(3*sigma)) instead of -r .. r: filtering with
        it, anchored on tap r, gives the blurred image half a pixel after each
        pixel.

    Examples
    --------
    >>> gaussian_kernel(0.8).size, gaussian_kernel(0.8, half_pixel=True).size
    (7, 8)
    """
    check_positive("blur_sigma", sigma)
    radius = math.ceil(3 * sigma)
    positions = np.arange(-radius, radius + 2) - 0.5 if half_pixel else np.arange(-radius, radius + 1)
    taps = np.exp(-0.5 * (positions / sigma) ** 2)
    return taps / taps.sum()


def resize_hr(frames, *, size=128, keep_aspect="stretch"):
    """Resize (T, H, W, 3) uint8 frames to (T, size, size, 3) with area interpolation.

    Parameters
    ----------
    frames : (T, H, W, 3) ndarray of uint8
    size : int
        Side of the square output.
    keep_aspect : {"stretch", "crop"}
        ``stretch`` (as Li et al. 2019) or centre-crop a square first.
    """
    frames = check_array("frames", frames, ndim=4)
    check_option("keep_aspect", keep_aspect, ("stretch", "crop"))
    if keep_aspect == "crop":
        height, width = frames.shape[1:3]
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        frames = frames[:, top : top + side, left : left + side]
    return np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA) for f in frames])


#: Sampling phases of the decimation: where LR pixel i sits on the HR grid.
PHASES = ("centred", "corner")


def degrade(frames, *, scale, blur_sigma, noise_sigma, seed, clip_id, phase="centred"):
    """Blur, decimate, add noise, round and clip: the LR frames of one clip.

    Parameters
    ----------
    frames : (T, H, W, 3) ndarray of uint8
        HR frames; H and W divisible by ``scale``.
    scale : int
        Decimation factor s (2 gives LR64 from HR128, 4 gives LR32).
    blur_sigma : float
        Standard deviation of the Gaussian blur, in HR pixels.
    noise_sigma : float
        Standard deviation of the additive noise in grey levels (0: none).
    seed : int
        Base seed of the noise.
    clip_id : str
        Enters the noise seed, so that each clip has its own noise.
    phase : {"centred", "corner"}, optional
        ``"centred"``: LR pixel i is the blurred image at HR coordinate
        s*i + (s-1)/2, the centre of its s x s block (OpenCV's and MATLAB's
        pixel-centre convention, which bicubic upscaling and the published SR
        weights assume); for even s that point lies between HR pixels, and the
        Gaussian is evaluated at the half-pixel offsets to get there.
        ``"corner"``: LR pixel i is HR pixel s*i + (s-1)//2, half an HR pixel
        off that grid for even s (the study's first convention). The two
        agree for odd s.

    Returns
    -------
    (T, H/s, W/s, 3) ndarray of uint8

    Raises
    ------
    ValueError
        If the frame size is not divisible by ``scale`` or a parameter is out of range.

    Examples
    --------
    >>> hr = np.full((2, 8, 8, 3), 100, np.uint8)
    >>> degrade(hr, scale=2, blur_sigma=0.8, noise_sigma=0, seed=0, clip_id="s1_ne_01").shape
    (2, 4, 4, 3)
    """
    frames = check_array("frames", frames, ndim=4)
    scale = check_integer("scale", scale)
    if frames.shape[1] % scale or frames.shape[2] % scale:
        raise ValueError(f"frames of {frames.shape[2]}x{frames.shape[1]} are not divisible by scale {scale}")
    check_positive("noise_sigma", noise_sigma, allow_zero=True)
    check_option("phase", phase, PHASES)
    # centred, even s: pixel k of the filtered image is the blurred image at k + 0.5, so that pixel (s-1)//2
    # of a block holds the value at its centre (s-1)/2
    half_pixel = phase == "centred" and scale % 2 == 0
    taps = gaussian_kernel(blur_sigma, half_pixel=half_pixel)
    anchor = (taps.size - 2) // 2 if half_pixel else -1  # -1: OpenCV's centre tap
    offset = (scale - 1) // 2
    clip_key = zlib.crc32(clip_id.encode("utf-8"))
    low = []
    for index, frame in enumerate(frames):
        blurred = cv2.sepFilter2D(
            frame.astype(np.float64), -1, taps, taps, anchor=(anchor, anchor), borderType=cv2.BORDER_REFLECT_101
        )
        small = blurred[offset::scale, offset::scale]
        rng = np.random.default_rng([seed, clip_key, index, scale])
        small = small + rng.normal(0.0, noise_sigma, small.shape)
        low.append(np.clip(np.rint(small), 0, 255).astype(np.uint8))
    return np.stack(low)


def make_hr_set(
    manifest, source, output, *, faces=None, size=128, keep_aspect="stretch", dataset="smic_hs", options=None
):
    """Write the HR set: one ``{clip_id}.npy`` per manifest clip, clip by clip.

    Parameters
    ----------
    manifest : path-like
        ``results/manifest.tsv``.
    source : path-like
        The acquired dataset folder (paths in the manifest are relative to it).
    output : path-like
        Set folder to create (written under a temporary name, then renamed).
    faces : path-like, optional
        ``results/data/faces.tsv``: each clip's frames are cropped to its
        region (docs/degradation.md#face-crop) before resizing; None keeps
        whole frames.
    size, keep_aspect
        See :func:`resize_hr`.
    dataset : str
        Adapter name (``dataset.name``), which knows the frame files.
    options : dict, optional
        Keyword arguments of the adapter's scan (``variant``).

    Raises
    ------
    ValueError
        If a clip no longer matches the manifest (frames added or removed).
    """
    clips = read_manifest(manifest)
    regions = read_faces(faces) if faces is not None else {}
    missing = sorted(set(clips.clip_id) - set(regions)) if faces is not None else []
    if missing:
        raise ValueError(f"{faces}: no face region for clip(s) {', '.join(missing)} of {manifest}; rebuild both")
    with atomic_dir(output) as staging:
        for row in clips.itertuples():
            paths = clip_frames(source, row, dataset=dataset, **(options or {}))
            if len(paths) != row.n_frames:
                raise ValueError(
                    f"{Path(source) / row.path}: {len(paths)} frames on disk, {row.n_frames} in {manifest}; "
                    f"rebuild the manifest"
                )
            frames = read_clip(paths)
            if faces is not None:
                frames = crop(frames, regions[row.clip_id])
            save_clip(staging / f"{row.clip_id}.npy", resize_hr(frames, size=size, keep_aspect=keep_aspect))
        logger.info("HR%d: %d clips", size, len(clips))


def make_lr_set(manifest, hr, output, *, scale, blur_sigma, noise_sigma, seed, phase="centred"):
    """Write an LR set degraded from the HR set, clip by clip (see :func:`degrade`)."""
    clips = read_manifest(manifest)
    settings = {"scale": scale, "blur_sigma": blur_sigma, "noise_sigma": noise_sigma, "seed": seed, "phase": phase}
    with atomic_dir(output) as staging:
        for clip_id in clips.clip_id:
            frames = load_clip(Path(hr) / f"{clip_id}.npy")
            save_clip(staging / f"{clip_id}.npy", degrade(frames, clip_id=clip_id, **settings))
        logger.info(
            "x%d degradation (blur %.2f, noise %.2f, %s phase): %d clips",
            scale,
            blur_sigma,
            noise_sigma,
            phase,
            len(clips),
        )
