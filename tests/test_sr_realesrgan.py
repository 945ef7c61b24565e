"""Real-ESRGAN's generator (BasicSR's RRDBNet): a numpy reference, parameter counts, strict .pth loading."""

import hashlib

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf
from test_sr_pth import tensor, write_pth

from mesr.sr import build, convert_pth, load_weights, receptive_field_radius, upscale
from mesr.sr.layers import PixelUnshuffle
from mesr.sr.realesrgan import build_realesrgan, load_pth_weights, torch_name

TINY = {"nf": 8, "gc": 4, "nb": 1}


# --- a numpy RRDBNet in PyTorch's layout (NCHW, OIHW), following basicsr/archs/rrdbnet_arch.py ---------


def pixel_unshuffle(x, s):
    """``torch.nn.functional.pixel_unshuffle``: channel c*s*s + i*s + j holds pixel (h*s + i, w*s + j) of c."""
    b, c, h, w = x.shape
    return x.reshape(b, c, h // s, s, w // s, s).transpose(0, 1, 3, 5, 2, 4).reshape(b, c * s * s, h // s, w // s)


def space_to_depth_order(x, s):
    """The same blocks in ``tf.nn.space_to_depth``'s channel order (i*s + j)*C + c: the wrong one here."""
    b, c, h, w = x.shape
    return x.reshape(b, c, h // s, s, w // s, s).transpose(0, 3, 5, 1, 2, 4).reshape(b, c * s * s, h // s, w // s)


def conv3x3(x, state, name):
    weight, bias = state[f"{name}.weight"].astype(np.float64), state[f"{name}.bias"].astype(np.float64)
    height, width = x.shape[2:]
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((x.shape[0], weight.shape[0], height, width)) + bias[None, :, None, None]
    for dy in range(3):
        for dx in range(3):
            out += np.einsum("bihw,oi->bohw", padded[:, :, dy : dy + height, dx : dx + width], weight[:, :, dy, dx])
    return out


def lrelu(x):
    return np.where(x >= 0, x, 0.2 * x)


def reference_rrdbnet(state, x, *, nb, scale, unshuffle=pixel_unshuffle):
    """BasicSR's ``RRDBNet.forward`` on NCHW ``x`` (RealESRGANer's reflection padding to even sizes at x2)."""
    height, width = x.shape[2:]
    if scale == 2:
        x = np.pad(x, ((0, 0), (0, 0), (0, height % 2), (0, width % 2)), mode="reflect")
        x = unshuffle(x, 2)
    feat = conv3x3(x, state, "conv_first")
    body = feat
    for i in range(nb):
        block_in = body
        for j in (1, 2, 3):
            rdb_in, features = body, [body]
            for k in (1, 2, 3, 4):
                features.append(lrelu(conv3x3(np.concatenate(features, axis=1), state, f"body.{i}.rdb{j}.conv{k}")))
            body = rdb_in + 0.2 * conv3x3(np.concatenate(features, axis=1), state, f"body.{i}.rdb{j}.conv5")
        body = block_in + 0.2 * body
    feat = feat + conv3x3(body, state, "conv_body")
    for k in (1, 2):
        feat = lrelu(conv3x3(feat.repeat(2, axis=2).repeat(2, axis=3), state, f"conv_up{k}"))
    out = conv3x3(lrelu(conv3x3(feat, state, "conv_hr")), state, "conv_last")
    return out[:, :, : height * scale, : width * scale]


def basicsr_state(*, nf, gc, nb, scale, seed=0, dtype=np.float32):
    """Random weights with BasicSR's names and shapes (OIHW kernels)."""
    rng = np.random.default_rng(seed)
    shapes = {"conv_first": (nf, 3 * (4 if scale == 2 else 1))}
    for i in range(nb):
        for j in (1, 2, 3):
            for k in (1, 2, 3, 4, 5):
                shapes[f"body.{i}.rdb{j}.conv{k}"] = (nf if k == 5 else gc, nf + (k - 1) * gc)
    shapes.update({name: (nf, nf) for name in ("conv_body", "conv_up1", "conv_up2", "conv_hr")})
    shapes["conv_last"] = (3, nf)
    state = {}
    for name, (out_channels, in_channels) in shapes.items():
        std = 1.0 / np.sqrt(9 * in_channels)
        state[f"{name}.weight"] = rng.normal(0, std, size=(out_channels, in_channels, 3, 3)).astype(dtype)
        state[f"{name}.bias"] = rng.normal(0, 0.1, size=out_channels).astype(dtype)
    return state


def write_state(path, state, key="params_ema", layout="zip"):
    return write_pth(path, {key: {name: tensor(value) for name, value in state.items()}}, layout=layout)


def keras_output(model, x_nchw):
    return model(x_nchw.transpose(0, 2, 3, 1).astype(np.float32)).numpy().transpose(0, 3, 1, 2)


def all_weights(model):
    return [w.numpy().copy() for w in model.weights]


# --- the network ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("scale", "size"), [(4, (6, 8)), (2, (6, 8)), (2, (5, 7))])
def test_keras_model_equals_the_numpy_reference(scale, size, tmp_path):
    state = basicsr_state(**TINY, scale=scale)
    model = load_pth_weights(build_realesrgan(**TINY, scale=scale), write_state(tmp_path / "w.pth", state))
    x = np.random.default_rng(1).uniform(size=(2, 3, *size))
    expected = reference_rrdbnet(state, x, nb=TINY["nb"], scale=scale)
    actual = keras_output(model, x)
    assert actual.shape == (2, 3, size[0] * scale, size[1] * scale)
    assert np.abs(expected).max() > 0.1  # a signal, not all zeros
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)


def test_unshuffle_channel_order_matters(tmp_path):
    state = basicsr_state(**TINY, scale=2, seed=3)
    model = load_pth_weights(build_realesrgan(**TINY, scale=2), write_state(tmp_path / "w.pth", state))
    x = np.random.default_rng(2).uniform(size=(1, 3, 6, 6))
    right = reference_rrdbnet(state, x, nb=1, scale=2)
    wrong = reference_rrdbnet(state, x, nb=1, scale=2, unshuffle=space_to_depth_order)
    actual = keras_output(model, x)
    np.testing.assert_allclose(actual, right, rtol=1e-4, atol=1e-5)
    assert np.abs(actual - wrong).max() > 1e-2


def test_pixel_unshuffle_layer_is_pytorchs():
    x = np.arange(2 * 4 * 6 * 3, dtype=np.float32).reshape(2, 4, 6, 3)  # NHWC
    out = PixelUnshuffle(2)(x).numpy()
    expected = pixel_unshuffle(x.transpose(0, 3, 1, 2), 2).transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(out, expected)
    assert out[0, 0, 0, :4].tolist() == [x[0, 0, 0, 0], x[0, 0, 1, 0], x[0, 1, 0, 0], x[0, 1, 1, 0]]
    assert not np.array_equal(out, tf.nn.space_to_depth(x, 2).numpy())


@pytest.mark.parametrize(("scale", "expected"), [(4, 16_697_987), (2, 16_703_171)])
def test_parameter_counts_at_the_published_size(scale, expected):
    assert build_realesrgan(scale=scale).count_params() == expected
    keras.backend.clear_session()


def test_layer_names_map_one_to_one_onto_basicsr_names():
    model = build_realesrgan(nf=8, gc=4, nb=2, scale=2)
    names = {torch_name(layer.name) for layer in model.layers if layer.weights}
    assert {f"{name}.weight" for name in names} | {f"{name}.bias" for name in names} == set(
        basicsr_state(nf=8, gc=4, nb=2, scale=2)
    )
    assert torch_name("body_1_rdb3_conv5") == "body.1.rdb3.conv5"


def test_model_saves_and_reloads(tmp_path):
    model = build_realesrgan(**TINY, scale=2)
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(0).uniform(size=(1, 3, 5, 6))
    np.testing.assert_allclose(keras_output(reloaded, x), keras_output(model, x), rtol=1e-6)


@pytest.mark.parametrize("scale", [2, 4])
def test_builder_checks_its_arguments(scale):
    with pytest.raises(ValueError, match="scale must be one of 2, 4, got 3"):
        build_realesrgan(**TINY, scale=3)
    with pytest.raises(ValueError, match="nb must be a positive integer"):
        build_realesrgan(nf=8, gc=4, nb=0, scale=scale)


# --- strict loading --------------------------------------------------------------------------------------


def test_params_key_legacy_layout_and_float16_weights_load(tmp_path):
    state = basicsr_state(**TINY, scale=4, dtype=np.float16)
    path = write_state(tmp_path / "h.pth", state, key="params", layout="legacy")
    model = load_pth_weights(build_realesrgan(**TINY, scale=4), path)
    assert model.get_layer("conv_first").kernel.dtype == "float32"
    np.testing.assert_array_equal(
        model.get_layer("body_0_rdb2_conv3").kernel.numpy(),
        state["body.0.rdb2.conv3.weight"].astype(np.float32).transpose(2, 3, 1, 0),
    )
    x = np.random.default_rng(0).uniform(size=(1, 3, 4, 4))
    expected = reference_rrdbnet(state, x, nb=1, scale=4)
    np.testing.assert_allclose(keras_output(model, x), expected, rtol=1e-4, atol=1e-5)


def _mutations(state):
    extra = dict(state, **{"body.1.rdb1.conv1.weight": state["body.0.rdb1.conv1.weight"]})
    missing = {k: v for k, v in state.items() if k != "conv_hr.bias"}
    misshaped = dict(state, **{"conv_up2.weight": state["conv_up2.weight"][:, :, :1]})
    integer = dict(state, **{"conv_last.bias": np.zeros(3, dtype=np.int64)})
    return [
        (extra, r"has tensor 'body\.1\.rdb1\.conv1\.weight', which model 'realesrgan' does not use"),
        (missing, r"has no tensor 'conv_hr\.bias' \(for layer 'conv_hr'"),
        (misshaped, r"tensor 'conv_up2\.weight' has shape \(8, 8, 1, 3\), layer 'conv_up2' .* expects \(8, 8, 3, 3\)"),
        (integer, r"tensor 'conv_last\.bias' is int64, not floating point"),
    ]


@pytest.mark.parametrize("case", range(4))
def test_mismatches_name_the_tensor_and_the_file_and_assign_nothing(case, tmp_path):
    state, match = _mutations(basicsr_state(**TINY, scale=4))[case]
    path = write_state(tmp_path / "bad.pth", state)
    model = build_realesrgan(**TINY, scale=4)
    before = all_weights(model)
    with pytest.raises(ValueError, match=match) as error:
        load_pth_weights(model, path)
    assert str(path) in str(error.value)
    for old, new in zip(before, all_weights(model)):
        np.testing.assert_array_equal(old, new)


def test_an_x4_file_does_not_load_into_an_x2_model(tmp_path):
    path = write_state(tmp_path / "x4.pth", basicsr_state(**TINY, scale=4))
    with pytest.raises(ValueError, match=r"tensor 'conv_first\.weight' has shape \(8, 3, 3, 3\).*\(8, 12, 3, 3\)"):
        load_pth_weights(build_realesrgan(**TINY, scale=2), path)


# --- in the registry: conversion to HDF5 and inference ---------------------------------------------------


@pytest.mark.parametrize("scale", [2, 4])
def test_converted_hdf5_runs_like_the_pth_through_the_registry(scale, tmp_path):
    state = basicsr_state(**TINY, scale=scale, seed=5)
    pth = write_state(tmp_path / "w.pth", state)
    hdf5 = convert_pth(pth, tmp_path / "w.hdf5", arch="realesrgan", params=TINY, scale=scale, source="https://x/w.pth")
    with h5py.File(hdf5, "r") as handle:
        assert handle.attrs["source"] == "https://x/w.pth"
        assert handle.attrs["source_sha256"] == hashlib.sha256(pth.read_bytes()).hexdigest()
    model = load_weights(build("realesrgan", TINY, scale), hdf5)
    frames = np.random.default_rng(4).integers(0, 256, size=(2, 6, 5, 3), dtype=np.uint8)
    expected = reference_rrdbnet(state, frames.transpose(0, 3, 1, 2) / 255.0, nb=TINY["nb"], scale=scale)
    expected = np.round(255 * np.clip(expected, 0, 1)).transpose(0, 2, 3, 1)
    assert np.abs(upscale(model, frames).astype(int) - expected).max() <= 1


def test_convert_refuses_a_file_of_another_size_and_writes_nothing(tmp_path):
    pth = write_state(tmp_path / "w.pth", basicsr_state(**TINY, scale=4))
    with pytest.raises(ValueError, match=r"w\.pth: tensor 'conv_first\.weight'"):
        convert_pth(pth, tmp_path / "w.hdf5", arch="realesrgan", params=TINY, scale=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.pth"]
    with pytest.raises(ValueError, match="arch must be one of 'realesrgan', 'swinir', got 'rdn'"):
        convert_pth(pth, tmp_path / "w.hdf5", arch="rdn", params={"C": 1, "D": 1, "G": 4, "G0": 4}, scale=2)


def test_tiles_of_the_x2_network_stitch_exactly():
    """The pixel-unshuffle doubles the LR radius: with the default overlap tiles equal the whole frame."""
    model = build("realesrgan", TINY, 2)
    radius = receptive_field_radius(model)
    # the tail (conv_up1, 2 upsamplings, conv_up2, conv_hr, conv_last) is 2 px at the unshuffled resolution,
    # plus 15 convolutions per RRDB, conv_body and conv_first; the unshuffle by 2 maps r to 2r + 1
    assert radius == 2 * (2 + 15 * TINY["nb"] + 1 + 1) + 1
    frames = np.random.default_rng(6).integers(0, 256, size=(1, 45, 41, 3), dtype=np.uint8)
    whole = upscale(model, frames)
    tiled = upscale(model, frames, tile=12)
    assert np.abs(whole.astype(int) - tiled.astype(int)).max() <= 1
