"""The SAMM adapter (mesr.data.samm) read on its synthetic twin (mesr.data.synthetic_samm)."""

import shutil

import cv2
import openpyxl
import pytest
from smic_trees import tree_digest

from mesr.data import datasets, samm
from mesr.data.datasets import list_frames
from mesr.data.samm import find_root, scan
from mesr.data.synthetic_samm import COLUMNS, SHEET_FILE, TOP, _demo_clips, write_samm

SHEET = SHEET_FILE
MINI_IDS = [
    "006_1_2",
    "006_1_5",
    "006_3_4",
    "006_5_10",
    "007_3_1",
    "007_5_3",
    "007_6_1",
    "007_7_5",
    "009_2_2",
    "009_3_1",
    "009_3_12",
    "009_6_4",
    "011_1_1",
    "011_2_6",
    "011_4_3",
    "011_6_2",
]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """The mini twin, written once; tests that change it work on a copy (``tree``)."""
    root = tmp_path_factory.mktemp("samm") / "twin"
    assert write_samm(root, preset="mini", seed=0) == MINI_IDS
    return root / TOP


@pytest.fixture
def tree(pristine, tmp_path):
    """A copy of the mini twin's root that the test may change."""
    return shutil.copytree(pristine, tmp_path / TOP)


def sheet_rows(root):
    """Clip id -> (Excel row, {column: cell value}), read with openpyxl, independent of the adapter."""
    sheet = openpyxl.load_workbook(root / SHEET).worksheets[0]
    assert [c.value for c in sheet[14]] == list(COLUMNS)
    rows = {}
    for row in range(15, sheet.max_row + 1):
        values = {name: sheet.cell(row, col).value for col, name in enumerate(COLUMNS, 1)}
        rows[values["Filename"]] = (row, values)
    return rows


def edit_sheet(root, clip_id, **cells):
    """Overwrite cells of one clip's row (column name -> value)."""
    row = sheet_rows(root)[clip_id][0]
    book = openpyxl.load_workbook(root / SHEET)
    for name, value in cells.items():
        book.worksheets[0].cell(row, COLUMNS.index(name) + 1).value = value
    book.save(root / SHEET)
    return row


def by_id(records):
    return {r.clip_id: r for r in records}


def frame_number(path):
    return int(path.stem.rsplit("_", 1)[1])


def test_records_hold_the_sheet_and_the_frames_onset_to_offset(pristine):
    records, gaps = scan(pristine)
    assert [r.clip_id for r in records] == MINI_IDS
    assert gaps == []
    rows = sheet_rows(pristine)
    for record in records:
        _, values = rows[record.clip_id]
        assert record.dataset == "samm"
        assert record.subject == f"{int(values['Subject']):03d}" == record.clip_id[:3]
        assert record.emotion == values["Estimated Emotion"].lower()
        assert record.onset == int(values["Onset Frame"]) and record.offset == int(values["Offset Frame"])
        assert record.apex == int(values["Apex Frame"])
        assert record.path == pristine / "SAMM_CROP" / record.subject / record.clip_id
        assert record.problem is None
        assert record.frames == tuple(range(record.onset, record.offset + 1))
        assert [frame_number(p) for p in record.frame_paths] == list(record.frames)
        assert all(p.parent == record.path and p.name.startswith(record.subject + "_") for p in record.frame_paths)
        if record.clip_id != "009_3_1":
            assert record.onset <= record.apex <= record.offset and record.notes == ()


def test_literal_fields_of_a_few_records(pristine):
    records = by_id(scan(pristine)[0])
    first = records["006_1_2"]
    assert (first.clip_id, first.subject, first.emotion) == ("006_1_2", "006", "disgust")
    assert (first.onset, first.apex, first.offset) == (4296, 4301, 4307)
    assert first.frame_paths[0].name == "006_04296.jpg"  # padded to 5 digits
    second = records["006_1_5"]
    assert (second.subject, second.emotion, second.onset, second.offset) == ("006", "happiness", 7717, 7730)
    assert second.frame_paths[0].name == "006_7717.jpg"  # padded to 4 digits in another clip
    assert records["007_6_1"].emotion == "others"
    assert {r.emotion for r in records.values()} == set(samm.EMOTIONS)


def test_frames_cross_a_digit_boundary_and_are_sorted_by_integer(pristine):
    record = by_id(scan(pristine)[0])["011_2_6"]
    assert (record.subject, record.emotion, record.onset, record.offset) == ("011", "happiness", 9995, 10004)
    assert record.frames == tuple(range(9995, 10005))
    assert record.frame_paths[4].name == "011_9999.jpg" and record.frame_paths[5].name == "011_10000.jpg"
    on_disk = sorted(frame_number(p) for p in record.path.glob("*.jpg"))
    assert on_disk == list(range(9993, 10007))  # two frames either side, outside onset..offset
    assert sorted(p.name for p in record.frame_paths) != [p.name for p in record.frame_paths]  # not by string


def test_frames_beyond_the_interval_are_left_out(pristine):
    record = by_id(scan(pristine)[0])["006_1_5"]
    on_disk = sorted(frame_number(p) for p in record.path.glob("*.jpg"))
    assert on_disk == list(range(record.onset - 2, record.offset + 4))
    assert record.frames == tuple(range(record.onset, record.offset + 1))


def test_apex_outside_the_interval_is_kept_with_a_note(pristine):
    record = by_id(scan(pristine)[0])["009_3_1"]
    assert record.apex > record.offset and record.problem is None and record.emotion == "sadness"
    assert record.notes == (f"apex {record.apex} outside onset..offset {record.onset}..{record.offset}",)
    assert record.frames == tuple(range(record.onset, record.offset + 1))


def test_numbers_stored_as_text_are_parsed(pristine):
    rows = sheet_rows(pristine)
    records = by_id(scan(pristine)[0])
    assert rows["006_1_2"][1]["Onset Frame"] == "4296" and records["006_1_2"].onset == 4296
    assert rows["007_5_3"][1]["Offset Frame"] == str(records["007_5_3"].offset)
    assert rows["009_3_12"][1]["Apex Frame"] == str(records["009_3_12"].apex)
    assert rows["006_5_10"][1]["Subject"] == "006" and records["006_5_10"].subject == "006"
    assert rows["006_1_5"][1]["Subject"] == 6
    for record in records.values():
        assert all(type(v) is int for v in (record.onset, record.apex, record.offset) + record.frames)


def test_full_variant_reads_the_same_clips_as_full_frames(pristine):
    cropped = by_id(scan(pristine)[0])
    full, gaps = scan(pristine, variant="full")
    assert [r.clip_id for r in full] == MINI_IDS and gaps == []
    assert samm.FULL_FRAME == {"cropped": False, "full": True}
    for record in full:
        assert record.path == pristine / "SAMM" / record.subject / record.clip_id
        assert record.frames == cropped[record.clip_id].frames
        assert [p.name for p in record.frame_paths] == [p.name for p in cropped[record.clip_id].frame_paths]
        assert record.problem is None
    frame = cv2.imread(str(full[0].frame_paths[0]))
    face = cv2.imread(str(cropped[full[0].clip_id].frame_paths[0]))
    assert frame.shape == (480, 640, 3) and face.shape[0] < 240


def test_unknown_variant_lists_the_valid_ones(pristine):
    with pytest.raises(ValueError, match=r"variant must be one of 'cropped', 'full', got 'raw'"):
        scan(pristine, variant="raw")
    with pytest.raises(ValueError, match=r"variant must be one of 'cropped', 'full', got 'raw'"):
        samm.frame_pattern(variant="raw")


@pytest.mark.parametrize("variant", ["cropped", "full"])
def test_frame_pattern_finds_the_frames_of_the_folder(pristine, variant):
    record = by_id(scan(pristine, variant=variant)[0])["011_2_6"]
    listed = list_frames(record.path, samm.frame_pattern(variant=variant))
    assert [n for n, _ in listed] == list(range(9993, 10007))
    assert [p for n, p in listed if record.onset <= n <= record.offset] == list(record.frame_paths)


def test_a_folder_not_in_the_sheet_is_a_gap(tree):
    unlisted = tree / "SAMM_CROP" / "009" / "009_9_9"
    shutil.copytree(tree / "SAMM_CROP" / "009" / "009_2_2", unlisted)
    (tree / "SAMM_CROP" / "009" / "Thumbs.db").write_bytes(b"\x00")  # a file, not a clip folder
    records, gaps = scan(tree)
    assert [r.clip_id for r in records] == MINI_IDS
    assert gaps == [("unlisted_clip", "009_9_9", f"{unlisted} is not in {SHEET}")]


def test_a_clip_in_the_sheet_but_not_on_disk_is_a_bad_record(tree):
    path = tree / "SAMM_CROP" / "009" / "009_6_4"
    shutil.rmtree(path)
    record = by_id(scan(tree)[0])["009_6_4"]
    assert record.problem == f"in {SHEET} row 26 but not on disk: {path}"
    assert record.frames == () and record.frame_paths == () and record.emotion == "surprise"


def test_a_clip_without_frames_in_its_interval_is_bad(tree):
    edit_sheet(tree, "007_3_1", **{"Onset Frame": 50, "Apex Frame": 52, "Offset Frame": 55})
    record = by_id(scan(tree)[0])["007_3_1"]
    assert record.problem.startswith(f"{record.path}: no {{SSS}}_{{frame}}.jpg frame in onset..offset 50..55")
    assert record.frames == ()


@pytest.mark.parametrize(
    "cells, problem",
    [
        ({"Onset Frame": "x"}, "onset 'x' is not a frame number"),
        ({"Offset Frame": None}, "offset blank is not a frame number"),
        ({"Offset Frame": -1}, "offset -1 is not a frame number"),
        ({"Offset Frame": 0}, "offset 0"),
        ({"Onset Frame": 300, "Offset Frame": 280}, "offset 280 before onset 300"),
    ],
)
def test_unusable_intervals_make_a_bad_clip_never_repaired(tree, cells, problem):
    row = edit_sheet(tree, "007_6_1", **cells)
    record = by_id(scan(tree)[0])["007_6_1"]
    assert row == 21
    assert record.problem == f"{SHEET} row 21: {problem}"
    assert record.frames == ()


def test_a_missing_apex_is_a_note(tree):
    edit_sheet(tree, "011_1_1", **{"Apex Frame": "/"})
    record = by_id(scan(tree)[0])["011_1_1"]
    assert record.apex is None and record.notes == ("apex '/' (missing)",) and record.problem is None


def test_a_sheet_without_a_required_column_is_refused(tree):
    book = openpyxl.load_workbook(tree / SHEET)
    book.worksheets[0].cell(14, COLUMNS.index("Onset Frame") + 1).value = "Onset"
    book.save(tree / SHEET)
    with pytest.raises(ValueError, match=rf"{SHEET}: missing column\(s\) Onset Frame;"):
        scan(tree)


def test_an_unknown_emotion_names_the_value_and_the_row(tree):
    edit_sheet(tree, "007_3_1", **{"Estimated Emotion": "Joy"})
    with pytest.raises(ValueError, match=rf"{SHEET} row 19: unknown emotion 'Joy'"):
        scan(tree)


def test_a_clip_listed_twice_is_refused(tree):
    edit_sheet(tree, "007_3_1", Filename="006_1_2", Subject=6)
    with pytest.raises(ValueError, match=rf"{SHEET}: rows 15 and 19 both list 006_1_2"):
        scan(tree)


def test_the_newest_sheet_by_name_is_read(tree):
    shutil.copy(tree / SHEET, tree / "SAMM_Micro_FACS_Codes_v2_20990101.xlsx")
    book = openpyxl.load_workbook(tree / "SAMM_Micro_FACS_Codes_v2_20990101.xlsx")
    book.worksheets[0].cell(15, COLUMNS.index("Estimated Emotion") + 1).value = "Fear"
    book.save(tree / "SAMM_Micro_FACS_Codes_v2_20990101.xlsx")
    assert by_id(scan(tree)[0])["006_1_2"].emotion == "fear"


def test_without_the_cropped_copy_only_full_is_read(tree):
    shutil.rmtree(tree / "SAMM_CROP")
    assert find_root(tree) == tree
    assert [r.clip_id for r in scan(tree, variant="full")[0]] == MINI_IDS
    with pytest.raises(
        ValueError,
        match=r"no SAMM_CROP/ folder for variant 'cropped'; it holds SAMM/: set dataset.variant: full with "
        r"preprocess\.face_crop: haar",
    ):
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
    (tmp_path / "empty" / "SAMM").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"empty: no SAMM found; expected a folder holding SAMM_Micro_FACS_Codes"):
        find_root(tmp_path / "empty")
    with pytest.raises(ValueError, match="not a folder"):
        find_root(tmp_path / "absent")


def test_twin_sheet_has_the_real_layout(pristine):
    sheet = openpyxl.load_workbook(pristine / SHEET).worksheets[0]
    assert all(sheet.cell(row, 1).value is None or isinstance(sheet.cell(row, 1).value, str) for row in range(1, 14))
    assert [c.value for c in sheet[14]] == list(COLUMNS) and len(COLUMNS) == 12
    emotions = [values["Estimated Emotion"] for _, values in sheet_rows(pristine).values()]
    assert "Others" in emotions and all(e[0].isupper() for e in emotions)
    assert sheet.max_row == 14 + len(MINI_IDS)


def test_same_seed_same_bytes_other_seed_differs(pristine, tmp_path):
    write_samm(tmp_path / "again", preset="mini", seed=0)
    write_samm(tmp_path / "other", preset="mini", seed=1)
    assert tree_digest(tmp_path / "again" / TOP) == tree_digest(pristine)
    assert tree_digest(tmp_path / "other" / TOP) != tree_digest(pristine)


def test_demo_plan_has_eight_subjects_of_six_clips():
    clips = _demo_clips(0)
    assert len(clips) == 48 and len({f for _, f, _, _ in clips}) == 48
    assert len({s for s, _, _, _ in clips}) == 8 and {6, 7, 9, 11} <= {s for s, _, _, _ in clips}
    assert all(f.startswith(f"{s:03d}_") for s, f, _, _ in clips)
    assert [e for _, _, e, _ in clips].count("Others") == 8
    assert _demo_clips(0) == clips and _demo_clips(1) != clips


@pytest.mark.parametrize("kwargs, match", [({"preset": "big"}, "preset must be one of"), ({"seed": -1}, "seed")])
def test_write_samm_refuses_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        write_samm(tmp_path / "x", **kwargs)


def test_build_manifest_reads_the_twin(pristine, tmp_path, monkeypatch):
    if "samm" not in datasets.DATASETS:
        monkeypatch.setitem(datasets.DATASETS, "samm", ("mesr.data.samm", {}))
    source = pristine.parent
    manifest = datasets.build_manifest(
        source, tmp_path / "manifest.tsv", tmp_path / "gaps.tsv", dataset="samm", variant="cropped"
    )
    assert set(manifest.clip_id) == set(MINI_IDS) - {"007_6_1"}  # Others is no MEGC class
    assert list(manifest.subject.unique()) == ["006", "007", "009", "011"]
    row = manifest.set_index("clip_id").loc["011_2_6"]
    assert (row.label, row.first_frame, row.last_frame, row.n_frames) == ("positive", 9995, 10004, 10)
    assert row.path == f"{TOP}/SAMM_CROP/011/011_2_6"
    assert manifest.set_index("clip_id").loc["006_5_10"].label == "negative"
    reread = datasets.read_manifest(tmp_path / "manifest.tsv")  # the round trip keeps the padded subjects
    assert list(reread.subject.unique()) == ["006", "007", "009", "011"]
    gaps = (tmp_path / "gaps.tsv").read_text()
    assert "excluded_label\t007_6_1" in gaps and "bad_annotation\t009_3_1\tapex " in gaps
