"""Gitignore-style exclude patterns, with the meaning the reference gives them.

The reference filters recorded paths with ``pathspec``'s ``GitIgnoreSpec`` ("gitwildmatch"
patterns). We implement the same translation here rather than depend on ``pathspec``:

- a pattern without a slash (or with only a trailing one) matches at any depth;
  a pattern with an inner or leading slash is anchored at the recorded path's root;
- ``*`` and ``?`` never match ``/``; ``**`` spans directories; ``[...]`` is a bracket
  expression (``!`` or ``^`` negates); a backslash escapes the next character;
- a pattern matches the path itself and every path below it; a pattern ending in ``/``
  matches only what lies below a directory of that name;
- ``!pattern`` re-includes, blank patterns and ``#`` comments do nothing, a pattern with an
  unclosed ``[`` is ignored (as git does), trailing spaces are dropped.

Matching is against the path as the walk sees it (``src/a.pyc``, no ``./`` or leading ``/``).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from intoto_pip.errors import InputError

_DIR_GROUP = "(?P<d>/)"
_OPTIONAL_DIR = f"(?:{_DIR_GROUP}|$)"


class _UnclosedRange(ValueError):
    """A ``[`` without its ``]``: git drops such a pattern."""


@dataclass(frozen=True)
class _Compiled:
    regex: re.Pattern[str]
    source: str  # regex text, used to build the single-regex fast path
    include: bool  # False for a "!" pattern


def _bracket(segment: str, start: int) -> tuple[str, int]:
    """Translate the bracket expression opening at ``segment[start - 1]``."""
    end = len(segment)
    j = start
    if j < end and segment[j] in "!^":
        j += 1
    if j < end and segment[j] == "]":
        j += 1
    while j < end and segment[j] != "]":
        j += 1
    if j >= end:
        raise _UnclosedRange(segment)
    i = start
    expr = "["
    if segment[i] in "!^":
        expr += "^"
        i += 1
    expr += segment[i:j].replace("\\", "\\\\") + "]"
    return expr, j + 1


def _glob_segment(segment: str) -> str:
    """One path segment of a glob as a regex (``*`` and ``?`` stay inside the segment)."""
    out: list[str] = []
    i, end = 0, len(segment)
    while i < end:
        char = segment[i]
        i += 1
        if char == "\\":
            if i >= end:
                raise ValueError("a backslash at the end escapes nothing")
            out.append(re.escape(segment[i]))
            i += 1
        elif char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            expr, i = _bracket(segment, i)
            out.append(expr)
        else:
            out.append(re.escape(char))
    return "".join(out)


def _normalize_segments(segments: list[str], is_dir: bool) -> list[str] | str:
    """Anchor or float the pattern; return the segments, or a whole regex for special cases."""
    if not segments[0]:
        del segments[0]  # leading "/": anchored at the root
    elif segments[0] != "**" and (len(segments) == 1 or (len(segments) == 2 and not segments[1])):
        segments.insert(0, "**")  # a bare name matches at any depth
    if not segments:
        raise ValueError("the pattern is empty")
    if not segments[-1]:
        segments[-1] = "**"
    collapsed = [
        seg for i, seg in enumerate(segments) if not (seg == "**" and i and segments[i - 1] == "**")
    ]
    if collapsed == ["**"]:
        return _DIR_GROUP if is_dir else "."
    if collapsed == ["**", "*"]:
        return "."
    if collapsed == ["**", "*", "**"]:
        return _DIR_GROUP if is_dir else "/"
    return collapsed


def _translate_segments(segments: list[str], is_dir: bool) -> str:
    parts: list[str] = []
    need_slash = False
    last = len(segments) - 1
    for index, seg in enumerate(segments):
        if seg == "**":
            if index == 0:
                parts.append("^(?:.+/)?")
            elif index < last:
                parts.append("(?:/.+)?")
                need_slash = True
            else:
                parts.append(_DIR_GROUP if is_dir else "/")
            continue
        if index == 0:
            parts.append("^")
        if need_slash:
            parts.append("/")
        parts.append("[^/]+" if seg == "*" else _glob_segment(seg))
        if index == last:
            parts.append(_OPTIONAL_DIR)
        need_slash = True
    return "".join(parts)


def _translate(pattern: str) -> tuple[str, bool] | None:
    """Return (regex, include) for one pattern, or None when it does nothing."""
    if not pattern.endswith("\\ "):
        pattern = pattern.rstrip()
    if not pattern or pattern.startswith("#") or pattern == "/":
        return None
    include = not pattern.startswith("!")
    if not include:
        pattern = pattern[1:]
    segments = pattern.split("/")
    is_dir = not segments[-1]
    normalized = _normalize_segments(segments, is_dir)
    if isinstance(normalized, str):
        return normalized, include
    try:
        return _translate_segments(normalized, is_dir), include
    except _UnclosedRange:
        return None


def _compile(regex: str) -> re.Pattern[str]:
    # A bracket expression such as "[[]" is valid glob and valid regex, but `re` warns
    # that it might mean a nested set one day; the meaning today is the glob's.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return re.compile(regex)


class ExcludeMatcher:
    """Decide whether a recorded path is excluded by a list of gitignore-style patterns."""

    def __init__(self, patterns: Sequence[str]) -> None:
        compiled: list[_Compiled] = []
        for pattern in patterns:
            try:
                translated = _translate(pattern)
            except ValueError as exc:
                raise InputError(f"exclude pattern {pattern!r} is invalid: {exc}") from exc
            if translated is not None:
                regex, include = translated
                compiled.append(_Compiled(_compile(regex), regex, include))
        self._patterns = tuple(reversed(compiled))
        self._any: re.Pattern[str] | None = None
        if compiled and all(item.include for item in compiled):
            # No "!" pattern: a path is excluded when any pattern matches, so one regex
            # search per path does (this is the hot path when recording many files).
            joined = "|".join(f"(?:{item.source.replace(_DIR_GROUP, '/')})" for item in compiled)
            self._any = _compile(joined)

    @property
    def empty(self) -> bool:
        return not self._patterns

    def excluded(self, path: str) -> bool:
        """``path`` as walked: ``/``-separated, no ``./`` prefix; a leading ``/`` is ignored."""
        if path.startswith("/"):
            path = path[1:]
        if self._any is not None:
            return self._any.search(path) is not None
        return self._decide(path)

    def _decide(self, path: str) -> bool:
        # The last pattern that matches a file wins; a match that only says "below a
        # directory" (a pattern ending in "/") yields to a later-listed file match.
        decision = False
        best = 0
        for item in self._patterns:
            match = item.regex.search(path)
            if match is None:
                continue
            priority = 1 if match.groupdict().get("d") else 2
            if priority > best:
                decision, best = item.include, priority
            if priority == 2:
                break
        return decision
