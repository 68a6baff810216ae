"""Embed in-toto metadata into a built wheel or sdist, writing a reproducible archive.

Shared by the build backend and ``intoto-pip attach``. The new archive holds:

- wheel: the input's members in the input's order, except that ``.dist-info`` members come
  after all others (as the wheel spec recommends), then ``<dist-info>/in-toto/root.layout``,
  then the link files sorted by path, then a regenerated ``RECORD`` (always last);
- sdist: the input's members in the input's order, then ``<name>-<version>/.in-toto/`` with
  ``root.layout`` first and the link files sorted by path.

An in-toto folder already in the input is dropped (and must equal the new one unless
``replace`` is set). Only the bytes of the in-toto folder and of ``RECORD`` differ from the
input, so the products a producer recorded from the input stay the archive's products (§5).

Member metadata is normalised: mode 0644, or 0755 for folders and files with any execute
bit; tar owner 0/0 with empty owner names; no extra zip fields, comments or pax headers; all
zip members deflated. Times: ``SOURCE_DATE_EPOCH`` when given (zip times clamped to the
1980-2107 range zip can hold); otherwise each member keeps its time and the new members, like
the gzip header, take the latest time found in the input.
"""

from __future__ import annotations

import base64
import csv
import functools
import gzip
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final, Literal

from intoto_pip.archives.checked import CheckedArchive
from intoto_pip.archives.names import WheelInfo, member_name_problem
from intoto_pip.errors import ArchiveError, InputError

LAYOUT_NAME: Final = "root.layout"
_ZIP_MIN_EPOCH: Final = 315532800  # 1980-01-01T00:00:00Z, the earliest time zip can hold
_ZIP_MAX_EPOCH: Final = 4354819199  # 2107-12-31T23:59:59Z, the latest
_FILE_MODE: Final = 0o644
_EXEC_MODE: Final = 0o755
_CHUNK: Final = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """The in-toto folder's content: the layout and links by path inside the folder."""

    layout: bytes
    links: Mapping[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in self.links:
            problem = member_name_problem(name)
            if problem or name == LAYOUT_NAME:
                raise InputError(f"link file {name!r} cannot go into an in-toto folder")

    def files(self) -> dict[str, bytes]:
        """Folder-relative name -> bytes, in the order they are written."""
        return {LAYOUT_NAME: self.layout, **{n: self.links[n] for n in sorted(self.links)}}


@dataclass(frozen=True, kw_only=True)
class Target:
    """Where metadata goes in one archive: its kind, folder (with a trailing /) and RECORD."""

    kind: Literal["wheel", "sdist"]
    intoto_dir: str
    record: str | None = None

    def __post_init__(self) -> None:
        if not self.intoto_dir.endswith("/") or (self.kind == "wheel") != bool(self.record):
            raise ValueError("intoto_dir needs a trailing '/', and only wheels have a RECORD")


@dataclass(frozen=True, kw_only=True)
class EmbedOptions:
    source_date_epoch: int | None = None
    replace: bool = False  # drop an in-toto folder that differs from the new one


def source_date_epoch(environ: Mapping[str, str]) -> int | None:
    """``SOURCE_DATE_EPOCH`` as an int, None when unset or empty; InputError when malformed."""
    text = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise InputError(f"SOURCE_DATE_EPOCH={text!r}: expected a whole number of seconds")
    return int(text)


def embedded_files(source: Path, target: Target) -> dict[str, bytes]:
    """The in-toto folder already in ``source``: folder-relative name -> bytes."""
    found: dict[str, bytes] = {}
    for name, read in _files(source, target.kind):
        if name.startswith(target.intoto_dir):
            found[name[len(target.intoto_dir) :]] = read()
    return found


def embed(
    source: Path, dest: Path, target: Target, evidence: Evidence, options: EmbedOptions
) -> None:
    """Write ``source`` plus ``evidence`` to ``dest`` (may be ``source``), atomically."""
    existing = embedded_files(source, target)
    if existing and existing != evidence.files() and not options.replace:
        raise InputError(
            f"{source.name} already carries different in-toto metadata in {target.intoto_dir}:"
            " pass --replace to overwrite it"
        )
    with _atomic_output(dest) as handle:
        if target.kind == "wheel":
            _write_wheel(source, handle, target, evidence, options.source_date_epoch)
        else:
            _write_sdist(source, handle, target, evidence, options.source_date_epoch)


@contextmanager
def _atomic_output(dest: Path) -> Iterator[IO[bytes]]:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.chmod(tmp_name, _FILE_MODE)
        os.replace(tmp_name, dest)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _files(source: Path, kind: str) -> Iterator[tuple[str, Callable[[], bytes]]]:
    """Each regular file's name and a way to read it (folders are left out)."""
    try:
        if kind == "wheel":
            with zipfile.ZipFile(source) as archive:
                for info in archive.infolist():
                    if not info.is_dir():
                        yield info.filename, functools.partial(archive.read, info)
        else:
            with tarfile.open(source, "r:gz") as tar:
                for member in tar.getmembers():
                    if member.isfile():
                        yield member.name, functools.partial(_read_tar_member, tar, member)
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise ArchiveError(f"{source.name}: cannot be read as a {kind} ({exc})") from exc


def _read_tar_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    return b"" if handle is None else handle.read()


# --- wheels -------------------------------------------------------------------------------


def _zip_time(epoch: int) -> tuple[int, int, int, int, int, int]:
    year, month, day, hour, minute, second = time.gmtime(
        min(max(epoch, _ZIP_MIN_EPOCH), _ZIP_MAX_EPOCH)
    )[:6]
    return (year, month, day, hour, minute, second)


def _wheel_order(infos: list[zipfile.ZipInfo], target: Target) -> list[zipfile.ZipInfo]:
    assert target.record is not None
    dist_info = target.record.rpartition("/")[0] + "/"
    kept = [
        info
        for info in infos
        if info.filename != target.record and not info.filename.startswith(target.intoto_dir)
    ]
    # A stable sort: the backend's order, with the .dist-info folder moved to the end.
    return sorted(kept, key=lambda info: info.filename.startswith(dist_info))


def _new_zipinfo(
    name: str, date_time: tuple[int, int, int, int, int, int], executable: bool
) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time)
    info.create_system = 3  # Unix, so external_attr carries the mode on every platform
    if name.endswith("/"):
        info.external_attr = (0o040000 | _EXEC_MODE) << 16 | 0x10
    else:
        mode = _EXEC_MODE if executable else _FILE_MODE
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
    return info


@dataclass
class _RecordRows:
    rows: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, name: str, digest: bytes, size: int) -> None:
        encoded = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        self.rows.append((name, f"sha256={encoded}", str(size)))

    def dump(self, record_name: str) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=",", quotechar='"', lineterminator="\n")
        writer.writerows([*self.rows, (record_name, "", "")])
        return buffer.getvalue().encode("utf-8")


def _copy_zip_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, out: zipfile.ZipFile, new: zipfile.ZipInfo
) -> tuple[bytes, int]:
    digest = hashlib.sha256()
    new.file_size = info.file_size
    with archive.open(info) as src, out.open(new, "w", force_zip64=info.file_size > 2**31) as dst:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            dst.write(chunk)
    return digest.digest(), info.file_size


def _write_wheel(
    source: Path, handle: IO[bytes], target: Target, evidence: Evidence, sde: int | None
) -> None:
    assert target.record is not None
    try:
        with zipfile.ZipFile(source) as archive:
            infos = archive.infolist()
            newest = max((info.date_time for info in infos), default=_zip_time(0))
            fixed = None if sde is None else _zip_time(sde)
            rows = _RecordRows()
            with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as out:
                for info in _wheel_order(infos, target):
                    executable = bool((info.external_attr >> 16) & 0o111)
                    new = _new_zipinfo(info.filename, fixed or info.date_time, executable)
                    digest, size = _copy_zip_member(archive, info, out, new)
                    if not info.is_dir():
                        rows.add(info.filename, digest, size)
                stamp = fixed or newest
                for name, data in evidence.files().items():
                    member = target.intoto_dir + name
                    out.writestr(_new_zipinfo(member, stamp, False), data)
                    rows.add(member, hashlib.sha256(data).digest(), len(data))
                record_time = fixed or _record_time(archive, target.record, newest)
                new_record = _new_zipinfo(target.record, record_time, False)
                out.writestr(new_record, rows.dump(target.record))
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ArchiveError(f"{source.name}: cannot be read as a wheel ({exc})") from exc


def _record_time(
    archive: zipfile.ZipFile, record: str, default: tuple[int, int, int, int, int, int]
) -> tuple[int, int, int, int, int, int]:
    try:
        return archive.getinfo(record).date_time
    except KeyError:
        return default


# --- sdists -------------------------------------------------------------------------------


def _new_tarinfo(name: str, *, is_dir: bool, executable: bool, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE if is_dir else tarfile.REGTYPE
    info.mode = _EXEC_MODE if (is_dir or executable) else _FILE_MODE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = mtime
    return info


def _sdist_members(tar: tarfile.TarFile, target: Target) -> list[tarfile.TarInfo]:
    top_marker = target.intoto_dir.rstrip("/")
    kept: list[tarfile.TarInfo] = []
    for member in tar.getmembers():
        if member.name == top_marker or member.name.startswith(target.intoto_dir):
            continue
        if not (member.isfile() or member.isdir()):
            raise ArchiveError(f"sdist member {member.name!r} is not a regular file or folder")
        kept.append(member)
    return kept


def _write_sdist(
    source: Path, handle: IO[bytes], target: Target, evidence: Evidence, sde: int | None
) -> None:
    try:
        with tarfile.open(source, "r:gz") as tar:
            members = _sdist_members(tar, target)
            newest = max((int(m.mtime) for m in members), default=0)
            stamp = newest if sde is None else sde
            with (
                gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=stamp) as zipped,
                tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as out,
            ):
                for member in members:
                    _copy_tar_member(tar, member, out, sde)
                for name, data in evidence.files().items():
                    info = _new_tarinfo(
                        target.intoto_dir + name, is_dir=False, executable=False, mtime=stamp
                    )
                    info.size = len(data)
                    out.addfile(info, io.BytesIO(data))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ArchiveError(f"{source.name}: cannot be read as an sdist ({exc})") from exc


def _copy_tar_member(
    tar: tarfile.TarFile, member: tarfile.TarInfo, out: tarfile.TarFile, sde: int | None
) -> None:
    info = _new_tarinfo(
        member.name,
        is_dir=member.isdir(),
        executable=bool(member.mode & 0o111),
        mtime=int(member.mtime) if sde is None else sde,
    )
    if member.isdir():
        out.addfile(info)
        return
    info.size = member.size
    source = tar.extractfile(member)
    if source is None:
        raise ArchiveError(f"sdist member {member.name!r} cannot be read")
    with source:
        out.addfile(info, source)


def copy_archive(source: Path, dest: Path) -> None:
    """Copy an archive unchanged (atomically), for builds that embed nothing."""
    with source.open("rb") as src, _atomic_output(dest) as dst:
        shutil.copyfileobj(src, dst, _CHUNK)


def target_of(checked: CheckedArchive) -> Target:
    """Where the metadata goes in an archive that passed ``open_checked``."""
    info = checked.info
    if isinstance(info, WheelInfo):
        record = f"{info.dist_info}/RECORD"
        return Target(kind="wheel", intoto_dir=checked.embedded_prefix, record=record)
    if not checked.archive.filename.endswith(".tar.gz"):
        raise InputError(f"{checked.archive.filename}: only .tar.gz sdists can carry metadata")
    return Target(kind="sdist", intoto_dir=checked.embedded_prefix)


def final_products(checked: CheckedArchive) -> dict[str, dict[str, str]]:
    """The archive's products in link form (DESIGN §5), hashed from the checked archive."""
    hashes = checked.archive.sha256_of_members()
    return {name: {"sha256": hashes[name]} for name in sorted(checked.products)}
