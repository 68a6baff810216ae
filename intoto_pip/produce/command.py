"""Run a step's command: optional timeout, optional capture of its output streams.

With capture, the output is passed on to the caller as it arrives (so a user still sees a
long build's progress) and recorded as text the way the reference records it: decoded as
UTF-8 (invalid bytes replaced) with CRLF and CR turned into LF. Without capture, the command
shares our standard streams.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from intoto_pip.errors import IntotoPipError

# Receives ("stdout" | "stderr", chunk) while the command runs.
OutputSink = Callable[[str, bytes], None]

_CHUNK = 64 * 1024
_READER_GRACE = 2.0  # seconds to wait for output still in flight after the command exits


class CommandError(IntotoPipError):
    """The step's command could not be started or did not finish in time (exit 1)."""

    exit_code = 1


@dataclass(frozen=True, kw_only=True)
class CommandResult:
    return_value: int
    stdout: str = ""
    stderr: str = ""

    def byproducts(self) -> dict[str, str | int]:
        """The link's ``byproducts`` exactly as the reference writes them."""
        return {"return-value": self.return_value, "stderr": self.stderr, "stdout": self.stdout}


def run_command(
    command: Sequence[str],
    *,
    capture: bool,
    timeout: float | None,
    sink: OutputSink | None = None,
    cwd: Path | None = None,
) -> CommandResult:
    """Run ``command`` (no shell) in ``cwd``; raise CommandError if it cannot start or times out."""
    if not command:
        raise CommandError("no command to run")
    with _terminal_kept():
        return _run(command, capture=capture, timeout=timeout, sink=sink, cwd=cwd)


@contextlib.contextmanager
def _terminal_kept() -> Iterator[None]:
    """Put the terminal's settings back however the command ended: an editor killed at the
    timeout leaves it in raw mode, without echo."""
    try:
        import termios

        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd) if os.isatty(fd) else None
    except (ImportError, OSError, ValueError):
        saved = None
    try:
        yield
    finally:
        if saved is not None:
            with contextlib.suppress(OSError):
                termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _run(
    command: Sequence[str],
    *,
    capture: bool,
    timeout: float | None,
    sink: OutputSink | None,
    cwd: Path | None,
) -> CommandResult:
    try:
        if capture:
            return _run_captured(command, timeout, sink, cwd)
        completed = subprocess.run(list(command), check=False, timeout=timeout, cwd=cwd)
        return CommandResult(return_value=completed.returncode)
    except FileNotFoundError as exc:
        raise CommandError(f"command {command[0]!r} not found") from exc
    except PermissionError as exc:
        raise CommandError(
            f"command {command[0]!r} cannot be executed (permission denied)"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise CommandError(
            f"command {command[0]!r} did not finish within {timeout:g} s and was killed "
            "(--run-timeout); an interactive command (an editor, a pager, a prompt) needs "
            "--run-timeout 0"
        ) from exc
    except OSError as exc:
        raise CommandError(f"command {command[0]!r} cannot be run ({exc.strerror or exc})") from exc


def _run_captured(
    command: Sequence[str], timeout: float | None, sink: OutputSink | None, cwd: Path | None
) -> CommandResult:
    process = subprocess.Popen(
        list(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd
    )
    assert process.stdout is not None and process.stderr is not None
    outputs: dict[str, list[bytes]] = {"stdout": [], "stderr": []}
    readers = [
        _start_reader("stdout", process.stdout, outputs["stdout"], sink),
        _start_reader("stderr", process.stderr, outputs["stderr"], sink),
    ]
    try:
        return_value = process.wait(timeout=timeout)
    except BaseException:
        process.kill()
        process.wait()
        raise
    finally:
        # A background child may hold the pipes open after the command exits; do not
        # wait for it forever.
        for reader in readers:
            reader.join(_READER_GRACE)
    return CommandResult(
        return_value=return_value,
        stdout=_as_text(b"".join(outputs["stdout"])),
        stderr=_as_text(b"".join(outputs["stderr"])),
    )


def _start_reader(
    name: str, stream: IO[bytes], chunks: list[bytes], sink: OutputSink | None
) -> threading.Thread:
    def read() -> None:
        fd = stream.fileno()
        try:
            echo = sink
            while chunk := os.read(fd, _CHUNK):
                chunks.append(chunk)
                if echo is not None:
                    try:
                        echo(name, chunk)
                    except OSError:
                        echo = None  # our own output is gone (a closed pipe): keep recording
        finally:
            stream.close()

    thread = threading.Thread(target=read, name=f"intoto-{name}", daemon=True)
    thread.start()
    return thread


def _as_text(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")
