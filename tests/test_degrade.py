import hashlib
import math
import zlib

import cv2
import numpy as np
import pytest

from mesr.degrade import degrade, gaussian_kernel, resize_hr


def direct_degrade(frames, scale, blur_sigma, noise_sigma, seed, clip_id, phase="centred"):
    """L = S(Y(Z)) + x written straight from docs/degradation.md: every LR pixel is a sum over the HR pixels
    within the kernel's reach of its sampling point, weighted by the Gaussian of their distance to that point."""
    radius = math.ceil(3 * blur_sigma)
    height, width = frames.shape[1:3]

    def weights(size):
        """(LR, HR) matrix of the normalised 1-D Gaussian weights, HR borders reflected (BORDER_REFLECT_101)."""
        centres = scale * np.arange(size // scale) + ((scale - 1) / 2 if phase == "centred" else (scale - 1) // 2)
        matrix = np.zeros((centres.size, size))
        for row, centre in enumerate(centres):
            reach = np.arange(math.floor(centre - radius - 0.5), math.ceil(centre + radius + 0.5) + 1)
            reach = reach[np.abs(reach - centre) <= radius + 0.5]
            taps = np.exp(-0.5 * ((reach - centre) / blur_sigma) ** 2)
            reflected = np.abs(reach)
            reflected = np.where(reflected > size - 1, 2 * (size - 1) - reflected, reflected)
            np.add.at(matrix[row], reflected, taps / taps.sum())
        return matrix

    rows, cols = weights(height), weights(width)
    out = []
    for index, frame in enumerate(frames.astype(np.float64)):
        small = np.einsum("ih,hwc,jw->ijc", rows, frame, cols)
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


@pytest.mark.parametrize("phase", ["centred", "corner"])
@pytest.mark.parametrize("scale, sigma", [(2, 0.8), (4, 1.6), (3, 1.0)])
@pytest.mark.parametrize("seed", [0, 7])
def test_equals_direct_formula(scale, sigma, seed, phase):
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 256, (3, 36, 24, 3), dtype=np.uint8)
    low = degrade(frames, scale=scale, blur_sigma=sigma, noise_sigma=1.0, seed=seed, clip_id="s3_po_02", phase=phase)
    reference = direct_degrade(frames, scale, sigma, 1.0, seed, "s3_po_02", phase)
    assert low.shape == (3, 36 // scale, 24 // scale, 3) and low.dtype == np.uint8
    # Identical after rounding except where the two sums straddle a .5 boundary (1e-12 apart).
    exact = np.clip(np.rint(reference), 0, 255)
    near_half = np.abs(reference - np.floor(reference) - 0.5) < 1e-9
    assert np.array_equal(low[~near_half], exact[~near_half])


def test_corner_phase_reproduces_the_first_convention_byte_for_byte():
    """SHA-256 of the LR frames the study wrote before the phase existed (pixel (s-1)//2 of each block)."""
    frames = np.random.default_rng(5).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    for scale, sigma, digest in [
        (2, 0.8, "e3023861da4cfa6c62014a5db84e6191156acd65140ad693c7d43c0d3cf573d4"),
        (4, 1.6, "884faecbbde950ac73433d695efcca26fed577ad483aa65213eccca8584069bf"),
    ]:
        low = degrade(
            frames, scale=scale, blur_sigma=sigma, noise_sigma=1.0, seed=2, clip_id="s1_ne_01", phase="corner"
        )
        assert hashlib.sha256(low.tobytes()).hexdigest() == digest


def smooth_pattern(size=128, seed=0):
    """Smoothed white noise in 28..228: broadband enough to register, smooth enough to upscale."""
    noise = cv2.GaussianBlur(np.random.default_rng(seed).normal(size=(size, size)), (0, 0), 4.0)
    image = 28 + 200 * (noise - noise.min()) / (noise.max() - noise.min())
    return np.repeat(image.round().astype(np.uint8)[None, :, :, None], 3, axis=3)


def shift_after_bicubic_upscaling(phase, scale, sigma):
    """Shift (x, y) in HR pixels of the bicubic upscaling of the LR frame against HR.

    The least-squares translation of the linearised model up(x) = hr(x + d) (Lucas & Kanade), on the frame
    without a 16-pixel border; it recovers sub-pixel shifts of smooth images to a few hundredths.
    """
    hr = smooth_pattern()
    low = degrade(hr, scale=scale, blur_sigma=sigma, noise_sigma=0, seed=0, clip_id="c", phase=phase)[0]
    up = cv2.resize(low, (128, 128), interpolation=cv2.INTER_CUBIC)[16:-16, 16:-16, 0].astype(np.float64)
    reference = hr[0, 16:-16, 16:-16, 0].astype(np.float64)
    gy, gx = np.gradient(reference)
    normal = [[np.sum(gx * gx), np.sum(gx * gy)], [np.sum(gx * gy), np.sum(gy * gy)]]
    return np.linalg.solve(normal, [np.sum(gx * (up - reference)), np.sum(gy * (up - reference))])


@pytest.mark.parametrize("scale, sigma", [(2, 0.8), (4, 1.6)])
def test_centred_lr_upscaled_bicubically_is_aligned_with_hr(scale, sigma):
    assert np.all(np.abs(shift_after_bicubic_upscaling("centred", scale, sigma)) < 0.1)
    # the corner phase sits half an HR pixel off, towards the top-left, at both scales
    assert shift_after_bicubic_upscaling("corner", scale, sigma) == pytest.approx([-0.5, -0.5], abs=0.15)


def test_half_pixel_kernel():
    kernel = gaussian_kernel(0.8, half_pixel=True)
    assert kernel.size == 8 and kernel.sum() == pytest.approx(1.0)
    assert np.array_equal(kernel, kernel[::-1])
    assert kernel[3] == kernel[4] == kernel.max()  # the two taps half a pixel either side of the point


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
        ({"phase": "middle"}, "phase must be one of 'centred', 'corner', got 'middle'"),
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
