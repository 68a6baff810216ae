"""``installer``'s ``WheelSource`` over our own reader: the listing verification used.

``installer.sources.WheelFile`` would open the wheel again with :mod:`zipfile`, a second parser
that can read another archive out of the same bytes (two central directories, a zip64 record
with "extensible data"). ``VerifiedWheel`` reads the private copy through
``archives.checked.open_checked`` instead, the very reader and checks verification used:
the same members, and each member's bytes re-hashed as they stream and compared with the
hashes taken when the archive was opened and its RECORD checked. No ``zipfile`` anywhere.

``__pycache__`` members are left out, as pip does: bytecode is compiled on the target.
"""

from __future__ import annotations

import base64
import io
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from installer.sources import WheelContentElement, WheelSource

from intoto_pip.archives.checked import CheckedArchive, open_checked
from intoto_pip.archives.names import WheelInfo
from intoto_pip.errors import ArchiveError

SPOOL_IN_MEMORY = 8 * 1024 * 1024


class _ChunkReader(io.RawIOBase):
    """A readable binary stream over an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks, self._pending = chunks, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = chunk
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def drain(self) -> None:
        """Read what the consumer left: the member's size, CRC and hash are checked at its end."""
        self._pending = b""
        for _chunk in self._chunks:
            pass


class VerifiedWheel(WheelSource):
    """A checked wheel, for ``installer.install``; open with :func:`open_wheel`."""

    def __init__(self, checked: CheckedArchive, info: WheelInfo) -> None:
        super().__init__(distribution=info.metadata_name, version=str(info.version))
        self.checked, self.info = checked, info
        self.skipped: list[str] = []
        self._rows = {row.path: row for row in info.record}

    @property
    def dist_info_dir(self) -> str:
        return self.info.dist_info

    @property
    def data_dir(self) -> str:
        return self.info.dist_info.removesuffix(".dist-info") + ".data"

    @property
    def dist_info_filenames(self) -> list[str]:
        prefix = self.dist_info_dir + "/"
        return [name[len(prefix) :] for name in self.checked.names() if name.startswith(prefix)]

    def read_dist_info(self, filename: str) -> str:
        data = self.checked.read(f"{self.dist_info_dir}/{filename}")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            where = self.checked.archive.filename
            raise ArchiveError(f"{where}: {filename} is not UTF-8") from None

    def validate_record(self) -> None:
        """Done already: ``open_checked`` checked RECORD strictly against every member."""

    def member_names(self) -> list[str]:
        """The members to install, in archive order (``__pycache__`` left out)."""
        return [name for name in self.checked.names() if not _is_bytecode(name)]

    def get_contents(self) -> Iterator[WheelContentElement]:
        self.skipped = [name for name in self.checked.names() if _is_bytecode(name)]
        wanted = set(self.member_names())
        scripts = self.data_dir + "/scripts/"
        for member, chunks in self.checked.archive.iter_files(wanted.__contains__):
            elements = self._record_elements(member.name)
            if member.name.startswith(scripts):
                # installer rewrites a script's "#!python" line: it needs to seek.
                with _spooled(chunks) as spooled:
                    yield elements, spooled, member.executable
                continue
            stream = _ChunkReader(chunks)
            with io.BufferedReader(stream) as buffered:
                yield elements, buffered, member.executable
                stream.drain()

    def _record_elements(self, name: str) -> tuple[str, str, str]:
        row = self._rows.get(name)
        if row is None or row.sha256 is None or row.size is None:
            return name, "", ""
        digest = base64.urlsafe_b64encode(bytes.fromhex(row.sha256)).decode().rstrip("=")
        return name, f"sha256={digest}", str(row.size)


@dataclass(frozen=True, eq=False)
class OpenedWheel:
    """A wheel opened ahead of its installation (while pip still resolves), with the member
    hashes it was opened with; ``close`` once, by whoever holds it last."""

    source: VerifiedWheel
    member_sha256: Mapping[str, str]
    close: Callable[[], None]


def open_ahead(path: Path, verified_sha256: Mapping[str, str]) -> OpenedWheel:
    """``open_wheel`` now, for later: the same reader and checks, kept open until closed."""
    stack = ExitStack()
    try:
        source = stack.enter_context(open_wheel(path, verified_sha256=verified_sha256))
    except BaseException:
        stack.close()
        raise
    return OpenedWheel(source=source, member_sha256=verified_sha256, close=stack.close)


@contextmanager
def _spooled(chunks: Iterator[bytes]) -> Iterator[BinaryIO]:
    """A member's bytes in a seekable file: in memory when small, else an unnamed temp file."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spooled:
        for chunk in chunks:
            spooled.write(chunk)
        spooled.seek(0)
        yield cast(BinaryIO, spooled)


def _is_bytecode(name: str) -> bool:
    return "__pycache__" in name.split("/")[:-1]


@contextmanager
def open_wheel(
    path: Path, *, verified_sha256: Mapping[str, str] | None = None
) -> Iterator[VerifiedWheel]:
    """Open the private copy of a wheel with the reader and checks verification used.

    ``verified_sha256``: the members' hashes verification found; every byte written is
    checked against them (without them, against the hashes taken when it is opened here)."""
    with open_checked(path, known_sha256=verified_sha256) as checked:
        if not isinstance(checked.info, WheelInfo):
            raise ArchiveError(f"{path.name}: is not a wheel")
        yield VerifiedWheel(checked, checked.info)
