"""Recording artifacts: the reference's semantics, plus loops and collisions refused."""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path
from typing import Any

import pytest

from intoto_pip.artifacts.collect import (
    DEFAULT_EXCLUDES,
    RecordOptions,
    record_artifacts,
    record_artifacts_report,
)
from intoto_pip.errors import InputError


def sha(data: bytes) -> dict[str, str]:
    return {"sha256": hashlib.sha256(data).hexdigest()}


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with the kinds of entries a project has."""
    files = {
        "src/pkg/__init__.py": b"",
        "src/pkg/mod.py": b"print('hi')\n",
        "src/pkg/mod.pyc": b"\x00compiled",
        "src/build/out.bin": b"\x01" * 100,
        "README.md": b"readme\n",
        "notes.txt~": b"backup",
        ".git/HEAD": b"ref: refs/heads/main\n",
        "step.1234abcd.link": b"{}",
        "crlf.txt": b"a\r\nb\rc\n",
    }
    for name, data in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (tmp_path / "src" / "link-to-readme").symlink_to("../README.md")
    (tmp_path / "linked-pkg").symlink_to("src/pkg", target_is_directory=True)
    (tmp_path / "dangling").symlink_to("nowhere")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def reference_record(paths: list[str], **kwargs: Any) -> dict[str, Any]:
    runlib = pytest.importorskip("in_toto.runlib")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result: dict[str, Any] = runlib.record_artifacts_as_dict(
            paths, follow_symlink_dirs=True, **kwargs
        )
    return result


CASES: list[tuple[list[str], dict[str, Any], RecordOptions]] = [
    (["."], {}, RecordOptions()),
    (["src", "README.md"], {}, RecordOptions()),
    (["."], {"exclude_patterns": ["build/", "*.md"]}, RecordOptions(exclude=("build/", "*.md"))),
    (["."], {"exclude_patterns": [""]}, RecordOptions(exclude=())),
    (["src/pkg", "./crlf.txt"], {"normalize_line_endings": True},
     RecordOptions(normalize_line_endings=True)),
    (["src", "linked-pkg"], {"lstrip_paths": ["src/"]}, RecordOptions(lstrip_paths=("src/",))),
    (["mod.py", "missing"], {"base_path": "src/pkg"}, RecordOptions(base_path=Path("src/pkg"))),
    (["./src/../src/pkg"], {}, RecordOptions()),
]  # fmt: skip


@pytest.mark.parametrize(("paths", "reference_kwargs", "options"), CASES)
def test_same_artifacts_as_the_reference(
    tree: Path, paths: list[str], reference_kwargs: dict[str, Any], options: RecordOptions
) -> None:
    ours = record_artifacts(paths, options)
    assert ours == reference_record(paths, **reference_kwargs)
    assert ours  # every case records something


def test_default_excludes_and_symlinks(tree: Path) -> None:
    names = set(record_artifacts(["."], RecordOptions()))
    assert DEFAULT_EXCLUDES == ("*.link*", ".git", "*.pyc", "*~")
    assert names == {
        "README.md",
        "crlf.txt",
        "src/pkg/__init__.py",
        "src/pkg/mod.py",
        "src/build/out.bin",
        "src/link-to-readme",
        "linked-pkg/__init__.py",
        "linked-pkg/mod.py",
    }


def test_symlinked_file_is_hashed_through(tree: Path) -> None:
    artifacts = record_artifacts(["src/link-to-readme"], RecordOptions())
    assert artifacts == {"src/link-to-readme": sha(b"readme\n")}


def test_no_excludes_records_everything(tree: Path) -> None:
    names = set(record_artifacts(["."], RecordOptions(exclude=())))
    assert {".git/HEAD", "step.1234abcd.link", "notes.txt~", "src/pkg/mod.pyc"} <= names


def test_symlinked_folders_not_followed_when_asked(tree: Path) -> None:
    names = set(record_artifacts(["."], RecordOptions(follow_symlinks=False)))
    assert not any(name.startswith("linked-pkg") for name in names)
    assert "src/pkg/mod.py" in names


def test_missing_path_and_broken_symlink_are_reported(tree: Path) -> None:
    report = record_artifacts_report(["missing", "."], RecordOptions())
    assert "README.md" in report.artifacts
    assert any("'missing'" in m and "does not exist" in m for m in report.skipped)
    assert any("'dangling'" in m and "broken symlink" in m for m in report.skipped)


def test_directory_symlink_cycle_is_walked_once(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f").write_bytes(b"f")
    (tmp_path / "a" / "b" / "up").symlink_to("..", target_is_directory=True)
    (tmp_path / "a" / "self").symlink_to(".", target_is_directory=True)
    report = record_artifacts_report(["a"], RecordOptions(base_path=tmp_path))
    assert report.artifacts == {"a/b/f": sha(b"f")}
    assert sum("links back" in message for message in report.skipped) == 2


def test_same_folder_through_two_links_is_recorded_twice(tmp_path: Path) -> None:
    # Not a cycle: the reference records both names, and so do we.
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "f").write_bytes(b"x")
    (tmp_path / "l1").symlink_to("shared")
    (tmp_path / "l2").symlink_to("shared")
    names = set(record_artifacts(["."], RecordOptions(base_path=tmp_path)))
    assert names == {"shared/f", "l1/f", "l2/f"}


def test_lstrip_collision_is_refused(tmp_path: Path) -> None:
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.txt").write_bytes(folder.encode())
    options = RecordOptions(base_path=tmp_path, lstrip_paths=("one/", "two/"))
    with pytest.raises(InputError, match=r"both be recorded as 'same\.txt'"):
        record_artifacts(["one", "two"], options)


def test_same_file_given_twice_is_not_a_collision(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_bytes(b"f")
    options = RecordOptions(base_path=tmp_path, lstrip_paths=("d/",))
    assert record_artifacts(["d", "d/f"], options) == {"f": sha(b"f")}


@pytest.mark.parametrize("prefixes", [("a/", "a/b/"), ("x", "x")])
def test_overlapping_lstrip_prefixes_are_refused(tmp_path: Path, prefixes: tuple[str, ...]) -> None:
    with pytest.raises(InputError, match="overlap"):
        record_artifacts(["."], RecordOptions(base_path=tmp_path, lstrip_paths=prefixes))


def test_lstrip_leaving_no_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(InputError, match="no name"):
        record_artifacts(["f"], RecordOptions(base_path=tmp_path, lstrip_paths=("f",)))


def test_absolute_paths_with_lstrip(tmp_path: Path) -> None:
    (tmp_path / "doc.pdf").write_bytes(b"pdf")
    options = RecordOptions(lstrip_paths=(f"{tmp_path}/",))
    assert record_artifacts([str(tmp_path / "doc.pdf")], options) == {"doc.pdf": sha(b"pdf")}


def test_names_are_normalised_like_the_verifier(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f").write_bytes(b"1")
    options = RecordOptions(base_path=tmp_path, lstrip_paths=("x",))
    assert set(record_artifacts(["./a/../a//f"], options)) == {"a/f"}


def test_base_path_must_be_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a directory"):
        record_artifacts(["."], RecordOptions(base_path=tmp_path / "nope"))


def _reference_hash(path: Path, normalize: bool) -> str:
    resolver = pytest.importorskip("in_toto.resolver._resolver")
    digest: str = resolver._hash_file(str(path), "sha256", normalize)
    return digest


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\r",
        b"line\r\nend\r",
        b"x" * (64 * 1024 - 1) + b"\r" + b"\nnext",  # CR LF split across the small-read limit
        b"y" * (1024 * 1024 - 1) + b"\r\n" + b"z" * 10,  # ... and across a large read
        b"\r\n" * 700_000,
        os.urandom(3 * 1024 * 1024 + 17),
    ],
    ids=["empty", "cr", "mixed", "split-64k", "split-1m", "many-crlf", "random-large"],
)
def test_hashes_match_the_reference(tmp_path: Path, content: bytes, normalize: bool) -> None:
    path = tmp_path / "f"
    path.write_bytes(content)
    options = RecordOptions(base_path=tmp_path, normalize_line_endings=normalize)
    assert record_artifacts(["f"], options)["f"]["sha256"] == _reference_hash(path, normalize)


def test_many_files_of_mixed_sizes(tmp_path: Path) -> None:
    expected: dict[str, dict[str, str]] = {}
    for index in range(300):
        data = os.urandom(index * 997 if index % 50 else 200_000 + index)
        (tmp_path / f"f{index:03d}").write_bytes(data)
        expected[f"f{index:03d}"] = sha(data)
    result = record_artifacts(["."], RecordOptions(base_path=tmp_path, workers=3))
    assert result == expected
    assert list(result) == sorted(result)


def test_unreadable_file_is_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "secret").write_bytes(b"s")
    real_open = os.open

    def deny(path: str, flags: int, *args: Any, **kwargs: Any) -> int:
        if path.endswith("secret"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    with pytest.raises(InputError, match=r"secret.*cannot be read .Permission denied"):
        record_artifacts(["secret"], RecordOptions(base_path=tmp_path))


def test_no_paths_records_nothing() -> None:
    assert record_artifacts([], RecordOptions()) == {}
