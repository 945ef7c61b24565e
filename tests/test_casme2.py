"""The CASME II adapter (mesr.data.casme2) read on its synthetic twin (mesr.data.synthetic_casme2)."""

import shutil

import cv2
import numpy as np
import openpyxl
import pytest
from smic_trees import tree_digest

from mesr.data import casme2
from mesr.data.casme2 import find_root, scan
from mesr.data.datasets import list_frames
from mesr.data.synthetic_casme2 import COLUMNS, _demo_clips, write_casme2

SHEET = "CASME2-coding-20140508.xlsx"
# The mini preset's clips in (subject, clip id) natural order.
MINI_IDS = [
    "sub01_EP01_2",
    "sub01_EP02_01f",
    "sub01_EP09f",
    "sub01_EP19_05f",
    "sub02_EP02_01f",
    "sub02_EP06_02_01",
    "sub02_EP08_1",
    "sub02_EP13_04",
    "sub03_EP01_2",
    "sub03_EP03_02",
    "sub03_EP07_01",
    "sub03_EP15_03f",
    "sub04_EP05_02",
    "sub04_EP09f",
    "sub04_EP12_01f",
    "sub04_EP16_04f",
]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """The mini twin, written once; tests that change it work on a copy (``tree``)."""
    root = tmp_path_factory.mktemp("casme2") / "twin"
    write_casme2(root, preset="mini", seed=0)
    return root / "CASME2"


@pytest.fixture
def tree(pristine, tmp_path):
    """A copy of the mini twin's CASME2 folder that the test may change."""
    return shutil.copytree(pristine, tmp_path / "CASME2")


def sheet_rows(root):
    """Clip id -> (Excel row, {column: cell value}), read with openpyxl, independent of the adapter."""
    sheet = openpyxl.load_workbook(root / SHEET)["Sheet1"]
    rows = {}
    for row in range(2, sheet.max_row + 1):
        values = {name: sheet.cell(row, col).value for col, name in enumerate(COLUMNS, 1) if name}
        rows[f"sub{int(values['Subject']):02d}_{values['Filename']}"] = (row, values)
    return rows


def edit_sheet(root, clip_id, **cells):
    """Overwrite cells of one clip's row (column name -> value)."""
    row = sheet_rows(root)[clip_id][0]
    book = openpyxl.load_workbook(root / SHEET)
    for name, value in cells.items():
        book["Sheet1"].cell(row, COLUMNS.index(name) + 1).value = value
    book.save(root / SHEET)
    return row


def by_id(records):
    return {r.clip_id: r for r in records}


def test_records_hold_the_sheet_and_the_frames_onset_to_offset(pristine):
    records, gaps = scan(pristine)
    assert [r.clip_id for r in records] == MINI_IDS
    assert gaps == []
    rows = sheet_rows(pristine)
    for record in records:
        _, values = rows[record.clip_id]
        assert record.dataset == "casme2"
        assert record.subject == f"sub{int(values['Subject']):02d}"
        assert record.emotion == values["Estimated Emotion"]
        assert record.onset == int(values["OnsetFrame"]) and record.offset == int(values["OffsetFrame"])
        assert record.path == pristine / "Cropped" / record.subject / values["Filename"]
        assert record.problem is None
        assert record.frames == tuple(range(record.onset, record.offset + 1))
        assert [p.name for p in record.frame_paths] == [f"reg_img{n}.jpg" for n in record.frames]
        assert all(p.parent == record.path for p in record.frame_paths)
        if record.clip_id != "sub04_EP12_01f":
            assert record.apex == int(values["ApexFrame"]) and record.onset <= record.apex <= record.offset
            assert record.notes == ()


def test_frames_cross_a_digit_boundary_and_are_cut_to_the_annotation(pristine):
    record = by_id(scan(pristine)[0])["sub01_EP09f"]
    assert (record.subject, record.emotion, record.onset, record.offset) == ("sub01", "surprise", 95, 104)
    assert record.frames == (95, 96, 97, 98, 99, 100, 101, 102, 103, 104)
    assert record.frame_paths[4].name == "reg_img99.jpg" and record.frame_paths[5].name == "reg_img100.jpg"
    on_disk = sorted(int(p.stem[7:]) for p in record.path.glob("reg_img*.jpg"))
    assert on_disk == list(range(93, 107))  # two frames either side are on disk, outside onset..offset


def test_frames_beyond_the_interval_are_left_out(pristine):
    record = by_id(scan(pristine)[0])["sub02_EP08_1"]
    on_disk = sorted(int(p.stem[7:]) for p in record.path.glob("reg_img*.jpg"))
    assert on_disk == list(range(record.onset - 2, record.offset + 4))
    assert record.frames == tuple(range(record.onset, record.offset + 1))


def test_apex_slash_is_kept_as_missing_with_a_note(pristine):
    record = by_id(scan(pristine)[0])["sub04_EP12_01f"]
    assert sheet_rows(pristine)["sub04_EP12_01f"][1]["ApexFrame"] == "/"
    assert record.apex is None
    assert record.notes == ("apex '/' (missing)",)
    assert record.problem is None and record.emotion == "repression" and len(record.frames) > 0


def test_numbers_stored_as_text_are_parsed(pristine):
    rows = sheet_rows(pristine)
    records = by_id(scan(pristine)[0])
    assert rows["sub01_EP02_01f"][1]["OnsetFrame"] == str(records["sub01_EP02_01f"].onset)
    assert rows["sub01_EP19_05f"][1]["ApexFrame"] == str(records["sub01_EP19_05f"].apex)
    assert rows["sub03_EP03_02"][1]["OffsetFrame"] == str(records["sub03_EP03_02"].offset)
    assert rows["sub02_EP02_01f"][1]["Subject"] == "2" and records["sub02_EP02_01f"].subject == "sub02"
    for record in records.values():
        assert all(type(v) is int for v in (record.onset, record.offset) + record.frames)


def test_the_same_filename_under_two_subjects_is_two_clips(pristine):
    records = by_id(scan(pristine)[0])
    first, second = records["sub01_EP02_01f"], records["sub02_EP02_01f"]
    assert (first.subject, first.emotion) == ("sub01", "happiness")
    assert (second.subject, second.emotion) == ("sub02", "disgust")
    assert first.path.name == second.path.name == "EP02_01f" and first.path != second.path
    assert {"sub01_EP01_2", "sub03_EP01_2", "sub02_EP06_02_01", "sub02_EP08_1"} <= set(records)


def test_stray_files_among_the_frames_are_ignored(pristine):
    record = by_id(scan(pristine)[0])["sub01_EP02_01f"]
    assert (record.path / "Desktop - Shortcut.lnk").is_file()
    assert all(p.suffix == ".jpg" for p in record.frame_paths)
    thumbs = by_id(scan(pristine)[0])["sub02_EP06_02_01"]
    assert (thumbs.path / "Thumbs.db").is_file() and len(thumbs.frames) == thumbs.offset - thumbs.onset + 1


def test_raw_variant_reads_img_frames_of_the_same_clips(pristine):
    cropped = by_id(scan(pristine)[0])
    raw, gaps = scan(pristine, variant="raw")
    assert [r.clip_id for r in raw] == MINI_IDS and gaps == []
    assert casme2.FULL_FRAME == {"cropped": False, "raw": True}
    for record in raw:
        assert record.path == pristine / "CASME2_RAW_selected" / record.subject / record.path.name
        assert record.frames == cropped[record.clip_id].frames
        assert [p.name for p in record.frame_paths] == [f"img{n}.jpg" for n in record.frames]
        assert record.problem is None
    assert all(p.suffix == ".jpg" for p in by_id(raw)["sub01_EP02_01f"].frame_paths)
    frame = cv2.imread(str(raw[0].frame_paths[0]))
    face = cv2.imread(str(cropped[raw[0].clip_id].frame_paths[0]))
    assert frame.shape == (480, 640, 3) and face.shape[0] < 240


def test_unknown_variant_lists_the_valid_ones(pristine):
    with pytest.raises(ValueError, match=r"variant must be one of 'cropped', 'raw', got 'full'"):
        scan(pristine, variant="full")
    with pytest.raises(ValueError, match=r"variant must be one of 'cropped', 'raw', got 'full'"):
        casme2.frame_pattern(variant="full")


@pytest.mark.parametrize("variant", ["cropped", "raw"])
def test_frame_pattern_finds_the_frames_of_the_folder(pristine, variant):
    """What the manifest's readers list with frame_pattern is what scan found, before the cut."""
    record = by_id(scan(pristine, variant=variant)[0])["sub01_EP09f"]
    listed = list_frames(record.path, casme2.frame_pattern(variant=variant))
    assert [n for n, _ in listed] == list(range(93, 107))
    assert [p for n, p in listed if record.onset <= n <= record.offset] == list(record.frame_paths)


def test_a_folder_not_in_the_sheet_is_a_gap(tree):
    unlisted = tree / "Cropped" / "sub03" / "EP99_01"
    shutil.copytree(tree / "Cropped" / "sub03" / "EP07_01", unlisted)
    # EP09f is listed for sub01 and sub04, not for sub02: the key is subject and filename.
    other_subject = tree / "Cropped" / "sub02" / "EP09f"
    shutil.copytree(tree / "Cropped" / "sub01" / "EP09f", other_subject)
    records, gaps = scan(tree)
    assert [r.clip_id for r in records] == MINI_IDS
    assert gaps == [
        ("unlisted_clip", "sub02_EP09f", f"{other_subject} is not in {SHEET}"),
        ("unlisted_clip", "sub03_EP99_01", f"{unlisted} is not in {SHEET}"),
    ]


def test_a_clip_in_the_sheet_but_not_on_disk_is_a_bad_record(tree):
    shutil.rmtree(tree / "Cropped" / "sub03" / "EP15_03f")
    record = by_id(scan(tree)[0])["sub03_EP15_03f"]
    path = tree / "Cropped" / "sub03" / "EP15_03f"
    assert record.problem == f"in {SHEET} row 12 but not on disk: {path}"
    assert record.frames == () and record.frame_paths == () and record.emotion == "surprise"


def test_a_clip_without_frames_in_its_interval_is_bad(tree):
    edit_sheet(tree, "sub01_EP01_2", OnsetFrame=1000, ApexFrame=1003, OffsetFrame=1005)
    record = by_id(scan(tree)[0])["sub01_EP01_2"]
    assert record.problem.startswith(f"{record.path}: no reg_img{{n}}.jpg frame in onset..offset 1000..1005")
    assert record.frames == ()


@pytest.mark.parametrize(
    "cells, problem",
    [
        ({"OnsetFrame": "x"}, "onset 'x' is not a frame number"),
        ({"OffsetFrame": None}, "offset blank is not a frame number"),
        ({"OffsetFrame": 0}, "offset 0"),
        ({"OnsetFrame": 300, "OffsetFrame": 280}, "offset 280 before onset 300"),
    ],
)
def test_unusable_intervals_make_a_bad_clip_never_repaired(tree, cells, problem):
    row = edit_sheet(tree, "sub02_EP13_04", **cells)
    record = by_id(scan(tree)[0])["sub02_EP13_04"]
    assert row == 9
    assert record.problem == f"{SHEET} row 9: {problem}"
    assert record.frames == ()


def test_apex_outside_the_interval_is_kept_with_a_note(tree):
    record = by_id(scan(tree)[0])["sub03_EP07_01"]
    edit_sheet(tree, "sub03_EP07_01", ApexFrame=record.offset + 7)
    changed = by_id(scan(tree)[0])["sub03_EP07_01"]
    assert changed.apex == record.offset + 7
    assert changed.notes == (f"apex {record.offset + 7} outside onset..offset {record.onset}..{record.offset}",)
    assert changed.problem is None and changed.frames == record.frames


def test_a_sheet_without_a_required_column_is_refused(tree):
    book = openpyxl.load_workbook(tree / SHEET)
    book["Sheet1"]["D1"] = "Onset"
    book.save(tree / SHEET)
    with pytest.raises(ValueError, match=rf"{SHEET}: missing column\(s\) OnsetFrame;"):
        scan(tree)


def test_an_unknown_emotion_names_the_value_and_the_row(tree):
    edit_sheet(tree, "sub02_EP02_01f", **{"Estimated Emotion": "anger"})
    with pytest.raises(ValueError, match=rf"{SHEET} row 6: unknown emotion 'anger'"):
        scan(tree)


def test_the_newest_sheet_by_name_is_read(tree):
    shutil.copy(tree / SHEET, tree / "CASME2-coding-20990101.xlsx")
    edit_sheet(tree, "sub01_EP01_2", **{"Estimated Emotion": "Sadness"})  # the older sheet: not read
    book = openpyxl.load_workbook(tree / "CASME2-coding-20990101.xlsx")
    book["Sheet1"]["I3"] = "Others"
    book.save(tree / "CASME2-coding-20990101.xlsx")
    assert by_id(scan(tree)[0])["sub01_EP01_2"].emotion == "others"


def test_find_root_through_a_doubled_top_folder(tree, tmp_path):
    assert find_root(tree) == tree
    assert find_root(tree.parent) == tree
    doubled = tmp_path / "unzipped" / "CASME2" / "CASME2"
    doubled.parent.mkdir(parents=True)
    shutil.move(tree, doubled)
    assert find_root(tmp_path / "unzipped") == doubled
    assert [r.clip_id for r in scan(find_root(tmp_path / "unzipped"))[0]] == MINI_IDS


def test_find_root_names_the_source_when_nothing_is_there(tmp_path):
    (tmp_path / "empty" / "Cropped").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"empty: no CASME II found; expected a folder holding CASME2-coding-\*\.xlsx"):
        find_root(tmp_path / "empty")
    with pytest.raises(ValueError, match="not a folder"):
        find_root(tmp_path / "absent")


def test_twin_sheet_has_the_real_columns_and_quirks(pristine):
    sheet = openpyxl.load_workbook(pristine / SHEET)["Sheet1"]
    assert [c.value for c in sheet[1]] == list(COLUMNS)
    assert COLUMNS[2] is None and COLUMNS[6] is None and len(COLUMNS) == 9
    emotions = [values["Estimated Emotion"] for _, values in sheet_rows(pristine).values()]
    assert "others" in emotions and set(emotions) <= set(casme2.EMOTIONS)


def test_same_seed_same_bytes_other_seed_differs(pristine, tmp_path):
    write_casme2(tmp_path / "again", preset="mini", seed=0)
    write_casme2(tmp_path / "other", preset="mini", seed=1)
    assert tree_digest(tmp_path / "again" / "CASME2") == tree_digest(pristine)
    assert tree_digest(tmp_path / "other" / "CASME2") != tree_digest(pristine)


def test_each_clip_moves_between_onset_and_offset(pristine):
    for record in scan(pristine)[0]:
        clip = np.stack([cv2.imread(str(p)) for p in record.frame_paths]).astype(float)
        change = np.percentile(np.abs(clip - clip[0]).reshape(len(clip), -1), 99.9, axis=1)
        assert change.max() > 30, record.clip_id


def test_demo_plan_has_eight_subjects_of_six_clips():
    clips = _demo_clips(0)
    assert len(clips) == 48 and len({(s, f) for s, f, _, _ in clips}) == 48
    assert len({s for s, _, _, _ in clips}) == 8
    emotions = [e for _, _, e, _ in clips]
    assert emotions.count("others") == 8 and {"fear", "sadness"} <= set(emotions)
    filenames = [f for _, f, _, _ in clips]
    assert len(set(filenames)) < len(filenames)  # names recur under several subjects
    assert _demo_clips(0) == clips and _demo_clips(1) != clips


@pytest.mark.parametrize("kwargs, match", [({"preset": "big"}, "preset must be one of"), ({"seed": -1}, "seed")])
def test_write_casme2_refuses_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        write_casme2(tmp_path / "x", **kwargs)
