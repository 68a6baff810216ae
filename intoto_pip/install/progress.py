"""Progress for downloads and verification of large archives: stderr, terminals only.

Nothing is shown when stderr is not a terminal (piped, CI logs) or with ``-q``; the library
calls the callback and the CLI decides whether it draws anything.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

MIN_SIZE = 4 * 1024 * 1024  # smaller files finish before a bar is worth drawing
REDRAW_SECONDS = 0.1


@dataclass
class ProgressBar:
    """A one-line progress display for one file; a no-op when ``enabled`` is False."""

    label: str
    enabled: bool
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    _last: float = 0.0
    _drawn: bool = False

    def __call__(self, done: int, total: int | None) -> None:
        if not self.enabled or (total is not None and total < MIN_SIZE):
            return
        now = time.monotonic()
        if now - self._last < REDRAW_SECONDS and done != total:
            return
        self._last = now
        self._drawn = True
        self.stream.write(f"\r{self.label}: {_amount(done, total)}")
        self.stream.flush()

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def _amount(done: int, total: int | None) -> str:
    mib = done / (1024 * 1024)
    if not total:
        return f"{mib:.1f} MiB"
    return f"{mib:.1f}/{total / (1024 * 1024):.1f} MiB ({100 * done // total}%)"


def progress_enabled(quiet: bool, stream: TextIO | None = None) -> bool:
    target = stream or sys.stderr
    return not quiet and target.isatty()
