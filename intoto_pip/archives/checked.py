"""An archive opened safely and checked as a whole, seen the way verification needs it.

Joins ``SafeArchive`` (structure, names, caps) with ``check_wheel``/``check_sdist`` (who the
distribution says it is; a wheel's RECORD, strictly), and names the embedded in-toto folder
and the final product's members (DESIGN §5).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from intoto_pip.archives.names import (
    Identity,
    SdistInfo,
    WheelInfo,
    check_sdist,
    check_wheel,
    identify,
    intoto_dir,
    product_names,
)

if TYPE_CHECKING:
    from intoto_pip.archives.reader import SafeArchive

__all__ = ["CheckedArchive", "Identity", "identify", "open_checked"]  # identify: see names


class CheckedArchive:
    """A checked archive: member names and bytes, its in-toto folder, its product."""

    def __init__(self, archive: SafeArchive, info: WheelInfo | SdistInfo) -> None:
        self.archive = archive
        self.info = info
        self.embedded_prefix = intoto_dir(archive.kind, info)
        self.products = product_names(archive, info)

    def names(self) -> Sequence[str]:
        return [member.name for member in self.archive.members]

    def read(self, name: str) -> bytes:
        return self.archive.read(name)

    def extract_products(self, dest: Path) -> dict[str, str]:
        """Write the product members into the empty private folder ``dest``; their sha256."""
        wanted = set(self.products)
        return self.archive.extract_to(dest, select=wanted.__contains__)


@contextmanager
def open_checked(
    path: Path, *, known_sha256: Mapping[str, str] | None = None
) -> Iterator[CheckedArchive]:
    """``path`` opened and checked whole (``known_sha256``: see ``SafeArchive.open``)."""
    # Imported here: ``identify`` alone (``check``) needs no archive reader.
    from intoto_pip.archives.reader import SafeArchive

    with SafeArchive.open(path, known_sha256=known_sha256) as archive:
        if archive.kind == "wheel":
            info: WheelInfo | SdistInfo = check_wheel(archive, path.name)
        else:
            info = check_sdist(archive, path.name)
        yield CheckedArchive(archive, info)
