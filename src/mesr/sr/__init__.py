"""Super-resolution networks, their weights and inference (docs/models.md).

One module per architecture (``rdn``, ``rrdn``, ``nesrgan_plus``, and the
real-world SR networks ``realesrgan`` and ``swinir``), each with a builder
taking the architecture's symbols and the scale; ``bicubic`` is the OpenCV
baseline. :func:`build` dispatches on the architecture name of the config's
model registry. Layer names follow idealo ISR, so ISR's published Keras-2
HDF5 weights load with :func:`load_weights`; the real-world SR networks are
published as PyTorch ``.pth`` files, which :func:`convert_pth` turns into the
same HDF5 layout.

TensorFlow is imported only when a network is built or run, so that the
bicubic baseline stays light; the functions of ``weights``, ``inference`` and
``bicubic`` are re-exported here on first access.
"""

import importlib
import numbers
from collections.abc import Mapping

from mesr._checks import check_option

__all__ = [
    "ARCHS",
    "PARAMS",
    "PTH_ARCHS",
    "build",
    "check_params",
    "convert_pth",
    "load_weights",
    "receptive_field_radius",
    "save_weights",
    "upscale",
    "upscale_bicubic",
    "superresolve_set",
    "upscale_set",
    "weights_filename",
]

#: Architectures :func:`build` knows (``bicubic`` is not a network: see :func:`upscale_bicubic`).
ARCHS = ("rdn", "rrdn", "nesrgan_plus", "realesrgan", "swinir")

#: Architectures whose weights come as PyTorch ``.pth`` files (converted by :func:`convert_pth`), never trained here.
PTH_ARCHS = ("realesrgan", "swinir")

#: Per architecture: (required parameters, optional parameters).
PARAMS = {
    "rdn": (("C", "D", "G", "G0"), ("kernel_size",)),
    "rrdn": (("C", "D", "G", "G0", "T"), ()),
    "nesrgan_plus": (("nf", "gc", "nb"), ("noise", "plus")),
    "realesrgan": (("nf", "gc", "nb"), ()),
    "swinir": (("embed_dim", "depths", "num_heads", "window_size", "mlp_ratio"), ("img_size",)),
}

_MODULES = {
    "rdn": "mesr.sr.rdn",
    "rrdn": "mesr.sr.rrdn",
    "nesrgan_plus": "mesr.sr.nesrgan_plus",
    "realesrgan": "mesr.sr.realesrgan",
    "swinir": "mesr.sr.swinir",
}

_LAZY = {
    "load_weights": "mesr.sr.weights",
    "save_weights": "mesr.sr.weights",
    "convert_pth": "mesr.sr.weights",
    "weights_filename": "mesr.sr.weights",
    "upscale": "mesr.sr.inference",
    "upscale_set": "mesr.sr.inference",
    "superresolve_set": "mesr.sr.inference",
    "receptive_field_radius": "mesr.sr.inference",
    "upscale_bicubic": "mesr.sr.bicubic",
}


def build(arch, params, scale, *, input_size=None):
    """Build a super-resolution network from its registry entry.

    Parameters
    ----------
    arch : {'rdn', 'rrdn', 'nesrgan_plus', 'realesrgan', 'swinir'}
        Architecture.
    params : dict
        The architecture's symbols: ``rdn``: C, D, G, G0 (optional
        kernel_size); ``rrdn``: C, D, G, G0, T; ``nesrgan_plus``: nf, gc, nb
        (optional ``plus``, default True; ``noise``, default True: the
        training-only noise layers of nESRGAN+, inactive at inference; see
        :func:`~mesr.sr.nesrgan_plus.build_nesrgan_plus`); ``realesrgan``:
        nf, gc, nb (BasicSR's RRDBNet); ``swinir``: embed_dim, depths,
        num_heads, window_size, mlp_ratio (optional img_size; see
        :func:`~mesr.sr.swinir.build_swinir`).
    scale : int
        Upscaling factor: 2, 3, 4 or 8 for ``rdn`` and ``rrdn``; 2, 4 or 8 for
        ``nesrgan_plus``; 2 or 4 for ``realesrgan`` and ``swinir``.
    input_size : (int, int), optional
        (height, width) of the LR frames: ``swinir`` is built for one frame
        size (its attention masks depend on it) and needs it; the other,
        convolutional, networks take any size and ignore it.

    Returns
    -------
    keras.Model
        Input (batch, H, W, 3) RGB in 0..1 (any H, W, but ``input_size`` for
        ``swinir``); output (batch, scale*H, scale*W, 3), linear (clip it: see
        :func:`upscale`).

    Raises
    ------
    ValueError
        If the arch is unknown (the message lists the valid ones), a
        parameter is missing or unknown (:func:`check_params`) or not a
        positive integer, or the scale is not supported by the arch.

    References
    ----------
    Zhang et al. (2018) doi:10.1109/CVPR.2018.00262 (RDN); Wang et al. (2018)
    doi:10.1007/978-3-030-11021-5_5 (ESRGAN); Rakotonirina & Rasoanaivo (2020)
    doi:10.1109/ICASSP40776.2020.9054071 (nESRGAN+).

    Examples
    --------
    >>> model = build("rdn", {"C": 3, "D": 10, "G": 64, "G0": 64}, 2)
    >>> model.count_params()
    2619635
    """
    params, scale = _check_build_args(arch, params, scale)
    module = importlib.import_module(_MODULES[arch])
    if arch == "swinir":
        if input_size is None:
            raise ValueError("arch swinir is built for one frame size: give input_size=(height, width)")
        return module.build_swinir(**params, scale=scale, input_size=input_size)
    return getattr(module, f"build_{arch}")(**params, scale=scale)


def check_params(arch, params, *, name="params"):
    """Check that ``params`` are the symbols of ``arch``, without loading TensorFlow.

    The workflow checks its model registry with it before anything runs; :func:`build` and
    :func:`~mesr.sr.weights.weights_filename` check their arguments with it.

    Parameters
    ----------
    arch : {'rdn', 'rrdn', 'nesrgan_plus', 'realesrgan', 'swinir'}
        Architecture.
    params : mapping
        Its parameters: every required symbol of :data:`PARAMS`, optional ones
        of :data:`PARAMS`, nothing else (their values are checked by the builder).
    name : str, optional
        What ``params`` is called in the error message (the workflow: ``models.<key>.params``).

    Returns
    -------
    dict
        A copy of ``params``.

    Raises
    ------
    ValueError
        If the arch is unknown (the message lists the valid ones), ``params``
        is not a mapping, or a symbol is missing or unknown: the message names
        ``name``, the symbols of the arch and what is missing or unknown.

    Examples
    --------
    >>> check_params("rdn", {"C": 3, "D": 10, "G": 64}, name="models.tiny.params")
    Traceback (most recent call last):
    ...
    ValueError: models.tiny.params: arch rdn needs C, D, G, G0 (optional: kernel_size); missing G0
    """
    check_option("arch", arch, ARCHS)
    if not isinstance(params, Mapping):
        raise ValueError(f"{name} must be a mapping of {arch} parameters, got {type(params).__name__}")
    required, optional = PARAMS[arch]
    missing = [key for key in required if key not in params]
    unknown = [key for key in params if key not in required + optional]
    if missing or unknown:
        raise ValueError(
            f"{name}: arch {arch} needs {', '.join(required)}"
            + (f" (optional: {', '.join(optional)})" if optional else "")
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(map(str, unknown))}" if unknown else "")
        )
    return dict(params)


def _check_build_args(arch, params, scale):
    """Validate (arch, params, scale) as :func:`build` takes them; return a copy of params."""
    params = check_params(arch, params)
    scales = importlib.import_module(_MODULES[arch]).SCALES
    if isinstance(scale, bool) or not isinstance(scale, numbers.Integral) or scale not in scales:
        raise ValueError(f"scale of arch {arch!r} must be one of {', '.join(map(str, scales))}, got {scale!r}")
    return params, int(scale)


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
