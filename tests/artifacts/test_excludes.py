"""Exclude patterns mean what the reference's pathspec ("gitwildmatch") makes them mean."""

from __future__ import annotations

import warnings

import pytest

from intoto_pip.artifacts.excludes import ExcludeMatcher
from intoto_pip.errors import InputError

# (patterns, path, excluded?) — each row checked against our matcher and, when pathspec is
# installed (the reference's own dependency), against it too.
TABLE: list[tuple[tuple[str, ...], str, bool]] = [
    (("*.pyc",), "a.pyc", True),
    (("*.pyc",), "deep/down/a.pyc", True),
    (("*.pyc",), "a.pyc.txt", False),
    (("*.link*",), "build.1234abcd.link", True),
    (("*.link*",), ".build.1234abcd.link-unfinished", True),
    (("*.link*",), "sub/x.links/file", True),
    ((".git",), ".git", True),
    ((".git",), ".git/config", True),
    ((".git",), "sub/.git/HEAD", True),
    ((".git",), ".github/workflows/ci.yml", False),
    (("*~",), "notes.txt~", True),
    (("*~",), "a~b", False),
    (("build/",), "build", False),
    (("build/",), "build/x", True),
    (("build/",), "src/build/x", True),
    (("/build",), "build/x", True),
    (("/build",), "src/build/x", False),
    (("src/*.py",), "src/a.py", True),
    (("src/*.py",), "src/sub/a.py", False),
    (("src/*.py",), "other/src/a.py", False),
    (("src/**/*.py",), "src/sub/deep/a.py", True),
    (("src/**/*.py",), "src/a.py", True),
    (("**/cache",), "x/y/cache/z", True),
    (("a/**",), "a/b/c", True),
    (("a/**",), "a", False),
    (("*",), "anything/at/all", True),
    (("*",), ".", True),
    (("*/",), "top", False),
    (("*/",), "top/file", True),
    (("**",), "x", True),
    (("?.txt",), "a.txt", True),
    (("?.txt",), "ab.txt", False),
    (("[ab].txt",), "b.txt", True),
    (("[!ab].txt",), "b.txt", False),
    (("[!ab].txt",), "c.txt", True),
    (("[^ab].txt",), "c.txt", True),
    (("[a-c]*",), "beta", True),
    (("[[]x",), "[x", True),
    (("[unclosed",), "[unclosed", False),
    ((r"\*.txt",), "*.txt", True),
    ((r"\*.txt",), "a.txt", False),
    ((r"\#x",), "#x", True),
    (("#x",), "#x", False),
    (("",), "anything", False),
    (("/",), "anything", False),
    (("x.txt   ",), "x.txt", True),
    (("*.txt", "!keep.txt"), "keep.txt", False),
    (("*.txt", "!keep.txt"), "other.txt", True),
    (("!keep.txt", "*.txt"), "keep.txt", True),
    (("dir/", "!dir/keep"), "dir/keep", False),
    (("dir/", "!dir/keep"), "dir/other", True),
    (("dir", "!dir/keep"), "dir/keep", False),
    (("*.txt",), "/abs/path/a.txt", True),
    (("a b",), "a b", True),
]


@pytest.mark.parametrize(("patterns", "path", "expected"), TABLE)
def test_pattern_table(patterns: tuple[str, ...], path: str, expected: bool) -> None:
    assert ExcludeMatcher(patterns).excluded(path) is expected


def _reference_excluded(patterns: tuple[str, ...], path: str) -> bool:
    pathspec = pytest.importorskip("pathspec")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "gitwildmatch" is deprecated, but it is what in-toto uses
        spec = pathspec.GitIgnoreSpec.from_lines("gitwildmatch", list(patterns))
        return bool(spec.match_file(path))


@pytest.mark.parametrize(("patterns", "path", "expected"), TABLE)
def test_table_agrees_with_reference_pathspec(
    patterns: tuple[str, ...], path: str, expected: bool
) -> None:
    assert _reference_excluded(patterns, path) is expected


def test_fast_path_and_full_decision_agree() -> None:
    # Without "!" patterns one combined regex decides; adding a no-op negation forces the
    # per-pattern decision. Both must give the same answers.
    patterns = ("*.pyc", ".git", "build/", "src/**/gen", "[ab]?.c")
    fast = ExcludeMatcher(patterns)
    full = ExcludeMatcher((*patterns, "!never-matches-anything"))
    paths = ["x.pyc", ".git/a", "build", "build/a", "src/q/gen", "src/gen/x", "a1.c", "ok.c", "z"]
    assert [fast.excluded(p) for p in paths] == [full.excluded(p) for p in paths]
    assert any(fast.excluded(p) for p in paths) and not all(fast.excluded(p) for p in paths)


def test_empty_pattern_list_excludes_nothing() -> None:
    matcher = ExcludeMatcher(())
    assert matcher.empty
    assert not matcher.excluded("a.pyc")


@pytest.mark.parametrize("pattern", ["!", "trailing\\"])
def test_invalid_patterns_are_input_errors(pattern: str) -> None:
    with pytest.raises(InputError, match="exclude pattern"):
        ExcludeMatcher((pattern,))
