import cv2
import numpy as np
import pandas as pd
import pytest
from smic_trees import write_clip, write_tree

from mesr.data import MANIFEST_COLUMNS, build_manifest, list_frames, read_clip, read_manifest
from mesr.data.smic import find_root, frame_pattern

HS_FRAMES = frame_pattern()


def manifest_of(root, tmp_path, **options):
    manifest = build_manifest(root, tmp_path / "manifest.tsv", tmp_path / "gaps.tsv", **options)
    return manifest, pd.read_csv(tmp_path / "gaps.tsv", sep="\t")


def test_frames_sorted_as_integers_across_digit_widths(tmp_path):
    # 9999998 < 9999999 < 10000000 < 10000001 as integers; string order would put 1000... first.
    frames = [9999998, 9999999, 10000000, 10000001, 10000002]
    hs = write_tree(tmp_path / "smic", [(3, "positive", 1, frames)])
    numbers = [n for n, _ in list_frames(hs / "s3" / "micro" / "positive" / "s3_po_01", HS_FRAMES)]
    assert numbers == frames
    clip = read_clip([p for _, p in list_frames(hs / "s3" / "micro" / "positive" / "s3_po_01", HS_FRAMES)])
    assert clip.shape == (5, 30, 24, 3) and clip.dtype == np.uint8
    assert clip[:, 0, 0, 0].tolist() == [1, 2, 3, 4, 5]  # red channel first: RGB order


def test_manifest_columns_order_and_values(tmp_path):
    root = tmp_path / "smic"
    write_tree(
        root,
        [
            (12, "surprise", 1, range(1234567, 1234573)),
            (2, "negative", 1, range(55501, 55509)),
            (2, "negative", 2, range(99990, 100010)),
        ],
    )
    manifest, gaps = manifest_of(root, tmp_path)
    assert list(manifest.columns) == MANIFEST_COLUMNS
    # subject s2 before s12: natural order of the subject folders, then of the clip ids
    assert manifest.clip_id.tolist() == ["s2_ne_01", "s2_ne_02", "s12_sur_01"]
    row = manifest.iloc[1]
    assert (row.dataset, row.subject, row.label, row.emotion) == ("smic_hs", "s2", "negative", "negative")
    assert (row.n_frames, row.first_frame, row.last_frame) == (20, 99990, 100009)
    assert manifest[["onset", "apex", "offset"]].isna().all().all()  # SMIC has no such annotation
    assert (row.height, row.width, row.missing_frames) == (30, 24, 0)
    assert row.path == "SMIC_all_cropped/HS/s2/micro/negative/s2_ne_02"  # relative to the acquired folder
    assert read_manifest(tmp_path / "manifest.tsv").equals(manifest)
    assert gaps.empty


def test_gaps_missing_frames_and_missing_clip_recorded(tmp_path):
    root = tmp_path / "smic"
    hs = write_tree(
        root,
        [
            (18, "surprise", 1, range(100, 110)),
            (18, "surprise", 2, [200, 201, 203, 206, 207]),
            (18, "surprise", 4, range(400, 410)),  # s18_sur_03 is missing, as in some real copies
        ],
    )
    (hs / "s18" / "micro" / "surprise" / "s18_sur_01" / "Thumbs.db").write_bytes(b"\0" * 10)
    (hs / "s18" / "micro" / "surprise" / "s18_sur_01" / "notes.txt").write_text("stray")
    manifest, gaps = manifest_of(root, tmp_path)
    assert manifest.set_index("clip_id").loc["s18_sur_02", "missing_frames"] == 3
    assert manifest.set_index("clip_id").loc["s18_sur_01", "n_frames"] == 10  # stray files ignored
    assert gaps.values.tolist() == [
        ["missing_frames", "s18_sur_02", "202,204-205"],
        ["missing_clip", "s18_sur_03", "absent from its class's numbering"],
    ]


def test_siblings_and_non_micro_ignored(tmp_path):
    root = tmp_path / "smic"
    write_tree(root, [(1, "negative", 1, range(10000, 10006))])
    write_clip(root / "SMIC_all_cropped" / "NIR", 1, "positive", 1, range(5))
    write_clip(root / "SMIC_all_cropped" / "VIS", 1, "positive", 1, range(5))
    non_micro = root / "SMIC_all_cropped" / "HS" / "s1" / "non_micro" / "s1_x"
    non_micro.mkdir(parents=True)
    cv2.imwrite(str(non_micro / "reg_image1.bmp"), np.zeros((4, 4, 3), np.uint8))
    manifest, _ = manifest_of(root, tmp_path)
    assert manifest.clip_id.tolist() == ["s1_ne_01"]


@pytest.mark.parametrize("given", ["root", "cropped", "hs", "doubled"])
def test_root_cropped_hs_or_a_doubled_top_folder_all_accepted(tmp_path, given):
    root = tmp_path / "smic" / "SMIC"  # an archive unzipped into a folder of its own name
    hs = write_tree(root, [(1, "negative", 1, range(10000, 10006))])
    write_clip(root / "SMIC_all_cropped" / "VIS", 1, "positive", 1, range(5))
    folder = {"root": root, "cropped": hs.parent, "hs": hs, "doubled": root.parent}[given]
    assert find_root(folder) == hs
    if given != "hs":
        assert find_root(folder, modality="VIS") == hs.parent / "VIS"


def test_unreadable_bmp_named_in_error(tmp_path):
    root = tmp_path / "smic"
    hs = write_tree(root, [(1, "negative", 1, range(10000, 10006)), (1, "positive", 1, range(20000, 20006))])
    bad = hs / "s1" / "micro" / "positive" / "s1_po_01" / "reg_image20003.bmp"
    bad.write_bytes(bad.read_bytes()[:40])  # truncated
    with pytest.raises(ValueError, match=r"s1_po_01.*reg_image20003\.bmp: cannot decode"):
        manifest_of(root, tmp_path)
    assert not (tmp_path / "manifest.tsv").exists()  # nothing half-written


def test_bad_clip_skipped_when_configured(tmp_path):
    root = tmp_path / "smic"
    hs = write_tree(root, [(1, "negative", 1, range(10000, 10006)), (1, "positive", 1, range(20000, 20006))])
    (hs / "s1" / "micro" / "positive" / "s1_po_01" / "reg_image20002.bmp").write_bytes(b"")
    manifest, gaps = manifest_of(root, tmp_path, on_bad_clip="skip")
    assert manifest.clip_id.tolist() == ["s1_ne_01"]
    assert gaps.kind.tolist() == ["skipped_clip"] and "reg_image20002.bmp" in gaps.detail[0]


def test_frame_of_another_size_named(tmp_path):
    root = tmp_path / "smic"
    hs = write_tree(root, [(1, "negative", 1, range(10000, 10006))])
    cv2.imwrite(
        str(hs / "s1" / "micro" / "negative" / "s1_ne_01" / "reg_image10003.bmp"), np.zeros((9, 9, 3), np.uint8)
    )
    with pytest.raises(ValueError, match=r"reg_image10003\.bmp: frame is 9x9, other frames of the clip are 24x30"):
        manifest_of(root, tmp_path)


def test_greyscale_bmp_read_as_three_equal_channels(tmp_path):
    clip_dir = tmp_path / "clip"
    clip_dir.mkdir()
    grey = np.arange(20, dtype=np.uint8).reshape(4, 5)
    cv2.imwrite(str(clip_dir / "reg_image10000.bmp"), grey)
    clip = read_clip([p for _, p in list_frames(clip_dir, HS_FRAMES)])
    assert clip.shape == (1, 4, 5, 3)
    assert all(np.array_equal(clip[0, ..., c], grey) for c in range(3))


def test_unknown_class_folder_named(tmp_path):
    root = tmp_path / "smic"
    hs = write_tree(root, [(1, "negative", 1, range(10000, 10006))])
    (hs / "s1" / "micro" / "happiness" / "s1_ha_01").mkdir(parents=True)
    with pytest.raises(ValueError, match="unknown class folder 'happiness'"):
        manifest_of(root, tmp_path)


def test_clip_name_not_matching_subject_named(tmp_path):
    root = tmp_path / "smic"
    hs = write_tree(root, [(1, "negative", 1, range(10000, 10006))])
    (hs / "s1" / "micro" / "negative" / "s1_ne_01").rename(hs / "s1" / "micro" / "negative" / "s2_ne_01")
    with pytest.raises(ValueError, match=r"s2_ne_01: clip folder name should be s1_ne_NN"):
        manifest_of(root, tmp_path)


def test_empty_clip_folder_is_a_bad_clip(tmp_path):
    root = tmp_path / "smic"
    hs = write_tree(root, [(1, "negative", 1, range(10000, 10006))])
    (hs / "s1" / "micro" / "negative" / "s1_ne_02").mkdir()
    with pytest.raises(ValueError, match="s1_ne_02: clip folder holds no frame"):
        manifest_of(root, tmp_path)


def test_no_tree_found(tmp_path):
    with pytest.raises(ValueError, match="no SMIC-HS tree found"):
        find_root(tmp_path)
    with pytest.raises(ValueError, match="dataset.name must be one of 'smic_hs', 'smic_vis', 'smic_nir'"):
        build_manifest(tmp_path, tmp_path / "m.tsv", tmp_path / "g.tsv", dataset="smic")


def test_synthetic_mini_manifest(mini_tree, tmp_path):
    manifest, gaps = manifest_of(mini_tree, tmp_path)
    assert len(manifest) == 12 and manifest.subject.nunique() == 4
    assert manifest.groupby("label").size().to_dict() == {"negative": 4, "positive": 4, "surprise": 4}


def test_vis_manifest_and_native_classes(tmp_path):
    from mesr.data import generate

    generate(tmp_path / "vis", dataset="smic_vis", preset="mini", seed=0)
    manifest, gaps = manifest_of(tmp_path / "vis", tmp_path, dataset="smic_vis", classes="native")
    assert len(manifest) == 12 and set(manifest.dataset) == {"smic_vis"}
    assert manifest.subject.tolist()[:3] == ["s1"] * 3 and manifest.path[0].startswith("SMIC_all_cropped/VIS/s1/")
    assert manifest.n_frames.between(9, 13).all() and gaps.empty
    assert gaps.empty
