"""Patterns match exactly as the reference's ``fnmatch.filter`` does on POSIX."""

from __future__ import annotations

import fnmatch

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intoto_pip.verify.patterns import compile_pattern

NAMES = [
    "foo.py",
    "src/foo.py",
    "src/pkg/bar.py",
    "FOO.PY",
    ".hidden",
    "a[b].txt",
    "ab.txt",
    "dir/",
    "x\\y",
    "",
    "a\nb",
]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("*", NAMES),
        ("*.py", ["foo.py", "src/foo.py", "src/pkg/bar.py"]),  # '*' crosses '/'
        ("src/*", ["src/foo.py", "src/pkg/bar.py"]),
        ("*.PY", ["FOO.PY"]),  # case-sensitive, as on POSIX
        ("foo.py", ["foo.py"]),  # literal: a set lookup
        ("?b.txt", ["ab.txt"]),
        ("a[b].txt", ["ab.txt"]),  # a class, not literal brackets
        ("a[[]b].txt", ["a[b].txt"]),
        ("[!.]*", [n for n in NAMES if n and not n.startswith(".")]),
        ("a*b", ["a\nb"]),  # '*' crosses newlines too (DOTALL)
        ("x\\y", ["x\\y"]),  # no escape character
        ("nothing", []),
    ],
)
def test_filter_matches_fnmatch(pattern: str, expected: list[str]) -> None:
    compiled = compile_pattern(pattern)
    assert compiled.filter(NAMES) == expected
    assert compiled.filter(NAMES) == fnmatch.filter(NAMES, pattern)


def test_literal_lookup_uses_set_membership() -> None:
    compiled = compile_pattern("src/foo.py")
    assert compiled.is_literal
    assert compiled.filter({"src/foo.py", "other"}) == ["src/foo.py"]
    assert not compile_pattern("*.py").is_literal


def test_patterns_are_compiled_once() -> None:
    assert compile_pattern("build/*.whl") is compile_pattern("build/*.whl")


_ALPHABET = st.sampled_from(list("ab/.*?[]!-\\^x"))


@given(
    pattern=st.text(alphabet=_ALPHABET, max_size=8),
    name=st.text(alphabet=st.sampled_from(list("ab/.*?[]!-\\^x\n")), max_size=8),
)
def test_any_pattern_agrees_with_fnmatch(pattern: str, name: str) -> None:
    compiled = compile_pattern(pattern)
    assert compiled.matches(name) == fnmatch.fnmatchcase(name, pattern)
    assert compiled.filter([name]) == fnmatch.filter([name], pattern)
