"""Tests of mesr.biwoof: hand-made flows, a slow loop reference, the features file and the LOSO SVM on it."""

import json
import math

import numpy as np
import pytest

from mesr.biwoof import bi_woof, extract_biwoof_set
from mesr.descriptors import extract_set
from mesr.evaluate import evaluate_features
from mesr.flow import extract_flow_set
from test_flow import write_set


def bi_woof_reference(u, v, strain, blocks, bins):
    """Bi-WOOF by loops over pixels, as described in docs/descriptors.md and mesr.biwoof's docstring."""
    H, W = u.shape
    rows, cols = blocks
    edges = [-math.pi + 2 * math.pi * k / bins for k in range(bins + 1)]
    histogram = np.zeros((rows * cols, bins))
    strain_sum = np.zeros(rows * cols)
    count = np.zeros(rows * cols)
    for y in range(H):
        for x in range(W):
            block = math.floor(y * rows / H) * cols + math.floor(x * cols / W)
            theta = math.atan2(v[y, x], u[y, x])
            if theta >= math.pi:
                theta = -math.pi
            k = next(k for k in range(bins) if edges[k] <= theta < edges[k + 1])
            histogram[block, k] += math.hypot(u[y, x], v[y, x])
            strain_sum[block] += strain[y, x]
            count[block] += 1
    out = []
    for b in range(rows * cols):
        total = histogram[b].sum()
        normalised = histogram[b] / total if total > 0 else np.zeros(bins)
        out.extend(normalised * (strain_sum[b] / count[b]))
    return np.array(out)


def block_strain(shape, blocks, values):
    """A strain field constant on each block (blocks split as floor(y * rows / H), floor(x * cols / W))."""
    H, W = shape
    rows, cols = blocks
    ids = np.add.outer((np.arange(H) * rows // H) * cols, np.arange(W) * cols // W)
    return np.asarray(values, dtype=np.float64)[ids]


# --------------------------------------------------------------------------- hand-made flows


@pytest.mark.parametrize("bins", [8, 4, 6])
def test_uniform_rightward_flow_fills_the_bin_of_angle_zero(bins):
    shape, blocks = (20, 30), (2, 3)
    strains = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    features = bi_woof(
        np.full(shape, 1.5), np.zeros(shape), block_strain(shape, blocks, strains), blocks=blocks, bins=bins
    )
    assert features.shape == (6 * bins,) and features.dtype == np.float64
    expected = np.zeros((6, bins))
    expected[:, bins // 2] = strains  # bin k = [-pi + 2 pi k / bins, ...): angle 0 opens bin bins / 2
    np.testing.assert_allclose(features.reshape(6, bins), expected, rtol=1e-13)  # mean strain: sum / count


@pytest.mark.parametrize(
    "u, v, expected_bin",
    [(1.0, 0.0, 4), (0.0, 1.0, 6), (0.0, -1.0, 2), (-1.0, 0.0, 0), (-1.0, 1e-9, 7), (-1.0, -1e-9, 0), (1.0, 1.0, 5)],
)
def test_orientation_bins(u, v, expected_bin):
    # 8 bins of pi/4 from -pi; v grows downwards: (0, 1) is downward motion, theta = pi/2, bin 6;
    # leftward motion has theta = pi, taken as -pi (bin 0)
    features = bi_woof(np.full((4, 4), u), np.full((4, 4), v), np.ones((4, 4)), blocks=(1, 1), bins=8)
    expected = np.zeros(8)
    expected[expected_bin] = 1.0
    np.testing.assert_array_equal(features, expected)


def test_block_without_motion_gives_zeros():
    shape, blocks = (10, 10), (2, 2)
    u = np.ones(shape)
    u[:5, :5] = 0.0  # block (0, 0) does not move
    features = bi_woof(u, np.zeros(shape), np.full(shape, 0.7), blocks=blocks, bins=8).reshape(4, 8)
    np.testing.assert_array_equal(features[0], 0.0)
    np.testing.assert_allclose(features[1:, 4], 0.7)


def test_blocks_with_different_strain_weigh_in_ratio():
    shape, blocks = (12, 12), (1, 2)
    rng = np.random.default_rng(0)
    u, v = rng.normal(size=shape), rng.normal(size=shape)
    u[:, 6:], v[:, 6:] = u[:, :6], v[:, :6]  # the same flow in both blocks
    features = bi_woof(u, v, block_strain(shape, blocks, [0.5, 1.5]), blocks=blocks, bins=8).reshape(2, 8)
    np.testing.assert_allclose(features[1], 3.0 * features[0], rtol=1e-14)
    assert features[0].sum() == pytest.approx(0.5)  # normalised to sum 1, times the mean strain


def test_local_weight_is_the_magnitude():
    shape = (4, 4)
    u, v = np.zeros(shape), np.zeros(shape)
    u[:2] = 1.0  # half the pixels move right by 1
    v[2:] = 3.0  # the other half down by 3
    features = bi_woof(u, v, np.full(shape, 2.0), blocks=(1, 1), bins=8)
    np.testing.assert_allclose(features, [0, 0, 0, 0, 2 * 0.25, 0, 2 * 0.75, 0])


def test_uneven_blocks_split_as_the_texture_descriptors():
    # 7 rows in 3 block rows: floor(y * 3 / 7) puts rows 0-2 in block 0, 3-4 in block 1, 5-6 in block 2
    u = np.zeros((7, 5))
    u[3] = 1.0
    features = bi_woof(u, np.zeros((7, 5)), np.ones((7, 5)), blocks=(3, 1), bins=4).reshape(3, 4)
    np.testing.assert_array_equal(features.sum(axis=1), [0.0, 1.0, 0.0])
    u[5] = 1.0
    u[3] = 0.0
    features = bi_woof(u, np.zeros((7, 5)), np.ones((7, 5)), blocks=(3, 1), bins=4).reshape(3, 4)
    np.testing.assert_array_equal(features.sum(axis=1), [0.0, 0.0, 1.0])


@pytest.mark.parametrize("shape, blocks, bins", [((23, 17), (5, 4), 8), ((16, 16), (5, 5), 6), ((9, 30), (1, 7), 12)])
def test_matches_the_loop_reference_on_random_flows(shape, blocks, bins):
    rng = np.random.default_rng(sum(shape) + bins)
    u, v = rng.normal(size=shape), rng.normal(size=shape)
    strain = rng.uniform(0, 2, size=shape)
    u[: shape[0] // 3, : shape[1] // 3] = 0.0  # some still pixels (a still block for some grids)
    v[: shape[0] // 3, : shape[1] // 3] = 0.0
    expected = bi_woof_reference(u, v, strain, blocks, bins)
    np.testing.assert_allclose(bi_woof(u, v, strain, blocks=blocks, bins=bins), expected, rtol=1e-12, atol=1e-15)
    # float32 input, as in the flow stage's file
    u32, v32, s32 = u.astype(np.float32), v.astype(np.float32), strain.astype(np.float32)
    np.testing.assert_allclose(
        bi_woof(u32, v32, s32, blocks=blocks, bins=bins),
        bi_woof_reference(u32.astype(float), v32.astype(float), s32.astype(float), blocks, bins),
        rtol=1e-12,
        atol=1e-15,
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"blocks": (6, 1)}, r"blocks \(6, 1\) \(rows, cols\) larger than the frame \(5 rows, 4 cols\)"),
        ({"blocks": (2,)}, "blocks must be"),
        ({"blocks": (2, 0)}, "blocks must be"),
        ({"bins": 0}, "bins must be an integer >= 1"),
        ({"bins": 2.0}, "bins must be an integer >= 1"),
    ],
)
def test_bi_woof_rejects_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bi_woof(np.zeros((5, 4)), np.zeros((5, 4)), np.zeros((5, 4)), **{"blocks": (1, 1), **kwargs})


def test_bi_woof_rejects_bad_arrays():
    with pytest.raises(ValueError, match="differ in size"):
        bi_woof(np.zeros((5, 4)), np.zeros((5, 4)), np.zeros((4, 4)), blocks=(1, 1))
    with pytest.raises(ValueError, match="v holds NaN"):
        bi_woof(np.zeros((5, 4)), np.full((5, 4), np.nan), np.zeros((5, 4)), blocks=(1, 1))
    with pytest.raises(ValueError, match="strain must be 2-D"):
        bi_woof(np.zeros((5, 4)), np.zeros((5, 4)), np.zeros((1, 5, 4)), blocks=(1, 1))


# --------------------------------------------------------------------------- the features file


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """The tiny set of test_flow, its flow file (TV-L1, annotated apex) and its Bi-WOOF features."""
    root = tmp_path_factory.mktemp("biwoof")
    set_dir, manifest = write_set(root)
    flow = extract_flow_set(set_dir, manifest, output=root / "flow" / "HR" / "tvl1.npz")
    features = extract_biwoof_set(flow, params={"blocks": [4, 4], "bins": 8}, output=root / "features" / "bi_woof.npz")
    return root, set_dir, manifest, flow, features


def test_features_file_has_the_features_stage_format(toy):
    root, set_dir, manifest, flow, features = toy
    reference = extract_set(set_dir, manifest, descriptor="lbp_top", output=root / "features" / "lbp_top.npz")
    with np.load(features, allow_pickle=False) as ours, np.load(reference, allow_pickle=False) as theirs:
        assert sorted(ours.files) == sorted(theirs.files)
        for name in ours.files:
            assert ours[name].dtype.kind == theirs[name].dtype.kind, name
            if name != "features":
                assert ours[name].shape == theirs[name].shape, name
            if name not in ("features", "params"):
                np.testing.assert_array_equal(ours[name], theirs[name])
        assert ours["features"].dtype == np.float64 and ours["features"].shape == (12, 4 * 4 * 8)
        params = json.loads(str(ours["params"]))
    assert params["descriptor"] == "bi_woof" and params["params"] == {"blocks": [4, 4], "bins": 8}
    assert params["temporal"] is None and params["flow"]["method"] == "tvl1" and params["flow"]["apex"] == "annotated"
    with np.load(flow) as data:
        expected = [bi_woof(u, v, s, blocks=(4, 4), bins=8) for u, v, s in zip(data["u"], data["v"], data["strain"])]
    with np.load(features) as data:
        np.testing.assert_array_equal(data["features"], np.stack(expected))


def test_features_separate_the_two_motions(toy):
    *_, features = toy
    with np.load(features) as data:
        histograms = data["features"].reshape(12, 16, 8).sum(axis=1)
        labels = data["label"]
    # rightward motion (negative, angle 0) sits on the edge of bins 3 and 4, downward motion (positive,
    # angle pi/2) on the edge of bins 5 and 6: the estimated flow's small deviations split them
    for histogram, label in zip(histograms, labels):
        pair = [3, 4] if label == "negative" else [5, 6]
        assert histogram[pair].sum() > 0.9 * histogram.sum()


def test_loso_svm_runs_on_the_features_file(toy, tmp_path):
    *_, features = toy
    metrics = evaluate_features(features, tmp_path / "eval", labels=("negative", "positive"), bootstrap=0)
    assert metrics["n_subjects"] == 3
    assert metrics["features_params"]["descriptor"] == "bi_woof"
    assert metrics["accuracy"] == 1.0
    assert (tmp_path / "eval" / "predictions.tsv").exists()


def test_extract_biwoof_set_errors(toy, tmp_path):
    *_, flow, _ = toy
    output = tmp_path / "f.npz"
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['radius'\] for bi_woof"):
        extract_biwoof_set(flow, params={"radius": 1}, output=output)
    with pytest.raises(ValueError, match=r"clip s1_negative_0: blocks \(50, 1\)"):
        extract_biwoof_set(flow, params={"blocks": [50, 1]}, output=output)
    with np.load(flow) as data:
        arrays = {name: data[name] for name in data.files if name != "strain"}
    broken = tmp_path / "broken.npz"
    np.savez(broken, **arrays)
    with pytest.raises(ValueError, match=r"broken.npz: missing array\(s\) \['strain'\]"):
        extract_biwoof_set(broken, output=output)
    (tmp_path / "text.npz").write_text("not an archive")
    with pytest.raises(ValueError, match="text.npz: cannot read flow file"):
        extract_biwoof_set(tmp_path / "text.npz", output=output)
    assert not output.exists()
