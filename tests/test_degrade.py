import math
import zlib

import cv2
import numpy as np
import pytest

from mesr.degrade import degrade, gaussian_kernel, resize_hr


def direct_degrade(frames, scale, blur_sigma, noise_sigma, seed, clip_id):
    """L = S(Y(Z)) + x written straight from SPEC §5, with explicit sums over the kernel taps."""
    radius = math.ceil(3 * blur_sigma)
    offsets = np.arange(-radius, radius + 1)
    weights = np.exp(-(offsets[:, None] ** 2 + offsets[None, :] ** 2) / (2 * blur_sigma**2))
    weights /= weights.sum()
    out = []
    for index, frame in enumerate(frames.astype(np.float64)):
        padded = np.pad(frame, ((radius, radius), (radius, radius), (0, 0)), mode="reflect")
        height, width = frame.shape[:2]
        blurred = np.zeros_like(frame)
        for i, dy in enumerate(offsets):
            for j, dx in enumerate(offsets):
                blurred += weights[i, j] * padded[radius + dy : radius + dy + height, radius + dx : radius + dx + width]
        start = (scale - 1) // 2
        small = blurred[start::scale, start::scale]
        rng = np.random.default_rng([seed, zlib.crc32(clip_id.encode()), index, scale])
        out.append(small + rng.normal(0, noise_sigma, small.shape))
    return np.stack(out)


@pytest.mark.parametrize("sigma, taps", [(0.8, 7), (1.6, 11), (0.3, 3), (1.0, 7)])
def test_kernel_length_and_normalisation(sigma, taps):
    kernel = gaussian_kernel(sigma)
    assert kernel.size == taps
    assert kernel.sum() == pytest.approx(1.0)
    assert np.array_equal(kernel, kernel[::-1])


def test_impulse_response_is_the_kernel():
    frame = np.zeros((1, 16, 16, 3), np.uint8)
    frame[0, 8, 8] = 200
    low = degrade(frame, scale=1, blur_sigma=0.8, noise_sigma=0, seed=0, clip_id="s1_ne_01")
    kernel = gaussian_kernel(0.8)
    expected = np.rint(200 * np.outer(kernel, kernel))
    assert np.array_equal(low[0, 5:12, 5:12, 0], expected)
    assert low[0, :5].sum() == 0 and low[0, 12:].sum() == 0


@pytest.mark.parametrize("scale, sigma", [(2, 0.8), (4, 1.6)])
@pytest.mark.parametrize("seed", [0, 7])
def test_equals_direct_formula(scale, sigma, seed):
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 256, (3, 32, 24, 3), dtype=np.uint8)
    low = degrade(frames, scale=scale, blur_sigma=sigma, noise_sigma=1.0, seed=seed, clip_id="s3_po_02")
    reference = direct_degrade(frames, scale, sigma, 1.0, seed, "s3_po_02")
    assert low.shape == (3, 32 // scale, 24 // scale, 3) and low.dtype == np.uint8
    # Identical after rounding except where the two sums straddle a .5 boundary (1e-12 apart).
    exact = np.clip(np.rint(reference), 0, 255)
    near_half = np.abs(reference - np.floor(reference) - 0.5) < 1e-9
    assert np.array_equal(low[~near_half], exact[~near_half])


def test_clipping_to_uint8_range():
    frames = np.full((1, 8, 8, 3), 255, np.uint8)
    frames[..., 1] = 0
    low = degrade(frames, scale=2, blur_sigma=0.8, noise_sigma=20.0, seed=0, clip_id="x")
    assert low[..., 0].min() < 255 and low[..., 0].max() == 255
    assert low[..., 1].min() == 0


def test_deterministic_and_independent_of_frame_order_and_jobs():
    frames = np.random.default_rng(1).integers(0, 256, (4, 16, 16, 3), dtype=np.uint8)
    kwargs = dict(scale=2, blur_sigma=0.8, noise_sigma=1.0, seed=3)
    first = degrade(frames, clip_id="s1_ne_01", **kwargs)
    assert np.array_equal(first, degrade(frames, clip_id="s1_ne_01", **kwargs))
    # Frame f's noise depends on (seed, clip, f, scale) only: the first two frames alone give the same.
    assert np.array_equal(first[:2], degrade(frames[:2], clip_id="s1_ne_01", **kwargs))
    assert not np.array_equal(first, degrade(frames, clip_id="s1_ne_02", **kwargs))
    assert not np.array_equal(first, degrade(frames, clip_id="s1_ne_01", **{**kwargs, "seed": 4}))


def test_resize_hr_is_opencv_area():
    frames = np.random.default_rng(2).integers(0, 256, (2, 190, 150, 3), dtype=np.uint8)
    hr = resize_hr(frames)
    assert hr.shape == (2, 128, 128, 3)
    assert np.array_equal(hr[1], cv2.resize(frames[1], (128, 128), interpolation=cv2.INTER_AREA))


def test_resize_hr_crop_takes_the_centred_square():
    frames = np.zeros((1, 200, 150, 3), np.uint8)
    frames[:, 25:175] = 255  # the centred 150x150 square is white, the rest black
    assert resize_hr(frames, keep_aspect="crop").min() == 255
    assert resize_hr(frames).min() == 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"scale": 3}, "not divisible by scale 3"),
        ({"scale": 0}, "scale must be a positive integer"),
        ({"blur_sigma": -1}, "blur_sigma must be a finite number > 0"),
        ({"noise_sigma": -0.5}, "noise_sigma must be a finite number >= 0"),
    ],
)
def test_validation(kwargs, message):
    frames = np.zeros((1, 8, 8, 3), np.uint8)
    arguments = {"scale": 2, "blur_sigma": 0.8, "noise_sigma": 1.0, "seed": 0, "clip_id": "c", **kwargs}
    with pytest.raises(ValueError, match=message):
        degrade(frames, **arguments)


def test_resize_validation():
    with pytest.raises(ValueError, match="frames must be 4-D"):
        resize_hr(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="keep_aspect must be one of 'stretch', 'crop', got 'pad'"):
        resize_hr(np.zeros((1, 8, 8, 3), np.uint8), keep_aspect="pad")
