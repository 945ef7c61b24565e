"""PyTorch ``.pth`` state dicts read without PyTorch: both layouts, strides, selection, refusals.

PyTorch is not installed: :func:`write_pth` writes the files as ``torch.save`` does, with Python's
pickle and stand-ins for the ``torch`` globals (registered in ``sys.modules`` only while pickling).
"""

import collections
import contextlib
import io
import pickle
import re
import struct
import sys
import types
import zipfile

import numpy as np
import pytest

from mesr.sr.pth import STORAGE_DTYPES, load_state_dict

_STORAGE_NAMES = {
    np.dtype("f8"): "DoubleStorage",
    np.dtype("f4"): "FloatStorage",
    np.dtype("f2"): "HalfStorage",
    np.dtype("i8"): "LongStorage",
    np.dtype("i4"): "IntStorage",
    np.dtype("u1"): "ByteStorage",
    np.dtype("?"): "BoolStorage",
}
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class FakeStorage:
    """A storage to be written: a 1-D array of its elements (``type_name`` overrides the dtype's)."""

    def __init__(self, array, type_name=None, view=None):
        self.array = np.ascontiguousarray(array).reshape(-1)
        self.type_name = type_name or _STORAGE_NAMES[self.array.dtype]
        self.view = view  # legacy layout only: (view key, offset, numel) within this storage


class FakeTensor:
    """A tensor to be written: a strided view of a :class:`FakeStorage`."""

    def __init__(self, storage, offset, size, stride, state=None):
        self.storage, self.offset, self.size, self.stride, self.state = storage, offset, size, stride, state


def tensor(array):
    """A contiguous tensor holding ``array``, on a storage of its own."""
    array = np.asarray(array)
    strides = tuple(s // array.itemsize for s in array.copy(order="C").strides)
    return FakeTensor(FakeStorage(array), 0, array.shape, strides)


def _rebuild_tensor_v2(*args):  # pickled by reference only, never called
    raise AssertionError("the reader must not call torch._utils._rebuild_tensor_v2")


@contextlib.contextmanager
def _fake_torch():
    """Modules ``torch`` and ``torch._utils`` with the globals pickle names, in ``sys.modules`` meanwhile."""
    assert "torch" not in sys.modules, "these tests expect PyTorch absent"
    torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")
    torch._utils = utils
    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    for name in STORAGE_DTYPES:
        setattr(torch, name, type(name, (), {"__module__": "torch"}))
    sys.modules.update({"torch": torch, "torch._utils": utils})
    try:
        yield torch
    finally:
        del sys.modules["torch"], sys.modules["torch._utils"]


class _TorchPickler(pickle.Pickler):
    """Pickles tensors and storages as ``torch.save`` does (protocol 2, storages by persistent id)."""

    def __init__(self, file, torch, legacy):
        super().__init__(file, protocol=2)
        self.torch, self.legacy, self.storages = torch, legacy, {}

    def persistent_id(self, obj):
        if not isinstance(obj, FakeStorage):
            return None
        key = self.storages.setdefault(id(obj), (f"{94000 + 7 * len(self.storages)}", obj))[0]
        pid = ("storage", getattr(self.torch, obj.type_name), key, "cpu", obj.array.size)
        return pid + (obj.view,) if self.legacy else pid

    def reducer_override(self, obj):
        if isinstance(obj, FakeTensor):
            args = (obj.storage, obj.offset, tuple(obj.size), tuple(obj.stride), False, collections.OrderedDict())
            return (self.torch._utils._rebuild_tensor_v2, args) + ((obj.state,) if obj.state else ())
        return NotImplemented


def write_pth(path, obj, *, layout="zip", byteorder="little", data_pkl=None, drop=(), little_endian_info=True):
    """Write ``obj`` (dicts of :class:`FakeTensor`) as ``torch.save`` does, in the zip or legacy layout.

    ``data_pkl`` replaces the object's pickle by given bytes; ``drop`` leaves those storage keys'
    data out; ``byteorder`` (zip) is the recorded byte order (``None``: no record, little-endian).
    """
    buffer = io.BytesIO()
    with _fake_torch() as torch:
        pickler = _TorchPickler(buffer, torch, legacy=layout == "legacy")
        pickler.dump(obj)
    pickled = buffer.getvalue() if data_pkl is None else data_pkl
    storages = sorted(pickler.storages.values(), key=lambda item: item[0])
    if layout == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr("archive/data.pkl", pickled)
            if byteorder is not None:
                archive.writestr("archive/byteorder", byteorder)
            for key, storage in storages:
                if key not in drop:
                    endian = "<" if byteorder in ("little", None) else ">"
                    archive.writestr(
                        f"archive/data/{key}", storage.array.astype(storage.array.dtype.newbyteorder(endian)).tobytes()
                    )
            archive.writestr("archive/version", "3\n")
        return path
    info = {
        "protocol_version": 1001,
        "little_endian": little_endian_info,
        "type_sizes": {"short": 2, "int": 4, "long": 8},
    }
    with open(path, "wb") as handle:
        for header in (_LEGACY_MAGIC, 1001, info):
            pickle.dump(header, handle, protocol=2)
        handle.write(pickled)
        pickle.dump([key for key, _ in storages], handle, protocol=2)
        for key, storage in storages:
            if key not in drop:
                handle.write(
                    struct.pack("<q", storage.array.size)
                    + storage.array.astype(storage.array.dtype.newbyteorder("<")).tobytes()
                )
    return path


def _assert_same(arrays, expected):
    assert list(arrays) == list(expected)
    for name, value in expected.items():
        value = np.asarray(value)
        assert arrays[name].dtype == value.dtype, name
        assert arrays[name].shape == value.shape, name
        np.testing.assert_array_equal(arrays[name], value, err_msg=name)


@pytest.fixture
def weights():
    rng = np.random.default_rng(0)
    return {
        "conv_first.weight": rng.normal(size=(4, 3, 3, 3)).astype(np.float32),
        "conv_first.bias": rng.normal(size=4).astype(np.float16),
        "bn.running_var": rng.uniform(size=4),  # float64
        "bn.num_batches_tracked": np.array(7, dtype=np.int64),  # a 0-d tensor
        "mask": np.array([True, False]),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }


def _state(weights):
    state = collections.OrderedDict((name, tensor(value)) for name, value in weights.items())
    state._metadata = collections.OrderedDict({"": {"version": 1}})  # as nn.Module.state_dict() sets
    return state


# --- both layouts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["zip", "legacy"])
def test_state_dict_reads_with_dtypes_and_shapes(layout, weights, tmp_path):
    path = write_pth(tmp_path / f"{layout}.pth", _state(weights), layout=layout)
    arrays = load_state_dict(path)
    _assert_same(arrays, weights)
    assert all(a.flags.c_contiguous and a.flags.writeable and a.dtype.isnative for a in arrays.values())
    assert "torch" not in sys.modules


def test_both_layouts_give_identical_arrays(weights, tmp_path):
    zip_arrays = load_state_dict(write_pth(tmp_path / "a.pth", _state(weights), layout="zip"))
    legacy_arrays = load_state_dict(write_pth(tmp_path / "b.pth", _state(weights), layout="legacy"))
    _assert_same(zip_arrays, legacy_arrays)


@pytest.mark.parametrize("layout", ["zip", "legacy"])
def test_strides_offsets_and_shared_storages(layout, tmp_path):
    storage = FakeStorage(np.arange(30, dtype=np.float32))
    base = np.arange(30, dtype=np.float32)
    state = {
        "full": FakeTensor(storage, 0, (2, 3, 4), (12, 4, 1)),
        "transposed": FakeTensor(storage, 0, (4, 3, 2), (1, 4, 12)),  # permute(2, 1, 0) of "full"
        "offset": FakeTensor(storage, 5, (3,), (2,)),
        "column": FakeTensor(storage, 25, (2, 2), (1, 3)),
        "broadcast": FakeTensor(storage, 1, (2, 3), (0, 1)),
    }
    arrays = load_state_dict(write_pth(tmp_path / "s.pth", state, layout=layout))
    full = base[:24].reshape(2, 3, 4)
    _assert_same(
        arrays,
        {
            "full": full,
            "transposed": full.transpose(2, 1, 0),
            "offset": np.array([5, 7, 9], dtype=np.float32),
            "column": np.array([[25, 28], [26, 29]], dtype=np.float32),
            "broadcast": np.array([[1, 2, 3], [1, 2, 3]], dtype=np.float32),
        },
    )
    assert arrays["transposed"].flags.c_contiguous
    arrays["full"][...] = -1  # copies, not views of one buffer
    assert arrays["transposed"][0, 0, 0] == 0 and arrays["offset"][0] == 5


def test_float16_and_bfloat16_storages(tmp_path):
    half = np.array([1.5, -0.25, 65504.0], dtype=np.float16)
    values = np.array([1.0, -2.5, 0.15625, -(2.0**127)], dtype=np.float32)
    bits = (values.view(np.uint32) >> 16).astype(np.uint16)  # exact in bfloat16
    state = {"half": tensor(half), "bf16": FakeTensor(FakeStorage(bits, "BFloat16Storage"), 0, (4,), (1,))}
    arrays = load_state_dict(write_pth(tmp_path / "h.pth", state))
    _assert_same(arrays, {"half": half, "bf16": values})


@pytest.mark.parametrize("byteorder", ["big", None])
def test_zip_byteorder_record(byteorder, weights, tmp_path):
    path = write_pth(tmp_path / "e.pth", _state(weights), byteorder=byteorder)
    _assert_same(load_state_dict(path), weights)


def test_legacy_storage_view(tmp_path):
    root = FakeStorage(np.arange(10, dtype=np.float32))
    view = FakeStorage(np.arange(10, dtype=np.float32), view=("view-1", 4, 3))
    view.array = root.array  # the same root storage, pickled with view metadata
    state = {"whole": FakeTensor(root, 0, (10,), (1,)), "part": FakeTensor(view, 1, (2,), (1,))}
    with _fake_torch() as torch:
        buffer = io.BytesIO()
        pickler = _TorchPickler(buffer, torch, legacy=True)
        pickler.storages[id(view)] = ("94000", view)  # same key as the root
        pickler.storages[id(root)] = ("94000", root)
        pickler.dump(state)
    path = tmp_path / "v.pth"
    with open(path, "wb") as handle:
        for header in (_LEGACY_MAGIC, 1001, {"little_endian": True}):
            pickle.dump(header, handle, protocol=2)
        handle.write(buffer.getvalue())
        pickle.dump(["94000"], handle, protocol=2)
        handle.write(struct.pack("<q", 10) + root.array.tobytes())
    arrays = load_state_dict(path)
    np.testing.assert_array_equal(arrays["part"], [5, 6])
    np.testing.assert_array_equal(arrays["whole"], np.arange(10))


# --- which state dict -------------------------------------------------------------------------------


def test_params_ema_preferred_then_params_then_the_file_itself(tmp_path):
    ema, params = {"w": tensor(np.ones(2, np.float32))}, {"w": tensor(np.zeros(2, np.float32))}
    both = load_state_dict(write_pth(tmp_path / "1.pth", {"params": params, "params_ema": ema, "iter": 5}))
    np.testing.assert_array_equal(both["w"], [1, 1])
    only = load_state_dict(write_pth(tmp_path / "2.pth", {"params": params}))
    np.testing.assert_array_equal(only["w"], [0, 0])
    bare = load_state_dict(write_pth(tmp_path / "3.pth", params, layout="legacy"))
    np.testing.assert_array_equal(bare["w"], [0, 0])


@pytest.mark.parametrize(
    ("obj", "match"),
    [
        ([1, 2], "the file's object is a list, not a state dict"),
        ({"params": [1]}, "its 'params' is a list, not a state dict"),
        ({"w": 3, "epoch": 1}, "entry 'w' is a int, not a named tensor"),
        ({"params_ema": {"x": {"y": 1}}}, "its 'params_ema' is not a state dict: entry 'x' is a dict"),
    ],
)
def test_not_a_state_dict(obj, match, tmp_path):
    path = write_pth(tmp_path / "n.pth", obj)
    with pytest.raises(ValueError, match=f"PyTorch file {re.escape(str(path))}: .*{re.escape(match)}"):
        load_state_dict(path)


# --- safety -----------------------------------------------------------------------------------------


def _touch_opcodes(module, name, target):
    """A protocol-0 pickle calling ``module.name('touch <target>')``."""
    return f"c{module}\n{name}\n(S'touch {target}'\ntR.".encode()


class _Exec:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (exec, (f"open({str(self.target)!r}, 'w').close()",))


@pytest.mark.parametrize("layout", ["zip", "legacy"])
def test_os_system_is_refused_before_it_runs(layout, tmp_path):
    target = tmp_path / "pwned"
    path = write_pth(tmp_path / "evil.pth", {}, layout=layout, data_pkl=_touch_opcodes("os", "system", target))
    with pytest.raises(ValueError, match=rf"PyTorch file {path} refers to the global os\.system.*refused"):
        load_state_dict(path)
    assert not target.exists()


@pytest.mark.parametrize("layout", ["zip", "legacy"])
def test_a_global_inside_the_state_dict_is_refused(layout, weights, tmp_path):
    target = tmp_path / "pwned"
    state = _state(weights)
    state["evil"] = _Exec(target)
    path = write_pth(tmp_path / "evil.pth", {"params_ema": state}, layout=layout)
    with pytest.raises(ValueError, match=r"refers to the global (__builtin__|builtins)\.exec"):
        load_state_dict(path)
    assert not target.exists()


def test_refused_in_the_legacy_header_too(tmp_path):
    target = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    path.write_bytes(_touch_opcodes("posix", "system", target))
    with pytest.raises(ValueError, match=r"refers to the global posix\.system"):
        load_state_dict(path)
    assert not target.exists()


def test_pickled_state_on_a_tensor_is_refused(tmp_path):
    state = {"w": FakeTensor(FakeStorage(np.zeros(4, np.float32)), 0, (4,), (1,), state={"offset": 3})}
    path = write_pth(tmp_path / "b.pth", state)
    with pytest.raises(ValueError, match=f"PyTorch file {path}: a Tensor takes no pickled state"):
        load_state_dict(path)


def test_calling_a_storage_type_is_refused(tmp_path):
    path = write_pth(tmp_path / "c.pth", {}, data_pkl=b"ctorch\nFloatStorage\n(I3\ntR.")
    with pytest.raises(ValueError, match=f"PyTorch file {path} could not be read .*TypeError"):
        load_state_dict(path)


# --- damaged and foreign files ------------------------------------------------------------------------


def test_truncated_zip(weights, tmp_path):
    path = write_pth(tmp_path / "t.pth", _state(weights))
    path.write_bytes(path.read_bytes()[:400])
    with pytest.raises(ValueError, match=f"PyTorch file {path}: truncated or damaged zip archive"):
        load_state_dict(path)


def test_missing_storage_record(weights, tmp_path):
    path = write_pth(tmp_path / "m.pth", _state(weights), drop=("94007",))
    with pytest.raises(ValueError, match=f"PyTorch file {path}: storage '94007' has no record archive/data/94007"):
        load_state_dict(path)


def test_short_storage_record(tmp_path):
    path = tmp_path / "r.pth"
    write_pth(path, {"w": tensor(np.zeros(4, np.float32))})
    with zipfile.ZipFile(path) as archive:
        records = {name: archive.read(name) for name in archive.namelist()}
    records["archive/data/94000"] = records["archive/data/94000"][:12]
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in records.items():
            archive.writestr(name, data)
    with pytest.raises(ValueError, match="record archive/data/94000 holds 12 bytes, storage '94000' needs 4 x 4"):
        load_state_dict(path)


def test_truncated_legacy_stream(weights, tmp_path):
    path = write_pth(tmp_path / "l.pth", _state(weights), layout="legacy")
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match=f"PyTorch file {path}: truncated: storage .* needs"):
        load_state_dict(path)


def test_tensor_outside_its_storage(tmp_path):
    state = {"w": FakeTensor(FakeStorage(np.zeros(6, np.float32)), 2, (2, 3), (3, 1))}
    path = write_pth(tmp_path / "o.pth", state)
    with pytest.raises(ValueError, match=r"tensor 'w' \(size \(2, 3\), stride \(3, 1\), offset 2\) does not fit"):
        load_state_dict(path)


def test_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_state_dict(tmp_path / "absent.pth")
    text = tmp_path / "text.pth"
    text.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match=f"PyTorch file {text}: not a PyTorch file"):
        load_state_dict(text)
    other_pickle = tmp_path / "pickle.pth"
    other_pickle.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ValueError, match="not a PyTorch file"):
        load_state_dict(other_pickle)
    script = tmp_path / "script.pth"
    with zipfile.ZipFile(script, "w") as archive:
        archive.writestr("model/data.pkl", pickle.dumps({}))
        archive.writestr("model/constants.pkl", pickle.dumps(()))
    with pytest.raises(ValueError, match="TorchScript archive"):
        load_state_dict(script)
    tar = tmp_path / "tar.pth"
    tar.write_bytes(b"\0" * 257 + b"ustar" + b"\0" * 250)
    with pytest.raises(ValueError, match="tar layout of PyTorch < 0.4"):
        load_state_dict(tar)
