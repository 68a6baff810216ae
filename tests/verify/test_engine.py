"""The pipeline, phase by phase, in memory: each phase's refusal and what it names."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from intoto_pip.errors import MetadataError, RuleError, SignatureError, VerificationError
from intoto_pip.models.envelope import Envelope, Signature
from intoto_pip.store import link_filename
from intoto_pip.verify.engine import CheckedLayout, check_layout, verify_layout
from intoto_pip.verify.result import ArtifactRuleError
from tests.verify.builders import (
    NOW,
    FakeInspections,
    MemorySource,
    arts,
    inspection,
    key,
    later,
    layout,
    link,
    sign,
    step,
    verify,
)

SRC = arts(**{"foo.py": "v1"})
BUILT = arts(**{"foo.py": "v1", "foo.whl": "wheel"})


def simple_layout(**changes: object) -> dict[str, Any]:
    value = layout(
        [
            step("fetch", ["alice"], products=["CREATE foo.py", "DISALLOW *"], command=["git"]),
            step(
                "build",
                ["bob"],
                materials=["MATCH * WITH PRODUCTS FROM fetch", "DISALLOW *"],
                products=["CREATE foo.whl", "ALLOW foo.py", "DISALLOW *"],
            ),
        ],
        functionaries=["alice", "bob"],
    )
    value.update(changes)
    return value


def simple_links() -> MemorySource:
    source = MemorySource()
    source.add_link("alice", link("fetch", products=SRC, command=["git"]))
    source.add_link("bob", link("build", materials=SRC, products=BUILT))
    return source


def test_accepts_and_reports() -> None:
    result = verify(sign(simple_layout(), "owner"), simple_links())
    assert result.layout_signers == (key("owner").keyid,)
    assert [(s.name, s.signers, s.used) for s in result.steps] == [
        ("fetch", (key("alice").keyid,), key("alice").keyid),
        ("build", (key("bob").keyid,), key("bob").keyid),
    ]
    assert [(r.item, r.field, r.index, r.rule, r.passed) for r in result.rules][:3] == [
        ("fetch", "expected_products", 0, "CREATE foo.py", True),
        ("fetch", "expected_products", 1, "DISALLOW *", True),
        ("build", "expected_materials", 0, "MATCH * WITH PRODUCTS FROM fetch", True),
    ]
    assert result.summary.materials == {} and result.summary.products == BUILT
    data = result.to_dict()
    assert data["verified"] is True and data["steps"][1]["link_used"] == key("bob").keyid
    assert '"outcome": "passed"' in result.to_json()


# ---- layout signatures --------------------------------------------------------------------


def test_layout_key_without_signature_is_named() -> None:
    with pytest.raises(SignatureError) as caught:
        verify(sign(simple_layout(), "owner"), simple_links(), owners=["owner", "second"])
    assert str(caught.value) == f"layout: no valid signature by key {key('second').keyid}"


def test_every_layout_key_must_sign() -> None:
    envelope = sign(simple_layout(), "owner", "second")
    assert verify(envelope, simple_links(), owners=["owner", "second"]).layout_signers == (
        key("owner").keyid,
        key("second").keyid,
    )


def test_no_layout_key_is_refused() -> None:
    with pytest.raises(SignatureError, match="no key to verify it with"):
        verify(sign(simple_layout(), "owner"), simple_links(), owners=[])


def test_layout_field_added_after_signing_is_refused() -> None:
    envelope = sign(simple_layout(), "owner")
    tampered = Envelope(
        kind="metablock",
        payload={**envelope.payload, "readme": "changed"},
        signed_bytes=envelope.signed_bytes + b" ",
        signatures=envelope.signatures,
    )
    with pytest.raises(SignatureError):
        verify(tampered, simple_links())


def test_bogus_signature_listed_first_does_not_hide_good_one() -> None:
    envelope = sign(simple_layout(), "owner")
    bogus = Signature(keyid=key("owner").keyid, sig=b"\x00" * 64)
    reordered = Envelope(
        kind="metablock",
        payload=envelope.payload,
        signed_bytes=envelope.signed_bytes,
        signatures=(bogus, *envelope.signatures),
    )
    assert verify(reordered, simple_links()).layout_signers == (key("owner").keyid,)


def test_malformed_layout_payload_is_metadata_error() -> None:
    with pytest.raises(MetadataError, match=r"layout\.steps\[0\]\.threshold"):
        bad = simple_layout()
        bad["steps"][0]["threshold"] = 0
        verify(sign(bad, "owner"), simple_links())


# ---- expiry ---------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(seconds=1)])
def test_expired_layout_is_refused(offset: timedelta) -> None:
    expires = (NOW - offset).strftime("%Y-%m-%dT%H:%M:%SZ")
    with pytest.raises(VerificationError, match="layout expired at"):
        verify(sign(simple_layout(expires=expires), "owner"), simple_links())


def test_layout_valid_one_second_before_expiry() -> None:
    expires = (NOW + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    verify(sign(simple_layout(expires=expires), "owner"), simple_links())


# ---- parameter substitution -------------------------------------------------------------------


def test_parameters_substituted_only_when_given() -> None:
    value = layout(
        [step("fetch", ["alice"], products=["CREATE {FILE}", "DISALLOW *"])],
        functionaries=["alice"],
    )
    source = MemorySource().add_link("alice", link("fetch", products=arts(**{"foo.py": "x"})))
    verify(sign(value, "owner"), source, params={"FILE": "foo.py"})
    with pytest.raises(ArtifactRuleError, match=r"'DISALLOW \*' disallowed products: 'foo\.py'"):
        verify(sign(value, "owner"), source)  # no params: '{FILE}' stays a literal name
    with pytest.raises(VerificationError, match=r"no value for parameter \{FILE\}"):
        verify(sign(value, "owner"), source, params={})


# ---- links: presence, signatures, names ---------------------------------------------------


def test_missing_link_names_the_file() -> None:
    source = simple_links()
    del source.files[link_filename("build", key("bob").keyid)]
    with pytest.raises(SignatureError) as caught:
        verify(sign(simple_layout(), "owner"), source)
    assert str(caught.value) == (
        "step 'build' needs 1 link(s) signed by distinct authorised keys, found 0 "
        f"(missing: '{link_filename('build', key('bob').keyid)}')"
    )


def test_link_signed_by_unauthorised_key_is_dropped_and_named() -> None:
    source = simple_links()
    source.add("build", "bob", sign(link("build", materials=SRC, products=BUILT), "mallory"))
    with pytest.raises(SignatureError) as caught:
        verify(sign(simple_layout(), "owner"), source)
    assert f"no valid signature by key {key('bob').keyid}" in str(caught.value)
    assert "found 0" in str(caught.value)


def test_link_name_must_equal_step() -> None:
    source = simple_links()
    source.add("build", "bob", sign(link("fetch", materials=SRC, products=BUILT), "bob"))
    with pytest.raises(MetadataError, match="signed link name 'fetch' is not step 'build'"):
        verify(sign(simple_layout(), "owner"), source)


def test_malformed_link_is_refused_even_if_unsigned() -> None:
    source = simple_links()
    bad = link("build", materials=SRC, products=BUILT)
    bad["materials"] = {"a/../foo.py": bad["products"]["foo.py"], "foo.py": SRC["foo.py"]}
    source.add("build", "bob", sign(bad, "mallory"))
    with pytest.raises(MetadataError, match=r"both normalise to 'foo\.py'"):
        verify(sign(simple_layout(), "owner"), source)


def test_artifact_names_are_normalised_before_rules() -> None:
    source = simple_links()
    odd = {"./foo.py": SRC["foo.py"]}
    source.add_link("bob", link("build", materials=odd, products=BUILT))
    verify(sign(simple_layout(), "owner"), source)


def test_payload_neither_link_nor_layout_is_refused() -> None:
    source = simple_links()
    source.add("build", "bob", sign({"_type": "other", "name": "build"}, "bob"))
    with pytest.raises(MetadataError, match="expected 'link' or 'layout'"):
        verify(sign(simple_layout(), "owner"), source)


# ---- thresholds -------------------------------------------------------------------------------


def threshold_layout(
    signers: list[str], threshold: int, extra_keys: dict[str, Any] | None = None
) -> dict[str, Any]:
    value = layout(
        [step("build", signers, threshold=threshold, products=["CREATE *", "DISALLOW *"])],
        functionaries=sorted(set(signers)),
    )
    value["keys"].update(extra_keys or {})
    return value


def test_threshold_met() -> None:
    source = MemorySource()
    for who in ("alice", "bob", "carol"):
        source.add_link(who, link("build", products=BUILT))
    result = verify(sign(threshold_layout(["alice", "bob", "carol"], 2), "owner"), source)
    assert result.steps[0].signers == tuple(key(w).keyid for w in ("alice", "bob", "carol"))


def test_threshold_short() -> None:
    source = MemorySource().add_link("bob", link("build", products=BUILT))
    source.add("build", "alice", sign(link("build", products=BUILT), "carol"))
    with pytest.raises(SignatureError) as caught:
        verify(sign(threshold_layout(["alice", "bob", "carol"], 2), "owner"), source)
    message = str(caught.value)
    assert "step 'build' needs 2 link(s) signed by distinct authorised keys, found 1" in message
    assert f"no valid signature by key {key('alice').keyid}" in message
    assert f"missing: '{link_filename('build', key('carol').keyid)}'" in message


def test_threshold_links_must_agree() -> None:
    source = MemorySource().add_link("alice", link("build", products=BUILT))
    source.add_link("bob", link("build", products={**BUILT, "extra": SRC["foo.py"]}))
    with pytest.raises(RuleError) as caught:
        verify(sign(threshold_layout(["alice", "bob"], 2), "owner"), source)
    assert str(caught.value) == (
        f"step 'build': links {link_filename('build', key('alice').keyid)} and "
        f"{link_filename('build', key('bob').keyid)} report different products: 'extra'"
    )


def test_threshold_one_ignores_disagreement_and_uses_first_in_pubkeys_order() -> None:
    source = MemorySource().add_link("alice", link("build", products=BUILT))
    source.add_link("bob", link("build", products=SRC))
    result = verify(sign(threshold_layout(["bob", "alice"], 1), "owner"), source)
    assert result.steps[0].used == key("bob").keyid
    assert result.summary.products == SRC


def test_same_key_under_two_keyids_counts_once() -> None:
    # Regression: the reference counts keyids, so one key listed twice (here under its
    # legacy keyid as well) would pass a threshold of 2 on its own.
    alice = key("alice")
    legacy = {alice.legacy_keyid: alice.to_keydict()}
    value = threshold_layout(["alice", "bob"], 2, extra_keys=legacy)
    value["steps"][0]["pubkeys"].insert(1, alice.legacy_keyid)
    payload = link("build", products=BUILT)
    source = MemorySource().add_link("alice", payload)
    source.files[link_filename("build", alice.legacy_keyid)] = sign(payload, "alice")
    with pytest.raises(SignatureError, match=r"needs 2 link.*found 1"):
        verify(sign(value, "owner"), source)
    source.add_link("bob", payload)
    assert len(verify(sign(value, "owner"), source).steps[0].signers) == 3


# ---- DSSE and classic mixed -------------------------------------------------------------------


@pytest.mark.parametrize("layout_dsse", [False, True])
def test_dsse_and_classic_mixed(layout_dsse: bool) -> None:
    source = MemorySource()
    source.add_link("alice", link("fetch", products=SRC, command=["git"]), dsse=not layout_dsse)
    source.add_link("bob", link("build", materials=SRC, products=BUILT), dsse=layout_dsse)
    verify(sign(simple_layout(), "owner", dsse=layout_dsse), source)


# ---- command alignment --------------------------------------------------------------------


def test_command_mismatch_is_only_a_warning() -> None:
    source = simple_links()
    source.add_link("alice", link("fetch", products=SRC, command=["curl", "x"]))
    result = verify(sign(simple_layout(), "owner"), source)
    assert result.warnings == (
        f"step 'fetch': {link_filename('fetch', key('alice').keyid)} ran ['curl', 'x'], "
        "the layout expects ['git']",
    )


# ---- step rules ---------------------------------------------------------------------------


def test_step_rule_failure_names_step_rule_and_artifacts() -> None:
    source = simple_links()
    evil = {**BUILT, **arts(**{"evil.py": "x"})}
    source.add_link("bob", link("build", materials=SRC, products=evil))
    with pytest.raises(ArtifactRuleError) as caught:
        verify(sign(simple_layout(), "owner"), source)
    assert str(caught.value) == (
        "step 'build': expected_products[2] 'DISALLOW *' disallowed products: 'evil.py'"
    )


def test_step_match_detects_changed_material() -> None:
    source = simple_links()
    source.add_link("bob", link("build", materials=arts(**{"foo.py": "v2"}), products=BUILT))
    with pytest.raises(
        ArtifactRuleError, match=r"expected_materials\[1\] 'DISALLOW \*'.*'foo\.py'"
    ):
        verify(sign(simple_layout(), "owner"), source)


# ---- inspections ----------------------------------------------------------------------------


def inspected_layout(*rules_: str, run: tuple[str, ...] = ("unpack",)) -> dict[str, Any]:
    return simple_layout(
        inspect=[
            inspection("unpack", list(run), materials=list(rules_)),
            inspection(
                "check",
                ["check"],
                materials=["MATCH * WITH PRODUCTS FROM unpack", "DISALLOW *"],
            ),
        ]
    )


def fake(code: int = 0, materials: dict[str, dict[str, str]] | None = None) -> FakeInspections:
    found = materials if materials is not None else BUILT
    return FakeInspections({"unpack": (found, found, code), "check": (found, found, 0)})


def test_inspections_run_in_order_and_match_each_other() -> None:
    runner = fake()
    value = inspected_layout("MATCH * WITH PRODUCTS FROM build", "DISALLOW *")
    result = verify(sign(value, "owner"), simple_links(), inspections=runner)
    assert [name for name, _ in runner.ran] == ["unpack", "check"]
    assert [(i.name, i.materials) for i in result.inspections] == [("unpack", 2), ("check", 2)]


def test_inspection_rule_failure() -> None:
    tampered = {**BUILT, **arts(**{"foo.whl": "other"})}
    value = inspected_layout("MATCH * WITH PRODUCTS FROM build", "DISALLOW *")
    with pytest.raises(ArtifactRuleError) as caught:
        verify(sign(value, "owner"), simple_links(), inspections=fake(materials=tampered))
    assert str(caught.value) == (
        "inspection 'unpack': expected_materials[1] 'DISALLOW *' disallowed materials: 'foo.whl'"
    )


def test_inspection_non_zero_exit_is_refused() -> None:
    value = inspected_layout("ALLOW *")
    with pytest.raises(RuleError, match="inspection 'unpack': command 'unpack' exited with 3"):
        verify(sign(value, "owner"), simple_links(), inspections=fake(code=3))


def test_inspection_run_gets_parameters() -> None:
    runner = fake()
    value = inspected_layout("ALLOW *", run=("unpack", "{ARCHIVE}"))
    verify(sign(value, "owner"), simple_links(), inspections=runner, params={"ARCHIVE": "a.whl"})
    assert runner.ran[0] == ("unpack", ("unpack", "a.whl"))


def test_step_rules_run_before_inspections() -> None:
    runner = fake()
    source = simple_links()
    source.add_link("bob", link("build", materials=SRC, products={**BUILT, **arts(x="1")}))
    with pytest.raises(ArtifactRuleError):
        verify(sign(inspected_layout("ALLOW *"), "owner"), source, inspections=runner)
    assert runner.ran == []


def test_step_rules_cannot_match_inspections() -> None:
    value = inspected_layout("ALLOW *")
    value["steps"][1]["expected_products"] = [
        ["MATCH", "*", "WITH", "PRODUCTS", "FROM", "unpack"],
        ["DISALLOW", "*"],
    ]
    with pytest.raises(ArtifactRuleError, match="'DISALLOW \\*' disallowed products"):
        verify(sign(value, "owner"), simple_links(), inspections=fake())


def test_layout_with_inspections_needs_a_runner() -> None:
    with pytest.raises(VerificationError, match="no way to run them"):
        verify(sign(inspected_layout("ALLOW *"), "owner"), simple_links())


def test_now_without_timezone_is_utc() -> None:
    verify(
        sign(simple_layout(expires=later(1)), "owner"), simple_links(), now=NOW.replace(tzinfo=None)
    )


def test_layout_signature_that_is_not_a_signature_is_named() -> None:
    envelope = sign(simple_layout(), "owner")
    unreadable = Signature(
        keyid=key("owner").keyid, sig=b"", problem="signatures[0].sig: not hex", original={}
    )
    broken = Envelope(
        kind="metablock",
        payload=envelope.payload,
        signed_bytes=envelope.signed_bytes,
        signatures=(unreadable,),
    )
    with pytest.raises(SignatureError) as caught:
        verify(broken, simple_links())
    assert str(caught.value) == (
        f"layout: no valid signature by key {key('owner').keyid}; signatures[0].sig: not hex"
    )


def test_a_pubkey_missing_from_keys_is_only_a_warning() -> None:
    value = simple_layout()
    value["steps"][1]["pubkeys"].insert(0, "00" * 32)
    result = verify(sign(value, "owner"), simple_links())
    assert result.steps[1].signers == (key("bob").keyid,)
    assert result.warnings == (
        f"step 'build': pubkeys names keyid {'00' * 32!r}, which is not in the layout's keys "
        "(ignored: it can never sign)",
    )


# --- a layout checked once for many supply chains -----------------------------------------


def _verify_checked(envelope: Envelope, checked: CheckedLayout) -> Any:
    return verify_layout(
        envelope,
        layout_keys=[key("owner")],
        links=simple_links(),
        params=None,
        run_inspection=None,
        now=NOW,
        checked=checked,
    )


def test_a_checked_layout_stands_for_its_own_envelope() -> None:
    envelope = sign(simple_layout(), "owner")
    checked = check_layout(envelope, layout_keys=[key("owner")], now=NOW)
    assert checked.signers == (key("owner"),)
    assert _verify_checked(envelope, checked).layout_signers == (key("owner").keyid,)


def test_a_checked_layout_does_not_stand_for_another_envelope() -> None:
    checked = check_layout(sign(simple_layout(), "owner"), layout_keys=[key("owner")], now=NOW)
    forged = sign(simple_layout(), "mallory")
    with pytest.raises(SignatureError, match="no valid signature"):
        _verify_checked(forged, checked)


def test_a_checked_layout_holds_only_for_the_keys_it_was_checked_with() -> None:
    envelope = sign(simple_layout(), "owner")
    checked = check_layout(envelope, layout_keys=[key("owner")], now=NOW)
    assert checked.serves(envelope, [key("owner")], NOW)
    assert checked.serves(envelope, [key("owner")], NOW + timedelta(days=1))  # time-free
    assert not checked.serves(envelope, [key("owner"), key("alice")], NOW)
    assert not checked.serves(sign(simple_layout(), "owner"), [key("owner")], NOW)


def test_a_checked_layout_is_still_judged_for_expiry() -> None:
    envelope = sign(simple_layout(expires="2030-06-01T00:00:00Z"), "owner")
    checked = check_layout(envelope, layout_keys=[key("owner")], now=NOW)
    with pytest.raises(VerificationError, match="expired"):
        verify_layout(
            envelope,
            layout_keys=[key("owner")],
            links=simple_links(),
            params=None,
            run_inspection=None,
            now=NOW + timedelta(days=365),
            checked=checked,
        )


def test_checking_a_layout_refuses_a_bad_signature() -> None:
    with pytest.raises(SignatureError, match="no valid signature"):
        check_layout(sign(simple_layout(), "mallory"), layout_keys=[key("owner")], now=NOW)
