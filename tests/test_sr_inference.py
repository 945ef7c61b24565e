"""Inference: shapes and ranges, rounding, tiling, the bicubic baseline, whole sets."""

import logging

import cv2
import numpy as np
import pytest

from mesr.sr import build, receptive_field_radius, upscale, upscale_bicubic, upscale_set
from mesr.sr.inference import _upscale_float

TINY = {
    "rdn": {"C": 2, "D": 2, "G": 4, "G0": 4},
    "rrdn": {"C": 2, "D": 2, "G": 4, "G0": 4, "T": 2},
    "nesrgan_plus": {"nf": 4, "gc": 4, "nb": 1},
}
# smallest networks, for tiling (small receptive fields)
SMALLEST = {
    "rdn": {"C": 1, "D": 1, "G": 4, "G0": 4},
    "rrdn": {"C": 1, "D": 1, "G": 4, "G0": 4, "T": 1},
    "nesrgan_plus": {"nf": 4, "gc": 4, "nb": 1},
}


def randomized(model, seed=0):
    """Give ``model`` weights whose outputs spread over 0..1 (random init gives ~0 everywhere)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            kernel = weights[0]
            std = np.sqrt(1.0 / np.prod(kernel.shape[:-1]))
            new = [rng.normal(0.0, std, kernel.shape)] + [rng.uniform(0.0, 0.3, w.shape) for w in weights[1:]]
            layer.set_weights([w.astype(np.float32) for w in new])
    return model


def frames(n=2, height=7, width=9, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, height, width, 3), dtype=np.uint8)


@pytest.mark.parametrize("arch", list(TINY))
@pytest.mark.parametrize("scale", [2, 4])
def test_shapes_dtype_and_value_range(arch, scale):
    model = randomized(build(arch, TINY[arch], scale))
    lr = frames(3, 7, 9)
    sr = upscale(model, lr, batch_size=2)
    assert sr.shape == (3, 7 * scale, 9 * scale, 3) and sr.dtype == np.uint8
    assert sr.min() == 0 and sr.max() == 255  # clipped at both ends by these weights


def test_output_is_the_clipped_rounded_network_output():
    model = randomized(build("rdn", TINY["rdn"], 2))
    lr = frames(5, 6, 8)
    expected = np.clip(model(lr.astype(np.float32) / 255.0).numpy(), 0, 1)
    expected = np.rint(expected * 255).astype(np.uint8)
    got = upscale(model, lr, batch_size=2)  # batches of 2, 2, 1
    assert np.abs(got.astype(int) - expected).max() <= 1
    assert np.mean(got == expected) > 0.999


def test_scale_is_checked_against_the_network():
    model = build("rdn", TINY["rdn"], 2)
    assert upscale(model, frames(), scale=2).shape[1] == 14
    with pytest.raises(ValueError, match="scale is 4 but the network upscales by 2"):
        upscale(model, frames(), scale=4)


def test_receptive_field_radius_by_hand():
    # F_m1 1 + F_0 1 + F_1_1 1 + GFF_2 1 + UPN1 2 + UPN2 1 + UPN3 1 + ceil(SR 1 / 2) = 9
    assert receptive_field_radius(build("rdn", SMALLEST["rdn"], 2)) == 9
    # Pre 1 + F_1_1_1 1 + LFF 1 + post 1 + PreShuffle 1 + ceil(SR 1 / 4) = 6
    assert receptive_field_radius(build("rrdn", SMALLEST["rrdn"], 4)) == 6
    # conv_first 1 + 3 dense blocks x 5 + trunk 1 + ceil((upconv1 1 + HRconv 1 + conv_last 1) / 2) = 19
    assert receptive_field_radius(build("nesrgan_plus", SMALLEST["nesrgan_plus"], 2)) == 19
    # ... x4: ceil((upconv1 1 + ceil((upconv2 1 + HRconv 1 + conv_last 1) / 2)) / 2) = 2 -> 19
    assert receptive_field_radius(build("nesrgan_plus", SMALLEST["nesrgan_plus"], 4)) == 19
    assert receptive_field_radius(build("rdn", {"C": 6, "D": 20, "G": 8, "G0": 8}, 2)) == 128


@pytest.mark.parametrize(("arch", "scale"), [("rdn", 2), ("rdn", 4), ("rrdn", 4), ("nesrgan_plus", 2)])
def test_tiled_inference_equals_whole_frame_inference(arch, scale):
    model = randomized(build(arch, SMALLEST[arch], scale))
    radius = receptive_field_radius(model)
    size = 2 * radius + 20
    lr = frames(2, size, size + 5, seed=1)
    options = {"scale": scale, "batch_size": 4, "max_pixels": 10**6}
    whole = _upscale_float(model, lr, tile=None, overlap=None, **options)
    tiled = _upscale_float(model, lr, tile=7, overlap=None, **options)
    np.testing.assert_allclose(tiled, whole, atol=1e-5)
    if arch != "nesrgan_plus":  # its 0.2-scaled dense chain damps far pixels below float precision
        # an overlap below the radius leaves seams: the test can see them
        short = _upscale_float(model, lr, tile=7, overlap=radius - 1, **options)
        assert np.abs(short - whole).max() > 1e-4
    uint8 = upscale(model, lr, tile=7, batch_size=3)
    assert np.abs(uint8.astype(int) - upscale(model, lr).astype(int)).max() <= 1


def test_large_frames_are_tiled_automatically(caplog):
    model = randomized(build("rdn", SMALLEST["rdn"], 2))
    lr = frames(1, 60, 61, seed=2)
    whole = upscale(model, lr, max_pixels=10**6)
    with caplog.at_level(logging.INFO, logger="mesr.sr.inference"):
        auto = upscale(model, lr, max_pixels=40 * 40)
    assert "tiles of 32 px with 9 px overlap" in caplog.text
    assert np.abs(auto.astype(int) - whole).max() <= 1


# --- bicubic --------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [2, 4])
def test_bicubic_equals_opencv_inter_cubic(scale):
    lr = frames(3, 8, 11, seed=3)
    sr = upscale_bicubic(lr, scale)
    assert sr.shape == (3, 8 * scale, 11 * scale, 3) and sr.dtype == np.uint8
    for i in range(3):
        expected = cv2.resize(lr[i], None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        np.testing.assert_array_equal(sr[i], expected)
    np.testing.assert_array_equal(upscale("bicubic", lr, scale=scale), sr)


def test_bicubic_of_a_constant_frame_is_constant():
    lr = np.full((1, 4, 4, 3), 77, np.uint8)
    np.testing.assert_array_equal(upscale_bicubic(lr, 2), 77)


def test_bicubic_needs_a_scale():
    with pytest.raises(ValueError, match="scale must be given with model='bicubic'"):
        upscale("bicubic", frames())


def test_bicubic_scale_must_be_a_positive_integer():
    with pytest.raises(ValueError, match="scale must be a positive integer"):
        upscale_bicubic(frames(), 1.5)
    with pytest.raises(ValueError, match="scale must be a positive integer, got 0"):
        upscale_bicubic(frames(), 0)


# --- validation ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_rdn():
    return build("rdn", SMALLEST["rdn"], 2)


def test_frames_must_be_uint8(tiny_rdn):
    with pytest.raises(ValueError, match="frames must have dtype uint8, got float32"):
        upscale(tiny_rdn, frames().astype(np.float32))


def test_frames_must_be_4d(tiny_rdn):
    with pytest.raises(ValueError, match="frames must be 4-D, got 3-D"):
        upscale(tiny_rdn, frames()[0])


def test_frames_must_be_rgb(tiny_rdn):
    with pytest.raises(ValueError, match="frames must have 3 \\(RGB\\) channels"):
        upscale(tiny_rdn, frames()[..., :1])


def test_frames_must_not_be_empty(tiny_rdn):
    with pytest.raises(ValueError, match="frames must hold at least one frame"):
        upscale(tiny_rdn, frames()[:0])


def test_model_string_must_be_bicubic():
    with pytest.raises(ValueError, match="model must be a keras.Model or 'bicubic', got 'lanczos'"):
        upscale("lanczos", frames(), scale=2)


@pytest.mark.parametrize(("option", "value"), [("batch_size", 0), ("tile", -3), ("max_pixels", 1.5), ("overlap", -1)])
def test_options_must_be_positive_integers(tiny_rdn, option, value):
    with pytest.raises(ValueError, match=option):
        upscale(tiny_rdn, frames(), **{option: value})


# --- whole sets --------------------------------------------------------------------------------


def write_set(directory, clips):
    directory.mkdir(parents=True)
    for clip_id, array in clips.items():
        np.save(directory / f"{clip_id}.npy", array)


def test_upscale_set_writes_every_clip(tiny_rdn, tmp_path, caplog):
    clips = {"s1_ne_01": frames(3, 6, 6, seed=4), "s2_po_02": frames(5, 6, 6, seed=5)}
    write_set(tmp_path / "LR", clips)
    with caplog.at_level(logging.INFO, logger="mesr.sr.inference"):
        written = upscale_set(tiny_rdn, tmp_path / "LR", tmp_path / "SR" / "nested", list(clips), batch_size=2)
    assert [p.name for p in written] == ["s1_ne_01.npy", "s2_po_02.npy"]
    assert sorted(p.name for p in (tmp_path / "SR" / "nested").iterdir()) == ["s1_ne_01.npy", "s2_po_02.npy"]
    for clip_id, lr in clips.items():
        sr = np.load(tmp_path / "SR" / "nested" / f"{clip_id}.npy")
        assert sr.shape == (lr.shape[0], 12, 12, 3) and sr.dtype == np.uint8
        np.testing.assert_array_equal(sr, upscale(tiny_rdn, lr))
    assert "on the CPU" in caplog.text or "on GPU" in caplog.text


def test_upscale_set_bicubic(tmp_path):
    clips = {"c1": frames(2, 5, 7, seed=6)}
    write_set(tmp_path / "LR", clips)
    (path,) = upscale_set("bicubic", tmp_path / "LR", tmp_path / "SR", ["c1"], scale=4)
    np.testing.assert_array_equal(np.load(path), upscale_bicubic(clips["c1"], 4))


def test_upscale_set_missing_clip_names_the_file(tiny_rdn, tmp_path):
    (tmp_path / "LR").mkdir()
    with pytest.raises(FileNotFoundError, match="LR/gone.npy does not exist"):
        upscale_set(tiny_rdn, tmp_path / "LR", tmp_path / "SR", ["gone"])


def test_upscale_set_bad_clip_names_the_file(tiny_rdn, tmp_path):
    write_set(tmp_path / "LR", {"bad": np.zeros((2, 4, 4), np.uint8)})
    with pytest.raises(ValueError, match=r"bad.npy: expected a \(T, H, W, 3\) uint8 clip"):
        upscale_set(tiny_rdn, tmp_path / "LR", tmp_path / "SR", ["bad"])
    assert not list((tmp_path / "SR").iterdir())


def test_upscale_set_clip_ids_must_be_a_sequence_of_strings(tiny_rdn, tmp_path):
    with pytest.raises(ValueError, match="clip_ids must be a sequence of non-empty strings"):
        upscale_set(tiny_rdn, tmp_path, tmp_path / "SR", "s1_ne_01")


def test_a_model_built_for_one_frame_size_runs_whole_frames_only():
    """swinir is built for the set's frame size: other sizes and tiling are refused, naming the sizes."""
    params = {"embed_dim": 4, "depths": [1], "num_heads": [1], "window_size": 4, "mlp_ratio": 2}
    model = build("swinir", params, 2, input_size=(8, 12))
    assert upscale(model, frames(height=8, width=12), max_pixels=16).shape == (2, 16, 24, 3)  # never tiled
    with pytest.raises(ValueError, match=r"built for 8x12 px frames and cannot tile; got 7x9 px frames$"):
        upscale(model, frames())
    with pytest.raises(ValueError, match=r"cannot tile; got 8x12 px frames and tile=4$"):
        upscale(model, frames(height=8, width=12), tile=4)
