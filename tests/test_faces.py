"""Face crop of full-frame data (docs/degradation.md#face-crop): detection, regions, the manifest's faces.tsv and HR."""

import shutil

import cv2
import numpy as np
import pandas as pd
import pytest
import skimage.data

from mesr.data import build_manifest, clip_frames, generate, read_clip, read_manifest
from mesr.data.faces import FACE_COLUMNS, crop, face_region, find_face, read_faces
from mesr.data.synthetic import render_clip, subject_appearance
from mesr.degrade import make_hr_set, resize_hr


@pytest.fixture(scope="module")
def samm(tmp_path_factory):
    """The mini SAMM twin: full frames in SAMM/, the official-style crops in SAMM_CROP/."""
    root = tmp_path_factory.mktemp("samm") / "source"
    generate(root, dataset="samm", preset="mini", seed=0)
    return root


def pasted_face(top, left, height, seed=0):
    """A procedural face scaled to ``height`` rows, pasted at (top, left) on a flat grey 480x640 frame."""
    rng = np.random.default_rng(seed)
    face = render_clip(subject_appearance(rng), "positive", 4, rng)[0]
    width = round(face.shape[1] * height / face.shape[0])
    frame = np.full((480, 640, 3), 128, np.uint8)
    frame[top : top + height, left : left + width] = cv2.resize(face, (width, height), interpolation=cv2.INTER_AREA)
    return frame, width


@pytest.mark.parametrize("top, left, height", [(60, 100, 280), (150, 300, 240), (20, 20, 200)])
def test_the_pasted_face_is_found_where_it_is(top, left, height):
    frame, width = pasted_face(top, left, height)
    found_top, found_left, found_height, found_width = find_face(frame)
    assert found_height == found_width  # the cascade's boxes are square
    # the box sits on the face: centre within a tenth of the face's height, size 0.7-1.1 of it
    centre = np.array([top + height / 2, left + width / 2])
    found_centre = np.array([found_top + found_height / 2, found_left + found_width / 2])
    assert np.abs(found_centre - centre).max() < 0.1 * height
    assert 0.7 * height < found_height < 1.1 * height


def test_a_real_face_is_found():
    """scikit-image's astronaut photograph: Eileen Collins's face, left of centre near the top."""
    top, left, height, width = find_face(skimage.data.astronaut())
    assert 40 < top < 90 and 150 < left < 200 and 90 < height < 140


@pytest.mark.parametrize("frame", [np.full((240, 320, 3), 128, np.uint8), np.zeros((480, 640, 3), np.uint8)])
def test_no_face_is_none(frame):
    assert find_face(frame) is None
    assert face_region(frame, method="haar") is None


def test_the_region_is_the_face_enlarged_by_the_margin_and_clipped():
    frame, _ = pasted_face(60, 100, 280)
    top, left, height, width = face_region(frame, method="haar", margin=0)
    assert (top, left, height, width) == find_face(frame)
    grown = face_region(frame, method="haar", margin=0.1)
    grow = round(0.1 * height)
    assert grown == (top - grow, left - grow, height + 2 * grow, width + 2 * grow)
    # a margin past the frame's edges is clipped to the frame
    assert face_region(frame, method="haar", margin=3) == (0, 0, 480, 640)
    assert face_region(frame, method="none") == (0, 0, 480, 640)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"method": "dlib"}, r"preprocess\.face_crop must be one of 'none', 'haar', got 'dlib'"),
        ({"method": "haar", "margin": -0.1}, r"preprocess\.face_margin must be >= 0, got -0\.1"),
    ],
)
def test_face_region_refuses_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        face_region(np.zeros((8, 8, 3), np.uint8), **kwargs)


def test_crop_cuts_the_region_of_every_frame_and_refuses_one_outside():
    frames = np.arange(2 * 6 * 8 * 3, dtype=np.uint8).reshape(2, 6, 8, 3)
    assert np.array_equal(crop(frames, (1, 2, 3, 4)), frames[:, 1:4, 2:6])
    with pytest.raises(ValueError, match=r"face region \(4, 2, 3, 4\) does not lie inside frames of 8x6"):
        crop(frames, (4, 2, 3, 4))


def test_the_manifest_records_one_region_per_clip(samm, tmp_path):
    out = tmp_path / "out"
    manifest = build_manifest(
        samm, out / "m.tsv", out / "g.tsv", out / "faces.tsv", dataset="samm", variant="full", face_crop="haar"
    )
    faces = pd.read_csv(out / "faces.tsv", sep="\t", dtype={"clip_id": str})
    assert list(faces.columns) == FACE_COLUMNS
    assert faces.clip_id.tolist() == manifest.clip_id.tolist()
    # the twin's face fills about 60% of the 480 rows; with the 10% margin the region is about that tall
    assert faces.height.between(0.5 * 480, 0.8 * 480).all() and (manifest.height == 480).all()
    assert ((faces.top >= 0) & (faces.top + faces.height <= 480) & (faces.left + faces.width <= 640)).all()
    # without a face crop, the region is the whole frame
    build_manifest(samm, out / "m.tsv", out / "g.tsv", out / "faces.tsv", dataset="samm", variant="full")
    assert set(read_faces(out / "faces.tsv").values()) == {(0, 0, 480, 640)}


def test_full_frames_without_a_face_crop_are_warned_about(samm, tmp_path, caplog):
    build_manifest(samm, tmp_path / "m.tsv", tmp_path / "g.tsv", dataset="samm", variant="full")
    assert "samm: full frames, and preprocess.face_crop is none" in caplog.text
    caplog.clear()
    build_manifest(samm, tmp_path / "m.tsv", tmp_path / "g.tsv", dataset="samm")  # SAMM_CROP/: face crops
    assert "face_crop" not in caplog.text


def test_face_crops_are_kept_whole(samm, tmp_path):
    """SAMM_CROP/ holds face crops: with face_crop haar, their region is still the whole crop."""
    manifest = build_manifest(
        samm, tmp_path / "m.tsv", tmp_path / "g.tsv", tmp_path / "faces.tsv", dataset="samm", face_crop="haar"
    )
    regions = read_faces(tmp_path / "faces.tsv")
    assert [regions[row.clip_id] for row in manifest.itertuples()] == [
        (0, 0, row.height, row.width) for row in manifest.itertuples()
    ]


def test_a_clip_without_a_face_is_a_bad_clip_named_by_its_onset_frame(samm, tmp_path):
    source = tmp_path / "source"
    shutil.copytree(samm, source)
    build_manifest(source, tmp_path / "m.tsv", tmp_path / "g.tsv", dataset="samm", variant="full")
    row = next(row for row in read_manifest(tmp_path / "m.tsv").itertuples() if row.clip_id == "007_3_1")
    onset_frame = clip_frames(source, row, dataset="samm", variant="full")[0]
    cv2.imwrite(str(onset_frame), np.full((480, 640, 3), 128, np.uint8))  # the subject left the frame
    with pytest.raises(ValueError, match=rf"bad clip 007_3_1: {onset_frame}: no face found on the onset frame"):
        build_manifest(source, tmp_path / "m.tsv", tmp_path / "g.tsv", dataset="samm", variant="full", face_crop="haar")
    manifest = build_manifest(
        source,
        tmp_path / "m.tsv",
        tmp_path / "g.tsv",
        tmp_path / "faces.tsv",
        dataset="samm",
        variant="full",
        face_crop="haar",
        on_bad_clip="skip",
    )
    gaps = pd.read_csv(tmp_path / "g.tsv", sep="\t")
    assert gaps[gaps.kind == "skipped_clip"].clip_id.tolist() == ["007_3_1"]
    assert "007_3_1" not in set(manifest.clip_id) and "007_3_1" not in read_faces(tmp_path / "faces.tsv")


def test_hr_is_the_region_of_every_frame_resized(samm, tmp_path):
    build_manifest(
        samm,
        tmp_path / "m.tsv",
        tmp_path / "g.tsv",
        tmp_path / "faces.tsv",
        dataset="samm",
        variant="full",
        face_crop="haar",
    )
    make_hr_set(
        tmp_path / "m.tsv",
        samm,
        tmp_path / "HR128",
        faces=tmp_path / "faces.tsv",
        dataset="samm",
        options={"variant": "full"},
    )
    regions = read_faces(tmp_path / "faces.tsv")
    row = next(read_manifest(tmp_path / "m.tsv").itertuples())
    frames = read_clip(clip_frames(samm, row, dataset="samm", variant="full"))
    top, left, height, width = regions[row.clip_id]
    expected = resize_hr(frames[:, top : top + height, left : left + width])
    assert np.array_equal(np.load(tmp_path / "HR128" / f"{row.clip_id}.npy"), expected)
    assert (height, width) != frames.shape[1:3]


def test_hr_refuses_faces_that_miss_a_clip(samm, tmp_path):
    build_manifest(samm, tmp_path / "m.tsv", tmp_path / "g.tsv", tmp_path / "faces.tsv", dataset="samm")
    faces = pd.read_csv(tmp_path / "faces.tsv", sep="\t", dtype={"clip_id": str})
    faces.iloc[1:].to_csv(tmp_path / "faces.tsv", sep="\t", index=False)
    with pytest.raises(ValueError, match=r"faces\.tsv: no face region for clip\(s\) 006_1_2 of .*m\.tsv; rebuild"):
        make_hr_set(tmp_path / "m.tsv", samm, tmp_path / "HR128", faces=tmp_path / "faces.tsv", dataset="samm")
    assert not (tmp_path / "HR128").exists()
