"""Verifying one archive (wheel or sdist) against its in-toto supply chain (DESIGN §5).

1. The archive is opened and checked as a whole before anything is written (names, member
   types, sizes, ratios, RECORD for wheels).
2. Its evidence is found (``archives.evidence``); a layout named by the policy replaces a
   shipped one.
3. A fresh private sandbox receives the final product: the product members (embedded mode) or
   the archive file itself (detached mode), written when the first inspection is about to run
   there (a layout without inspections needs only the hashes, taken from the checked archive).
4. The engine verifies the layout with the parameters NAME, VERSION, ARCHIVE and PYTHON.
5. An embedded evidence folder may hold only files that verification read: the layout, and
   the links the engine loaded for a step or a sublayout (any other file would be installed
   unverified, since the folder is not part of the final product).
6. A layout without inspections gets the built-in final-product check: the sandbox must equal
   the products of the layout's last step, path for path and hash for hash.

Refusals come back as an ``ArchiveVerdict`` with ``verified=False`` and the reason; only usage
errors (a key or out-of-band layout the user named that cannot be read) are raised.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from intoto_pip.archives.checked import CheckedArchive, Identity, identify, open_checked
from intoto_pip.archives.evidence import (
    ArchiveMetadata,
    MemoryLinkSource,
    MetadataQuery,
    NoMetadataError,
    find_metadata,
)
from intoto_pip.archives.sandbox import PrivateWriter, sandbox
from intoto_pip.errors import ArchiveError, InputError, MetadataError, RuleError, VerificationError
from intoto_pip.models.layout import Inspection
from intoto_pip.models.link import Artifacts, Link
from intoto_pip.verify.engine import verify_layout
from intoto_pip.verify.inspections import DEFAULT_TIMEOUT, InspectionOptions, run_inspection
from intoto_pip.verify.params import value_problem
from intoto_pip.verify.policy import Trust
from intoto_pip.verify.result import VerificationResult, show_names

if TYPE_CHECKING:
    from intoto_pip.verify.provenance_policy import ProvenanceVerdict

BUILTIN_PARAMS = ("NAME", "VERSION", "ARCHIVE", "PYTHON")


@dataclass(frozen=True, kw_only=True)
class ArchiveVerifyRequest:
    """How to verify archives; ``trust_for`` maps a PEP 503 project name to its trust."""

    trust_for: Callable[[str], Trust]
    metadata_dir: Path | None = None
    metadata_dir_direct: bool = False
    params: Mapping[str, str] = field(default_factory=dict)
    inspection_timeout: float = DEFAULT_TIMEOUT
    now: datetime | None = None
    sandbox_parent: Path | None = None


@dataclass(frozen=True, kw_only=True)
class ArchiveVerdict:
    """What verification of one archive concluded, and who vouched for it."""

    path: Path
    filename: str
    name: str  # PEP 503 normalised
    version: str
    verified: bool
    reason: str = ""
    no_metadata: bool = False
    # Not verified (none was asked for) but checked whole: safe names, sizes, RECORD.
    checked_whole: bool = False
    # It carries in-toto evidence that nobody checked (no layout key for its project).
    unchecked_evidence: bool = False
    mode: str = ""
    layout_origin: str = ""
    trust_source: str = ""
    layout_keys: tuple[str, ...] = ()
    layout_sha256: str = ""  # of the layout's bytes as verified (shipped or out-of-band)
    functionaries: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    inspections: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    # PEP 740 provenance, when it was checked (``verify ARCHIVE``; install keeps its own).
    provenance: ProvenanceVerdict | None = None
    # Debugging only (not compared, not reported): the process that verified the archive.
    worker_pid: int = field(default=0, compare=False)
    # A wheel's {member: sha256} as verification read them: the installer checks every byte
    # it writes against these (so installs what was verified) without hashing the wheel twice.
    member_sha256: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "archive": self.filename,
            "name": self.name,
            "version": self.version,
            "verified": self.verified,
            "reason": self.reason,
            "mode": self.mode,
            "layout": self.layout_origin,
            "trust": self.trust_source,
            "layout_keys": list(self.layout_keys),
            "functionaries": {step: list(keys) for step, keys in self.functionaries.items()},
            "inspections": list(self.inspections),
            "warnings": list(self.warnings),
            "provenance": self.provenance.to_dict() if self.provenance else None,
        }


def verify_archive(path: Path, request: ArchiveVerifyRequest) -> ArchiveVerdict:
    """Verify one archive; a refusal is a verdict, a usage problem an InputError."""
    try:
        identity = identify(path.name)
    except VerificationError as exc:
        return ArchiveVerdict(
            path=path, filename=path.name, name="", version="", verified=False, reason=str(exc)
        )
    verdict = ArchiveVerdict(
        path=path,
        filename=path.name,
        name=identity.name,
        version=identity.version,
        verified=False,
    )
    try:
        return _verify(path, identity, verdict, request)
    except VerificationError as exc:
        return replace(verdict, reason=str(exc), no_metadata=isinstance(exc, NoMetadataError))


def _verify(
    path: Path, identity: Identity, verdict: ArchiveVerdict, request: ArchiveVerifyRequest
) -> ArchiveVerdict:
    trust = request.trust_for(identity.name)
    with open_checked(path) as checked:
        metadata = find_metadata(_query(path, checked, trust, request), checked)
        if not trust.layout_keys:
            raise VerificationError(
                f"{path.name}: no layout key for project {identity.name!r}: give --layout-key "
                "or name the project in the policy file"
            )
        with sandbox(request.sandbox_parent) as box:
            product = FinalProduct(path, checked, metadata, box)
            params = _params(path.name, identity.raw_name, identity.version, request.params)
            links = metadata.link_source()
            result = _run_engine(metadata, links, trust, params, product, request)
            _check_evidence_read(metadata, links)
            products = {} if result.inspections else product.hashes()
            members = checked.archive.sha256_of_members() if checked.archive.kind == "wheel" else {}
    if not result.inspections:
        last_step = result.steps[-1].name if result.steps else ""
        check_final_products(path.name, products, result.summary, last_step)
    return replace(
        verdict,
        verified=True,
        mode=metadata.mode,
        layout_origin=metadata.layout_origin,
        trust_source=trust.source,
        layout_keys=result.layout_signers,
        layout_sha256=hashlib.sha256(metadata.layout).hexdigest(),
        functionaries={step.name: step.signers for step in result.steps},
        inspections=tuple(item.name for item in result.inspections),
        warnings=result.warnings,
        member_sha256=members,
    )


def _query(
    path: Path, checked: CheckedArchive, trust: Trust, request: ArchiveVerifyRequest
) -> MetadataQuery:
    return MetadataQuery(
        archive_path=path,
        embedded_prefix=checked.embedded_prefix,
        metadata_dir=request.metadata_dir,
        metadata_dir_direct=request.metadata_dir_direct,
        layout_override=trust.layout,
    )


class FinalProduct:
    """One archive's final product: the product members (embedded) or the archive (detached).

    It is written into the sandbox only when the first inspection is about to run; a layout
    without inspections needs only its hashes, and those come from the checked archive (its
    members were hashed once already, for RECORD), so nothing is written or hashed again.
    """

    def __init__(
        self, path: Path, checked: CheckedArchive, metadata: ArchiveMetadata, box: Path
    ) -> None:
        self._path, self._checked, self._metadata, self.box = path, checked, metadata, box
        self._hashes: dict[str, str] | None = None
        self._written = False

    def write(self) -> None:
        """Fill the sandbox (once); the hashes are those of the bytes written."""
        if not self._written:
            self._written = True
            if self._metadata.mode == "embedded":
                self._hashes = self._checked.extract_products(self.box)
            else:
                self._hashes = {self._path.name: _copy_into(self._checked, self.box)}

    def hashes(self) -> dict[str, str]:
        """{name: sha256} of the final product, written or not."""
        if self._hashes is None:
            if self._metadata.mode == "embedded":
                every = self._checked.archive.sha256_of_members()
                self._hashes = {name: every[name] for name in self._checked.products}
            else:
                self._hashes = {self._path.name: _sha256_of_archive(self._checked)}
        return self._hashes


def _run_engine(
    metadata: ArchiveMetadata,
    links: MemoryLinkSource,
    trust: Trust,
    params: dict[str, str],
    product: FinalProduct,
    request: ArchiveVerifyRequest,
) -> VerificationResult:
    return verify_layout(
        metadata.envelope(),
        layout_keys=trust.layout_keys,
        links=links,
        params=params,
        run_inspection=_inspection_runner(product, request.inspection_timeout),
        now=request.now or datetime.now(UTC),
    )


def _check_evidence_read(metadata: ArchiveMetadata, links: MemoryLinkSource) -> None:
    """An embedded evidence folder is installed with the distribution but is not part of the
    final product: every file in it must be one that verification read."""
    unread = metadata.unread(links) if metadata.mode == "embedded" else []
    if unread:
        raise MetadataError(
            f"{metadata.label} holds files that no verification reads: {show_names(unread)} "
            "(an evidence folder holds only the layout, the links of its steps and of their "
            "sublayouts)"
        )


def _inspection_runner(product: FinalProduct, timeout: float) -> Callable[[Inspection], Link]:
    options = InspectionOptions(workdir=product.box, timeout=timeout)

    def run(inspection: Inspection) -> Link:
        product.write()
        return run_inspection(inspection, options)

    return run


def _params(filename: str, raw_name: str, version: str, extra: Mapping[str, str]) -> dict[str, str]:
    named = {"NAME": raw_name, "VERSION": version, "ARCHIVE": filename}
    for key, value in named.items():
        # From the archive's file name: the same check as --param values, and the archive's
        # fault (exit 1), not the user's.
        problem = value_problem(value)
        if problem:
            raise ArchiveError(
                f"{filename}: parameter {key} taken from the file name ({value!r}) must not "
                f"contain {problem}"
            )
    params = {**named, "PYTHON": sys.executable}
    for key in extra:
        if key in params:
            raise InputError(f"--param {key}: intoto-pip sets {key} for every archive")
    return {**params, **extra}


def _copy_into(checked: CheckedArchive, box: Path) -> str:
    """Copy the archive checked (its open file, not its path) into the sandbox under its own
    name; return its sha256."""
    digest = hashlib.sha256()

    def chunks() -> Iterator[bytes]:
        for chunk in checked.archive.raw_chunks():
            digest.update(chunk)
            yield chunk

    PrivateWriter(box).write(checked.archive.filename, chunks())
    return digest.hexdigest()


def _sha256_of_archive(checked: CheckedArchive) -> str:
    digest = hashlib.sha256()
    for chunk in checked.archive.raw_chunks():
        digest.update(chunk)
    return digest.hexdigest()


def check_final_products(
    filename: str, sandbox: Mapping[str, str], summary: Link, last_step: str
) -> None:
    """The built-in final-product check: the sandbox equals the last step's products."""
    expected = _sha256_of(summary.products)
    extra = sorted(set(sandbox) - set(expected))
    missing = sorted(set(expected) - set(sandbox))
    changed = sorted(n for n in set(sandbox) & set(expected) if sandbox[n] != expected[n])
    problems = []
    if extra:
        problems.append(f"not among the products: {show_names(extra)}")
    if missing:
        problems.append(f"missing from the archive: {show_names(missing)}")
    if changed:
        problems.append(f"different contents: {show_names(changed)}")
    if problems:
        step = f"step {last_step!r}" if last_step else "the layout (it has no steps)"
        raise RuleError(
            f"{filename}: the final product does not match the products of {step} "
            f"(built-in final-product check; the layout has no inspection): {'; '.join(problems)}"
        )


def _sha256_of(artifacts: Artifacts) -> dict[str, str]:
    return {name: hashes.get("sha256", "") for name, hashes in artifacts.items()}
