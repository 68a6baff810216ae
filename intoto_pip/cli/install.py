"""``intoto-pip install``: verify every distribution, then install all of them or none."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from intoto_pip.install.pipeline import InstallOptions, InstallOutcome

NAME = "install"
EXAMPLE = """\
examples:
  intoto-pip install dist/pkg-1.0-py3-none-any.whl --layout-key owner.pub
  intoto-pip install requests --policy policy.toml --python .venv/bin/python
  intoto-pip install -r requirements.txt --index-url http://127.0.0.1:8080/simple/ \\
      --layout-key owner.pub --report report.json --dry-run
  intoto-pip install legacy-lib --allow-unverified legacy-lib
  intoto-pip install -r pylock.toml --policy policy.toml     # exactly the lock's files

exit codes: 0 installed (or verified with --dry-run), 1 a distribution was refused or
installation failed (nothing is left installed), 2 usage error or unreadable key/policy
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from intoto_pip.cli._common import add_verbosity

    p = subparsers.add_parser(
        NAME,
        help="verify distributions with in-toto, then install them (all or nothing)",
        description=(
            "Resolve with pip (wheels only), download the exact files, verify every one "
            "against its in-toto layout in a private sandbox, and only then install them "
            "all with `installer`. If anything fails, nothing is installed."
        ),
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "requirements",
        nargs="*",
        metavar="REQ_OR_ARCHIVE",
        help="requirement (as pip takes it) or a local wheel/sdist file",
    )
    _add_pip_options(p)
    _add_target_options(p)
    _add_trust_options(p)
    add_verbosity(p)
    p.set_defaults(handler=run)


def _add_pip_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("resolution (passed to pip)")
    g.add_argument(
        "-r", "--requirement", action="append", default=[], metavar="FILE", help="requirements file"
    )
    g.add_argument(
        "--lock",
        metavar="FILE",
        help="install exactly this PEP 751 lock's files, verified (no resolution; "
        "-r pylock.toml does the same)",
    )
    g.add_argument("-i", "--index-url", metavar="URL", help="base URL of the package index")
    g.add_argument(
        "--extra-index-url", action="append", default=[], metavar="URL", help="another index"
    )
    g.add_argument(
        "-f",
        "--find-links",
        action="append",
        default=[],
        metavar="URL",
        help="a folder or page of archive links",
    )
    g.add_argument(
        "-e",
        "--editable",
        action="append",
        default=[],
        metavar="PATH",
        help="refused: pip would build the project before anything verified it",
    )
    g.add_argument("--no-index", action="store_true", help="ignore the package index")
    g.add_argument("--no-deps", action="store_true", help="do not install dependencies")
    g.add_argument("-U", "--upgrade", action="store_true", help="upgrade to the newest versions")
    g.add_argument("--pre", action="store_true", help="include pre-release versions")
    g.add_argument(
        "--no-binary",
        action="append",
        default=[],
        metavar="NAME",
        help="fetch this project's sdist and build it after verification (or :all:)",
    )
    g.add_argument(
        "--allow-direct-url",
        action="append",
        default=[],
        metavar="NAME",
        help=(
            "let pip follow a verified distribution's 'NAME @ URL' dependency (or :all:); pip "
            "builds an sdist or VCS URL before anything is verified: refused unless named"
        ),
    )


def _add_target_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("target")
    g.add_argument(
        "--python", metavar="PY", help="interpreter to install for (default: active venv or this)"
    )
    g.add_argument("-t", "--target", metavar="DIR", help="install into DIR")
    g.add_argument("--prefix", metavar="DIR", help="install under this prefix")
    g.add_argument("--dry-run", action="store_true", help="verify and report; install nothing")
    g.add_argument("--report", metavar="FILE", help="write a JSON report ('-' for stdout)")
    g.add_argument(
        "--no-compile",
        dest="compile",
        action="store_false",
        help="write no bytecode (.pyc) files; the report says whether bytecode was written",
    )
    g.add_argument(
        "--break-system-packages",
        action="store_true",
        help="install into an EXTERNALLY-MANAGED environment anyway",
    )


def _add_trust_options(p: argparse.ArgumentParser) -> None:
    from intoto_pip.cli._trust import add_trust_flags

    add_trust_flags(
        p, policy_help="trust policy (TOML) mapping projects to layout keys; see the consumer guide"
    )
    p.add_argument(
        "--allow-unverified",
        action="append",
        default=[],
        metavar="NAME",
        help="accept these projects without in-toto evidence (NAME,NAME... or :all:); repeatable",
    )


def run(args: argparse.Namespace) -> int:
    from intoto_pip.errors import InputError

    if args.editable:
        raise InputError(
            f"-e {args.editable[0]}: an editable install makes pip build the project before "
            "anything verifies it; build a wheel (python -m build) and install that file, "
            "which is verified first"
        )
    from intoto_pip.cli._lock_args import lock_file

    lock = lock_file(args)
    if not args.requirements and not args.requirement and lock is None:
        raise InputError("nothing to install: give requirements, archives or -r FILE")
    _check_report_destination(args.report)
    if lock is not None:
        from intoto_pip.install.lock_install import install_lock

        outcome = install_lock(_options(args), lock)
    else:
        outcome = _install(args)
    from intoto_pip.cli import _install_output as output

    if args.report:
        output.write_report(args.report, outcome)
    return output.show(outcome, quiet=args.quiet, requested=args.requirements, verbose=args.verbose)


def _install(args: argparse.Namespace) -> InstallOutcome:
    """The target's probe and pip's settings started first, then the rest loaded meanwhile."""
    from pathlib import Path

    from intoto_pip.install import early

    _paths, requirements = early.split_requirements(tuple(args.requirements))
    started = early.start(
        _interpreter(args.python),
        target_dir=Path(args.target) if args.target else None,
        prefix=Path(args.prefix) if args.prefix else None,
        needs_pip=bool(requirements or args.requirement),
    )
    try:
        from intoto_pip.install.pipeline import run_install

        return run_install(_options(args), started)
    finally:
        started.close()


def _check_report_destination(report: str | None) -> None:
    """Fail before installing, not after, when the report cannot be written there."""
    import os
    from pathlib import Path

    from intoto_pip.errors import InputError

    if report is None or report == "-":
        return
    folder = Path(report).absolute().parent
    if Path(report).is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK):
        raise InputError(f"--report {report}: cannot write a file there")


def _options(args: argparse.Namespace) -> InstallOptions:
    from pathlib import Path

    from intoto_pip.cli import _trust
    from intoto_pip.cli._install_output import phase_printer, progress_factory
    from intoto_pip.install.pipeline import InstallOptions
    from intoto_pip.install.resolve import ResolveOptions

    timeout = _trust.inspection_timeout(args)
    policy = _trust.policy(args, extra_allowed=_comma_list(args.allow_unverified))
    resolve = ResolveOptions(
        requirement_files=tuple(Path(p) for p in args.requirement),
        index_url=args.index_url,
        extra_index_urls=tuple(args.extra_index_url),
        find_links=tuple(args.find_links),
        no_index=args.no_index,
        no_deps=args.no_deps,
        upgrade=args.upgrade,
        pre=args.pre,
    )
    return InstallOptions(
        requirements=tuple(args.requirements),
        resolve=resolve,
        python=_interpreter(args.python),
        target_dir=Path(args.target) if args.target else None,
        prefix=Path(args.prefix) if args.prefix else None,
        dry_run=args.dry_run,
        compile_bytecode=args.compile,
        layout_keys=_trust.layout_keys(args),
        policy=policy,
        inspection_timeout=timeout,
        break_system_packages=args.break_system_packages,
        progress=progress_factory(args.quiet),
        phase=phase_printer(quiet=args.quiet, verbose=args.verbose),
        no_binary=_names(args.no_binary),
        allow_direct_url=_names(args.allow_direct_url),
        provenance=_trust.provenance_options(args),
    )


def _comma_list(values: list[str]) -> list[str]:
    """Repeated flags and comma lists alike (``--allow-unverified a,b``), as pip's --no-binary."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _names(values: list[str]) -> frozenset[str]:
    """Project names given as --no-binary takes them: repeated or comma-separated, or :all:."""
    from intoto_pip.archives.names import canonical_name

    names = set(_comma_list(values))
    return frozenset(name if name == ":all:" else canonical_name(name) for name in names)


def _interpreter(python: str | None) -> Path | None:
    """``--python`` as pip takes it: an interpreter, or an environment's folder."""
    from pathlib import Path

    if python is None:
        return None
    path = Path(python)
    if path.is_dir():
        for candidate in (path / "bin" / "python", path / "Scripts" / "python.exe"):
            if candidate.is_file():
                return candidate
    return path
