"""Batched, optionally tiled super-resolution inference of uint8 clips (docs/models.md).

Frames go in as uint8 RGB, are scaled to float32 0..1 on the device, pass
through the network in batches (one ``tf.function`` per model, traced once
for any batch and frame size), and come out clipped to 0..1, times 255,
rounded to uint8.

Tiling. Frames larger than ``max_pixels`` (or every frame when ``tile`` is
given) are cut into cores of ``tile`` x ``tile`` LR pixels, each run inside a
window that extends ``overlap`` pixels beyond the core on every side (windows
are shifted inwards at the frame border, so all have one shape and batch
together); only the core of each window's output is kept. A convolution with
``'same'`` padding sees zeros at the frame border in both cases, so when
``overlap`` is at least the network's receptive-field radius
(:func:`receptive_field_radius`, the default) the stitched frame equals
whole-frame inference up to float rounding. A smaller overlap trades exactness
for speed (ISR uses 2 px), leaving seams. The radius is large for these deep
networks (RDN C6 D20 x2: 128 LR px), so for the study's 32-64 px frames
tiling changes nothing and is not used.
"""

import logging
import math
import time
import weakref
from pathlib import Path

import numpy as np

from mesr._checks import check_integer
from mesr.data.datasets import read_manifest
from mesr.io import atomic_dir, load_clip, save_clip
from mesr.sr.bicubic import _check_frames, upscale_bicubic

__all__ = ["receptive_field_radius", "superresolve_set", "upscale", "upscale_set"]

logger = logging.getLogger(__name__)

#: Frames with more LR pixels than this are tiled when ``tile`` is not given.
MAX_PIXELS = 256 * 256

_COMPILED = weakref.WeakKeyDictionary()


def receptive_field_radius(model):
    """Receptive-field radius of a convolutional SR network, in LR pixels.

    Walks the layers backwards from the output: a convolution adds
    ``dilation * (kernel - 1) / 2``; an upsampling by ``s`` (``UpSampling2D``
    or :class:`~mesr.sr.layers.PixelShuffle`) maps a radius ``r`` at the
    higher resolution to ``ceil(r / s)`` below it, and a pixel-unshuffle by
    ``s`` (Real-ESRGAN x2) maps ``r`` to ``r * s + s - 1`` above it. Every convolution is
    counted, so for networks whose convolutions all lie on one chain (RDN,
    RRDN, nESRGAN+; parallel 1x1 convolutions add nothing) this is the
    exact radius, and an upper bound otherwise.

    Parameters
    ----------
    model : keras.Model
        A functional model (layers in topological order).

    Returns
    -------
    int
        An LR output pixel's core depends on input pixels at most this far away.

    Examples
    --------
    >>> from mesr.sr import build
    >>> receptive_field_radius(build("rdn", {"C": 1, "D": 1, "G": 4, "G0": 4}, 2))
    9
    """
    import keras

    from mesr.sr.layers import PixelShuffle, PixelUnshuffle

    radius = 0
    for layer in reversed(model.layers):
        if isinstance(layer, keras.layers.Conv2D):
            radius += max((k - 1) * d // 2 for k, d in zip(layer.kernel_size, layer.dilation_rate))
        elif isinstance(layer, keras.layers.UpSampling2D):
            radius = math.ceil(radius / max(layer.size))
        elif isinstance(layer, PixelShuffle):
            radius = math.ceil(radius / layer.scale)
        elif isinstance(layer, PixelUnshuffle):  # r pixels below are at most r*s + s - 1 pixels above
            radius = radius * layer.scale + layer.scale - 1
    return radius


def upscale(model, frames, *, scale=None, batch_size=16, tile=None, overlap=None, max_pixels=MAX_PIXELS):
    """Super-resolve uint8 RGB frames with a network (or bicubically).

    Parameters
    ----------
    model : keras.Model or 'bicubic'
        A network from :func:`mesr.sr.build` (input 0..1 RGB, any size), or
        ``'bicubic'`` for the OpenCV baseline (then ``scale`` is required and
        the tiling options are unused).
    frames : (N, H, W, 3) ndarray of uint8
        RGB frames, N >= 1.
    scale : int or None, optional
        Expected upscaling factor; ``None`` takes it from the network's output.
    batch_size : int, optional
        Frames (or tiles) per network call.
    tile : int or None, optional
        Core size of the tiles in LR pixels; ``None`` tiles only frames with
        more than ``max_pixels`` pixels, with cores of
        ``max(isqrt(max_pixels) - 2 * overlap, 32)`` px.
    overlap : int or None, optional
        Margin of every tile in LR pixels; ``None`` uses the receptive-field
        radius of the network, which makes tiled and whole-frame inference
        equal up to float rounding (see the module notes).
    max_pixels : int, optional
        Frames with more LR pixels than this are tiled when ``tile`` is None.

    Returns
    -------
    (N, s*H, s*W, 3) ndarray of uint8
        ``round(255 * clip(model(frames / 255), 0, 1))``.

    Raises
    ------
    ValueError
        If ``frames`` is not (N, H, W, 3) uint8 with N >= 1, an option is not a
        positive integer, ``'bicubic'`` comes without a scale, or the
        network's scale differs from ``scale``.

    Examples
    --------
    >>> import numpy as np
    >>> from mesr.sr import build
    >>> model = build("rdn", {"C": 1, "D": 1, "G": 4, "G0": 4}, 2)
    >>> upscale(model, np.zeros((3, 8, 8, 3), dtype=np.uint8)).shape
    (3, 16, 16, 3)
    """
    frames = _check_frames("frames", frames)
    if frames.shape[0] == 0:
        raise ValueError("frames must hold at least one frame, got shape (0, ...)")
    if scale is not None:
        scale = check_integer("scale", scale)
    if isinstance(model, str):
        if model != "bicubic":
            raise ValueError(f"model must be a keras.Model or 'bicubic', got {model!r}")
        if scale is None:
            raise ValueError("scale must be given with model='bicubic'")
        return upscale_bicubic(frames, scale)
    return _to_uint8(
        _upscale_float(
            model, frames, scale=scale, batch_size=batch_size, tile=tile, overlap=overlap, max_pixels=max_pixels
        )
    )


def upscale_set(
    model, input_dir, output_dir, clip_ids, *, scale=None, batch_size=16, tile=None, overlap=None, max_pixels=MAX_PIXELS
):
    """Super-resolve every clip of a set, clip by clip, writing each file atomically.

    Parameters
    ----------
    model : keras.Model or 'bicubic'
        As for :func:`upscale`.
    input_dir : str or path-like
        The LR set directory, holding ``{clip_id}.npy``: uint8 (T, H, W, 3) RGB.
    output_dir : str or path-like
        The SR set directory (created if missing); receives ``{clip_id}.npy``,
        uint8 (T, s*H, s*W, 3), written to a temporary name and renamed.
    clip_ids : sequence of str
        Clips to process, in order.
    scale, batch_size, tile, overlap, max_pixels
        As for :func:`upscale`.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of ``clip_ids``.

    Raises
    ------
    FileNotFoundError
        If a clip file is missing (the message names it).
    ValueError
        If a clip file does not hold a (T, H, W, 3) uint8 array (the message
        names the file), or an option is invalid as for :func:`upscale`.

    Examples
    --------
    >>> upscale_set("bicubic", "results/sets/LR64", "results/sets/SR64-bicubic",
    ...             ["s1_ne_01"], scale=2)  # doctest: +SKIP
    """
    if isinstance(clip_ids, str) or not all(isinstance(c, str) and c for c in clip_ids):
        raise ValueError(f"clip_ids must be a sequence of non-empty strings, got {clip_ids!r}")
    input_dir, output_dir = Path(input_dir), Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    _log_device(model)
    written = []
    for clip_id in clip_ids:
        source = input_dir / f"{clip_id}.npy"
        if not source.is_file():
            raise FileNotFoundError(f"clip file {source} does not exist")
        frames = load_clip(source)
        start = time.perf_counter()
        result = upscale(
            model, frames, scale=scale, batch_size=batch_size, tile=tile, overlap=overlap, max_pixels=max_pixels
        )
        target = output_dir / f"{clip_id}.npy"
        save_clip(target, result)
        written.append(target)
        logger.info(
            "%s: %d frames %dx%d -> %dx%d in %.2f s",
            clip_id,
            frames.shape[0],
            frames.shape[1],
            frames.shape[2],
            result.shape[1],
            result.shape[2],
            time.perf_counter() - start,
        )
    return written


def _upscale_float(model, frames, *, scale, batch_size, tile, overlap, max_pixels):
    """Network output, clipped to 0..1, as float32 (N, s*H, s*W, 3)."""
    batch_size = check_integer("batch_size", batch_size)
    max_pixels = check_integer("max_pixels", max_pixels)
    if tile is not None:
        tile = check_integer("tile", tile)
    if overlap is not None:
        overlap = check_integer("overlap", overlap, allow_zero=True)
    n, height, width, _ = frames.shape
    fixed = tuple(model.input_shape[1:3])
    if fixed != (None, None):  # swinir: built for one frame size, whose attention windows tiles would break
        if (height, width) != fixed or tile is not None:
            raise ValueError(
                f"model {model.name!r} is built for {fixed[0]}x{fixed[1]} px frames and cannot tile; "
                f"got {height}x{width} px frames" + (f" and tile={tile}" if tile is not None else "")
            )
        max_pixels = height * width
    if overlap is None and (tile is not None or height * width > max_pixels):
        overlap = receptive_field_radius(model)
    if tile is None and height * width > max_pixels:
        tile = max(math.isqrt(max_pixels) - 2 * overlap, 32)
        logger.info(
            "frames of %dx%d px exceed %d px: tiles of %d px with %d px overlap",
            height,
            width,
            max_pixels,
            tile,
            overlap,
        )
    predict = _compiled(model)
    if tile is None or (tile + 2 * overlap >= height and tile + 2 * overlap >= width):
        jobs = [(i, 0, 0, 0, height, 0, width) for i in range(n)]
        window = (height, width)
    else:
        window_h, rows = _windows(height, tile, overlap)
        window_w, cols = _windows(width, tile, overlap)
        window = (window_h, window_w)
        jobs = [(i, wy, wx, y0, y1, x0, x1) for i in range(n) for wy, y0, y1 in rows for wx, x0, x1 in cols]
    out = None
    for start in range(0, len(jobs), batch_size):
        chunk = jobs[start : start + batch_size]
        if window == (height, width):
            batch = frames[chunk[0][0] : chunk[-1][0] + 1]
        else:
            batch = np.stack([frames[i, wy : wy + window[0], wx : wx + window[1]] for i, wy, wx, *_ in chunk])
        result = predict(batch).numpy()
        if out is None:
            s = _output_scale(batch.shape, result.shape, scale)
            out = np.empty((n, s * height, s * width, 3), dtype=np.float32)
        for k, (i, wy, wx, y0, y1, x0, x1) in enumerate(chunk):
            out[i, s * y0 : s * y1, s * x0 : s * x1] = result[
                k, s * (y0 - wy) : s * (y1 - wy), s * (x0 - wx) : s * (x1 - wx)
            ]
    return out


def _windows(length, tile, overlap):
    """Window size and ``(window_start, core_start, core_stop)`` along one axis."""
    window = min(length, tile + 2 * overlap)
    spans = []
    for core_start in range(0, length, tile):
        core_stop = min(core_start + tile, length)
        spans.append((min(max(core_start - overlap, 0), length - window), core_start, core_stop))
    return window, spans


def _output_scale(in_shape, out_shape, scale):
    """The integer factor between network input and output; checked against ``scale``."""
    s_h, r_h = divmod(out_shape[1], in_shape[1])
    s_w, r_w = divmod(out_shape[2], in_shape[2])
    if r_h or r_w or s_h != s_w or out_shape[3] != 3:
        raise ValueError(f"the network maps {in_shape[1:]} to {out_shape[1:]}, not an integer RGB upscaling")
    if scale is not None and s_h != scale:
        raise ValueError(f"scale is {scale} but the network upscales by {s_h}")
    return s_h


def _compiled(model):
    """One ``tf.function`` per model: uint8 batch -> float32 output clipped to 0..1."""
    predict = _COMPILED.get(model)
    if predict is None:
        import tensorflow as tf

        network = weakref.ref(model)  # a strong reference would keep the cache entry alive forever

        @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8)])
        def predict(batch):
            x = tf.cast(batch, tf.float32) / 255.0
            return tf.clip_by_value(network()(x, training=False), 0.0, 1.0)

        _COMPILED[model] = predict
    return predict


def _to_uint8(values):
    """float 0..1 -> uint8, x255 and rounded (half to even, as numpy)."""
    return np.rint(values * 255.0).astype(np.uint8)


def _log_device(model):
    if isinstance(model, str):
        logger.info("bicubic upscaling with OpenCV on the CPU")
        return
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        logger.info("TensorFlow runs %s on GPU: %s", model.name, ", ".join(g.name for g in gpus))
    else:
        logger.info("TensorFlow sees no GPU: %s runs on the CPU", model.name)


def superresolve_set(lr_dir, output, manifest, *, arch, params=None, scale, weights=None, batch_size=16):
    """The ``superres`` stage: one SR set from one LR set with one model (docs/layout.md#sets-and-naming, docs/models.md).

    Parameters
    ----------
    lr_dir : path-like
        LR set folder (``results/sets/LR64`` or ``LR32``).
    output : path-like
        SR set folder to create (``results/sets/SR{size}-{model}``); written
        under a temporary name and renamed when every clip is done.
    manifest : path-like
        ``results/manifest.tsv``; its clips are processed in order.
    arch : {'bicubic', 'rdn', 'rrdn', 'nesrgan_plus', 'realesrgan', 'swinir'}
        Architecture of the model.
    params : dict, optional
        Architecture parameters (see :func:`mesr.sr.build`); unused for bicubic.
    scale : int
        Upscaling factor.
    weights : path-like, optional
        Weights file of the network (required for every arch but bicubic).
    batch_size : int
        Frames per network call.

    Raises
    ------
    ValueError
        If a network comes without weights, or as in :func:`upscale_set`.
    """
    clip_ids = list(read_manifest(manifest).clip_id)
    if arch == "bicubic":
        model = "bicubic"
    else:
        if not weights:
            raise ValueError(f"model of arch {arch!r} at x{scale} needs a weights file")
        from mesr.sr import build, load_weights  # loads TensorFlow: networks only

        # swinir is built for the set's frame size (every clip of a set has the same one)
        input_size = load_clip(Path(lr_dir) / f"{clip_ids[0]}.npy").shape[1:3] if arch == "swinir" else None
        model = build(arch, params or {}, scale, input_size=input_size)
        load_weights(model, weights)
    with atomic_dir(output) as staging:
        upscale_set(model, lr_dir, staging, clip_ids, scale=scale, batch_size=batch_size)
