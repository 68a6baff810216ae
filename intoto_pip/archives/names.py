"""Names: which member names are safe, and who a distribution says it is.

Member names are checked before anything is written. A clean name is relative POSIX text that
means the same path on every platform we install to: no absolute, drive, UNC or backslash
forms, no ``.``/``..``/empty components, no NUL or other control characters, no ``:`` (drive
letters and NTFS alternate streams), no Windows device names (``CON``, ``NUL``, ``COM1``, ...
with any extension), no component ending in a dot or a space (Windows drops those), and no two
names that one file system would fold together (case-insensitive or Unicode-normalising file
systems, such as the defaults on macOS and Windows).

Distribution names are compared after PEP 503 normalisation, versions as PEP 440 versions.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from intoto_pip.archives.limits import DEFAULT_LIMITS
from intoto_pip.archives.wheel_record import RecordRow, check_record, parse_record
from intoto_pip.errors import ArchiveError

if TYPE_CHECKING:  # archive.py imports this module: no runtime import back
    from email.message import Message

    from packaging.tags import Tag

    from intoto_pip.archives.reader import SafeArchive

# NAME_MAX and PATH_MAX on common file systems: a longer name could not be written anyway.
MAX_COMPONENT_BYTES = 255
MAX_NAME_BYTES = 4096

_WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{p}{n}" for p in ("COM", "LPT") for n in [*"123456789", "¹", "²", "³"]]
)
_DRIVE = re.compile(r"^[A-Za-z]:")
# Control characters (Unicode category Cc), lone surrogates, line and paragraph separators, and
# bidirectional overrides, which make a name display differently from what it is.
_BAD_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def member_name_problem(name: str) -> str | None:
    """Say why ``name`` is not a clean relative POSIX member name, or return None."""
    if not name:
        return "has an empty name"
    if _BAD_CHARACTER.search(name):
        return "has a control character in its name"
    if "\\" in name:
        return "has a backslash in its name"
    if name.startswith("//"):
        return "is a UNC path"
    if name.startswith("/"):
        return "is an absolute path"
    if _DRIVE.match(name):
        return "names a drive"
    if ":" in name:
        return "has a colon in its name (drive or alternate stream)"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return f"has a name longer than {MAX_NAME_BYTES} bytes"
    for part in name.split("/"):
        problem = _component_problem(part)
        if problem:
            return problem
    return None


def _component_problem(part: str) -> str | None:
    if part == "..":
        return "escapes the archive root"
    if part in ("", "."):
        return "is not a clean path (empty or '.' component)"
    if len(part.encode("utf-8")) > MAX_COMPONENT_BYTES:
        return f"has a path component longer than {MAX_COMPONENT_BYTES} bytes"
    if part.endswith((".", " ")):
        return "has a path component ending in a dot or space"
    if part.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_DEVICES:
        return "uses a Windows reserved device name"
    return None


def fold_key(name: str) -> str:
    """The key under which case-insensitive, normalising file systems see ``name``."""
    if name.isascii():
        return name.lower()
    # Unicode canonical caseless matching: NFD(casefold(NFD(x))).
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", name).casefold())


class NameSet:
    """Member names seen so far; refuses duplicates and names a file system would merge.

    Every parent folder of a member counts as a directory, so a file ``a`` and a file ``a/b``
    conflict, and ``Pkg/x`` and ``pkg/y`` disagree on the spelling of one folder.
    """

    def __init__(self) -> None:
        self._spelling: dict[str, str] = {}
        self._is_file: dict[str, bool] = {}
        self._explicit_dirs: set[str] = set()

    def add(self, name: str, *, is_dir: bool) -> str | None:
        """Record ``name``; return why it clashes with an earlier one, or None."""
        parts = name.split("/")
        for depth in range(1, len(parts)):
            problem = self._claim("/".join(parts[:depth]), is_file=False)
            if problem:
                return problem
        if is_dir:
            if name in self._explicit_dirs:
                return "is a duplicate member"
            self._explicit_dirs.add(name)
        elif self._is_file.get(fold_key(name)):
            other = self._spelling[fold_key(name)]
            return "is a duplicate member" if other == name else f"collides with {other!r}"
        return self._claim(name, is_file=not is_dir)

    def _claim(self, path: str, *, is_file: bool) -> str | None:
        key = fold_key(path)
        other = self._spelling.setdefault(key, path)
        if other != path:
            return f"collides with {other!r}"
        was_file = self._is_file.setdefault(key, is_file)
        if was_file != is_file:
            return f"makes {path!r} both a file and a directory"
        return None


# packaging.utils is imported where file names are parsed, not here: it loads
# packaging.tags (platform, sysconfig, logging), which ``check`` may never need.
_SEPARATOR_RUNS = re.compile(r"[-_.]+")


def canonical_name(name: str) -> str:
    """The PEP 503 normalised form of a project name (as ``packaging``'s
    ``canonicalize_name``: runs of ``-_.`` become one ``-``, then lower case)."""
    return _SEPARATOR_RUNS.sub("-", name).lower()


@dataclass(frozen=True, kw_only=True)
class WheelName:
    """What a wheel's file name says: PEP 503 name, version, build tag and tags."""

    filename: str
    name: str
    version: Version
    build: tuple[int, str] | tuple[()]
    tags: frozenset[Tag]


@dataclass(frozen=True, kw_only=True)
class SdistName:
    """What an sdist's file name says: PEP 503 name and version."""

    filename: str
    name: str
    version: Version


_SDIST_SUFFIXES = (".tar.gz", ".zip")


@dataclass(frozen=True, kw_only=True)
class Identity:
    """Who an archive's file name says it is: as spelt there, and PEP 503 normalised."""

    kind: str
    raw_name: str
    name: str
    version: str


def identify(filename: str) -> Identity:
    """Parse a wheel or sdist file name; ArchiveError when it is neither."""
    if filename.endswith(".whl"):
        parsed = parse_wheel_filename(filename)
        raw_name, raw_version = filename.split("-")[:2]
        return Identity(kind="wheel", raw_name=raw_name, name=parsed.name, version=raw_version)
    for suffix in _SDIST_SUFFIXES:
        if filename.endswith(suffix):
            sdist = parse_sdist_filename(filename)
            raw_name, _, raw_version = filename.removesuffix(suffix).rpartition("-")
            return Identity(kind="sdist", raw_name=raw_name, name=sdist.name, version=raw_version)
    raise ArchiveError(f"{filename}: is neither a wheel (.whl) nor an sdist (.tar.gz, .zip)")


def parse_wheel_filename(filename: str) -> WheelName:
    """Parse ``name-version[-build]-py-abi-platform.whl``; ArchiveError when malformed."""
    from packaging.utils import InvalidWheelFilename
    from packaging.utils import parse_wheel_filename as _parse_wheel

    try:
        name, version, build, tags = _parse_wheel(filename)
    except (InvalidWheelFilename, InvalidVersion) as exc:
        raise ArchiveError(f"{filename}: not a valid wheel file name ({exc})") from None
    return WheelName(filename=filename, name=str(name), version=version, build=build, tags=tags)


def parse_sdist_filename(filename: str) -> SdistName:
    """Parse ``name-version.tar.gz`` (or a legacy ``.zip``); ArchiveError when malformed."""
    from packaging.utils import InvalidSdistFilename
    from packaging.utils import parse_sdist_filename as _parse_sdist

    try:
        name, version = _parse_sdist(filename)
    except (InvalidSdistFilename, InvalidVersion) as exc:
        raise ArchiveError(f"{filename}: not a valid sdist file name ({exc})") from None
    return SdistName(filename=filename, name=str(name), version=version)


def split_name_version(stem: str, *, where: str, what: str) -> tuple[str, Version]:
    """Split ``name-version`` (a dist-info stem or sdist folder) into PEP 503 name and version.

    ``what`` names the thing in errors, e.g. ``"top folder 'pkg-1.0'"``.
    """
    name, sep, version = stem.rpartition("-")
    if not (sep and name):
        raise ArchiveError(f"{where}: {what} is not '<name>-<version>'")
    try:
        return canonical_name(name), Version(version)
    except InvalidVersion:
        raise ArchiveError(f"{where}: {what} has an invalid version") from None


# --- who the distribution says it is --------------------------------------------------------

MAX_METADATA_BYTES = DEFAULT_LIMITS.max_metadata_size  # METADATA carries the long description


@dataclass(frozen=True, kw_only=True)
class WheelInfo:
    """A wheel whose file name, dist-info folder, METADATA and RECORD agree."""

    filename: WheelName
    name: str  # PEP 503 normalised
    version: Version
    metadata_name: str  # as METADATA spells it
    dist_info: str  # the folder name, e.g. "pkg-1.0.dist-info"
    metadata: Message
    record: tuple[RecordRow, ...]


@dataclass(frozen=True, kw_only=True)
class SdistInfo:
    """An sdist whose file name, top folder and PKG-INFO agree."""

    filename: SdistName
    name: str  # PEP 503 normalised
    version: Version
    metadata_name: str  # as PKG-INFO spells it
    top: str  # the one top folder, e.g. "pkg-1.0"
    metadata: Message


def check_wheel(archive: SafeArchive, filename: str) -> WheelInfo:
    """Check that a wheel says consistently who it is, and its RECORD strictly."""
    if archive.kind != "wheel":
        raise ArchiveError(f"{filename}: is not a wheel")
    wheel = parse_wheel_filename(filename)
    dist_info = dist_info_folder(archive, filename)
    stem = dist_info.removesuffix(".dist-info")
    _agree(wheel.name, wheel.version, stem, filename, f"folder {dist_info!r}")
    _check_data_folders(archive, stem, filename)
    _check_planted_metadata(archive, stem, filename)
    metadata = read_metadata(archive, f"{dist_info}/METADATA")
    metadata_name = _agree_metadata(wheel.name, wheel.version, metadata, filename, "METADATA")
    _check_wheel_version(archive, f"{dist_info}/WHEEL", filename)
    record_name = f"{dist_info}/RECORD"
    rows = parse_record(archive.read(record_name), where=filename, record_name=record_name)
    sizes = {member.name: member.size for member in archive.members}
    hashes = archive.sha256_of_members()
    check_record(rows, sizes=sizes, hashes=hashes, record_name=record_name, where=filename)
    return WheelInfo(
        filename=wheel,
        name=wheel.name,
        version=wheel.version,
        metadata_name=metadata_name,
        dist_info=dist_info,
        metadata=metadata,
        record=rows,
    )


def check_sdist(archive: SafeArchive, filename: str) -> SdistInfo:
    """Check that an sdist has one ``<name>-<version>/`` folder with an agreeing PKG-INFO."""
    if archive.kind != "sdist":
        raise ArchiveError(f"{filename}: is not an sdist")
    sdist = parse_sdist_filename(filename)
    names = [member.name for member in archive.members] + list(archive.directories)
    loose = [name for name in names if "/" not in name and name not in archive.directories]
    if loose:
        raise ArchiveError(f"{filename}: member {loose[0]!r} is outside the top folder")
    tops = sorted({name.split("/", 1)[0] for name in names})
    if len(tops) != 1:
        shown = ", ".join(repr(top) for top in tops[:3])
        raise ArchiveError(f"{filename}: has {len(tops)} top folders ({shown}), expected one")
    top = tops[0]
    _agree(sdist.name, sdist.version, top, filename, f"top folder {top!r}")
    metadata = read_metadata(archive, f"{top}/PKG-INFO")
    metadata_name = _agree_metadata(sdist.name, sdist.version, metadata, filename, "PKG-INFO")
    return SdistInfo(
        filename=sdist,
        name=sdist.name,
        version=sdist.version,
        metadata_name=metadata_name,
        top=top,
        metadata=metadata,
    )


def intoto_dir(kind: str, info: WheelInfo | SdistInfo) -> str:
    """The prefix of the embedded in-toto folder (DESIGN §5), with a trailing slash."""
    if kind == "wheel" and isinstance(info, WheelInfo):
        return f"{info.dist_info}/in-toto/"
    if kind == "sdist" and isinstance(info, SdistInfo):
        return f"{info.top}/.in-toto/"
    raise ValueError(f"{type(info).__name__} does not describe a {kind}")


def product_names(archive: SafeArchive, info: WheelInfo | SdistInfo) -> list[str]:
    """The final product's member names: all but the in-toto folder and a wheel's RECORD."""
    prefix = intoto_dir(archive.kind, info)
    record = f"{info.dist_info}/RECORD" if isinstance(info, WheelInfo) else None
    return [
        member.name
        for member in archive.members
        if not member.name.startswith(prefix) and member.name != record
    ]


def read_metadata(archive: SafeArchive, member: str) -> Message:
    """Parse METADATA / PKG-INFO / WHEEL headers (RFC 822 style, UTF-8)."""
    if member not in archive:
        raise ArchiveError(f"{archive.filename}: has no {member!r}")
    if archive.member(member).size > MAX_METADATA_BYTES:
        raise ArchiveError(f"{archive.filename}: member {member!r} is too large for metadata")
    try:
        text = archive.read(member).decode("utf-8")
    except UnicodeDecodeError:
        raise ArchiveError(f"{archive.filename}: member {member!r} is not UTF-8") from None
    # Imported here: who only needs names and file names (``check``) does not load email.
    from email.parser import HeaderParser
    from email.policy import compat32

    return HeaderParser(policy=compat32).parsestr(text)


def _single_header(metadata: Message, field: str, where: str, what: str) -> str:
    values = metadata.get_all(field) or []
    if len(values) != 1 or not str(values[0]).strip():
        raise ArchiveError(f"{where}: {what} must have exactly one {field} (has {len(values)})")
    return str(values[0]).strip()


def _agree(name: str, version: Version, stem: str, where: str, what: str) -> None:
    other_name, other_version = split_name_version(stem, where=where, what=what)
    if other_name != name or other_version != version:
        raise ArchiveError(
            f"{where}: {what} says {other_name} {other_version}, "
            f"the file name says {name} {version}"
        )


def _agree_metadata(name: str, version: Version, metadata: Message, where: str, what: str) -> str:
    raw_name = _single_header(metadata, "Name", where, what)
    raw_version = _single_header(metadata, "Version", where, what)
    try:
        parsed = Version(raw_version)
    except InvalidVersion:
        raise ArchiveError(f"{where}: {what} Version {raw_version!r} is invalid") from None
    if canonical_name(raw_name) != name or parsed != version:
        raise ArchiveError(
            f"{where}: {what} says {raw_name} {raw_version}, the file name says {name} {version}"
        )
    return raw_name


def dist_info_folder(archive: SafeArchive, where: str) -> str:
    """The wheel's one top-level ``*.dist-info`` folder; ArchiveError unless there is exactly
    one. Folders of that name below a package folder (vendored projects) do not count."""
    folders = sorted(
        {m.name.split("/", 1)[0] for m in archive.members if "/" in m.name}
        | {d for d in archive.directories if "/" not in d}
    )
    found = [folder for folder in folders if folder.endswith(".dist-info")]
    if len(found) != 1:
        shown = f" ({', '.join(map(repr, found))})" if found else ""
        raise ArchiveError(f"{where}: has {len(found)} .dist-info folders{shown}, expected one")
    return found[0]


def _check_data_folders(archive: SafeArchive, stem: str, where: str) -> None:
    for member in archive.members:
        top = member.name.split("/", 1)[0]
        if "/" in member.name and top.endswith(".data") and top != f"{stem}.data":
            raise ArchiveError(f"{where}: member {member.name!r} is in a foreign .data folder")


# What importlib.metadata takes for a distribution's metadata (it compares in lower case), and
# the folders whose top level a wheel installs into site-packages.
_METADATA_SUFFIXES = (".dist-info", ".egg-info")
_SITE_ROOTS = ("purelib", "platlib")
_SITE_FOLDERS = ("site-packages", "dist-packages")


def planted_metadata(name: str, stem: str) -> str | None:
    """The distribution metadata (folder or file) that member ``name`` of the wheel whose
    dist-info is ``<stem>.dist-info`` would install beside its own, or None.

    Looked for where it would land in site-packages: at the top of the wheel, at the top of
    ``<stem>.data/purelib`` and ``platlib``, and below a ``site-packages`` folder in
    ``<stem>.data/data``. Deeper (vendored below a package folder) it is an ordinary file.
    """
    parts = name.split("/")
    if parts[0] == f"{stem}.data" and len(parts) > 2:
        if parts[1] in _SITE_ROOTS:
            candidates = [parts[2]]
        elif parts[1] == "data":
            candidates = [
                parts[i + 1] for i in range(2, len(parts) - 1) if parts[i].lower() in _SITE_FOLDERS
            ]
        else:
            candidates = []
    else:
        candidates = [parts[0]] if parts[0] != f"{stem}.dist-info" else []
    return next((c for c in candidates if c.lower().endswith(_METADATA_SUFFIXES)), None)


def _check_planted_metadata(archive: SafeArchive, stem: str, where: str) -> None:
    for name in [member.name for member in archive.members] + list(archive.directories):
        planted = planted_metadata(name, stem)
        if planted is not None:
            only = f"only {stem}.dist-info may describe this wheel"
            raise ArchiveError(
                f"{where}: member {name!r} plants distribution metadata {planted!r} ({only})"
            )


def _check_wheel_version(archive: SafeArchive, member: str, where: str) -> None:
    version = _single_header(read_metadata(archive, member), "Wheel-Version", where, "WHEEL")
    if version.split(".", 1)[0] != "1":
        raise ArchiveError(f"{where}: WHEEL has unsupported Wheel-Version {version!r}")
