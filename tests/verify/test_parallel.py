"""Verifying many archives at once: worker processes, same verdicts, input order, no hiding."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from intoto_pip.cli.main import main
from intoto_pip.errors import InputError
from intoto_pip.models.layout import Inspection
from intoto_pip.models.rules import parse_rules
from intoto_pip.verify.archive import ArchiveVerdict, ArchiveVerifyRequest, verify_archive
from intoto_pip.verify.parallel import GENTLE_NICENESS, VerifyingPool, verify_archives
from intoto_pip.verify.policy import Trust
from tests.support.signing import Project, layout_payload
from tests.support.wheels import wheel_members, write_wheel

FILES = {"demo_pkg/__init__.py": b"VALUE = 1\n"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return Project(tmp_path_factory.mktemp("keys"))


def _request(project: Project, layout: Path | None = None) -> ArchiveVerifyRequest:
    trust = Trust(layout_keys=(project.owner.public,), layout=layout)
    return ArchiveVerifyRequest(trust_for=lambda name: trust)


def _sleepy_layout(project: Project, seconds: float) -> dict[str, object]:
    """A layout whose inspection takes ``seconds``: no worker can do two archives at once."""
    inspection = Inspection(
        name="wait",
        run=(sys.executable, "-c", f"import time; time.sleep({seconds})"),
        expected_materials=parse_rules([["ALLOW", "*"]], where="t"),
    )
    return layout_payload(project.functionary.public, inspections=[inspection])


def _mixed_set(project: Project, folder: Path) -> list[Path]:
    good = project.signed_wheel(folder / "a", "good-one", "1.0", FILES)
    tampered = project.signed_wheel(
        folder / "b", "tampered", "1.0", FILES, tamper={"demo_pkg/__init__.py": b"EVIL = 1\n"}
    )
    plain = folder / "c" / "plain-1.0-py3-none-any.whl"
    plain.parent.mkdir()
    write_wheel(plain, wheel_members("plain", "1.0", FILES), "plain-1.0.dist-info/RECORD")
    inspected = project.signed_wheel(
        folder / "d", "inspected", "2.0", FILES, layout=_sleepy_layout(project, 0.0)
    )
    not_an_archive = folder / "e" / "notes.txt"
    not_an_archive.parent.mkdir()
    not_an_archive.write_text("x")
    return [tampered, good, not_an_archive, plain, inspected]


def _comparable(verdict: ArchiveVerdict) -> ArchiveVerdict:
    assert verdict.worker_pid not in (0, os.getpid())  # verified in a worker process
    return verdict


def test_parallel_verdicts_equal_the_sequential_ones_in_order(
    project: Project, tmp_path: Path
) -> None:
    archives = _mixed_set(project, tmp_path)
    request = _request(project)
    sequential = [verify_archive(path, request) for path in archives]
    parallel = verify_archives(archives, request, max_workers=2)
    assert [v.filename for v in parallel] == [p.name for p in archives]
    assert [_comparable(v) for v in parallel] == sequential  # worker_pid is not compared
    assert [(v.verified, v.no_metadata) for v in parallel] == [
        (False, False),
        (True, False),
        (False, False),
        (False, True),
        (True, False),
    ]
    assert "built-in final-product check" in parallel[0].reason
    assert parallel[4].inspections == ("wait",)


def test_more_than_one_worker_process_is_used(project: Project, tmp_path: Path) -> None:
    layout = _sleepy_layout(project, 0.4)
    archives = [
        project.signed_wheel(tmp_path / str(i), f"pkg{i}", "1.0", FILES, layout=layout)
        for i in range(4)
    ]
    verdicts = verify_archives(archives, _request(project), max_workers=2)
    assert all(v.verified for v in verdicts), [v.reason for v in verdicts]
    pids = {v.worker_pid for v in verdicts}
    assert len(pids) == 2 and os.getpid() not in pids and 0 not in pids


def test_one_archive_is_verified_in_this_process(project: Project, tmp_path: Path) -> None:
    wheel = project.signed_wheel(tmp_path, "demo-pkg", "1.0", FILES)
    (verdict,) = verify_archives([wheel], _request(project))
    assert verdict.verified and verdict.worker_pid == 0


def test_usage_error_in_a_worker_is_raised_after_the_others(
    project: Project, tmp_path: Path
) -> None:
    archives = [project.signed_wheel(tmp_path / str(i), f"p{i}", "1.0", FILES) for i in range(2)]
    with pytest.raises(InputError, match=r"missing\.layout"):
        verify_archives(archives, _request(project, tmp_path / "missing.layout"), max_workers=2)


def test_cli_reports_every_archive_in_order(
    project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archives = _mixed_set(project, tmp_path)
    key = str(project.owner.public_path)
    assert main(["verify", *map(str, archives), "--layout-key", key]) == 1
    out, err = capsys.readouterr()
    assert [line.split(": ")[0] for line in out.splitlines()] == [
        archives[1].name,
        archives[4].name,
    ]
    refused = [line.split(": ")[0] for line in err.splitlines()]
    assert refused == [archives[0].name, archives[2].name, archives[3].name]


def test_a_verifying_pool_gives_the_verdicts_verify_archive_gives_in_any_order_asked(
    project: Project, tmp_path: Path
) -> None:
    """Archives handed in one by one (as speculation finds them), verdicts taken in another
    order or never; its workers yield to the resolving pip."""
    archives = _mixed_set(project, tmp_path)
    request = _request(project)
    pool = VerifyingPool(request, 2)
    try:
        for path in archives:
            pool.submit(path)
        verdicts = [pool.verdict(path) for path in reversed(archives)]
        assert pool.verdict(tmp_path / "never-handed-in.whl") is None
        workers = {v.worker_pid for v in verdicts if v is not None}
        niceness = {os.getpriority(os.PRIO_PROCESS, pid) for pid in workers}
    finally:
        pool.close()
    sequential = [verify_archive(path, request) for path in reversed(archives)]
    assert [_comparable(v) for v in verdicts if v is not None] == sequential
    assert niceness == {min(19, os.getpriority(os.PRIO_PROCESS, 0) + GENTLE_NICENESS)}
