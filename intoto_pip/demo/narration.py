"""What the story tells, as values: the CLI decides how (and whether) to print them.

The library never prints, so the story hands each event to a ``Narrator`` callback;
``intoto_pip.cli.demo`` renders them, with colour on a terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Chapter:
    """A new step of the story: who acts, and what they do."""

    number: int
    total: int
    title: str


@dataclass(frozen=True, kw_only=True)
class Say:
    """A sentence of explanation."""

    text: str


@dataclass(frozen=True, kw_only=True)
class Shell:
    """A command, exactly as the actor would type it, and the folder they type it in."""

    folder: str
    command: str


@dataclass(frozen=True, kw_only=True)
class Output:
    """What a command printed (the renderer may shorten it); ``important`` output is never cut."""

    text: str
    important: bool = False


@dataclass(frozen=True, kw_only=True)
class Check:
    """An outcome the story relies on, and that it has just confirmed."""

    text: str


Event = Chapter | Say | Shell | Output | Check
Narrator = Callable[[Event], None]


def silent(event: Event) -> None:
    """A narrator that tells nothing (for callers that only want the verdict)."""
    del event
