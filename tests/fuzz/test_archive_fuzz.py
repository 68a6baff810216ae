"""Fuzzing archive reading: whatever the bytes, an ArchiveError or a consistent archive.

Valid wheels (zip, stored and deflated members) and sdists (tar.gz) are mutated byte by byte
and read the way verification reads them: opened (the whole listing checked), hashed, and
extracted into a private folder. Only ``ArchiveError`` may come out, and whatever is
extracted must be exactly the listed members, inside the folder.
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
import tarfile
import tempfile
import zipfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from fixtures.adversarial_cases import zipcraft
from fixtures.adversarial_cases.zipcraft import DEFLATED, Entry, build_zip, deflate
from intoto_pip.archives.reader import ArchiveLimits, SafeArchive
from intoto_pip.errors import ArchiveError
from tests.fuzz.budget import FUZZ
from tests.fuzz.mutate import mutated_bytes

# Small caps, so that a mutated size field meets them rather than the machine's memory.
LIMITS = ArchiveLimits(max_members=64, max_total_size=1 << 20, max_member_size=1 << 19)
FILES = {
    "demo/__init__.py": b"GREETING = 'hello'\n" * 20,
    "demo/util.py": b"def double(x):\n    return 2 * x\n",
    "demo-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
}


def wheel_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for index, (name, data) in enumerate(FILES.items()):
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if index % 2 else zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()


def sdist_bytes() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for name, data in FILES.items():
            info = tarfile.TarInfo(f"demo-1.0/{name}")
            info.size, info.mtime, info.mode = len(data), 1_600_000_000, 0o644
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


SAMPLES = {"demo-1.0-py3-none-any.whl": wheel_bytes(), "demo-1.0.tar.gz": sdist_bytes()}


def read_archive(path: Path, dest: Path) -> None:
    """Open, hash and extract like verification does; check what was written."""
    with SafeArchive.open(path, limits=LIMITS) as archive:
        hashes = archive.sha256_of_members()
        assert list(hashes) == [member.name for member in archive.members]
        written = archive.extract_to(dest)
    assert written == hashes
    on_disk = {
        str(Path(root, name).relative_to(dest)).replace(os.sep, "/")
        for root, _dirs, files in os.walk(dest)
        for name in files
    }
    assert on_disk == set(written)


def survives(filename: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch, filename)
        path.write_bytes(data)
        dest = Path(scratch, "out")
        dest.mkdir(mode=0o700)
        with contextlib.suppress(ArchiveError):
            read_archive(path, dest)


def test_the_samples_are_readable() -> None:
    for filename, data in SAMPLES.items():
        survives(filename, data)
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch, filename)
            path.write_bytes(data)
            with SafeArchive.open(path, limits=LIMITS) as archive:
                assert len(archive.members) == len(FILES)


@FUZZ
@given(
    st.sampled_from(sorted(SAMPLES)).flatmap(
        lambda name: st.tuples(st.just(name), mutated_bytes(SAMPLES[name]))
    )
)
def test_mutated_archives(case: tuple[str, bytes]) -> None:
    survives(*case)


@FUZZ
@given(st.sampled_from(sorted(SAMPLES)), st.binary(max_size=600))
def test_arbitrary_bytes_as_archives(filename: str, data: bytes) -> None:
    survives(filename, data)


FIELD_VALUES = st.one_of(
    st.sampled_from([0, 1, 0xFFFF, 0xFFFFFFFF, 1 << 31]), st.integers(min_value=0, max_value=4096)
)
EXTRA = st.one_of(
    st.binary(max_size=24),
    st.builds(
        lambda tag, body: struct.pack("<HH", tag, len(body)) + body,
        st.sampled_from([0x0001, 0x7075, 0x5455]),
        st.binary(max_size=24),
    ),
)


@st.composite
def spoiled_zip(draw: st.DrawFn) -> bytes:
    """A valid zip rebuilt with one or two header fields of one entry set to odd values."""
    members = [Entry(name=name.encode(), data=data) for name, data in FILES.items()]
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        entry = draw(st.sampled_from(members))
        field = draw(
            st.sampled_from(
                [
                    "size",
                    "crc",
                    "flags",
                    "method",
                    "external",
                    "header_at",
                    "local_name",
                    "central_extra",
                    "local_extra",
                    "payload",
                ]
            )
        )
        if field in ("local_name",):
            value: object = draw(st.binary(max_size=16))
        elif field in ("central_extra", "local_extra"):
            value = draw(EXTRA)
        elif field == "payload":
            value = deflate(entry.data) if draw(st.booleans()) else draw(st.binary(max_size=32))
            entry.method = DEFLATED if draw(st.booleans()) else entry.method
        else:
            value = draw(FIELD_VALUES) % (1 << 16 if field in ("flags", "method") else 1 << 32)
        setattr(entry, field, value)
    layout = zipcraft.Layout(
        count=draw(st.one_of(st.none(), FIELD_VALUES)),
        comment=draw(st.sampled_from([b"", b"x"])),
    )
    return build_zip(members, layout)


@FUZZ
@given(spoiled_zip())
def test_zips_with_spoiled_header_fields(data: bytes) -> None:
    survives("demo-1.0-py3-none-any.whl", data)
