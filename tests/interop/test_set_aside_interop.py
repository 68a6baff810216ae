"""Links the reference sets aside ("invalid link ignored"), we set aside too: same verdicts.

(An entry of the wrong shape, such as one without ``sig``, fails the reference's schema
check and refuses the whole verification; it does here too, see tests/models/test_envelope.)

A step any of two functionaries may sign (threshold 1); both ran it; one link then gets a
malformed signature. The reference and intoto-pip both pass on the other link, and both
refuse once the step needs two.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from intoto_pip.cli.main import main
from intoto_pip.crypto.keys import load_public_key
from tests.interop.conftest import ReferenceCLI
from tests.produce._keys import write_key

LAYOUT_TOML = """\
expires = "7d"

[[steps]]
name = "create"
functionaries = ["alice.pub", "bob.pub"]
threshold = {threshold}
expected_products = ["CREATE out.txt", "DISALLOW *"]
"""

BROKEN = [
    pytest.param(lambda sig: {**sig, "sig": "not hex"}, id="sig-not-hex"),
    pytest.param(lambda sig: {**sig, "sig": ""}, id="sig-empty"),
    pytest.param(lambda sig: {**sig, "keyid": "not hex"}, id="keyid-not-hex"),
]


def _chain(work: Path, threshold: int, breaks: object) -> None:
    write_key(work, "owner")
    for variant, name in enumerate(("alice", "bob"), start=1):
        write_key(work, name, variant=variant)
    (work / "layout.toml").write_text(LAYOUT_TOML.format(threshold=threshold))
    assert main(["layout", "create", "layout.toml", "-o", "root.layout", "-k", "owner"]) == 0
    script = "open('out.txt', 'w').write('made')"
    for name in ("alice", "bob"):
        assert main(["run", "-n", "create", "--signing-key", name, "-p", "out.txt",
                     "--", sys.executable, "-c", script]) == 0  # fmt: skip
    bob = work / f"create.{load_public_key(work / 'bob.pub').keyid[:8]}.link"
    document = json.loads(bob.read_text())
    document["signatures"] = [breaks(sig) for sig in document["signatures"]]  # type: ignore[operator]
    bob.write_text(json.dumps(document))


@pytest.mark.parametrize("breaks", BROKEN)
@pytest.mark.parametrize(("threshold", "verdict"), [(1, 0), (2, 1)])
def test_both_set_a_link_with_a_malformed_signature_aside(
    reference_cli: ReferenceCLI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    breaks: object,
    threshold: int,
    verdict: int,
) -> None:
    monkeypatch.chdir(tmp_path)
    _chain(tmp_path, threshold, breaks)
    done = reference_cli.run(
        "in-toto-verify", "-l", "root.layout", "--verification-keys", "owner.pub", cwd=tmp_path
    )
    assert done.returncode == verdict, done.stderr + done.stdout
    capsys.readouterr()
    assert main(["verify", "--layout", "root.layout", "--layout-key", "owner.pub"]) == verdict
    if verdict:
        assert "no valid signature by key" in capsys.readouterr().err
