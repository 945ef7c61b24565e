"""Real-ESRGAN and SwinIR in the workflow (docs/models.md#pytorch-weights): .pth files downloaded or given,
converted to HDF5 by rule superres_convert, super-resolving the LR sets into Table 1 and Table 2."""

import hashlib

import h5py
import numpy as np
import pandas as pd
import pytest
import yaml
from demo_weights import FILES, demo_state
from http_server import FileServer
from test_sr_realesrgan import reference_rrdbnet
from workflow_runs import REPO, snakemake

from mesr.sr.pth import load_state_dict

WEIGHTS = REPO / "config" / "weights"


@pytest.mark.parametrize("filename", list(FILES))
def test_the_demo_files_hold_the_hand_set_networks(filename):
    """config/weights/*.pth are what tests/demo_weights.py writes: no opaque binaries in the repository."""
    stored, expected = load_state_dict(WEIGHTS / filename), demo_state(filename)
    assert list(stored) == list(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(stored[key], value, err_msg=key)


@pytest.fixture(scope="module")
def modern_run(tmp_path_factory):
    """The mini twin with config/demo-modern-sr.yaml's models: Real-ESRGAN x4 downloaded, the rest local files."""
    workdir = tmp_path_factory.mktemp("modern-sr-run")
    models = yaml.safe_load((REPO / "config" / "demo-modern-sr.yaml").read_text())["models"]
    for spec in models.values():
        spec["weights"] = {scale: str(REPO / path) for scale, path in spec["weights"].items()}
    served = (WEIGHTS / "realesrgan-x4.pth").read_bytes()
    config = {
        "dataset": {"source": "synthetic", "synthetic": {"preset": "mini", "seed": 0}},
        "features": {"descriptors": ["lbp_top"]},
        "models": {
            **{name: None for name in ("esrgan", "psnr_large", "psnr_small", "noise_cancel", "nesrgan_plus")},
            **models,
        },
    }
    targets = ["results/tables/table1.csv", "results/tables/table2.csv"]
    with FileServer({"/RealESRGAN_x4.pth": served}) as server:
        url = server.url + "/RealESRGAN_x4.pth"
        config["models"]["real_esrgan"]["weights"]["x4"] = {"url": url, "sha256": hashlib.sha256(served).hexdigest()}
        snakemake(workdir, *targets, "--cores", "2", config=config)
    return workdir, url


def test_pth_files_are_converted_recording_their_source(modern_run):
    workdir, url = modern_run
    assert (workdir / "resources" / "weights" / "real_esrgan" / "x4.pth").read_bytes() == (
        WEIGHTS / "realesrgan-x4.pth"
    ).read_bytes()
    for model, scale, filename in [("real_esrgan", 2, "realesrgan-x2.pth"), ("real_esrgan", 4, None)]:
        path = workdir / "results" / "models" / model / f"x{scale}" / "converted.hdf5"
        with h5py.File(path, "r") as handle:
            source = WEIGHTS / (filename or "realesrgan-x4.pth")
            assert handle.attrs["source"] == (str(source) if filename else url)
            assert handle.attrs["source_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
            assert "conv_first" in handle and "body_0_rdb3_conv5" in handle
    for scale in (2, 4):
        assert (workdir / "results" / "models" / "swinir" / f"x{scale}" / "converted.hdf5").is_file()


def test_the_converted_network_super_resolves_exactly_as_the_pytorch_one(modern_run):
    """The workflow's SR64 set from Real-ESRGAN x2 equals BasicSR's forward pass (numpy) on the .pth's tensors."""
    workdir, _ = modern_run
    lr_clip = sorted((workdir / "results" / "sets" / "LR64").glob("*.npy"))[0]
    frames = np.load(lr_clip)[:2]
    expected = reference_rrdbnet(
        load_state_dict(WEIGHTS / "realesrgan-x2.pth"), frames.transpose(0, 3, 1, 2) / 255.0, nb=1, scale=2
    )
    expected = np.round(255 * np.clip(expected, 0, 1)).transpose(0, 2, 3, 1)
    actual = np.load(workdir / "results" / "sets" / "SR64-real_esrgan" / lr_clip.name)[:2]
    assert actual.shape == (2, 128, 128, 3)
    assert np.abs(actual.astype(int) - expected).max() <= 1


@pytest.mark.parametrize("model", ["real_esrgan", "swinir"])
def test_the_hand_set_networks_upscale_like_nearest_neighbour(modern_run, model):
    """As tests/demo_weights.py sets them: nearest-neighbour x4 plus a few grey levels of network correction."""
    workdir, _ = modern_run
    lr_clip = sorted((workdir / "results" / "sets" / "LR32").glob("*.npy"))[0]
    nearest = np.load(lr_clip).repeat(4, axis=1).repeat(4, axis=2).astype(int)
    sr = np.load(workdir / "results" / "sets" / f"SR32-{model}" / lr_clip.name).astype(int)
    difference = np.abs(sr - nearest)
    assert 0 < difference.mean() < 8 and np.percentile(difference, 99) < 30


def test_modern_models_are_rows_of_table1_and_table2(modern_run):
    workdir, _ = modern_run
    table1 = pd.read_csv(workdir / "results" / "tables" / "table1.csv", comment="#", dtype=str)
    table2 = pd.read_csv(workdir / "results" / "tables" / "table2.csv", comment="#", dtype=str).set_index("Set")
    for name in ("SR64-real_esrgan", "SR32-real_esrgan", "SR64-swinir", "SR32-swinir"):
        assert name in table2.index and table2.loc[name, "LBP-TOP (ours)"] not in ("not run", "")
        assert table1.apply(lambda row: row.astype(str).str.contains(name).any(), axis=1).any(), name
