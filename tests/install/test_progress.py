"""Progress: drawn only when enabled, for large files, on the given stream."""

from __future__ import annotations

import io

from intoto_pip.install.progress import MIN_SIZE, ProgressBar, progress_enabled


def test_progress_draws_for_large_files_only() -> None:
    stream = io.StringIO()
    bar = ProgressBar(label="big.whl", enabled=True, stream=stream)
    bar(MIN_SIZE, 2 * MIN_SIZE)
    bar(2 * MIN_SIZE, 2 * MIN_SIZE)
    bar.close()
    assert "big.whl" in stream.getvalue() and "(100%)" in stream.getvalue()
    assert stream.getvalue().endswith("\n")
    small = io.StringIO()
    ProgressBar(label="s", enabled=True, stream=small)(10, 100)
    assert small.getvalue() == ""


def test_disabled_progress_is_silent() -> None:
    stream = io.StringIO()
    bar = ProgressBar(label="big.whl", enabled=False, stream=stream)
    bar(MIN_SIZE, MIN_SIZE)
    bar.close()
    assert stream.getvalue() == ""


def test_enabled_only_on_a_terminal_and_not_quiet() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert progress_enabled(False, Tty())
    assert not progress_enabled(True, Tty())
    assert not progress_enabled(False, io.StringIO())
