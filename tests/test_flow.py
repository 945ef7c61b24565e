"""Tests of mesr.flow: known translations, analytic strain fields, apex rules, the flow stage's file."""

import json
import logging

import cv2
import numpy as np
import pandas as pd
import pytest

from mesr.flow import apex_frame, extract_flow_set, flow_parameters, optical_flow, optical_strain

# --------------------------------------------------------------------------- helpers, shared with test_biwoof


def texture(size, seed):
    """A smooth random texture (blurred noise), float64 in 30..220."""
    noise = np.random.default_rng(seed).normal(size=(size, size))
    image = cv2.GaussianBlur(noise, (0, 0), 2.5)
    return 30 + 190 * (image - image.min()) / (image.max() - image.min())


def shifted(image, dx, dy):
    """``image`` moved by (dx, dy) pixels (x right, y down), bicubic, rounded to uint8."""
    matrix = np.float64([[1, 0, dx], [0, 1, dy]])
    moved = cv2.warpAffine(image, matrix, image.shape[::-1], flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    return np.clip(np.rint(moved), 0, 255).astype(np.uint8)


#: Motion amplitude of the synthetic clips per frame: a rise to an apex at index 3 and a fall.
PROFILE = (0.0, 0.5, 1.2, 2.0, 1.2, 0.6)
#: Direction (dx, dy) of each class's motion.
DIRECTIONS = {"negative": (1.0, 0.0), "positive": (0.0, 1.0)}


def moving_clip(direction, seed, *, size=40, profile=PROFILE):
    """(T, size, size, 3) uint8 RGB clip of a texture moving along ``direction`` by ``profile`` pixels."""
    image = texture(size, seed)
    grey = np.stack([shifted(image, a * direction[0], a * direction[1]) for a in profile])
    return np.repeat(grey[..., None], 3, axis=-1)


def write_set(root, *, with_dataset=True, with_apex=True, size=40):
    """A tiny set (3 subjects x 2 classes x 2 clips) and its manifest; returns (set_dir, manifest path).

    Clip frame numbers start at 100 + 10 * k; the annotated apex is index 3
    (frame first + 3), except for clip ``s1_negative_1`` (no apex) and
    ``s2_positive_1`` (apex after the last frame).
    """
    set_dir = root / "sets" / "HR"
    set_dir.mkdir(parents=True)
    rows = []
    for s in range(1, 4):
        for label, direction in DIRECTIONS.items():
            for k in range(2):
                clip_id = f"s{s}_{label}_{k}"
                np.save(
                    set_dir / f"{clip_id}.npy", moving_clip(direction, seed=100 * s + 10 * k + len(label), size=size)
                )
                first = 100 + 10 * k
                apex = first + 3
                if clip_id == "s1_negative_1":
                    apex = None
                elif clip_id == "s2_positive_1":
                    apex = first + 40
                rows.append(
                    {
                        "clip_id": clip_id,
                        "dataset": "toy",
                        "subject": f"s{s}",
                        "label": label,
                        "first_frame": first,
                        "last_frame": first + len(PROFILE) - 1,
                        "onset": first,
                        "apex": apex,
                        "offset": first + len(PROFILE) - 1,
                    }
                )
    table = pd.DataFrame(rows)
    table["apex"] = table["apex"].astype("Int64")
    if not with_dataset:
        table = table.drop(columns="dataset")
    if not with_apex:
        table = table.drop(columns=["onset", "apex", "offset"])
    manifest = root / "manifest.tsv"
    table.to_csv(manifest, sep="\t", index=False)
    return set_dir, manifest


# --------------------------------------------------------------------------- optical flow


@pytest.mark.parametrize("method", ["tvl1", "dis"])
def test_flow_recovers_a_subpixel_translation(method):
    image = texture(64, seed=1)
    first, second = shifted(image, 0, 0), shifted(image, 1.3, -0.7)
    flow = optical_flow(first, second, method=method)
    assert flow.shape == (64, 64, 2) and flow.dtype == np.float32
    interior = flow[12:-12, 12:-12]
    assert abs(np.median(interior[..., 0]) - 1.3) < 0.1
    assert abs(np.median(interior[..., 1]) - (-0.7)) < 0.1
    np.testing.assert_array_equal(flow, optical_flow(first, second, method=method))  # deterministic


def test_flow_parameters_default_and_set():
    defaults = flow_parameters("tvl1")
    assert defaults["lambda"] == 0.15 and defaults["scales_number"] == 5 and defaults["median_filtering"] == 5
    assert flow_parameters("tvl1", {"lambda_": 0.3, "warpings_number": 2}) == {
        **defaults,
        "lambda": 0.3,
        "warpings_number": 2,
    }
    dis = flow_parameters("dis")
    assert dis["preset"] == "medium" and dis["patch_size"] == 8
    assert flow_parameters("dis", {"preset": "ultrafast"})["variational_refinement_iterations"] == 0


def test_flow_parameters_change_the_flow():
    image = texture(48, seed=2)
    first, second = shifted(image, 0, 0), shifted(image, 2.0, 1.0)
    coarse = optical_flow(first, second, method="tvl1", outer_iterations=1, inner_iterations=1)
    assert not np.array_equal(coarse, optical_flow(first, second, method="tvl1"))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"method": "farneback"}, "method must be one of"),
        ({"method": "tvl1", "patch_size": 8}, "unknown tvl1 optical flow parameter 'patch_size'"),
        ({"method": "tvl1", "warpings_number": 0}, "warpings_number must be an integer >= 1"),
        ({"method": "tvl1", "tau": -1.0}, "tau must be > 0"),
        ({"method": "tvl1", "scale_step": 1.5}, "scale_step must be below 1"),
        ({"method": "tvl1", "median_filtering": 2}, "median_filtering must be odd"),
        ({"method": "dis", "patch_size": 64}, r"dis optical flow failed on \(16, 16\) frames"),
        ({"method": "tvl1", "tau": float("nan")}, "tau must be a finite number"),
        ({"method": "dis", "use_spatial_propagation": 1}, "must be true or false"),
        ({"method": "dis", "preset": "slow"}, "dis preset must be one of"),
    ],
)
def test_flow_rejects_bad_options(kwargs, match):
    frame = np.zeros((16, 16), np.uint8)
    with pytest.raises(ValueError, match=match):
        optical_flow(frame, frame, **kwargs)


def test_flow_rejects_bad_frames():
    frame = np.zeros((16, 16), np.uint8)
    with pytest.raises(ValueError, match="first must be a grey uint8 frame"):
        optical_flow(frame.astype(np.float32), frame)
    with pytest.raises(ValueError, match="second must be 2-D"):
        optical_flow(frame, np.zeros((16, 16, 3), np.uint8))
    with pytest.raises(ValueError, match=r"differ in size: \(16, 16\) and \(16, 17\)"):
        optical_flow(frame, np.zeros((16, 17), np.uint8))


# --------------------------------------------------------------------------- optical strain


def grid(rows=9, cols=11):
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float64)
    return y, x


def test_strain_of_a_linear_stretch_is_exact_everywhere():
    y, x = grid()
    a, b = 0.3, -0.2  # e_xx = a, e_yy = b, e_xy = 0
    strain = optical_strain(a * x + 1.0, b * y - 2.0)
    assert strain.dtype == np.float64 and strain.shape == x.shape
    np.testing.assert_allclose(strain, np.hypot(a, b), rtol=1e-14)


def test_strain_of_a_shear():
    y, x = grid()
    c = 0.4  # u = c y: e_xy = c / 2, magnitude sqrt(2 (c/2)^2) = c / sqrt(2)
    np.testing.assert_allclose(optical_strain(c * y, np.zeros_like(y)), c / np.sqrt(2), rtol=1e-14)
    # the symmetric shear u = c y, v = c x has e_xy = c: magnitude c sqrt(2)
    np.testing.assert_allclose(optical_strain(c * y, c * x), c * np.sqrt(2), rtol=1e-14)
    # a rotation u = -w y, v = w x has no strain
    np.testing.assert_allclose(optical_strain(-c * y, c * x), 0.0, atol=1e-15)


def test_strain_of_a_quadratic_field_is_exact_inside():
    # central differences are exact on quadratics inside; the border uses one-sided differences
    y, x = grid()
    u, v = 0.01 * x**2, 0.02 * y**2 + 0.03 * x * y
    e_xx, e_yy, e_xy = 0.02 * x, 0.04 * y + 0.03 * x, 0.5 * (0.0 + 0.03 * y)
    expected = np.sqrt(e_xx**2 + e_yy**2 + 2 * e_xy**2)
    strain = optical_strain(u, v)
    np.testing.assert_allclose(strain[1:-1, 1:-1], expected[1:-1, 1:-1], rtol=1e-12, atol=1e-15)
    # border: np.gradient's one-sided difference, du/dx at x = 0 is u[1] - u[0] = 0.01
    assert strain[4, 0] == pytest.approx(np.sqrt(0.01**2 + (0.04 * 4) ** 2 + 2 * (0.015 * 4) ** 2), rel=1e-12)


def test_strain_rejects_bad_input():
    with pytest.raises(ValueError, match="differ in size"):
        optical_strain(np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="at least 2x2"):
        optical_strain(np.zeros((1, 4)), np.zeros((1, 4)))
    with pytest.raises(ValueError, match="finite"):
        optical_strain(np.full((3, 3), np.nan), np.zeros((3, 3)))


# --------------------------------------------------------------------------- apex


def peaked_clip(apex, n_frames=8, size=40):
    """Grey clip of a texture whose displacement from frame 0 peaks at frame ``apex``."""
    image = texture(size, seed=3)
    amplitude = 2.5 * (1 - np.abs(np.arange(n_frames) - apex) / n_frames) ** 2
    amplitude[0] = 0.0
    return np.stack([shifted(image, 0.8 * a, -0.6 * a) for a in amplitude])


@pytest.mark.parametrize("method", ["tvl1", "dis"])
@pytest.mark.parametrize("apex", [2, 5])
def test_max_flow_finds_the_peak(method, apex):
    assert apex_frame(peaked_clip(apex), mode="max_flow", method=method) == (apex, "max_flow")


def test_annotated_apex_inside_is_used():
    clip = peaked_clip(5)
    assert apex_frame(clip, mode="annotated", annotated=2, method="dis") == (2, "annotated")
    assert apex_frame(clip, mode="annotated", annotated=np.int64(7), method="dis") == (7, "annotated")


@pytest.mark.parametrize("annotated, why", [(None, "no annotated apex"), (8, "outside"), (-1, "outside"), (0, "onset")])
def test_annotated_apex_falls_back_to_max_flow(annotated, why, caplog):
    with caplog.at_level(logging.INFO, logger="mesr.flow"):
        assert apex_frame(peaked_clip(5), mode="annotated", annotated=annotated, method="dis") == (5, "max_flow")
    assert why in caplog.text and "using max_flow" in caplog.text


def test_middle_apex():
    assert apex_frame(np.zeros((7, 8, 8), np.uint8), mode="middle") == (3, "middle")
    assert apex_frame(np.zeros((2, 8, 8), np.uint8), mode="middle") == (1, "middle")


def test_apex_rejects_bad_input():
    with pytest.raises(ValueError, match="has 1 frame"):
        apex_frame(np.zeros((1, 8, 8), np.uint8), mode="middle")
    with pytest.raises(ValueError, match="mode must be one of"):
        apex_frame(np.zeros((3, 8, 8), np.uint8), mode="peak")
    with pytest.raises(ValueError, match="annotated apex must be an integer"):
        apex_frame(np.zeros((3, 8, 8), np.uint8), mode="annotated", annotated=1.5)
    with pytest.raises(ValueError, match="grey_clip must be"):
        apex_frame(np.zeros((3, 8, 8, 3), np.uint8), mode="middle")


# --------------------------------------------------------------------------- the flow stage


def test_extract_flow_set_writes_the_documented_file(tmp_path, caplog):
    set_dir, manifest = write_set(tmp_path)
    output = tmp_path / "flow" / "HR" / "tvl1.npz"
    with caplog.at_level(logging.INFO, logger="mesr.flow"):
        assert extract_flow_set(set_dir, manifest, output=output) == output
    with np.load(output, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    assert set(arrays) == {
        "u",
        "v",
        "strain",
        "clip_id",
        "subject",
        "label",
        "dataset",
        "apex",
        "apex_source",
        "params",
    }
    n = 12
    for name in ("u", "v", "strain"):
        assert arrays[name].shape == (n, 40, 40) and arrays[name].dtype == np.float32
    for name in ("clip_id", "subject", "label", "dataset", "apex_source"):
        assert arrays[name].shape == (n,) and arrays[name].dtype.kind == "U"
    table = pd.read_csv(manifest, sep="\t", dtype=str)
    assert arrays["clip_id"].tolist() == table["clip_id"].tolist()  # manifest order
    assert arrays["subject"].tolist() == table["subject"].tolist()
    assert arrays["label"].tolist() == table["label"].tolist()
    assert arrays["apex"].dtype == np.int64 and arrays["apex"].tolist() == [3] * n
    sources = dict(zip(arrays["clip_id"], arrays["apex_source"]))
    assert sources.pop("s1_negative_1") == "max_flow" and sources.pop("s2_positive_1") == "max_flow"
    assert set(sources.values()) == {"annotated"}
    assert "s2_positive_1" in caplog.text and "outside" in caplog.text
    params = json.loads(str(arrays["params"]))
    assert params == {"method": "tvl1", "apex": "annotated", "apex_search": "dis", "params": flow_parameters("tvl1")}

    for i, label in enumerate(arrays["label"]):
        dx, dy = DIRECTIONS[label]
        centre = (slice(8, -8), slice(8, -8))
        assert np.median(arrays["u"][i][centre]) == pytest.approx(2.0 * dx, abs=0.15)
        assert np.median(arrays["v"][i][centre]) == pytest.approx(2.0 * dy, abs=0.15)
        np.testing.assert_array_equal(
            arrays["strain"][i], optical_strain(arrays["u"][i], arrays["v"][i]).astype(np.float32)
        )


def test_extract_flow_set_without_annotation_or_dataset(tmp_path):
    set_dir, manifest = write_set(tmp_path, with_dataset=False, with_apex=False, size=24)
    output = tmp_path / "flow.npz"
    extract_flow_set(set_dir, manifest, apex="annotated", method="dis", output=output)
    with np.load(output) as data:
        assert "dataset" not in data.files
        assert data["apex_source"].tolist() == ["max_flow"] * 12
        assert data["apex"].tolist() == [3] * 12
    extract_flow_set(set_dir, manifest, apex="middle", method="dis", params={"preset": "fast"}, output=output)
    with np.load(output) as data:
        assert data["apex"].tolist() == [3] * 12 and data["apex_source"].tolist() == ["middle"] * 12
        params = json.loads(str(data["params"]))
        assert params["method"] == "dis" and params["apex"] == "middle" and params["params"]["preset"] == "fast"


def test_extract_flow_set_errors_name_the_clip(tmp_path):
    set_dir, manifest = write_set(tmp_path, size=16)
    output = tmp_path / "flow.npz"
    np.save(set_dir / "s2_negative_0.npy", np.zeros((1, 16, 16, 3), np.uint8))
    with pytest.raises(ValueError, match=r"clip s2_negative_0 \(.*s2_negative_0\.npy\) has 1 frame"):
        extract_flow_set(set_dir, manifest, apex="middle", method="dis", output=output)
    np.save(set_dir / "s2_negative_0.npy", np.zeros((4, 16, 18, 3), np.uint8))
    with pytest.raises(ValueError, match="clip s2_negative_0 .* has 16x18 frames, the set's first clip s1_negative_0"):
        extract_flow_set(set_dir, manifest, apex="middle", method="dis", output=output)
    (set_dir / "s2_negative_0.npy").unlink()
    with pytest.raises(ValueError, match="s2_negative_0.npy: cannot read clip"):
        extract_flow_set(set_dir, manifest, apex="middle", method="dis", output=output)
    with pytest.raises(ValueError, match="apex must be one of"):
        extract_flow_set(set_dir, manifest, apex="first", output=output)
    assert not output.exists()
