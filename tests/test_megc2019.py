"""The MEGC 2019 composite (mesr.data.megc2019): its ground truth, its adapter read on the synthetic twin
(mesr.data.synthetic_megc2019), and its acquisition."""

import hashlib
import io
import tarfile

import pandas as pd
import pytest
from http_server import FileServer
from smic_trees import tree_digest

from mesr.data import acquire_dataset, build_manifest, clip_frames, generate, megc2019
from mesr.data.megc2019 import GROUND_TRUTH, PARTS, find_root, part_options, read_ground_truth, scan
from mesr.data.synthetic_megc2019 import TOP

#: The clips of the mini twin's parts that map to no class of MEGC 2019, so that the ground truth leaves them out.
NO_CLASS = {"sub02_EP13_04": "others", "sub04_EP09f": "fear", "007_6_1": "others"}
#: The mini twin's row whose ground truth label disagrees with its sheet (Disgust, which maps to negative).
DISAGREEING = ("006_1_2", "positive", "disgust", "negative")


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    """The mini composite twin, written once (through generate's dispatch); tests never change it."""
    root = tmp_path_factory.mktemp("megc2019") / "twin"
    ids = generate(root, dataset="megc2019", preset="mini", seed=0)
    assert len(ids) == len(set(ids)) == 41
    return root / TOP


@pytest.fixture(scope="module")
def built(twin, tmp_path_factory):
    """The manifest and gaps of the twin, built once from the folder above it."""
    out = tmp_path_factory.mktemp("megc2019-manifest")
    manifest = build_manifest(twin.parent, out / "m.tsv", out / "g.tsv", dataset="megc2019", on_bad_clip="skip")
    return manifest, pd.read_csv(out / "g.tsv", sep="\t", dtype=str)


def composite(folder, twin, truth):
    """A composite whose parts are links to the twin's, and whose ground truth is ``truth`` (text, written as is)."""
    folder.mkdir(parents=True)
    for part in PARTS:
        (folder / part).symlink_to(twin / part, target_is_directory=True)
    (folder / GROUND_TRUTH).write_bytes(truth.encode())
    return folder


def write_truth(tmp_path, lines, end="\r\n"):
    path = tmp_path / "gt.csv"
    path.write_bytes("".join(line + end for line in lines).encode())
    return path


# --------------------------------------------------------------------------- the ground truth


@pytest.mark.parametrize("end", ["\r\n", "\n"])
def test_ground_truth_ids_become_the_folder_names(tmp_path, end):
    path = write_truth(
        tmp_path,
        [
            "smic,s01,s01_ne_01,0",
            "casme2, sub01 ,EP02_01f  ,1",
            "samm,6,006_1_2, 2 ",
            "smic,s20,s20_sur_05,2",
            "samm,011,011_2_6,1",
            "",
        ],
        end,
    )
    truth = read_ground_truth(path)
    assert list(truth.columns) == ["line", "dataset", "subject", "clip_id", "label"]
    assert truth.values.tolist() == [
        [1, "smic_hs", "s1", "s1_ne_01", "negative"],
        [2, "casme2", "sub01", "sub01_EP02_01f", "positive"],
        [3, "samm", "006", "006_1_2", "surprise"],
        [4, "smic_hs", "s20", "s20_sur_05", "surprise"],
        [5, "samm", "011", "011_2_6", "positive"],
    ]


def test_totals_of_a_ground_truth_in_the_real_files_format(tmp_path):
    """442 rows with the real file's subjects and classes per part: SMIC-HS's own counts per subject, CASME II's
    and SAMM's classes spread over their 24 and 28 subjects."""
    from mesr.data.synthetic import SMIC_COUNTS

    lines = []
    for subject, counts in SMIC_COUNTS.items():
        for label, (short, count) in enumerate(zip(("ne", "po", "sur"), counts)):
            lines += [f"smic,s{subject:02d},s{subject:02d}_{short}_{n:02d},{label}" for n in range(1, count + 1)]
    for database, subjects, counts in (("casme2", 24, (88, 32, 25)), ("samm", 28, (92, 26, 15))):
        index = 0
        for label, count in enumerate(counts):
            for _ in range(count):
                number = index % subjects + 1
                video = f"EP{index:03d}_01f" if database == "casme2" else f"{number:03d}_{index}_1"
                subject = f"sub{number:02d}" if database == "casme2" else str(number)
                lines.append(f"{database},{subject},{video},{label}")
                index += 1
    truth = read_ground_truth(write_truth(tmp_path, lines))
    assert len(truth) == 442
    assert truth.dataset.value_counts().to_dict() == {"smic_hs": 164, "casme2": 145, "samm": 133}
    assert truth.label.value_counts().to_dict() == {"negative": 250, "positive": 109, "surprise": 83}
    per_part = truth.groupby(["dataset", "label"]).size().unstack()[list(megc2019.LABELS)]
    assert per_part.loc["smic_hs"].tolist() == [70, 51, 43]
    assert per_part.loc["casme2"].tolist() == [88, 32, 25]
    assert per_part.loc["samm"].tolist() == [92, 26, 15]
    assert truth.groupby("dataset").subject.nunique().to_dict() == {"smic_hs": 16, "casme2": 24, "samm": 28}
    assert len(truth[["dataset", "subject"]].drop_duplicates()) == 68
    assert truth.line.tolist() == list(range(1, 443))


GOOD = "casme2,sub01,EP02_01f,1"


@pytest.mark.parametrize(
    "lines, match",
    [
        ([GOOD, "casme3,sub01,EP03_01,0"], r"gt\.csv line 2: unknown database 'casme3'; expected one of smic"),
        (["database,subject,video,label", GOOD], r"line 1: unknown database 'database'.*\(the file has no header\)"),
        ([GOOD, "samm,6,006_1_2"], r"gt\.csv line 2: 3 field\(s\) in 'samm,6,006_1_2'"),
        ([GOOD, "samm,6,006_1_2,0,x"], r"gt\.csv line 2: 5 field\(s\)"),
        ([GOOD, "samm, ,006_1_2,0"], r"gt\.csv line 2: subject is blank"),
        ([GOOD, "samm,6,006_1_2,3"], r"gt\.csv line 2: label '3' is not one of 0 \(negative\), 1 \(positive\), 2"),
        ([GOOD, "samm,6,006_1_2,neg"], r"gt\.csv line 2: label 'neg' is not one of"),
        ([GOOD, "samm,6,006_1_2,-1"], r"gt\.csv line 2: label '-1'"),
        ([GOOD, "smic,s01,s01_ne_01,0", " casme2,sub1,EP02_01f,1"], r"gt\.csv: lines 1 and 3 both list sub01_EP02_01f"),
        ([GOOD, "smic,s01,s02_ne_01,0"], r"gt\.csv line 2: SMIC video 's02_ne_01' is not of subject 's01'"),
        ([GOOD, "smic,01,s01_ne_01,0"], r"gt\.csv line 2: SMIC subject '01' is not s<number>"),
        ([GOOD, "samm,7,006_1_2,0"], r"gt\.csv line 2: SAMM video '006_1_2' is not of subject '7'"),
        ([GOOD, "casme2,s01,EP02_01f,0"], r"gt\.csv line 2: CASME II subject 's01' is not sub<number>"),
        ([], r"gt\.csv: empty"),
        (["", "  "], r"gt\.csv: empty"),
    ],
)
def test_refused_ground_truth_names_the_line(tmp_path, lines, match):
    with pytest.raises(ValueError, match=match):
        read_ground_truth(write_truth(tmp_path, lines))


def test_missing_ground_truth_named(tmp_path):
    with pytest.raises(ValueError, match=r"nowhere\.csv: cannot read the ground truth"):
        read_ground_truth(tmp_path / "nowhere.csv")


# --------------------------------------------------------------------------- options and root


def test_part_options():
    assert part_options("samm") == {} and part_options("samm", variant=None) == {}
    assert part_options("samm", variant={"samm": "full"}) == {"variant": "full"}
    assert part_options("casme2", variant={"samm": "full"}) == {}
    assert part_options("casme2", variant={"samm": "full", "casme2": "raw"}) == {"variant": "raw"}
    with pytest.raises(ValueError, match=r"must map parts to variants .* got 'full'.*which of smic_hs, casme2, samm"):
        part_options("samm", variant="full")
    with pytest.raises(ValueError, match=r"'casme3_a' is no part; the parts are smic_hs, casme2, samm"):
        part_options("samm", variant={"casme3_a": "full"})
    with pytest.raises(ValueError, match=r"smic_hs has no variants; leave it out"):
        part_options("samm", variant={"smic_hs": "HS"})
    with pytest.raises(ValueError, match=r"dataset\.variant\.samm must be one of 'cropped', 'full', got 'raw'"):
        part_options("casme2", variant={"samm": "raw"})
    with pytest.raises(ValueError, match=r"part must be one of 'smic_hs', 'casme2', 'samm', got 'smic_vis'"):
        part_options("smic_vis")


def test_find_root(twin, tmp_path):
    assert find_root(twin) == twin
    assert find_root(twin.parent) == twin
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / GROUND_TRUTH).write_text(GOOD + "\r\n")
    (tmp_path / "a" / "b" / "samm").mkdir()
    with pytest.raises(
        ValueError,
        match=r"no MEGC 2019 composite found; expected a folder holding "
        r"combined_3class_gt\.csv beside smic_hs/, casme2/, samm/ .*b lacks smic_hs/, casme2/\)",
    ):
        find_root(tmp_path)
    with pytest.raises(ValueError, match="not a folder"):
        find_root(tmp_path / "nowhere")


# --------------------------------------------------------------------------- the twin read by the adapter


def test_twin_ground_truth_is_in_the_organisers_format(twin):
    raw = (twin / GROUND_TRUTH).read_bytes()
    lines = raw.split(b"\r\n")
    assert lines[-1] == b"" and all(b"\n" not in line and line.count(b",") == 3 for line in lines[:-1])
    assert lines[0] == b"smic,s01,s01_ne_01,0"
    assert any(b" " in line for line in lines)  # spaces around a field
    assert b"samm,6,006_1_2,1" in lines and b"casme2,sub01,EP02_01f,1" in lines
    truth = read_ground_truth(twin / GROUND_TRUTH)
    counts = truth.groupby(["dataset", "label"]).size().to_dict()
    assert counts == {
        ("smic_hs", "negative"): 4,
        ("smic_hs", "positive"): 4,
        ("smic_hs", "surprise"): 4,
        ("casme2", "negative"): 6,
        ("casme2", "positive"): 4,
        ("casme2", "surprise"): 4,
        ("samm", "negative"): 6,
        ("samm", "positive"): 5,
        ("samm", "surprise"): 4,
    }


def test_manifest_of_the_twin(built, twin):
    manifest, gaps = built
    truth = read_ground_truth(twin / GROUND_TRUTH).set_index("clip_id")
    assert len(manifest) == 41 and manifest.clip_id.is_unique
    assert manifest.dataset.unique().tolist() == ["casme2", "samm", "smic_hs"]  # sorted by dataset
    assert manifest.subject.unique().tolist() == [
        *("sub01", "sub02", "sub03", "sub04"),
        *("006", "007", "009", "011"),
        *("s1", "s2", "s3", "s4"),
    ]
    assert manifest.set_index("clip_id").label.to_dict() == truth.label.to_dict()
    assert (manifest.set_index("clip_id").dataset == truth.dataset.loc[manifest.clip_id].values).all()
    for row in manifest.itertuples():
        assert (twin.parent / row.path).is_dir() and row.path.startswith(f"{TOP}/")
    clip_id, label, emotion, mapped = DISAGREEING
    row = manifest.set_index("clip_id").loc[clip_id]
    assert (row.label, row.emotion) == (label, emotion)
    notes = gaps[(gaps.kind == "bad_annotation") & (gaps.clip_id == clip_id)].detail.tolist()
    assert notes == [f"ground truth says {label} ({GROUND_TRUTH} line 27), the sheet's {emotion!r} maps to {mapped}"]
    absent = gaps[gaps.kind == "not_in_ground_truth"]
    assert absent.clip_id.tolist() == list(NO_CLASS)
    assert dict(zip(absent.clip_id, absent.detail)) == {
        "sub02_EP13_04": f"casme2: emotion others, not in {GROUND_TRUTH}",
        "sub04_EP09f": f"casme2: emotion fear, not in {GROUND_TRUTH}",
        "007_6_1": f"samm: emotion others, not in {GROUND_TRUTH}",
    }
    assert set(gaps.kind) == {"bad_annotation", "not_in_ground_truth"}  # the parts' own notes pass through
    assert {"sub04_EP12_01f", "009_3_1"} <= set(gaps[gaps.kind == "bad_annotation"].clip_id)


def test_scan_reads_the_parts_variants(twin):
    records, _ = scan(twin, variant={"samm": "full"})
    samm = [r for r in records if r.dataset == "samm"]
    assert samm and all(r.full_frame and r.path.parent.parent.name == "SAMM" for r in samm)
    assert all(not r.full_frame for r in records if r.dataset != "samm")
    assert [r.label for r in records] == [r.label for r in scan(twin)[0]]


def test_clip_frames_of_composite_rows_are_the_parts_frames(built, twin):
    manifest, _ = built
    names = {"smic_hs": r"reg_image\d+\.bmp", "casme2": r"reg_img\d+\.jpg", "samm": r"\d{3}_\d+\.jpg"}
    for part in PARTS:
        row = next(manifest[manifest.dataset == part].itertuples())
        frames = clip_frames(twin.parent, row, dataset="megc2019")
        assert len(frames) == row.n_frames and all(p.parent == twin.parent / row.path for p in frames)
        assert all(pd.Series([p.name for p in frames]).str.fullmatch(names[part]))
    samm = next(manifest[manifest.dataset == "samm"].itertuples())
    assert clip_frames(twin.parent, samm, dataset="megc2019", variant={"samm": "cropped"})[0].suffix == ".jpg"
    with pytest.raises(ValueError, match="must map parts to variants"):
        clip_frames(twin.parent, samm, dataset="megc2019", variant="cropped")


def test_ground_truth_wins_over_a_part_that_maps_to_no_class(twin, tmp_path):
    truth = (twin / GROUND_TRUTH).read_bytes().decode() + "samm,7,007_6_1,1\r\n"
    source = composite(tmp_path / "c", twin, truth)
    manifest = build_manifest(source, tmp_path / "m.tsv", tmp_path / "g.tsv", dataset="megc2019")
    row = manifest.set_index("clip_id").loc["007_6_1"]
    assert (row.label, row.emotion, row.dataset, row.subject) == ("positive", "others", "samm", "007")
    assert row.path == "samm/SAMM_data/SAMM_CROP/007/007_6_1"
    gaps = (tmp_path / "g.tsv").read_text()
    assert (
        "bad_annotation\t007_6_1\tground truth says positive (combined_3class_gt.csv line 42), the sheet's "
        "'others' maps to none" in gaps
    )
    assert "not_in_ground_truth\t007_6_1" not in gaps


def test_ground_truth_row_of_a_missing_clip_is_a_bad_clip(twin, tmp_path):
    truth = (twin / GROUND_TRUTH).read_bytes().decode() + "casme2,sub09,EP99_01,0\r\nsmic,s02,s02_ne_07,0\r\n"
    source = composite(tmp_path / "c", twin, truth)
    with pytest.raises(
        ValueError,
        match=r"bad clip sub09_EP99_01: combined_3class_gt\.csv line 42 lists sub09_EP99_01 of casme2, which is "
        r"not in .*casme2/CASME2 \(set dataset\.on_bad_clip: skip",
    ):
        build_manifest(source, tmp_path / "m.tsv", tmp_path / "g.tsv", dataset="megc2019")
    assert not (tmp_path / "m.tsv").exists()
    manifest = build_manifest(source, tmp_path / "m.tsv", tmp_path / "g.tsv", dataset="megc2019", on_bad_clip="skip")
    assert len(manifest) == 41 and not {"sub09_EP99_01", "s2_ne_07"} & set(manifest.clip_id)
    gaps = pd.read_csv(tmp_path / "g.tsv", sep="\t")
    skipped = gaps[gaps.kind == "skipped_clip"].set_index("clip_id").detail
    assert skipped.index.tolist() == ["sub09_EP99_01", "s2_ne_07"]
    assert skipped["s2_ne_07"].startswith("combined_3class_gt.csv line 43 lists s2_ne_07 of smic_hs, which is not in")


def test_a_part_that_cannot_be_read_is_named(twin, tmp_path):
    source = composite(tmp_path / "c", twin, (twin / GROUND_TRUTH).read_bytes().decode())
    (source / "samm").unlink()
    (source / "samm").mkdir()
    with pytest.raises(ValueError, match=r"megc2019 part samm: .*/c/samm: no SAMM found"):
        scan(source)


def test_generate_is_reproducible(twin, tmp_path):
    generate(tmp_path / "again", dataset="megc2019", preset="mini", seed=0)
    again = tmp_path / "again" / TOP
    assert (again / GROUND_TRUTH).read_bytes() == (twin / GROUND_TRUTH).read_bytes()
    assert tree_digest(again) == tree_digest(twin)


# --------------------------------------------------------------------------- acquisition


def tar_of(folder):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as bundle:
        bundle.add(folder, arcname=folder.name)
    return buffer.getvalue()


def test_acquire_parts_from_folders_and_an_archive_and_the_ground_truth_by_url(twin, built, tmp_path):
    truth = (twin / GROUND_TRUTH).read_bytes()
    archive = tmp_path / "samm.tar"
    archive.write_bytes(tar_of(twin / "samm" / "SAMM_data"))
    with FileServer({"/megc/combined_3class_gt.csv": truth}) as server:
        dataset = {
            "name": "megc2019",
            "source": None,
            "sources": {
                "smic_hs": str(twin / "smic_hs"),
                "casme2": str(twin / "casme2"),
                "samm": {"source": str(archive), "sha256": hashlib.sha256(archive.read_bytes()).hexdigest()},
            },
            "ground_truth": {"url": f"{server.url}/megc/{GROUND_TRUTH}", "sha256": hashlib.sha256(truth).hexdigest()},
        }
        acquire_dataset(dataset, tmp_path / "res" / "megc2019", downloads=tmp_path / "res" / "downloads")
    acquired = tmp_path / "res" / "megc2019"
    assert sorted(p.name for p in acquired.iterdir()) == sorted([GROUND_TRUTH, *PARTS])
    assert (acquired / GROUND_TRUTH).read_bytes() == truth
    assert (acquired / "smic_hs" / "HS").is_symlink() and (acquired / "casme2" / "CASME2").is_symlink()
    assert (acquired / "samm" / "SAMM_data" / "SAMM_CROP").is_dir()
    assert (tmp_path / "res" / "downloads" / "megc2019" / GROUND_TRUTH).exists()
    manifest = build_manifest(acquired, tmp_path / "m.tsv", tmp_path / "g.tsv", dataset="megc2019")
    expected = built[0]
    columns = ["clip_id", "dataset", "subject", "label", "emotion", "n_frames", "first_frame", "last_frame"]
    pd.testing.assert_frame_equal(manifest[columns], expected[columns])
    assert manifest.path[manifest.dataset == "smic_hs"].str.startswith("smic_hs/HS/").all()


def test_acquire_from_a_local_ground_truth(twin, tmp_path):
    dataset = {
        "name": "megc2019",
        "sources": {part: {"source": str(twin / part)} for part in PARTS},
        "ground_truth": str(twin / GROUND_TRUTH),
    }
    acquire_dataset(dataset, tmp_path / "res", downloads=tmp_path / "downloads")
    assert find_root(tmp_path / "res") == tmp_path / "res"
    assert len(scan(tmp_path / "res")[0]) == 41


@pytest.mark.parametrize(
    "change, match",
    [
        (
            {"sources": {}},
            r"dataset\.sources is not set: megc2019 needs the source of each of its parts, smic_hs, casme2, samm",
        ),
        ({"sources": {"smic_hs": "x", "samm": "y"}}, r"dataset\.sources\.casme2 is not set"),
        (
            {"sources": {"smic_hs": "x", "casme2": "y", "samm": "z", "casme3_a": "w"}},
            r"dataset\.sources: casme3_a is no part of megc2019; its parts are smic_hs",
        ),
        ({"ground_truth": None}, r"dataset\.ground_truth is not set: .*combined_3class_gt\.csv"),
        ({"ground_truth": "/nowhere/gt.csv"}, r"dataset\.ground_truth: /nowhere/gt\.csv does not exist"),
        ({"ground_truth": "http://user:secret@127.0.0.1:9/gt.csv"}, r"dataset\.ground_truth: .* carries credentials"),
    ],
)
def test_acquire_refuses_missing_or_wrong_keys(twin, tmp_path, change, match):
    dataset = {
        "name": "megc2019",
        "sources": {part: str(twin / part) for part in PARTS},
        "ground_truth": str(twin / GROUND_TRUTH),
        **change,
    }
    with pytest.raises(ValueError, match=match) as error:
        acquire_dataset(dataset, tmp_path / "res", downloads=tmp_path / "downloads")
    assert "secret" not in str(error.value)
    assert not (tmp_path / "res").exists() and not (tmp_path / ".res.partial").exists()


def test_failed_acquisition_leaves_nothing(twin, tmp_path):
    truth = (twin / GROUND_TRUTH).read_bytes()
    sources = {part: str(twin / part) for part in PARTS}
    with FileServer({"/gt.csv": truth}) as server:
        dataset = {
            "name": "megc2019",
            "sources": sources,
            "ground_truth": {"url": f"{server.url}/gt.csv", "sha256": "0" * 64},
        }
        with pytest.raises(ValueError, match=r"downloading http://127\.0\.0\.1:\d+/gt\.csv: sha256 is .* discarded"):
            acquire_dataset(dataset, tmp_path / "res", downloads=tmp_path / "downloads")
    assert not (tmp_path / "res").exists() and not (tmp_path / ".res.partial").exists()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(truth + b"casme2,sub01,EP02_01f,4\r\n")
    with pytest.raises(ValueError, match=r"dataset\.ground_truth: .*bad\.csv line 42: label '4'"):
        acquire_dataset({**dataset, "ground_truth": str(bad)}, tmp_path / "res", downloads=tmp_path / "downloads")
    with pytest.raises(ValueError, match=r"dataset\.sources\.samm: .*nowhere does not exist"):
        acquire_dataset(
            {
                **dataset,
                "sources": {**sources, "samm": str(tmp_path / "nowhere")},
                "ground_truth": str(twin / GROUND_TRUTH),
            },
            tmp_path / "res",
            downloads=tmp_path / "downloads",
        )
    assert not (tmp_path / "res").exists() and not (tmp_path / ".res.partial").exists()
