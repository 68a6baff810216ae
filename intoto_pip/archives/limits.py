"""Every cap on what an archive and its evidence may hold, in one frozen dataclass.

Caps stop bombs and never a real wheel (DESIGN §5). Each was chosen against the largest real
distributions we know of, and the tests in ``tests/archives/test_caps.py`` and
``tests/archives/test_real_wheels.py`` point here:

- ``max_members = 200_000`` entries (files and folders). The largest wheels on PyPI (CUDA
  builds of torch) hold ~10^4 files; the count is read from the zip end record, so a bomb of
  tiny entries is refused before its directory is parsed.
- ``max_member_size = 4 GiB`` and ``max_total_size = 8 GiB``: the largest single members on
  PyPI (CUDA shared libraries) are ~1.5 GiB, the largest wheels expand to a few GiB. Sizes are
  counted while streaming, so a member that yields more than it declares is cut off.
- ``max_ratio = 200`` above ``ratio_floor = 64 MiB``: the ratio is checked only for a member
  (zip) that expands to more than 64 MiB, and for a whole archive whose members add up to more
  than 64 MiB (zip: declared sizes against the file's size; ``.tar.gz``: the stream, as it is
  decompressed). Below the floor a ratio says nothing about harm: a real shared library
  linked with a 2 MiB page size is mostly zero padding (pillow 13's ``libXau``, 2 MiB,
  expands 223:1), while 64 MiB of output costs little. Measured on torch 2.13 (CPU), pillow
  13, setuptools and flit_core, every other member over 1 MiB compresses at most 24:1 and
  torch's 434 MB ``libtorch_cpu.so`` 3.8:1, whereas a flat deflate bomb reaches ~1000:1.
- ``max_extended_header = 1 MiB``: a tar pax or GNU long-name header, which ``tarfile`` holds
  in memory.
- ``max_metadata_size = 64 MiB``: ``METADATA``, ``PKG-INFO``, ``WHEEL`` (the long description
  lives in METADATA).
- ``max_evidence_files = 10_000``, ``max_evidence_size = 512 MiB``, ``max_evidence_depth =
  10``: an in-toto evidence folder, embedded or detached, read into memory once. A link of
  100,000 artifacts is ~15 MB.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB


@dataclass(frozen=True, kw_only=True)
class ArchiveLimits:
    """Caps applied before and while reading an archive and its evidence (module docstring)."""

    max_members: int = 200_000
    max_member_size: int = 4 * GIB
    max_total_size: int = 8 * GIB
    max_ratio: int = 200
    ratio_floor: int = 64 * MIB
    max_extended_header: int = 1 * MIB
    max_metadata_size: int = 64 * MIB
    max_evidence_files: int = 10_000
    max_evidence_size: int = 512 * MIB
    max_evidence_depth: int = 10

    def __post_init__(self) -> None:
        for field in fields(self):
            if field.name != "ratio_floor" and getattr(self, field.name) < 1:
                raise ValueError(f"ArchiveLimits.{field.name} must be at least 1")
        if self.ratio_floor < 0:
            raise ValueError("ArchiveLimits.ratio_floor must not be negative")

    def ratio_cap(self, compressed: int) -> int:
        """The most bytes ``compressed`` bytes may expand to: the floor, or the ratio above."""
        return max(self.ratio_floor, self.max_ratio * compressed)


DEFAULT_LIMITS = ArchiveLimits()
