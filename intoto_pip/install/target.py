"""The target environment: one probe of the target interpreter, run so it writes nothing.

The probe (``probe_script.py``) runs as ``PY -I -B -c PROBE``: isolated (no user site, no
PYTHONPATH, no current folder on ``sys.path``) and without bytecode writes. When the target is
the interpreter running intoto-pip, with no environment variable that ``-I`` would ignore and
that changes the answer, the same code runs in-process instead: the answer is the same, and
starting the interpreter again would cost more than the rest of the probe. It reports the
install scheme, the supported wheel tags (``packaging.tags`` evaluated by the target itself;
our own copy of ``packaging`` is appended to its ``sys.path`` in case the target lacks one),
the marker environment, and whether the environment is marked ``EXTERNALLY-MANAGED``.

The interpreter found is fingerprinted then (``Interpreter``): every path on its chain of
symbolic links, with what ``lstat`` says of each (device, inode, mode, size, mtime, ctime) and
each link's text. Installation never writes any of those paths, and bytecode compilation checks
the fingerprint again before it starts the interpreter: what runs is what was probed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from intoto_pip.errors import InputError

PROBE_TIMEOUT = 60.0
SCHEME_KEYS = ("purelib", "platlib", "scripts", "data", "include")


@dataclass(frozen=True, kw_only=True)
class InstalledDist:
    name: str  # PEP 503 normalised
    version: str
    dist_info: Path


@dataclass(frozen=True, kw_only=True)
class PathState:
    """One path on an interpreter's chain of links, as ``lstat`` saw it."""

    path: str
    stat: tuple[int, ...]
    link: str | None = None


@dataclass(frozen=True, kw_only=True)
class Interpreter:
    """An interpreter path and every path its symbolic links lead through, fingerprinted."""

    chain: tuple[PathState, ...] = ()

    @property
    def paths(self) -> frozenset[str]:
        return frozenset(state.path for state in self.chain)


MAX_LINKS = 40  # as the kernel's own limit on links followed


def fingerprint(path: str) -> Interpreter:
    """The chain of ``path`` (made absolute, links followed one by one) and its states."""
    chain: list[PathState] = []
    current = os.path.abspath(path)
    for _ in range(MAX_LINKS):
        try:
            info = os.lstat(current)
        except OSError:
            chain.append(PathState(path=current, stat=()))
            break
        state = (info.st_dev, info.st_ino, info.st_mode, info.st_size, *_times(info))
        link = os.readlink(current) if os.path.islink(current) else None
        chain.append(PathState(path=current, stat=state, link=link))
        if link is None:
            break
        # Folders on the way may be links too: the real folder of the next hop counts.
        folder = os.path.realpath(os.path.dirname(current))
        current = os.path.normpath(os.path.join(folder, link))
    return Interpreter(chain=tuple(chain))


def _times(info: os.stat_result) -> tuple[int, int]:
    # ctime: no one but root can set it back, so a file rewritten in place still shows.
    return info.st_mtime_ns, info.st_ctime_ns


@dataclass(frozen=True, kw_only=True)
class Target:
    """Where and for which interpreter distributions are installed."""

    python: Path
    executable: str
    cache_tag: str
    version: str
    scheme: Mapping[str, str]
    tags: tuple[str, ...]
    markers: Mapping[str, str]
    externally_managed: str | None = None
    in_venv: bool = False
    target_dir: Path | None = None
    tag_rank: Mapping[str, int] = field(default_factory=dict)
    interpreter: Interpreter = field(default_factory=Interpreter)

    @property
    def site_dirs(self) -> tuple[Path, ...]:
        dirs = [Path(self.scheme["purelib"]), Path(self.scheme["platlib"])]
        return tuple(dict.fromkeys(dirs))

    def supports_tags(self, tags: frozenset[str]) -> bool:
        return any(tag in self.tag_rank for tag in tags)

    def installed(self) -> dict[str, InstalledDist]:
        """The distributions present in the target's site folders, by PEP 503 name."""
        found: dict[str, InstalledDist] = {}
        for folder in self.site_dirs:
            for dist in _scan(folder):
                found.setdefault(dist.name, dist)
        return found


def scheme_for(target: Target, name: str) -> dict[str, str]:
    """The scheme ``installer`` installs distribution ``name`` into (headers get a folder of
    their own). Here, not beside the installer step: ``check`` needs it without ``installer``."""
    scheme = {key: target.scheme[key] for key in ("purelib", "platlib", "scripts", "data")}
    scheme["headers"] = os.path.join(target.scheme["include"], name)
    return scheme


def default_python() -> Path:
    """The active virtual environment's interpreter, else the one running intoto-pip."""
    venv = os.environ.get("VIRTUAL_ENV")
    if venv and Path(venv).resolve() != Path(sys.prefix).resolve():
        candidate = Path(venv) / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        if candidate.exists():
            return candidate
    return Path(sys.executable)


def probe_target(
    python: Path | None = None, *, target_dir: Path | None = None, prefix: Path | None = None
) -> Target:
    """Ask the target interpreter for its scheme, tags and markers (one subprocess)."""
    with start_probe(python, target_dir=target_dir, prefix=prefix) as probe:
        return probe.result()


def start_probe(
    python: Path | None = None,
    *,
    target_dir: Path | None = None,
    prefix: Path | None = None,
    installing: bool = True,
) -> PendingProbe:
    """Start probing the target interpreter; the caller works meanwhile, then asks
    ``result()`` (use it as a context manager, so an unanswered probe is ended).

    ``installing=False`` leaves out the wheel tags and markers (a Target that supports no
    wheel and cannot evaluate a marker): enough to look at what is installed, and faster.
    """
    if target_dir is not None and prefix is not None:
        raise InputError("--target and --prefix cannot be used together")
    interpreter = python or default_python()
    mode, where = ("prefix", str(prefix.absolute())) if prefix else ("default", "")
    return PendingProbe(interpreter, (mode, where, installing), target_dir)


class PendingProbe:
    """A probe under way: the interpreter starts at once and answers in ``result()``.

    A failure to start it is kept and raised by ``result()``, so errors surface in the order
    they did when the probe ran there and then.
    """

    def __init__(self, python: Path, mode: tuple[str, str, bool], target_dir: Path | None) -> None:
        self._python = python
        self._mode = mode
        self._target_dir = target_dir
        self._process: subprocess.Popen[bytes] | None = None
        self._error: OSError | None = None
        if not is_this_interpreter(python):
            try:
                self._process = _start_probe(python, *mode)
            except OSError as exc:
                self._error = exc

    def __enter__(self) -> PendingProbe:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def result(self) -> Target:
        """The target as the interpreter described it; InputError if it could not."""
        if self._error is not None:
            raise InputError(f"--python {self._python}: cannot run the interpreter ({self._error})")
        if self._process is None:
            from intoto_pip.install import probe_script

            info = probe_script.probe(*self._mode)
        else:
            info = _answer(self._python, self._process)
        return _target_from(self._python, info, self._target_dir)

    def close(self) -> None:
        """End the interpreter if it is still running (an error came first)."""
        process = self._process
        if process is not None and process.returncode is None:
            process.kill()
            process.communicate()


def _target_from(interpreter: Path, info: dict[str, Any], target_dir: Path | None) -> Target:
    scheme = {key: str(info["paths"].get(key, "")) for key in SCHEME_KEYS}
    if target_dir is not None:
        root = str(target_dir.absolute())
        scheme = {
            "purelib": root,
            "platlib": root,
            "scripts": os.path.join(root, "bin"),
            "data": root,
            "include": os.path.join(root, "include"),
        }
    tags = tuple(str(tag) for tag in info["tags"])
    return Target(
        python=interpreter,
        executable=str(info["executable"]),
        cache_tag=str(info["cache_tag"]),
        version=str(info["version"]),
        scheme=scheme,
        tags=tags,
        markers={str(k): str(v) for k, v in info["markers"].items()},
        externally_managed=info["externally_managed"],
        in_venv=bool(info["in_venv"]),
        target_dir=target_dir,
        tag_rank={tag: rank for rank, tag in enumerate(reversed(tags))},
        interpreter=_interpreters(interpreter, str(info["executable"])),
    )


def _interpreters(given: Path, executable: str) -> Interpreter:
    """The chains of the path given and of the one the interpreter reports, together."""
    chain = fingerprint(executable).chain
    given_chain = fingerprint(str(given)).chain
    return Interpreter(chain=chain + tuple(s for s in given_chain if s not in chain))


def interpreter_unchanged(target: Target) -> bool:
    """Whether every path of the target's interpreter is as it was when probed."""
    executable_chain = fingerprint(target.executable).chain
    return all(state in target.interpreter.chain for state in executable_chain)


def _packaging_dir() -> str:
    import importlib.util

    spec = importlib.util.find_spec("packaging")
    assert spec is not None and spec.origin is not None
    return str(Path(spec.origin).parent.parent)


# Variables an isolated (-I) interpreter ignores that would change the scheme it reports.
_SCHEME_VARIABLES = ("PYTHONHOME", "PYTHONPATH", "PYTHONPLATLIBDIR", "_PYTHON_SYSCONFIGDATA_NAME")


def is_this_interpreter(python: Path) -> bool:
    """Whether ``python`` is the interpreter running this code, seeing the same scheme."""
    if not sys.executable or os.path.abspath(python) != os.path.abspath(sys.executable):
        return False  # not resolved: a venv's python links to its base, which differs
    return bool(sys.flags.ignore_environment) or not any(
        os.environ.get(name) for name in _SCHEME_VARIABLES
    )


def _start_probe(python: Path, mode: str, where: str, installing: bool) -> subprocess.Popen[bytes]:
    from intoto_pip.install import probe_script

    source = Path(probe_script.__file__).read_text(encoding="utf-8")
    purpose = "installing" if installing else "looking"
    command = [str(python), "-I", "-B", "-c", source, _packaging_dir(), mode, where, purpose]
    return subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _answer(python: Path, process: subprocess.Popen[bytes]) -> dict[str, Any]:
    """The probe's report, read from its output; InputError when it has none to give."""
    try:
        stdout, stderr = process.communicate(timeout=PROBE_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        process.kill()
        process.communicate()
        raise InputError(f"--python {python}: cannot run the interpreter ({exc})") from exc
    if process.returncode != 0:
        last = (stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        raise InputError(f"--python {python}: probing the interpreter failed: {last}")
    try:
        info = json.loads(stdout)
    except ValueError:
        info = None
    if not isinstance(info, dict):
        # The user named something that ran but is not a Python: a usage error (exit 2).
        raise InputError(f"--python {python}: does not answer like a Python interpreter")
    return info


_HEADERS_END = re.compile(r"\r?\n\r?\n")


def _scan(folder: Path) -> list[InstalledDist]:
    # Imported here, not at the top: the probe starts before it loads.
    from intoto_pip.archives.names import canonical_name

    try:
        entries = sorted(folder.glob("*.dist-info"))
    except OSError:
        return []
    found = []
    for entry in entries:
        try:
            text = (entry / "METADATA").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        # Only the headers (up to the first empty line, where the parser would stop too):
        # the long description after them is most of a real METADATA file.
        head = _HEADERS_END.split(text, maxsplit=1)[0]
        name, version = _name_and_version(head)
        if name and version:
            found.append(InstalledDist(name=canonical_name(name), version=version, dist_info=entry))
    return found


# A header line the fast path reads: a field name (printable ASCII but the colon), a colon.
_FIELD_NAME = re.compile(r"[\041-\071\073-\176]+\Z")
# Characters some line splitters break lines at, and email's parser does not (or does: "\r").
_OTHER_BREAKS = re.compile("[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def _name_and_version(head: str) -> tuple[str | None, str | None]:
    """Name and Version from METADATA's headers, as ``email``'s HeaderParser (the parser pip
    and ``importlib.metadata`` use) reads them: the first of each, its value after the colon
    and the spaces or tabs there.

    Headers of one line each, in plain field names, are read here; anything else (a
    continuation line, a line that is not a header, a carriage return) goes to that parser
    itself. Reading the usual METADATA here spares every ``check`` loading ``email``, which
    takes longer than reading a hundred METADATA files.
    """
    fields: dict[str, str] = {}
    lines = head.split("\n")
    if lines[-1] == "":
        lines.pop()  # the header block's own end (a METADATA without a body)
    simple = _OTHER_BREAKS.search(head) is None
    for line in lines if simple else ():
        field, colon, value = line.partition(":")
        if not colon or _FIELD_NAME.match(field) is None:
            simple = False
            break
        fields.setdefault(field.lower(), value.lstrip(" \t"))
    if not simple:
        import email.parser

        headers = email.parser.HeaderParser().parsestr(head)
        return headers.get("Name"), headers.get("Version")
    return fields.get("name"), fields.get("version")
