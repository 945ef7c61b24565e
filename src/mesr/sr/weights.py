"""Weight files in the Keras-2 HDF5 layout of idealo ISR's published weights.

ISR published its weights as Keras-2 HDF5 files written by ``save_weights``:
the root (or, for whole-model files written by ``model.save('x.h5')``, the
group ``model_weights``) carries the attribute ``layer_names``; each layer has
a group of that name whose attribute ``weight_names`` lists its weights in
order (``'F_m1/kernel:0'``, ``'F_m1/bias:0'``), each stored as a dataset under
that name. Attributes too large for an HDF5 object header are split into
``layer_names0``, ``layer_names1``, ... (Keras does this for big models).

Keras 3 reads this layout only partly (``by_name`` skips missing layers
silently), so :func:`load_weights` reads it with h5py and matches layers by
name strictly: every layer of the model that has weights must be in the file
with the same number and shapes of weights, and every layer of the file that
has weights must be in the model. Nothing is assigned unless everything
matches. :func:`save_weights` writes the same layout, so that weights trained
here and ISR's published ones are handled alike.
"""

import logging
import os
from pathlib import Path

import h5py
import keras
import numpy as np

from mesr.io import atomic_path

__all__ = ["convert_pth", "load_weights", "save_weights", "weights_filename"]

logger = logging.getLogger(__name__)

# HDF5 object headers hold at most 64 KiB; Keras splits larger attributes.
_HDF5_OBJECT_HEADER_LIMIT = 64512


def weights_filename(arch, params, scale, suffix=None):
    """Name a weights file as ISR does: the arch and its sorted parameters.

    Parameters
    ----------
    arch : {'rdn', 'rrdn', 'nesrgan_plus'}
        Architecture.
    params : dict
        Architecture parameters (as for :func:`mesr.sr.build`).
    scale : int
        Upscaling factor, written as the parameter ``x``.
    suffix : str or None, optional
        Appended after an underscore (ISR: ``'PSNR_epoch086'``, ``'epoch299'``).

    Returns
    -------
    str
        ``{arch}-{key}{value}-...-x{scale}[_{suffix}].hdf5`` with the keys,
        ``x`` included, sorted as strings (upper case before lower case), as
        ISR's ``np.sort(list(params))``. The ``noise`` flag of
        ``nesrgan_plus`` changes no weight and is left out.

    Raises
    ------
    ValueError
        If the arch, params or scale are invalid, or ``suffix`` is empty or
        contains a path separator.

    Examples
    --------
    >>> weights_filename("rdn", {"C": 3, "D": 10, "G": 64, "G0": 64}, 2, "PSNR_epoch134")
    'rdn-C3-D10-G64-G064-x2_PSNR_epoch134.hdf5'
    >>> weights_filename("rrdn", {"C": 4, "D": 3, "G": 32, "G0": 32, "T": 10}, 4, "epoch299")
    'rrdn-C4-D3-G32-G032-T10-x4_epoch299.hdf5'
    """
    from mesr.sr import _check_build_args  # the package imports this module

    params, scale = _check_build_args(arch, params, scale)
    # ``noise`` switches training-only layers without weights: not part of the name
    items = {key: value for key, value in params.items() if key != "noise"}
    items["x"] = scale
    name = "-".join([arch] + [f"{key}{items[key]}" for key in sorted(items)])
    if suffix is not None:
        if not isinstance(suffix, str) or not suffix or "/" in suffix or os.sep in suffix:
            raise ValueError(f"suffix must be a non-empty string without path separators, got {suffix!r}")
        name = f"{name}_{suffix}"
    return f"{name}.hdf5"


def load_weights(model, path):
    """Load a Keras-2 HDF5 weights file into ``model`` by layer name, strictly.

    Parameters
    ----------
    model : keras.Model
        A model built by :func:`mesr.sr.build` (or any functional model).
    path : str or path-like
        A ``save_weights`` file (ISR's published ``.hdf5`` files, files from
        :func:`save_weights`, Keras 3's legacy ``.h5`` writer) or a whole-model
        ``.h5`` file (weights under ``model_weights``).

    Returns
    -------
    keras.Model
        ``model``, with its weights replaced.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a Keras-2 HDF5 weights file, or if the first layer
        that does not match (missing from the file, another number or shape of
        weights, or present in the file only) is found; the message names the
        layer and the file. The model is then left unchanged.

    Examples
    --------
    >>> from mesr.sr import build
    >>> model = load_weights(build("rdn", {"C": 3, "D": 10, "G": 64, "G0": 64}, 2),
    ...                      "rdn-C3-D10-G64-G064-x2_PSNR_epoch134.hdf5")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file {path} does not exist")
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise ValueError(f"weights file {path} is not an HDF5 file ({error})") from None
    with handle:
        file_layers = _read_layers(_weights_root(handle, path))

    assignments = []
    for layer in model.layers:
        weights = layer.weights
        if not weights:
            continue
        if layer.name not in file_layers:
            raise ValueError(
                f"weights file {path} has no layer {layer.name!r} (a layer of model {model.name!r}); "
                f"is the file for another architecture or parameters?"
            )
        stored = file_layers[layer.name]
        if len(stored) != len(weights):
            raise ValueError(
                f"weights file {path}: layer {layer.name!r} has {len(stored)} weights in the file, "
                f"the model expects {len(weights)}"
            )
        for weight, (weight_name, value) in zip(weights, stored):
            if tuple(weight.shape) != value.shape:
                raise ValueError(
                    f"weights file {path}: layer {layer.name!r} weight {weight_name!r} has shape "
                    f"{value.shape} in the file, the model expects {tuple(weight.shape)}"
                )
        assignments.append((layer, [value for _, value in stored]))
    model_layers = {layer.name for layer in model.layers}
    extra = [name for name, stored in file_layers.items() if stored and name not in model_layers]
    if extra:
        raise ValueError(
            f"weights file {path} has weights for layer {extra[0]!r}, which model {model.name!r} lacks "
            f"({len(extra)} such layers); is the file for another architecture or parameters?"
        )
    for layer, values in assignments:
        layer.set_weights(values)
    logger.info("loaded weights of %d layers from %s", len(assignments), path)
    return model


def save_weights(model, path, *, attrs=None):
    """Write the weights of ``model`` as a Keras-2 HDF5 weights file, atomically.

    The layout is the one :func:`load_weights` reads and ISR's published files
    use (root attributes ``layer_names``, ``backend``, ``keras_version``; one
    group per layer with ``weight_names`` such as ``'F_m1/kernel:0'``). The
    file is written under a temporary name in the same directory and renamed.

    Parameters
    ----------
    model : keras.Model
        The model.
    path : str or path-like
        Output file (ISR's extension is ``.hdf5``); its directory must exist.
    attrs : mapping of str to str, optional
        Further root attributes recording where the weights come from
        (:func:`convert_pth`: ``source``, ``source_sha256``).

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> from mesr.sr import build
    >>> model = build("rdn", {"C": 1, "D": 1, "G": 4, "G0": 4}, 2)
    >>> save_weights(model, "rdn-C1-D1-G4-G04-x2.hdf5")  # doctest: +SKIP
    """
    path = Path(path)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        _write_attr(handle, "layer_names", [layer.name.encode("utf8") for layer in model.layers])
        handle.attrs["backend"] = keras.backend.backend().encode("utf8")
        handle.attrs["keras_version"] = str(keras.__version__).encode("utf8")
        for key, value in (attrs or {}).items():
            handle.attrs[key] = str(value)
        for layer in model.layers:
            group = handle.create_group(layer.name)
            names = [f"{layer.name}/{weight.name}:0".encode("utf8") for weight in layer.weights]
            _write_attr(group, "weight_names", names)
            for name, weight in zip(names, layer.weights):
                group.create_dataset(name.decode("utf8"), data=keras.ops.convert_to_numpy(weight))
    logger.info("saved weights of %s to %s", model.name, path)
    return path


def convert_pth(pth, output, *, arch, params, scale, source=None):
    """Convert a real-world SR network's PyTorch ``.pth`` file into the HDF5 layout of :func:`load_weights`.

    The network is built (:func:`mesr.sr.build`), its architecture module's
    ``load_pth_weights`` maps every tensor of the file to a layer strictly
    (:func:`mesr.sr.realesrgan.load_pth_weights`,
    :func:`mesr.sr.swinir.load_pth_weights`), and :func:`save_weights` writes
    the result with two root attributes saying where it comes from:
    ``source`` (the URL or path given) and ``source_sha256`` (the digest of
    the ``.pth`` file read). Inference then loads the HDF5 file like any
    other weights.

    Parameters
    ----------
    pth : str or path-like
        The ``.pth`` file (either PyTorch layout, see :func:`mesr.sr.pth.load_state_dict`).
    output : str or path-like
        HDF5 file to write, atomically; its directory must exist.
    arch : {'realesrgan', 'swinir'}
        Architecture of the file (:data:`mesr.sr.PTH_ARCHS`).
    params : dict
        Its parameters, as for :func:`mesr.sr.build`.
    scale : int
        Its upscaling factor.
    source : str, optional
        Where the file came from (its URL); default ``pth``.

    Returns
    -------
    pathlib.Path
        ``output``.

    Raises
    ------
    ValueError
        If the arch is not one of :data:`mesr.sr.PTH_ARCHS`, or the file does
        not fit the network (the message names the tensor and the file).

    Examples
    --------
    >>> convert_pth("RealESRGAN_x4plus.pth", "x4.hdf5", arch="realesrgan",
    ...             params={"nf": 64, "gc": 32, "nb": 23}, scale=4)  # doctest: +SKIP
    """
    import importlib

    from mesr._checks import check_option
    from mesr.data.acquire import sha256_of
    from mesr.sr import _MODULES, PTH_ARCHS, build

    check_option("arch", arch, PTH_ARCHS)
    # The swinir weights do not depend on the frame size (only its masks do): any size above the window fits.
    input_size = (2 * params["window_size"],) * 2 if arch == "swinir" else None
    model = build(arch, params, scale, input_size=input_size)
    importlib.import_module(_MODULES[arch]).load_pth_weights(model, pth)
    digest = sha256_of(pth)
    logger.info("converting %s (sha256 %s) from %s", pth, digest, source or pth)
    return save_weights(model, output, attrs={"source": source or str(pth), "source_sha256": digest})


def _weights_root(handle, path):
    """The group holding ``layer_names``: the root or ``model_weights``."""
    if _has_attr(handle, "layer_names"):
        return handle
    if "model_weights" in handle and _has_attr(handle["model_weights"], "layer_names"):
        return handle["model_weights"]
    raise ValueError(
        f"weights file {path} is not a Keras-2 HDF5 weights file: no 'layer_names' attribute at its root "
        f"or under 'model_weights' (files written by Keras 3's model.save_weights('*.weights.h5') "
        f"are another format)"
    )


def _read_layers(root):
    """Map each layer name of the file to its ``[(weight_name, ndarray), ...]`` in stored order."""
    layers = {}
    for name in _read_attr(root, "layer_names"):
        if name not in root:
            layers[name] = []
            continue
        group = root[name]
        layers[name] = [(w, np.asarray(group[w])) for w in _read_attr(group, "weight_names")]
    return layers


def _has_attr(group, name):
    return name in group.attrs or f"{name}0" in group.attrs


def _read_attr(group, name):
    """Read a list-of-strings attribute, joining Keras' ``name0``, ``name1``... chunks."""
    if name in group.attrs:
        values = list(np.atleast_1d(group.attrs[name]))
    else:
        values, chunk = [], 0
        while f"{name}{chunk}" in group.attrs:
            values.extend(np.atleast_1d(group.attrs[f"{name}{chunk}"]))
            chunk += 1
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]


def _write_attr(group, name, data):
    """Write a list-of-bytes attribute, split into chunks as Keras does when too large."""
    array = np.asarray(data, dtype=bytes) if data else np.zeros((0,), dtype="S1")
    chunks = 1
    while any(part.nbytes > _HDF5_OBJECT_HEADER_LIMIT for part in np.array_split(array, chunks)):
        chunks += 1
    if chunks == 1:
        group.attrs[name] = array
    else:
        for index, part in enumerate(np.array_split(array, chunks)):
            group.attrs[f"{name}{index}"] = part
