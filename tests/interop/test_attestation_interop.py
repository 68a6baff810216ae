"""``run``/``record --attestation`` write in-toto attestations other readers accept.

- The attestation framework's own reader (``in-toto-attestation``, the Python bindings of
  the same protobuf definitions in-toto-golang's attestation package is generated from)
  parses the payload strictly (unknown fields refused) as a Statement v1, validates it, and
  parses the predicate as its link predicate message.
- The reference in-toto 3.1.0 reads the DSSE envelope and verifies its signature with the
  functionary's key, but its ``in-toto-verify`` reads only ``link`` and ``layout`` payloads:
  a chain of attestations is refused there, while the same chain as DSSE links passes. That
  difference is asserted, so a reference that learns Statements is noticed.
- in-toto-golang's verifier (``loadPayload``) likewise reads only ``link`` and ``layout``.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from in_toto.models._signer import load_public_key_from_file
from in_toto.models.metadata import Metadata
from in_toto_attestation.predicates.link.v0 import link_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement

from intoto_pip.cli.main import main
from intoto_pip.crypto.keys import load_public_key
from intoto_pip.models.statement import LINK_PREDICATE_TYPE, STATEMENT_TYPE
from tests.interop.conftest import ReferenceCLI
from tests.interop.test_producer_interop import LAYOUT_TOML
from tests.produce._keys import write_key


def make_chain(work: Path, *, attestation: bool) -> None:
    """The interop chain (run 'create', record 'review'), links or attestations."""
    write_key(work, "owner")
    write_key(work, "functionary", variant=1)
    (work / "layout.toml").write_text(LAYOUT_TOML.replace("{python}", sys.executable))
    assert main(["layout", "create", "layout.toml", "-o", "root.layout", "-k", "owner"]) == 0
    form = ["--attestation"] if attestation else ["--use-dsse"]
    key = ["--signing-key", "functionary"]
    script = "open('out.txt', 'w').write('made')"
    assert main(["run", "-n", "create", *key, "-p", "out.txt", *form,
                 "--", sys.executable, "-c", script]) == 0  # fmt: skip
    assert main(["record", "start", "-n", "review", *key, "-m", "out.txt", *form]) == 0
    assert main(["record", "stop", "-n", "review", *key, "-p", "out.txt", *form]) == 0


def _payload(path: Path) -> dict[str, Any]:
    envelope = json.loads(path.read_text())
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    payload: dict[str, Any] = json.loads(base64.b64decode(envelope["payload"]))
    return payload


@pytest.fixture
def chain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    make_chain(tmp_path, attestation=True)
    return tmp_path


def test_files_are_named_as_links_and_hold_statements(chain: Path) -> None:
    keyid = load_public_key(chain / "functionary.pub").keyid
    for step in ("create", "review"):
        payload = _payload(chain / f"{step}.{keyid[:8]}.link")
        assert payload["_type"] == STATEMENT_TYPE
        assert payload["predicateType"] == LINK_PREDICATE_TYPE
        assert payload["predicate"]["name"] == step
        assert [item["name"] for item in payload["subject"]] == ["out.txt"]
    assert _payload(chain / f"review.{keyid[:8]}.link")["predicate"]["materials"][0]["name"] == (
        "out.txt"
    )
    assert not list(chain.glob(".*link-unfinished"))


def test_intoto_pip_verifies_the_chain_of_attestations(chain: Path) -> None:
    assert main(["verify", "--layout", "root.layout", "--layout-key", "owner.pub"]) == 0


def test_the_attestation_frameworks_reader_accepts_them(chain: Path) -> None:
    for path in sorted(chain.glob("*.link")):
        message = statement_pb2.Statement()
        json_format.Parse(json.dumps(_payload(path)), message)  # unknown fields: refused
        Statement.copy_from_pb(message).validate()
        predicate = link_pb2.Link()
        json_format.ParseDict(json_format.MessageToDict(message.predicate), predicate)
        assert predicate.name == path.name.split(".")[0]


def test_the_reference_verifies_the_envelope_signature(chain: Path) -> None:
    key = load_public_key_from_file(str(chain / "functionary.pub"))
    for path in sorted(chain.glob("*.link")):
        metadata = Metadata.load(str(path))
        metadata.verify_signature(key)


@pytest.mark.parametrize("attestation", [False, True], ids=["dsse-links", "attestations"])
def test_reference_verify_reads_dsse_links_but_not_statements(
    reference_cli: ReferenceCLI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    attestation: bool,
) -> None:
    monkeypatch.chdir(tmp_path)
    make_chain(tmp_path, attestation=attestation)
    done = reference_cli.run(
        "in-toto-verify", "-l", "root.layout", "--verification-keys", "owner.pub", cwd=tmp_path
    )
    # A documented difference (docs/migration.md): the reference 3.1.0 reads no Statements.
    assert done.returncode == (1 if attestation else 0), done.stderr + done.stdout
    assert main(["verify", "--layout", "root.layout", "--layout-key", "owner.pub"]) == 0


def test_run_attestation_needs_products(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_key(tmp_path, "functionary")
    args = ["run", "-n", "x", "--signing-key", "functionary", "--attestation", "-x"]
    assert main(args) == 2
    assert not list(tmp_path.glob("*.link"))
