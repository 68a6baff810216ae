"""Running a step's command: exit status, captured streams, timeouts, missing commands."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from intoto_pip.produce.command import CommandError, run_command

PY = sys.executable


def test_captured_streams_are_recorded_and_passed_on() -> None:
    seen: list[tuple[str, bytes]] = []
    script = (
        "import sys; sys.stdout.write('out\\r\\nline'); sys.stderr.write('err\\r'); sys.exit(4)"
    )
    result = run_command(
        [PY, "-c", script], capture=True, timeout=30, sink=lambda s, c: seen.append((s, c))
    )
    # Recorded as the reference records text: CRLF and CR become LF.
    assert result.byproducts() == {"return-value": 4, "stdout": "out\nline", "stderr": "err\n"}
    assert b"".join(c for s, c in seen if s == "stdout") == b"out\r\nline"
    assert b"".join(c for s, c in seen if s == "stderr") == b"err\r"


def test_invalid_utf8_output_is_replaced_not_fatal() -> None:
    script = "import sys; sys.stdout.buffer.write(b'ok\\xff')"
    result = run_command([PY, "-c", script], capture=True, timeout=30)
    assert result.stdout == "ok\ufffd"


def test_without_capture_only_the_exit_status_is_kept() -> None:
    result = run_command([PY, "-c", "print('x'); raise SystemExit(3)"], capture=False, timeout=30)
    assert result.byproducts() == {"return-value": 3, "stdout": "", "stderr": ""}


def test_a_broken_sink_does_not_stop_the_recording() -> None:
    def broken(stream: str, chunk: bytes) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    script = "print('a' * 200000)"
    result = run_command([PY, "-c", script], capture=True, timeout=30, sink=broken)
    assert result.stdout == "a" * 200000 + "\n"


@pytest.mark.parametrize("capture", [False, True])
def test_timeout_kills_the_command(capture: bool) -> None:
    start = time.monotonic()
    with pytest.raises(CommandError, match=r"did not finish within 0\.5 s"):
        run_command([PY, "-c", "import time; time.sleep(30)"], capture=capture, timeout=0.5)
    assert time.monotonic() - start < 10


@pytest.mark.parametrize("capture", [False, True])
def test_missing_command_is_one_clear_error(capture: bool) -> None:
    with pytest.raises(CommandError, match="'no-such-command-xyz' not found") as info:
        run_command(["no-such-command-xyz"], capture=capture, timeout=5)
    assert info.value.exit_code == 1


def test_non_executable_command(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"cannot be executed|cannot be run"):
        run_command([str(tmp_path)], capture=False, timeout=5)


def test_empty_command_is_refused() -> None:
    with pytest.raises(CommandError, match="no command"):
        run_command([], capture=False, timeout=5)


def test_the_timeout_message_says_what_an_interactive_command_needs() -> None:
    with pytest.raises(CommandError, match=r"an interactive command .* needs --run-timeout 0"):
        run_command([PY, "-c", "import time; time.sleep(30)"], capture=False, timeout=0.2)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX terminals")
def test_a_command_killed_at_the_timeout_leaves_the_terminal_as_it_was(tmp_path: Path) -> None:
    """An editor killed at the timeout leaves the terminal raw, without echo; intoto-pip run
    puts the settings back. The command runs on a real pseudo-terminal."""
    import os
    import pty
    import subprocess
    import termios

    from tests.produce._keys import write_key

    key = write_key(tmp_path, "alice").private
    leader, follower = pty.openpty()
    try:
        before = termios.tcgetattr(follower)
        raw = "import sys, time, tty; tty.setraw(0); time.sleep(30)"
        done = subprocess.run(
            [PY, "-m", "intoto_pip.cli.main", "run", "-n", "edit", "--signing-key", str(key),
             "--run-timeout", "1", "--", PY, "-c", raw],
            stdin=follower, capture_output=True, text=True, cwd=tmp_path, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 1, done.stderr
        assert "needs --run-timeout 0" in done.stderr
        assert termios.tcgetattr(follower) == before
    finally:
        os.close(leader)
        os.close(follower)
