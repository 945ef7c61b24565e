"""Reliability under bad input (docs/reliability.md): bad datasets, bad downloads, unwritable paths.

Every failure is a clear error naming the file or key and the problem, and leaves no partial output.
Cases already covered elsewhere are listed in the table of docs/reliability.md, not repeated here.
"""

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
from http_server import FileServer
from smic_trees import ABBREVIATIONS, write_clip, write_tree
from workflow_runs import REPO, snakemake

from mesr.data import acquire_dataset, build_manifest, download
from mesr.descriptors import extract_set
from mesr.io import save_clip

#: The paper's models dropped: the bicubic baseline alone, at x2 only (no training, no TensorFlow).
BICUBIC_ONLY = {
    "degrade": {"scales": [2]},
    "models": {
        "bicubic": {"arch": "bicubic", "scales": [2]},
        "esrgan": None,
        "psnr_large": None,
        "psnr_small": None,
        "noise_cancel": None,
        "nesrgan_plus": None,
    },
}


def write_grey_clip(hs, subject, label, number, n_frames, *, seed):
    """A clip of 8-bit greyscale BMPs (palette images), 30x24 random texture."""
    folder = Path(hs) / f"s{subject}" / "micro" / label / f"s{subject}_{ABBREVIATIONS[label]}_{number:02d}"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for k in range(n_frames):
        assert cv2.imwrite(str(folder / f"reg_image{100000 + k}.bmp"), rng.integers(0, 256, (30, 24), np.uint8))
    return folder


# --- the dataset ---------------------------------------------------------------------------------


def test_duplicate_clip_id_named(tmp_path):
    """s01/ and s1/ are both subject 1: the same clip id twice is refused, naming both folders."""
    hs = write_tree(tmp_path / "smic", [(1, "negative", 1, range(10000, 10006))])
    shutil.copytree(hs / "s1", hs / "s01")
    with pytest.raises(ValueError, match=r"duplicate clip id s1_ne_01: .*s0?1/micro/negative/s1_ne_01 and "):
        build_manifest(tmp_path / "smic", tmp_path / "manifest.tsv", tmp_path / "gaps.tsv")
    assert not (tmp_path / "manifest.tsv").exists() and not (tmp_path / "gaps.tsv").exists()


def test_empty_class_folder_holds_no_clip(tmp_path):
    hs = write_tree(tmp_path / "smic", [(1, "negative", 1, range(10000, 10006))])
    (hs / "s1" / "micro" / "surprise").mkdir()
    manifest = build_manifest(tmp_path / "smic", tmp_path / "manifest.tsv", tmp_path / "gaps.tsv")
    assert manifest.clip_id.tolist() == ["s1_ne_01"]
    assert pd.read_csv(tmp_path / "gaps.tsv", sep="\t").empty


def write_set(tmp_path, frames):
    """A set folder and manifest: clip s1_ne_01 of 6 frames and s2_po_01 of ``frames`` frames."""
    set_dir = tmp_path / "sets" / "HR128"
    rng = np.random.default_rng(0)
    rows = []
    for subject, clip_id, n in [(1, "s1_ne_01", 6), (2, "s2_po_01", frames)]:
        save_clip(set_dir / f"{clip_id}.npy", rng.integers(0, 256, (n, 16, 16, 3), dtype=np.uint8))
        rows.append({"clip_id": clip_id, "dataset": "smic_vis", "subject": subject, "label": "negative"})
    pd.DataFrame(rows).to_csv(tmp_path / "manifest.tsv", sep="\t", index=False)
    return set_dir, tmp_path / "manifest.tsv"


@pytest.mark.parametrize(
    "descriptor, params, temporal, frames, message",
    [
        (
            "lbp_top",
            {"radii": [1, 1, 2]},
            None,
            3,
            r"clip s2_po_01 \(.*s2_po_01\.npy\) has 3 frame\(s\) \(120 ms at smic_vis's 25 fps\), too few for lbp_top "
            r"with radii\[2\] \(t\) = 2 \(features\.lbp_top\.radii\): it needs at least 5 frames; resample every "
            r"clip with features\.temporal \(TIM, e\.g\. features\.temporal: 10\)",
        ),
        (
            "lpq_top",
            {},
            None,
            1,
            r"clip s2_po_01 \(.*\) has 1 frame\(s\) \(40 ms at smic_vis's 25 fps\), too few for lpq_top with "
            r"window\[2\] \(t\) = 5 "
            r"\(features\.lpq_top\.window\): it needs at least 5 frames",
        ),
        (
            "lbp_top",
            {},
            8,
            1,
            r"clip s2_po_01 \(.*\) has 1 frame; features\.temporal \(TIM to 8 frames\) needs clips of at least 2 frames",
        ),
        (
            "lbp_top",
            {"radii": [1, 1, 2]},
            3,
            6,
            r"features\.temporal = 3 resamples every clip to 3 frames, too few for lbp_top with radii\[2\] \(t\) = 2 "
            r"\(features\.lbp_top\.radii\): it needs at least 5 frames; raise features\.temporal",
        ),
    ],
)
def test_clip_too_short_for_the_descriptor_named(tmp_path, descriptor, params, temporal, frames, message):
    """The features stage fails on the first clip too short, naming it, its frames and duration, the setting and
    the minimum."""
    set_dir, manifest = write_set(tmp_path, frames)
    with pytest.raises(ValueError, match=message):
        extract_set(
            set_dir,
            manifest,
            descriptor=descriptor,
            params=params,
            temporal=temporal,
            frame_rates={"smic_vis": 25},
            output=tmp_path / "features.npz",
        )
    assert not (tmp_path / "features.npz").exists() and not list(tmp_path.glob(".*"))


# --- acquisition ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def archive():
    """A .tar.gz of a two-clip SMIC-HS tree, and its SHA-256."""
    buffer = io.BytesIO()
    rng = np.random.default_rng(0)
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        for k in range(6):  # incompressible frames, so that the archive is big enough to cut
            ok, data = cv2.imencode(".bmp", rng.integers(0, 256, (60, 48, 3), dtype=np.uint8))
            info = tarfile.TarInfo(f"SMIC_all_cropped/HS/s1/micro/negative/s1_ne_01/reg_image{10000 + k}.bmp")
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data.tobytes()))
    payload = buffer.getvalue()
    return payload, hashlib.sha256(payload).hexdigest()


def test_http_500_is_a_clear_error(tmp_path, archive):
    with FileServer({"/smic.tar.gz": archive[0]}) as server:
        server.fail_with = 500
        with pytest.raises(ValueError, match=r"downloading http://127\.0\.0\.1:\d+/smic\.tar\.gz: HTTP 500"):
            download(f"{server.url}/smic.tar.gz", tmp_path / "smic.tar.gz")
    assert not (tmp_path / "smic.tar.gz").exists()


def test_server_stalling_mid_transfer_times_out_and_keeps_the_part(tmp_path, archive):
    payload, digest = archive
    with FileServer({"/smic.tar.gz": payload}) as server:
        server.pause_after = (1000, 2.0)
        with pytest.raises(ValueError, match=r"timed out; 1000 bytes kept in .*smic\.tar\.gz\.part, rerun to resume"):
            download(f"{server.url}/smic.tar.gz", tmp_path / "smic.tar.gz", sha256=digest, timeout=0.5)
        assert not (tmp_path / "smic.tar.gz").exists()
        server.pause_after = None
        download(f"{server.url}/smic.tar.gz", tmp_path / "smic.tar.gz", sha256=digest)
        assert server.requests[-1][1] == "bytes=1000-"
    assert (tmp_path / "smic.tar.gz").read_bytes() == payload


def test_download_killed_with_sigkill_resumes(tmp_path, archive):
    """A downloading process killed outright leaves its .part; the next download continues from it."""
    payload, digest = archive
    destination = tmp_path / "smic.tar.gz"
    partial = tmp_path / "smic.tar.gz.part"
    with FileServer({"/smic.tar.gz": payload}) as server:
        server.pause_after = (len(payload) // 2, 30)
        code = f"from mesr.data import download; download({server.url + '/smic.tar.gz'!r}, {str(destination)!r})"
        process = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO / "src")})
        deadline = time.monotonic() + 30
        while not (partial.exists() and partial.stat().st_size == len(payload) // 2):
            assert process.poll() is None and time.monotonic() < deadline, "the download never reached the pause"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert not destination.exists()
        server.pause_after = None
        download(f"{server.url}/smic.tar.gz", destination, sha256=digest)
        assert server.requests[-1] == ("/smic.tar.gz", f"bytes={len(payload) // 2}-", 206)
    assert destination.read_bytes() == payload and not partial.exists()


def test_part_the_server_cannot_resume_is_discarded(tmp_path, archive):
    """A .part longer than the file (HTTP 416 on resume) is not a prefix of it: the download starts again."""
    payload, digest = archive
    (tmp_path / "smic.tar.gz.part").write_bytes(b"\0" * (len(payload) + 10))
    with FileServer({"/smic.tar.gz": payload}) as server:
        download(f"{server.url}/smic.tar.gz", tmp_path / "smic.tar.gz", sha256=digest)
        assert [status for _, _, status in server.requests] == [416, 200]
    assert (tmp_path / "smic.tar.gz").read_bytes() == payload


def test_credentials_in_the_url_refused_without_echoing_them(tmp_path):
    message = r"dataset\.source: http://example\.org/smic\.zip carries credentials"
    with pytest.raises(ValueError, match=message) as error:
        acquire_dataset(
            {"source": "http://alice:s3cret-pw@example.org/smic.zip"},
            tmp_path / "smic",
            downloads=tmp_path / "downloads",
        )
    assert "s3cret-pw" not in str(error.value) and "alice" not in str(error.value)


@pytest.mark.parametrize("writer", ["download", "acquire", "manifest"])
def test_unwritable_destination_named(tmp_path, archive, writer):
    """A destination under a path that is a file (not a folder): the error names the destination and the file."""
    blocker = tmp_path / "resources"
    blocker.write_text("a file where a folder should be")
    if writer == "download":
        with FileServer({"/smic.tar.gz": archive[0]}) as server, pytest.raises(OSError) as error:
            download(f"{server.url}/smic.tar.gz", blocker / "downloads" / "smic.tar.gz")
    elif writer == "acquire":
        with pytest.raises(OSError) as error:
            acquire_dataset(
                {"source": "synthetic", "synthetic": {"preset": "mini"}},
                blocker / "smic",
                downloads=tmp_path / "downloads",
            )
    else:
        write_tree(tmp_path / "smic", [(1, "negative", 1, range(10000, 10006))])
        with pytest.raises(OSError) as error:
            build_manifest(tmp_path / "smic", blocker / "manifest.tsv", tmp_path / "gaps.tsv")
    assert f"cannot write {blocker}/" in str(error.value) and f"{blocker} is a file, not a folder" in str(error.value)
    assert blocker.read_text() == "a file where a folder should be"


# --- through the workflow ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def awkward_study(tmp_path_factory):
    """The whole workflow (bicubic only) on a dataset and in a run folder whose paths hold spaces and
    non-ASCII letters; greyscale BMPs; three subjects with no surprise clip (one has an empty surprise folder)."""
    base = tmp_path_factory.mktemp("awkward") / "dossier é"
    hs = base / "SMIC données" / "SMIC_all_cropped" / "HS"
    for subject in (1, 2, 3):
        for k, (label, number) in enumerate([("negative", 1), ("negative", 2), ("positive", 1), ("positive", 2)]):
            write_grey_clip(hs, subject, label, number, 6, seed=10 * subject + k)
    (hs / "s2" / "micro" / "surprise").mkdir()
    config = {**BICUBIC_ONLY, "dataset": {"source": str(base / "SMIC données")}}
    workdir = base / "run 1"
    result = snakemake(workdir, "--cores", "2", config=config)
    return workdir, config, result


@pytest.mark.workflow
def test_awkward_paths_greyscale_frames_and_a_missing_class(awkward_study):
    workdir, _, _ = awkward_study
    results = workdir / "results"
    manifest = pd.read_csv(results / "manifest.tsv", sep="\t")
    assert len(manifest) == 12 and set(manifest.label) == {"negative", "positive"}
    clip = np.load(results / "sets" / "HR128" / "s1_ne_01.npy")
    assert clip.shape == (6, 128, 128, 3)
    assert (clip[..., 0] == clip[..., 1]).all() and (clip[..., 0] == clip[..., 2]).all()  # grey stays grey
    for name in ("HR128", "SR64-bicubic", "LR64"):
        for descriptor in ("lbp_top", "lpq_top"):
            metrics = json.loads((results / "evaluation" / name / descriptor / "metrics.json").read_text())
            assert metrics["labels"] == ["negative", "positive", "surprise"]
            assert metrics["recall"]["surprise"] is None and metrics["recall"]["negative"] is not None
            assert metrics["confusion"][2] == [0, 0, 0] and sum(map(sum, metrics["confusion"])) == 12
            log = (workdir / "logs" / "evaluate" / name / f"{descriptor}.log").read_text()
            assert "no clip of class(es) surprise; their recall is null" in log
    table = pd.read_csv(results / "tables" / "table2.csv", comment="#")
    assert {"HR128", "SR64-bicubic", "LR64"} <= set(table.Set)
    assert (results / "figures" / "confusion" / "HR128_lbp_top.png").stat().st_size > 1000
    assert not [p for p in results.rglob(".*") if p.name.endswith((".tmp", ".partial"))]


@pytest.mark.workflow
def test_weights_of_another_architecture_named_with_layer_and_file(awkward_study, tmp_path):
    """An RRDN weights file given to an RDN model: the superres job fails naming the layer and the file."""
    from mesr.sr import build, save_weights

    workdir, config, _ = awkward_study
    weights = workdir.parent / "rrdn-C1-D1-G4-G04-T1-x2.hdf5"
    save_weights(build("rrdn", {"C": 1, "D": 1, "G": 4, "G0": 4, "T": 1}, 2), weights)
    wrong = {"arch": "rdn", "params": {"C": 1, "D": 1, "G": 4, "G0": 4}, "scales": [2], "weights": {"x2": str(weights)}}
    config = {**config, "models": {**config["models"], "wrong": wrong}}
    result = snakemake(workdir, "results/sets/SR64-wrong", "--cores", "1", config=config, check=False)
    assert result.returncode != 0
    assert f"ValueError: weights file {weights} has no layer 'F_m1'" in result.stdout + result.stderr
    assert not list((workdir / "results" / "sets").glob("*wrong*"))


@pytest.mark.workflow
def test_one_subject_and_a_short_clip_fail_clearly(tmp_path):
    """One subject: LOSO is impossible. A 3-frame clip with LPQ-TOP's 5-frame window: the features stage fails.
    Both are named on the console, and no features or metrics file is left for them."""
    hs = tmp_path / "smic" / "HS"
    write_clip(hs, 1, "negative", 1, range(10000, 10006))
    write_clip(hs, 1, "positive", 1, range(20000, 20006), seed=1)
    write_clip(hs, 1, "surprise", 1, range(30000, 30003), seed=2)
    config = {
        **BICUBIC_ONLY,
        "dataset": {"source": str(tmp_path / "smic")},
        "features": {"lbp_top": {"radii": [1, 1, 1]}},
    }
    targets = [f"results/evaluation/HR128/{d}/metrics.json" for d in ("lbp_top", "lpq_top")]
    result = snakemake(tmp_path / "run", *targets, "--cores", "2", "--keep-going", config=config, check=False)
    console = result.stdout + result.stderr
    assert result.returncode != 0
    assert "LOSO needs at least two subjects, results/features/HR128/lbp_top.npz has 1 (subject s1)" in console
    assert (
        "clip s1_sur_01 (results/sets/HR128/s1_sur_01.npy) has 3 frame(s) (30 ms at smic_hs's 100 fps), too few "
        "for lpq_top with "
        "window[2] (t) = 5 (features.lpq_top.window): it needs at least 5 frames"
    ) in console
    results = tmp_path / "run" / "results"
    assert not (results / "features" / "HR128" / "lpq_top.npz").exists()
    assert not (results / "evaluation").exists() or not list((results / "evaluation").rglob("*.*"))
    assert not [p for p in results.rglob(".*") if p.name.endswith((".tmp", ".partial"))]
