"""Re-verifying installed evidence: signatures with today's keys, no inspections run."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from intoto_pip.archives.evidence import ArchiveMetadata
from intoto_pip.errors import SignatureError, VerificationError
from intoto_pip.models.layout import Inspection
from intoto_pip.verify.installed import EvidenceCheck, LayoutChecks, reverify_evidence
from intoto_pip.verify.policy import Trust
from tests.support.signing import Project, layout_payload, make_key

PRODUCT = {"demo/__init__.py": b"X = 1\n"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return Project(tmp_path_factory.mktemp("keys"))


def _metadata(project: Project, **layout_options: object) -> ArchiveMetadata:
    layout = layout_payload(project.functionary.public, **layout_options)  # type: ignore[arg-type]
    files = project.metadata_files(PRODUCT, layout=layout)
    return ArchiveMetadata(
        mode="embedded",
        layout=files.pop("root.layout"),
        layout_origin="installed/in-toto/root.layout",
        files=files,
        label="installed/in-toto/",
    )


def _check(trust: Trust, now: datetime | None = None) -> EvidenceCheck:
    return EvidenceCheck(
        trust=trust,
        raw_name="demo",
        version="1.0",
        archive="demo-1.0-py3-none-any.whl",
        now=now or datetime.now(UTC),
    )


def test_the_final_product_is_the_last_steps_products(project: Project) -> None:
    verdict = reverify_evidence(
        _metadata(project), _check(Trust(layout_keys=(project.owner.public,)))
    )
    assert verdict.layout_signers == (project.owner.public.keyid,)
    assert verdict.last_step == "build"
    assert set(verdict.final_product) == {"demo/__init__.py"}


def test_inspections_are_named_but_not_run(project: Project) -> None:
    never = Inspection(name="unpack", run=("false",))
    metadata = _metadata(project, inspections=[never])
    verdict = reverify_evidence(metadata, _check(Trust(layout_keys=(project.owner.public,))))
    assert verdict.inspections_skipped == ("unpack",)


def test_a_key_not_pinned_now_is_refused(project: Project, tmp_path: Path) -> None:
    other = make_key(tmp_path, "other")
    with pytest.raises(SignatureError):
        reverify_evidence(_metadata(project), _check(Trust(layout_keys=(other.public,))))


def test_expiry_is_judged_at_the_time_given(project: Project) -> None:
    expires = datetime.now(UTC) + timedelta(days=1)
    metadata = _metadata(project, expires=expires)
    trust = Trust(layout_keys=(project.owner.public,))
    reverify_evidence(metadata, _check(trust, now=expires - timedelta(hours=1)))
    with pytest.raises(VerificationError, match="expired"):
        reverify_evidence(metadata, _check(trust, now=expires + timedelta(hours=1)))


def _count_layout_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    from intoto_pip.verify import engine, installed

    calls: list[int] = []
    real = engine.check_layout

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(installed, "check_layout", counting)
    return calls


def test_a_layout_many_distributions_share_is_checked_once(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_layout_checks(monkeypatch)
    layouts = LayoutChecks()
    trust = Trust(layout_keys=(project.owner.public,))
    metadata = _metadata(project)
    first = reverify_evidence(metadata, _check(trust), layouts)
    second = reverify_evidence(metadata, _check(trust), layouts)
    assert len(calls) == 1
    assert first.final_product == second.final_product
    assert second.layout_signers == (project.owner.public.keyid,)


def test_a_checked_layout_does_not_vouch_for_a_tampered_one(project: Project) -> None:
    layouts = LayoutChecks()
    trust = Trust(layout_keys=(project.owner.public,))
    good = _metadata(project)
    reverify_evidence(good, _check(trust), layouts)
    document = json.loads(good.layout)
    document["signed"]["steps"][0]["expected_products"] = [["ALLOW", "*"]]
    tampered = replace(good, layout=json.dumps(document).encode())
    with pytest.raises(SignatureError, match="no valid signature"):
        reverify_evidence(tampered, _check(trust), layouts)
    reverify_evidence(good, _check(trust), layouts)  # the good one still verifies


def test_a_shared_layout_checked_with_other_keys_is_checked_again(
    project: Project, tmp_path: Path
) -> None:
    layouts = LayoutChecks()
    metadata = _metadata(project)
    reverify_evidence(metadata, _check(Trust(layout_keys=(project.owner.public,))), layouts)
    other = make_key(tmp_path, "other")
    with pytest.raises(SignatureError):
        reverify_evidence(metadata, _check(Trust(layout_keys=(other.public,))), layouts)


def test_a_shared_layout_is_still_judged_for_expiry_at_each_time(project: Project) -> None:
    expires = datetime.now(UTC) + timedelta(days=1)
    metadata = _metadata(project, expires=expires)
    layouts = LayoutChecks()
    trust = Trust(layout_keys=(project.owner.public,))
    reverify_evidence(metadata, _check(trust, now=expires - timedelta(hours=1)), layouts)
    with pytest.raises(VerificationError, match="expired"):
        reverify_evidence(metadata, _check(trust, now=expires + timedelta(hours=1)), layouts)
