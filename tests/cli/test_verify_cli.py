"""``intoto-pip verify --layout``: exit codes, one-line errors, --json, flags of in-toto-verify."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from intoto_pip.cli.main import main
from intoto_pip.models.envelope import dump_envelope
from intoto_pip.store import link_filename
from tests.support.signing import KeyPair, make_key
from tests.verify.builders import (
    MemorySource,
    files,
    inspection,
    key,
    link,
    step,
    write_source,
)

EXPIRES = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_chain(
    folder: Path, owner: KeyPair, *, product: str = "app", inspect: bool = True
) -> None:
    """A layout signed by ``owner`` (a key file) and alice's link, in ``folder``."""
    value = {
        "_type": "layout",
        "expires": EXPIRES,
        "keys": {key("alice").keyid: key("alice").to_keydict()},
        "readme": "",
        "steps": [
            step("build", ["alice"], products=["CREATE {FILE}", "DISALLOW *"], command=["make"])
        ],
        "inspect": [inspection("check", ["true"], materials=["ALLOW *"])] if inspect else [],
    }
    from intoto_pip.models.envelope import sign_payload

    envelope = sign_payload(value, [owner.signer], dsse=False)
    (folder / "root.layout").write_bytes(dump_envelope(envelope))
    write_source(
        folder, MemorySource().add_link("alice", link("build", products=files({product: "x"})))
    )


@pytest.fixture
def owner(tmp_path: Path) -> KeyPair:
    return make_key(tmp_path / "keys", "owner")


@pytest.fixture
def chain_dir(tmp_path: Path, owner: KeyPair, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "chain"
    folder.mkdir()
    write_chain(folder, owner)
    monkeypatch.chdir(folder)
    return folder


def test_verified(chain_dir: Path, owner: KeyPair, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "verify",
            "--layout",
            "root.layout",
            "--layout-key",
            str(owner.public_path),
            "--param",
            "FILE=app",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert out.startswith("verified: root.layout (1 step(s), 1 inspection(s)")
    assert "ran [], the layout expects ['make']" in err  # command alignment: a warning


@pytest.mark.parametrize("flag", ["--layout-key", "--layout-keys", "--verification-keys", "-k"])
def test_reference_spellings(
    chain_dir: Path, owner: KeyPair, flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "verify",
                "-l",
                "root.layout",
                flag,
                str(owner.public_path),
                "-q",
                "-d",
                ".",
                "--param",
                "FILE=app",
            ]
        )
        == 0
    )
    assert capsys.readouterr() == ("", "")


def test_json_result(chain_dir: Path, owner: KeyPair, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "verify",
            "-l",
            "root.layout",
            "-k",
            str(owner.public_path),
            "--json",
            "--param",
            "FILE=app",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["verified"] is True
    assert data["steps"][0]["signers"] == [key("alice").keyid]
    assert [rule["rule"] for rule in data["rules"]] == ["CREATE app", "DISALLOW *", "ALLOW *"]
    assert data["inspections"][0]["name"] == "check"


def test_refusal_is_one_line_exit_1(
    chain_dir: Path, owner: KeyPair, capsys: pytest.CaptureFixture[str]
) -> None:
    # Without --param, '{FILE}' is a literal name (as in in-toto-verify), so 'app' is disallowed.
    code = main(["verify", "-l", "root.layout", "-k", str(owner.public_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().splitlines()[-1] == (
        "intoto-pip: error: step 'build': expected_products[1] 'DISALLOW *' "
        "disallowed products: 'app'"
    )
    assert "Traceback" not in err


def test_json_refusal(chain_dir: Path, owner: KeyPair, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["verify", "-l", "root.layout", "-k", str(owner.public_path), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert data["verified"] is False and data["exit_code"] == 1
    assert "DISALLOW *" in data["error"]


def test_wrong_layout_key_exit_1(
    chain_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = make_key(tmp_path / "keys", "other")
    assert main(["verify", "-l", "root.layout", "-k", str(other.public_path)]) == 1
    assert f"no valid signature by key {other.public.keyid}" in capsys.readouterr().err


def test_missing_link_exit_1(
    chain_dir: Path, owner: KeyPair, capsys: pytest.CaptureFixture[str]
) -> None:
    (chain_dir / link_filename("build", key("alice").keyid)).unlink()
    assert (
        main(["verify", "-l", "root.layout", "-k", str(owner.public_path), "--param", "FILE=app"])
        == 1
    )
    assert "step 'build' needs 1 link(s)" in capsys.readouterr().err


def test_malformed_layout_exit_1(
    chain_dir: Path, owner: KeyPair, capsys: pytest.CaptureFixture[str]
) -> None:
    (chain_dir / "root.layout").write_text("{not json")
    assert main(["verify", "-l", "root.layout", "-k", str(owner.public_path)]) == 1


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["-l", "missing.layout", "-k", "KEY"], "missing.layout: cannot be read"),
        (["-l", "root.layout", "-k", "missing.pub"], "cannot read key missing.pub"),
        (["-l", "root.layout"], "give at least one --layout-key"),
        ([], "nothing to verify"),
        (["-l", "root.layout", "-k", "KEY", "--gpg-home", "h"], "--gpg-home applies only with"),
        (["-l", "root.layout", "-k", "KEY", "--param", "FILE=*"], "must not contain '*'"),
        (["-l", "root.layout", "-k", "KEY", "--param", "FILE"], "expected NAME=VALUE"),
        (["-l", "root.layout", "-k", "KEY", "--inspection-timeout", "0"], "must be a positive"),
        (["-l", "root.layout", "-k", "KEY", "--link-dir", "nowhere"], "not a folder"),
        (["-l", "root.layout", "-k", "KEY", "--policy", "p.toml"], "ARCHIVE verification only"),
    ],
)
def test_usage_errors_exit_2(
    chain_dir: Path,
    owner: KeyPair,
    args: list[str],
    fragment: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [str(owner.public_path) if arg == "KEY" else arg for arg in args]
    assert main(["verify", *args]) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert len(err.strip().splitlines()) == 1


def test_expired_layout_exit_1(
    chain_dir: Path, owner: KeyPair, capsys: pytest.CaptureFixture[str]
) -> None:
    from intoto_pip.models.envelope import sign_payload

    document = json.loads((chain_dir / "root.layout").read_text())
    document["signed"]["expires"] = "2001-01-01T00:00:00Z"
    (chain_dir / "root.layout").write_bytes(
        dump_envelope(sign_payload(document["signed"], [owner.signer], dsse=False))
    )
    assert main(["verify", "-l", "root.layout", "-k", str(owner.public_path)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "intoto-pip: error: layout expired at 2001-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a PEM public key"),
        (b"\x00\xff not a key", "not a PEM public key"),
    ],
    ids=["bad-pem", "garbage"],
)
def test_unusable_key_file_exit_2(
    chain_dir: Path, content: bytes, fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (chain_dir / "bad.pub").write_bytes(content)
    assert main(["verify", "-l", "root.layout", "-k", "bad.pub"]) == 2
    err = capsys.readouterr().err
    assert fragment in err and len(err.strip().splitlines()) == 1


def test_layout_path_that_is_a_folder_exit_2(
    chain_dir: Path, owner: KeyPair, capsys: pytest.CaptureFixture[str]
) -> None:
    (chain_dir / "folder.layout").mkdir()
    assert main(["verify", "-l", "folder.layout", "-k", str(owner.public_path)]) == 2
    assert "folder.layout: cannot be read" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["-l", "root.layout", "-k", "missing.pub"],
        ["-l", "root.layout", "-k", "KEY", "--param", "FILE=*"],
        ["-l", "missing.layout", "-k", "KEY"],
    ],
    ids=["key-file", "param", "layout-file"],
)
def test_json_report_on_usage_errors(
    chain_dir: Path, owner: KeyPair, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # Regression: errors in the options (key files, --param) printed no JSON at all.
    args = [str(owner.public_path) if arg == "KEY" else arg for arg in args]
    assert main(["verify", *args, "--json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["verified"] is False and report["exit_code"] == 2 and report["error"]


def test_timeout_flag_reaches_inspections(
    tmp_path: Path,
    owner: KeyPair,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "slow"
    folder.mkdir()
    write_chain(folder, owner)
    layout_doc = json.loads((folder / "root.layout").read_text())
    layout_doc["signed"]["inspect"][0]["run"] = ["sleep", "5"]
    from intoto_pip.models.envelope import sign_payload

    (folder / "root.layout").write_bytes(
        dump_envelope(sign_payload(layout_doc["signed"], [owner.signer], dsse=False))
    )
    monkeypatch.chdir(folder)
    code = main(
        [
            "verify",
            "-l",
            "root.layout",
            "-k",
            str(owner.public_path),
            "--param",
            "FILE=app",
            "--inspection-timeout",
            "0.2",
        ]
    )
    assert code == 1
    assert "did not finish within 0.2 s" in capsys.readouterr().err


def test_subprocess_entry_point(chain_dir: Path, owner: KeyPair) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "intoto_pip.cli.main",
            "verify",
            "-l",
            "root.layout",
            "-k",
            str(owner.public_path),
            "--param",
            "FILE=app",
            "-v",
        ],
        cwd=chain_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "step 'build': threshold 1, signed by" in done.stdout
    assert "verified: root.layout" in done.stdout
