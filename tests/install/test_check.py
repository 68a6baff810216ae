"""``check_environment`` with a forked helper re-verifying a share of the evidence: the same
report as without it, and what is wrong in the helper's share is found just the same."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest

from intoto_pip.cli.main import main
from intoto_pip.crypto.keys import load_public_key
from intoto_pip.install import check, forked
from intoto_pip.install.check import CheckOptions, check_environment
from tests.support.signing import Project

NAMES = [f"share{n}" for n in range(6)]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Project]:
    root = tmp_path_factory.mktemp("shares")
    project = Project(root / "keys")
    wheels = [
        project.signed_wheel(root / "dist", name, "1.0", {f"{name}/__init__.py": b"X = 1\n"})
        for name in NAMES
    ]
    site = root / "site"
    key = str(project.owner.public_path)
    args = ["install", *map(str, wheels), "--no-deps", "--target", str(site), "--layout-key", key]
    assert main([*args, "-q"]) == 0
    return site, project


def _report(
    site: Path, project: Project, share_min: int, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    monkeypatch.setattr(check, "SHARE_MIN", share_min)
    options = CheckOptions(
        target_dir=site, layout_keys=(load_public_key(project.owner.public_path),)
    )
    return check_environment(options).to_dict()


def _status(report: dict[str, Any]) -> dict[str, str]:
    return {d["name"]: d["status"] for d in report["distributions"]}


def test_the_report_is_the_same_with_the_helper(
    installed: tuple[Path, Project], monkeypatch: pytest.MonkeyPatch
) -> None:
    site, project = installed
    alone = _report(site, project, 10_000, monkeypatch)
    answered: list[object] = []
    original = forked.Forked.result

    def result(helper: forked.Forked[object]) -> object:
        answered.append(original(helper))
        return answered[-1]

    monkeypatch.setattr(forked.Forked, "result", result)
    shared = _report(site, project, 1, monkeypatch)
    assert answered and answered[0] is not None, "the helper's answer was not used"
    assert shared == alone
    assert set(_status(alone).values()) == {"intact"}
    assert {d["evidence"]["status"] for d in alone["distributions"]} == {"verified"}


def test_a_change_in_the_helpers_share_is_found(
    installed: tuple[Path, Project], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last distribution is in the helper's share: a module changed there and hidden by
    a rewritten RECORD is still caught by the evidence the helper re-verified."""
    site, project = installed
    module = site / NAMES[-1] / "__init__.py"
    record = site / f"{NAMES[-1]}-1.0.dist-info" / "RECORD"
    saved = module.read_bytes(), record.read_bytes()
    try:
        module.write_bytes(b"import os\n")
        digest = base64.urlsafe_b64encode(hashlib.sha256(b"import os\n").digest()).rstrip(b"=")
        rows = [
            f"{NAMES[-1]}/__init__.py,sha256={digest.decode()},10"
            if row.startswith(f"{NAMES[-1]}/__init__.py,")
            else row
            for row in record.read_text().splitlines()
        ]
        record.write_text("\n".join(rows) + "\n")
        report = _report(site, project, 1, monkeypatch)
    finally:
        module.write_bytes(saved[0])
        record.write_bytes(saved[1])
    [dist] = [d for d in report["distributions"] if d["name"] == NAMES[-1]]
    assert dist["modified"] == [str(module)]
    assert _status(report)[NAMES[0]] == "intact"


def test_evidence_broken_in_the_helpers_share_is_refused(
    installed: tuple[Path, Project], monkeypatch: pytest.MonkeyPatch
) -> None:
    site, project = installed
    layout = site / f"{NAMES[-1]}-1.0.dist-info" / "in-toto" / "root.layout"
    saved = layout.read_bytes()
    try:
        # A year later: the signed content changes, the signature no longer matches it.
        layout.write_bytes(saved.replace(b'"expires": "20', b'"expires": "21', 1))
        report = _report(site, project, 1, monkeypatch)
    finally:
        layout.write_bytes(saved)
    [dist] = [d for d in report["distributions"] if d["name"] == NAMES[-1]]
    assert dist["evidence"]["status"] == "refused", dist
    assert dist["status"] != "intact"


def test_a_helper_that_fails_leaves_its_share_to_this_process(
    installed: tuple[Path, Project], monkeypatch: pytest.MonkeyPatch
) -> None:
    site, project = installed
    alone = _report(site, project, 10_000, monkeypatch)
    monkeypatch.setattr(forked.Forked, "result", lambda self: None)
    assert _report(site, project, 1, monkeypatch) == alone
