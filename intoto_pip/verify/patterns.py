"""Artifact patterns, compiled once, with the reference's ``fnmatch.filter`` semantics.

The reference filters artifact names with ``fnmatch.filter``: ``*`` matches any run of
characters including ``/``, ``?`` one character, ``[...]`` a class, there is no escape
character, and on POSIX matching is case-sensitive. We always match as on POSIX, whatever
the platform, so a verdict does not depend on where it is reached.

Speed matters with tens of thousands of artifacts: a pattern without wildcards is a set
lookup, ``*`` takes everything, and only the rest go through a regular expression.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

_WILDCARDS = frozenset("*?[")


@dataclass(frozen=True)
class Pattern:
    """One compiled pattern; build it with ``compile_pattern`` (cached)."""

    text: str
    _match: Callable[[str], object] | None = field(default=None, repr=False, compare=False)

    @property
    def is_literal(self) -> bool:
        return self._match is None and self.text != "*"

    def matches(self, name: str) -> bool:
        if self.text == "*":
            return True
        if self._match is None:
            return name == self.text
        return self._match(name) is not None

    def filter(self, names: Collection[str]) -> list[str]:
        """The names that match, like ``fnmatch.filter`` (order of ``names`` kept)."""
        if self.text == "*":
            return list(names)
        if self._match is None:
            return [self.text] if self.text in names else []
        match = self._match
        return [name for name in names if match(name) is not None]

    def filter_iter(self, names: Iterable[str]) -> list[str]:
        """Like ``filter`` for names that are not a collection (no set lookup possible)."""
        if self.text == "*":
            return list(names)
        return [name for name in names if self.matches(name)]


@functools.lru_cache(maxsize=4096)
def compile_pattern(text: str) -> Pattern:
    if text == "*" or not (_WILDCARDS & set(text)):
        return Pattern(text)
    # fnmatch.translate is the reference's own translation, so the two cannot drift apart.
    return Pattern(text, re.compile(fnmatch.translate(text)).match)
