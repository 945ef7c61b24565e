"""The CAS(ME)^3 part A adapter (mesr.data.casme3) read on its synthetic twin (mesr.data.synthetic_casme3)."""

import re
import shutil

import cv2
import numpy as np
import openpyxl
import pandas as pd
import pytest
from smic_trees import tree_digest

from mesr.data import casme3, datasets
from mesr.data.casme3 import find_root, scan
from mesr.data.datasets import list_frames
from mesr.data.synthetic import generate
from mesr.data.synthetic_casme3 import COLUMNS, SHEET_FILE, SUBJECTS_FOLDER, TOP, _demo_clips, write_casme3

SHEET = SHEET_FILE
ESCAPED = re.escape(SHEET)
# The mini preset's clips in sheet order, and in (subject, clip id) natural order.
SHEET_IDS = [
    "spNO.1_a_5",
    "spNO.1_e_62",
    "spNO.1_e_95",
    "spNO.1_J_4",
    "spNO.2_b_4",
    "spNO.2_c_7",
    "spNO.2_f_8",
    "spNO.2_m_7",
    "spNO.10_a_8",
    "spNO.10_d_6",
    "spNO.10_g_6",
    "spNO.10_k_6",
    "spNO.216_b_9",
    "spNO.216_e_5",
    "spNO.216_h_9",
    "spNO.216_l_7",
]
MINI_IDS = ["spNO.1_J_4", "spNO.1_a_5"] + SHEET_IDS[1:3] + SHEET_IDS[4:]
SUBJECTS = ["spNO.1", "spNO.2", "spNO.10", "spNO.216"]
OFFSET_ZERO, APEX_BEFORE, MISSING, OTHERS = "spNO.2_m_7", "spNO.10_d_6", "spNO.2_c_7", ("spNO.1_J_4", "spNO.2_f_8")


@pytest.fixture(scope="session")
def pristine(tmp_path_factory):
    """The mini twin, written once; tests that change it work on a copy (``tree``)."""
    root = tmp_path_factory.mktemp("casme3") / "twin"
    assert write_casme3(root, preset="mini", seed=0) == SHEET_IDS
    return root / TOP


@pytest.fixture
def tree(pristine, tmp_path):
    """A copy of the mini twin's root that the test may change."""
    return shutil.copytree(pristine, tmp_path / TOP)


def sheet_rows(root):
    """Clip id -> (Excel row, {column: cell value}), read with openpyxl, independent of the adapter."""
    sheet = openpyxl.load_workbook(root / SHEET)["label"]
    assert [c.value for c in sheet[1]] == list(COLUMNS)
    rows = {}
    for row in range(2, sheet.max_row + 1):
        values = {name: sheet.cell(row, col).value for col, name in enumerate(COLUMNS, 1)}
        rows[f"{values['Subject']}_{values['Filename']}_{values['Onset']}"] = (row, values)
    return rows


def edit_sheet(root, clip_id, **cells):
    """Overwrite cells of one clip's row (column name -> value)."""
    row = sheet_rows(root)[clip_id][0]
    book = openpyxl.load_workbook(root / SHEET)
    for name, value in cells.items():
        book["label"].cell(row, COLUMNS.index(name) + 1).value = value
    book.save(root / SHEET)
    return row


def by_id(records):
    return {r.clip_id: r for r in records}


def video(root, subject, filename):
    return root / SUBJECTS_FOLDER / subject / filename


def on_disk(folder):
    return sorted(int(p.stem) for p in folder.glob("*.jpg"))


def test_records_hold_the_sheet_and_the_frames_onset_to_offset(pristine):
    records, gaps = scan(pristine)
    assert [r.clip_id for r in records] == MINI_IDS
    assert gaps == []
    rows = sheet_rows(pristine)
    assert sorted(rows) == sorted(SHEET_IDS)
    for record in records:
        _, values = rows[record.clip_id]
        assert record.dataset == "casme3_a"
        assert record.subject == values["Subject"] == record.clip_id.rsplit("_", 2)[0]
        assert record.emotion == values["emotion"].lower()
        assert record.onset == int(values["Onset"]) and record.apex == int(values["Apex"])
        assert record.offset == int(values["Offset"])
        assert record.path == video(pristine, record.subject, values["Filename"]) / "color"
        if record.clip_id == OFFSET_ZERO:
            continue
        assert record.problem is None
        absent = [9] if record.clip_id == MISSING else []
        assert record.frames == tuple(n for n in range(record.onset, record.offset + 1) if n not in absent)
        assert [p.name for p in record.frame_paths] == [f"{n}.jpg" for n in record.frames]
        assert all(p.parent == record.path for p in record.frame_paths)
        if record.clip_id != APEX_BEFORE:
            assert record.onset <= record.apex <= record.offset and record.notes == ()


def test_literal_fields_of_a_few_records(pristine):
    records = by_id(scan(pristine)[0])
    first = records["spNO.1_e_62"]
    assert (first.subject, first.emotion, first.onset, first.apex, first.offset) == ("spNO.1", "happy", 62, 71, 74)
    assert first.path == pristine / "part_A" / "data" / "part_A" / "spNO.1" / "e" / "color"
    assert first.frame_paths[0].name == "62.jpg" and first.frame_paths[-1].name == "74.jpg"
    late = records["spNO.216_l_7"]
    assert (late.subject, late.emotion, late.onset, late.apex, late.offset) == ("spNO.216", "anger", 7, 12, 19)
    assert records["spNO.1_J_4"].path.parent.name == "J"
    assert {r.emotion for r in records.values()} == set(casme3.EMOTIONS)


def test_subjects_in_natural_order(pristine):
    records = scan(pristine)[0]
    assert list(dict.fromkeys(r.subject for r in records)) == SUBJECTS  # spNO.2 before spNO.10, not by string
    assert sorted(SUBJECTS) != SUBJECTS
    assert sorted(p.name for p in (pristine / SUBJECTS_FOLDER).iterdir()) == sorted(SUBJECTS)


def test_a_video_holds_two_clips_and_more_frames(pristine):
    records = by_id(scan(pristine)[0])
    first, second = records["spNO.1_e_62"], records["spNO.1_e_95"]
    assert first.path == second.path  # one stimulus video, one color/ folder
    frames = on_disk(first.path)
    assert frames == list(range(1, frames[-1] + 1)) and frames[-1] > second.offset  # the whole video
    assert first.frames == tuple(range(62, 75)) and second.frames == tuple(range(95, 105))
    assert second.frame_paths[4].name == "99.jpg" and second.frame_paths[5].name == "100.jpg"
    assert sorted(p.name for p in second.frame_paths) != [p.name for p in second.frame_paths]  # not by string
    for record in records.values():  # every video holds frames before and after its clips
        if record.frames:
            assert on_disk(record.path)[0] < record.onset and on_disk(record.path)[-1] > record.offset


def test_the_face_rests_before_the_clips_and_moves_inside(pristine):
    def moving(folder, numbers, reference):
        """Per frame, the pixels more than 20 grey levels away from the reference frame's."""
        frames = [cv2.imread(str(folder / f"{n}.jpg"), cv2.IMREAD_GRAYSCALE) for n in numbers]
        still = cv2.imread(str(folder / f"{reference}.jpg"), cv2.IMREAD_GRAYSCALE).astype(np.int16)
        return [int((np.abs(f.astype(np.int16) - still) > 20).sum()) for f in frames]

    for record in scan(pristine)[0]:
        if not record.frames:
            continue
        assert max(moving(record.path, record.frames, record.onset)) > 200, record.clip_id
        if record.clip_id != "spNO.1_e_95":  # the first clip of its video: the face at rest before it
            rest = [n for n in range(1, record.onset) if (record.path / f"{n}.jpg").is_file()]
            assert len(rest) >= 3 and max(moving(record.path, rest, record.onset)) == 0, record.clip_id


def test_a_frame_absent_from_the_video_is_missing_from_the_clip(pristine):
    record = by_id(scan(pristine)[0])[MISSING]
    assert (record.onset, record.offset) == (7, 18) and record.problem is None
    assert 9 not in on_disk(record.path) and record.missing_frames == [9]
    assert record.frames == (7, 8) + tuple(range(10, 19))


def test_offset_zero_is_a_bad_clip_never_repaired(pristine):
    record = by_id(scan(pristine)[0])[OFFSET_ZERO]
    assert sheet_rows(pristine)[OFFSET_ZERO][1]["Offset"] == "0"
    assert record.problem == f"{SHEET} row 9: offset 0"
    assert record.frames == () and record.offset == 0 and record.emotion == "happy"


def test_an_apex_before_the_onset_is_kept_with_a_note(pristine):
    record = by_id(scan(pristine)[0])[APEX_BEFORE]
    assert (record.onset, record.apex, record.offset) == (6, 4, 16) and record.problem is None
    assert record.notes == ("apex 4 outside onset..offset 6..16",)
    assert record.frames == tuple(range(6, 17))


def test_others_in_either_case_is_read(pristine):
    rows = sheet_rows(pristine)
    records = by_id(scan(pristine)[0])
    assert [rows[clip_id][1]["emotion"] for clip_id in OTHERS] == ["Others", "others"]
    assert [records[clip_id].emotion for clip_id in OTHERS] == ["others", "others"]


def test_depth_frames_are_ignored(pristine):
    record = by_id(scan(pristine)[0])["spNO.1_e_62"]
    depth = record.path.parent / "depth"
    assert sorted(p.name for p in depth.iterdir()) == ["62.png", "63.png"]  # numbered inside the clip
    assert all(p.parent.name == "color" and p.suffix == ".jpg" for p in record.frame_paths)
    assert list_frames(depth, casme3.frame_pattern()) == []


def test_numbers_stored_as_text_are_parsed(pristine):
    rows = sheet_rows(pristine)
    records = by_id(scan(pristine)[0])
    assert rows["spNO.1_e_62"][1]["Onset"] == "62" and records["spNO.1_e_62"].onset == 62
    assert rows["spNO.1_e_62"][1]["Apex"] == "71" and rows["spNO.1_e_62"][1]["Offset"] == "74"
    assert rows["spNO.1_e_95"][1]["Onset"] == 95 and records["spNO.1_e_95"].onset == 95  # a few are numbers
    texts = sum(isinstance(values["Onset"], str) for _, values in rows.values())
    assert texts == 13
    for record in records.values():
        assert all(type(v) is int for v in (record.onset, record.apex, record.offset) + record.frames)


def test_frame_pattern_finds_the_frames_of_the_video(pristine):
    record = by_id(scan(pristine)[0])["spNO.1_e_95"]
    listed = list_frames(record.path, casme3.frame_pattern(variant="full"))
    assert [n for n, _ in listed] == on_disk(record.path)
    assert [p for n, p in listed if record.onset <= n <= record.offset] == list(record.frame_paths)


def test_unknown_variant_lists_the_valid_ones(pristine):
    with pytest.raises(ValueError, match=r"variant must be one of 'full', got 'cropped'"):
        scan(pristine, variant="cropped")
    with pytest.raises(ValueError, match=r"variant must be one of 'full', got 'cropped'"):
        casme3.frame_pattern(variant="cropped")
    assert casme3.FULL_FRAME == {"full": True} and casme3.FPS == 30


def test_a_video_or_subject_not_in_the_sheet_is_a_gap(tree):
    subjects = tree / SUBJECTS_FOLDER
    shutil.copytree(subjects / "spNO.10" / "a", subjects / "spNO.10" / "z")
    shutil.copytree(subjects / "spNO.2" / "b", subjects / "spNO.300" / "b")
    (subjects / "spNO.10" / "Thumbs.db").write_bytes(b"\x00")  # a file, not a video folder
    records, gaps = scan(tree)
    assert [r.clip_id for r in records] == MINI_IDS
    assert gaps == [
        ("unlisted_clip", "spNO.10_z", f"{subjects / 'spNO.10' / 'z'} is not in {SHEET}"),
        ("unlisted_clip", "spNO.300_b", f"{subjects / 'spNO.300' / 'b'} is not in {SHEET}"),
    ]


def test_a_clip_in_the_sheet_but_not_on_disk_is_a_bad_record(tree):
    path = video(tree, "spNO.216", "h")
    shutil.rmtree(path / "color")
    record = by_id(scan(tree)[0])["spNO.216_h_9"]
    assert record.problem == f"in {SHEET} row 16 but not on disk: {path / 'color'}"
    assert record.frames == () and record.emotion == "surprise"


def test_the_upper_case_filename_finds_a_lower_case_folder(tree):
    upper = video(tree, "spNO.1", "J")
    upper.rename(upper.with_name("j"))
    records, gaps = scan(tree)
    record = by_id(records)["spNO.1_J_4"]
    assert record.path == video(tree, "spNO.1", "j") / "color" and record.problem is None
    assert gaps == []


@pytest.mark.parametrize("between", ["", "data", "data/part_A"])
def test_subject_folders_are_found_below_part_a(tree, between):
    moved = tree / "part_A" / "moved"
    shutil.move(tree / SUBJECTS_FOLDER, moved)
    shutil.rmtree(tree / "part_A" / "data")
    target = tree / "part_A" / between
    target.mkdir(parents=True, exist_ok=True)
    for subject in moved.iterdir():
        shutil.move(subject, target / subject.name)
    moved.rmdir()
    records = scan(tree)[0]
    assert [r.clip_id for r in records] == MINI_IDS
    assert records[0].path.parent.parent.parent == target


def test_subject_folders_in_two_places_are_refused(tree):
    shutil.copytree(tree / SUBJECTS_FOLDER / "spNO.2", tree / "part_A" / "copy" / "spNO.2")
    with pytest.raises(ValueError, match=r"part_A: subject folders spNO.\{k\} found in 2 places: .*copy"):
        scan(tree)


def test_no_subject_folder_is_refused(tree):
    shutil.rmtree(tree / "part_A" / "data")
    (tree / "part_A" / "data").mkdir()
    with pytest.raises(ValueError, match=r"part_A: no subject folder spNO.\{k\} found in it or up to 2 levels"):
        scan(tree)


def test_a_sheet_without_a_required_column_is_refused(tree):
    book = openpyxl.load_workbook(tree / SHEET)
    book["label"].cell(1, COLUMNS.index("emotion") + 1).value = "Emotion label"
    book["label"].cell(1, COLUMNS.index("Onset") + 1).value = "OnsetFrame"
    book.save(tree / SHEET)
    with pytest.raises(ValueError, match=rf"{ESCAPED}: missing column\(s\) Onset, emotion;"):
        scan(tree)


def test_an_unknown_emotion_names_the_value_and_the_row(tree):
    edit_sheet(tree, "spNO.10_k_6", emotion="Joy")
    with pytest.raises(ValueError, match=rf"{ESCAPED} row 13: unknown emotion 'Joy' in column 'emotion'"):
        scan(tree)


def test_a_clip_listed_twice_is_refused(tree):
    edit_sheet(tree, "spNO.1_e_95", Onset=62)
    with pytest.raises(ValueError, match=rf"{ESCAPED}: rows 3 and 4 both list spNO.1/e onset 62"):
        scan(tree)


def test_a_subject_that_names_no_subject_folder_is_refused(tree):
    edit_sheet(tree, "spNO.2_b_4", Subject=2)
    with pytest.raises(ValueError, match=rf"{ESCAPED} row 6: Subject must be a subject folder spNO.\{{k\}}, got 2"):
        scan(tree)


def test_find_root_through_a_doubled_top_folder(tree, tmp_path):
    assert find_root(tree) == tree
    assert find_root(tree.parent) == tree
    doubled = tmp_path / "unzipped" / TOP / TOP
    doubled.parent.mkdir(parents=True)
    shutil.move(tree, doubled)
    assert find_root(tmp_path / "unzipped") == doubled
    assert [r.clip_id for r in scan(find_root(tmp_path / "unzipped"))[0]] == MINI_IDS


def test_find_root_names_the_source_when_nothing_is_there(tmp_path):
    (tmp_path / "empty" / "part_A").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"empty: no CAS\(ME\)\^3 part A found; expected a folder holding cas\(me\)3"):
        find_root(tmp_path / "empty")
    with pytest.raises(ValueError, match="not a folder"):
        find_root(tmp_path / "absent")


def test_twin_sheet_has_the_real_layout(pristine):
    book = openpyxl.load_workbook(pristine / SHEET)
    assert book.sheetnames == ["label"]
    assert [c.value for c in book["label"][1]] == list(COLUMNS) and COLUMNS[-1] == "emotion"
    filenames = {values["Filename"] for _, values in sheet_rows(pristine).values()}
    assert "J" in filenames and all(len(f) == 1 for f in filenames)


def test_same_seed_same_bytes_other_seed_differs(pristine, tmp_path):
    assert generate(tmp_path / "again", dataset="casme3_a", preset="mini", seed=0) == SHEET_IDS
    assert tree_digest(tmp_path / "again" / TOP) == tree_digest(pristine)
    write_casme3(tmp_path / "other", preset="mini", seed=1)
    assert tree_digest(tmp_path / "other" / TOP) != tree_digest(pristine)


def test_demo_plan_has_eight_subjects_of_six_clips():
    clips = _demo_clips(0)
    assert len(clips) == 48 and len({s for s, _, _, _ in clips}) == 8
    videos = [(s, f) for s, f, _, _ in clips]
    assert all(videos.count((s, f)) <= 2 for s, f in videos) and len(set(videos)) == 40  # one video of two each
    emotions = [e for _, _, e, _ in clips]
    assert emotions.count("Others") + emotions.count("others") == 8 and {"Others", "others"} <= set(emotions)
    assert {e.lower() for e in emotions} == set(casme3.EMOTIONS)
    assert _demo_clips(0) == clips and _demo_clips(1) != clips


@pytest.mark.parametrize("kwargs, match", [({"preset": "big"}, "preset must be one of"), ({"seed": -1}, "seed")])
def test_write_casme3_refuses_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        write_casme3(tmp_path / "x", **kwargs)


def test_build_manifest_reads_the_twin(pristine, tmp_path):
    source = pristine.parent
    manifest = datasets.build_manifest(
        source, tmp_path / "manifest.tsv", tmp_path / "gaps.tsv", dataset="casme3_a", on_bad_clip="skip"
    )
    assert list(manifest.clip_id) == [c for c in MINI_IDS if c not in (*OTHERS, OFFSET_ZERO)]
    assert list(manifest.subject.unique()) == SUBJECTS
    row = manifest.set_index("clip_id").loc["spNO.1_e_95"]
    assert row.to_dict() == {
        "dataset": "casme3_a",
        "subject": "spNO.1",
        "label": "surprise",
        "emotion": "surprise",
        "n_frames": 10,
        "first_frame": 95,
        "last_frame": 104,
        "onset": 95,
        "apex": 99,
        "offset": 104,
        "height": 480,
        "width": 640,
        "missing_frames": 0,
        "path": f"{TOP}/part_A/data/part_A/spNO.1/e/color",
    }
    assert list(manifest.columns) == datasets.MANIFEST_COLUMNS
    labels = manifest.set_index("clip_id").label
    assert labels["spNO.1_e_62"] == "positive" and labels["spNO.2_c_7"] == "negative"  # happy, sad
    assert labels["spNO.216_l_7"] == "negative" and labels["spNO.10_a_8"] == "negative"  # anger, fear
    missing = manifest.set_index("clip_id").loc[MISSING]
    assert (missing.n_frames, missing.first_frame, missing.last_frame, missing.missing_frames) == (11, 7, 18, 1)
    gaps = pd.read_csv(tmp_path / "gaps.tsv", sep="\t", dtype=str)
    assert sorted(map(tuple, gaps[["kind", "clip_id"]].values)) == sorted(
        [
            ("bad_annotation", APEX_BEFORE),
            ("excluded_label", OTHERS[0]),
            ("excluded_label", OTHERS[1]),
            ("missing_frames", MISSING),
            ("skipped_clip", OFFSET_ZERO),
        ]
    )
    detail = gaps.set_index("clip_id").detail
    assert detail[MISSING] == "9" and detail[OFFSET_ZERO] == f"{SHEET} row 9: offset 0"
    assert detail[OTHERS[0]] == "emotion 'others' is no class of megc3"
    # The frames of a manifest row are its clip, cut from the whole video.
    reread = datasets.read_manifest(tmp_path / "manifest.tsv")
    frames = datasets.clip_frames(source, reread[reread.clip_id == "spNO.1_e_62"].iloc[0], dataset="casme3_a")
    assert [p.name for p in frames] == [f"{n}.jpg" for n in range(62, 75)]


def test_build_manifest_names_the_bad_clip_when_it_fails(pristine, tmp_path):
    with pytest.raises(
        ValueError, match=rf"bad clip {OFFSET_ZERO}: {ESCAPED} row 9: offset 0 \(set dataset.on_bad_clip"
    ):
        datasets.build_manifest(pristine.parent, tmp_path / "m.tsv", tmp_path / "g.tsv", dataset="casme3_a")


def test_native_classes_keep_others(pristine, tmp_path):
    manifest = datasets.build_manifest(
        pristine.parent,
        tmp_path / "m.tsv",
        tmp_path / "g.tsv",
        dataset="casme3_a",
        classes="native",
        on_bad_clip="skip",
    )
    labels = manifest.set_index("clip_id").label
    assert labels[OTHERS[0]] == labels[OTHERS[1]] == "others" and labels["spNO.2_c_7"] == "sad"
    assert datasets.class_labels("casme3_a", "native") == list(casme3.EMOTIONS)


def test_the_face_of_every_clip_is_found_on_its_onset_frame(pristine, tmp_path):
    """Whole videos of full frames: the Haar cascade finds the twin's face in each clip, one region per clip."""
    manifest = datasets.build_manifest(
        pristine.parent,
        tmp_path / "m.tsv",
        tmp_path / "g.tsv",
        tmp_path / "faces.tsv",
        dataset="casme3_a",
        on_bad_clip="skip",
        face_crop="haar",
    )
    gaps = pd.read_csv(tmp_path / "g.tsv", sep="\t", dtype=str)
    assert gaps[gaps.kind == "skipped_clip"].clip_id.tolist() == [OFFSET_ZERO]  # no clip lost for want of a face
    faces = pd.read_csv(tmp_path / "faces.tsv", sep="\t", dtype={"clip_id": str})
    assert faces.clip_id.tolist() == manifest.clip_id.tolist()
    assert faces.height.between(0.5 * 480, 0.8 * 480).all() and (faces.width < 640).all()
