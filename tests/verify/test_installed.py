"""Re-verifying installed evidence: signatures with today's keys, no inspections run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from intoto_pip.archives.evidence import ArchiveMetadata
from intoto_pip.errors import SignatureError, VerificationError
from intoto_pip.models.layout import Inspection
from intoto_pip.verify.installed import EvidenceCheck, reverify_evidence
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
