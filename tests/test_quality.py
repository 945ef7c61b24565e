"""Tests of mesr.quality: BT.601 Y, PSNR, SSIM (docs/quality.md) and the per-set quality TSV."""

import cv2
import numpy as np
import pandas as pd
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from mesr.io import save_clip
from mesr.quality import COLUMNS, frame_quality, psnr, quality_means, quality_set, rgb_to_y, ssim

SKIMAGE_SSIM = {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False, "data_range": 255}


def random_pair(seed, shape=(40, 37, 3), noise=12.0):
    rng = np.random.default_rng(seed)
    reference = rng.integers(0, 256, shape).astype(np.uint8)
    test = np.clip(reference + rng.normal(0, noise, shape), 0, 255).round().astype(np.uint8)
    return reference, test


def structured_pair(shape=(36, 44, 3)):
    """Gradients, a checkerboard and a bright square; the test image shifted and darkened."""
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    image = np.stack([4 * rows, 5 * cols, 120 * ((rows // 4 + cols // 4) % 2)], axis=-1).astype(float)
    image[10:20, 12:25] = 250
    reference = np.clip(image, 0, 255).astype(np.uint8)
    test = np.clip(np.roll(image, 1, axis=1) * 0.9 + 7, 0, 255).astype(np.uint8)
    return reference, test


def crop(array, border):
    return array[border : array.shape[0] - border, border : array.shape[1] - border]


# --------------------------------------------------------------------------- Y


@pytest.mark.parametrize(
    "rgb, expected",
    [
        ((0, 0, 0), 16.0),
        ((255, 255, 255), 235.0),
        ((255, 0, 0), 16 + 65.481),  # 81.481
        ((0, 255, 0), 16 + 128.553),  # 144.553
        ((0, 0, 255), 16 + 24.966),  # 40.966
        ((128, 128, 128), 16 + 219 * 128 / 255),
    ],
)
@pytest.mark.parametrize("dtype", [np.uint8, np.float64])
def test_rgb_to_y_known_colours(rgb, expected, dtype):
    y = rgb_to_y(np.array(rgb, dtype=dtype))
    assert y.dtype == np.float64 and y.shape == ()
    assert y == pytest.approx(expected, abs=1e-12)


def test_rgb_to_y_is_the_bt601_formula_unrounded():
    image = np.random.default_rng(3).integers(0, 256, (2, 5, 7, 3)).astype(np.uint8)
    r, g, b = (image[..., c].astype(float) for c in range(3))
    y = rgb_to_y(image)
    assert y.shape == (2, 5, 7)
    np.testing.assert_allclose(y, 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255, rtol=0, atol=1e-12)
    assert not np.all(y == np.round(y))


def test_rgb_to_y_rejects_other_channel_counts():
    with pytest.raises(ValueError, match=r"3 \(RGB\) channels in the last axis, got shape \(4, 4\)"):
        rgb_to_y(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="real numbers"):
        rgb_to_y(np.array(["a", "b", "c"]))


# --------------------------------------------------------------------------- PSNR and SSIM against scikit-image

PAIRS = {
    "random0": lambda: random_pair(0),
    "random1": lambda: random_pair(1, noise=30.0),
    "structured": structured_pair,
}


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("border", [0, 1, 2, 4])
def test_scores_on_y_equal_skimage(pair, border):
    reference, test = (rgb_to_y(a) for a in PAIRS[pair]())
    expected_psnr = peak_signal_noise_ratio(crop(reference, border), crop(test, border), data_range=255)
    expected_ssim = structural_similarity(crop(reference, border), crop(test, border), **SKIMAGE_SSIM)
    assert psnr(reference, test, data_range=255, border=border) == pytest.approx(expected_psnr, rel=1e-12)
    assert ssim(reference, test, data_range=255, border=border) == pytest.approx(expected_ssim, rel=1e-12)


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("border", [0, 2])
def test_scores_on_rgb_equal_skimage(pair, border):
    reference, test = PAIRS[pair]()
    expected_psnr = peak_signal_noise_ratio(crop(reference, border), crop(test, border), data_range=255)
    expected_ssim = structural_similarity(crop(reference, border), crop(test, border), channel_axis=-1, **SKIMAGE_SSIM)
    assert psnr(reference, test, border=border, channel_axis=-1) == pytest.approx(expected_psnr, rel=1e-12)
    assert ssim(reference, test, border=border, channel_axis=-1) == pytest.approx(expected_ssim, rel=1e-12)
    # channels first give the same numbers
    first = [np.moveaxis(a, -1, 0) for a in (reference, test)]
    assert ssim(*first, border=border, channel_axis=0) == pytest.approx(expected_ssim, rel=1e-12)


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32, np.float64])
def test_scores_do_not_depend_on_the_input_dtype(dtype):
    reference, test = random_pair(5, shape=(24, 24))
    expected = (psnr(reference, test), ssim(reference, test))
    assert (
        psnr(reference.astype(dtype), test.astype(dtype)),
        ssim(reference.astype(dtype), test.astype(dtype)),
    ) == pytest.approx(expected, rel=1e-12)


def test_data_range_is_used():
    reference, test = (a / 255.0 for a in random_pair(2, shape=(20, 20)))
    assert psnr(reference, test, data_range=1.0) == pytest.approx(
        peak_signal_noise_ratio(reference, test, data_range=1.0), rel=1e-12
    )
    assert ssim(reference, test, data_range=1.0) == pytest.approx(
        structural_similarity(
            reference, test, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0
        ),
        rel=1e-12,
    )


@pytest.mark.parametrize("border", [1, 3])
def test_differences_in_the_border_change_nothing_once_cropped(border):
    reference, test = (rgb_to_y(a) for a in random_pair(4, shape=(30, 30, 3)))
    changed = test.copy()
    changed[:border] = 0
    changed[:, -border:] = 255
    assert psnr(reference, changed, border=border) == psnr(reference, test, border=border)
    assert ssim(reference, changed, border=border) == ssim(reference, test, border=border)
    assert psnr(reference, changed) != psnr(reference, test)
    only_border = reference.copy()
    only_border[:border] += 40
    assert psnr(reference, only_border, border=border) == np.inf
    assert ssim(reference, only_border, border=border) == 1.0
    assert psnr(reference, only_border) < np.inf


def test_identical_images_give_inf_and_one():
    image = rgb_to_y(random_pair(6, shape=(16, 16, 3))[0])
    assert psnr(image, image) == np.inf
    assert ssim(image, image) == 1.0


def ssim_loops(x, y, data_range=255.0):
    """SSIM from the words of docs/quality.md: Gaussian window (sigma 1.5, radius 5, symmetric extension of the image),
    population moments, K1 0.01, K2 0.03, mean over the pixels at least 5 from the edge."""
    offsets = np.arange(-5, 6)
    g = np.exp(-(offsets**2) / (2 * 1.5**2))
    weights = np.outer(g, g) / np.outer(g, g).sum()
    xp, yp = np.pad(x, 5, mode="symmetric"), np.pad(y, 5, mode="symmetric")
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    values = []
    for i in range(5, x.shape[0] - 5):
        for j in range(5, x.shape[1] - 5):
            wx, wy = xp[i : i + 11, j : j + 11], yp[i : i + 11, j : j + 11]
            mx, my = (weights * wx).sum(), (weights * wy).sum()
            vx, vy = (weights * wx * wx).sum() - mx**2, (weights * wy * wy).sum() - my**2
            cov = (weights * wx * wy).sum() - mx * my
            values.append((2 * mx * my + c1) * (2 * cov + c2) / ((mx**2 + my**2 + c1) * (vx + vy + c2)))
    return float(np.mean(values))


@pytest.mark.parametrize("seed", [0, 1])
def test_ssim_equals_a_plain_loop_reference(seed):
    reference, test = (rgb_to_y(a) for a in random_pair(seed, shape=(17, 19, 3), noise=25.0))
    assert ssim(reference, test) == pytest.approx(ssim_loops(reference, test), rel=1e-10)
    assert ssim(reference, test, border=1) == pytest.approx(ssim_loops(crop(reference, 1), crop(test, 1)), rel=1e-10)


def test_psnr_equals_its_definition():
    reference = np.array([[0, 10], [20, 30]], dtype=float)
    test = np.array([[1, 10], [20, 27]], dtype=float)  # MSE = (1 + 9) / 4 = 2.5
    assert psnr(reference, test) == pytest.approx(10 * np.log10(255**2 / 2.5), rel=1e-14)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"test": np.zeros((20, 21))}, r"same shape, got \(20, 20\) and \(20, 21\)"),
        ({"border": -1}, "border must be an integer >= 0, got -1"),
        ({"border": 1.5}, "border must be an integer >= 0, got 1.5"),
        ({"border": 5}, "border=5 leaves 10x10 pixels of 20x20 images; at least 11x11 are needed"),
        ({"data_range": 0}, "data_range must be a finite number > 0"),
        ({"channel_axis": -1}, r"3-D with channel_axis=-1, got shape \(20, 20\)"),
        ({"reference": np.zeros((20, 20, 3)), "test": np.zeros((20, 20, 3))}, r"2-D \(H, W\) without channel_axis"),
        ({"reference": np.zeros(20), "test": np.zeros(20)}, "reference must be 2-D or 3-D"),
    ],
)
def test_ssim_validation(kwargs, message):
    arguments = {"reference": np.zeros((20, 20)), "test": np.zeros((20, 20))} | kwargs
    with pytest.raises(ValueError, match=message):
        ssim(arguments.pop("reference"), arguments.pop("test"), **arguments)


def test_psnr_validation():
    with pytest.raises(ValueError, match="border=2 leaves 0x0 pixels"):
        psnr(np.zeros((4, 4)), np.zeros((4, 4)), border=2)
    with pytest.raises(ValueError, match="channel_axis must be None or an integer in"):
        psnr(np.zeros((4, 4, 3)), np.zeros((4, 4, 3)), channel_axis=3)


# --------------------------------------------------------------------------- frames and sets


@pytest.mark.parametrize("scale", [2, 4])
def test_frame_quality_is_y_and_rgb_with_the_scale_cropped(scale):
    hr, sr = random_pair(7, shape=(48, 48, 3))
    scores = frame_quality(hr, sr, scale=scale)
    assert list(scores) == ["psnr_y", "ssim_y", "psnr_rgb", "ssim_rgb"]
    y_hr, y_sr = crop(rgb_to_y(hr), scale), crop(rgb_to_y(sr), scale)
    assert scores["psnr_y"] == pytest.approx(peak_signal_noise_ratio(y_hr, y_sr, data_range=255), rel=1e-12)
    assert scores["ssim_y"] == pytest.approx(structural_similarity(y_hr, y_sr, **SKIMAGE_SSIM), rel=1e-12)
    assert scores["psnr_rgb"] == pytest.approx(
        peak_signal_noise_ratio(crop(hr, scale), crop(sr, scale), data_range=255), rel=1e-12
    )
    assert scores["ssim_rgb"] == pytest.approx(
        structural_similarity(crop(hr, scale), crop(sr, scale), channel_axis=-1, **SKIMAGE_SSIM), rel=1e-12
    )


def test_frame_quality_validation():
    with pytest.raises(ValueError, match="scale must be a positive integer, got 0"):
        frame_quality(np.zeros((20, 20, 3)), np.zeros((20, 20, 3)), scale=0)
    with pytest.raises(ValueError, match=r"sr_frame must be \(H, W, 3\) RGB"):
        frame_quality(np.zeros((20, 20, 3)), np.zeros((20, 20, 4)), scale=2)
    with pytest.raises(ValueError, match="hr_frame must be 3-D"):
        frame_quality(np.zeros((20, 20)), np.zeros((20, 20, 3)), scale=2)


@pytest.fixture
def sets(tmp_path):
    """HR clips of 3 and 35 frames (more than one chunk), noisy SR clips and LR clips, 24x24 HR."""
    rng = np.random.default_rng(11)
    folders = {name: tmp_path / "sets" / name for name in ("HR128", "SR64-esrgan", "LR64")}
    clips = {}
    for clip_id, n_frames in (("s1_ne_01", 3), ("s2_po_02", 35)):
        hr = rng.integers(0, 256, (n_frames, 24, 24, 3)).astype(np.uint8)
        sr = np.clip(hr + rng.normal(0, 8, hr.shape), 0, 255).round().astype(np.uint8)
        lr = hr[:, ::2, ::2]
        for name, clip in zip(folders, (hr, sr, lr)):
            save_clip(folders[name] / f"{clip_id}.npy", clip)
        clips[clip_id] = (hr, sr, lr)
    return folders, clips


def test_quality_set_writes_one_row_per_frame(sets, tmp_path):
    folders, clips = sets
    output = tmp_path / "quality" / "SR64-esrgan.tsv"
    means = quality_set(folders["HR128"], folders["SR64-esrgan"], list(clips), output, scale=2)
    table = pd.read_csv(output, sep="\t", dtype={"clip_id": str})
    assert list(table.columns) == list(COLUMNS)
    assert len(table) == 3 + 35
    assert table["clip_id"].tolist() == ["s1_ne_01"] * 3 + ["s2_po_02"] * 35
    assert table["frame"].tolist() == list(range(3)) + list(range(35))
    expected = [
        frame_quality(hr_frame, sr_frame, scale=2) for hr, sr, _ in clips.values() for hr_frame, sr_frame in zip(hr, sr)
    ]
    for name in ("psnr_y", "ssim_y", "psnr_rgb", "ssim_rgb"):
        np.testing.assert_allclose(table[name], [e[name] for e in expected], rtol=1e-12)
        assert means[name] == pytest.approx(np.mean([e[name] for e in expected]), rel=1e-12)
    assert quality_means(output) == pytest.approx(means | {"frames": 38}, rel=1e-12)
    assert not list(output.parent.glob(".*"))  # no temporary file left


def test_quality_set_upscales_lr_sets_bicubically(sets, tmp_path):
    folders, clips = sets
    output = tmp_path / "quality" / "LR64.tsv"
    means = quality_set(folders["HR128"], folders["LR64"], ["s1_ne_01"], output, scale=2, upscale_lr=True)
    hr, _, lr = clips["s1_ne_01"]
    expected = [
        frame_quality(h, cv2.resize(l, (24, 24), interpolation=cv2.INTER_CUBIC), scale=2) for h, l in zip(hr, lr)
    ]
    table = pd.read_csv(output, sep="\t")
    np.testing.assert_allclose(table["psnr_y"], [e["psnr_y"] for e in expected], rtol=1e-12)
    np.testing.assert_allclose(table["ssim_rgb"], [e["ssim_rgb"] for e in expected], rtol=1e-12)
    assert means["ssim_y"] == pytest.approx(np.mean([e["ssim_y"] for e in expected]), rel=1e-12)


def test_identical_sets_give_inf_psnr_kept_in_the_mean(sets, tmp_path):
    folders, _ = sets
    output = tmp_path / "HR128.tsv"
    means = quality_set(folders["HR128"], folders["HR128"], ["s1_ne_01"], output, scale=2)
    assert means["psnr_y"] == np.inf and means["ssim_y"] == 1.0
    assert quality_means(output)["psnr_rgb"] == np.inf


def test_quality_set_errors_name_the_file(sets, tmp_path):
    folders, _ = sets
    output = tmp_path / "out.tsv"
    with pytest.raises(FileNotFoundError, match=r"HR128/s9_ne_09\.npy: clip file missing"):
        quality_set(folders["HR128"], folders["SR64-esrgan"], ["s1_ne_01", "s9_ne_09"], output, scale=2)
    (folders["SR64-esrgan"] / "s2_po_02.npy").unlink()
    with pytest.raises(FileNotFoundError, match=r"SR64-esrgan/s2_po_02\.npy: clip file missing"):
        quality_set(folders["HR128"], folders["SR64-esrgan"], ["s1_ne_01", "s2_po_02"], output, scale=2)
    save_clip(folders["SR64-esrgan"] / "s1_ne_01.npy", np.zeros((3, 20, 24, 3), dtype=np.uint8))
    with pytest.raises(
        ValueError,
        match=r"SR64-esrgan/s1_ne_01\.npy: clip of shape \(3, 20, 24, 3\) does not "
        r"match the HR clip .*HR128/s1_ne_01\.npy of shape \(3, 24, 24, 3\)",
    ):
        quality_set(folders["HR128"], folders["SR64-esrgan"], ["s1_ne_01"], output, scale=2)
    with pytest.raises(ValueError, match=r"LR64/s1_ne_01\.npy: LR clip of shape \(3, 12, 12, 3\) upscaled x4"):
        quality_set(folders["HR128"], folders["LR64"], ["s1_ne_01"], output, scale=4, upscale_lr=True)
    with pytest.raises(ValueError, match="clip_ids must name at least one clip"):
        quality_set(folders["HR128"], folders["LR64"], [], output, scale=2)
    with pytest.raises(ValueError, match="scale must be a positive integer"):
        quality_set(folders["HR128"], folders["LR64"], ["s1_ne_01"], output, scale=2.0)
    (folders["HR128"] / "bad.npy").write_bytes(b"not numpy")
    with pytest.raises(ValueError, match=r"HR128/bad\.npy: cannot read clip"):
        quality_set(folders["HR128"], folders["LR64"], ["bad"], output, scale=2)
    assert not output.exists()


def test_quality_means_rejects_malformed_tables(tmp_path):
    path = tmp_path / "SR64-esrgan.tsv"
    path.write_text("clip_id\tframe\tpsnr_y\tssim_y\tpsnr_rgb\n")
    with pytest.raises(ValueError, match=r"SR64-esrgan\.tsv: missing column\(s\) \['ssim_rgb'\]"):
        quality_means(path)
    path.write_text("\t".join(COLUMNS) + "\n")
    with pytest.raises(ValueError, match="no frame scored"):
        quality_means(path)
    path.write_text("\t".join(COLUMNS) + "\na\t0\t30\tx\t29\t0.9\n")
    with pytest.raises(ValueError, match="column ssim_y holds non-numeric"):
        quality_means(path)
