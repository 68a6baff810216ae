"""Which of pip's own settings (environment variables, configuration files) reach the resolver.

pip reads ``PIP_*`` environment variables and ``pip.conf`` files (global, user, site, and
``PIP_CONFIG_FILE``) that the user never handed to intoto-pip: ``PIP_CONSTRAINT`` would pin an
sdist URL the command line refuses, ``PIP_NO_BINARY`` would make pip build one. So pip runs
with ``--isolated``, ``PIP_CONFIG_FILE`` set to the null device and no ``PIP_*`` variable, and
the settings below, read here through pip itself (``pip config list``, so every file pip would
read is read), are passed back on its command line. They only say where to look and how to
connect; none makes pip build or run anything:

    index-url, extra-index-url, find-links, no-index, trusted-host, cert, client-cert, proxy,
    timeout (default-timeout), retries, cache-dir, no-cache-dir

Everything else (constraint, requirement, no-binary, only-binary, pre, editable, src,
config-settings, no-build-isolation, use-pep517, keyring-provider, ...) is left out and reported
as ignored, except a few that only change pip's own output, which are left out silently.
Sections apply as pip applies them to ``pip install``: ``[global]``, then ``[install]``, then
the environment.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from intoto_pip.errors import InstallError
from intoto_pip.install.pip_runner import SETTINGS_END, session_argv

CONFIG_TIMEOUT = 120.0
READER_TIMEOUT = 5.0  # for the last announcements once pip has ended
# pip's option (config key) -> how it is passed back: "value", "values" (space-separated,
# repeatable), or "flag" (a boolean written as 1/true/yes/on).
TAKEN: Mapping[str, str] = {
    "index-url": "value",
    "extra-index-url": "values",
    "find-links": "values",
    "no-index": "flag",
    "trusted-host": "values",
    "cert": "value",
    "client-cert": "value",
    "proxy": "value",
    "timeout": "value",
    "retries": "value",
    "cache-dir": "value",
    "no-cache-dir": "flag",
}
_ALIASES = {"default-timeout": "timeout"}
# Only pip's own output, or where the files read here are (PIP_CONFIG_FILE): nothing to
# report when they are left out.
_SILENT = frozenset(
    {
        *("disable-pip-version-check", "no-color", "progress-bar", "no-input", "quiet"),
        *("verbose", "root-user-action", "no-python-version-warning", "require-virtualenv"),
        *("isolated", "config-file"),
    }
)
_MERGED_BY_CALLER = frozenset({"index-url", "extra-index-url", "find-links"})
_SECTIONS = ("global", "install", ":env:")  # pip install's order: a later one wins
_TRUE = frozenset({"1", "true", "yes", "on", "y", "t"})


@dataclass(frozen=True, kw_only=True)
class PipSetting:
    """One setting pip would have read: its option name, value and where it came from."""

    name: str
    value: str
    origin: str  # "environment PIP_INDEX_URL", or "configuration [global]"


@dataclass(frozen=True, kw_only=True)
class PipSettings:
    taken: tuple[PipSetting, ...] = ()
    ignored: tuple[PipSetting, ...] = ()

    def value(self, name: str) -> str | None:
        return next((s.value for s in self.taken if s.name == name), None)

    def values(self, name: str) -> tuple[str, ...]:
        return tuple(word for s in self.taken if s.name == name for word in s.value.split())

    def arguments(self) -> list[str]:
        """The taken settings as pip options, but for the index and find-links locations,
        which the caller merges with intoto-pip's own command line."""
        args: list[str] = []
        for setting in self.taken:
            kind = TAKEN[setting.name]
            if setting.name in _MERGED_BY_CALLER:
                continue
            if kind == "flag":
                args += [f"--{setting.name}"] if _is_true(setting.value) else []
            elif kind == "value":
                args += [f"--{setting.name}", setting.value]
            else:
                for word in setting.value.split():
                    args += [f"--{setting.name}", word]
        return args


def _is_true(value: str) -> bool:
    return value.strip().lower() in _TRUE


def isolated_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``environ`` without anything pip would read as a setting; its config files off."""
    source = os.environ if environ is None else environ
    env = {k: v for k, v in source.items() if not k.upper().startswith(("PIP_", "_PIP_"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"  # ours: no network call of pip's own
    return env


def read_pip_settings(
    python: Path | None = None, environ: Mapping[str, str] | None = None
) -> PipSettings:
    """Ask pip which settings its environment and files hold; sort them into taken/ignored."""
    pending = start_reading(python, environ)
    try:
        return pending.result()
    finally:
        pending.close()


class PendingSettings:
    """A pip session (``pip_runner.SESSION``) in the target interpreter: ``pip config list``
    runs at once, overlapping the probe of the target and the loading of intoto-pip; then the
    same process may run the resolution (``resolve``), pip's modules loaded already. Call
    ``result`` for the settings, and ``close`` in a ``finally``."""

    def __init__(self, python: Path, environ: Mapping[str, str] | None) -> None:
        self.python = python  # in the target: its site configuration is the target's
        # pip's messages go to a file, not a pipe, so pip never waits for them to be read;
        # closed by ``close``.
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115
        self._process: subprocess.Popen[bytes] | None = None
        self._failure = ""
        # Where the session may announce wheels during the resolution (POSIX: a pipe whose
        # writing end only the session holds, at the same number as here).
        self._announced: int | None = None
        self._announcing: int | None = None
        argv = session_argv(python)
        try:
            if argv is None:
                raise OSError("pip is not installed beside intoto-pip")
            if os.name == "posix":
                self._announced, self._announcing = os.pipe()
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._errors,
                env=dict(os.environ if environ is None else environ),
                pass_fds=() if self._announcing is None else (self._announcing,),
            )
        except OSError as exc:
            self._failure = str(exc)
        finally:
            if self._announcing is not None:
                os.close(self._announcing)  # the session's copy is the only one left
        self._settings: PipSettings | None = None
        self._errors_from = 0  # where the resolution's messages start in the errors file
        self._used = False  # a resolution was run (or the session ended)
        self._reader: threading.Thread | None = None  # reads the announcements, if asked

    def result(self) -> PipSettings:
        """The settings; InstallError when pip could not be run or failed."""
        if self._settings is not None:
            return self._settings
        if self._process is None:
            raise InstallError(f"cannot run pip to read its configuration: {self._failure}")
        listing, code = self._read_listing(time.monotonic() + CONFIG_TIMEOUT)
        self._errors_from = os.lseek(self._errors.fileno(), 0, os.SEEK_CUR)
        if code != 0:
            last = (self._messages(0).strip().splitlines() or ["no output"])[-1]
            self.close()
            raise InstallError(f"pip could not read its configuration: {last}")
        self._settings = sort_settings(listing)
        return self._settings

    def can_resolve(self, python: Path) -> bool:
        """Whether this session runs in ``python`` and has not resolved yet."""
        same = os.path.abspath(python) == os.path.abspath(self.python)  # links not followed
        return self._process is not None and not self._used and same

    def resolve(
        self,
        args: list[str],
        environ: Mapping[str, str],
        timeout: float,
        announce: Callable[[str], None] | None = None,
    ) -> tuple[int, str]:
        """Run ``pip ARGS`` in this session with ``environ`` (its own is replaced): pip's exit
        code and messages (its output is read, so that it never blocks, and dropped: the
        report is in a file). InstallError if it could not run or timed out.

        ``announce``: called (in another thread) with each line the session announces while
        pip runs (``pip_runner.ANNOUNCED`` messages); never where there is no pipe for it."""
        self.result()
        process, self._used = self._process, True
        assert process is not None  # result() raised otherwise
        request: dict[str, object] = {"args": args, "env": dict(environ)}
        if announce is not None and self._announced is not None:
            request["announce"] = self._announcing
            self._reader = threading.Thread(
                target=_read_lines, args=(self._announced, announce), daemon=True
            )
            self._reader.start()
        try:
            process.communicate((json.dumps(request) + "\n").encode(), timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.close()
            raise InstallError(f"cannot run pip to resolve requirements: {exc}") from exc
        self._join_reader()  # pip has ended, and with it the pipe's only writer
        return process.returncode, self._messages(self._errors_from)

    def close(self) -> None:
        """End pip if it still runs; close its pipes and messages (a no-op twice)."""
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            if process.poll() is None:
                process.kill()
            process.communicate()
        self._errors.close()
        if self._join_reader() and self._announced is not None:
            os.close(self._announced)
            self._announced = None

    def _join_reader(self) -> bool:
        """Wait for the announcements to be read to their end (pip has ended); whether the
        pipe may be closed (it may not while a reader could still be reading from it)."""
        if self._reader is not None:
            self._reader.join(timeout=READER_TIMEOUT)
            if self._reader.is_alive():
                return False  # a process pip started still holds the pipe: leave it open
        return True

    def _read_listing(self, deadline: float) -> tuple[str, int]:
        """pip config list's output, up to the session's end-of-listing line, and its code."""
        import select

        assert self._process is not None and self._process.stdout is not None
        fd, data = self._process.stdout.fileno(), b""
        end = ("\n" + SETTINGS_END + " ").encode()
        while end not in data or not data.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                self.close()
                raise InstallError("cannot run pip to read its configuration: timed out")
            chunk = os.read(fd, 65536)
            if not chunk:  # pip ended before its listing did
                status = self._process.wait()
                last = (self._messages(0).strip().splitlines() or [f"exit {status}"])[-1]
                self.close()
                raise InstallError(f"pip could not read its configuration: {last}")
            data += chunk
        listing, _, tail = data.decode(errors="replace").rpartition("\n" + SETTINGS_END + " ")
        code = tail.strip()
        return listing, int(code) if code.isdigit() else 1

    def _messages(self, start: int) -> str:
        return os.pread(self._errors.fileno(), 1 << 20, start).decode(errors="replace")


def _read_lines(fd: int, announce: Callable[[str], None]) -> None:
    """Every line from ``fd`` to its end, each handed to ``announce``. The pipe is always read
    to its end: a reader that stopped early would leave pip blocked writing to it."""
    with open(fd, "rb", closefd=False) as stream:
        for raw in stream:
            with contextlib.suppress(Exception):  # an announcement is a hint: pip must go on
                announce(raw.decode(errors="replace").rstrip("\n"))


def start_reading(
    python: Path | None = None, environ: Mapping[str, str] | None = None
) -> PendingSettings:
    """Start the pip session for ``python`` (default: this interpreter); its ``result`` is
    read_pip_settings's."""
    return PendingSettings(Path(python or sys.executable), environ)


def sort_settings(listing: str) -> PipSettings:
    """Sort ``pip config list`` output into what is taken and what is ignored."""
    chosen: dict[str, PipSetting] = {}
    for section, given, value in _entries(listing):
        where = f"environment PIP_{given.upper().replace('-', '_')}"
        origin = where if section == ":env:" else f"configuration [{section}]"
        name = _ALIASES.get(given, given)
        chosen[name] = PipSetting(name=name, value=value, origin=origin)
    taken = tuple(s for name, s in chosen.items() if name in TAKEN)
    ignored = tuple(s for name, s in chosen.items() if name not in TAKEN and name not in _SILENT)
    return PipSettings(taken=taken, ignored=ignored)


def _entries(listing: str) -> Iterator[tuple[str, str, str]]:
    """(section, option, value) for the sections ``pip install`` reads, in its order."""
    found: dict[str, list[tuple[str, str]]] = {section: [] for section in _SECTIONS}
    for line in listing.splitlines():
        key, sep, shown = line.partition("=")
        # "global.index-url='...'", ":env:.index-url='...'": the section ends at the last dot.
        section, dot, name = key.rpartition(".")
        if not (sep and dot and name) or section not in found:
            continue  # another command's section ([download], [wheel]) or not a setting
        try:
            value = ast.literal_eval(shown)  # pip prints the value's repr
        except (ValueError, SyntaxError):
            continue
        found[section].append((name.replace("_", "-").lower(), str(value)))
    for section in _SECTIONS:
        for name, value in found[section]:
            yield section, name, value
