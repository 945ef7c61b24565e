"""SwinIR for real-world SR: a numpy reference of the original's forward, parameter counts, strict .pth loading."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_sr_realesrgan import all_weights, keras_output, write_state

from mesr.sr.swinir import ShiftedWindowAttention, build_swinir, load_pth_weights, torch_name

TINY = {"embed_dim": 12, "depths": (2, 2), "num_heads": (2, 3), "window_size": 4, "mlp_ratio": 2}
MEAN = np.array([0.4488, 0.4371, 0.4040])


# --- a numpy SwinIR in PyTorch's layout (NCHW, tokens (B, L, C)), following models/network_swinir.py -----


def conv3x3(x, state, name):
    weight, bias = state[f"{name}.weight"].astype(np.float64), state[f"{name}.bias"].astype(np.float64)
    height, width = x.shape[2:]
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((x.shape[0], weight.shape[0], height, width)) + bias[None, :, None, None]
    for dy in range(3):
        for dx in range(3):
            out += np.einsum("bihw,oi->bohw", padded[:, :, dy : dy + height, dx : dx + width], weight[:, :, dy, dx])
    return out


def linear(x, state, name):
    return x @ state[f"{name}.weight"].astype(np.float64).T + state[f"{name}.bias"].astype(np.float64)


def layer_norm(x, state, name):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-5) * state[f"{name}.weight"] + state[f"{name}.bias"]


_erf = np.vectorize(math.erf)


def gelu(x):
    """``nn.GELU()``: the exact one, x * Phi(x)."""
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def leaky_relu(x, slope):
    return np.where(x >= 0, x, slope * x)


def window_partition(x, ws):
    b, h, w, c = x.shape
    return x.reshape(b, h // ws, ws, w // ws, ws, c).transpose(0, 1, 3, 2, 4, 5).reshape(-1, ws, ws, c)


def window_reverse(windows, ws, h, w):
    b = windows.shape[0] // ((h // ws) * (w // ws))
    return windows.reshape(b, h // ws, w // ws, ws, ws, -1).transpose(0, 1, 3, 2, 4, 5).reshape(b, h, w, -1)


def relative_position_index(ws):
    """Written as plain loops: index of (dh + ws - 1) * (2ws - 1) + (dw + ws - 1) between tokens i and j."""
    index = np.zeros((ws * ws, ws * ws), dtype=np.int64)
    for i in range(ws * ws):
        for j in range(ws * ws):
            dh, dw = i // ws - j // ws, i % ws - j % ws
            index[i, j] = (dh + ws - 1) * (2 * ws - 1) + (dw + ws - 1)
    return index


def calculate_mask(h, w, ws, shift):
    img_mask = np.zeros((1, h, w, 1))
    slices = (slice(0, -ws), slice(-ws, -shift), slice(-shift, None))
    cnt = 0
    for hs in slices:
        for wsl in slices:
            img_mask[:, hs, wsl, :] = cnt
            cnt += 1
    mask_windows = window_partition(img_mask, ws).reshape(-1, ws * ws)
    attn_mask = mask_windows[:, None, :] - mask_windows[:, :, None]
    return np.where(attn_mask != 0, -100.0, 0.0)


def window_attention(x, state, prefix, heads, ws, mask):
    b_, n, c = x.shape
    qkv = linear(x, state, f"{prefix}.qkv").reshape(b_, n, 3, heads, c // heads).transpose(2, 0, 3, 1, 4)
    q, k, v = qkv[0] * (c // heads) ** -0.5, qkv[1], qkv[2]
    attn = q @ k.transpose(0, 1, 3, 2)
    table = state[f"{prefix}.relative_position_bias_table"].astype(np.float64)
    bias = table[relative_position_index(ws).reshape(-1)].reshape(n, n, -1).transpose(2, 0, 1)
    attn = attn + bias[None]
    if mask is not None:
        nw = mask.shape[0]
        attn = (attn.reshape(b_ // nw, nw, heads, n, n) + mask[None, :, None]).reshape(-1, heads, n, n)
    attn = np.exp(attn - attn.max(axis=-1, keepdims=True))
    attn /= attn.sum(axis=-1, keepdims=True)
    out = (attn @ v).transpose(0, 2, 1, 3).reshape(b_, n, c)
    return linear(out, state, f"{prefix}.proj")


def swin_block(x, x_size, state, prefix, heads, window_size, shift_size, img_size):
    """``SwinTransformerBlock.forward``: its window and shift are fixed at construction from ``img_size``."""
    if min(img_size) <= window_size:
        shift_size, window_size = 0, min(img_size)
    h, w = x_size
    b, _, c = x.shape
    shortcut = x
    x = layer_norm(x, state, f"{prefix}.norm1").reshape(b, h, w, c)
    if shift_size > 0:
        x = np.roll(x, (-shift_size, -shift_size), axis=(1, 2))
    windows = window_partition(x, window_size).reshape(-1, window_size * window_size, c)
    mask = calculate_mask(h, w, window_size, shift_size) if shift_size > 0 else None
    windows = window_attention(windows, state, f"{prefix}.attn", heads, window_size, mask)
    x = window_reverse(windows.reshape(-1, window_size, window_size, c), window_size, h, w)
    if shift_size > 0:
        x = np.roll(x, (shift_size, shift_size), axis=(1, 2))
    x = shortcut + x.reshape(b, h * w, c)
    hidden = gelu(linear(layer_norm(x, state, f"{prefix}.norm2"), state, f"{prefix}.mlp.fc1"))
    return x + linear(hidden, state, f"{prefix}.mlp.fc2")


def reference_swinir(state, x, *, depths, num_heads, window_size, scale, img_size=(64, 64), **_):
    """``SwinIR.forward`` (upsampler 'nearest+conv', resi_connection '1conv', img_range 1) on NCHW ``x``."""
    h_old, w_old = x.shape[2:]
    pad_h, pad_w = (-h_old) % window_size, (-w_old) % window_size
    x = np.pad(x, ((0, 0), (0, 0), (0, pad_h), (0, pad_w)), mode="reflect")  # F.pad(..., 'reflect')
    x = x - MEAN[None, :, None, None]
    x = conv3x3(x, state, "conv_first")
    b, c, h, w = x.shape
    tokens = layer_norm(x.reshape(b, c, h * w).transpose(0, 2, 1), state, "patch_embed.norm")
    for i, (depth, heads) in enumerate(zip(depths, num_heads)):
        rstb_in = tokens
        for j in range(depth):
            prefix = f"layers.{i}.residual_group.blocks.{j}"
            shift = 0 if j % 2 == 0 else window_size // 2
            tokens = swin_block(tokens, (h, w), state, prefix, heads, window_size, shift, img_size)
        image = tokens.transpose(0, 2, 1).reshape(b, c, h, w)
        tokens = conv3x3(image, state, f"layers.{i}.conv").reshape(b, c, h * w).transpose(0, 2, 1) + rstb_in
    tokens = layer_norm(tokens, state, "norm")
    x = conv3x3(tokens.transpose(0, 2, 1).reshape(b, c, h, w), state, "conv_after_body") + x
    x = leaky_relu(conv3x3(x, state, "conv_before_upsample.0"), 0.01)
    x = leaky_relu(conv3x3(x.repeat(2, axis=2).repeat(2, axis=3), state, "conv_up1"), 0.2)
    if scale == 4:
        x = leaky_relu(conv3x3(x.repeat(2, axis=2).repeat(2, axis=3), state, "conv_up2"), 0.2)
    x = conv3x3(leaky_relu(conv3x3(x, state, "conv_hr"), 0.2), state, "conv_last")
    x = x + MEAN[None, :, None, None]
    return x[:, :, : h_old * scale, : w_old * scale]


def swinir_shapes(*, embed_dim, depths, num_heads, window_size, mlp_ratio, scale, img_size=(64, 64)):
    """The original's parameters (module list of ``SwinIR.__init__``) as {state-dict key: shape}."""
    ws = min(*img_size, window_size)
    hidden = int(embed_dim * mlp_ratio)
    shapes = {"conv_first.weight": (embed_dim, 3, 3, 3), "conv_first.bias": (embed_dim,)}
    shapes.update({"patch_embed.norm.weight": (embed_dim,), "patch_embed.norm.bias": (embed_dim,)})
    for i, (depth, heads) in enumerate(zip(depths, num_heads)):
        for j in range(depth):
            p = f"layers.{i}.residual_group.blocks.{j}"
            shapes.update(
                {
                    f"{p}.norm1.weight": (embed_dim,),
                    f"{p}.norm1.bias": (embed_dim,),
                    f"{p}.attn.relative_position_bias_table": ((2 * ws - 1) ** 2, heads),
                    f"{p}.attn.qkv.weight": (3 * embed_dim, embed_dim),
                    f"{p}.attn.qkv.bias": (3 * embed_dim,),
                    f"{p}.attn.proj.weight": (embed_dim, embed_dim),
                    f"{p}.attn.proj.bias": (embed_dim,),
                    f"{p}.norm2.weight": (embed_dim,),
                    f"{p}.norm2.bias": (embed_dim,),
                    f"{p}.mlp.fc1.weight": (hidden, embed_dim),
                    f"{p}.mlp.fc1.bias": (hidden,),
                    f"{p}.mlp.fc2.weight": (embed_dim, hidden),
                    f"{p}.mlp.fc2.bias": (embed_dim,),
                }
            )
        shapes.update({f"layers.{i}.conv.weight": (embed_dim, embed_dim, 3, 3), f"layers.{i}.conv.bias": (embed_dim,)})
    shapes.update({"norm.weight": (embed_dim,), "norm.bias": (embed_dim,)})
    convs = {"conv_after_body": (embed_dim, embed_dim), "conv_before_upsample.0": (64, embed_dim)}
    convs.update({name: (64, 64) for name in ("conv_up1", "conv_up2", "conv_hr") if scale == 4 or name != "conv_up2"})
    convs["conv_last"] = (3, 64)
    for name, (out_channels, in_channels) in convs.items():
        shapes.update({f"{name}.weight": (out_channels, in_channels, 3, 3), f"{name}.bias": (out_channels,)})
    return shapes


def swinir_state(*, seed=0, dtype=np.float32, buffers=True, **arch):
    """Random weights with the original's names and shapes, and (``buffers``) its buffers, as a real file has."""
    rng = np.random.default_rng(seed)
    state = {}
    for key, shape in swinir_shapes(**arch).items():
        if key.endswith(".weight") and len(shape) > 1:
            fan_in = int(np.prod(shape[1:]))
            state[key] = rng.normal(0, 1 / np.sqrt(fan_in), size=shape)
        elif key.endswith("relative_position_bias_table"):
            state[key] = rng.normal(0, 0.5, size=shape)
        elif ("norm" in key) and key.endswith(".weight"):
            state[key] = rng.uniform(0.5, 1.5, size=shape)
        else:
            state[key] = rng.normal(0, 0.1, size=shape)
        state[key] = state[key].astype(dtype)
    if buffers:
        img_size = arch.get("img_size", (64, 64))
        ws = arch["window_size"]
        small = min(img_size) <= ws
        ws = min(img_size) if small else ws
        for i, depth in enumerate(arch["depths"]):
            for j in range(depth):
                p = f"layers.{i}.residual_group.blocks.{j}"
                state[f"{p}.attn.relative_position_index"] = relative_position_index(ws)
                if j % 2 and not small:  # the original's buffer, for its img_size
                    state[f"{p}.attn_mask"] = calculate_mask(*img_size, ws, ws // 2).astype(np.float32)
    return state


# --- the Swin layers ----------------------------------------------------------------------------------------


def test_relative_position_index_and_mask_by_hand():
    layer = ShiftedWindowAttention(1, 2)
    np.testing.assert_array_equal(
        layer.relative_position_index, [[4, 3, 1, 0], [5, 4, 2, 1], [7, 6, 4, 3], [8, 7, 5, 4]]
    )
    np.testing.assert_array_equal(layer.relative_position_index, relative_position_index(2))
    shifted = ShiftedWindowAttention(1, 4, 2)
    shifted.build((None, 4, 4, 2))
    mask = shifted.attention_mask
    assert mask.shape == (1, 16, 16)
    # regions after the shift: rows 0-1 / 2-3 times columns 0-1 / 2-3 (four of the nine labels)
    region = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]).reshape(-1)
    np.testing.assert_array_equal(mask[0], np.where(region[:, None] == region[None, :], 0.0, -100.0))
    np.testing.assert_array_equal(mask, calculate_mask(4, 4, 4, 2))
    unshifted = ShiftedWindowAttention(1, 4)
    unshifted.build((None, 8, 4, 2))
    assert unshifted.attention_mask is None


def test_attention_layer_checks_its_arguments():
    with pytest.raises(ValueError, match=r"shift_size must be in 0\.\.3 \(window_size - 1\), got 4"):
        ShiftedWindowAttention(1, 4, 4)
    with pytest.raises(ValueError, match="height and width must be multiples of 4, got 8x6"):
        ShiftedWindowAttention(1, 4).build((None, 8, 6, 2))
    with pytest.raises(ValueError, match="3 heads do not divide 4 channels"):
        ShiftedWindowAttention(3, 4).build((None, 8, 8, 4))


@pytest.mark.parametrize("block", [0, 1], ids=["unshifted", "shifted"])
def test_swin_layer_equals_the_numpy_reference(block, tmp_path):
    arch = {"embed_dim": 12, "depths": (2,), "num_heads": (3,), "window_size": 4, "mlp_ratio": 2}
    state = swinir_state(**arch, scale=2, seed=5)
    model = load_pth_weights(build_swinir(**arch, scale=2, input_size=(8, 12)), write_state(tmp_path / "w.pth", state))
    prefix = f"layers_0_residual_group_blocks_{block}"
    assert model.get_layer(f"{prefix}_attn").shift_size == 2 * block
    probe = keras.Model(
        model.input, [model.get_layer(f"{prefix}_norm1").input, model.get_layer(f"{prefix}_add_mlp").output]
    )
    x = np.random.default_rng(1).uniform(size=(2, 8, 12, 3)).astype(np.float32)
    block_in, block_out = (a.numpy().astype(np.float64) for a in probe(x))
    tokens = block_in.reshape(2, 8 * 12, 12)
    torch_prefix = f"layers.0.residual_group.blocks.{block}"
    expected = swin_block(tokens, (8, 12), state, torch_prefix, 3, 4, 2 * block, (64, 64)).reshape(2, 8, 12, 12)
    np.testing.assert_allclose(block_out, expected, rtol=1e-4, atol=1e-5)
    if block:  # without the cyclic shift and its mask the layer would compute something else
        unshifted = swin_block(tokens, (8, 12), state, torch_prefix, 3, 4, 0, (64, 64)).reshape(2, 8, 12, 12)
        assert np.abs(block_out - unshifted).max() > 1e-2


def test_mlp_uses_the_exact_gelu():
    model = build_swinir(**TINY, scale=2, input_size=(4, 4))
    activation = model.get_layer("layers_1_residual_group_blocks_1_mlp_fc1").activation
    value = float(np.asarray(activation(np.array([1.0], dtype=np.float32)))[0])
    assert value == pytest.approx(0.5 * (1 + math.erf(1 / math.sqrt(2))), abs=1e-6)  # tanh form: 0.841192


# --- the network --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scale", "size", "layout"),
    [(4, (8, 8), "zip"), (2, (8, 8), "legacy"), (2, (10, 6), "zip"), (4, (10, 6), "legacy"), (4, (4, 4), "zip")],
)
def test_keras_model_equals_the_numpy_reference(scale, size, layout, tmp_path):
    state = swinir_state(**TINY, scale=scale)
    path = write_state(tmp_path / "w.pth", state, layout=layout)
    model = load_pth_weights(build_swinir(**TINY, scale=scale, input_size=size), path)
    x = np.random.default_rng(1).uniform(size=(2, 3, *size))
    expected = reference_swinir(state, x, **TINY, scale=scale)
    actual = keras_output(model, x)
    assert actual.shape == (2, 3, size[0] * scale, size[1] * scale)
    assert np.abs(expected - MEAN[None, :, None, None]).max() > 0.1  # a signal, not the mean
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)


def test_small_img_size_shrinks_windows_and_drops_the_shift(tmp_path):
    arch = dict(TINY, img_size=(2, 2))
    state = swinir_state(**arch, scale=2, seed=2)
    assert state["layers.0.residual_group.blocks.1.attn.relative_position_bias_table"].shape == (9, 2)
    model = load_pth_weights(build_swinir(**arch, scale=2, input_size=(6, 7)), write_state(tmp_path / "w.pth", state))
    attention = model.get_layer("layers_0_residual_group_blocks_1_attn")
    assert (attention.window_size, attention.shift_size) == (2, 0)
    x = np.random.default_rng(3).uniform(size=(1, 3, 6, 7))
    np.testing.assert_allclose(
        keras_output(model, x), reference_swinir(state, x, **arch, scale=2), rtol=1e-4, atol=1e-5
    )


def test_weights_do_not_depend_on_the_frame_size(tmp_path):
    path = write_state(tmp_path / "w.pth", swinir_state(**TINY, scale=4, seed=4))
    small = load_pth_weights(build_swinir(**TINY, scale=4, input_size=(4, 4)), path)
    large = build_swinir(**TINY, scale=4, input_size=(9, 13))
    large.set_weights(small.get_weights())
    for old, new in zip(
        all_weights(load_pth_weights(build_swinir(**TINY, scale=4, input_size=(9, 13)), path)), large.weights
    ):
        np.testing.assert_array_equal(old, new.numpy())


def test_runs_traced_with_unknown_frame_sizes():
    """As mesr.sr.inference runs models: a tf.function over (None, None, None, 3) batches."""
    model = build_swinir(**TINY, scale=4, input_size=(6, 5))
    x = np.random.default_rng(0).uniform(size=(2, 6, 5, 3)).astype(np.float32)
    traced = tf.function(lambda batch: model(batch, training=False), input_signature=[tf.TensorSpec([None] * 3 + [3])])
    np.testing.assert_allclose(traced(x).numpy(), model(x).numpy(), rtol=1e-6, atol=1e-6)


def test_reflection_padding_does_not_repeat_the_edge(tmp_path):
    model = build_swinir(**TINY, scale=2, input_size=(5, 7))
    x = np.arange(5 * 7, dtype=np.float32).reshape(1, 5, 7, 1).repeat(3, axis=3)
    padded = model.get_layer("pad_to_window")(x).numpy()[0, :, :, 0]
    assert padded.shape == (8, 8)
    np.testing.assert_array_equal(padded, np.pad(x[0, :, :, 0], ((0, 3), (0, 1)), mode="reflect"))
    assert padded[5, 0] == x[0, 3, 0, 0]  # the row before the last, not the last again


@pytest.mark.parametrize(("scale", "expected"), [(4, 11_715_559), (2, 11_678_631)])
def test_parameter_counts_at_the_published_size(scale, expected):
    published = {"embed_dim": 180, "depths": (6,) * 6, "num_heads": (6,) * 6, "window_size": 8, "mlp_ratio": 2}
    assert sum(int(np.prod(shape)) for shape in swinir_shapes(**published, scale=scale).values()) == expected
    assert build_swinir(**published, scale=scale, input_size=(16, 16)).count_params() == expected
    keras.backend.clear_session()


def test_layer_names_map_one_to_one_onto_the_original_names():
    model = build_swinir(**TINY, scale=4, input_size=(4, 4))
    keys = set()
    for layer in model.layers:
        if layer.weights:
            name = torch_name(layer.name)
            if isinstance(layer, ShiftedWindowAttention):
                suffixes = ("relative_position_bias_table", "qkv.weight", "qkv.bias", "proj.weight", "proj.bias")
            else:
                suffixes = ("weight", "bias")
            keys |= {f"{name}.{suffix}" for suffix in suffixes}
    assert keys == set(swinir_shapes(**TINY, scale=4))
    assert torch_name("layers_1_residual_group_blocks_0_mlp_fc1") == "layers.1.residual_group.blocks.0.mlp.fc1"
    assert torch_name("patch_embed_norm") == "patch_embed.norm"


def test_model_saves_and_reloads(tmp_path):
    model = build_swinir(**TINY, scale=2, input_size=(5, 6))
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(0).uniform(size=(1, 3, 5, 6))
    np.testing.assert_allclose(keras_output(reloaded, x), keras_output(model, x), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"scale": 3}, "scale must be one of 2, 4, got 3"),
        ({"num_heads": (5, 3)}, r"num_heads must divide embed_dim 12, got 5"),
        ({"depths": (2,)}, "depths and num_heads must have one value per RSTB, got 1 and 2"),
        ({"depths": (2, 0)}, "depths must be a positive integer, got 0"),
        ({"embed_dim": 12.0}, "embed_dim must be a positive integer"),
        ({"mlp_ratio": 0}, "mlp_ratio must be a finite number > 0"),
        ({"input_size": (2, 8)}, r"input_size must be at least .* got 2x8"),
        ({"input_size": (8,)}, r"input_size must be \(height, width\)"),
        ({"img_size": 3}, r"shrinks the windows to 3 px, which do not tile the padded 8x8"),
    ],
)
def test_builder_checks_its_arguments(changes, match):
    kwargs = {**TINY, "scale": 2, "input_size": (8, 8), **changes}
    with pytest.raises(ValueError, match=match):
        build_swinir(**kwargs)


# --- strict loading ----------------------------------------------------------------------------------------


def test_params_key_float16_and_files_without_buffers_load(tmp_path):
    state = swinir_state(**TINY, scale=2, dtype=np.float16, buffers=False)
    path = write_state(tmp_path / "h.pth", state, key="params", layout="legacy")
    model = load_pth_weights(build_swinir(**TINY, scale=2, input_size=(4, 8)), path)
    attention = model.get_layer("layers_1_residual_group_blocks_0_attn")
    assert attention.qkv_kernel.dtype == "float32"
    np.testing.assert_array_equal(
        attention.qkv_kernel.numpy(), state["layers.1.residual_group.blocks.0.attn.qkv.weight"].astype(np.float32).T
    )
    x = np.random.default_rng(0).uniform(size=(1, 3, 4, 8))
    np.testing.assert_allclose(
        keras_output(model, x), reference_swinir(state, x, **TINY, scale=2), rtol=1e-4, atol=1e-5
    )


def _mutations(state):
    block = "layers.1.residual_group.blocks.0"
    extra = dict(state, **{"layers.2.conv.bias": state["layers.1.conv.bias"]})
    missing = {k: v for k, v in state.items() if k != f"{block}.attn.qkv.bias"}
    misshaped = dict(state, **{f"{block}.attn.relative_position_bias_table": np.zeros((25, 3), np.float32)})
    integer = dict(state, **{"norm.bias": np.zeros(12, dtype=np.int64)})
    index = state[f"{block}.attn.relative_position_index"].copy()
    index[0, 0] += 1
    wrong_index = dict(state, **{f"{block}.attn.relative_position_index": index})
    unshifted_mask = dict(state, **{f"{block}.attn_mask": state["layers.1.residual_group.blocks.1.attn_mask"]})
    x4_file = dict(state, **{"conv_up2.weight": state["conv_up1.weight"], "conv_up2.bias": state["conv_up1.bias"]})
    return [
        (extra, r"has tensor 'layers\.2\.conv\.bias', which model 'swinir' does not use"),
        (missing, rf"has no tensor '{block}\.attn\.qkv\.bias' \(for layer 'layers_1_residual_group_blocks_0_attn'"),
        (misshaped, r"tensor '.*0\.attn\.relative_position_bias_table' has shape \(25, 3\), .* expects \(49, 3\)"),
        (integer, r"tensor 'norm\.bias' is int64, not floating point"),
        (wrong_index, rf"buffer '{block}\.attn\.relative_position_index' \(shape \(16, 16\)\) differs"),
        (unshifted_mask, rf"has tensor '{block}\.attn_mask', which model 'swinir' does not use"),
        (x4_file, r"has tensor 'conv_up2\.weight', which model 'swinir' does not use \(2 such tensors\)"),
    ]


@pytest.mark.parametrize("case", range(7))
def test_mismatches_name_the_tensor_and_the_file_and_assign_nothing(case, tmp_path):
    state, match = _mutations(swinir_state(**TINY, scale=2))[case]
    path = write_state(tmp_path / "bad.pth", state)
    model = build_swinir(**TINY, scale=2, input_size=(4, 4))
    before = all_weights(model)
    with pytest.raises(ValueError, match=match) as error:
        load_pth_weights(model, path)
    assert str(path) in str(error.value)
    for old, new in zip(before, all_weights(model)):
        np.testing.assert_array_equal(old, new)


def test_an_x2_file_does_not_load_into_an_x4_model(tmp_path):
    path = write_state(tmp_path / "x2.pth", swinir_state(**TINY, scale=2))
    with pytest.raises(ValueError, match=r"has no tensor 'conv_up2\.weight'"):
        load_pth_weights(build_swinir(**TINY, scale=4, input_size=(4, 4)), path)
