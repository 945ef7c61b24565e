"""Training patches for the super-resolution networks: HR crops and their LR inputs (docs/models.md).

Conventions (the training recipe of docs/models.md, as idealo ISR samples patches):

- The training images are the png/jpg/jpeg/bmp/tif/tiff files directly inside
  one directory (sorted by name, hidden files left out), read with OpenCV as
  8-bit RGB (alpha dropped, grey expanded to three channels). Images with a
  side shorter than the HR patch are skipped with a warning.
- A sample picks an image uniformly, a uniformly placed HR crop of
  ``patch_size * scale`` pixels, a rotation by a multiple of 90 degrees and a
  horizontal flip (augmentation), and derives its LR input from the
  *augmented* HR crop with the LR operator, so LR and HR are transformed
  alike and every pair satisfies ``LR = operator(HR)`` exactly.
- LR operators: ``'degrade'``, the study's own degradation
  (:func:`mesr.degrade.degrade`: Gaussian blur, decimation, Gaussian noise,
  rounding; docs/degradation.md) with a noise seed drawn per sample; ``'bicubic'``,
  ``cv2.resize(..., interpolation=cv2.INTER_CUBIC)`` from HR to LR size (no
  noise). ``jpeg_quality`` then JPEG-compresses the LR input in memory
  (``cv2.imencode``; ISR's artefact-cancelling training).
- Batch ``k`` is a pure function of ``(seed, k)``: its generator is
  ``np.random.default_rng([seed, 0, k])``, so a resumed training sees exactly
  the batches an uninterrupted one would. The validation pairs come from
  ``np.random.default_rng([seed, 1])``: patches held out from the training
  stream (same images, other positions and noise).
"""

import logging
from pathlib import Path

import cv2
import numpy as np

from mesr._checks import check_integer, check_option, check_positive
from mesr.degrade import PHASES, degrade

__all__ = [
    "IMAGE_SUFFIXES",
    "LR_OPERATORS",
    "SKIMAGE_IMAGES",
    "PatchSampler",
    "default_blur_sigma",
    "export_skimage_images",
    "read_training_images",
]

logger = logging.getLogger(__name__)

#: File suffixes read as training images (case-insensitive).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")

#: LR operators the sampler knows.
LR_OPERATORS = ("degrade", "bicubic")

_TRAIN_STREAM, _VALIDATION_STREAM = 0, 1

#: Natural images bundled with scikit-image (no download), split into training and held-out images.
SKIMAGE_IMAGES = {
    "train": (
        "astronaut",
        "rocket",
        "immunohistochemistry",
        "hubble_deep_field",
        "retina",
        "camera",
        "brick",
        "grass",
        "gravel",
        "coins",
    ),
    "heldout": ("chelsea", "coffee", "moon"),
}


def export_skimage_images(train, heldout):
    """Write the natural images bundled with scikit-image as PNG: training and held-out images.

    The demo trains its small models on these (docs/models.md), so the whole study
    runs with no file from outside; the held-out images measure whether a
    trained model beats bicubic upscaling.

    Parameters
    ----------
    train, heldout : path-like
        Folders to create, each written under a temporary name and renamed.
    """
    import skimage.data

    from mesr.io import atomic_dir

    for names, destination in ((SKIMAGE_IMAGES["train"], train), (SKIMAGE_IMAGES["heldout"], heldout)):
        with atomic_dir(destination) as staging:
            for name in names:
                image = np.asarray(getattr(skimage.data, name)())
                image = np.repeat(image[..., None], 3, axis=-1) if image.ndim == 2 else image[..., :3]
                if not cv2.imwrite(str(staging / f"{name}.png"), np.ascontiguousarray(image[..., ::-1])):
                    raise OSError(f"cannot write {staging / name}.png")
    logger.info(
        "scikit-image images: %d for training in %s, %d held out in %s",
        len(SKIMAGE_IMAGES["train"]),
        train,
        len(SKIMAGE_IMAGES["heldout"]),
        heldout,
    )


def default_blur_sigma(scale):
    """Blur of the operator of docs/degradation.md for a scale: ``0.4 * scale`` (0.8 at x2, 1.6 at x4).

    Examples
    --------
    >>> default_blur_sigma(4)
    1.6
    """
    return round(0.4 * scale, 6)


def read_training_images(directory, *, min_side=1):
    """Read the HR training images of a directory as uint8 RGB arrays.

    Parameters
    ----------
    directory : str or path-like
        Folder holding the images (``IMAGE_SUFFIXES``, not searched recursively).
    min_side : int, optional
        Images with a height or width below this are skipped with a warning.

    Returns
    -------
    names : list of str
        File names of the images kept, sorted.
    images : list of (H, W, 3) ndarray of uint8
        The images, RGB.

    Raises
    ------
    ValueError
        If ``directory`` is not a directory, holds no image file, an image
        cannot be decoded (the message names it), or no image is at least
        ``min_side`` pixels on both sides.

    Notes
    -----
    All images are kept in memory for the whole training (DIV2K's 800
    training images: about 6.6 GiB).

    Examples
    --------
    >>> names, images = read_training_images("DIV2K_train_HR", min_side=64)  # doctest: +SKIP
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"training images directory {directory} does not exist or is not a directory")
    paths = sorted(
        p
        for p in directory.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
    )
    if not paths:
        raise ValueError(f"training images directory {directory} holds no image ({', '.join(IMAGE_SUFFIXES)})")
    names, images, skipped = [], [], []
    for path in paths:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f"training image {path} cannot be decoded by OpenCV")
        if min(bgr.shape[:2]) < min_side:
            skipped.append(path.name)
            logger.warning(
                "skipping training image %s: %dx%d is smaller than the %d px HR patch",
                path,
                bgr.shape[1],
                bgr.shape[0],
                min_side,
            )
            continue
        names.append(path.name)
        images.append(np.ascontiguousarray(bgr[..., ::-1]))
    if not images:
        raise ValueError(
            f"training images directory {directory}: none of its {len(paths)} images is at least "
            f"{min_side}x{min_side} px (the HR patch size)"
        )
    megabytes = sum(image.nbytes for image in images) / 2**20
    logger.info(
        "read %d training images from %s (%.1f MiB; %d too small, skipped)",
        len(images),
        directory,
        megabytes,
        len(skipped),
    )
    return names, images


class PatchSampler:
    """Random, reproducible (LR, HR) training patch pairs from HR images.

    Parameters
    ----------
    images : sequence of (H, W, 3) ndarray of uint8
        HR images, RGB, each at least ``patch_size * scale`` on both sides
        (see :func:`read_training_images`).
    scale : int
        Upscaling factor; HR patches are ``patch_size * scale`` pixels wide.
    patch_size : int
        Side of the LR patches.
    lr_operator : {'degrade', 'bicubic'}, optional
        How LR inputs are made from HR crops (see the module notes).
    blur_sigma : float or None, optional
        Blur of ``'degrade'`` in HR pixels; ``None``: :func:`default_blur_sigma`.
    noise_sigma : float, optional
        Noise of ``'degrade'`` in grey levels (docs/degradation.md: 1.0).
    phase : {'centred', 'corner'}, optional
        Sampling phase of ``'degrade'`` (:func:`mesr.degrade.degrade`).
    jpeg_quality : int or None, optional
        JPEG quality 1..100 applied to the LR inputs; ``None``: no compression.
    augment : bool, optional
        Random rotations by multiples of 90 degrees and flips.
    seed : int, optional
        Seed of every random choice (STYLE §15).

    Raises
    ------
    ValueError
        If an option is out of range or an image is smaller than the HR patch.

    References
    ----------
    ISR's data handler: https://github.com/idealo/image-super-resolution

    Examples
    --------
    >>> image = np.zeros((80, 80, 3), np.uint8)
    >>> sampler = PatchSampler([image], scale=2, patch_size=16, seed=0)
    >>> lr, hr = sampler.batch(0, 4)
    >>> lr.shape, hr.shape
    ((4, 16, 16, 3), (4, 32, 32, 3))
    """

    def __init__(
        self,
        images,
        *,
        scale,
        patch_size,
        lr_operator="degrade",
        blur_sigma=None,
        noise_sigma=1.0,
        phase="centred",
        jpeg_quality=None,
        augment=True,
        seed=0,
    ):
        scale, patch_size = check_integer("scale", scale), check_integer("patch_size", patch_size)
        check_option("lr_operator", lr_operator, LR_OPERATORS)
        blur_sigma = default_blur_sigma(scale) if blur_sigma is None else blur_sigma
        check_positive("blur_sigma", blur_sigma)
        check_positive("noise_sigma", noise_sigma, allow_zero=True)
        self.phase = check_option("phase", phase, PHASES)
        if jpeg_quality is not None and (
            isinstance(jpeg_quality, bool)
            or not isinstance(jpeg_quality, (int, np.integer))
            or not 1 <= jpeg_quality <= 100
        ):
            raise ValueError(f"jpeg_quality must be an integer in 1..100 or None, got {jpeg_quality!r}")
        seed = check_integer("seed", seed, allow_zero=True)
        self.scale, self.patch_size = scale, patch_size
        self.hr_size = self.scale * self.patch_size
        self.images = [np.asarray(image) for image in images]
        if not self.images:
            raise ValueError("images must hold at least one image")
        for index, image in enumerate(self.images):
            if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
                raise ValueError(f"images[{index}] must be (H, W, 3) uint8, got {image.shape} {image.dtype}")
            if min(image.shape[:2]) < self.hr_size:
                raise ValueError(
                    f"images[{index}] of {image.shape[1]}x{image.shape[0]} px is smaller than "
                    f"the {self.hr_size} px HR patch"
                )
        self.lr_operator = lr_operator
        self.blur_sigma, self.noise_sigma = float(blur_sigma), float(noise_sigma)
        self.jpeg_quality = None if jpeg_quality is None else int(jpeg_quality)
        self.augment = bool(augment)
        self.seed = seed

    def batch(self, index, batch_size):
        """Training batch ``index``, a pure function of ``(seed, index)``.

        Parameters
        ----------
        index : int
            Batch number (the training step).
        batch_size : int
            Pairs in the batch.

        Returns
        -------
        lr : (batch_size, p, p, 3) ndarray of uint8
        hr : (batch_size, p*s, p*s, 3) ndarray of uint8
        """
        return self._pairs(np.random.default_rng([self.seed, _TRAIN_STREAM, int(index)]), batch_size)

    def validation_pairs(self, count):
        """The held-out validation pairs: ``count`` pairs from their own random stream.

        Returns
        -------
        lr : (count, p, p, 3) ndarray of uint8
        hr : (count, p*s, p*s, 3) ndarray of uint8
        """
        return self._pairs(np.random.default_rng([self.seed, _VALIDATION_STREAM]), count)

    def make_lr(self, hr, *, noise_seed):
        """Apply the LR operator (and JPEG compression) to one HR patch.

        Parameters
        ----------
        hr : (p*s, p*s, 3) ndarray of uint8
        noise_seed : int
            Seed of the ``'degrade'`` noise.

        Returns
        -------
        (p, p, 3) ndarray of uint8
        """
        if self.lr_operator == "degrade":
            lr = degrade(
                hr[None],
                scale=self.scale,
                blur_sigma=self.blur_sigma,
                noise_sigma=self.noise_sigma,
                seed=int(noise_seed),
                clip_id="training-patch",
                phase=self.phase,
            )[0]
        else:
            lr = cv2.resize(hr, (self.patch_size, self.patch_size), interpolation=cv2.INTER_CUBIC)
        if self.jpeg_quality is not None:
            lr = _jpeg(lr, self.jpeg_quality)
        return lr

    def _pairs(self, rng, count):
        count = check_integer("the number of pairs", count)
        size, p = self.hr_size, self.patch_size
        lr = np.empty((count, p, p, 3), np.uint8)
        hr = np.empty((count, size, size, 3), np.uint8)
        for i in range(count):
            # the same draws whatever the options, so that options never shift the crops
            image = self.images[rng.integers(len(self.images))]
            top = rng.integers(image.shape[0] - size + 1)
            left = rng.integers(image.shape[1] - size + 1)
            turns, flip = rng.integers(4), rng.integers(2)
            noise_seed = rng.integers(2**31)
            crop = image[top : top + size, left : left + size]
            if self.augment:
                crop = np.rot90(crop, turns)
                if flip:
                    crop = crop[:, ::-1]
            hr[i] = crop
            lr[i] = self.make_lr(hr[i], noise_seed=noise_seed)
        return lr, hr


def _jpeg(rgb, quality):
    """JPEG-compress and decode an RGB uint8 image in memory (OpenCV's encoder)."""
    ok, buffer = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV always encodes a uint8 image
        raise RuntimeError("OpenCV failed to JPEG-encode a training patch")
    return np.ascontiguousarray(cv2.imdecode(buffer, cv2.IMREAD_COLOR)[..., ::-1])
