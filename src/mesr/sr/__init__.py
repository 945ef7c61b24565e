"""Super-resolution networks, their weights and inference (SPEC §6).

One module per architecture (``rdn``, ``rrdn``, ``nesrgan_plus``), each with a
builder taking the paper's symbols and the scale; ``bicubic`` is the OpenCV
baseline. :func:`build` dispatches on the architecture name of the config's
model registry. Layer names follow idealo ISR, so ISR's published Keras-2
HDF5 weights load with :func:`load_weights`.

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
    "build",
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
ARCHS = ("rdn", "rrdn", "nesrgan_plus")

#: Per architecture: (required parameters, optional parameters).
PARAMS = {
    "rdn": (("C", "D", "G", "G0"), ("kernel_size",)),
    "rrdn": (("C", "D", "G", "G0", "T"), ()),
    "nesrgan_plus": (("nf", "gc", "nb"), ("noise", "plus")),
}

_MODULES = {"rdn": "mesr.sr.rdn", "rrdn": "mesr.sr.rrdn", "nesrgan_plus": "mesr.sr.nesrgan_plus"}

_LAZY = {
    "load_weights": "mesr.sr.weights",
    "save_weights": "mesr.sr.weights",
    "weights_filename": "mesr.sr.weights",
    "upscale": "mesr.sr.inference",
    "upscale_set": "mesr.sr.inference",
    "superresolve_set": "mesr.sr.inference",
    "receptive_field_radius": "mesr.sr.inference",
    "upscale_bicubic": "mesr.sr.bicubic",
}


def build(arch, params, scale):
    """Build a super-resolution network from its registry entry.

    Parameters
    ----------
    arch : {'rdn', 'rrdn', 'nesrgan_plus'}
        Architecture.
    params : dict
        The architecture's symbols: ``rdn``: C, D, G, G0 (optional
        kernel_size); ``rrdn``: C, D, G, G0, T; ``nesrgan_plus``: nf, gc, nb
        (optional ``plus``, default True; ``noise``, default True: the
        training-only noise layers of nESRGAN+, inactive at inference).
    scale : int
        Upscaling factor: 2, 3, 4 or 8 for ``rdn`` and ``rrdn``; 2, 4 or 8 for
        ``nesrgan_plus``.

    Returns
    -------
    keras.Model
        Input (batch, H, W, 3) RGB in 0..1 with any H, W; output
        (batch, scale*H, scale*W, 3), linear (clip it: see :func:`upscale`).

    Raises
    ------
    ValueError
        If the arch is unknown (the message lists the valid ones), a
        parameter is missing, unknown or not a positive integer, or the scale
        is not supported by the arch.

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
    if arch == "rdn":
        return module.build_rdn(**params, scale=scale)
    if arch == "rrdn":
        return module.build_rrdn(**params, scale=scale)
    params.setdefault("noise", True)
    return module.build_nesrgan_plus(**params, scale=scale)


def _check_build_args(arch, params, scale):
    """Validate (arch, params, scale) as :func:`build` takes them; return a copy of params."""
    check_option("arch", arch, ARCHS)
    if not isinstance(params, Mapping):
        raise ValueError(f"params must be a mapping of {arch} parameters, got {type(params).__name__}")
    required, optional = PARAMS[arch]
    for key in required:
        if key not in params:
            raise ValueError(f"params of arch {arch!r} lack {key!r} (required: {', '.join(required)})")
    for key in params:
        if key not in required + optional:
            valid = ", ".join(required + optional)
            raise ValueError(f"params of arch {arch!r} have unknown key {key!r} (valid: {valid})")
    scales = importlib.import_module(_MODULES[arch]).SCALES
    if isinstance(scale, bool) or not isinstance(scale, numbers.Integral) or scale not in scales:
        raise ValueError(f"scale of arch {arch!r} must be one of {', '.join(map(str, scales))}, got {scale!r}")
    return dict(params), int(scale)


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
