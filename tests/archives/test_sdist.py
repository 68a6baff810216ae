"""check_sdist: one ``<name>-<version>/`` top folder whose PKG-INFO agrees with the file name."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.version import Version

from intoto_pip.archives.names import SdistInfo, check_sdist, intoto_dir, product_names
from intoto_pip.archives.reader import SafeArchive
from intoto_pip.errors import ArchiveError
from tests.archives.builders import make_sdist, make_wheel, metadata_text

SDIST = "pkg-1.0.tar.gz"


def check(path: Path, filename: str | None = None) -> SdistInfo:
    with SafeArchive.open(path) as archive:
        return check_sdist(archive, filename or path.name)


def test_good_sdist_passes(tmp_path: Path) -> None:
    info = check(make_sdist(tmp_path, "pkg", "1.0", {"setup.py": b""}))
    assert (info.name, info.version, info.top) == ("pkg", Version("1.0"), "pkg-1.0")
    assert info.metadata["Version"] == "1.0"


def test_names_are_compared_normalised(tmp_path: Path) -> None:
    path = make_sdist(
        tmp_path / "Foo_Bar-1.0.0.tar.gz",
        "Foo_Bar",
        "1.0.0",
        top="foo.bar-1.0",
        pkg_info=metadata_text("FOO-bar", "1.0"),
    )
    info = check(path)
    assert (info.name, info.metadata_name, info.top) == ("foo-bar", "FOO-bar", "foo.bar-1.0")


def test_sdist_without_folder_entries_passes(tmp_path: Path) -> None:
    assert check(make_sdist(tmp_path, "pkg", "1.0", {"a/b.py": b""}, directories=False)).top


def test_zip_sdist_passes(tmp_path: Path) -> None:
    path = tmp_path / "pkg-1.0.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("pkg-1.0/PKG-INFO", metadata_text("pkg", "1.0"))
        archive.writestr("pkg-1.0/setup.py", b"")
    with SafeArchive.open(path) as opened:
        assert opened.kind == "sdist"
        assert check_sdist(opened, path.name).top == "pkg-1.0"


def test_in_toto_folder_is_left_out_of_products(tmp_path: Path) -> None:
    files = {"setup.py": b"", ".in-toto/root.layout": b"{}", ".in-toto/build.abcd1234.link": b""}
    path = make_sdist(tmp_path, "pkg", "1.0", files)
    with SafeArchive.open(path) as archive:
        info = check_sdist(archive, path.name)
        assert intoto_dir(archive.kind, info) == "pkg-1.0/.in-toto/"
        assert product_names(archive, info) == ["pkg-1.0/PKG-INFO", "pkg-1.0/setup.py"]


CASES: dict[str, tuple[Callable[[Path], Path], str, str]] = {
    "two top folders": (
        lambda tmp: make_sdist(tmp, "pkg", "1.0", extra_members={"other-1.0/x.py": b""}),
        SDIST,
        "has 2 top folders ('other-1.0', 'pkg-1.0'), expected one",
    ),
    "file at the top": (
        lambda tmp: make_sdist(tmp, "pkg", "1.0", extra_members={"setup.py": b""}),
        SDIST,
        "member 'setup.py' is outside the top folder",
    ),
    "no PKG-INFO": (
        lambda tmp: make_sdist(tmp, "pkg", "1.0", top="pkg-1.0", pkg_info=b"").with_name(SDIST),
        SDIST,
        "PKG-INFO must have exactly one Name",
    ),
    "PKG-INFO name": (
        lambda tmp: make_sdist(tmp, "pkg", "1.0", pkg_info=metadata_text("evil", "1.0")),
        SDIST,
        "PKG-INFO says evil 1.0, the file name says pkg 1.0",
    ),
    "PKG-INFO version": (
        lambda tmp: make_sdist(tmp, "pkg", "1.0", pkg_info=metadata_text("pkg", "2.0")),
        SDIST,
        "PKG-INFO says pkg 2.0, the file name says pkg 1.0",
    ),
    "top folder": (
        lambda tmp: make_sdist(tmp, "pkg", "1.0", top="pkg-2.0"),
        SDIST,
        "top folder 'pkg-2.0' says pkg 2.0, the file name says pkg 1.0",
    ),
    "top folder without version": (
        lambda tmp: make_sdist(tmp, "pkg", "1.0", top="pkg"),
        SDIST,
        "top folder 'pkg' is not '<name>-<version>'",
    ),
    "file name": (
        lambda tmp: make_sdist(tmp, "pkg", "1.0"),
        "pkg-1.1.tar.gz",
        "the file name says pkg 1.1",
    ),
    "a wheel": (
        lambda tmp: make_wheel(tmp, "pkg", "1.0"),
        "pkg-1.0-py3-none-any.whl",
        "is not an sdist",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_sdist_problems_are_refused(tmp_path: Path, case: str) -> None:
    build, filename, fragment = CASES[case]
    with pytest.raises(ArchiveError) as caught:
        check(build(tmp_path), filename)
    assert str(caught.value).startswith(f"{filename}: ")
    assert fragment in str(caught.value)


def test_missing_pkg_info_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pkg-1.0.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("pkg-1.0/setup.py", b"")
    with pytest.raises(ArchiveError, match=r"^pkg-1.0.zip: has no 'pkg-1.0/PKG-INFO'$"):
        check(path)


def test_intoto_dir_refuses_a_mismatched_kind(tmp_path: Path) -> None:
    info = check(make_sdist(tmp_path, "pkg", "1.0"))
    with pytest.raises(ValueError, match="does not describe a wheel"):
        intoto_dir("wheel", info)
