"""What our producer commands write, the reference in-toto 3.x verifies; and the reverse.

For each key type and envelope format: a layout made with ``layout create`` and links made
with ``run`` and ``record start|stop`` pass the reference ``in-toto-verify``; signatures made
by ``intoto-pip sign`` pass ``in-toto-sign --verify`` and those made by ``in-toto-sign``
pass ``intoto-pip sign --verify``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from intoto_pip.cli.main import main
from tests.interop.conftest import ReferenceCLI
from tests.produce._keys import KEY_TYPES, write_key

LAYOUT_TOML = """\
expires = "7d"

[[steps]]
name = "create"
functionaries = ["functionary.pub"]
expected_command = ["{python}", "-c", "open('out.txt', 'w').write('made')"]
expected_products = ["CREATE out.txt", "DISALLOW *"]

[[steps]]
name = "review"
functionaries = ["functionary.pub"]
expected_materials = ["MATCH out.txt WITH PRODUCTS FROM create", "DISALLOW *"]
expected_products = ["MATCH out.txt WITH PRODUCTS FROM create", "DISALLOW *"]
"""


def make_chain(work: Path, keytype: str, dsse: bool) -> None:
    """Layout (signed by 'owner'), then the two steps' links, all with our commands."""
    write_key(work, "owner", keytype)
    write_key(work, "functionary", keytype, variant=1)
    (work / "layout.toml").write_text(LAYOUT_TOML.replace("{python}", sys.executable))
    envelope = ["--use-dsse"] if dsse else []
    assert main(["layout", "create", "layout.toml", "-o", "root.layout", "-k", "owner",
                 *envelope]) == 0  # fmt: skip
    key = ["--signing-key", "functionary"]
    script = "open('out.txt', 'w').write('made')"
    assert main(["run", "-n", "create", *key, "-p", "out.txt", *envelope,
                 "--", sys.executable, "-c", script]) == 0  # fmt: skip
    assert main(["record", "start", "-n", "review", *key, "-m", "out.txt", *envelope]) == 0
    assert main(["record", "stop", "-n", "review", *key, "-p", "out.txt"]) == 0


@pytest.mark.parametrize("dsse", [False, True], ids=["metablock", "dsse"])
@pytest.mark.parametrize("keytype", KEY_TYPES)
def test_reference_verifies_our_chain(
    reference_cli: ReferenceCLI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    keytype: str,
    dsse: bool,
) -> None:
    monkeypatch.chdir(tmp_path)
    make_chain(tmp_path, keytype, dsse)
    done = reference_cli.run(
        "in-toto-verify", "-l", "root.layout", "--verification-keys", "owner.pub", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr + done.stdout


def test_reference_refuses_a_tampered_link(
    reference_cli: ReferenceCLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The control: the same check does fail when a link's contents change after signing.
    monkeypatch.chdir(tmp_path)
    make_chain(tmp_path, "ed25519", dsse=False)
    (link,) = tmp_path.glob("create.*.link")
    document = json.loads(link.read_text())
    document["signed"]["products"]["out.txt"]["sha256"] = "0" * 64
    link.write_text(json.dumps(document))
    done = reference_cli.run(
        "in-toto-verify", "-l", "root.layout", "--verification-keys", "owner.pub", cwd=tmp_path
    )
    assert done.returncode == 1, done.stderr + done.stdout


@pytest.mark.parametrize("dsse", [False, True], ids=["metablock", "dsse"])
@pytest.mark.parametrize("keytype", KEY_TYPES)
def test_sign_verify_both_ways(
    reference_cli: ReferenceCLI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    keytype: str,
    dsse: bool,
) -> None:
    monkeypatch.chdir(tmp_path)
    make_chain(tmp_path, keytype, dsse)
    write_key(tmp_path, "second", keytype, variant=2)
    # Ours signs (adding to the owner's signature), the reference verifies both.
    assert main(["sign", "-f", "root.layout", "-k", "second", "-a"]) == 0
    done = reference_cli.run(
        "in-toto-sign", "-f", "root.layout", "-k", "owner.pub", "second.pub", "--verify",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # The reference replaces the signatures; ours verifies the new one and not the old.
    done = reference_cli.run("in-toto-sign", "-f", "root.layout", "-k", "second", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert main(["sign", "-f", "root.layout", "-k", "second.pub", "--verify"]) == 0
    assert main(["sign", "-f", "root.layout", "-k", "owner.pub", "--verify"]) == 1
