"""``intoto-pip check``: is the environment still what was verified? (DESIGN §12)

For every installed distribution (or the named ones):

1. RECORD: every file it lists must be there with its sha256; files inside the
   distribution's own top-level folders that no RECORD lists are unexpected;
2. evidence: where ``<dist-info>/in-toto/`` holds a layout, it is re-verified with the keys
   the policy pins now (``verify.installed``), and the installed files are compared with the
   final product it vouches for (``check_evidence``): a rewritten RECORD cannot hide a change;
3. the verdict record (``verdict_record``) says how it got in; without one, another tool
   installed it, and it is checked against RECORD only (and said so).

``.pth`` files in the site folders that no distribution owns are reported too: Python runs
them at every start. Bytecode (``__pycache__``) may differ, be missing, or be added: Python
rewrites it itself. Every file is hashed once, in parallel (``artifacts.digests``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from intoto_pip.archives.evidence import ArchiveMetadata
from intoto_pip.archives.names import canonical_name
from intoto_pip.artifacts.digests import hash_files, start_hash_files
from intoto_pip.crypto.keys import VerificationKey
from intoto_pip.install.check_evidence import (
    EVIDENCE_FOLDER,
    Placed,
    PlacedDist,
    compare_with_product,
    place_product,
)
from intoto_pip.install.check_report import (
    CheckReport,
    DistReport,
    EvidenceReport,
)
from intoto_pip.install.forked import Forked
from intoto_pip.install.installed_files import (
    DistRecord,
    in_pycache,
    is_bytecode,
    is_generated_bytecode,
    read_record,
    regular_files,
    top_files,
    top_folders,
    walk_files,
)
from intoto_pip.install.target import (
    InstalledDist,
    PendingProbe,
    Target,
    scheme_for,
    start_probe,
)
from intoto_pip.install.verdict_record import FILENAME as VERDICT_RECORD
from intoto_pip.install.verdict_record import VerdictRecord, parse_record
from intoto_pip.verify.installed import EvidenceVerdict, LayoutChecks
from intoto_pip.verify.policy import Policy, Trust

__all__ = ["CheckOptions", "CheckReport", "check_environment"]


@dataclass(frozen=True, kw_only=True)
class CheckOptions:
    python: Path | None = None
    target_dir: Path | None = None
    names: tuple[str, ...] = ()
    policy: Policy = field(default_factory=Policy)
    layout_keys: tuple[VerificationKey, ...] = ()


@dataclass
class _Dist:
    """One distribution on its way through the check."""

    info: InstalledDist
    record: DistRecord | None = None  # read while a helper may re-verify the evidence
    verdict: VerdictRecord | None = None
    verdict_problem: str = ""
    evidence: EvidenceReport | None = None
    product: Mapping[str, str] | None = None
    placed: PlacedDist | None = None  # set with ``product``, once the target is known
    placements: Placed = field(default_factory=list)  # where ``product`` was installed


def check_environment(options: CheckOptions, *, probe: PendingProbe | None = None) -> CheckReport:
    """Check the target's distributions; a finding is in the report, never raised.

    ``probe``: the target's probe, already started for ``options.python`` and
    ``options.target_dir`` (so the caller's own start-up overlaps it).
    """
    if probe is None:
        with start_probe(options.python, target_dir=options.target_dir, installing=False) as run:
            target = run.result()
    else:
        target = probe.result()
    installed = target.installed()
    wanted = list(dict.fromkeys(canonical_name(n) for n in options.names)) or sorted(installed)
    chosen = [_Dist(info=installed[n]) for n in wanted if n in installed]
    layouts = LayoutChecks()
    mine, theirs = _shares(chosen)
    # The first of this process's share is re-verified before a helper is forked: what that
    # loads (modules imported on first use, the layout checked) is loaded once, for both.
    _reverify_share(mine[:1], options, layouts)
    # With many distributions a forked helper re-verifies a share of the evidence (which
    # needs no RECORD) from here on. The files RECORD names are hashed by another helper
    # (where there is one) while the folders are walked and the rest of the evidence is
    # re-verified here; what only a final product names is hashed after. Only what the walk
    # found to be a regular file counts as present.
    with _helper(theirs, options, layouts) as helper:
        records = {name: read_record(dist.dist_info) for name, dist in installed.items()}
        owned = {row.path for record in records.values() if record for row in record.rows}
        for dist in chosen:
            dist.record = records[dist.info.name]
        by_record = _record_paths(chosen)
        with start_hash_files(by_record, regular_only=True) as hashing:
            present, walked = _present(chosen, target)
            _reverify_share(mine[1:], options, layouts)
            hashed = hashing.result()  # this process hashes too, while the helpers work
            _take_answers(theirs, helper, options, layouts)
            for dist in chosen:
                _place(dist, target)
            unexpected = _unexpected(chosen, owned, walked, present)
            digests = _present_digests(by_record, hashed, present)
    digests.update(_hash(_product_paths(chosen, present, digests)))
    reports = [
        _report(dist, unexpected.get(dist.info.name, ()), digests, present) for dist in chosen
    ]
    return CheckReport(
        python=target.executable,
        site_dirs=tuple(str(folder) for folder in target.site_dirs),
        distributions=tuple(reports),
        unowned=tuple(_unowned_startup_files(target, owned)),
        not_installed=tuple(n for n in wanted if n not in installed),
    )


# Distributions before a forked helper re-verifies a share of them (see ``forked``).
SHARE_MIN = 16
OUR_SHARE = 0.4
# What the helper sends back for each distribution of its share: what _read_verdict and
# _reverify set.
_Answer = tuple[VerdictRecord | None, str, EvidenceReport | None, Mapping[str, str] | None]


def _shares(chosen: Sequence[_Dist]) -> tuple[Sequence[_Dist], Sequence[_Dist]]:
    """This process's share of the re-verification, and the helper's (none with few): the
    larger one, as this process reads every RECORD meanwhile."""
    if len(chosen) < SHARE_MIN:
        return chosen, ()
    ours = int(len(chosen) * OUR_SHARE)
    return chosen[:ours], chosen[ours:]


def _helper(
    theirs: Sequence[_Dist], options: CheckOptions, layouts: LayoutChecks
) -> Forked[list[_Answer]]:
    def answers() -> list[_Answer]:
        _reverify_share(theirs, options, layouts)  # the helper's own copy of ``layouts``
        return [(d.verdict, d.verdict_problem, d.evidence, d.product) for d in theirs]

    return Forked(answers if theirs else None)


def _reverify_share(share: Sequence[_Dist], options: CheckOptions, layouts: LayoutChecks) -> None:
    for dist in share:
        _read_verdict(dist)
        _reverify(dist, options, layouts)


def _take_answers(
    theirs: Sequence[_Dist],
    helper: Forked[list[_Answer]],
    options: CheckOptions,
    layouts: LayoutChecks,
) -> None:
    """The helper's answers for its share; without a complete answer (it could not start, or
    failed), that share is re-verified here."""
    answers = helper.result()
    if answers is None or len(answers) != len(theirs):
        _reverify_share(theirs, options, layouts)
        return
    for dist, (verdict, problem, evidence, product) in zip(theirs, answers, strict=True):
        dist.verdict, dist.verdict_problem = verdict, problem
        dist.evidence, dist.product = evidence, product


def _read_verdict(dist: _Dist) -> None:
    path = dist.info.dist_info / VERDICT_RECORD
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    except OSError as exc:
        dist.verdict_problem = f"{path}: cannot be read ({exc.strerror})"
        return
    from intoto_pip.errors import MetadataError

    try:
        dist.verdict = parse_record(data, where=str(path))
    except MetadataError as exc:
        dist.verdict_problem = str(exc)


def _reverify(dist: _Dist, options: CheckOptions, layouts: LayoutChecks) -> None:
    """Re-verify the installed evidence, if any; keep the final product to compare with."""
    from intoto_pip.archives.evidence import read_evidence_folder
    from intoto_pip.errors import VerificationError

    folder = dist.info.dist_info / EVIDENCE_FOLDER
    trust = options.policy.trust_for(dist.info.name, options.layout_keys)
    allowed = dist.verdict is not None and dist.verdict.verdict == "allowed-unverified"
    if not folder.is_dir():
        return
    if not trust.layout_keys:
        problem = _NO_KEY.format(name=dist.info.name)
        dist.evidence = EvidenceReport(
            status="not-checked" if allowed else "no-key", problem=problem
        )
        return
    try:
        metadata = read_evidence_folder(folder)
        assert metadata is not None
        verdict = _reverify_metadata(dist, metadata, trust, layouts)
    except VerificationError as exc:
        dist.evidence = EvidenceReport(status="refused", problem=str(exc))
        return
    comparable = dist.verdict is None or dist.verdict.archive.filename.endswith(".whl")
    dist.evidence = _evidence_report(verdict, compared=comparable)
    if comparable:
        dist.product = verdict.final_product


_NO_KEY = (
    "it carries in-toto evidence, but no layout key is pinned for {name}: give --layout-key "
    "or name the project in the policy file"
)


def _reverify_metadata(
    dist: _Dist, metadata: ArchiveMetadata, trust: Trust, layouts: LayoutChecks
) -> EvidenceVerdict:
    from intoto_pip.archives.names import identify
    from intoto_pip.verify.installed import EvidenceCheck, reverify_evidence

    record = dist.verdict
    archive = record.archive.filename if record else ""
    raw_name = dist.info.dist_info.name.split("-", 1)[0]
    if archive:
        raw_name = identify(archive).raw_name
    check = EvidenceCheck(
        trust=trust,
        raw_name=raw_name,
        version=dist.info.version,
        archive=archive,
        now=record.installed_at if record else datetime.now(UTC),
    )
    return reverify_evidence(metadata, check, layouts)


def _evidence_report(verdict: EvidenceVerdict, *, compared: bool) -> EvidenceReport:
    return EvidenceReport(
        status="verified",
        layout=verdict.layout_origin,
        layout_sha256=verdict.layout_sha256,
        layout_keys=verdict.layout_signers,
        last_step=verdict.last_step,
        inspections_skipped=verdict.inspections_skipped,
        compared=compared,
    )


def _present(chosen: Sequence[_Dist], target: Target) -> tuple[set[str], set[str]]:
    """Regular files that exist, and those of them in the chosen distributions' top-level
    folders: those folders and the site folders' own files are listed (one walk), any other
    file a RECORD row names (scripts, data) is looked at on its own."""
    folders = {f for dist in chosen if dist.record for f in top_folders(dist.record)}
    walked: set[str] = set()
    for folder in sorted(folders):
        walked.update(walk_files(folder))
    present = set(walked)
    for site in target.site_dirs:
        present.update(top_files(os.path.normpath(site)))
    others: list[str] = []
    for dist in chosen:
        if dist.record:
            inside = dist.record.root + os.sep
            others += [row.path for row in dist.record.rows if not row.path.startswith(inside)]
    present.update(regular_files(others))
    return present, walked


def _record_paths(chosen: Sequence[_Dist]) -> list[str]:
    """Every file a RECORD row with a hash names, once (bytecode rows carry none that is
    compared: see ``read_record``)."""
    paths: dict[str, None] = {}
    for dist in chosen:
        if dist.record:
            paths.update(dict.fromkeys(r.path for r in dist.record.rows if r.sha256))
    return list(paths)


def _place(dist: _Dist, target: Target) -> None:
    """Where the final product the evidence vouches for was installed, if there is one."""
    if dist.product is not None and dist.record:
        dist.placed = _placed(dist, target)
        dist.placements = place_product(dist.placed, dist.product)


def _product_paths(
    chosen: Sequence[_Dist], present: set[str], hashed: Mapping[str, str]
) -> list[str]:
    """Every present file a final product names that is not hashed yet, once."""
    paths: dict[str, None] = {}
    for dist in chosen:
        named = (path for path, _, _ in dist.placements)
        paths.update(dict.fromkeys(p for p in named if p in present and p not in hashed))
    return list(paths)


def _present_digests(paths: list[str], digests: list[str], present: set[str]) -> dict[str, str]:
    """The digests of the paths that are present ("": not a regular file, or unreadable)."""
    return {
        path: digest
        for path, digest in zip(paths, digests, strict=True)
        if digest and path in present
    }


def _hash(paths: list[str]) -> dict[str, str]:
    """sha256 of each path; a file that vanished meanwhile is left out (so: missing)."""
    digests = hash_files(paths, regular_only=True)
    return {path: digest for path, digest in zip(paths, digests, strict=True) if digest}


def _placed(dist: _Dist, target: Target) -> PlacedDist:
    assert dist.record is not None
    scheme = {k: os.path.normpath(v) for k, v in scheme_for(target, dist.info.name).items()}
    return PlacedDist(
        name=dist.info.name,
        dist_info=os.path.normpath(dist.info.dist_info),
        record=dist.record,
        scheme=scheme,
        interpreter=target.executable,
    )


def _report(
    dist: _Dist,
    unexpected: Sequence[str],
    digests: Mapping[str, str],
    present: set[str],
) -> DistReport:
    problems, notes = _problems(dist), _notes(dist)
    modified, missing = _record_findings(dist.record, present, digests)
    found_unexpected = set(unexpected)
    if dist.product is not None and dist.placed is not None:
        findings = compare_with_product(dist.placed, dist.product, digests, dist.placements)
        modified |= set(findings.modified)
        missing |= set(findings.missing)
        found_unexpected |= set(findings.unexpected)
    return DistReport(
        name=dist.info.name,
        version=dist.info.version,
        dist_info=dist.info.dist_info,
        installer=_installer(dist.info.dist_info),
        verdict_record=dist.verdict,
        evidence=dist.evidence,
        files=len(dist.record.rows) if dist.record else 0,
        modified=tuple(sorted(modified)),
        missing=tuple(sorted(missing)),
        unexpected=tuple(sorted(found_unexpected)),
        problems=tuple(problems),
        notes=tuple(notes),
    )


def _record_findings(
    record: DistRecord | None, present: set[str], digests: Mapping[str, str]
) -> tuple[set[str], set[str]]:
    """(modified, missing) by RECORD; bytecode may differ or be missing (Python's own)."""
    modified: set[str] = set()
    missing: set[str] = set()
    for row in record.rows if record else ():
        path, sha256 = row.path, row.sha256
        if sha256 is not None and digests.get(path) == sha256:
            continue  # intact (most rows): decided in one look
        if is_bytecode(path) or in_pycache(path):
            continue
        digest = digests.get(path)
        if path not in present or (sha256 and digest is None):
            if not os.path.isdir(path):  # some tools list folders
                missing.add(path)
        elif sha256 and digest != sha256:
            modified.add(path)
    return modified, missing


def _problems(dist: _Dist) -> list[str]:
    problems = []
    if dist.record is None:
        problems.append("no readable RECORD: nothing to check its files against")
    else:
        problems += dist.record.problems
    if dist.verdict_problem:
        problems.append(f"verdict record: {dist.verdict_problem}")
    evidence = dist.evidence
    if evidence is not None and evidence.status in ("no-key", "refused"):
        problems.append(f"in-toto evidence: {evidence.problem}")
    recorded = dist.verdict.in_toto if dist.verdict else None
    if recorded is not None and recorded.mode == "embedded" and evidence is None:
        problems.append(
            f"in-toto evidence: verified at install with the evidence it carried, but "
            f"{EVIDENCE_FOLDER}/ is gone from {dist.info.dist_info.name}"
        )
    verified = evidence is not None and evidence.status == "verified"
    if verified and recorded is not None and recorded.layout_sha256:
        assert evidence is not None
        if recorded.layout_sha256 != evidence.layout_sha256:
            problems.append(
                "in-toto evidence: the layout is not the one verified at install "
                f"(sha256 {evidence.layout_sha256}, recorded {recorded.layout_sha256})"
            )
    return problems


def _notes(dist: _Dist) -> list[str]:
    record, evidence = dist.verdict, dist.evidence
    notes = []
    if record is None and not dist.verdict_problem:
        who = _installer(dist.info.dist_info) or "an unknown tool"
        notes.append(f"installed by {who} (no verdict record): checked against RECORD only")
    elif record is not None and record.verdict == "allowed-unverified":
        notes.append("let in unverified (--allow-unverified) at install")
    if evidence is not None and evidence.status == "not-checked":
        notes.append(f"in-toto evidence not checked: {evidence.problem}")
    if evidence is not None and evidence.status == "verified":
        if not evidence.compared:
            notes.append(
                "the evidence vouches for the sdist the wheel was built from: "
                "files checked against RECORD only"
            )
        if evidence.inspections_skipped:
            names = ", ".join(evidence.inspections_skipped)
            notes.append(f"inspections not run again (they ran at install): {names}")
    if record and record.in_toto and record.in_toto.mode == "detached" and evidence is None:
        notes.append("verified at install with detached evidence, which is not installed")
    return notes


def _installer(dist_info: Path) -> str:
    try:
        text = (dist_info / "INSTALLER").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return text.strip().splitlines()[0] if text.strip() else ""


def _unexpected(
    chosen: Sequence[_Dist], owned: set[str], walked: set[str], present: set[str]
) -> dict[str, list[str]]:
    """Files inside the chosen distributions' top-level folders (``walked``) that no RECORD
    lists, by the distribution owning the nearest folder (namespace folders are shared)."""
    strays = [p for p in walked - owned if not is_generated_bytecode(p, present)]
    if not strays:
        return {}
    folder_owner: dict[str, str] = {}
    for dist in chosen:
        for row in dist.record.rows if dist.record else ():
            folder_owner.setdefault(os.path.dirname(row.path), dist.info.name)
    found: dict[str, list[str]] = {}
    for path in strays:
        found.setdefault(_owner(path, folder_owner), []).append(path)
    return found


def _owner(path: str, folder_owner: Mapping[str, str]) -> str:
    folder = os.path.dirname(path)
    while folder not in folder_owner and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    return folder_owner.get(folder, "")


def _unowned_startup_files(target: Target, owned: set[str]) -> Iterable[str]:
    """``.pth`` files in a site folder that no distribution owns: Python runs them at start."""
    for site in target.site_dirs:
        for path in sorted(top_files(os.path.normpath(site))):
            if path.endswith(".pth") and path not in owned:
                yield path
