"""What may be handed to pip for resolution: nothing it would build (DESIGN §7).

``pip install --dry-run --only-binary :all:`` still runs a distribution's build backend to
learn its metadata when it is given a source tree, a URL or path of an sdist (also as a
constraint), an editable requirement, or a requirements file line that switches
``--no-binary`` back on. So before pip starts, every requirement string and every
requirements or constraints file (nested ones included) is read here the way pip reads it,
and anything but these is refused as a usage error:

- a project name with optional extras, version specifier and markers (``name[x]>=1; ...``);
- a wheel, by path or by an http, https or file URL (``name @ URL``), which pip reads
  without running anything;
- the options of a requirements file that only choose where to look (``--index-url``,
  ``--find-links``, ``--pre``, ``--hash``, ...), and nested ``-r`` / ``-c`` local files.

Stricter than pip: options are spelt in full (pip also takes unambiguous prefixes), and a
file must be UTF-8.
"""

from __future__ import annotations

import codecs
import os
import re
import shlex
import urllib.parse
from collections.abc import Iterable, Iterator
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from intoto_pip.errors import InputError
from intoto_pip.store import read_user_file

# pip's ARCHIVE_EXTENSIONS: a "name" ending so is taken for a file when one exists.
_SOURCE_ARCHIVES: tuple[str, ...] = (
    *(".zip", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tlz"),
    *(".tar.lz", ".tar.lzma", ".tar.gz", ".tgz", ".tar"),
)
_WHEEL_SCHEMES = ("http", "https", "file")
_MAX_DEPTH = 20
# Requirements-file options, as pip's parser knows them: what each takes.
_VALUE, _FLAG, _FILE, _REFUSED = "value", "flag", "file", "refused"
_OPTIONS = {
    "-i": _VALUE, "--index-url": _VALUE, "--pypi-url": _VALUE, "--extra-index-url": _VALUE,
    "--no-index": _FLAG, "-c": _FILE, "--constraint": _FILE, "-r": _FILE, "--requirement": _FILE,
    "-e": _REFUSED, "--editable": _REFUSED, "-f": _VALUE, "--find-links": _VALUE,
    "--no-binary": _REFUSED, "--only-binary": _REFUSED, "--prefer-binary": _FLAG,
    "--require-hashes": _FLAG, "--no-require-hashes": _FLAG, "--pre": _FLAG,
    "--all-releases": _VALUE, "--only-final": _VALUE, "--trusted-host": _VALUE,
    "--use-feature": _VALUE, "--hash": _VALUE, "-C": _VALUE, "--config-settings": _VALUE,
}  # fmt: skip
_COMMENT = re.compile(r"(^|\s+)#.*$")
_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
_CODING = re.compile(rb"coding[:=]\s*([-\w.]+)")
_OTHER_BOMS = (codecs.BOM_UTF32_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE)


def check_pip_inputs(requirements: Iterable[str], files: Iterable[Path]) -> None:
    """Refuse (InputError, exit 2) anything that would make pip run a distribution's code."""
    for text in requirements:
        check_requirement(text, where="")
    for path in files:
        check_requirements_file(path)


def check_requirement(text: str, *, where: str) -> None:
    """A project name (with extras, version, markers) or a wheel by path or URL."""
    problem = _requirement_problem(text.strip())
    if problem:
        at = f"{where}: " if where else ""
        raise InputError(
            f"{at}{text.strip()!r}: {problem}; intoto-pip hands pip only project names and "
            "wheels (give a local wheel or sdist file to verify it first)"
        )


def _requirement_problem(text: str) -> str | None:
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        # pip reads such a line as a path or URL: only a wheel is read without building.
        return None if _is_wheel_location(text.split(";", 1)[0].strip()) else "not a wheel"
    if requirement.url is not None:
        if _is_wheel_location(requirement.url):
            return None
        return "a direct URL that is not a wheel (pip would build it)"
    if requirement.name.lower().endswith(_SOURCE_ARCHIVES):
        return "looks like a source archive (pip would build it)"
    return None


def _is_wheel_location(location: str) -> bool:
    location = re.sub(r"\[[^\]]*\]$", "", location)  # extras: pip strips them from paths
    parts = urllib.parse.urlsplit(location)
    if parts.scheme and len(parts.scheme) > 1:  # "c:" is a Windows drive, not a scheme
        path = urllib.parse.unquote(parts.path)
        return parts.scheme in _WHEEL_SCHEMES and path.lower().endswith(".whl")
    # pip builds a folder whatever its name, so a folder called x.whl is refused too.
    return location.lower().endswith(".whl") and not Path(location).is_dir()


def check_requirements_file(
    path: Path, *, depth: int = 0, seen: frozenset[Path] = frozenset()
) -> None:
    """Read ``path`` (and the files it includes) the way pip does; refuse what would build."""
    resolved = Path(os.path.abspath(path))
    if resolved in seen or depth > _MAX_DEPTH:
        raise InputError(f"{path}: requirements files include each other too deeply")
    for number, line in _logical_lines(_decode(read_user_file(path), path)):
        where = f"{path}, line {number}"
        args, options = _split_line(line, where)
        if args:
            check_requirement(args, where=where)
        for nested in _option_files(options, where):
            if urllib.parse.urlsplit(nested).scheme not in ("", "c", "C"):
                raise InputError(f"{where}: include {nested!r}: only local files are accepted")
            check_requirements_file(
                resolved.parent / nested, depth=depth + 1, seen=seen | {resolved}
            )


def _decode(data: bytes, path: Path) -> str:
    if data.startswith(_OTHER_BOMS):
        raise InputError(f"{path}: requirements files must be UTF-8")
    for first in data.split(b"\n")[:2]:
        declared = _CODING.search(first) if first.startswith(b"#") else None
        if declared and declared[1].lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
            raise InputError(f"{path}: requirements files must be UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: requirements files must be UTF-8 ({exc.reason})") from None


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """pip's preprocessing: join continued lines, drop comments, expand ${VARS}."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.endswith("\\") and not _COMMENT.match(raw):
            start = start or number
            pending.append(raw.strip("\\"))
            continue
        line = "".join([*pending, " " + raw if _COMMENT.match(raw) else raw])
        yield from _cleaned(start or number, line)
        pending, start = [], 0
    if pending:
        yield from _cleaned(start, "".join(pending))


def _cleaned(number: int, line: str) -> Iterator[tuple[int, str]]:
    line = _COMMENT.sub("", line).strip()
    line = _ENV_VAR.sub(lambda m: os.environ.get(m[1]) or m[0], line)
    if line:
        yield number, line


def _split_line(line: str, where: str) -> tuple[str, list[str]]:
    """(requirement text, option tokens) as pip splits a line."""
    tokens = line.split(" ")
    index = next((i for i, token in enumerate(tokens) if token.startswith("-")), len(tokens))
    try:
        options = shlex.split(" ".join(tokens[index:]))
    except ValueError as exc:
        raise InputError(f"{where}: cannot split the options ({exc})") from None
    return " ".join(tokens[:index]), options


def _option_files(tokens: list[str], where: str) -> Iterator[str]:
    """Check every option token; yield the files named by -r / -c."""
    position = 0
    while position < len(tokens):
        word = tokens[position]
        position += 1
        if not word.startswith("-") or word == "--":
            continue  # pip ignores stray words after the options
        name, value = _option_parts(word)
        kind = _OPTIONS.get(name)
        if kind is None:
            raise InputError(f"{where}: option {name} is not accepted by intoto-pip")
        if kind == _REFUSED:
            raise InputError(
                f"{where}: {name} would make pip build from source before verification; "
                "remove it (intoto-pip install --no-binary NAME fetches and verifies sdists)"
            )
        if kind == _FLAG:
            continue
        if value is None:
            if position >= len(tokens):
                raise InputError(f"{where}: option {name} needs a value")
            value, position = tokens[position], position + 1
        if kind == _FILE:
            yield value


def _option_parts(token: str) -> tuple[str, str | None]:
    if token.startswith("--"):
        name, sep, value = token.partition("=")
        return name, value if sep else None
    return token[:2], token[2:] or None
