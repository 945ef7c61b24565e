"""Read PyTorch ``.pth`` state dicts into numpy arrays, without PyTorch and without running the file.

A ``.pth`` file written by ``torch.save`` is a pickle whose tensors refer to
"storages", blocks of raw numbers kept beside the pickle. Two layouts exist
(``torch/serialization.py``, functions ``_save``/``_load`` and
``_legacy_save``/``_legacy_load``):

* **zip** (the default since PyTorch 1.6): a zip archive whose records all sit
  under one top folder (``archive/``, or the saved file's name without its
  extension): ``data.pkl`` (the pickle), ``data/<key>`` (the raw bytes of each
  storage, no header), ``version`` and, in recent versions, ``byteorder``
  (``little`` or ``big``; little-endian when absent).
* **legacy** (``_use_new_zipfile_serialization=False`` and PyTorch < 1.6): one
  stream of five pickles and raw data: the magic number
  ``0x1950a86a20f9469cfc6c``, the protocol version 1001, a dict of system
  information, the object, the list of storage keys; then, for each key in
  that order, the storage's element count as an 8-byte little-endian integer
  followed by its elements (little-endian).

In both, a tensor is pickled as a call of
``torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride,
requires_grad, backward_hooks[, metadata])`` and a storage as a persistent id
``('storage', torch.<Type>Storage, key, location, numel)`` (legacy files add a
sixth item, the view of an older storage sharing).

Pickle runs code: ``torch.load`` without ``weights_only=True`` calls whatever
global the file names. :func:`load_state_dict` unpickles with an allow-list
instead: ``find_class`` maps the few globals a state dict needs to stand-ins
defined here (they only record their arguments) and refuses any other global
*before* anything is called, so nothing named by the file is ever imported or
run. Tensors are then cut out of the storages with numpy (``as_strided`` with
the saved strides and offset, bounds checked) and copied.

:func:`assign_state_dict` then maps the arrays onto a Keras model's layers by
name, strictly; the architecture modules' ``load_pth_weights``
(:func:`mesr.sr.realesrgan.load_pth_weights`, :func:`mesr.sr.swinir.load_pth_weights`)
call it with their naming. The project's own weights files are Keras-2 HDF5
(docs/models.md, Weights files, PyTorch weights).
"""

import collections
import io
import logging
import math
import pickle
import struct
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

__all__ = ["STORAGE_DTYPES", "assign_state_dict", "load_state_dict", "torch_layout"]

logger = logging.getLogger(__name__)

#: The storage classes a tensor may refer to, with their numpy dtypes (little-endian on disk).
#: ``BFloat16Storage`` has no numpy dtype: its values are widened to float32 exactly.
STORAGE_DTYPES = {
    "DoubleStorage": "f8",
    "FloatStorage": "f4",
    "HalfStorage": "f2",
    "BFloat16Storage": "u2",
    "LongStorage": "i8",
    "IntStorage": "i4",
    "ShortStorage": "i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_ZIP_MAGIC = b"PK\x03\x04"
_STATE_DICT_KEYS = ("params_ema", "params")


class _Refused(pickle.UnpicklingError):
    """A global outside the allow-list (``module.name`` in ``args[0]``)."""


class _Sealed:
    """Base of every object the unpickler hands to the pickle: refuses pickled state (``BUILD``).

    Without this a pickle could set attributes of the stand-ins (a storage's size after it was
    checked, or the allow-list's own entries for later files) through the ``BUILD`` opcode.
    """

    __slots__ = ()

    def __setstate__(self, state):
        raise pickle.UnpicklingError(f"a {type(self).__name__.lstrip('_')} takes no pickled state")

    def __reduce__(self):
        raise TypeError(f"{type(self).__name__} is not picklable")


class _StorageType(_Sealed):
    """Stand-in for ``torch.<Type>Storage``: only marks a dtype; cannot be called."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}"


class _Function(_Sealed):
    """Stand-in for an allow-listed ``torch._utils`` function: calls a builder defined here."""

    __slots__ = ("name", "builder")

    def __init__(self, name, builder):
        self.name, self.builder = name, builder

    def __call__(self, *args):
        return self.builder(*args)

    def __repr__(self):
        return f"torch._utils.{self.name}"


class _Storage(_Sealed):
    """A storage referred to by the pickle: its type, key and size; its data once read."""

    __slots__ = ("type_name", "key", "numel", "data")

    def __init__(self, type_name, key, numel):
        self.type_name, self.key, self.numel, self.data = type_name, key, numel, None


class _StorageView(_Sealed):
    """A part of a storage (legacy files of PyTorch < 1.0 pickled such views)."""

    __slots__ = ("root", "offset", "numel")

    def __init__(self, root, offset, numel):
        self.root, self.offset, self.numel = root, offset, numel

    @property
    def type_name(self):
        return self.root.type_name


class _Tensor(_Sealed):
    """What ``_rebuild_tensor_v2`` would build: a strided view of a storage, not yet read."""

    __slots__ = ("storage", "offset", "size", "stride")

    def __init__(self, storage, offset, size, stride):
        if not isinstance(storage, (_Storage, _StorageView)):
            raise pickle.UnpicklingError(f"a tensor's storage must be a storage, got {type(storage).__name__}")
        for name, values in (("size", size), ("stride", stride)):
            if not isinstance(values, tuple) or not all(_is_count(v) for v in values):
                raise pickle.UnpicklingError(
                    f"a tensor's {name} must be a tuple of non-negative integers, got {values!r}"
                )
        if len(size) != len(stride):
            raise pickle.UnpicklingError(f"a tensor's size {size} and stride {stride} differ in length")
        if not _is_count(offset):
            raise pickle.UnpicklingError(f"a tensor's storage offset must be a non-negative integer, got {offset!r}")
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    """Builder of ``torch._utils._rebuild_tensor_v2``; ``requires_grad``, hooks and metadata are dropped."""
    return _Tensor(storage, storage_offset, size, stride)


def _rebuild_tensor(storage, storage_offset, size, stride):
    """Builder of ``torch._utils._rebuild_tensor`` (the 4-argument form of older legacy files)."""
    return _Tensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    """Builder of ``torch._utils._rebuild_parameter``: a ``Parameter`` is its tensor."""
    if not isinstance(data, _Tensor):
        raise pickle.UnpicklingError(f"a parameter must wrap a tensor, got {type(data).__name__}")
    return data


# Why each global is allowed: ``OrderedDict`` is the type of every state dict (and of a tensor's
# empty ``backward_hooks``); calling it only builds a mapping, and being a built-in type it cannot be
# altered by the pickle. The three ``_rebuild_*`` functions are how tensors pickle:
# ``_rebuild_tensor_v2`` since PyTorch 0.4, ``_rebuild_tensor`` before it, and ``_rebuild_parameter``
# wraps a tensor as an ``nn.Parameter`` (``state_dict(keep_vars=True)`` or a saved
# ``dict(named_parameters())``; BasicSR's ``state_dict()`` files hold plain tensors). They map to
# sealed stand-ins calling the builders above, which record their arguments and call nothing of the
# file. The storage classes are markers of a dtype: their stand-ins cannot be called.
_ALLOWED = {("collections", "OrderedDict"): collections.OrderedDict}
_ALLOWED.update(
    {
        ("torch._utils", builder.__name__): _Function(builder.__name__, builder)
        for builder in (_rebuild_tensor_v2, _rebuild_tensor, _rebuild_parameter)
    }
)
_ALLOWED.update({("torch", name): _StorageType(name) for name in STORAGE_DTYPES})


class _Unpickler(pickle.Unpickler):
    """An unpickler that resolves only allow-listed globals and collects the storages it meets."""

    def __init__(self, file, *, legacy):
        super().__init__(file, encoding="utf-8")
        self.legacy = legacy
        self.storages = {}

    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except (KeyError, TypeError):
            raise _Refused(f"{module}.{name}") from None

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid:
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        typename = pid[0].decode("ascii") if isinstance(pid[0], bytes) else pid[0]
        if typename != "storage" or len(pid) != (6 if self.legacy else 5):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r} (a state dict holds only storages)")
        storage_type, key, _location, numel = pid[1:5]
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"persistent id {pid!r} does not name a storage type")
        if not isinstance(key, (str, int)) or not _is_count(numel):
            raise pickle.UnpicklingError(f"persistent id {pid!r}: bad storage key or element count")
        storage = self.storages.get(key)
        if storage is None:
            storage = self.storages[key] = _Storage(storage_type.name, key, numel)
        elif (storage.type_name, storage.numel) != (storage_type.name, numel):
            raise pickle.UnpicklingError(
                f"storage {key!r} is referred to as {storage.numel} x {storage.type_name} "
                f"and as {numel} x {storage_type.name}"
            )
        view = pid[5] if self.legacy else None
        if view is None:
            return storage
        if not (isinstance(view, tuple) and len(view) == 3 and _is_count(view[1]) and _is_count(view[2])):
            raise pickle.UnpicklingError(f"persistent id {pid!r}: bad storage view")
        if view[1] + view[2] > numel:
            raise pickle.UnpicklingError(f"persistent id {pid!r}: the view exceeds its storage")
        return _StorageView(storage, view[1], view[2])


def load_state_dict(path):
    """Read the state dict of a PyTorch ``.pth`` file as numpy arrays, safely and without PyTorch.

    Parameters
    ----------
    path : str or path-like
        A file written by ``torch.save``, in the zip layout (PyTorch >= 1.6) or
        the legacy one. It holds either a state dict (a mapping of parameter
        names to tensors) or a mapping that has one under ``params_ema`` or
        ``params`` (BasicSR's and Real-ESRGAN's checkpoints); ``params_ema``
        (the exponential moving average of the weights, the ones published
        for inference) is preferred.

    Returns
    -------
    dict of str to numpy.ndarray
        The tensors in file order, each a C-contiguous copy in native byte
        order with the tensor's shape and dtype (float64, float32, float16,
        int64, int32, int16, int8, uint8, bool; bfloat16 is widened to
        float32). Tensors that share a storage are independent copies.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        Naming the file: if it is not a PyTorch file in either layout, is
        truncated or lacks a storage; if its pickle names any global other than
        ``collections.OrderedDict``, the ``torch._utils`` tensor and parameter
        rebuilders and the ``torch.*Storage`` types (the message names the
        global, e.g. ``os.system``; it is refused before anything is called);
        if a tensor does not fit in its storage; or if no state dict of tensors
        is found.

    Notes
    -----
    The storages' location tags (``cpu``, ``cuda:0``) are ignored: everything
    is read to host memory. A tensor's ``requires_grad``, hooks and metadata
    are dropped. A tensor may not have more elements than its storage (as a
    saved ``expand()`` could): that guards against a small file asking for a
    huge array. TorchScript archives, the tar layout of PyTorch < 0.4 and
    legacy files written on big-endian machines are not read.

    Examples
    --------
    >>> weights = load_state_dict("RealESRGAN_x4plus.pth")  # doctest: +SKIP
    >>> weights["conv_first.weight"].shape  # doctest: +SKIP
    (64, 3, 3, 3)
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"PyTorch file {path} does not exist")
    data = path.read_bytes()
    try:
        if data.startswith(_ZIP_MAGIC):
            obj, tensor_reader = _read_zip(data)
        elif data[257:262] == b"ustar":
            raise ValueError("it is in the tar layout of PyTorch < 0.4, which is not supported")
        else:
            obj, tensor_reader = _read_legacy(data)
        state = _select_state_dict(obj)
        arrays = {name: tensor_reader(name, tensor) for name, tensor in state.items()}
    except _Refused as error:
        raise ValueError(
            f"PyTorch file {path} refers to the global {error.args[0]}, which has no place in a state dict "
            f"of tensors; refused before anything was called"
        ) from None
    except (pickle.UnpicklingError, ValueError, EOFError, zipfile.BadZipFile, struct.error) as error:
        raise ValueError(f"PyTorch file {path}: {error}") from None
    except Exception as error:  # anything else a malformed pickle may raise (TypeError, IndexError...)
        raise ValueError(f"PyTorch file {path} could not be read ({type(error).__name__}: {error})") from None
    logger.debug("read %d tensors from %s", len(arrays), path)
    return arrays


def _select_state_dict(obj):
    """The mapping of names to tensors: under ``params_ema``, else ``params``, else ``obj`` itself."""
    where = "the file's object"
    if isinstance(obj, Mapping):
        for key in _STATE_DICT_KEYS:
            if key in obj:
                obj, where = obj[key], f"its {key!r}"
                break
    if not isinstance(obj, Mapping):
        raise ValueError(
            f"{where} is a {type(obj).__name__}, not a state dict (a mapping of names to tensors, "
            f"or a mapping with one under 'params_ema' or 'params')"
        )
    for name, value in obj.items():
        if not isinstance(name, str) or not isinstance(value, _Tensor):
            kind = "tensor" if isinstance(value, _Tensor) else type(value).__name__
            raise ValueError(f"{where} is not a state dict: entry {name!r} is a {kind}, not a named tensor")
    return obj


def _unpickle(stream, *, legacy):
    unpickler = _Unpickler(stream, legacy=legacy)
    return unpickler.load(), unpickler.storages


def _read_zip(data):
    """Unpickle ``data.pkl`` of a zip-layout file; return (object, tensor reader)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise ValueError(f"truncated or damaged zip archive ({error})") from None
    names = archive.namelist()
    pickles = [name for name in names if name.endswith("/data.pkl") and name.count("/") == 1]
    if len(pickles) != 1:
        found = "no" if not pickles else f"{len(pickles)}"
        raise ValueError(f"{found} '<folder>/data.pkl' record in the zip archive: not a file of torch.save")
    prefix = pickles[0][: -len("data.pkl")]
    if f"{prefix}constants.pkl" in names:
        raise ValueError("it is a TorchScript archive (torch.jit.save), not a state dict")
    byteorder = "little"
    if f"{prefix}byteorder" in names:
        byteorder = archive.read(f"{prefix}byteorder").decode("ascii", "replace")
        if byteorder not in ("little", "big"):
            raise ValueError(f"unknown byte order {byteorder!r} in record {prefix}byteorder")
    obj, _ = _unpickle(io.BytesIO(archive.read(pickles[0])), legacy=False)

    def read_storage(storage):
        if storage.data is None:
            record = f"{prefix}data/{storage.key}"
            try:
                info = archive.getinfo(record)
            except KeyError:
                raise ValueError(f"storage {storage.key!r} has no record {record} in the zip archive") from None
            dtype = _disk_dtype(storage.type_name, byteorder)
            if info.file_size != storage.numel * dtype.itemsize:
                raise ValueError(
                    f"record {record} holds {info.file_size} bytes, storage {storage.key!r} needs "
                    f"{storage.numel} x {dtype.itemsize}"
                )
            storage.data = np.frombuffer(archive.read(record), dtype=dtype)
        return storage.data

    return obj, lambda name, tensor: _materialise(name, tensor, read_storage)


def _read_legacy(data):
    """Unpickle a legacy-layout file and read its storages; return (object, tensor reader)."""
    stream = io.BytesIO(data)
    try:
        magic, _ = _unpickle(stream, legacy=True)
    except _Refused:
        raise
    except Exception:
        magic = None
    if magic != _LEGACY_MAGIC:
        raise ValueError("not a PyTorch file: neither a zip archive nor a legacy stream with PyTorch's magic number")
    protocol, _ = _unpickle(stream, legacy=True)
    if protocol != _LEGACY_PROTOCOL:
        raise ValueError(f"legacy protocol version {protocol!r} is not {_LEGACY_PROTOCOL}")
    sys_info, _ = _unpickle(stream, legacy=True)
    if isinstance(sys_info, Mapping) and sys_info.get("little_endian") is False:
        raise ValueError("it was written on a big-endian machine in the legacy layout, which is not supported")
    obj, storages = _unpickle(stream, legacy=True)
    keys, _ = _unpickle(stream, legacy=True)
    if not isinstance(keys, list):
        raise ValueError(f"the list of storage keys is a {type(keys).__name__}")
    unknown = [key for key in keys if key not in storages]
    if unknown:
        raise ValueError(f"storage {unknown[0]!r} is listed but no tensor refers to it")
    for key in keys:
        storage = storages[key]
        header = stream.read(8)
        if len(header) < 8:
            raise ValueError(f"truncated: the data of storage {key!r} is missing")
        (count,) = struct.unpack("<q", header)
        dtype = _disk_dtype(storage.type_name, "little")
        if count != storage.numel:
            raise ValueError(f"storage {key!r} has {count} elements in the file, the pickle says {storage.numel}")
        raw = stream.read(count * dtype.itemsize)
        if len(raw) < count * dtype.itemsize:
            raise ValueError(f"truncated: storage {key!r} needs {count * dtype.itemsize} bytes, {len(raw)} remain")
        storage.data = np.frombuffer(raw, dtype=dtype)

    def read_storage(storage):
        if storage.data is None:
            raise ValueError(f"storage {storage.key!r} is not in the file's list of storages")
        return storage.data

    return obj, lambda name, tensor: _materialise(name, tensor, read_storage)


def _disk_dtype(type_name, byteorder):
    return np.dtype(STORAGE_DTYPES[type_name]).newbyteorder("<" if byteorder == "little" else ">")


def _materialise(name, tensor, read_storage):
    """Copy tensor ``name`` out of its storage with its size, stride and offset (bounds checked)."""
    storage, offset = tensor.storage, tensor.offset
    if isinstance(storage, _StorageView):
        buffer = read_storage(storage.root)[storage.offset : storage.offset + storage.numel]
    else:
        buffer = read_storage(storage)
    count = math.prod(tensor.size)
    if count == 0:
        array = np.zeros(tensor.size, dtype=buffer.dtype.newbyteorder("="))
    else:
        last = offset + sum((n - 1) * s for n, s in zip(tensor.size, tensor.stride))
        if last >= len(buffer) or count > len(buffer):
            raise ValueError(
                f"tensor {name!r} (size {tensor.size}, stride {tensor.stride}, offset {offset}) does not fit in "
                f"its storage of {len(buffer)} elements"
            )
        view = np.lib.stride_tricks.as_strided(
            buffer[offset:],
            shape=tensor.size,
            strides=[s * buffer.itemsize for s in tensor.stride],
            writeable=False,
        )
        array = np.array(view, dtype=buffer.dtype.newbyteorder("="), order="C")
    if tensor.storage.type_name == "BFloat16Storage":  # bfloat16 is the top half of a float32
        array = (array.astype(np.uint32) << 16).view(np.float32)
    return array


def _oihw_to_hwio(array):
    return array.transpose(2, 3, 1, 0)


def _transpose(array):
    return array.T


def torch_layout(layer):
    """The PyTorch tensors of a Keras convolution, linear layer or LayerNorm, and how they map onto it.

    Parameters
    ----------
    layer : keras.layers.Layer
        A layer with weights.

    Returns
    -------
    list of (str, keras.Variable, callable or None, tuple) or None
        For each tensor: its suffix in the state dict, the variable it sets,
        the change of layout from PyTorch's (``Conv2D``: (out, in, kh, kw) to
        (kh, kw, in, out); ``Dense``: (out, in) transposed; ``None``: as it is)
        and its shape in PyTorch. ``None`` for any other layer.
    """
    import keras  # the reader above needs only numpy

    if isinstance(layer, keras.layers.Conv2D) and layer.use_bias:
        kh, kw, cin, cout = layer.kernel.shape
        return [("weight", layer.kernel, _oihw_to_hwio, (cout, cin, kh, kw)), ("bias", layer.bias, None, (cout,))]
    if isinstance(layer, keras.layers.Dense) and layer.use_bias:
        cin, cout = layer.kernel.shape
        return [("weight", layer.kernel, _transpose, (cout, cin)), ("bias", layer.bias, None, (cout,))]
    if isinstance(layer, keras.layers.LayerNormalization) and layer.center and layer.scale:
        return [
            ("weight", layer.gamma, None, tuple(layer.gamma.shape)),
            ("bias", layer.beta, None, tuple(layer.beta.shape)),
        ]
    return None


def assign_state_dict(model, path, *, torch_name, symbols, layout=torch_layout, buffers=None):
    """Set every weight of ``model`` from the ``.pth`` file ``path``, strictly, or nothing at all.

    Each layer with weights takes the tensors ``{torch_name(layer.name)}.{suffix}``
    that ``layout`` gives for it; every tensor of the file must be used once,
    except the buffers ``buffers`` accepts. Values are cast to the variables'
    dtype (float32; files may hold float16).

    Parameters
    ----------
    model : keras.Model
        The network.
    path : str or path-like
        A ``.pth`` file (:func:`load_state_dict`).
    torch_name : callable
        Keras layer name -> the prefix of its tensors in the state dict.
    symbols : str
        The architecture's symbols, named in the message about a mis-shaped tensor.
    layout : callable, optional
        ``layer -> [(suffix, variable, to_keras, torch_shape), ...]`` or None
        for a layer of no known kind; default :func:`torch_layout`.
    buffers : callable, optional
        ``(layer, prefix, tensors) -> keys`` of the file's buffers that belong to
        the layer and are not loaded (it may raise ``ValueError`` if one does
        not fit the model).

    Returns
    -------
    keras.Model
        ``model``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file cannot be read, a tensor is missing, of another shape or not
        floating point, a layer has weights of no known kind, or the file has a
        tensor the model does not use: the message names the tensor (or layer)
        and the file. The model is then left unchanged.
    """
    tensors = load_state_dict(path)
    used, skipped, assignments = set(), set(), []
    for layer in model.layers:
        if not layer.weights:
            continue
        specs = layout(layer)
        if specs is None:
            raise ValueError(
                f"model {model.name!r}: layer {layer.name!r} has weights of no kind a PyTorch file maps to"
            )
        prefix = torch_name(layer.name)
        values = []
        for suffix, variable, to_keras, torch_shape in specs:
            key = f"{prefix}.{suffix}"
            if key not in tensors:
                raise ValueError(
                    f"PyTorch file {path} has no tensor {key!r} (for layer {layer.name!r} of model {model.name!r}); "
                    f"is it a state dict of another network?"
                )
            array = tensors[key]
            if array.shape != torch_shape:
                raise ValueError(
                    f"PyTorch file {path}: tensor {key!r} has shape {array.shape}, layer {layer.name!r} of model "
                    f"{model.name!r} expects {torch_shape} (are {symbols} and the scale those of the file?)"
                )
            if array.dtype.kind != "f":
                raise ValueError(f"PyTorch file {path}: tensor {key!r} is {array.dtype}, not floating point")
            values.append((to_keras(array) if to_keras else array).astype(variable.dtype))
            used.add(key)
        if buffers is not None:
            try:
                skipped.update(buffers(layer, prefix, tensors))
            except ValueError as error:
                raise ValueError(f"PyTorch file {path}: {error}") from None
        assignments.append((layer, values))
    extra = [key for key in tensors if key not in used and key not in skipped]
    if extra:
        raise ValueError(
            f"PyTorch file {path} has tensor {extra[0]!r}, which model {model.name!r} does not use "
            f"({len(extra)} such tensors); is the file for a larger network ({symbols}) or another one?"
        )
    for layer, values in assignments:
        layer.set_weights(values)
    logger.info("loaded %d tensors from %s into %s", len(used), path, model.name)
    return model
