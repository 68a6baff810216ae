"""``mock``: try a step without a key, as in-toto-mock does.

Records everything in the working folder as materials and products, runs the command with
its output captured (and passed on), and writes an unsigned link ``<name>.link`` that
``intoto-pip sign`` can sign later.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from intoto_pip.artifacts.collect import RecordOptions, record_artifacts_report
from intoto_pip.produce.command import OutputSink, run_command
from intoto_pip.produce.common import check_step_name, link_payload, sign_and_write
from intoto_pip.produce.run import DEFAULT_TIMEOUT

LINK_SUFFIX = ".link"


@dataclass(frozen=True, kw_only=True)
class MockOptions:
    step: str
    command: tuple[str, ...]
    use_dsse: bool = False
    workdir: Path = Path()
    timeout: float | None = DEFAULT_TIMEOUT


@dataclass(frozen=True, kw_only=True)
class MockResult:
    link_path: Path
    return_value: int
    skipped: tuple[str, ...] = ()


def mock_step(options: MockOptions, *, sink: OutputSink | None = None) -> MockResult:
    check_step_name(options.step)
    record = RecordOptions(base_path=options.workdir)
    materials = record_artifacts_report(["."], record)
    result = run_command(
        options.command, capture=True, timeout=options.timeout, sink=sink, cwd=options.workdir
    )
    products = record_artifacts_report(["."], record)
    payload = link_payload(
        options.step,
        command=options.command,
        materials=materials.artifacts,
        products=products.artifacts,
        byproducts=result.byproducts(),
    )
    path = options.workdir / f"{options.step}{LINK_SUFFIX}"
    sign_and_write(payload, [], dsse=options.use_dsse, path=path)
    return MockResult(
        link_path=path,
        return_value=result.return_value,
        skipped=tuple(dict.fromkeys(materials.skipped + products.skipped)),
    )
