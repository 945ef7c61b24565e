"""Tests of mesr.descriptors: hand-computed cases, slow references, properties, errors."""

import inspect
import json
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import yaml

from mesr.descriptors import extract_set, lbp_top, lpq_top, to_grey
from mesr.temporal import tim
from reference_descriptors import lbp_top_reference, lpq_top_reference, u2_bins

REPO = Path(__file__).resolve().parents[1]

# u2 bins of the 8-bit codes used below: rank among the 58 uniform codes
# 0 1 2 3 4 6 7 8 12 14 | 15 16 24 28 30 31 32 48 56 60 | 62 63 64 96 112 120 124 126 127 128 |
# 129 131 135 143 159 191 192 193 195 199 | 207 223 224 225 227 231 239 240 241 243 |
# 247 248 249 251 252 253 254 255  (non-uniform codes: bin 58)
U2 = {15: 10, 127: 28, 191: 35, 195: 38, 223: 41, 225: 43, 239: 46, 247: 50, 251: 53, 253: 55, 254: 56, 255: 57}


def planes(features, bins):
    """Split a one-block feature vector into its XY, XT, YT histograms."""
    return features.reshape(3, bins)


# --------------------------------------------------------------------------- LBP-TOP, by hand


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_lbp_ramp_by_hand(interpolation):
    # V[t, y, x] = 9t + 3y + x, one centre (1, 1, 1) of value 13. A neighbour at
    # offset (dt, dy, dx) is 13 + 9dt + 3dy + dx, for both interpolations (bilinear
    # is exact on a linear ramp), so bit p = [9dt + 3dy + dx >= 0].
    # XY (dx, dy) = (cos, -sin):  p = 0..7 -> 1 0 0 0 0 1 1 1  -> 1 + 32 + 64 + 128 = 225
    # XT (dx, dt) = (cos, sin):   p = 0..7 -> 1 1 1 1 0 0 0 0  -> 15
    # YT (dy, dt) = (-sin, cos):  p = 0..7 -> 1 1 0 0 0 0 1 1  -> 1 + 2 + 64 + 128 = 195
    volume = np.arange(27, dtype=np.uint8).reshape(3, 3, 3)
    raw = lbp_top(volume, mapping=None, interpolation=interpolation)
    expected = np.zeros((3, 256))
    expected[0, 225] = expected[1, 15] = expected[2, 195] = 1.0
    np.testing.assert_array_equal(planes(raw, 256), expected)
    u2 = lbp_top(volume, interpolation=interpolation)
    expected = np.zeros((3, 59))
    expected[0, U2[225]] = expected[1, U2[15]] = expected[2, U2[195]] = 1.0
    np.testing.assert_array_equal(planes(u2, 59), expected)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("radii", [(1, 1, 1), (1.5, 1, 2)])
def test_lbp_flat_volume_gives_all_ones(interpolation, radii):
    # every neighbour equals the centre: all bits 1, code 255 (u2: the last uniform bin)
    volume = np.full((5, 6, 7), 77, dtype=np.uint8)
    u2 = lbp_top(volume, radii=radii, interpolation=interpolation)
    expected = np.zeros((3, 59))
    expected[:, 57] = 1.0
    np.testing.assert_array_equal(planes(u2, 59), expected)
    raw = lbp_top(volume, radii=radii, interpolation=interpolation, mapping=None)
    assert np.array_equal(np.flatnonzero(raw), [255, 511, 767])


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_lbp_one_bright_voxel(interpolation):
    # 5x5x5 zeros, V[2,2,2] = 100; 27 centres (1..3)^3. The bright centre sees only
    # zeros (code 0); every other centre is 0 and every neighbour is >= 0 (code 255).
    volume = np.zeros((5, 5, 5), dtype=np.uint8)
    volume[2, 2, 2] = 100
    expected = np.zeros((3, 59))
    expected[:, 0] = 1 / 27  # code 0 is uniform, bin 0
    expected[:, 57] = 26 / 27
    np.testing.assert_allclose(planes(lbp_top(volume, interpolation=interpolation), 59), expected, rtol=0, atol=1e-15)


def test_lbp_one_dark_voxel_nearest():
    # 5x5x5 of 100 with V[2,2,2] = 0. In each plane, the 8 centres of the ring around
    # the dark voxel have it as exactly one neighbour, each at a different p
    # (e.g. XY centre x=1, y=2 has it at p=0), so their codes are 255 - 2**p once
    # each; the 19 other centres (the dark one included) have code 255.
    volume = np.full((5, 5, 5), 100, dtype=np.uint8)
    volume[2, 2, 2] = 0
    plane = np.zeros(256)
    plane[255] = 19 / 27
    plane[[254, 253, 251, 247, 239, 223, 191, 127]] = 1 / 27
    raw = lbp_top(volume, mapping=None, interpolation="nearest")
    np.testing.assert_allclose(planes(raw, 256), np.stack([plane] * 3), rtol=0, atol=1e-15)


def test_lbp_nearest_rounds_exact_halves_up():
    # P = 12, R = 1, XY offsets (cos a, -sin a) rounded half up, p = 0..11:
    # (1,0) (1,0) (1,-1) (0,-1) (0,-1) (-1,0) (-1,0) (-1,1) (0,1) (0,1) (1,1) (1,1)
    # e.g. p = 8: (-0.5, 0.866) -> (0, 1), although float64 cos(240 deg) is -0.5000000000000004.
    # One centre (1, 1) of the frame V = 10 x + y + 20: neighbour - centre = 10 dx + dy:
    # 10 10 9 -1 -1 -10 -10 -9 1 1 11 11 -> bits 1 1 1 0 0 0 0 0 1 1 1 1 -> code 0b111100000111
    # (p = 8 at (-1, 1) would give -9 and bit 0).
    frame = 10 * np.arange(3)[None, :] + np.arange(3)[:, None] + 20
    volume = np.stack([frame] * 3).astype(np.uint8)
    raw = lbp_top(volume, points=(12, 12, 12), interpolation="nearest", mapping=None)
    assert raw[0b111100000111] == 1.0
    # every code against the slow reference on random data with ties
    volume = np.random.default_rng(5).integers(0, 4, (5, 7, 8)).astype(np.uint8)
    for points in [(12, 12, 12), (6, 12, 4)]:
        fast = lbp_top(volume, points=points, interpolation="nearest", mapping=None)
        slow = lbp_top_reference(volume, (1, 1, 1), points, (1, 1), None, "nearest")
        np.testing.assert_array_equal(fast, slow)


def test_u2_bin_counts_and_table():
    # P (P - 1) + 3 bins; the uniform codes of P = 8 listed at the top of this file
    for p in (1, 2, 3, 5, 8, 10):
        volume = np.random.default_rng(p).integers(0, 256, (3, 3, 3), dtype=np.uint8)
        assert lbp_top(volume, points=(p, p, p)).size == 3 * (p * (p - 1) + 3)
    table = u2_bins(8)
    assert {code: table[code] for code in U2} == U2
    assert sum(1 for b in table.values() if b < 58) == 58 and table[5] == 58


# --------------------------------------------------------------------------- LBP-TOP, against the reference

LBP_CASES = [
    dict(radii=(1, 1, 1), points=(8, 8, 8), mapping="u2", interpolation="bilinear", blocks=(1, 1)),
    dict(radii=(1, 1, 2), points=(8, 8, 8), mapping="u2", interpolation="bilinear", blocks=(2, 3)),
    dict(radii=(1, 1, 2), points=(8, 8, 8), mapping=None, interpolation="nearest", blocks=(2, 3)),
    dict(radii=(1.5, 1, 1), points=(4, 8, 16), mapping="u2", interpolation="bilinear", blocks=(2, 3)),
    dict(radii=(2, 1.3, 1), points=(8, 4, 12), mapping=None, interpolation="nearest", blocks=(2, 3)),
    dict(radii=(1, 1, 1), points=(12, 6, 12), mapping=None, interpolation="bilinear", blocks=(3, 2)),
    dict(radii=(0.5, 0.7, 1.2), points=(8, 8, 8), mapping="u2", interpolation="bilinear", blocks=(2, 2)),
    dict(radii=(2, 2, 1), points=(4, 4, 4), mapping=None, interpolation="bilinear", blocks=(1, 1)),
    dict(radii=(1, 2, 1), points=(16, 8, 8), mapping="u2", interpolation="nearest", blocks=(2, 3)),
]


@pytest.mark.parametrize("case", LBP_CASES, ids=lambda c: "-".join(str(v) for v in c.values()))
@pytest.mark.parametrize("high", [256, 3])  # 3: many ties and flat patches
def test_lbp_matches_slow_reference(case, high):
    rng = np.random.default_rng(high)
    volume = rng.integers(0, high, (6, 9, 10)).astype(np.uint8)
    volume[1:4, 2:6, 3:8] = 1  # a flat patch
    fast = lbp_top(volume, **case)
    slow = lbp_top_reference(volume, **case)
    assert fast.shape == slow.shape
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-12)


def test_lbp_integer_valued_float_equals_uint8():
    volume = np.random.default_rng(0).integers(0, 256, (5, 8, 9)).astype(np.uint8)
    for interpolation in ("nearest", "bilinear"):
        a = lbp_top(volume, radii=(1, 1.5, 1), interpolation=interpolation, blocks=(2, 2))
        b = lbp_top(volume.astype(np.float32), radii=(1, 1.5, 1), interpolation=interpolation, blocks=(2, 2))
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- LPQ-TOP


@pytest.mark.parametrize("decorrelation", [None, (0.1, 0.1)])
def test_lpq_flat_volume_gives_code_255(decorrelation):
    # every coefficient is exactly 0 in exact arithmetic, so every bit is 1
    features = lpq_top(np.full((5, 6, 7), 9, np.uint8), window=(3, 3, 5), decorrelation=decorrelation)
    expected = np.zeros((3, 256))
    expected[:, 255] = 1.0
    np.testing.assert_array_equal(planes(features, 256), expected)


def test_lpq_impulse_by_hand():
    # 3x3x3 window (3, 3, 3), no decorrelation; w1(k) = exp(-2 pi i k / 3):
    # w1(0) = 1, w1(1) = -1/2 - i sqrt(3)/2. A unit impulse at offset u from a
    # centre gives F = f(-u) (true convolution: F(c) = sum_k img(c - k) f(k)).
    # Impulse at (t, y, x) = (1, 0, 1):
    #   XY slice t = 1 (rows y, cols x), u = (-1, 0), k = (1, 0):
    #     F1 = w0(1) w1(0) = 1 -> Re 1, Im 0 -> bits 1 1
    #     F2 = w1(1) w0(0) = w1(1) -> bits 0 0; F3 = w1(1) w1(0) -> 0 0; F4 = w1(1) w2(0) -> 0 0
    #     code 0b00000011 = 3 (a correlation would give w1(-1), Im > 0: code 171)
    #   XY slices t = 0, 2 are zero: code 255. XT slice y = 0 has the impulse at its
    #   centre (k = 0, F = 1): 255; other XT slices: 255. YT slice x = 1 (rows y,
    #   cols t): u = (-1, 0) again: code 3; YT slices x = 0, 2: 255.
    volume = np.zeros((3, 3, 3), np.uint8)
    volume[1, 0, 1] = 1
    features = planes(lpq_top(volume, window=(3, 3, 3), decorrelation=None), 256)
    expected = np.zeros((3, 256))
    expected[0, 255], expected[0, 3] = 2 / 3, 1 / 3
    expected[1, 255] = 1.0
    expected[2, 255], expected[2, 3] = 2 / 3, 1 / 3
    np.testing.assert_allclose(features, expected, rtol=0, atol=1e-15)
    # Impulse at (1, 1, 0): XY slice t = 1, k = (0, 1):
    #   F1 = w0(0) w1(1) -> 0 0; F2 = w1(0) w0(1) = 1 -> 1 1; F3 = w1(0) w1(1) -> 0 0;
    #   F4 = w1(0) w2(1) = -1/2 + i sqrt(3)/2 -> 0 1; code 4 + 8 + 128 = 140.
    #   XT slice y = 1 (rows x, cols t): impulse at x = 0, t = 1, k = (1, 0): code 3.
    #   Each YT slice (rows y, cols t) has one centre (y = 1, t = 1); slice x = 0
    #   has the impulse there (k = 0, F = 1): 255; the other slices are zero: 255.
    volume = np.zeros((3, 3, 3), np.uint8)
    volume[1, 1, 0] = 1
    features = planes(lpq_top(volume, window=(3, 3, 3), decorrelation=None), 256)
    expected = np.zeros((3, 256))
    expected[0, 255], expected[0, 140] = 2 / 3, 1 / 3
    expected[1, 255], expected[1, 3] = 2 / 3, 1 / 3
    expected[2, 255] = 1.0
    np.testing.assert_allclose(features, expected, rtol=0, atol=1e-15)


LPQ_CASES = [
    dict(window=(3, 3, 3), decorrelation=None, blocks=(1, 1)),
    dict(window=(3, 3, 3), decorrelation=(0.1, 0.1), blocks=(2, 3)),
    dict(window=(5, 3, 7), decorrelation=(0.1, 0.1), blocks=(2, 3)),
    dict(window=(5, 3, 7), decorrelation=None, blocks=(1, 1)),
    dict(window=(3, 5, 3), decorrelation=(0.3, 0.05), blocks=(2, 2)),
    dict(window=(5, 5, 5), decorrelation=(0.1, 0.1), blocks=(1, 1)),
]


@pytest.mark.parametrize("case", LPQ_CASES, ids=lambda c: "-".join(str(v) for v in c.values()))
@pytest.mark.parametrize("high", [256, 3])
def test_lpq_matches_slow_reference(case, high):
    rng = np.random.default_rng(high + 1)
    volume = rng.integers(0, high, (8, 9, 10)).astype(np.uint8)
    volume[2:6, 2:7, 3:8] = 2  # a flat patch: coefficients exactly zero
    fast = lpq_top(volume, **case)
    slow = lpq_top_reference(volume, **case)
    assert fast.shape == slow.shape
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-12)


def test_lpq_integer_valued_float_equals_uint8():
    volume = np.random.default_rng(3).integers(0, 256, (7, 8, 9)).astype(np.uint8)
    np.testing.assert_array_equal(lpq_top(volume, window=(3, 5, 3)), lpq_top(volume.astype(float), window=(3, 5, 3)))


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize("blocks", [(1, 1), (2, 3), (5, 5)])
def test_lengths_and_normalisation(blocks):
    rows, cols = blocks
    volume = np.random.default_rng(1).integers(0, 256, (5, 5, 6), dtype=np.uint8)
    for features, bins in [
        (lbp_top(volume, blocks=blocks), 59),
        (lbp_top(volume, blocks=blocks, mapping=None, interpolation="nearest"), 256),
        (lpq_top(volume, window=(3, 3, 3), blocks=blocks), 256),
    ]:
        assert features.dtype == np.float64 and features.shape == (rows * cols * 3 * bins,)
        sums = features.reshape(rows * cols, 3, bins).sum(axis=2)
        assert np.all(np.isclose(sums, 1.0, rtol=0, atol=1e-12) | (sums == 0))
    # 5x5 blocks on 5x6 frames, LBP centres y = 1..3, x = 1..4: block rows y, block
    # cols floor(5 x / 6) = 0..3, so block rows 0, 4 and block col 4 are empty
    sums = lbp_top(volume, blocks=(5, 5)).reshape(5, 5, 3, 59).sum(axis=3)
    assert np.all(sums[[0, 4]] == 0) and np.all(sums[:, 4] == 0) and np.allclose(sums[1:4, :4], 1)


def test_lbp_uneven_points_layout():
    volume = np.random.default_rng(2).integers(0, 256, (5, 6, 7), dtype=np.uint8)
    features = lbp_top(volume, points=(4, 8, 6), blocks=(2, 1))
    bins = (4 * 3 + 3, 8 * 7 + 3, 6 * 5 + 3)
    assert features.shape == (2 * sum(bins),)
    block0 = features[: sum(bins)]
    for start, n in zip(np.cumsum((0,) + bins[:2]), bins):
        assert np.isclose(block0[start : start + n].sum(), 1.0)


def test_block_assignment_uses_the_frame_size():
    # an 8-wide frame with cols = 3: block col = floor(x * 3 / 8), centres x = 1..6 -> 0 0 1 1 1 2;
    # each block then holds the codes of the sub-volume whose centres are its x
    volume = np.random.default_rng(4).integers(0, 256, (3, 3, 8), dtype=np.uint8)
    counts = lbp_top(volume, blocks=(1, 3), mapping=None, interpolation="nearest").reshape(3, 3, 256)
    for block, (lo, hi) in enumerate([(0, 4), (2, 7), (5, 8)]):
        expected = lbp_top(volume[:, :, lo:hi], mapping=None, interpolation="nearest")
        np.testing.assert_array_equal(counts[block].ravel(), expected)


# --------------------------------------------------------------------------- validation

GOOD = np.zeros((5, 6, 7), np.uint8)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(volume=np.zeros((6, 7), np.uint8)), "volume must be 3-D"),
        (dict(volume=GOOD + 0.5), "volume must hold integer values"),
        (dict(radii=(1, 1)), "radii must be a sequence of 3"),
        (dict(radii=(1, "a", 1)), "radii must hold numbers"),
        (dict(radii=(1, 0, 1)), "radii must be a finite number > 0"),
        (dict(points=(8, 8.5, 8)), "points must hold integers"),
        (dict(points=(8, 0, 8)), "points must hold integers >= 1"),
        (dict(points=(8, 8, 17), mapping=None), "points must be at most 16"),
        (dict(points=(8, 8, 33)), "points must be at most 32"),
        (dict(mapping="riu2"), "mapping must be one of 'u2', None"),
        (dict(interpolation="cubic"), "interpolation must be one of"),
        (dict(radii=(1, 1, 3)), r"volume has 5 frames, too few for the temporal radius radii\[2\]=3"),
        (dict(radii=(3, 1, 1)), "volume frames are 6x7, too small for the spatial radii"),
        (dict(blocks=(7, 1)), r"blocks \(7, 1\) \(rows, cols\) larger than the frame"),
        (dict(blocks=(1, 2, 3)), "blocks must be a sequence of 2"),
    ],
)
def test_lbp_validation(kwargs, match):
    kwargs = dict(kwargs)
    volume = kwargs.pop("volume", GOOD)
    with pytest.raises(ValueError, match=match):
        lbp_top(volume, **kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(volume=np.zeros((2, 5, 6, 7), np.uint8)), "volume must be 3-D"),
        (dict(window=(5, 4, 5)), "window must hold odd integers >= 3"),
        (dict(window=(1, 3, 3)), "window must hold odd integers >= 3"),
        (dict(window=(3, 3)), "window must be a sequence of 3"),
        (dict(window=(3, 3, 7)), r"volume has 5 frames, fewer than window\[2\]=7"),
        (dict(window=(9, 3, 3)), r"volume has 7 columns, fewer than window\[0\]=9"),
        (dict(decorrelation=(0.1, 1.0)), r"decorrelation must hold numbers in \[0, 1\)"),
        (dict(decorrelation=0.1), "decorrelation must be None or"),
        (dict(blocks=(1, 8)), "larger than the frame"),
    ],
)
def test_lpq_validation(kwargs, match):
    kwargs = dict(kwargs)
    volume = kwargs.pop("volume", GOOD)
    with pytest.raises(ValueError, match=match):
        lpq_top(volume, **kwargs)


def test_options_are_keyword_only():
    with pytest.raises(TypeError):
        lbp_top(GOOD, (1, 1, 1))
    with pytest.raises(TypeError):
        lpq_top(GOOD, (3, 3, 3))


# --------------------------------------------------------------------------- to_grey


def test_to_grey_equals_opencv_frame_by_frame():
    clip = np.random.default_rng(0).integers(0, 256, (4, 7, 9, 3), dtype=np.uint8)
    expected = np.stack([cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in clip])
    np.testing.assert_array_equal(to_grey(clip), expected)
    # BT.601 on pure colours: 0.299 * 255 = 76.2, 0.587 * 255 = 149.7, 0.114 * 255 = 29.1
    pure = np.array([[[[255, 0, 0], [0, 255, 0], [0, 0, 255]]]], np.uint8)
    np.testing.assert_array_equal(to_grey(pure)[0, 0], [76, 150, 29])


def test_to_grey_validation():
    with pytest.raises(ValueError, match="clip must be 4-D"):
        to_grey(np.zeros((4, 5, 3), np.uint8))
    with pytest.raises(ValueError, match=r"clip must be \(T, H, W, 3\) uint8 RGB"):
        to_grey(np.zeros((2, 4, 5, 3), np.float32))


# --------------------------------------------------------------------------- extract_set


def write_set(tmp_path, n_frames=(6, 7)):
    rng = np.random.default_rng(7)
    set_dir = tmp_path / "sets" / "HR128"
    set_dir.mkdir(parents=True)
    clips = {}
    for clip_id, frames in zip(["s1_ne_01", "007"], n_frames):
        clips[clip_id] = rng.integers(0, 256, (frames, 10, 12, 3), dtype=np.uint8)
        np.save(set_dir / f"{clip_id}.npy", clips[clip_id])
    manifest = tmp_path / "manifest.tsv"
    pd.DataFrame(
        {"clip_id": ["s1_ne_01", "007"], "subject": [1, 12], "label": ["negative", "surprise"], "n_frames": n_frames}
    ).to_csv(manifest, sep="\t", index=False)
    return set_dir, manifest, clips


def test_extract_set_writes_the_features(tmp_path):
    set_dir, manifest, clips = write_set(tmp_path)
    output = tmp_path / "features" / "HR128" / "lbp_top.npz"
    params = {"radii": [1, 1, 2], "blocks": [2, 2]}
    assert extract_set(set_dir, manifest, descriptor="lbp_top", params=params, output=output) == output
    with np.load(output, allow_pickle=False) as data:
        assert data["features"].dtype == np.float64 and data["features"].shape == (2, 4 * 3 * 59)
        for row, clip in enumerate(clips.values()):
            np.testing.assert_array_equal(data["features"][row], lbp_top(to_grey(clip), radii=(1, 1, 2), blocks=(2, 2)))
        assert data["clip_id"].tolist() == ["s1_ne_01", "007"]
        assert data["subject"].tolist() == ["1", "12"] and data["subject"].dtype.kind == "U"  # folder names
        assert data["label"].tolist() == ["negative", "surprise"]
        assert json.loads(str(data["params"])) == {
            "descriptor": "lbp_top",
            "params": {"radii": [1, 1, 2], "blocks": [2, 2]},
            "temporal": None,
        }
    assert sorted(p.name for p in output.parent.iterdir()) == ["lbp_top.npz"]  # no temporary left


def test_extract_set_with_tim(tmp_path):
    set_dir, manifest, clips = write_set(tmp_path)
    output = tmp_path / "lpq.npz"
    extract_set(set_dir, manifest, descriptor="lpq_top", params={"window": [3, 3, 3]}, temporal=10, output=output)
    with np.load(output) as data:
        for row, clip in enumerate(clips.values()):
            grey = np.clip(np.rint(tim(to_grey(clip), 10)), 0, 255).astype(np.uint8)
            np.testing.assert_array_equal(data["features"][row], lpq_top(grey, window=(3, 3, 3)))
        assert json.loads(str(data["params"]))["temporal"] == 10


def test_extract_set_errors(tmp_path):
    set_dir, manifest, _ = write_set(tmp_path)
    output = tmp_path / "out.npz"
    (set_dir / "007.npy").unlink()
    with pytest.raises(ValueError, match="007.npy"):
        extract_set(set_dir, manifest, descriptor="lbp_top", output=output)
    (set_dir / "007.npy").write_bytes(b"not a numpy file")
    with pytest.raises(ValueError, match="007.npy"):
        extract_set(set_dir, manifest, descriptor="lbp_top", output=output)
    assert not output.exists()
    with pytest.raises(ValueError, match="descriptor must be one of"):
        extract_set(set_dir, manifest, descriptor="hog", output=output)
    with pytest.raises(ValueError, match=r"params has unknown key\(s\) \['window'\] for lbp_top"):
        extract_set(set_dir, manifest, descriptor="lbp_top", params={"window": [3, 3, 3]}, output=output)
    with pytest.raises(ValueError, match="temporal must be None, 'none' or a number of frames"):
        extract_set(set_dir, manifest, descriptor="lbp_top", temporal="tim", output=output)
    bad = tmp_path / "bad.tsv"
    pd.DataFrame({"clip_id": ["007"], "label": ["negative"]}).to_csv(bad, sep="\t", index=False)
    with pytest.raises(ValueError, match=r"bad.tsv: manifest lacks column\(s\) \['subject'\]"):
        extract_set(set_dir, bad, descriptor="lbp_top", output=output)


def test_extract_set_clip_too_short_names_the_file(tmp_path):
    set_dir, manifest, _ = write_set(tmp_path, n_frames=(6, 4))
    with pytest.raises(
        ValueError,
        match=r"clip 007 \(.*007\.npy\) has 4 frame\(s\), too few for lpq_top with "
        r"window\[2\] \(t\) = 5 \(features\.lpq_top\.window\): it needs at least 5",
    ):
        extract_set(set_dir, manifest, descriptor="lpq_top", output=tmp_path / "out.npz")


def test_descriptor_options_are_the_keyword_arguments_of_the_functions(tmp_path):
    """One source: extract_set's options and their defaults, and the config schema's keys, are the signatures'."""
    schema = yaml.safe_load((REPO / "config" / "schema.yaml").read_text(encoding="utf-8"))
    features = schema["properties"]["features"]["properties"]
    for function in (lbp_top, lpq_top):
        keywords = [
            name
            for name, parameter in inspect.signature(function).parameters.items()
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY
        ]
        assert list(features[function.__name__]["properties"]) == keywords
    # the default temporal radius of lbp_top (radii (1, 1, 1)) needs 3 frames
    set_dir, manifest, _ = write_set(tmp_path, n_frames=(6, 2))
    with pytest.raises(ValueError, match=r"has 2 frame\(s\), too few for lbp_top with radii\[2\] \(t\) = 1 "):
        extract_set(set_dir, manifest, descriptor="lbp_top", output=tmp_path / "out.npz")


def test_u2_paths_agree(monkeypatch):
    # u2 bins are folded from raw-code histograms (small P), looked up per code
    # (P <= 16) or found by binary search (larger P): all three give the same vector
    import mesr.descriptors as module

    volume = np.random.default_rng(9).integers(0, 4, (5, 8, 9)).astype(np.uint8)
    expected = lbp_top(volume, points=(8, 4, 6), blocks=(2, 2))
    monkeypatch.setattr(module, "_FOLD_LIMIT", 0)
    np.testing.assert_array_equal(lbp_top(volume, points=(8, 4, 6), blocks=(2, 2)), expected)
    monkeypatch.setattr(module, "_TABLE_LIMIT", 0)
    np.testing.assert_array_equal(lbp_top(volume, points=(8, 4, 6), blocks=(2, 2)), expected)


def test_many_points():
    # P = 20: 383 bins per plane; the flat volume puts every code (2**20 - 1) in the
    # last uniform bin, 381
    features = lbp_top(np.full((3, 3, 3), 5, np.uint8), points=(20, 20, 20))
    expected = np.zeros((3, 383))
    expected[:, 381] = 1.0
    np.testing.assert_array_equal(planes(features, 383), expected)
