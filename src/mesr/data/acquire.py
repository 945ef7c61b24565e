"""Getting SMIC-HS onto disk (docs/data.md#acquisition): a directory, a local archive or an http(s) URL.

Credentials never appear in the configuration: it names environment
variables (``dataset.credentials.username_env`` / ``password_env``,
``dataset.archive_password_env``) and only their names are ever logged.
Downloads resume from a ``.part`` file and are renamed when complete and
verified. Archives are checked member by member before anything is
extracted: absolute paths, ``..`` components and links are refused.
"""

import base64
import hashlib
import logging
import os
import shutil
import stat
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from mesr.io import atomic_dir, make_parent
from mesr.data.datasets import adapter
from mesr.data.synthetic import generate

__all__ = ["acquire_dataset", "download", "sha256_of", "safe_extract", "ARCHIVE_SUFFIXES"]

logger = logging.getLogger(__name__)

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
_CHUNK = 1 << 20


def acquire_dataset(dataset, destination, *, downloads):
    """Materialise the dataset named by the ``dataset`` config under ``destination``.

    Parameters
    ----------
    dataset : dict
        The ``dataset`` section of the config: ``source`` ("synthetic", a
        directory, an archive path or an http(s) URL), ``sha256``,
        ``credentials`` {username_env, password_env}, ``archive_password_env``,
        ``synthetic`` {preset, seed} and ``name``, the adapter that finds the
        dataset's root (default ``smic_hs``). A composite (``megc2019``,
        docs/data.md#megc-2019-composite) that is not ``synthetic`` takes
        ``sources`` instead, {part: source or {source, sha256}}, and
        ``ground_truth``, a local path, an http(s) URL or {url, sha256}.
    destination : path-like
        Folder to create, written under a temporary name and renamed when
        complete. It holds the dataset's root (a link to it in a source
        directory, or the extracted tree), named as in the source (``HS``,
        ``VIS``, ``CASME2``...), or, for ``synthetic``, the generated twin;
        the adapter's ``find_root`` finds the root in either. A composite's
        holds each part, acquired as a dataset, in ``<part>/`` and the
        ground truth beside them; a part's downloads go to
        ``downloads/<part>/``, the ground truth's to ``downloads/<name>/``.
    downloads : path-like
        Folder keeping downloaded archives (and partial downloads, so that an
        interrupted transfer resumes).

    Raises
    ------
    ValueError
        If the source does not exist, is of an unknown kind, is a URL with
        credentials in it, fails its checksum, holds unsafe members or no
        tree of the dataset; for a composite, if ``sources`` or
        ``ground_truth`` (or a part of ``sources``) is not set, or the
        ground truth is refused (the message names the key).
    OSError
        If ``destination`` or ``downloads`` cannot be written (the message
        names the path).
    """
    name = dataset.get("name", "smic_hs")
    module, options = adapter(name)
    if hasattr(module, "PARTS") and str(dataset.get("source")) != "synthetic":
        _acquire_composite(dataset, destination, downloads, module)
        return
    source = str(dataset["source"])
    if source == "synthetic":
        synthetic = dataset.get("synthetic", {})
        logger.info("generating synthetic %s, preset %s, seed %s", name, synthetic.get("preset"), synthetic.get("seed"))
        generate(destination, dataset=name, preset=synthetic.get("preset", "demo"), seed=synthetic.get("seed", 0))
        return
    if _is_url(source):
        _refuse_credentials(source, "dataset.source")
        name = Path(urllib.parse.urlparse(source).path).name or "dataset"
        archive = Path(downloads) / name
        download(source, archive, sha256=dataset.get("sha256"), credentials=dataset.get("credentials"))
    else:
        archive = Path(source).expanduser()
        if not archive.exists():
            raise ValueError(f"dataset.source: {archive} does not exist")
    with atomic_dir(destination) as staging:
        if archive.is_dir():
            root = module.find_root(archive, **options)
            (staging / root.name).symlink_to(root.resolve(), target_is_directory=True)
            logger.info("linked %s", root)
        else:
            if dataset.get("sha256"):
                _verify(archive, dataset["sha256"])
            password = _secret(dataset.get("archive_password_env"), "dataset.archive_password_env")
            safe_extract(archive, staging / "extracted", password=password)
            root = _find_extracted_root(staging / "extracted", module, options, name)
            root.rename(staging / root.name)
            shutil.rmtree(staging / "extracted", ignore_errors=True)
    logger.info("dataset ready in %s", destination)


def _acquire_composite(dataset, destination, downloads, module):
    """Acquire each part of a composite into ``destination/<part>/`` and its ground truth beside them.

    ``dataset.sources`` maps each part to its source (as ``dataset.source``, or ``{source, sha256}``);
    ``dataset.ground_truth`` is a local path, an http(s) URL or ``{url, sha256}``. The ground truth is
    fetched (to ``downloads/<name>/``) and read first, so that a refused file fails before any part is
    downloaded; then each part is acquired as a single dataset is (its downloads in ``downloads/<part>/``)
    and the ground truth copied beside them. Everything is written under one temporary folder: a failure
    leaves no ``destination``.
    """
    name = dataset["name"]
    sources = dataset.get("sources") or {}
    truth = dataset.get("ground_truth")
    parts = ", ".join(module.PARTS)
    needed = f"{name} needs the source of each of its parts, {parts} (docs/data.md#megc-2019-composite)"
    if not sources:
        raise ValueError(f"dataset.sources is not set: {needed}")
    unknown = sorted(set(sources) - set(module.PARTS))
    if unknown:
        raise ValueError(f"dataset.sources: {', '.join(unknown)} is no part of {name}; its parts are {parts}")
    missing = [part for part in module.PARTS if not sources.get(part)]
    if missing:
        raise ValueError(f"dataset.sources.{missing[0]} is not set: {needed}")
    if not truth:
        raise ValueError(
            f"dataset.ground_truth is not set: {name} needs the organisers' {module.GROUND_TRUTH} "
            "(a local path or {url, sha256})"
        )
    downloads = Path(downloads)
    # The ground truth first: a refused file fails before any part is downloaded.
    url, sha256 = (truth.get("url"), truth.get("sha256")) if isinstance(truth, dict) else (truth, None)
    if not url:
        raise ValueError("dataset.ground_truth: give a local path, an http(s) URL or {url, sha256}")
    url = str(url)
    if _is_url(url):
        _refuse_credentials(url, "dataset.ground_truth")
        fetched = downloads / name / (Path(urllib.parse.urlparse(url).path).name or module.GROUND_TRUTH)
        if not sha256:  # nothing tells a kept copy from a stale one
            fetched.unlink(missing_ok=True)
        download(url, fetched, sha256=sha256)
    else:
        fetched = Path(url).expanduser()
        if not fetched.is_file():
            raise ValueError(f"dataset.ground_truth: {fetched} does not exist or is not a file")
        if sha256:
            _verify(fetched, sha256)
    try:
        rows = module.read_ground_truth(fetched)
    except ValueError as error:
        raise ValueError(f"dataset.ground_truth: {error}") from None
    logger.info("%s: %d rows, from %s", module.GROUND_TRUTH, len(rows), _redact(url) if _is_url(url) else url)
    with atomic_dir(destination) as staging:
        for part in module.PARTS:
            spec = sources[part] if isinstance(sources[part], dict) else {"source": sources[part]}
            if not spec.get("source"):
                raise ValueError(f"dataset.sources.{part}.source is not set")
            logger.info("acquiring part %s of %s", part, name)
            try:
                acquire_dataset(
                    {"name": part, "source": spec["source"], "sha256": spec.get("sha256")},
                    staging / part,
                    downloads=downloads / part,
                )
            except ValueError as error:
                message = str(error).removeprefix("dataset.source: ")  # the part's source is dataset.sources.<part>
                raise ValueError(f"dataset.sources.{part}: {message}") from None
        shutil.copyfile(fetched, staging / module.GROUND_TRUTH)
    logger.info("dataset ready in %s", destination)


def _is_url(source):
    return urllib.parse.urlparse(source).scheme in ("http", "https")


def _refuse_credentials(url, key):
    parts = urllib.parse.urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            f"{key}: {_redact(url)} carries credentials in the URL, and credentials never go in "
            f"the config: remove them and name the environment variables holding them in "
            f"dataset.credentials (username_env, password_env)"
        )


def _find_extracted_root(folder, module, options, name):
    """Find the dataset's root in an extracted archive, whatever folders (up to three) the archive wrapped it in."""
    folder = Path(folder)
    candidates = [folder] + sorted(p for p in folder.glob("*") if p.is_dir())
    candidates += sorted(p for p in folder.glob("*/*/*") if p.is_dir())
    errors = []
    for candidate in candidates:
        try:
            return module.find_root(candidate, **options)
        except ValueError as error:
            errors.append(error)
    raise ValueError(f"the archive holds no {name} tree: {errors[0]}")


def sha256_of(path):
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(path, expected):
    actual = sha256_of(path)
    if actual != expected.lower():
        raise ValueError(f"{path}: sha256 is {actual}, expected {expected}; refusing to use it")
    logger.info("%s: sha256 verified", path)


def _secret(variable, key):
    """Read a secret from the environment variable named in the config (None when not configured)."""
    if not variable:
        return None
    if variable not in os.environ:
        raise ValueError(f"{key} names environment variable {variable}, which is not set")
    return os.environ[variable]


def download(url, destination, *, sha256=None, size=None, credentials=None, timeout=60):
    """Download ``url`` to ``destination``, resuming a partial download, atomically.

    Bytes go to ``destination + '.part'``; a later call continues from its size
    with an HTTP Range request. Only a complete (and, when ``sha256`` is given,
    verified) file is renamed to ``destination``. An existing ``destination``
    whose checksum matches is kept.

    Parameters
    ----------
    url : str
        http(s) URL.
    destination : path-like
        Final file.
    sha256 : str, optional
        Expected hex digest.
    size : int, optional
        Expected size in bytes, checked before the digest.
    credentials : dict, optional
        ``{"username_env": NAME, "password_env": NAME}``: environment variables
        holding HTTP basic-auth credentials. Their values are never logged.
    timeout : float
        Seconds without data before giving up.

    Raises
    ------
    ValueError
        On an HTTP error (401, 404, 500, ...), a stalled connection, a size or
        checksum mismatch; the message names the URL without credentials.
        A kept part the server cannot resume from (HTTP 416: e.g. longer than
        the file) is discarded and the download starts again.
    OSError
        If ``destination`` cannot be written (the message names it).
    """
    destination = Path(destination)
    make_parent(destination)
    shown = _redact(url)
    if destination.exists() and (not sha256 or sha256_of(destination) == sha256.lower()):
        logger.info("%s already downloaded", destination)
        return destination
    partial = destination.with_name(destination.name + ".part")
    headers = {}
    credentials = credentials or {}
    username = _secret(credentials.get("username_env"), "dataset.credentials.username_env")
    password = _secret(credentials.get("password_env"), "dataset.credentials.password_env")
    if username is not None or password is not None:
        token = base64.b64encode(f"{username or ''}:{password or ''}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    offset = partial.stat().st_size if partial.exists() else 0
    if offset:
        headers["Range"] = f"bytes={offset}-"
        logger.info("resuming %s at byte %d", shown, offset)
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if offset and response.status != 206:  # server ignored the range: start again
                offset = 0
            total = response.headers.get("Content-Length")
            expected = offset + int(total) if total is not None else None
            with open(partial, "ab" if offset else "wb") as handle:
                # read1: whatever has arrived, so that a stall or a kill keeps every byte received so far
                while chunk := response.read1(_CHUNK):
                    handle.write(chunk)
                    handle.flush()
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # the kept part is not a prefix of this file: start again
            logger.warning(
                "%s: %s holds %d bytes the server cannot resume from; downloading afresh", shown, partial, offset
            )
            partial.unlink()
            return download(url, destination, sha256=sha256, size=size, credentials=credentials, timeout=timeout)
        hint = " (check the credentials named in dataset.credentials)" if error.code in (401, 403) else ""
        raise ValueError(f"downloading {shown}: HTTP {error.code} {error.reason}{hint}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ValueError(
            f"downloading {shown}: {reason}; {partial.stat().st_size if partial.exists() else 0} bytes kept "
            f"in {partial}, rerun to resume"
        ) from None
    received = partial.stat().st_size
    if expected is not None and received != expected:
        raise ValueError(f"downloading {shown}: got {received} of {expected} bytes; rerun to resume")
    if size is not None and received != size:
        partial.unlink()
        raise ValueError(f"downloading {shown}: {received} bytes, expected {size}; file discarded")
    if sha256:
        actual = sha256_of(partial)
        if actual != sha256.lower():
            partial.unlink()
            raise ValueError(f"downloading {shown}: sha256 is {actual}, expected {sha256}; file discarded")
    os.replace(partial, destination)
    logger.info("downloaded %s (%d bytes)", shown, received)
    return destination


def _redact(url):
    """The URL without any user:password part, for messages."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def safe_extract(archive, target, *, password=None):
    """Extract a .zip, .tar, .tar.gz or .tgz into ``target``, refusing unsafe members.

    Every member is checked before anything is written: absolute paths,
    ``..`` components, symbolic or hard links, and device files are refused,
    so nothing can land outside ``target``. Extraction goes to a temporary
    folder renamed to ``target`` at the end.

    Parameters
    ----------
    archive : path-like
        The archive; its kind is taken from its suffix.
    target : path-like
        Folder to create.
    password : str, optional
        Zip password (read by the caller from the environment).

    Raises
    ------
    ValueError
        For an unsupported suffix, a corrupt archive, a wrong password or an
        unsafe member; the message names the archive and the member.
    """
    archive, target = Path(archive), Path(target)
    name = archive.name.lower()
    if not name.endswith(ARCHIVE_SUFFIXES):
        raise ValueError(f"{archive}: unsupported archive type; expected one of {', '.join(ARCHIVE_SUFFIXES)}")
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(archive) as bundle:
                for member in bundle.infolist():
                    _check_member(archive, member.filename)
                    if stat.S_ISLNK(member.external_attr >> 16):
                        raise ValueError(f"{archive}: member {member.filename} is a symbolic link; refusing to extract")
                with atomic_dir(target) as staging:
                    bundle.extractall(staging, pwd=password.encode() if password is not None else None)
        else:
            with tarfile.open(archive) as bundle:
                members = bundle.getmembers()
                for member in members:
                    _check_member(archive, member.name)
                    if member.issym() or member.islnk():
                        raise ValueError(
                            f"{archive}: member {member.name} is a link to {member.linkname}; refusing to extract"
                        )
                    if not (member.isfile() or member.isdir()):
                        raise ValueError(f"{archive}: member {member.name} is not a regular file or folder")
                with atomic_dir(target) as staging:
                    bundle.extractall(staging, members=members, filter="data")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as error:
        raise ValueError(f"{archive}: corrupt archive ({error})") from None
    except RuntimeError as error:  # zipfile: encrypted member without or with a wrong password
        raise ValueError(f"{archive}: {error} (set dataset.archive_password_env)") from None


def _check_member(archive, member):
    path = PurePosixPath(member.replace("\\", "/"))
    if path.is_absolute() or member.startswith(("/", "\\")) or (len(member) > 1 and member[1] == ":"):
        raise ValueError(f"{archive}: member {member} has an absolute path; refusing to extract")
    if ".." in path.parts:
        raise ValueError(f"{archive}: member {member} would land outside the target ('..'); refusing to extract")
