"""One build with evidence: record materials, run the real backend, sign, embed.

The order matters. Materials are recorded before the real backend runs (it writes into the
tree: ``build/``, ``*.egg-info``). The real backend builds into a private temporary folder;
its archive is checked as a whole (``open_checked``), its products hashed, the link signed,
and only the rewritten archive is placed in the folder the frontend asked for, atomically.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from intoto_pip.archives.checked import open_checked
from intoto_pip.backend.config import TABLE, BuildConfig, load_config
from intoto_pip.backend.delegate import BackendError, RealBackend, load_backend
from intoto_pip.backend.evidence import (
    EarlierEvidence,
    EvidenceWarning,
    check_layout,
    gather_evidence,
)
from intoto_pip.backend.key import KEY_ENV, signer_from_environment
from intoto_pip.backend.recorder import record_materials
from intoto_pip.crypto.keys import Signer
from intoto_pip.errors import InputError, VerificationError
from intoto_pip.models.envelope import dump_envelope, sign_payload
from intoto_pip.models.link import Link
from intoto_pip.produce.embed import (
    EmbedOptions,
    Evidence,
    copy_archive,
    embed,
    final_products,
    source_date_epoch,
    target_of,
)
from intoto_pip.store import link_filename

Kind = Literal["wheel", "sdist"]
HOOKS: Final[dict[Kind, str]] = {"wheel": "build_wheel", "sdist": "build_sdist"}


@dataclass(frozen=True, kw_only=True)
class BuildRequest:
    """One PEP 517 build hook call, as the frontend made it."""

    kind: Kind
    output_dir: Path
    config_settings: Mapping[str, Any] | None = None
    metadata_directory: str | None = None


@dataclass(frozen=True, kw_only=True)
class _Plan:
    config: BuildConfig
    backend: RealBackend
    signer: Signer | None
    earlier: EarlierEvidence
    materials: Mapping[str, Mapping[str, str]]


@dataclass(frozen=True, kw_only=True)
class BuildOutcome:
    """What one build wrote: the archive's file name and the evidence it carries."""

    name: str
    links: tuple[str, ...] = ()  # link file names embedded, the new one included
    signed_by: str = ""  # keyid of the new link's signer ("" without a key)
    verified: bool = False  # checked against the layout with layout-keys before returning

    def summary(self, output_dir: Path) -> str:
        if not self.links and not self.signed_by:
            return f"wrote {output_dir / self.name} (no in-toto evidence)"
        signed = f"signed by {self.signed_by[:8]}" if self.signed_by else "no new link: no key"
        checked = "; verified against the layout" if self.verified else ""
        return (
            f"wrote {output_dir / self.name} with root.layout and {len(self.links)} link(s) "
            f"({signed}{checked})"
        )


def build_with_evidence(
    request: BuildRequest, *, project_dir: Path, environ: Mapping[str, str]
) -> BuildOutcome:
    """Run the real backend's hook and attach evidence; say what was written."""
    plan = _plan(request, project_dir, environ)
    options = EmbedOptions(source_date_epoch=source_date_epoch(environ), replace=True)
    with tempfile.TemporaryDirectory(prefix="intoto-pip-build-") as scratch:
        name = _run_backend(plan.backend, request, Path(scratch))
        built = Path(scratch) / name
        with open_checked(built) as checked:
            target = target_of(checked)
            products = final_products(checked)
        dest = request.output_dir / name
        if plan.earlier.layout is None:
            copy_archive(built, dest)
            return BuildOutcome(name=name)
        links = dict(plan.earlier.links)
        if plan.signer is not None:
            link = _link(plan, request.kind, plan.materials, products)
            links[link_filename(plan.config.step, plan.signer.public_key.keyid)] = link
        signed = Path(scratch) / "signed" / name
        signed.parent.mkdir()
        embed(built, signed, target, Evidence(layout=plan.earlier.layout, links=links), options)
        verified = plan.signer is not None and verify_own_output(signed, plan.config)
        copy_archive(signed, dest)
    keyid = "" if plan.signer is None else plan.signer.public_key.keyid
    return BuildOutcome(name=name, links=tuple(sorted(links)), signed_by=keyid, verified=verified)


def _missing_key_file(item: str, config: BuildConfig) -> bool:
    return not item.lstrip().startswith("-----BEGIN") and not (config.project_dir / item).exists()


def verify_own_output(archive: Path, config: BuildConfig) -> bool:
    """Verify the archive as a consumer will, before the hook reports success: a layout that
    refuses what this build makes (a generated file no rule allows) fails here, not at every
    user's install. Needs the owner's keys (``layout-keys``); without them, a warning."""
    from intoto_pip.verify.archive import ArchiveVerifyRequest, verify_archive
    from intoto_pip.verify.policy import Trust, read_layout_key

    if not config.layout_keys:
        _warn(
            f"{TABLE} has no layout-keys: the {archive.name} just built was not verified "
            "against the layout (add the owner's public key to have every build checked)"
        )
        return False
    missing = [item for item in config.layout_keys if _missing_key_file(item, config)]
    if missing:
        # A wheel built from an unpacked sdist runs where a path beside the project is gone.
        _warn(
            f"{TABLE} layout-keys: {missing[0]} is not found from {config.project_dir}, so the "
            f"{archive.name} just built was not verified (to have wheels built from the sdist "
            "checked too, keep the key file in the project and in the sdist, or give it as "
            "PEM text)"
        )
        return False
    keys = tuple(
        read_layout_key(item, f"pyproject.toml: {TABLE} layout-keys[{i}]", config.project_dir)
        for i, item in enumerate(config.layout_keys)
    )
    trust = Trust(layout_keys=keys, source=f"{TABLE} layout-keys")
    verdict = verify_archive(archive, ArchiveVerifyRequest(trust_for=lambda _name: trust))
    if not verdict.verified:
        raise VerificationError(
            f"the {archive.name} just built would not verify against the layout, so it was "
            f"not written: {verdict.reason.removeprefix(f'{archive.name}: ')}"
        )
    return True


def _plan(request: BuildRequest, project_dir: Path, environ: Mapping[str, str]) -> _Plan:
    config = load_config(project_dir)
    backend = load_backend(config.backend, config.backend_path)
    signer = _signer(config, environ)
    earlier = gather_evidence(config)
    if earlier.layout is None:
        if signer is not None:
            fallback = project_dir / ".in-toto" / "root.layout"
            raise InputError(f"no layout to embed: {config.layout} not found (nor {fallback})")
        _warn(f"no layout at {config.layout}: the {request.kind} carries no in-toto metadata")
    else:
        where = str(earlier.layout_path)
        key = None if signer is None else signer.public_key
        for message in check_layout(earlier.layout, where=where, step=config.step, key=key):
            _warn(message)
    materials = {} if signer is None else record_materials(config)
    return _Plan(
        config=config, backend=backend, signer=signer, earlier=earlier, materials=materials
    )


def _signer(config: BuildConfig, environ: Mapping[str, str]) -> Signer | None:
    signer = signer_from_environment(environ, config.project_dir)
    if signer is not None:
        return signer
    if config.require_signature:
        raise InputError(
            f"{KEY_ENV} is not set, but {TABLE} require-signature = true:"
            " set it to the path of the functionary's PEM private key"
        )
    _warn(
        f"{KEY_ENV} is not set: building without a signed {config.step!r} link"
        " (set it to a PEM private key path to sign one)"
    )
    return None


def _warn(message: str) -> None:
    warnings.warn(message, EvidenceWarning, stacklevel=4)


def _run_backend(backend: RealBackend, request: BuildRequest, scratch: Path) -> str:
    hook = HOOKS[request.kind]
    args: list[Any] = [os.fspath(scratch), _settings(request.config_settings)]
    if request.kind == "wheel":
        args.append(request.metadata_directory)
    name = backend.call(hook, *args)
    if not isinstance(name, str) or not (scratch / name).is_file():
        raise BackendError(f"build backend {backend.name!r}: {hook} returned {name!r}, not a file")
    return name


def _settings(config_settings: Mapping[str, Any] | None) -> dict[str, Any] | None:
    # Backends may change what they are given; ours stays as the frontend passed it.
    return None if config_settings is None else dict(config_settings)


def _link(
    plan: _Plan,
    kind: Kind,
    materials: Mapping[str, Mapping[str, str]],
    products: Mapping[str, Mapping[str, str]],
) -> bytes:
    assert plan.signer is not None
    link = Link(
        name=plan.config.step,
        materials=materials,
        products=products,
        # No command ran that a layout could expect; say which hook made the archive.
        environment={"build-backend": plan.config.backend, "hook": HOOKS[kind]},
    )
    envelope = sign_payload(link.to_dict(), [plan.signer], dsse=plan.config.use_dsse)
    return dump_envelope(envelope)
