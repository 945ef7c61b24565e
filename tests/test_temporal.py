"""Tests of mesr.temporal.tim against the definition of docs/descriptors.md."""

import math

import numpy as np
import pytest

from mesr.temporal import tim


def tim_reference(volume, n_frames):
    """TIM without the SVD: each pixel's time series mapped by pinv(B).

    With X0 the centred frames (D x T), the U M b(p) of docs/descriptors.md equals
    X0 pinv(B) b(p): Y = S V^T = U^T X0 and the rows of X0 are orthogonal to
    the constant vector, as are the rows of B (the path graph's Laplacian
    eigenvectors), so M = Y pinv(B) and U U^T X0 = X0.
    """
    T = volume.shape[0]
    x = volume.reshape(T, -1).astype(float).T
    mu = x.mean(axis=1, keepdims=True)

    def b(p):
        return [math.sin(p * k * math.pi + math.pi * (T - k) / (2 * T)) for k in range(1, T)]

    basis = np.array([b(i / T) for i in range(1, T + 1)]).T  # (T-1) x T
    out = [(x - mu) @ np.linalg.pinv(basis) @ np.array(b(p)) + mu[:, 0] for p in np.linspace(1 / T, 1, n_frames)]
    return np.array(out).reshape((n_frames,) + volume.shape[1:])


def clip(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape).astype(np.uint8)


@pytest.mark.parametrize("shape", [(7, 5, 6), (7, 5, 6, 3), (2, 4, 4), (12, 3, 2)])
def test_n_frames_equal_to_t_returns_the_input(shape):
    volume = clip(shape)
    out = tim(volume, shape[0])
    assert out.dtype == np.float64 and out.shape == shape
    np.testing.assert_allclose(out, volume, rtol=0, atol=1e-9)


@pytest.mark.parametrize("n_frames", [2, 3, 5, 10, 31])
@pytest.mark.parametrize("shape", [(6, 5, 4), (9, 3, 4, 3), (2, 3, 3)])
def test_matches_independent_formula_and_keeps_ends(shape, n_frames):
    volume = clip(shape, seed=n_frames)
    out = tim(volume, n_frames)
    assert out.shape == (n_frames,) + shape[1:]
    np.testing.assert_allclose(out, tim_reference(volume, n_frames), rtol=0, atol=1e-9)
    np.testing.assert_allclose(out[0], volume[0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(out[-1], volume[-1], rtol=0, atol=1e-9)


def test_linear_sequence_is_hit_at_input_positions_but_not_linear_between():
    # x_i = 10 (i - 1), T = 6, 11 outputs at p = 1/6, 1/4, 1/3, ...: the even outputs sit
    # on the input positions i / 6 and reproduce 0, 10, .., 50; the odd ones follow the
    # sine basis, not the straight line (the second is 4.5876, not 5)
    volume = (10.0 * np.arange(6))[:, None, None] * np.ones((6, 2, 3))
    out = tim(volume, 11)
    np.testing.assert_allclose(out, tim_reference(volume, 11), rtol=0, atol=1e-9)
    np.testing.assert_allclose(out[::2, 0, 0], 10.0 * np.arange(6), rtol=0, atol=1e-9)
    assert abs(out[1, 0, 0] - 5.0) > 0.1
    assert np.allclose(out, out[:, :1, :1])  # the same series at every pixel


def test_two_frames():
    # T = 2: one component, b_1(p) = sin(p pi + pi / 4); p = 1/2, 3/4, 1 gives
    # sin(3 pi / 4), 0, sin(5 pi / 4), so the middle frame is the mean of the two
    first, last = np.zeros((3, 4)), np.full((3, 4), 8.0)
    out = tim(np.stack([first, last]), 3)
    np.testing.assert_allclose(out, np.stack([first, np.full((3, 4), 4.0), last]), rtol=0, atol=1e-12)


def test_colour_frames_are_whole_vectors():
    # the model vectorises whole frames: (T, H, W, C) is the same as (T, H, W * C);
    # by the formula above the output is also a per-pixel map, so per channel agrees
    volume = clip((8, 4, 5, 3), seed=3)
    out = tim(volume, 13)
    np.testing.assert_allclose(out, tim(volume.reshape(8, 4, 15), 13).reshape(13, 4, 5, 3), rtol=0, atol=1e-9)
    per_channel = np.stack([tim(volume[..., c], 13) for c in range(3)], axis=-1)
    np.testing.assert_allclose(out, per_channel, rtol=0, atol=1e-9)


def test_constant_clip_stays_constant():
    np.testing.assert_allclose(tim(np.full((5, 3, 3), 7.0), 9), 7.0, rtol=0, atol=1e-12)


def test_no_rounding_or_clipping():
    volume = np.stack([np.zeros((2, 2)), np.full((2, 2), 255.0), np.zeros((2, 2)), np.full((2, 2), 255.0)])
    out = tim(volume, 20)[:, 0, 0]
    # the sine basis overshoots between the frames: 259.09 after frame 2, -4.09 after frame 3
    assert out.max() > 259 and out.min() < -4
    assert not np.allclose(out[1:-1], np.round(out[1:-1]))


@pytest.mark.parametrize(
    "volume, n_frames, match",
    [
        (np.zeros((4, 5)), 3, "volume must be 3-D or 4-D"),
        (np.zeros((1, 4, 5)), 3, r"volume must have at least 2 frames \(T >= 2\), got T=1"),
        (np.zeros((3, 4, 5), bool), 3, "volume must hold real numbers"),
        (np.full((3, 4, 5), np.nan), 3, "volume must hold finite values"),
        (np.zeros((3, 4, 5)), 1, "n_frames must be an integer >= 2"),
        (np.zeros((3, 4, 5)), 2.5, "n_frames must be an integer >= 2"),
        (np.zeros((3, 4, 5)), True, "n_frames must be an integer >= 2"),
    ],
)
def test_validation(volume, n_frames, match):
    with pytest.raises(ValueError, match=match):
        tim(volume, n_frames)
