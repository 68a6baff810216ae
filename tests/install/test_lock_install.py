"""Installing a lock: a package whose lock names several publishers accepts any of them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from intoto_pip.install.candidates import Candidate
from intoto_pip.install.fetch import FetchedFile
from intoto_pip.install.lock_install import accept_alternatives
from intoto_pip.install.options import InstallOptions
from intoto_pip.install.requirements import WheelMeta
from intoto_pip.models.publisher import PublisherIdentity, parse_publisher_spec
from intoto_pip.verify.archive import ArchiveVerdict
from intoto_pip.verify.provenance_policy import Outcome, decide

FOUND = PublisherIdentity(kind="GitHub", repository="o/r", workflow="b.yml")


def _candidate(pin_spec: str) -> Candidate:
    pin = parse_publisher_spec(pin_spec, where="lock")
    verdict = decide("x", Outcome(identity=FOUND), mode="off", pin=pin, recorded=None)
    fetched = FetchedFile(path=Path("x.whl"), filename="x.whl", url="u", sha256="0", size=1)
    meta = WheelMeta(
        name="x", version="1", requires_dist=(), requires_python=None, tags=frozenset()
    )
    archive = ArchiveVerdict(
        path=fetched.path,
        filename="x.whl",
        name="x",
        version="1",
        verified=False,
        checked_whole=True,
    )
    return Candidate(
        fetched=fetched,
        meta=meta,
        requested=True,
        direct=False,
        verdict=archive,
        provenance=verdict,
    )


def test_another_identity_of_the_lock_accepts_the_publisher_found() -> None:
    refused = _candidate("github:o/r@a.yml")
    assert not refused.accepted
    pins = {
        "x": (parse_publisher_spec("github:o/r@a.yml"), parse_publisher_spec("github:o/r@b.yml"))
    }
    again = accept_alternatives(refused, pins, InstallOptions())
    assert again.accepted and again.publisher_verified


def test_an_identity_the_lock_does_not_name_stays_refused() -> None:
    refused = _candidate("github:o/r@a.yml")
    pins = {
        "x": (parse_publisher_spec("github:o/r@a.yml"), parse_publisher_spec("github:o/r@c.yml"))
    }
    assert not accept_alternatives(refused, pins, InstallOptions()).accepted
    assert not accept_alternatives(replace(refused), {}, InstallOptions()).accepted
