"""``intoto-pip verify``: a downloaded archive, or a folder in the manner of in-toto-verify."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from intoto_pip.crypto.keys import VerificationKey
    from intoto_pip.verify.archive import ArchiveVerdict, ArchiveVerifyRequest
    from intoto_pip.verify.folder import FolderOptions
    from intoto_pip.verify.policy import Policy, Trust
    from intoto_pip.verify.result import VerificationResult

NAME = "verify"
EXAMPLE = """\
examples:
  intoto-pip verify --layout root.layout --layout-key owner.pub
  intoto-pip verify -l root.layout --verification-keys owner.pub --link-dir links --json
  intoto-pip verify dist/pkg-1.0-py3-none-any.whl --layout-key owner.pub
  intoto-pip verify pypi_attestations-0.0.19.tar.gz \\
      --publisher github:trailofbits/pypi-attestations@release.yml
  intoto-pip verify -l root.layout --gpg 3BF8135765A07E21BD12BF89A5627F6BF439F3C2

exit codes: 0 verified, 1 not verified, 2 usage error or unreadable key/layout file
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from intoto_pip.cli._common import add_verbosity
    from intoto_pip.cli._trust import add_trust_flags

    p = subparsers.add_parser(
        NAME,
        help="verify an archive, or a supply chain in a folder (like in-toto-verify)",
        description=(
            "Verify downloaded archives (wheel or sdist) against their in-toto metadata, or, "
            "with --layout, a supply chain whose links are in a folder, as in-toto-verify does."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("archives", nargs="*", metavar="ARCHIVE", help="wheel or sdist files to verify")
    p.add_argument("-l", "--layout", metavar="FILE", help="folder mode: the signed root layout")
    p.add_argument(
        "-g",
        "--gpg",
        nargs="+",
        action="extend",
        metavar="KEYID",
        help="GPG layout keys, exported from the keyring with gpg (in-toto-verify's --gpg)",
    )
    p.add_argument(
        "--gpg-home",
        metavar="DIR",
        help="GnuPG home folder for --gpg (default: gpg's own, e.g. $GNUPGHOME)",
    )
    p.add_argument(
        "-d",
        "--link-dir",
        metavar="DIR",
        default=".",
        help="folder mode: where the link files are (default: the current folder)",
    )
    p.add_argument(
        "--param",
        dest="params",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="substitute {NAME} in the layout's rules and commands; repeatable",
    )
    p.add_argument("--json", action="store_true", help="print the verification result as JSON")
    p.add_argument("--metadata", metavar="DIR", help="archive mode: folder of detached metadata")
    add_trust_flags(p, policy_help="archive mode: policy file of layout keys")
    add_verbosity(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from intoto_pip.errors import InputError

    if args.gpg_home and not args.gpg:
        raise InputError("--gpg-home applies only with --gpg KEYID...")
    if args.archives:
        return _run_archive_mode(args)
    return _run_folder_mode(args)


def _run_archive_mode(args: argparse.Namespace) -> int:
    """Verify every archive named; one line each (or JSON); 0 all verified, else 1."""
    from pathlib import Path

    from intoto_pip.cli import _trust
    from intoto_pip.cli._archive_provenance import archive_verdicts
    from intoto_pip.cli._archive_report import combine, print_verdicts
    from intoto_pip.verify.parallel import verify_archives

    policy = _trust.policy(args)
    request = _archive_request(args, policy)
    paths = [Path(item) for item in args.archives]
    provenance = archive_verdicts(paths, policy, _trust.provenance_options(args))
    # A project pinned to a publisher and given no layout key is not verified with in-toto.
    keyed = [
        path
        for path in paths
        if request.trust_for(_project(path)).layout_keys or not policy.pinned(_project(path))
    ]
    in_toto = dict(zip(keyed, verify_archives(keyed, request), strict=True))
    verdicts = [
        combine(in_toto.get(path) or _checked_whole(path), verdict)
        for path, verdict in zip(paths, provenance, strict=True)
    ]
    print_verdicts(verdicts, as_json=args.json, quiet=args.quiet)
    return 0 if all(verdict.verified for verdict in verdicts) else 1


def _project(path: Path) -> str:
    from intoto_pip.cli._archive_provenance import project_of

    return project_of(path)


def _checked_whole(path: Path) -> ArchiveVerdict:
    """A publisher-only archive: not verified with in-toto, but checked whole."""
    from dataclasses import replace

    from intoto_pip.archives.checked import identify, open_checked
    from intoto_pip.errors import VerificationError
    from intoto_pip.verify.archive import ArchiveVerdict

    verdict = ArchiveVerdict(path=path, filename=path.name, name="", version="", verified=False)
    try:
        identity = identify(path.name)
        with open_checked(path):
            pass
    except VerificationError as exc:
        return replace(verdict, reason=str(exc))
    return replace(verdict, name=identity.name, version=identity.version, checked_whole=True)


def _archive_request(args: argparse.Namespace, policy: Policy) -> ArchiveVerifyRequest:
    from pathlib import Path

    from intoto_pip.cli import _trust
    from intoto_pip.errors import InputError
    from intoto_pip.verify.archive import ArchiveVerifyRequest
    from intoto_pip.verify.params import parse_param_args

    for item in args.archives:
        if not Path(item).is_file():
            raise InputError(f"{item}: no such archive")
    if args.layout:
        raise InputError("give ARCHIVE files or --layout FILE, not both")
    timeout = _trust.inspection_timeout(args)
    keys = _layout_keys(args)
    if not keys and not policy.projects and not policy.publishers:
        raise InputError(
            "give --layout-key or --publisher (or a policy naming the project's layout keys "
            "or publisher)"
        )

    def trust_for(name: str) -> Trust:
        return policy.trust_for(name, keys)

    return ArchiveVerifyRequest(
        trust_for=trust_for,
        metadata_dir=Path(args.metadata) if args.metadata else None,
        metadata_dir_direct=len(args.archives) == 1,
        params=parse_param_args(args.params),
        inspection_timeout=timeout,
    )


def _layout_keys(args: argparse.Namespace) -> tuple[VerificationKey, ...]:
    """The --layout-key PEM keys, then the --gpg keys exported from the keyring."""
    from intoto_pip.cli import _producer, _trust
    from intoto_pip.produce.gpg_signer import export_keys

    gpg_keys = export_keys(args.gpg, _producer.gpg_options(args)) if args.gpg else ()
    return (*_trust.layout_keys(args), *gpg_keys)


def _folder_options(args: argparse.Namespace) -> FolderOptions:
    from pathlib import Path

    from intoto_pip.cli import _trust
    from intoto_pip.errors import InputError
    from intoto_pip.verify.folder import FolderOptions
    from intoto_pip.verify.params import parse_param_args

    if not args.layout:
        raise InputError("nothing to verify: give ARCHIVE files, or --layout FILE for a folder")
    if not args.layout_keys and not args.gpg:
        raise InputError(
            "give at least one --layout-key PEM or --gpg KEYID (the layout owner's public key)"
        )
    if args.policy or args.metadata:
        raise InputError("--policy and --metadata apply to ARCHIVE verification only")
    timeout = _trust.inspection_timeout(args)
    link_dir = Path(args.link_dir)
    if not link_dir.is_dir():
        raise InputError(f"--link-dir {args.link_dir}: not a folder")
    return FolderOptions(
        layout_path=Path(args.layout),
        layout_keys=_layout_keys(args),
        link_dir=link_dir,
        params=parse_param_args(args.params) if args.params else None,
        inspection_timeout=timeout,
    )


def _run_folder_mode(args: argparse.Namespace) -> int:
    import json

    from intoto_pip.cli._common import warn
    from intoto_pip.errors import IntotoPipError
    from intoto_pip.verify.folder import verify_folder

    try:
        # Options inside: with --json, a bad key file or flag still prints a JSON report.
        result = verify_folder(_folder_options(args))
    except IntotoPipError as exc:
        if args.json:
            report = {"verified": False, "error": str(exc), "exit_code": exc.exit_code}
            print(json.dumps(report, indent=2))
        raise
    if not args.quiet:
        for message in result.warnings:
            warn(message)
    if args.json:
        print(result.to_json())
    elif not args.quiet:
        if args.verbose:
            _print_details(result)
        print(
            f"verified: {args.layout} ({len(result.steps)} step(s), "
            f"{len(result.inspections)} inspection(s), {len(result.rules)} rule(s) passed)"
        )
    return 0


def _print_details(result: VerificationResult) -> None:
    for step in result.steps:
        signers = ", ".join(keyid[:8] for keyid in step.signers)
        print(f"step {step.name!r}: threshold {step.threshold}, signed by {signers}")
    for inspection in result.inspections:
        print(
            f"inspection {inspection.name!r}: {' '.join(inspection.command)!r} exited 0, "
            f"{inspection.materials} materials, {inspection.products} products"
        )
