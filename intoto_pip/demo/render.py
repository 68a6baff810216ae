"""Turning the story's events into text. Pure: returns strings, the CLI prints them."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from intoto_pip.demo.narration import Chapter, Event, Output, Say, Shell

WIDTH = 88
# Unimportant command output is cut to this many lines unless --verbose is given.
SHORT_OUTPUT_LINES = 4

_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "cyan": "36"}


@dataclass(frozen=True, kw_only=True)
class Style:
    colour: bool = False
    verbose: bool = False
    unicode: bool = True

    def paint(self, text: str, *names: str) -> str:
        if not self.colour or not names:
            return text
        codes = ";".join(_CODES[name] for name in names)
        return f"\033[{codes}m{text}\033[0m"

    @property
    def tick(self) -> str:
        return "✓" if self.unicode else "ok"

    @property
    def cross(self) -> str:
        return "✗" if self.unicode else "FAILED"


def render(event: Event, style: Style) -> str:
    """The lines for one event, without a trailing newline."""
    if isinstance(event, Chapter):
        head = f"[{event.number}/{event.total}] {event.title}"
        return "\n" + style.paint(head, "bold")
    if isinstance(event, Say):
        return _wrapped(event.text, "  ", "  ")
    if isinstance(event, Shell):
        return style.paint(f"  {event.folder}$ {event.command}", "cyan")
    if isinstance(event, Output):
        return _output(event, style)
    mark = style.paint(style.tick, "green")
    return _wrapped(event.text, f"  {style.tick} ", " " * 4).replace(style.tick, mark, 1)


def failure(message: str, output: str, style: Style) -> str:
    """A step that did not go as told, with what its command printed."""
    lines = [style.paint(f"{style.cross} {message}", "red", "bold")]
    lines += [f"    | {line}" for line in output.splitlines()]
    return "\n".join(lines)


def _output(event: Output, style: Style) -> str:
    lines = event.text.splitlines()
    cut = not (event.important or style.verbose) and len(lines) > SHORT_OUTPUT_LINES
    if cut:
        hidden = len(lines) - SHORT_OUTPUT_LINES
        lines = [*lines[:SHORT_OUTPUT_LINES], f"... ({hidden} more lines; -v shows them)"]
    body = "\n".join(f"    | {line}" for line in lines)
    return body if event.important else style.paint(body, "dim")


def _wrapped(text: str, first: str, rest: str) -> str:
    # File names such as greeting-1.0.dist-info must not be split at their hyphens.
    return textwrap.fill(
        text, WIDTH, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False
    )
