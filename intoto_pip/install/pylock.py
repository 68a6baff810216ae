"""Reading a PEP 751 lock (``pylock.toml``) and choosing its files for one target interpreter.

The lock is parsed and validated by ``packaging.pylock``; the choice is
``Pylock.select`` evaluated for the *target* (its marker environment and wheel tags, from the
probe), never for the interpreter running intoto-pip. Where ``select`` would fall back to an
sdist, the sdist is taken only for a project opted into ``--no-binary``: building runs the
project's code, which a wheel install never does (DESIGN §7).

Every problem with the lock itself (not TOML, an unknown ``lock-version``, a file without
hashes, a package with no file for this target, a source we cannot verify) is an ``InputError``
(exit 2) naming the lock and the place in it (``packages[2].wheels[0].hashes``). A lock's
``attestation-identities`` are parsed into publisher pins here (``models.publisher``).
"""

from __future__ import annotations

import hashlib
import tomllib
import urllib.parse
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from intoto_pip.errors import InputError
from intoto_pip.install.target import Target
from intoto_pip.models.publisher import PublisherPin, publisher_from_table

if TYPE_CHECKING:
    from packaging.pylock import Package, Pylock
    from packaging.tags import Tag

MAX_LOCK_BYTES = 64 * 1024 * 1024  # a lock of thousands of packages is a few MB
# Algorithms every Python has: a lock's hash in another one cannot be checked here.
KNOWN_HASHES = frozenset(hashlib.algorithms_guaranteed) - {"shake_128", "shake_256"}


@dataclass(frozen=True, kw_only=True)
class LockedFile:
    """One file the lock says to install for this target, and what it must match."""

    name: str  # PEP 503 normalised
    version: str
    filename: str
    url: str | None
    path: Path | None  # a local file (the lock's ``path``, relative to the lock's folder)
    size: int | None
    hashes: Mapping[str, str]  # algorithm -> lowercase hex, known algorithms only
    identities: tuple[PublisherPin, ...]
    index: str | None  # the package's ``index``: where its provenance is looked up
    where: str  # "pylock.toml: packages[3].wheels[1]", for messages
    package_where: str  # "pylock.toml: packages[3]"
    is_wheel: bool
    direct: bool  # an ``archive`` entry: a direct URL, recorded as such when installed


def is_lock_file(path: str | Path) -> bool:
    """Is this file named as PEP 751 names locks (``pylock.toml``, ``pylock.*.toml``)?"""
    from packaging.pylock import is_valid_pylock_path

    return is_valid_pylock_path(Path(path))


def read_lock(path: Path) -> Pylock:
    """Parse and validate ``path``; InputError (exit 2) with the place in the file."""
    from packaging.pylock import Pylock, PylockUnsupportedVersionError, PylockValidationError

    from intoto_pip.store import read_user_file

    data = read_user_file(path)
    if len(data) > MAX_LOCK_BYTES:
        raise InputError(f"{path}: larger than {MAX_LOCK_BYTES} bytes")
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: not a TOML file ({exc})") from exc
    _check_version(document, path)
    try:
        return Pylock.from_dict(document)
    except PylockValidationError as exc:
        unsupported = isinstance(exc, PylockUnsupportedVersionError)
        context = "lock-version" if unsupported and not exc.context else exc.context
        raise InputError(_located(path, context, exc.message)) from exc


def _check_version(document: Mapping[str, Any], path: Path) -> None:
    """An unknown major version first: its other fields may mean something else entirely."""
    from packaging.version import InvalidVersion, Version

    value = document.get("lock-version")
    try:
        major = Version(value).major if isinstance(value, str) else None
    except InvalidVersion:
        major = None
    if major is not None and major != 1:
        raise InputError(f"{path}: lock-version: {value} is not supported (intoto-pip reads 1.x)")


def _located(path: Path, context: str | None, message: str) -> str:
    return f"{path}: {context}: {message}" if context else f"{path}: {message}"


def select_files(
    lock: Pylock, path: Path, target: Target, *, no_binary: Collection[str] = frozenset()
) -> list[LockedFile]:
    """The files to install on ``target``, one per selected package, in the lock's order.

    ``no_binary`` holds PEP 503 names (or ``:all:``) whose sdist is wanted over wheels."""
    from packaging.pylock import PylockSelectError

    def prefer_sdist(name: str) -> bool:
        return ":all:" in no_binary or name in no_binary

    positions = {id(package): i for i, package in enumerate(lock.packages)}
    try:
        chosen = list(
            lock.select(
                environment=dict(target.markers),  # type: ignore[arg-type]
                tags=target_tags(target),
                prefer_sdist_predicate=prefer_sdist,
            )
        )
    except PylockSelectError as exc:
        raise InputError(f"{path}: {exc} (for {target.executable})") from exc
    return [
        _locked(package, source, path, f"{path}: packages[{positions[id(package)]}]", no_binary)
        for package, source in chosen
    ]


def target_tags(target: Target) -> list[Tag]:
    """The target's wheel tags, most preferred first (as its own ``packaging.tags`` said)."""
    from packaging.tags import parse_tag

    return [tag for text in target.tags for tag in sorted(parse_tag(text), key=str)]


def _locked(
    package: Package, source: object, lock_path: Path, where: str, no_binary: Collection[str]
) -> LockedFile:
    from packaging.pylock import PackageArchive, PackageSdist, PackageWheel

    if not isinstance(source, PackageWheel | PackageSdist | PackageArchive):
        kind = type(source).__name__.removeprefix("Package").lower()
        raise InputError(
            f"{where}: {package.name} comes from a {kind}, which would be built from a source "
            "nothing verifies; lock a wheel or an sdist file of it"
        )
    location = where + _source_key(package, source)
    filename = _filename(source, location)
    is_wheel = filename.endswith(".whl")
    if not is_wheel and not (":all:" in no_binary or package.name in no_binary):
        raise InputError(
            f"{location}: the lock has no wheel of {package.name} for this interpreter, only "
            f"{filename}; add --no-binary {package.name} to build it after verification"
        )
    return LockedFile(
        name=str(package.name),
        version=str(package.version or ""),
        filename=filename,
        url=source.url,
        path=None if source.path is None else lock_path.parent / source.path,
        size=source.size,
        hashes=_hashes(source.hashes, location),
        identities=identities(package.attestation_identities or (), where),
        index=package.index,
        where=location,
        package_where=where,
        is_wheel=is_wheel,
        direct=isinstance(source, PackageArchive),
    )


def _source_key(package: Package, source: object) -> str:
    for i, wheel in enumerate(package.wheels or ()):
        if wheel is source:
            return f".wheels[{i}]"
    return ".sdist" if source is package.sdist else ".archive"


def _filename(source: Any, where: str) -> str:
    from intoto_pip.errors import VerificationError
    from intoto_pip.install.fetch import safe_filename

    name: str | None = getattr(source, "name", None)
    try:
        if name is None:
            reference = source.url or urllib.parse.quote(str(source.path))
            name = safe_filename(reference)
        elif "/" in name or safe_filename(urllib.parse.quote(name)) != name:
            raise VerificationError(name)
    except VerificationError as exc:
        raise InputError(f"{where}: not an acceptable file name ({exc})") from exc
    return name


def _hashes(hashes: Mapping[str, str], where: str) -> dict[str, str]:
    known = {
        algo.lower(): value.lower()
        for algo, value in hashes.items()
        if algo.lower() in KNOWN_HASHES
    }
    if not known:
        raise InputError(
            f"{where}.hashes: no hash in an algorithm intoto-pip can check "
            f"({', '.join(sorted(hashes))}); give sha256"
        )
    return known


def identities(tables: Iterable[Mapping[str, Any]], where: str) -> tuple[PublisherPin, ...]:
    """A package's ``attestation-identities`` as publisher pins (PEP 740's field names)."""
    return tuple(
        publisher_from_table(
            # ``claims`` (PEP 740) is informative: the certificate, not the lock, says who
            # published; a null field is an absent one.
            {k: v for k, v in table.items() if v is not None and k != "claims"},
            where=f"{where}.attestation-identities[{i}]",
        )
        for i, table in enumerate(tables)
    )


def lock_indexes(files: Sequence[LockedFile]) -> tuple[str, ...]:
    """The distinct indexes the lock names, in order (where provenance is looked up)."""
    return tuple(dict.fromkeys(f.index for f in files if f.index))
