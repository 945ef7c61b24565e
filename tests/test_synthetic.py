import numpy as np
import pytest
from smic_trees import tree_digest

from mesr.data import PRESETS, generate, list_frames, read_clip
from mesr.data.smic import frame_pattern, scan
from mesr.data.synthetic import SMIC_COUNTS


def scan_clips(folder, modality="HS"):
    records, _ = scan(folder, modality=modality)
    return records


def test_smic_preset_has_the_real_counts():
    counts = PRESETS["smic"]["counts"]
    assert counts == SMIC_COUNTS
    assert len(counts) == 16 and not {7, 10, 16, 17} & set(counts)
    totals = np.sum(list(counts.values()), axis=0)
    assert totals.tolist() == [70, 51, 43] and totals.sum() == 164
    assert PRESETS["smic"]["frames"] == (16, 58)


def test_mini_layout_sizes_and_frame_numbers(mini_tree):
    hs = mini_tree / "SMIC_all_cropped" / "HS"
    records = scan_clips(hs)
    assert len(records) == 12
    assert {p.name for p in (mini_tree / "SMIC_all_cropped").iterdir()} == {"HS", "NIR", "VIS"}
    assert any((hs / f"s{s}" / "non_micro").is_dir() for s in range(1, 5))
    widths = {len(str(r.frames[0])) for r in records}
    assert widths == {5, 6, 7, 8}
    sizes = set()
    for record in records:
        assert record.frames == tuple(range(record.frames[0], record.frames[0] + len(record.frames)))
        assert 10 <= len(record.frames) <= 14
        clip = read_clip(record.frame_paths)
        sizes.add(clip.shape[1:3])
        assert 170 <= clip.shape[1] <= 230 and 140 <= clip.shape[2] <= 190
    assert len(sizes) > 6  # crop sizes vary between clips


def test_same_seed_same_bytes_other_seed_differs(mini_tree, tmp_path):
    generate(tmp_path / "again", preset="mini", seed=0)
    generate(tmp_path / "other", preset="mini", seed=1)
    assert tree_digest(tmp_path / "again") == tree_digest(mini_tree)
    assert tree_digest(tmp_path / "other") != tree_digest(mini_tree)


def test_each_clip_moves_with_onset_apex_offset(mini_tree):
    hs = mini_tree / "SMIC_all_cropped" / "HS"
    for record in scan_clips(hs):
        clip = read_clip(record.frame_paths).astype(float)
        # The strongest changes against the first frame: sensor noise alone stays near 10 grey levels.
        change = np.percentile(np.abs(clip - clip[0]).reshape(len(clip), -1), 99.9, axis=1)
        assert change.max() > 30, record.clip_id
        assert change[-1] < change.max(), record.clip_id  # onset, apex, then offset


def test_subjects_look_different(mini_tree):
    hs = mini_tree / "SMIC_all_cropped" / "HS"
    mean_colour = {}
    for record in scan_clips(hs):
        clip = read_clip(record.frame_paths)
        mean_colour.setdefault(record.subject, []).append(clip[0, 80:120, 60:100].reshape(-1, 3).mean(axis=0))
    centres = np.array([np.mean(v, axis=0) for v in mean_colour.values()])
    spread = np.linalg.norm(centres[:, None] - centres[None], axis=-1)
    assert spread[np.triu_indices(len(centres), 1)].min() > 3


@pytest.mark.parametrize("preset, seed, message", [("huge", 0, "preset must be one of"), ("mini", -1, "seed must be")])
def test_validation(tmp_path, preset, seed, message):
    with pytest.raises(ValueError, match=message):
        generate(tmp_path / "x", preset=preset, seed=seed)
    assert not (tmp_path / "x").exists()


def test_frames_listed_in_integer_order(mini_tree):
    record = scan_clips(mini_tree / "SMIC_all_cropped" / "HS")[0]
    assert [n for n, _ in list_frames(record.path, frame_pattern())] == list(record.frames)


@pytest.mark.parametrize("dataset, modality", [("smic_vis", "VIS"), ("smic_nir", "NIR")])
def test_vis_and_nir_twins(tmp_path, dataset, modality):
    """25 fps clips of 9-13 frames named reg_{5 digits}.bmp, the same clip ids as HS; NIR frames are grey."""
    clip_ids = generate(tmp_path / dataset, dataset=dataset, preset="mini", seed=0)
    folder = tmp_path / dataset / "SMIC_all_cropped" / modality
    records = scan_clips(folder, modality)
    assert [r.clip_id for r in records] == sorted(clip_ids) and len(records) == 12
    assert {r.dataset for r in records} == {dataset} and records[0].subject == "s1"
    for record in records:
        assert 9 <= len(record.frames) <= 13
        assert all(len(p.name) == len("reg_00000.bmp") for p in record.frame_paths)
        clip = read_clip(record.frame_paths)
        grey = np.array_equal(clip[..., 0], clip[..., 1]) and np.array_equal(clip[..., 1], clip[..., 2])
        assert grey == (modality == "NIR")
    # the same clips of VIS and NIR show the same motion
    if modality == "NIR":
        generate(tmp_path / "vis", dataset="smic_vis", preset="mini", seed=0)
        vis = scan_clips(tmp_path / "vis" / "SMIC_all_cropped" / "VIS", "VIS")
        assert [len(r.frames) for r in vis] == [len(r.frames) for r in records]
