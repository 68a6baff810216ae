"""Resolution by pip, run as a subprocess that installs nothing and builds nothing.

``pip install --dry-run --report FILE --only-binary :all:`` picks the exact files; with wheels
only, no code of any distribution runs during resolution. We read pip's JSON report and
download those files ourselves. The report goes to a file in a private temporary folder, not
to standard output: pip pretty-prints a report on standard output with ``rich``, which took
0.2 s of a 1.1 s resolution of 30 wheels (by hand, three runs each way).

pip runs as ``python -I -m pip --isolated`` with ``PIP_CONFIG_FILE`` set to the null device and
no ``PIP_*`` variable: the working folder never shadows pip (``-I``), and of pip's own
environment and configuration files only the settings :mod:`intoto_pip.install.pip_settings`
takes are passed back, on the command line.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from intoto_pip.archives.names import canonical_name
from intoto_pip.errors import InstallError
from intoto_pip.install.pip_runner import pip_argv
from intoto_pip.install.pip_settings import (
    PendingSettings,
    PipSettings,
    isolated_environment,
    read_pip_settings,
)

RESOLVE_TIMEOUT = 1800.0


@dataclass(frozen=True, kw_only=True)
class ResolveOptions:
    """What pip is asked to resolve, and the pip options passed through unchanged."""

    requirements: tuple[str, ...] = ()
    requirement_files: tuple[Path, ...] = ()
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    no_deps: bool = False
    upgrade: bool = False
    pre: bool = False
    python: Path | None = None
    target_dir: Path | None = None
    prefix: Path | None = None
    env: Mapping[str, str] | None = None
    settings: PipSettings | None = None  # read from pip when None


@dataclass(frozen=True, kw_only=True)
class ResolvedItem:
    """One distribution pip would install."""

    name: str  # PEP 503 normalised
    version: str
    url: str
    sha256: str | None
    requested: bool
    is_direct: bool
    requires_dist: tuple[str, ...] = field(default=())


def pip_command(options: ResolveOptions, report: str) -> list[str]:
    return [*pip_argv(options.python), *pip_arguments(options, report)]


def pip_arguments(options: ResolveOptions, report: str) -> list[str]:
    """pip's arguments (after the command that starts pip) for the resolution, its report
    written to the file ``report``."""
    settings = options.settings or PipSettings()
    command = ["--isolated"]
    command += ["install", "--dry-run", "--report", report, "--only-binary", ":all:", "--quiet"]
    command += ["--ignore-installed"] if options.target_dir else []
    flags = (
        ("--no-index", options.no_index),
        ("--no-deps", options.no_deps),
        ("--upgrade", options.upgrade),
        ("--pre", options.pre),
    )
    command += [flag for flag, wanted in flags if wanted]
    command += _locations(options, settings)
    command += settings.arguments()
    if options.prefix is not None:
        command += ["--prefix", str(options.prefix)]
    for path in options.requirement_files:
        command += ["-r", str(path)]
    return [*command, *options.requirements]


def index_url(options: ResolveOptions) -> str | None:
    """The index: intoto-pip's --index-url, else pip's own setting."""
    settings = options.settings or PipSettings()
    return options.index_url or settings.value("index-url")


def _locations(options: ResolveOptions, settings: PipSettings) -> list[str]:
    """Index and find-links: pip's settings first, then intoto-pip's command line (as pip
    adds command-line values to its configured ones)."""
    args: list[str] = []
    url = index_url(options)
    if url:
        args += ["--index-url", url]
    extra = (*settings.values("extra-index-url"), *options.extra_index_urls)
    for value in dict.fromkeys(extra):
        args += ["--extra-index-url", value]
    for link in dict.fromkeys((*settings.values("find-links"), *options.find_links)):
        args += ["--find-links", link]
    return args


def with_settings(
    options: ResolveOptions, pending: PendingSettings | None = None
) -> ResolveOptions:
    """``options`` with pip's settings read (once: already read ones are kept), from
    ``pending`` when they are being read already."""
    if options.settings is not None:
        return options
    if pending is not None:
        return replace(options, settings=pending.result())
    return replace(options, settings=read_pip_settings(options.python, options.env))


def resolve(
    options: ResolveOptions,
    session: PendingSettings | None = None,
    announce: Callable[[str], None] | None = None,
) -> list[ResolvedItem]:
    """Run pip; return what it would install, in the report's order.

    ``session``: the pip session that read the settings; the resolution runs in it when it
    runs in the same interpreter (else pip is started again). ``announce``: given, while pip
    runs, each wheel URL whose metadata pip fetched (only in a session; a hint, not a pick)."""
    options = with_settings(options, session)
    env = isolated_environment(options.env)
    # A folder only this user may enter: nobody else can put a file or link at the report's
    # place before pip writes it, or change it before it is read.
    with tempfile.TemporaryDirectory(prefix="intoto-pip-report-") as folder:
        report = os.path.join(folder, "report.json")
        if session is not None and options.python and session.can_resolve(options.python):
            on_line = None if announce is None else partial(_announced_wheel, announce)
            args = pip_arguments(options, report)
            code, messages = session.resolve(args, env, RESOLVE_TIMEOUT, on_line)
        else:
            code, messages = _run_pip(pip_command(options, report), env)
        if code != 0:
            raise InstallError(pip_failure(messages, code))
        return parse_report(_read_report(report))


def _read_report(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as exc:
        raise InstallError(f"pip wrote no installation report ({exc.strerror or exc})") from None


def announced_wheel_url(line: str) -> str | None:
    """The wheel a session's announcement names (the metadata URL without ``.metadata``):
    http(s) only, and never one with credentials (pip shows them as ``****``)."""
    _, found, rest = line.partition(" from ")
    words = rest.split()
    url = words[0] if found and words else ""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or "@" in parts.netloc or parts.fragment:
        return None
    if not parts.path.endswith(".whl.metadata"):
        return None
    return url.removesuffix(".metadata")


def _announced_wheel(announce: Callable[[str], None], line: str) -> None:
    url = announced_wheel_url(line)
    if url is not None:
        announce(url)


def _run_pip(command: list[str], env: Mapping[str, str]) -> tuple[int, str]:
    """pip's exit code and messages (its report is in a file; nothing is read from its
    standard output)."""
    try:
        done = subprocess.run(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=RESOLVE_TIMEOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InstallError(f"cannot run pip to resolve requirements: {exc}") from exc
    return done.returncode, done.stderr.decode(errors="replace")


_NO_MATCH = re.compile(r"No matching distribution found for (\S+)")
_HASH_ROW = re.compile(r"^\s+(\S+) from (\S+)")
_EXPECTED = re.compile(r"Expected (\w+) (\S+)")
_GOT = re.compile(r"Got\s+(\S+)")


def pip_failure(stderr: str, code: int) -> str:
    """pip's failure in our words, with the way forward where there is one."""
    lines = [line for line in stderr.strip().splitlines() if not line.startswith("WARNING:")]
    if any("DO NOT MATCH THE HASHES" in line for line in lines):
        return _hash_mismatch(lines)
    missing = _NO_MATCH.search(stderr)
    if missing:
        name = missing.group(1)
        return (
            f"no wheel of {name} for this interpreter on the index (intoto-pip resolves wheels "
            f"only, so nothing is built before it is verified); if {name} publishes only an "
            f"sdist, add --no-binary {_project(name)} to fetch, verify and then build it"
        )
    detail = " / ".join(line.strip() for line in lines[-3:]) or f"exit {code}"
    return f"pip could not resolve the requirements: {detail}"


def _hash_mismatch(lines: list[str]) -> str:
    text = "\n".join(lines)
    row = next((m for m in map(_HASH_ROW.match, lines) if m), None)
    expected, got = _EXPECTED.search(text), _GOT.search(text)
    what = row.group(1) if row else "a requirement"
    if expected and got:
        algorithm, pinned, served = expected.group(1), expected.group(2), got.group(1)
        digests = f"the requirements pin {algorithm} {pinned}, the index served {served}"
    else:
        digests = "the file the index served has another hash than the requirements pin"
    return (
        f"hash mismatch for {what}: {digests}; nothing was installed (the file was changed, or "
        "the pinned hash is out of date)"
    )


def _project(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]


def parse_report(data: bytes) -> list[ResolvedItem]:
    try:
        report = json.loads(data)
        return [_item(entry) for entry in report.get("install", [])]
    except (ValueError, AttributeError, KeyError, TypeError) as exc:
        raise InstallError(f"pip's installation report is not readable: {exc}") from exc


def _item(entry: dict[str, Any]) -> ResolvedItem:
    info = entry["download_info"]
    hashes = info.get("archive_info", {}).get("hashes", {})
    metadata = entry["metadata"]
    return ResolvedItem(
        name=canonical_name(metadata["name"]),
        version=str(metadata["version"]),
        url=str(info["url"]),
        sha256=hashes.get("sha256"),
        requested=bool(entry.get("requested", False)),
        is_direct=bool(entry.get("is_direct", False)),
        requires_dist=tuple(metadata.get("requires_dist", []) or []),
    )
