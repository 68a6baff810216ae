"""Download or copy each archive exactly once into a private folder, checking its sha256.

Everything after this step reads the private copy, so the bytes verified are the bytes
installed: nobody can swap a file between verification and installation.

A local archive's detached evidence (the folder ``<archive filename>.intoto/`` beside it) is
copied once too, beside the private copy, where verification looks for it: regular files only
(links and devices are left out, as verification itself ignores them), within the evidence caps.
What is verified is what was read then, whatever happens to the user's folder afterwards.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from intoto_pip.archives.evidence import DETACHED_SUFFIX, MAX_DEPTH, MAX_FILES, MAX_TOTAL_BYTES
from intoto_pip.archives.names import member_name_problem
from intoto_pip.errors import InputError, InstallError, MetadataError, VerificationError
from intoto_pip.install.connection import Connection, Response
from intoto_pip.store import read_metadata_bytes

CHUNK = 1024 * 1024
TIMEOUT = 60.0
MAX_DOWNLOAD_BYTES = 16 * 1024**3  # the largest wheels on PyPI are a few GB

Progress = Callable[[int, int | None], None]  # (bytes so far, total or None)


@dataclass(frozen=True, kw_only=True)
class FetchedFile:
    """A private copy: where it is, where it came from, and its sha256."""

    path: Path
    filename: str
    url: str
    sha256: str
    size: int


def private_folder() -> Path:
    """A fresh folder only we can read and write."""
    return Path(tempfile.mkdtemp(prefix="intoto-pip-"))


def safe_filename(url: str) -> str:
    name = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
    if member_name_problem(name) or "/" in name:
        raise VerificationError(f"{url}: the file name {name!r} is not acceptable")
    return name


def copy_local(path: Path, folder: Path, progress: Progress | None = None) -> FetchedFile:
    """Copy a local archive the user named; a missing file is a usage error (exit 2)."""
    try:
        source = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from exc
    with source:
        total = os.fstat(source.fileno()).st_size
        fetched = _store(source, folder, path.name, path.absolute().as_uri(), total, progress)
    _copy_evidence(path.parent / f"{path.name}{DETACHED_SUFFIX}", fetched.path.parent)
    return fetched


def _copy_evidence(evidence: Path, folder: Path) -> None:
    """Copy a detached evidence folder (when there is one) into ``folder``, under its name."""
    if evidence.is_symlink() or not evidence.is_dir():
        return
    budget = [MAX_FILES, MAX_TOTAL_BYTES]
    _copy_tree(evidence, folder / evidence.name, budget, 0)


def _copy_tree(source: Path, dest: Path, budget: list[int], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise MetadataError(f"{source}: evidence folders nested deeper than {MAX_DEPTH} levels")
    dest.mkdir(mode=0o700)
    try:
        entries = sorted(os.scandir(source), key=lambda entry: entry.name)
    except OSError as exc:
        raise MetadataError(f"{source}: cannot be read ({exc.strerror})") from exc
    for entry in entries:
        mode = entry.stat(follow_symlinks=False).st_mode
        if stat.S_ISDIR(mode):
            _copy_tree(Path(entry.path), dest / entry.name, budget, depth + 1)
        elif stat.S_ISREG(mode):
            data = read_metadata_bytes(Path(entry.path))
            budget[0] -= 1
            budget[1] -= len(data)
            if budget[0] < 0 or budget[1] < 0:
                raise MetadataError(f"{source}: more evidence than the caps allow")
            (dest / entry.name).write_bytes(data)


def fetch_url(
    url: str,
    folder: Path,
    *,
    expected_sha256: str | None,
    progress: Progress | None = None,
    connection: Connection | None = None,
) -> FetchedFile:
    """Download ``url`` (http, https or file) and check the index's sha256 when it gave one.

    ``connection``: pip's connection settings (certificates, proxy, timeout), as pip used
    them to resolve; the defaults without."""
    filename = safe_filename(url)
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https", "file"):
        raise InstallError(f"{url}: unsupported URL scheme {scheme!r}")
    try:
        with (connection or Connection(timeout=TIMEOUT)).open(url) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            fetched = _store(response, folder, filename, url, total, progress)
    except OSError as exc:
        raise InstallError(f"{url}: download failed ({exc})") from exc
    if not has_index_hash(fetched, expected_sha256):
        fetched.path.unlink(missing_ok=True)
        raise VerificationError(
            f"{filename}: sha256 {fetched.sha256} does not match the index's {expected_sha256}"
        )
    return fetched


def has_index_hash(fetched: FetchedFile, expected_sha256: str | None) -> bool:
    """Whether the bytes held have the sha256 the index gave (true when it gave none)."""
    return not expected_sha256 or fetched.sha256 == expected_sha256.lower()


def _store(
    stream: BinaryIO | Response,
    folder: Path,
    filename: str,
    url: str,
    total: int | None,
    progress: Progress | None,
) -> FetchedFile:
    # A folder of its own: two archives with one file name (from two URLs) stay apart.
    target = Path(tempfile.mkdtemp(dir=folder)) / filename
    digest = hashlib.sha256()
    size = 0
    with target.open("xb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > MAX_DOWNLOAD_BYTES:
                raise VerificationError(f"{filename}: larger than {MAX_DOWNLOAD_BYTES} bytes")
            digest.update(chunk)
            out.write(chunk)
            if progress is not None:
                progress(size, total)
    if progress is not None:
        getattr(progress, "close", lambda: None)()
    return FetchedFile(
        path=target, filename=filename, url=url, sha256=digest.hexdigest(), size=size
    )


def remove_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
