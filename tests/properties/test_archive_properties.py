"""The archive pre-check accepts an archive only if a reference extraction writes exactly the
listed paths (and nothing outside its folder).

Archives are made with the standard library's own writers from hostile member lists (``..``,
absolute names, backslashes, device names, case and Unicode twins, file/folder clashes, links).
The reference extractions are ``zipfile.ZipFile.extractall`` and ``tarfile``'s ``data``
filter. Whenever ``SafeArchive.open`` accepts, both the reference and our own extraction must
write exactly the listed regular files.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
import tempfile
import warnings
import zipfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from intoto_pip.archives.reader import SafeArchive
from intoto_pip.errors import ArchiveError

PROPERTY = settings(max_examples=200, deadline=None)
SAFE = ["a", "b", "c", "pkg"]
HOSTILE = [
    "A",
    "..",
    ".",
    "",
    "CON",
    "nul.txt",
    "x:y",
    "caf\u00e9",
    "cafe\u0301",
    "c\\d",
    "a.",
    "b ",
]
# Two safe parts for one hostile: enough accepted archives for the property to bite.
PARTS = st.one_of(st.sampled_from(SAFE), st.sampled_from(SAFE), st.sampled_from(HOSTILE))
KINDS = ["file", "file", "file", "dir", "symlink", "hardlink"]
NAMES = st.builds(
    lambda lead, parts: lead + "/".join(parts),
    st.sampled_from(["", "", "", "/", "./"]),
    st.lists(PARTS, min_size=1, max_size=3),
)
MEMBERS = st.lists(st.tuples(NAMES, st.sampled_from(KINDS)), min_size=1, max_size=5)


def zip_bytes(members: list[tuple[str, str]]) -> bytes:
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate names we want
        with zipfile.ZipFile(out, "w") as archive:
            for name, kind in members:
                is_dir = kind == "dir"
                info = zipfile.ZipInfo(name + "/" if is_dir else name, (2026, 1, 1, 0, 0, 0))
                mode = {"dir": stat.S_IFDIR | 0o755, "symlink": stat.S_IFLNK | 0o777}
                info.external_attr = mode.get(kind, stat.S_IFREG | 0o644) << 16
                archive.writestr(
                    info, b"" if is_dir else b"target" if kind == "symlink" else name.encode()
                )
    return out.getvalue()


def tar_bytes(members: list[tuple[str, str]]) -> bytes:
    out = io.BytesIO()
    types = {
        "file": tarfile.REGTYPE,
        "dir": tarfile.DIRTYPE,
        "symlink": tarfile.SYMTYPE,
        "hardlink": tarfile.LNKTYPE,
    }
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for name, kind in members:
            info = tarfile.TarInfo(name)
            info.type, info.mtime = types[kind], 1_600_000_000
            info.mode = 0o755 if kind == "dir" else 0o644
            data = name.encode() if kind == "file" else b""
            info.size = len(data)
            info.linkname = "a" if kind in ("symlink", "hardlink") else ""
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def written_files(root: Path) -> set[str]:
    found = set()
    for folder, dirs, files in os.walk(root):
        for name in files + [d for d in dirs if Path(folder, d).is_symlink()]:
            found.add(Path(folder, name).relative_to(root).as_posix())
    return found


def reference_extract(path: Path, dest: Path) -> set[str]:
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as archive:
            archive.extractall(dest)
    else:
        with tarfile.open(path) as archive:
            archive.extractall(dest, filter="data")
    return written_files(dest)


def check(filename: str, data: bytes) -> bool:
    """Whether the pre-check accepted; asserts the property when it did."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        path = root / filename
        path.write_bytes(data)
        try:
            with SafeArchive.open(path) as archive:
                listed = {member.name for member in archive.members}
                ours = root / "ours"
                ours.mkdir(mode=0o700)
                archive.extract_to(ours)
        except ArchiveError:
            return False
        assert written_files(ours) == listed
        assert reference_extract(path, root / "reference") == listed
        assert sorted(p.name for p in root.iterdir()) == sorted([filename, "ours", "reference"])
    return True


@PROPERTY
@given(MEMBERS)
def test_zip_accepted_only_if_reference_extraction_writes_the_listing(
    members: list[tuple[str, str]],
) -> None:
    check("demo-1.0-py3-none-any.whl", zip_bytes(members))


@PROPERTY
@given(MEMBERS)
def test_tar_accepted_only_if_reference_extraction_writes_the_listing(
    members: list[tuple[str, str]],
) -> None:
    check("demo-1.0.tar.gz", tar_bytes(members))


def test_the_generator_reaches_both_verdicts() -> None:
    plain = [("demo/a", "file"), ("demo/b", "file")]
    assert check("demo-1.0-py3-none-any.whl", zip_bytes(plain))
    assert check("demo-1.0.tar.gz", tar_bytes(plain))
    assert not check("demo-1.0.tar.gz", tar_bytes([("../evil", "file")]))
