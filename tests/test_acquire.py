import hashlib
import io
import tarfile
import zipfile

import pytest
from http_server import FileServer
from smic_trees import write_tree

from mesr.data import acquire_dataset, build_manifest, download, safe_extract
from mesr.data.smic import find_root

PASSWORD = "correct-horse-battery"


def tar_gz_of(folder):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        bundle.add(folder, arcname=folder.name)
    return buffer.getvalue()


@pytest.fixture
def smic_archive(tmp_path):
    root = tmp_path / "src"
    write_tree(root, [(1, "negative", 1, range(10000, 10006)), (2, "surprise", 1, range(20000, 20008))])
    return tar_gz_of(root / "SMIC_all_cropped")


def test_download_with_basic_auth_from_environment(tmp_path, monkeypatch, smic_archive):
    monkeypatch.setenv("SMIC_USER", "alice")
    monkeypatch.setenv("SMIC_PASS", PASSWORD)
    with FileServer({"/smic.tar.gz": smic_archive}) as server:
        server.auth = ("alice", PASSWORD)
        credentials = {"username_env": "SMIC_USER", "password_env": "SMIC_PASS"}
        target = download(f"{server.url}/smic.tar.gz", tmp_path / "dl" / "smic.tar.gz", credentials=credentials)
    assert target.read_bytes() == smic_archive
    assert not (tmp_path / "dl" / "smic.tar.gz.part").exists()


def test_wrong_credentials_give_401_without_the_secret(tmp_path, monkeypatch, smic_archive):
    monkeypatch.setenv("SMIC_USER", "alice")
    monkeypatch.setenv("SMIC_PASS", "wrong-" + PASSWORD)
    with FileServer({"/smic.tar.gz": smic_archive}) as server:
        server.auth = ("alice", PASSWORD)
        with pytest.raises(ValueError, match="HTTP 401") as error:
            download(
                f"{server.url}/smic.tar.gz",
                tmp_path / "smic.tar.gz",
                credentials={"username_env": "SMIC_USER", "password_env": "SMIC_PASS"},
            )
    assert PASSWORD not in str(error.value) and "dataset.credentials" in str(error.value)
    assert not (tmp_path / "smic.tar.gz").exists()


def test_unset_credential_variable_named(tmp_path, monkeypatch):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(ValueError, match="username_env names environment variable NOT_SET_ANYWHERE, which is not set"):
        download("http://127.0.0.1:9/x.zip", tmp_path / "x.zip", credentials={"username_env": "NOT_SET_ANYWHERE"})


def test_404_is_a_clear_error(tmp_path):
    with FileServer({}) as server:
        with pytest.raises(ValueError, match=r"downloading http://127\.0\.0\.1:\d+/missing\.zip: HTTP 404"):
            download(f"{server.url}/missing.zip", tmp_path / "missing.zip")


def test_cut_transfer_resumes_with_a_range_request(tmp_path, smic_archive):
    digest = hashlib.sha256(smic_archive).hexdigest()
    destination = tmp_path / "smic.tar.gz"
    with FileServer({"/smic.tar.gz": smic_archive}) as server:
        server.cut_after = len(smic_archive) // 3
        with pytest.raises(ValueError, match="rerun to resume"):
            download(f"{server.url}/smic.tar.gz", destination, sha256=digest)
        partial = tmp_path / "smic.tar.gz.part"
        assert partial.stat().st_size == len(smic_archive) // 3 and not destination.exists()
        download(f"{server.url}/smic.tar.gz", destination, sha256=digest)
        assert server.requests[-1] == ("/smic.tar.gz", f"bytes={len(smic_archive) // 3}-", 206)
    assert destination.read_bytes() == smic_archive and not partial.exists()


def test_stalled_server_times_out(tmp_path, smic_archive):
    with FileServer({"/smic.tar.gz": smic_archive}) as server:
        server.stall = 1.5
        with pytest.raises(ValueError, match="timed out"):
            download(f"{server.url}/smic.tar.gz", tmp_path / "smic.tar.gz", timeout=0.3)


def test_wrong_sha256_refused_before_extraction(tmp_path, smic_archive):
    archive = tmp_path / "smic.tar.gz"
    archive.write_bytes(smic_archive)
    with pytest.raises(ValueError, match="sha256 is .* expected 0{64}; refusing"):
        acquire_dataset({"source": str(archive), "sha256": "0" * 64}, tmp_path / "res" / "smic", downloads=tmp_path)
    assert not (tmp_path / "res").exists() or not any((tmp_path / "res").iterdir())


def test_acquire_url_end_to_end(tmp_path, smic_archive):
    with FileServer({"/data/smic.tar.gz": smic_archive}) as server:
        dataset = {"source": f"{server.url}/data/smic.tar.gz", "sha256": hashlib.sha256(smic_archive).hexdigest()}
        acquire_dataset(dataset, tmp_path / "res" / "smic", downloads=tmp_path / "res" / "downloads")
    manifest = build_manifest(tmp_path / "res" / "smic", tmp_path / "m.tsv", tmp_path / "g.tsv")
    assert manifest.clip_id.tolist() == ["s1_ne_01", "s2_sur_01"]
    assert (tmp_path / "res" / "downloads" / "smic.tar.gz").exists()


def test_acquire_directory_links_it(tmp_path):
    hs = write_tree(tmp_path / "data", [(4, "positive", 2, range(30000, 30005))])
    acquire_dataset({"source": str(tmp_path / "data")}, tmp_path / "res" / "smic", downloads=tmp_path)
    assert find_root(tmp_path / "res" / "smic").resolve() == hs.resolve()


def test_acquire_zip(tmp_path):
    write_tree(tmp_path / "data", [(4, "positive", 2, range(30000, 30005))])
    archive = tmp_path / "smic.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in (tmp_path / "data").rglob("*.bmp"):
            bundle.write(path, path.relative_to(tmp_path / "data"))
    acquire_dataset({"source": str(archive)}, tmp_path / "res" / "smic", downloads=tmp_path)
    assert len(list((tmp_path / "res" / "smic" / "HS").rglob("*.bmp"))) == 5


def test_missing_source_named(tmp_path):
    with pytest.raises(ValueError, match=r"dataset.source: .*nowhere does not exist"):
        acquire_dataset({"source": str(tmp_path / "nowhere")}, tmp_path / "res", downloads=tmp_path)


def assert_nothing_outside(tmp_path, before):
    after = {p for p in tmp_path.rglob("*")}
    created = {p for p in after - before if "target" not in p.parts and ".target.partial" not in p.name}
    assert not created, created
    assert not (tmp_path / "target").exists()


def test_zip_with_dotdot_member_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("HS/s1/ok.txt", "fine")
        bundle.writestr("../escaped.txt", "evil")
    before = set(tmp_path.rglob("*"))
    with pytest.raises(ValueError, match=r"member \.\./escaped\.txt would land outside"):
        safe_extract(archive, tmp_path / "target")
    assert not (tmp_path.parent / "escaped.txt").exists()
    assert_nothing_outside(tmp_path, before)


def test_tar_with_absolute_member_refused(tmp_path):
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as bundle:
        data = b"evil"
        info = tarfile.TarInfo(str(tmp_path / "absolute.txt"))
        info.size = len(data)
        bundle.addfile(info, io.BytesIO(data))
    before = set(tmp_path.rglob("*"))
    with pytest.raises(ValueError, match="has an absolute path"):
        safe_extract(archive, tmp_path / "target")
    assert not (tmp_path / "absolute.txt").exists()
    assert_nothing_outside(tmp_path, before)


def test_tar_with_symlink_out_refused(tmp_path):
    archive = tmp_path / "evil.tgz"
    with tarfile.open(archive, "w:gz") as bundle:
        link = tarfile.TarInfo("HS/escape")
        link.type = tarfile.SYMTYPE
        link.linkname = "../../../etc"
        bundle.addfile(link)
        data = b"evil"
        info = tarfile.TarInfo("HS/escape/passwd")
        info.size = len(data)
        bundle.addfile(info, io.BytesIO(data))
    before = set(tmp_path.rglob("*"))
    with pytest.raises(ValueError, match=r"member HS/escape is a link to \.\./\.\./\.\./etc"):
        safe_extract(archive, tmp_path / "target")
    assert_nothing_outside(tmp_path, before)


def test_corrupt_and_unsupported_archives(tmp_path):
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ValueError, match="broken.zip: corrupt archive"):
        safe_extract(tmp_path / "broken.zip", tmp_path / "target")
    (tmp_path / "data.rar").write_bytes(b"x")
    with pytest.raises(ValueError, match="unsupported archive type"):
        safe_extract(tmp_path / "data.rar", tmp_path / "target")
