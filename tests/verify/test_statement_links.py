"""in-toto attestations (Statement v1, link predicate v0.3) as link evidence: accepted
wherever a link is (link folders, sublayouts, embedded in an archive), and a chain of them
gets the verdict the same chain of classic links gets, rule test by rule test."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from intoto_pip.errors import MetadataError, VerificationError
from intoto_pip.models.envelope import Envelope, dump_envelope, sign_payload
from intoto_pip.models.link import Link
from intoto_pip.models.statement import statement_from_link
from intoto_pip.store import link_filename
from intoto_pip.verify.archive import verify_archive
from intoto_pip.verify.folder import FolderOptions, verify_folder
from intoto_pip.verify.result import VerificationResult
from tests.support.signing import Project, sha256_artifacts
from tests.support.wheels import dist_info, wheel_filename, wheel_members, write_wheel
from tests.verify import test_rules
from tests.verify.builders import (
    NOW,
    MemorySource,
    arts,
    key,
    layout,
    link,
    sign,
    signer,
    step,
    verify,
    write_source,
)
from tests.verify.test_archive import _request

SRC = arts(**{"foo.py": "v1"})
BUILT = arts(**{"foo.py": "v1", "foo.whl": "wheel"})


def attestation(payload: Mapping[str, Any], who: str) -> Envelope:
    """``payload`` (a link's) as a signed in-toto Statement v1 in DSSE."""
    as_link = Link.from_dict(payload)
    return sign_payload(statement_from_link(as_link), [signer(who)], dsse=True)


def chain_layout() -> dict[str, Any]:
    return layout(
        [
            step("fetch", ["alice"], products=["CREATE foo.py", "DISALLOW *"]),
            step(
                "build",
                ["bob"],
                materials=["MATCH * WITH PRODUCTS FROM fetch", "DISALLOW *"],
                products=["CREATE foo.whl", "MATCH foo.py WITH PRODUCTS FROM fetch", "DISALLOW *"],
            ),
        ],
        functionaries=["alice", "bob"],
    )


def chain_links(*, attest: bool) -> MemorySource:
    source = MemorySource()
    for who, payload in (
        ("alice", link("fetch", products=SRC)),
        ("bob", link("build", materials=SRC, products=BUILT)),
    ):
        envelope = attestation(payload, who) if attest else sign(payload, who)
        source.add(str(payload["name"]), who, envelope)
    return source


def test_a_chain_of_attestations_verifies() -> None:
    result = verify(sign(chain_layout(), "owner"), chain_links(attest=True))
    assert [item.signers for item in result.steps] == [(key("alice").keyid,), (key("bob").keyid,)]
    assert result.summary.products == BUILT


def test_an_extra_subject_fails_the_rules_as_an_extra_product_would() -> None:
    source = chain_links(attest=True)
    extra = {**BUILT, **arts(**{"evil.py": "x"})}
    source.add("build", "bob", attestation(link("build", materials=SRC, products=extra), "bob"))
    with pytest.raises(VerificationError, match=r"disallowed products: 'evil\.py'"):
        verify(sign(chain_layout(), "owner"), source)


def test_a_statement_outside_dsse_is_refused() -> None:
    statement = statement_from_link(Link(name="fetch", products=SRC))
    source = chain_links(attest=True)
    source.add("fetch", "alice", sign(statement, "alice"))
    with pytest.raises(MetadataError, match=r"fetch\.[0-9a-f]{8}\.link: an in-toto Statement"):
        verify(sign(chain_layout(), "owner"), source)


def test_an_unknown_predicate_type_for_a_step_is_refused_with_its_location() -> None:
    statement = statement_from_link(Link(name="fetch", products=SRC))
    statement["predicateType"] = "https://slsa.dev/provenance/v1"
    source = chain_links(attest=True)
    source.add("fetch", "alice", sign_payload(statement, [signer("alice")], dsse=True))
    expected = f"{link_filename('fetch', key('alice').keyid)}.predicateType: "
    with pytest.raises(MetadataError, match=expected.replace(".", r"\.")):
        verify(sign(chain_layout(), "owner"), source)


def test_attestations_in_a_sublayout_and_on_disk(tmp_path: Path) -> None:
    root = layout(
        [step("build", ["alice"], products=["CREATE *", "DISALLOW *"])], functionaries=["alice"]
    )
    source = MemorySource()
    source.add("build", "alice", sign(chain_layout(), "alice"))
    inner = source.folder("build", "alice")
    inner.files.update(chain_links(attest=True).files)
    write_source(tmp_path, source)
    (tmp_path / "root.layout").write_bytes(dump_envelope(sign(root, "owner")))
    result = verify_folder(
        FolderOptions(
            layout_path=tmp_path / "root.layout",
            layout_keys=(key("owner"),),
            link_dir=tmp_path,
            now=NOW,
            workdir=tmp_path,
        )
    )
    assert result.summary.products == BUILT
    assert result.steps[0].sublayouts[0][1].steps[1].signers == (key("bob").keyid,)


def test_an_attestation_embedded_in_a_wheel(tmp_path: Path) -> None:
    project = Project(tmp_path / "keys")
    members = wheel_members("demo-pkg", "1.0", {"demo_pkg/__init__.py": b"VALUE = 1\n"})
    info = dist_info("demo-pkg", "1.0")
    files = project.metadata_files(members)
    built = Link(name="build", products=sha256_artifacts(members))
    statement = statement_from_link(built)
    name = link_filename("build", project.functionary.public.keyid)
    files[name] = dump_envelope(sign_payload(statement, [project.functionary.signer], dsse=True))
    for rel, data in files.items():
        members[f"{info}/in-toto/{rel}"] = data
    wheel = write_wheel(tmp_path / wheel_filename("demo-pkg", "1.0"), members, f"{info}/RECORD")
    verdict = verify_archive(wheel, _request(project))
    assert verdict.verified, verdict.reason


# ---- the same verdict as classic links, on every rule test ---------------------------------


def _rule_chain(field: str, texts: list[str]) -> tuple[dict[str, Any], list[tuple[str, Link]]]:
    """test_rules' step under test, after its 'fetch' and 'build', as a signed chain."""
    steps = [step(name, [name]) for name in test_rules.OTHERS]
    words = {f"{field}": texts}
    steps.append(
        step(
            "step",
            ["step"],
            materials=words.get("materials", ()),
            products=words.get("products", ()),
        )
    )
    who = [*test_rules.OTHERS, "step"]
    subject = Link(name="step", materials=test_rules.MATERIALS, products=test_rules.PRODUCTS)
    links = [(name, item) for name, item in test_rules.OTHERS.items()] + [("step", subject)]
    return layout(steps, functionaries=who), links


def _verdict(layout_value: dict[str, Any], links: list[tuple[str, Link]], attest: bool) -> Any:
    source = MemorySource()
    for who, item in links:
        payload = item.to_dict()
        source.add(item.name, who, attestation(payload, who) if attest else sign(payload, who))
    try:
        result: VerificationResult = verify(sign(layout_value, "owner"), source)
    except VerificationError as exc:
        return type(exc), str(exc)
    return [outcome.to_dict() for outcome in result.rules]


RULE_CASES = [(f, t) for f, t, _ in test_rules.PASSING] + [(f, t) for f, t, _ in test_rules.FAILING]


@pytest.mark.parametrize(("field", "texts"), RULE_CASES)
def test_attestations_and_classic_links_get_the_same_verdict(field: str, texts: list[str]) -> None:
    layout_value, links = _rule_chain(field, texts)
    classic = _verdict(layout_value, links, attest=False)
    assert _verdict(layout_value, links, attest=True) == classic
    # Never vacuous: the verdict is the one the rule table states.
    failing = [t for f, t, _ in test_rules.FAILING if (f, t) == (field, texts)]
    assert isinstance(classic, tuple) == bool(failing)
