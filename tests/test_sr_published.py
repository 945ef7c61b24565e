"""Published weights by name (docs/models.md#published-weights): the registry, its checks, the download."""

import hashlib

import pytest
import yaml
from http_server import FileServer
from workflow_runs import REPO, snakemake

from mesr.data import download
from mesr.sr import PTH_ARCHS, check_params
from mesr.sr.published import PUBLISHED, check_published, is_published, published

SMALL = {"C": 3, "D": 10, "G": 64, "G0": 64}


def test_the_registry_holds_isrs_realesrgans_and_swinirs_files():
    assert list(PUBLISHED) == [
        *("isr:psnr-large", "isr:psnr-small", "isr:noise-cancel", "isr:gans"),
        *("realesrgan:x4plus", "realesrgan:x2plus", "swinir:realsr-m-x2", "swinir:realsr-m-x4"),
    ]
    hosts = {
        "isr": "https://public-asai-dl-models.s3.eu-central-1.amazonaws.com/ISR/",
        "realesrgan": "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.",
        "swinir": "https://github.com/JingyunLiang/SwinIR/releases/download/v0.0/003_realSR_BSRGAN_DFO_s64w8_SwinIR-M_x",
    }
    for name, entry in PUBLISHED.items():
        assert entry.url.startswith(hosts[name.split(":")[0]])
        assert entry.url.endswith(".pth" if entry.arch in PTH_ARCHS else ".hdf5")
        assert len(entry.sha256) == 64 and entry.size > 10_000_000
        check_params(entry.arch, entry.params)
        assert entry.url.endswith(f"x{entry.scale}_GAN.pth") or entry.arch != "swinir"
    assert published("isr:gans").params == {"C": 4, "D": 3, "G": 32, "G0": 32, "T": 10}
    assert published("realesrgan:x2plus").url.endswith("/v0.2.1/RealESRGAN_x2plus.pth")


def test_names_are_told_from_paths():
    assert is_published("isr:psnr-small") and is_published("isr:unknown")
    assert not any(is_published(w) for w in ("/models/rdn.hdf5", "weights/isr.hdf5", None, {"url": "x"}))
    with pytest.raises(ValueError, match=r"unknown published weights 'isr:unknown'; known: isr:psnr-large, "):
        published("isr:unknown")


@pytest.mark.parametrize(
    "arch, params, scale, shown",
    [
        ("rdn", {**SMALL, "C": 6}, 2, r"a rdn with \{'C': 6, 'D': 10, 'G': 64, 'G0': 64\} at x2"),
        ("rrdn", {**SMALL, "T": 1}, 2, r"a rrdn with \{'C': 3, 'D': 10, 'G': 64, 'G0': 64\} at x2"),
        ("rdn", SMALL, 4, r"a rdn with \{'C': 3, 'D': 10, 'G': 64, 'G0': 64\} at x4"),
    ],
)
def test_a_model_the_file_does_not_fit_is_refused_naming_both(arch, params, scale, shown):
    check_published("isr:psnr-small", arch="rdn", params=SMALL, scale=2, where="models.psnr_small")
    with pytest.raises(
        ValueError,
        match=r"models\.m\.weights\.x2: isr:psnr-small holds a rdn with \{'C': 3, 'D': 10, 'G': 64, 'G0': 64\} "
        rf"at x2, but the model is {shown}",
    ):
        check_published("isr:psnr-small", arch=arch, params=params, scale=scale, where="models.m.weights.x2")


@pytest.fixture
def served():
    content = bytes(range(256)) * 40
    with FileServer({"/ISR/weights.hdf5": content}) as server:
        yield server, content, hashlib.sha256(content).hexdigest()


def test_a_download_is_checked_by_size_and_digest_and_kept(served, tmp_path):
    server, content, digest = served
    target = tmp_path / "resources" / "weights" / "psnr_small" / "x2.hdf5"
    download(server.url + "/ISR/weights.hdf5", target, sha256=digest, size=len(content))
    assert target.read_bytes() == content and len(server.requests) == 1
    # present with the right digest: not downloaded again
    download(server.url + "/ISR/weights.hdf5", target, sha256=digest, size=len(content))
    assert len(server.requests) == 1


def test_a_wrong_size_or_digest_is_refused_and_nothing_kept(served, tmp_path):
    server, content, digest = served
    target = tmp_path / "x2.hdf5"
    with pytest.raises(ValueError, match=rf"weights\.hdf5: {len(content)} bytes, expected {len(content) + 1}; file "):
        download(server.url + "/ISR/weights.hdf5", target, sha256=digest, size=len(content) + 1)
    wrong = "0" * 64
    with pytest.raises(ValueError, match=rf"sha256 is {digest}, expected {wrong}; file discarded"):
        download(server.url + "/ISR/weights.hdf5", target, sha256=wrong, size=len(content))
    assert list(tmp_path.iterdir()) == []


def test_the_workflow_downloads_published_weights_instead_of_training(tmp_path):
    """A dry run: psnr_small at x2 is downloaded (no training), and a model the file does not fit stops the run."""
    config = {
        "dataset": {"source": "synthetic", "synthetic": {"preset": "mini"}},
        "models": {
            **{name: None for name in ("esrgan", "psnr_large", "noise_cancel", "nesrgan_plus")},
            "psnr_small": {"params": SMALL, "weights": {"x2": "isr:psnr-small"}},
        },
    }
    result = snakemake(tmp_path, "-n", config=config)
    assert "resources/weights/psnr_small/x2.hdf5" in result.stdout
    assert "rule superres_download:" in result.stdout and "rule train_model:" not in result.stdout
    config["models"]["psnr_small"]["params"] = {**SMALL, "D": 3}
    result = snakemake(tmp_path, "-n", config=config, check=False)
    assert result.returncode != 0
    assert "models.psnr_small.weights.x2: isr:psnr-small holds a rdn with" in result.stdout + result.stderr


def test_published_pytorch_weights_are_downloaded_then_converted(tmp_path):
    """A dry run of config/modern-sr.yaml's models: each .pth file is downloaded, converted to HDF5, then used."""
    models = yaml.safe_load((REPO / "config" / "modern-sr.yaml").read_text())["models"]
    config = {
        "dataset": {"source": "synthetic", "synthetic": {"preset": "mini"}},
        "models": {
            **{name: None for name in ("esrgan", "psnr_large", "psnr_small", "noise_cancel", "nesrgan_plus")},
            **models,
        },
    }
    del config["models"]["swinir"]["weights"]["x2"]
    result = snakemake(tmp_path, "-n", config=config, check=False)
    assert result.returncode != 0  # swinir has no weights at x2 and is never trained here
    assert "models.swinir.weights.x2: arch swinir is not trained by mesr" in result.stdout + result.stderr
    config["models"]["swinir"]["weights"]["x2"] = "swinir:realsr-m-x2"
    result = snakemake(tmp_path, "-n", config=config)
    for model, scale in (("real_esrgan", 2), ("real_esrgan", 4), ("swinir", 2), ("swinir", 4)):
        assert f"resources/weights/{model}/x{scale}.pth" in result.stdout
        assert f"results/models/{model}/x{scale}/converted.hdf5" in result.stdout
    assert "rule superres_convert:" in result.stdout and "rule train_model:" not in result.stdout
