"""Super-resolution architectures: parameter counts, layer names, custom layers, training step."""

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from mesr.sr import ARCHS, build, check_params
from mesr.sr.layers import GaussianNoiseInjection, MultiplyBeta, PixelShuffle
from mesr.sr.nesrgan_plus import build_nesrgan_plus
from mesr.sr.rdn import build_rdn
from mesr.sr.rrdn import build_rrdn

SRC = Path(__file__).resolve().parents[1] / "src"
TINY = {
    "rdn": {"C": 2, "D": 2, "G": 4, "G0": 4},
    "rrdn": {"C": 2, "D": 2, "G": 4, "G0": 4, "T": 2},
    "nesrgan_plus": {"nf": 4, "gc": 4, "nb": 1},
    "realesrgan": {"nf": 4, "gc": 4, "nb": 1},
    "swinir": {"embed_dim": 4, "depths": [1], "num_heads": [1], "window_size": 4, "mlp_ratio": 2},
}


def weighted_layer_names(model):
    return [layer.name for layer in model.layers if layer.weights]


# --- parameter counts of the paper's configurations (docs/models.md) ---------------------------------


@pytest.mark.parametrize(
    ("arch", "params", "scale", "expected"),
    [
        ("rdn", {"C": 6, "D": 20, "G": 64, "G0": 64}, 2, 16_347_635),
        ("rdn", {"C": 3, "D": 10, "G": 64, "G0": 64}, 2, 2_619_635),
        ("rrdn", {"C": 4, "D": 3, "G": 32, "G0": 32, "T": 10}, 4, 4_176_100),
        ("nesrgan_plus", {"nf": 64, "gc": 32, "nb": 23}, 4, 16_839_299),
        ("nesrgan_plus", {"nf": 64, "gc": 32, "nb": 23, "plus": False}, 4, 16_697_987),
        ("nesrgan_plus", {"nf": 64, "gc": 32, "nb": 10}, 4, 7_406_915),
    ],
)
def test_parameter_counts_of_the_paper_configurations(arch, params, scale, expected):
    model = build(arch, params, scale)
    assert model.count_params() == expected
    keras.backend.clear_session()


def test_rrdn_x2_has_fewer_shuffle_channels_than_x4():
    params = {"C": 4, "D": 3, "G": 32, "G0": 32, "T": 1}
    x4 = build("rrdn", params, 4).count_params()
    x2 = build("rrdn", params, 2).count_params()
    # PreShuffle: 3x3 conv G0 -> 3 s^2 with bias
    assert x4 - x2 == (9 * 32 + 1) * 3 * (16 - 4)


# --- layer names (ISR's, so that ISR's weight files load) -------------------------------------


def test_rdn_layer_names_follow_isr():
    model = build_rdn(C=2, D=2, G=4, G0=4, scale=2)
    assert (
        weighted_layer_names(model)
        == "F_m1 F_0 F_1_1 F_1_2 LFF_1 F_2_1 F_2_2 LFF_2 GFF_1 GFF_2 UPN1 UPN2 UPN3 SR".split()
    )
    names = {layer.name for layer in model.layers}
    assert {"LR", "LRL_1", "LRL_2", "LRLs_Concat", "FDF", "UPsample", "RDB_Concat_2_2", "F_1_1_Relu"} <= names
    assert model.get_layer("UPN1").kernel_size == (5, 5)
    assert model.get_layer("UPN3").filters == 3 * 2**2
    assert model.get_layer("LFF_1").kernel_size == (1, 1)
    assert model.get_layer("GFF_1").kernel_size == (1, 1)
    assert model.get_layer("SR").activation.__name__ == "linear"


def test_rrdn_layer_names_follow_isr():
    model = build_rrdn(C=2, D=2, G=4, G0=4, T=2, scale=4)
    expected = ["Pre_blocks_conv"]
    for t in (1, 2):
        for d in (1, 2):
            expected += [f"F_{t}_{d}_1", f"F_{t}_{d}_2", f"LFF_{t}_{d}"]
    expected += ["post_blocks_conv", "PreShuffle", "SR"]
    assert weighted_layer_names(model) == expected
    names = {layer.name for layer in model.layers}
    assert {"LR_input", "LRL_1_2", "RRDB_2_out", "GRL", "PixelShuffle"} <= names
    assert model.get_layer("LFF_1_1").kernel_size == (3, 3)
    assert model.get_layer("PreShuffle").filters == 3 * 4**2


@pytest.mark.parametrize("plus", [True, False])
def test_nesrgan_plus_layer_names(plus):
    model = build_nesrgan_plus(nf=4, gc=4, nb=2, scale=4, plus=plus)
    expected = ["conv_first"]
    for b in (1, 2):
        for d in (1, 2, 3):
            prefix = f"RRDB_{b}_dense_{d}"
            expected += [f"{prefix}_conv1", f"{prefix}_conv2"]
            expected += [f"{prefix}_conv1x1"] if plus else []
            expected += [f"{prefix}_conv3", f"{prefix}_conv4", f"{prefix}_conv5"]
    expected += ["trunk_conv", "upconv1", "upconv2", "HRconv", "conv_last"]
    assert weighted_layer_names(model) == expected
    if plus:
        conv1x1 = model.get_layer("RRDB_1_dense_1_conv1x1")
        assert conv1x1.kernel_size == (1, 1) and not conv1x1.use_bias and conv1x1.filters == 4


def test_nesrgan_plus_dense_block_concatenation_widths():
    # conv k sees nf + (k - 1) gc channels: the block input and all earlier outputs
    model = build_nesrgan_plus(nf=8, gc=4, nb=1, scale=2)
    for k in range(1, 6):
        kernel = model.get_layer(f"RRDB_1_dense_1_conv{k}").kernel
        assert tuple(kernel.shape) == (3, 3, 8 + (k - 1) * 4, 4 if k < 5 else 8)


def test_nesrgan_plus_upsampling_stages():
    layers = build_nesrgan_plus(nf=4, gc=4, nb=1, scale=2).layers
    assert [layer.name for layer in layers if layer.name.startswith("upconv") and layer.weights] == ["upconv1"]


def test_every_arch_is_buildable_and_named():
    for arch in ARCHS:
        model = build(arch, TINY[arch], 2, input_size=(5, 7))
        assert model.name == arch
        # swinir is built for one frame size; the convolutional networks take any
        assert model.input_shape == ((None, 5, 7, 3) if arch == "swinir" else (None, None, None, 3))
    with pytest.raises(ValueError, match=r"arch swinir is built for one frame size: give input_size"):
        build("swinir", TINY["swinir"], 2)


# --- custom layers ----------------------------------------------------------------------------


def test_pixel_shuffle_matches_its_definition():
    rng = np.random.default_rng(0)
    s, channels = 2, 3
    x = rng.normal(size=(2, 3, 4, channels * s * s)).astype(np.float32)
    out = PixelShuffle(s)(x).numpy()
    expected = np.empty((2, 3 * s, 4 * s, channels), np.float32)
    for h in range(3):
        for w in range(4):
            for i in range(s):
                for j in range(s):
                    expected[:, h * s + i, w * s + j, :] = x[
                        :, h, w, (i * s + j) * channels : (i * s + j + 1) * channels
                    ]
    np.testing.assert_array_equal(out, expected)


def test_multiply_beta_scales():
    np.testing.assert_allclose(MultiplyBeta(0.2)(np.ones((1, 2, 2, 1), np.float32)).numpy(), 0.2)


def test_noise_is_injected_in_training_only():
    layer = GaussianNoiseInjection(0.1, seed=3)
    x = np.full((1, 64, 64, 1), 2.0, np.float32)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    noisy = layer(x, training=True).numpy()
    assert not np.allclose(noisy, x)
    # x + N(0, 1) * 0.1 * x: relative noise of std 0.1
    assert abs(np.std(noisy / x - 1) - 0.1) < 0.01
    zero = np.zeros_like(x)
    np.testing.assert_array_equal(layer(zero, training=True).numpy(), zero)


def test_nesrgan_plus_noise_layers_act_only_in_training():
    keras.utils.set_random_seed(0)
    noisy = build_nesrgan_plus(nf=4, gc=4, nb=1, scale=2, noise=True)
    plain = build_nesrgan_plus(nf=4, gc=4, nb=1, scale=2, noise=False)
    plain.set_weights(noisy.get_weights())
    assert len([layer for layer in noisy.layers if isinstance(layer, GaussianNoiseInjection)]) == 3
    assert not [layer for layer in plain.layers if isinstance(layer, GaussianNoiseInjection)]
    x = np.random.default_rng(1).uniform(size=(1, 6, 6, 3)).astype(np.float32)
    np.testing.assert_array_equal(noisy(x, training=False).numpy(), plain(x, training=False).numpy())
    assert not np.array_equal(noisy(x, training=True).numpy(), plain(x, training=True).numpy())


def test_nesrgan_plus_noise_is_on_by_default():
    """One default, the builder's, which build (inference and training alike) uses too."""
    layers = build("nesrgan_plus", TINY["nesrgan_plus"], 2).layers
    assert any(isinstance(layer, GaussianNoiseInjection) for layer in layers)
    layers = build_nesrgan_plus(**TINY["nesrgan_plus"], scale=2).layers
    assert any(isinstance(layer, GaussianNoiseInjection) for layer in layers)
    layers = build("nesrgan_plus", {**TINY["nesrgan_plus"], "noise": False}, 2).layers
    assert not any(isinstance(layer, GaussianNoiseInjection) for layer in layers)


# --- save and reload; one training step ---------------------------------------------------------


@pytest.mark.parametrize("arch", ARCHS)
def test_save_and_reload_give_the_same_outputs(arch, tmp_path):
    model = build(arch, TINY[arch], 2, input_size=(5, 7))
    path = tmp_path / f"{arch}.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    x = np.random.default_rng(0).uniform(size=(2, 5, 7, 3)).astype(np.float32)
    np.testing.assert_array_equal(model(x).numpy(), reloaded(x).numpy())


@pytest.mark.parametrize("arch", ARCHS)
def test_weights_change_after_one_training_step(arch):
    keras.utils.set_random_seed(0)
    model = build(arch, TINY[arch], 2, input_size=(6, 6))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mae")
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(2, 6, 6, 3)).astype(np.float32)
    y = rng.uniform(size=(2, 12, 12, 3)).astype(np.float32)
    before = [w.copy() for w in model.get_weights()]
    model.train_on_batch(x, y)
    after = model.get_weights()
    assert all(not np.array_equal(b, a) for b, a in zip(before, after))


def test_layers_initialise_independently():
    model = build_rdn(C=1, D=2, G=4, G0=4, scale=2)
    a, b = model.get_layer("F_1_1").kernel.numpy(), model.get_layer("F_2_1").kernel.numpy()
    assert not np.array_equal(a, b)
    assert np.abs(a).max() <= 0.05


def test_outputs_of_every_scale_have_the_scaled_shape():
    for arch, scales in (("rdn", (2, 3, 4, 8)), ("rrdn", (2, 3, 4, 8)), ("nesrgan_plus", (2, 4, 8))):
        for scale in scales:
            out = build(arch, TINY[arch], scale)(tf.zeros((1, 3, 5, 3)))
            assert tuple(out.shape) == (1, 3 * scale, 5 * scale, 3)


# --- validation --------------------------------------------------------------------------------


def test_unknown_arch_lists_the_valid_ones():
    with pytest.raises(
        ValueError, match="arch must be one of 'rdn', 'rrdn', 'nesrgan_plus', 'realesrgan', 'swinir', got 'edsr'"
    ):
        build("edsr", {}, 2)


@pytest.mark.parametrize(("arch", "scale"), [("rdn", 5), ("rrdn", 1), ("nesrgan_plus", 3), ("rdn", 2.0), ("rdn", True)])
def test_unsupported_scale(arch, scale):
    with pytest.raises(ValueError, match=f"scale of arch '{arch}' must be one of"):
        build(arch, TINY[arch], scale)


def test_params_must_be_a_mapping():
    with pytest.raises(ValueError, match="params must be a mapping"):
        build("rdn", [3, 10, 64, 64], 2)


def test_missing_param():
    with pytest.raises(ValueError, match=r"params: arch rrdn needs C, D, G, G0, T; missing T$"):
        build("rrdn", TINY["rdn"], 2)


def test_unknown_param():
    with pytest.raises(ValueError, match=r"params: arch rdn needs C, D, G, G0 \(optional: kernel_size\); unknown x$"):
        build("rdn", {**TINY["rdn"], "x": 2}, 2)


@pytest.mark.parametrize(
    ("arch", "params", "message"),
    [
        ("rdn", {"C": 1, "D": 1, "G": 4}, "arch rdn needs C, D, G, G0 (optional: kernel_size); missing G0"),
        (
            "rdn",
            {"C": 1, "D": 1, "G": 4, "G0": 4, "T": 2},
            "arch rdn needs C, D, G, G0 (optional: kernel_size); unknown T",
        ),
        (
            "nesrgan_plus",
            {"nf": 4, "x": 1},
            "arch nesrgan_plus needs nf, gc, nb (optional: noise, plus); missing gc, nb; unknown x",
        ),
    ],
)
def test_check_params_names_the_setting_and_what_is_wrong(arch, params, message):
    with pytest.raises(ValueError) as error:
        check_params(arch, params, name="models.tiny.params")
    assert str(error.value) == f"models.tiny.params: {message}"
    assert check_params(arch, {**TINY[arch]}) == TINY[arch]


def test_check_params_does_not_load_tensorflow():
    """The workflow checks its model registry with it when it starts: no TensorFlow there."""
    code = (
        "import sys; from mesr.sr import check_params; check_params('rdn', {'C': 1, 'D': 1, 'G': 4, 'G0': 4}); "
        "assert not {'tensorflow', 'keras'} & set(sys.modules), sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": str(SRC)})


@pytest.mark.parametrize("value", [0, -1, 2.5, True, "4"])
def test_symbols_must_be_positive_integers(value):
    with pytest.raises(ValueError, match="G0 must be a positive integer"):
        build("rdn", {**TINY["rdn"], "G0": value}, 2)


def test_builder_scale_is_checked():
    with pytest.raises(ValueError, match="scale must be one of 2, 3, 4, 8, got 5"):
        build_rrdn(C=1, D=1, G=4, G0=4, T=1, scale=5)


def test_rdn_kernel_size_must_be_odd():
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        build("rdn", {**TINY["rdn"], "kernel_size": 4}, 2)


def test_nesrgan_plus_flags_must_be_bools():
    with pytest.raises(ValueError, match="plus must be a bool"):
        build("nesrgan_plus", {**TINY["nesrgan_plus"], "plus": "yes"}, 2)
