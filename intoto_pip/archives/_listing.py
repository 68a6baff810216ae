"""What the zip and tar readers share: members, the listing that checks names and caps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal, Protocol

from intoto_pip.archives.limits import KIB, MIB, ArchiveLimits
from intoto_pip.archives.names import NameSet, member_name_problem
from intoto_pip.errors import ArchiveError

CHUNK = 1 * MIB  # most bytes produced per decompression step
_READ = 256 * KIB  # compressed bytes read at once

Kind = Literal["wheel", "sdist"]
Select = Callable[[str], bool]


@dataclass(frozen=True, kw_only=True)
class Member:
    """A regular file in an archive: its clean relative POSIX name and its size in bytes."""

    name: str
    size: int
    executable: bool = False


def _member_error(where: str, name: str, problem: str) -> ArchiveError:
    return ArchiveError(f"{where}: member {name!r} {problem}")


def _read_at(file: BinaryIO, offset: int, size: int, where: str) -> bytes:
    file.seek(offset)
    data = file.read(size)
    if len(data) != size:
        raise ArchiveError(f"{where}: is truncated")
    return data


def _read_some(file: BinaryIO, offset: int) -> bytes:
    file.seek(offset)
    return file.read(CHUNK)


class _Reader(Protocol):
    members: tuple[Member, ...]
    directories: tuple[str, ...]
    hashes: dict[str, str]  # sha256 hex of members already read while opening

    def stream(self, select: Select | None) -> Iterator[tuple[Member, Iterator[bytes]]]: ...


class _Listing:
    """Checks names, counts and declared sizes of members as they are listed."""

    def __init__(self, where: str, limits: ArchiveLimits) -> None:
        self.where, self.limits = where, limits
        self.members: list[Member] = []
        self.directories: list[str] = []
        self._names = NameSet()
        self._total = 0

    def add(self, name: str, *, is_dir: bool, size: int, executable: bool = False) -> None:
        problem = member_name_problem(name) or self._names.add(name, is_dir=is_dir)
        if problem:
            raise _member_error(self.where, name, problem)
        if is_dir:
            self.directories.append(name)
            return
        if not 0 <= size <= self.limits.max_member_size:
            cap = self.limits.max_member_size
            raise _member_error(self.where, name, f"has size {size}, over the cap of {cap} bytes")
        self._total += size
        if self._total > self.limits.max_total_size:
            cap = self.limits.max_total_size
            raise _member_error(self.where, name, f"takes the total size over {cap} bytes")
        self.members.append(Member(name=name, size=size, executable=executable))
