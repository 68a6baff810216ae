"""sign_file / verify_file: replace or append signatures, keep the envelope format."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from intoto_pip.crypto.keys import Signer
from intoto_pip.errors import InputError, SignatureError
from intoto_pip.models.envelope import dump_envelope, parse_envelope, sign_payload
from intoto_pip.models.layout import Layout, Step, format_expires
from intoto_pip.produce.common import link_payload
from intoto_pip.produce.sign import one_month_after, sign_file, verify_file
from tests.produce._keys import write_key


@pytest.fixture
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Signer]:
    monkeypatch.chdir(tmp_path)
    return {
        "alice": write_key(tmp_path, "alice").signer(),
        "bob": write_key(tmp_path, "bob", "ecdsa").signer(),
    }


def write_layout(path: Path, functionary: Signer, signers: list[Signer], dsse: bool) -> None:
    key = functionary.public_key
    layout = Layout(
        steps=(Step(name="build", pubkeys=(key.keyid,)),),
        keys={key.keyid: key},
        expires=datetime.now(UTC) + timedelta(days=1),
    )
    path.write_bytes(dump_envelope(sign_payload(layout.to_dict(), signers, dsse=dsse)))


def keyids(path: Path) -> list[str]:
    return [sig.keyid for sig in parse_envelope(path.read_bytes(), what="x").signatures]


@pytest.mark.parametrize("dsse", [False, True])
def test_layout_signatures_replaced_or_appended(keys: dict[str, Signer], dsse: bool) -> None:
    alice, bob = keys["alice"], keys["bob"]
    layout = Path("root.layout")
    write_layout(layout, alice, [alice], dsse)
    assert sign_file(layout, [bob]).path == layout
    assert keyids(layout) == [bob.public_key.keyid]
    sign_file(layout, [alice], append=True)
    assert keyids(layout) == [bob.public_key.keyid, alice.public_key.keyid]
    assert parse_envelope(layout.read_bytes(), what="x").kind == ("dsse" if dsse else "metablock")
    verify_file(layout, [alice.public_key, bob.public_key])


@pytest.mark.parametrize("dsse", [False, True])
def test_unsigned_link_gets_its_default_name(keys: dict[str, Signer], dsse: bool) -> None:
    payload = link_payload("pkg", materials={}, products={}, byproducts={})
    Path("pkg.link").write_bytes(dump_envelope(sign_payload(payload, [], dsse=dsse)))
    out = sign_file(Path("pkg.link"), [keys["alice"]]).path
    assert out == Path(f"pkg.{keys['alice'].public_key.keyid[:8]}.link")
    verify_file(out, [keys["alice"].public_key])


def test_output_path(keys: dict[str, Signer]) -> None:
    layout = Path("in.layout")
    write_layout(layout, keys["alice"], [], False)
    assert sign_file(layout, [keys["bob"]], output=Path("out.layout")).path == Path("out.layout")
    assert keyids(layout) == [] and keyids(Path("out.layout")) == [keys["bob"].public_key.keyid]


def test_links_take_one_key_and_no_append(keys: dict[str, Signer]) -> None:
    payload = link_payload("pkg", materials={}, products={}, byproducts={})
    Path("pkg.link").write_bytes(dump_envelope(sign_payload(payload, [], dsse=False)))
    with pytest.raises(InputError, match="exactly one key"):
        sign_file(Path("pkg.link"), [keys["alice"], keys["bob"]])
    with pytest.raises(InputError, match="exactly one key"):
        sign_file(Path("pkg.link"), [keys["alice"]], append=True)


def test_verify_names_the_missing_key(keys: dict[str, Signer]) -> None:
    layout = Path("root.layout")
    write_layout(layout, keys["alice"], [keys["alice"]], False)
    with pytest.raises(SignatureError, match=keys["bob"].public_key.keyid[:8]):
        verify_file(layout, [keys["alice"].public_key, keys["bob"].public_key])


def test_tampered_payload_fails_verification(keys: dict[str, Signer]) -> None:
    layout = Path("root.layout")
    write_layout(layout, keys["alice"], [keys["alice"]], False)
    document = json.loads(layout.read_bytes())
    document["signed"]["readme"] = "changed"
    layout.write_text(json.dumps(document))
    with pytest.raises(SignatureError):
        verify_file(layout, [keys["alice"].public_key])


def test_malformed_payload_is_not_signed(keys: dict[str, Signer]) -> None:
    payload = {"_type": "link", "name": "a/b", "materials": {}, "products": {}}
    Path("bad.link").write_bytes(dump_envelope(sign_payload(payload, [], dsse=False)))
    with pytest.raises(InputError):
        sign_file(Path("bad.link"), [keys["alice"]])
    payload = {"_type": "other"}
    Path("odd").write_bytes(dump_envelope(sign_payload(payload, [], dsse=False)))
    with pytest.raises(InputError, match="_type must be"):
        sign_file(Path("odd"), [keys["alice"]])


@pytest.mark.parametrize("dsse", [False, True])
def test_a_layout_without_expires_gets_one_month(keys: dict[str, Signer], dsse: bool) -> None:
    # As in-toto-sign (its Layout defaults expires to a month from now), with a warning.
    alice = keys["alice"]
    template = Path("template.layout")
    write_layout(template, alice, [], dsse)
    document = json.loads(template.read_bytes())
    if dsse:
        payload = json.loads(base64.b64decode(document["payload"]))
        del payload["expires"]
        template.write_bytes(dump_envelope(sign_payload(payload, [], dsse=True)))
    else:
        del document["signed"]["expires"]
        template.write_text(json.dumps(document))
    now = datetime(2027, 1, 31, 10, 20, 30, 999, tzinfo=UTC)
    outcome = sign_file(template, [alice], output=Path("root.layout"), now=now)
    assert outcome.warnings == (
        "template.layout: the layout has no 'expires'; set it to 2027-02-28T10:20:30Z "
        "(one month from now, as in-toto-sign does)",
    )
    envelope = parse_envelope(Path("root.layout").read_bytes(), what="x")
    assert envelope.payload["expires"] == "2027-02-28T10:20:30Z"
    verify_file(Path("root.layout"), [alice.public_key])


@pytest.mark.parametrize(
    ("now", "expires"),
    [
        (datetime(2027, 1, 15, tzinfo=UTC), "2027-02-15T00:00:00Z"),
        (datetime(2028, 1, 31, tzinfo=UTC), "2028-02-29T00:00:00Z"),
        (datetime(2027, 12, 31, 23, 59, 59, tzinfo=UTC), "2028-01-31T23:59:59Z"),
        (datetime(2027, 3, 31, tzinfo=UTC), "2027-04-30T00:00:00Z"),
    ],
)
def test_one_month_is_a_calendar_month(now: datetime, expires: str) -> None:
    assert format_expires(one_month_after(now)) == expires


@pytest.mark.parametrize(
    "content", [b"not json", b"{}", b"[]", b'{"signed": {}, "signatures": []}']
)
@pytest.mark.parametrize("verify", [False, True])
def test_a_file_that_is_not_metadata_is_a_usage_error(
    keys: dict[str, Signer], content: bytes, verify: bool
) -> None:
    # in-toto-sign exits 2 for whatever it cannot load; producer commands keep its codes.
    Path("x.link").write_bytes(content)
    with pytest.raises(InputError, match=r"^x\.link: "):
        if verify:
            verify_file(Path("x.link"), [keys["alice"].public_key])
        else:
            sign_file(Path("x.link"), [keys["alice"]])
