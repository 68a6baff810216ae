"""Member-name safety, collisions, PEP 503 names and distribution file names."""

from __future__ import annotations

import pytest
from packaging.version import Version

from intoto_pip.archives.names import (
    NameSet,
    canonical_name,
    fold_key,
    member_name_problem,
    parse_sdist_filename,
    parse_wheel_filename,
    split_name_version,
)
from intoto_pip.errors import ArchiveError

GOOD_NAMES = [
    "pkg/__init__.py",
    "pkg-1.0.dist-info/METADATA",
    "a b/c.txt",
    "données/été.py",
    "CONFIG.py",
    "console.py",
    "comma,name.txt",
    ".hidden/.file",
    "x" * 255,
    "/".join(["d"] * 1000),
]

BAD_NAMES = [
    ("", "empty name"),
    ("../evil", "escapes the archive root"),
    ("a/../../b", "escapes the archive root"),
    ("..", "escapes the archive root"),
    ("/etc/passwd", "absolute path"),
    ("//server/share/x", "UNC path"),
    ("C:/Windows/x", "names a drive"),
    ("c:x", "names a drive"),
    ("a\\b", "backslash"),
    ("..\\evil", "backslash"),
    ("a\x00b", "control character"),
    ("a\nb", "control character"),
    ("a\x1bb", "control character"),
    ("a\x85b", "control character"),
    ("evil\u202ecod.py", "control character"),
    ("a\udc80b", "control character"),
    ("CON", "Windows reserved"),
    ("pkg/con.txt", "Windows reserved"),
    ("aux.tar.gz", "Windows reserved"),
    ("NUL", "Windows reserved"),
    ("prn.py", "Windows reserved"),
    ("COM1", "Windows reserved"),
    ("lpt9.log", "Windows reserved"),
    ("com¹.txt", "Windows reserved"),
    ("nul .txt", "Windows reserved"),
    ("a/./b", "not a clean path"),
    ("./a", "not a clean path"),
    ("a//b", "not a clean path"),
    ("a/", "not a clean path"),
    ("file.", "ending in a dot or space"),
    ("dir /x", "ending in a dot or space"),
    ("a.py:stream", "colon"),
    ("x" * 256, "longer than 255 bytes"),
    ("/".join(["d"] * 2049), "longer than 4096 bytes"),
]


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_clean_names_pass(name: str) -> None:
    assert member_name_problem(name) is None


@pytest.mark.parametrize(("name", "fragment"), BAD_NAMES)
def test_unsafe_names_are_refused(name: str, fragment: str) -> None:
    problem = member_name_problem(name)
    assert problem is not None
    assert fragment in problem


COLLISIONS = [
    ([("a.py", False), ("a.py", False)], "duplicate member"),
    ([("A.py", False), ("a.py", False)], "collides with 'A.py'"),
    ([("é.py", False), ("e\u0301.py", False)], "collides with 'é.py'"),
    ([("Straße.txt", False), ("STRASSE.txt", False)], "collides"),
    ([("a", False), ("a/b", False)], "both a file and a directory"),
    ([("a/b", False), ("a", False)], "both a file and a directory"),
    ([("A/b", False), ("a", False)], "collides"),
    ([("Pkg/x.py", False), ("pkg/y.py", False)], "collides with 'Pkg'"),
    ([("d", True), ("d", True)], "duplicate member"),
    ([("d", True), ("D", True)], "collides with 'd'"),
    ([("d", False), ("d", True)], "both a file and a directory"),
]


@pytest.mark.parametrize(("entries", "fragment"), COLLISIONS)
def test_colliding_names_are_refused(entries: list[tuple[str, bool]], fragment: str) -> None:
    names = NameSet()
    problems = [names.add(name, is_dir=is_dir) for name, is_dir in entries]
    assert problems[:-1] == [None] * (len(entries) - 1)
    assert problems[-1] is not None
    assert fragment in problems[-1]


def test_distinct_names_and_their_folders_pass() -> None:
    names = NameSet()
    entries = [("pkg", True), ("pkg/a.py", False), ("pkg/sub/b.py", False), ("pkg/sub", True)]
    assert [names.add(name, is_dir=is_dir) for name, is_dir in entries] == [None] * 4


def test_fold_key_merges_case_and_normalisation_only() -> None:
    assert fold_key("ÉTÉ.py") == fold_key("e\u0301te\u0301.py")
    assert fold_key("a.py") != fold_key("b.py")


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [("Foo_Bar", "foo-bar"), ("foo.bar", "foo-bar"), ("FOO--._bar", "foo-bar"), ("pkg", "pkg")],
)
def test_canonical_name_is_pep503(raw: str, canonical: str) -> None:
    assert canonical_name(raw) == canonical


def test_parse_wheel_filename() -> None:
    wheel = parse_wheel_filename("My_Pkg-1.0.post1-7-cp311-cp311-manylinux_2_28_x86_64.whl")
    assert (wheel.name, wheel.version, wheel.build) == ("my-pkg", Version("1.0.post1"), (7, ""))
    assert {str(tag) for tag in wheel.tags} == {"cp311-cp311-manylinux_2_28_x86_64"}


@pytest.mark.parametrize(
    "filename",
    ["pkg-1.0.whl", "pkg-1.0-py3-none.whl", "pkg-notaversion-py3-none-any.whl", "pkg-1.0.zip"],
)
def test_bad_wheel_filenames_are_refused(filename: str) -> None:
    with pytest.raises(ArchiveError, match=rf"^{filename}: not a valid wheel file name"):
        parse_wheel_filename(filename)


@pytest.mark.parametrize(
    ("filename", "name", "version"),
    [("pkg-1.0.tar.gz", "pkg", "1.0"), ("Foo_Bar-2.0rc1.zip", "foo-bar", "2.0rc1")],
)
def test_parse_sdist_filename(filename: str, name: str, version: str) -> None:
    sdist = parse_sdist_filename(filename)
    assert (sdist.name, sdist.version) == (name, Version(version))


@pytest.mark.parametrize("filename", ["pkg.tar.gz", "pkg-1.0.tgz", "pkg-x.y.tar.gz"])
def test_bad_sdist_filenames_are_refused(filename: str) -> None:
    with pytest.raises(ArchiveError, match=rf"^{filename}: not a valid sdist file name"):
        parse_sdist_filename(filename)


def test_split_name_version_normalises() -> None:
    assert split_name_version("My.Pkg-01.0", where="w", what="x") == ("my-pkg", Version("1.0"))
    with pytest.raises(ArchiveError, match="is not '<name>-<version>'"):
        split_name_version("noversion", where="w", what="folder")
    with pytest.raises(ArchiveError, match="invalid version"):
        split_name_version("pkg-x!y", where="w", what="folder")


@pytest.mark.parametrize(
    "name",
    [
        "Django",
        "oslo.concurrency",
        "A__b--c..D",
        "-x-",
        "_.-",
        "zope.interface",
        "ÉCOLE_x",
        "İ.x",
        "",
    ],
)
def test_canonical_name_is_packagings(name: str) -> None:
    from packaging.utils import canonicalize_name

    assert canonical_name(name) == canonicalize_name(name)
