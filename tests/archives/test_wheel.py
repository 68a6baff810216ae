"""check_wheel: file name, dist-info, METADATA and WHEEL agree; RECORD is strict."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.version import Version

from intoto_pip.archives import names
from intoto_pip.archives.names import WheelInfo, check_wheel, intoto_dir, product_names
from intoto_pip.archives.reader import SafeArchive
from intoto_pip.archives.wheel_record import RecordRow, parse_record
from intoto_pip.errors import ArchiveError
from tests.archives.builders import make_sdist, make_wheel, metadata_text, record_hash, record_text

FILES = {"pkg/__init__.py": b"VALUE = 1\n", "pkg/data.txt": b"hello\n"}
DIST_INFO = "pkg-1.0.dist-info"
RECORD = f"{DIST_INFO}/RECORD"
WHEEL = "pkg-1.0-py3-none-any.whl"


def listed(**extra: bytes) -> dict[str, bytes]:
    return {
        **FILES,
        f"{DIST_INFO}/METADATA": metadata_text("pkg", "1.0"),
        f"{DIST_INFO}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
        **extra,
    }


def good_record() -> str:
    return record_text(listed(), RECORD)


def check(path: Path, filename: str | None = None) -> WheelInfo:
    with SafeArchive.open(path) as archive:
        return check_wheel(archive, filename or path.name)


def test_good_wheel_passes(tmp_path: Path) -> None:
    info = check(make_wheel(tmp_path, "pkg", "1.0", FILES))
    assert (info.name, info.version, info.dist_info) == ("pkg", Version("1.0"), DIST_INFO)
    assert info.metadata["Name"] == "pkg"
    assert {row.path for row in info.record} == set(listed()) | {RECORD}


def test_names_and_versions_are_compared_normalised(tmp_path: Path) -> None:
    path = make_wheel(
        tmp_path / "My_Pkg-1.0.0-py3-none-any.whl",
        "My_Pkg",
        "1.0.0",
        FILES,
        dist_info="my_pkg-1.0.dist-info",
        metadata=metadata_text("my.pkg", "1.0"),
    )
    info = check(path)
    assert (info.name, info.metadata_name, info.version) == ("my-pkg", "my.pkg", Version("1"))


def test_embedded_in_toto_folder_is_listed_in_record_and_left_out_of_products(
    tmp_path: Path,
) -> None:
    evidence = {f"{DIST_INFO}/in-toto/root.layout": b"{}", f"{DIST_INFO}/in-toto/a.link": b"{}"}
    path = make_wheel(tmp_path, "pkg", "1.0", {**FILES, **evidence})
    with SafeArchive.open(path) as archive:
        info = check_wheel(archive, path.name)
        assert intoto_dir(archive.kind, info) == f"{DIST_INFO}/in-toto/"
        assert product_names(archive, info) == [
            "pkg/__init__.py",
            "pkg/data.txt",
            f"{DIST_INFO}/METADATA",
            f"{DIST_INFO}/WHEEL",
        ]


def test_unlisted_in_toto_file_is_refused(tmp_path: Path) -> None:
    path = make_wheel(
        tmp_path, "pkg", "1.0", FILES, extra_members={f"{DIST_INFO}/in-toto/x.link": b"{}"}
    )
    with pytest.raises(ArchiveError, match=f"member '{DIST_INFO}/in-toto/x.link' is not listed"):
        check(path)


def replace_row(name: str, row: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        lines = [row if line.startswith(f"{name},") else line for line in text.splitlines()]
        return "\n".join(line for line in lines if line) + "\n"

    return edit


RECORD_CASES: dict[str, tuple[Callable[[str], str], str]] = {
    "missing row": (
        replace_row("pkg/data.txt", ""),
        "member 'pkg/data.txt' is not listed in pkg-1.0.dist-info/RECORD",
    ),
    "extra row": (
        lambda text: text + f"pkg/gone.py,{record_hash(b'')},0\n",
        "RECORD lists 'pkg/gone.py', which is not a member",
    ),
    "wrong hash": (
        replace_row("pkg/data.txt", f"pkg/data.txt,{record_hash(b'other')},6"),
        "member 'pkg/data.txt' does not match its sha256",
    ),
    "wrong size": (
        replace_row("pkg/data.txt", f"pkg/data.txt,{record_hash(b'hello' + bytes([10]))},7"),
        "member 'pkg/data.txt' has 6 bytes, pkg-1.0.dist-info/RECORD says 7",
    ),
    "no hash": (replace_row("pkg/data.txt", "pkg/data.txt,,6"), "'pkg/data.txt' has no sha256"),
    "no size": (
        replace_row("pkg/data.txt", f"pkg/data.txt,{record_hash(b'hello' + bytes([10]))},"),
        "member 'pkg/data.txt' has no size",
    ),
    "md5": (
        replace_row("pkg/data.txt", "pkg/data.txt,md5=XUFAKrxLKna5cZ2REBfFkg,6"),
        "uses hash 'md5'; sha256 is required",
    ),
    "padded base64": (
        replace_row("pkg/data.txt", record_hash(b"x").join(["pkg/data.txt,", "=,6"])),
        "not unpadded urlsafe base64",
    ),
    "hex digest": (
        replace_row("pkg/data.txt", "pkg/data.txt,sha256=" + "ab" * 32 + ",6"),
        "not unpadded urlsafe base64",
    ),
    "signed size": (
        replace_row("pkg/data.txt", f"pkg/data.txt,{record_hash(b'hello' + bytes([10]))},+6"),
        "has size '+6', not a plain decimal number",
    ),
    "duplicate row": (
        lambda text: text + f"pkg/data.txt,{record_hash(b'hello' + bytes([10]))},6\n",
        "RECORD lists 'pkg/data.txt' twice",
    ),
    "RECORD hashes itself": (
        replace_row(RECORD, f"{RECORD},{record_hash(b'')},0"),
        "RECORD gives a hash or size for itself",
    ),
    "blank line": (lambda text: text + "\n", "has 0 fields, expected 3"),
    "four fields": (lambda text: text + "a,b,c,d\n", "has 4 fields, expected 3"),
    "empty path": (lambda text: text + ",,\n", "has an empty path"),
    "directory row": (lambda text: text + "pkg/,,\n", "RECORD lists 'pkg/', which is not a member"),
    "unnormalised path": (
        replace_row("pkg/data.txt", f"./pkg/data.txt,{record_hash(b'hello' + bytes([10]))},6"),
        "RECORD lists './pkg/data.txt', which is not a member",
    ),
}


@pytest.mark.parametrize("case", sorted(RECORD_CASES))
def test_record_problems_are_refused(tmp_path: Path, case: str) -> None:
    edit, fragment = RECORD_CASES[case]
    path = make_wheel(tmp_path, "pkg", "1.0", FILES, record=edit(good_record()).encode())
    with pytest.raises(ArchiveError) as caught:
        check(path)
    assert str(caught.value).startswith(f"{WHEEL}: ")
    assert fragment in str(caught.value)


def test_record_names_the_first_problem_and_counts_the_rest(tmp_path: Path) -> None:
    text = replace_row("pkg/data.txt", "")(replace_row("pkg/__init__.py", "")(good_record()))
    path = make_wheel(tmp_path, "pkg", "1.0", FILES, record=text.encode())
    with pytest.raises(ArchiveError) as caught:
        check(path)
    assert str(caught.value) == (
        f"{WHEEL}: member 'pkg/__init__.py' is not listed in {RECORD} (and 1 more problems)"
    )


def test_record_row_for_itself_is_optional(tmp_path: Path) -> None:
    path = make_wheel(
        tmp_path, "pkg", "1.0", FILES, record=replace_row(RECORD, "")(good_record()).encode()
    )
    assert check(path).name == "pkg"


def test_unlisted_record_signature_is_allowed(tmp_path: Path) -> None:
    extra = {f"{RECORD}.jws": b"{}", f"{RECORD}.p7s": b"sig"}
    assert check(make_wheel(tmp_path, "pkg", "1.0", FILES, extra_members=extra)).name == "pkg"


def test_non_utf8_record_is_refused(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "pkg", "1.0", FILES, record=b"\xff\xfe")
    with pytest.raises(ArchiveError, match=f"{RECORD} is not UTF-8"):
        check(path)


def test_parse_record_decodes_sha256_to_hex() -> None:
    rows = parse_record(
        f'a.py,{record_hash(b"x")},1\r\n"b,c.py",,\n'.encode(), where="w", record_name="R"
    )
    assert rows == (
        RecordRow(
            path="a.py",
            sha256="2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
            size=1,
        ),
        RecordRow(path="b,c.py", sha256=None, size=None),
    )


def wheel_with(tmp_path: Path, **changes: object) -> Path:
    return make_wheel(tmp_path, "pkg", "1.0", FILES, **changes)  # type: ignore[arg-type]


IDENTITY_CASES: dict[str, tuple[Callable[[Path], Path], str, str]] = {
    "METADATA name": (
        lambda tmp: wheel_with(tmp, metadata=metadata_text("other", "1.0")),
        WHEEL,
        "METADATA says other 1.0, the file name says pkg 1.0",
    ),
    "METADATA version": (
        lambda tmp: wheel_with(tmp, metadata=metadata_text("pkg", "1.1")),
        WHEEL,
        "METADATA says pkg 1.1, the file name says pkg 1.0",
    ),
    "two Name headers": (
        lambda tmp: wheel_with(tmp, metadata=metadata_text("pkg", "1.0", extra="Name: pkg\n")),
        WHEEL,
        "METADATA must have exactly one Name (has 2)",
    ),
    "no Version": (
        lambda tmp: wheel_with(tmp, metadata=b"Metadata-Version: 2.1\nName: pkg\n"),
        WHEEL,
        "METADATA must have exactly one Version (has 0)",
    ),
    "bad Version": (
        lambda tmp: wheel_with(tmp, metadata=metadata_text("pkg", "one")),
        WHEEL,
        "METADATA Version 'one' is invalid",
    ),
    "file name": (
        lambda tmp: wheel_with(tmp),
        "pkg-2.0-py3-none-any.whl",
        "folder 'pkg-1.0.dist-info' says pkg 1.0, the file name says pkg 2.0",
    ),
    "file name project": (
        lambda tmp: wheel_with(tmp),
        "other-1.0-py3-none-any.whl",
        "says pkg 1.0, the file name says other 1.0",
    ),
    "dist-info name": (
        lambda tmp: wheel_with(tmp, dist_info="evil-1.0.dist-info"),
        WHEEL,
        "folder 'evil-1.0.dist-info' says evil 1.0",
    ),
    "two dist-info folders": (
        lambda tmp: wheel_with(tmp, extra_members={"other-1.0.dist-info/METADATA": b""}),
        WHEEL,
        "has 2 .dist-info folders",
    ),
    "no RECORD": (lambda tmp: wheel_with(tmp, record=False), WHEEL, "has no member"),
    "foreign data folder": (
        lambda tmp: wheel_with(tmp, extra_members={"evil-1.0.data/scripts/x": b""}),
        WHEEL,
        "member 'evil-1.0.data/scripts/x' is in a foreign .data folder",
    ),
    "bad filename": (lambda tmp: wheel_with(tmp), "pkg.whl", "not a valid wheel file name"),
}


@pytest.mark.parametrize("case", sorted(IDENTITY_CASES))
def test_identity_disagreements_are_refused(tmp_path: Path, case: str) -> None:
    build, filename, fragment = IDENTITY_CASES[case]
    with pytest.raises(ArchiveError) as caught:
        check(build(tmp_path), filename)
    assert str(caught.value).startswith(f"{filename}: ")
    assert fragment in str(caught.value)


def zip_wheel(path: Path, files: dict[str, bytes]) -> Path:
    """A wheel of exactly ``files`` plus a correct RECORD."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr(RECORD, record_text(files, RECORD))
    return path


@pytest.mark.parametrize(
    ("files", "fragment"),
    [
        (listed(**{f"{DIST_INFO}/WHEEL": b"Wheel-Version: 2.0\n"}), "unsupported Wheel-Version"),
        (listed(**{f"{DIST_INFO}/WHEEL": b"Generator: x\n"}), "exactly one Wheel-Version"),
        ({**FILES, f"{DIST_INFO}/WHEEL": listed()[f"{DIST_INFO}/WHEEL"]}, "has no 'pkg-1.0.dist"),
        ({**FILES, f"{DIST_INFO}/METADATA": metadata_text("pkg", "1.0")}, "/WHEEL'"),
        (listed(**{f"{DIST_INFO}/METADATA": b"\xff"}), "METADATA' is not UTF-8"),
    ],
)
def test_dist_info_files_are_required(
    tmp_path: Path, files: dict[str, bytes], fragment: str
) -> None:
    with pytest.raises(ArchiveError) as caught:
        check(zip_wheel(tmp_path / WHEEL, files))
    assert str(caught.value).startswith(f"{WHEEL}: ")
    assert fragment in str(caught.value)


def test_wheel_without_dist_info_is_refused(tmp_path: Path) -> None:
    path = tmp_path / WHEEL
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("pkg/__init__.py", b"")
    with pytest.raises(ArchiveError, match=f"^{WHEEL}: has 0 .dist-info folders"):
        check(path)


def test_an_sdist_is_not_a_wheel(tmp_path: Path) -> None:
    path = make_sdist(tmp_path, "pkg", "1.0")
    with SafeArchive.open(path) as archive, pytest.raises(ArchiveError, match="is not a wheel"):
        check_wheel(archive, path.name)


PLANTED = {
    "purelib dist-info": "pkg-1.0.data/purelib/victimlib-99.0.dist-info/METADATA",
    "platlib egg-info folder": "pkg-1.0.data/platlib/victimlib-99.0.egg-info/PKG-INFO",
    "purelib egg-info file": "pkg-1.0.data/purelib/victimlib-99.0.egg-info",
    "upper-case suffix": "pkg-1.0.data/purelib/Victimlib-99.0.DIST-INFO/METADATA",
    "top-level egg-info": "victimlib-99.0.egg-info/PKG-INFO",
    "top-level egg-info file": "victimlib.egg-info",
    "data scheme site-packages": (
        "pkg-1.0.data/data/lib/python3.11/site-packages/victimlib-99.0.dist-info/METADATA"
    ),
}


@pytest.mark.parametrize("case", sorted(PLANTED))
def test_wheel_planting_another_projects_metadata_is_refused(tmp_path: Path, case: str) -> None:
    member = PLANTED[case]
    path = make_wheel(tmp_path, "pkg", "1.0", {**FILES, member: b"Name: victimlib\n"})
    with pytest.raises(ArchiveError) as caught:
        check(path)
    planted = str(caught.value).split("plants distribution metadata ", 1)[1].split(" ", 1)[0]
    assert str(caught.value).startswith(f"{WHEEL}: member {member!r} plants distribution ")
    assert planted.strip("'").lower().endswith((".dist-info", ".egg-info"))
    assert "(only pkg-1.0.dist-info may describe this wheel)" in str(caught.value)


def test_second_top_level_dist_info_is_refused(tmp_path: Path) -> None:
    files = {**FILES, "victimlib-99.0.dist-info/METADATA": b"Name: victimlib\n"}
    with pytest.raises(ArchiveError, match=r"has 2 \.dist-info folders .*'victimlib-99\.0"):
        check(make_wheel(tmp_path, "pkg", "1.0", files))


VENDORED = [
    "pkg/_vendor/packaging-24.2.dist-info/METADATA",
    "pkg-1.0.data/purelib/pkg/_vendor/tomli-1.2.3.dist-info/METADATA",
    "pkg-1.0.data/platlib/pkg/vendor/old-1.0.egg-info/PKG-INFO",
    "pkg-1.0.data/data/share/pkg/victimlib-99.0.dist-info/METADATA",
    "pkg-1.0.dist-info/licenses/pkg/vendor/tomli-1.2.3.dist-info/LICENSE",
]


@pytest.mark.parametrize("member", VENDORED)
def test_vendored_metadata_below_a_package_folder_is_an_ordinary_file(
    tmp_path: Path, member: str
) -> None:
    info = check(make_wheel(tmp_path, "pkg", "1.0", {**FILES, member: b"Name: other\n"}))
    assert info.dist_info == DIST_INFO


def test_dist_info_folder_is_the_one_at_the_top(tmp_path: Path) -> None:
    member = "pkg/_vendor/packaging-24.2.dist-info/METADATA"
    path = make_wheel(tmp_path, "pkg", "1.0", {**FILES, member: b"Name: packaging\n"})
    with SafeArchive.open(path) as archive:
        assert names.dist_info_folder(archive, WHEEL) == DIST_INFO
