"""Trust flags that ``install`` and ``verify`` share: one definition, one default, one check.

``--layout-key PEM`` takes one key per flag (as pip's own options), so the argument after it
is never swallowed as a second key; ``-k/--layout-keys/--verification-keys`` keep
in-toto-verify's form that takes several keys at once.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from intoto_pip.crypto.keys import VerificationKey
    from intoto_pip.models.publisher import PublisherPin
    from intoto_pip.verify.policy import Policy
    from intoto_pip.verify.provenance_policy import ProvenanceOptions

PROVENANCE_MODES = ("off", "warn", "tofu", "require")  # verify.policy.MODES
# verify.inspections.DEFAULT_TIMEOUT (a test keeps the two equal): importing it here would
# load the verifier, about 80 ms, before ``install`` starts pip and the probe.
INSPECTION_TIMEOUT = 60.0


def add_trust_flags(
    parser: argparse.ArgumentParser, *, policy_help: str, archives: bool = True
) -> None:
    """The trust group; ``archives=False`` leaves out what only verifying an archive uses,
    ``--inspection-timeout`` and the provenance flags (``check`` runs no inspection, and no
    attestation is installed to check again)."""
    g = parser.add_argument_group("trust")
    g.add_argument(
        "--layout-key",
        dest="layout_keys",
        action="append",
        default=[],
        metavar="PEM",
        help="public key (SPKI PEM) that must have signed the layout; one per flag, repeatable",
    )
    g.add_argument(
        "-k",
        "--layout-keys",
        "--verification-keys",
        dest="layout_keys",
        nargs="+",
        action="extend",
        metavar="PEM",
        help="several layout keys at once (in-toto-verify's form)",
    )
    g.add_argument("--policy", metavar="FILE", help=policy_help)
    if not archives:
        return
    g.add_argument(
        "--inspection-timeout",
        type=float,
        default=INSPECTION_TIMEOUT,
        metavar="S",
        help=f"seconds an inspection may run (default: {INSPECTION_TIMEOUT:g})",
    )
    _add_provenance_flags(parser)


def _add_provenance_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("provenance (PEP 740 attestations, checked with Sigstore)")
    g.add_argument(
        "--provenance",
        choices=PROVENANCE_MODES,
        metavar="MODE",
        help="off, warn, tofu (refuse a change of publisher) or require; default: the "
        "policy's, else off",
    )
    g.add_argument(
        "--publisher",
        dest="publishers",
        action="append",
        default=[],
        metavar="[NAME=]github:OWNER/REPO[@WORKFLOW]",
        help="who must have published NAME (or, without NAME=, every distribution): "
        "github:OWNER/REPO[@WORKFLOW], gitlab:NAMESPACE/PROJECT[@PATH] or google:EMAIL; "
        "repeatable",
    )
    g.add_argument(
        "--provenance-dir",
        metavar="DIR",
        help="folder of <file name>.provenance documents (before the index)",
    )
    g.add_argument(
        "--sigstore-trusted-root",
        metavar="FILE",
        help="Sigstore trusted_root.json to verify against (default: sigstore's embedded "
        "production root; never refreshed)",
    )


def layout_keys(args: argparse.Namespace) -> tuple[VerificationKey, ...]:
    from pathlib import Path

    from intoto_pip.crypto.keys import load_public_key

    return tuple(load_public_key(Path(path)) for path in args.layout_keys)


def inspection_timeout(args: argparse.Namespace) -> float:
    """The timeout, refused when it is 0, negative, infinite or not a number."""
    import math

    from intoto_pip.errors import InputError

    timeout = float(args.inspection_timeout)
    if not math.isfinite(timeout) or timeout <= 0:
        raise InputError(
            f"--inspection-timeout must be a positive number of seconds, got {timeout:g}"
        )
    return timeout


def policy(args: argparse.Namespace, *, extra_allowed: list[str] | None = None) -> Policy:
    from pathlib import Path

    from intoto_pip.verify.policy import load_policy

    path = Path(args.policy) if args.policy else None
    return load_policy(
        path,
        extra_allowed=extra_allowed or (),
        publishers=publishers(getattr(args, "publishers", [])),
        provenance=getattr(args, "provenance", None),
    )


def publishers(values: list[str]) -> dict[str, PublisherPin]:
    """``--publisher [NAME=]SPEC`` values by project name ("" for the unnamed one)."""
    from intoto_pip.archives.names import canonical_name
    from intoto_pip.errors import InputError
    from intoto_pip.models.publisher import parse_publisher_spec

    pins: dict[str, PublisherPin] = {}
    for value in values:
        name, equals, spec = value.partition("=")
        if not equals or ":" in name:  # no NAME= before the spec
            name, spec = "", value
        key = canonical_name(name) if name else ""
        if key in pins:
            raise InputError(f"--publisher {value}: {name or 'every project'} is pinned twice")
        pins[key] = parse_publisher_spec(spec, where=f"--publisher {value}")
    return pins


def provenance_options(args: argparse.Namespace) -> ProvenanceOptions:
    from pathlib import Path

    from intoto_pip.errors import InputError
    from intoto_pip.verify.provenance_policy import ProvenanceOptions

    folder = Path(args.provenance_dir) if args.provenance_dir else None
    if folder is not None and not folder.is_dir():
        raise InputError(f"--provenance-dir {args.provenance_dir}: not a folder")
    root = Path(args.sigstore_trusted_root) if args.sigstore_trusted_root else None
    if root is not None and not root.is_file():
        raise InputError(f"--sigstore-trusted-root {args.sigstore_trusted_root}: no such file")
    return ProvenanceOptions(trusted_root=root, provenance_dir=folder)
