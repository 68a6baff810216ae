"""Carry out a step: record materials, run the command, record products, sign the link."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from intoto_pip.artifacts.collect import RecordOptions, record_artifacts_report
from intoto_pip.crypto.keys import Signer
from intoto_pip.errors import InputError
from intoto_pip.produce.command import CommandResult, OutputSink, run_command
from intoto_pip.produce.common import (
    check_directory,
    check_step_name,
    link_payload,
    sign_and_write,
)
from intoto_pip.store import link_filename

DEFAULT_TIMEOUT = 10.0  # seconds, as in-toto-run


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """What ``run`` records. An empty ``command`` records a step without running anything."""

    step: str
    materials: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    command: tuple[str, ...] = ()
    record_streams: bool = False
    timeout: float | None = DEFAULT_TIMEOUT  # None: no limit
    record: RecordOptions = field(default_factory=RecordOptions)
    use_dsse: bool = False
    attestation: bool = False  # write an in-toto Statement v1 (link predicate), in DSSE
    metadata_dir: Path = Path()


@dataclass(frozen=True, kw_only=True)
class RunResult:
    link_path: Path
    return_value: int | None  # None when no command ran
    skipped: tuple[str, ...] = ()  # warnings about paths not recorded


def run_step(options: RunOptions, signer: Signer, *, sink: OutputSink | None = None) -> RunResult:
    """Run the step and write ``<metadata_dir>/<step>.<keyid[:8]>.link``.

    Raises InputError for bad options, CommandError if the command cannot start or times
    out (no link is written then). The command's own exit status is returned, not raised.
    """
    check_step_name(options.step)
    check_directory(options.metadata_dir, "metadata directory")
    if options.attestation and not options.products:
        raise InputError("an in-toto attestation needs products (its subject): give -p PATH")
    materials = record_artifacts_report(options.materials, options.record)
    result: CommandResult | None = None
    if options.command:
        result = run_command(
            options.command,
            capture=options.record_streams,
            timeout=options.timeout,
            sink=sink,
        )
    products = record_artifacts_report(options.products, options.record)
    payload = link_payload(
        options.step,
        command=options.command,
        materials=materials.artifacts,
        products=products.artifacts,
        byproducts=result.byproducts() if result else {},
    )
    path = options.metadata_dir / link_filename(options.step, signer.public_key.keyid)
    sign_and_write(
        payload, [signer], dsse=options.use_dsse, path=path, attestation=options.attestation
    )
    return RunResult(
        link_path=path,
        return_value=result.return_value if result else None,
        skipped=_unique(materials.skipped + products.skipped),
    )


def _unique(messages: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(messages))
