"""What a wheel needs: its METADATA read from the verified copy, checked against the target.

Used to install a local wheel without starting pip when its dependencies are already
satisfied, to check Requires-Python and tags, and to order installation (dependencies first).
"""

from __future__ import annotations

import email.parser
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from intoto_pip.archives.names import canonical_name
from intoto_pip.errors import ArchiveError, InstallError
from intoto_pip.install.target import Target


@dataclass(frozen=True, kw_only=True)
class WheelMeta:
    name: str  # PEP 503 normalised
    version: str
    requires_dist: tuple[str, ...]
    requires_python: str | None
    tags: frozenset[str]


def read_wheel_meta(path: Path) -> WheelMeta:
    """Read name, version, Requires-Dist and Requires-Python from a (checked) wheel copy."""
    from intoto_pip.archives.names import parse_wheel_filename
    from intoto_pip.archives.reader import SafeArchive

    parsed = parse_wheel_filename(path.name)
    with SafeArchive.open(path) as archive:
        # Top level only: a *.dist-info vendored below a package folder (flit_core vendors
        # tomli's) is an ordinary file (DESIGN §5).
        names = [
            m.name
            for m in archive.members
            if m.name.endswith(".dist-info/METADATA") and m.name.count("/") == 1
        ]
        if len(names) != 1:
            raise ArchiveError(f"{path.name}: expected exactly one <name>-<ver>.dist-info/METADATA")
        text = archive.read(names[0]).decode("utf-8", errors="replace")
    headers = email.parser.HeaderParser().parsestr(text)
    return WheelMeta(
        name=parsed.name,
        version=str(headers.get("Version") or parsed.version),
        requires_dist=tuple(str(v) for v in headers.get_all("Requires-Dist") or ()),
        requires_python=headers.get("Requires-Python"),
        tags=frozenset(str(tag) for tag in parsed.tags),
    )


def check_compatible(meta: WheelMeta, filename: str, target: Target) -> None:
    """Refuse a wheel whose tags or Requires-Python the target does not satisfy."""
    if not target.supports_tags(meta.tags):
        raise InstallError(
            f"{filename}: its tags ({', '.join(sorted(meta.tags))}) are not supported by "
            f"{target.executable} (Python {target.version})"
        )
    if meta.requires_python:
        try:
            spec = SpecifierSet(meta.requires_python)
        except InvalidSpecifier as exc:
            raise InstallError(
                f"{filename}: invalid Requires-Python {meta.requires_python!r}"
            ) from exc
        if not spec.contains(target.version, prereleases=True):
            raise InstallError(
                f"{filename}: requires Python {meta.requires_python}, "
                f"the target is Python {target.version}"
            )


def active_requirements(meta: WheelMeta, markers: Mapping[str, str]) -> list[Requirement]:
    """The requirements that apply on the target (no extras requested)."""
    active = []
    for text in meta.requires_dist:
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            raise InstallError(f"{meta.name}: invalid Requires-Dist {text!r} ({exc})") from exc
        environment = {**markers, "extra": ""}
        if requirement.marker is None or requirement.marker.evaluate(environment):
            active.append(requirement)
    return active


def direct_url_requirements(
    meta: WheelMeta, markers: Mapping[str, str], allowed: frozenset[str]
) -> list[Requirement]:
    """The requirements of ``meta`` that name a direct URL (``dep @ URL``), active on the
    target, whose project ``allowed`` (PEP 503 names, or ":all:") does not name.

    pip follows such a URL during resolution, and builds what it finds there when it is not
    a wheel (an sdist, a VCS checkout), even with ``--dry-run --only-binary :all:``: the
    dependency's code would run before anything checked it.
    """
    if ":all:" in allowed:
        return []
    return [
        requirement
        for requirement in active_requirements(meta, markers)
        if requirement.url is not None and canonical_name(requirement.name) not in allowed
    ]


def unsatisfied(
    metas: Sequence[WheelMeta], installed: Mapping[str, str], markers: Mapping[str, str]
) -> list[str]:
    """Requirements of ``metas`` met neither by each other nor by what is installed."""
    available = {meta.name: meta.version for meta in metas}
    for name, version in installed.items():
        available.setdefault(name, version)
    missing = []
    for meta in metas:
        for requirement in active_requirements(meta, markers):
            have = available.get(canonical_name(requirement.name))
            if have is None or not _matches(requirement, have):
                missing.append(f"{meta.name} needs {requirement}")
    return missing


def _matches(requirement: Requirement, version: str) -> bool:
    try:
        return requirement.specifier.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


def dependency_order(metas: Sequence[WheelMeta], markers: Mapping[str, str]) -> list[WheelMeta]:
    """Dependencies before dependents (stable otherwise); cycles keep their given order."""
    by_name = {meta.name: meta for meta in metas}
    ordered: list[WheelMeta] = []
    state: dict[str, str] = {}

    def visit(meta: WheelMeta) -> None:
        if state.get(meta.name):
            return  # done, or in progress (a cycle)
        state[meta.name] = "visiting"
        for requirement in active_requirements(meta, markers):
            dep = by_name.get(canonical_name(requirement.name))
            if dep is not None:
                visit(dep)
        state[meta.name] = "done"
        ordered.append(meta)

    for meta in metas:
        visit(meta)
    return ordered
