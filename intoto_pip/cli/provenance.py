"""``intoto-pip provenance show ARCHIVE|NAME==VER``: who published it, checked with Sigstore."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from intoto_pip.verify.provenance import ProvenanceChecker
    from intoto_pip.verify.provenance_policy import Outcome

NAME = "provenance"
EXAMPLE = """\
examples:
  intoto-pip provenance show pypi_attestations-0.0.19.tar.gz
  intoto-pip provenance show pypi-attestations==0.0.19
  intoto-pip provenance show pkg==1.0 --index-url http://127.0.0.1:8080/simple/

An ARCHIVE's attestations are read from --provenance-dir or <archive>.provenance beside it;
for NAME==VER, from the index (its PEP 691 JSON page, or PyPI's Integrity API), checked
against the sha256 the index gives for each file.

exit codes: 0 every file verified, 1 a file without provenance or one that does not verify,
2 usage error
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from intoto_pip.cli._common import add_verbosity

    p = subparsers.add_parser(
        NAME,
        help="show who published a distribution (PEP 740 attestations, checked offline)",
        description="Check a distribution's PEP 740 attestations with Sigstore (offline, "
        "against the embedded production trust root) and print the publisher its "
        "certificate names.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("action", choices=["show"], help="show: print the verified publisher")
    p.add_argument("target", metavar="ARCHIVE|NAME==VER", help="a local archive, or NAME==VER")
    p.add_argument("-i", "--index-url", metavar="URL", help="index for NAME==VER (default PyPI)")
    p.add_argument("--provenance-dir", metavar="DIR", help="folder of <file>.provenance files")
    p.add_argument(
        "--sigstore-trusted-root", metavar="FILE", help="Sigstore trusted_root.json to use"
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_verbosity(p)
    p.set_defaults(handler=run, provenance=None, publishers=[])


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from intoto_pip.cli._trust import provenance_options
    from intoto_pip.verify.provenance import ProvenanceChecker

    options = provenance_options(args)
    checker = ProvenanceChecker(options.trusted_root)
    if Path(args.target).is_file():
        from intoto_pip.cli._archive_provenance import local_outcome

        rows = [(Path(args.target).name, local_outcome(Path(args.target), checker, options))]
    else:
        rows = _index_rows(args, checker)
    if args.json:
        print(json.dumps([_as_dict(name, outcome) for name, outcome in rows], indent=2))
    else:
        for name, outcome in rows:
            _print(name, outcome, verbose=args.verbose)
    return 0 if all(outcome.identity is not None for _, outcome in rows) else 1


def _index_rows(args: argparse.Namespace, checker: ProvenanceChecker) -> list[tuple[str, Outcome]]:
    from pathlib import Path

    from intoto_pip.errors import InputError
    from intoto_pip.install.fetch import FetchedFile
    from intoto_pip.install.provenance_fetch import ProvenanceLookup, find_provenance, index_files
    from intoto_pip.install.simple_api import DEFAULT_INDEX
    from intoto_pip.verify.provenance import outcome_of

    name, equals, version = args.target.partition("==")
    if not equals or not name.strip() or not version.strip():
        raise InputError(f"{args.target}: no such archive, and not NAME==VERSION")
    index = args.index_url or DEFAULT_INDEX
    files = index_files(index, name.strip(), version.strip())
    if not files:
        raise InputError(f"{args.target}: the index lists no file of that version ({index})")
    lookup = ProvenanceLookup(index_urls=(index,))
    rows = []
    for item in files:
        fetched = FetchedFile(
            path=Path(item.filename),
            filename=item.filename,
            url=item.url,
            sha256=item.sha256,
            size=0,
        )
        found = find_provenance(fetched, name, version.strip(), lookup)
        outcome = outcome_of(
            checker,
            found.source,
            filename=item.filename,
            sha256=item.sha256,
            looked_in=found.looked_in,
        )
        rows.append((item.filename, outcome))
    return rows


def _print(filename: str, outcome: Outcome, *, verbose: int) -> None:
    import sys

    from intoto_pip.verify.provenance_policy import SHORT_TYPES

    if outcome.identity is not None:
        kinds = ", ".join(SHORT_TYPES.get(kind, kind) for kind in outcome.predicate_types)
        print(f"{filename}: published by {outcome.identity.describe()} ({kinds})")
        if outcome.identity.spec():
            print(f"  pin it with: --publisher {outcome.identity.spec()}")
        if verbose:
            print(f"  from {outcome.source}; issuer {outcome.identity.issuer}")
        for note in outcome.notes:
            print(f"intoto-pip: warning: {filename}: {note}", file=sys.stderr)
    elif outcome.failure:
        print(f"{filename}: provenance does not verify: {outcome.failure}", file=sys.stderr)
    else:
        print(f"{filename}: no provenance (looked in {outcome.looked_in})", file=sys.stderr)


def _as_dict(filename: str, outcome: Outcome) -> dict[str, object]:
    return {
        "archive": filename,
        "verified": outcome.identity is not None,
        "publisher": outcome.identity.to_dict() if outcome.identity else None,
        "predicate_types": list(outcome.predicate_types),
        "source": outcome.source or None,
        "failure": outcome.failure or None,
        "problem": outcome.problem or None,
        "notes": list(outcome.notes),
    }
