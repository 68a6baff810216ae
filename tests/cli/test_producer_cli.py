"""Producer subcommands: one test per flag, each asserting its effect on what is written."""

from __future__ import annotations

import hashlib
import json
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from intoto_pip.cli.main import main
from intoto_pip.crypto.keys import load_public_key
from intoto_pip.models.envelope import Envelope, parse_envelope, verified_keys
from tests.produce._keys import KeyFiles, write_key

PY = sys.executable


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_bytes(b"print(1)\n")
    (tmp_path / "src" / "a.pyc").write_bytes(b"\x00")
    (tmp_path / "notes.txt").write_bytes(b"one\r\ntwo\r\n")
    return tmp_path


@pytest.fixture
def alice(work: Path) -> KeyFiles:
    return write_key(work, "alice")


def only_link(folder: Path = Path()) -> Path:
    (link,) = [p for p in folder.iterdir() if p.name.endswith(".link")]
    return link


def read(path: Path) -> Envelope:
    return parse_envelope(path.read_bytes(), what=str(path))


def signed(path: Path) -> dict[str, Any]:
    return read(path).payload


def sha(data: bytes) -> dict[str, str]:
    return {"sha256": hashlib.sha256(data).hexdigest()}


def run(*args: str) -> int:
    return main(["run", *args])


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# --- run ------------------------------------------------------------------------------


def test_run_step_name_and_signing_key(alice: KeyFiles) -> None:
    assert run("-n", "build", "--signing-key", str(alice.private), "-x") == 0
    link = Path(f"build.{alice.key.keyid[:8]}.link")
    assert signed(link)["name"] == "build"
    assert verified_keys(read(link), [alice.key]) == [alice.key]


def test_run_materials_and_products(alice: KeyFiles) -> None:
    script = "open('out.txt', 'w').write('x')"
    code = run("-n", "s", "--signing-key", "alice", "-m", "src", "-m", "notes.txt",
               "-p", "out.txt", "--", PY, "-c", script)  # fmt: skip
    assert code == 0
    payload = signed(only_link())
    assert set(payload["materials"]) == {"src/a.py", "notes.txt"}
    assert payload["products"] == {"out.txt": sha(b"x")}
    assert payload["command"] == [PY, "-c", script]


def test_run_record_streams(alice: KeyFiles, capfd: pytest.CaptureFixture[str]) -> None:
    script = "import sys; print('to out'); print('to err', file=sys.stderr)"
    assert run("-n", "s", "--signing-key", "alice", "-s", "--", PY, "-c", script) == 0
    assert signed(only_link())["byproducts"] == {
        "return-value": 0,
        "stdout": "to out\n",
        "stderr": "to err\n",
    }
    out, err = capfd.readouterr()
    assert "to out" in out and "to err" in err  # still shown while recorded


def test_run_without_record_streams(alice: KeyFiles) -> None:
    assert run("-n", "s", "--signing-key", "alice", "--", PY, "-c", "print('x')") == 0
    assert signed(only_link())["byproducts"] == {"return-value": 0, "stdout": "", "stderr": ""}


def test_run_exits_with_the_commands_status(alice: KeyFiles) -> None:
    assert run("-n", "s", "--signing-key", "alice", "--", PY, "-c", "raise SystemExit(5)") == 5
    assert signed(only_link())["byproducts"]["return-value"] == 5


def test_run_no_command(alice: KeyFiles) -> None:
    assert run("-n", "s", "--signing-key", "alice", "-x", "-m", "src") == 0
    payload = signed(only_link())
    assert payload["command"] == [] and payload["byproducts"] == {}


def test_run_needs_a_command_or_x(alice: KeyFiles, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("-n", "s", "--signing-key", "alice") == 2
    assert "-x/--no-command" in one_error_line(capsys.readouterr().err)


def test_run_metadata_directory(alice: KeyFiles, work: Path) -> None:
    (work / "meta").mkdir()
    assert run("-n", "s", "--signing-key", "alice", "-x", "-d", "meta") == 0
    assert only_link(work / "meta").name.startswith("s.")
    assert not [p for p in work.iterdir() if p.name.endswith(".link")]


def test_run_exclude_replaces_defaults(alice: KeyFiles) -> None:
    assert run("-n", "s", "--signing-key", "alice", "-x", "-m", ".", "--exclude", "*.txt") == 0
    assert set(signed(only_link())["materials"]) == {"src/a.py", "src/a.pyc", "alice", "alice.pub"}


@pytest.mark.parametrize("flags", [["--no-default-excludes"], ["--exclude", ""]])
def test_run_without_any_excludes(alice: KeyFiles, flags: list[str]) -> None:
    Path("old.link").write_text("{}")
    assert run("-n", "s", "--signing-key", "alice", "-x", "-m", ".", *flags) == 0
    materials = signed(Path(f"s.{alice.key.keyid[:8]}.link"))["materials"]
    assert {"src/a.pyc", "old.link"} <= set(materials)


def test_run_default_excludes(alice: KeyFiles) -> None:
    assert run("-n", "s", "--signing-key", "alice", "-x", "-m", ".") == 0
    assert "src/a.pyc" not in signed(only_link())["materials"]


def test_run_base_path(alice: KeyFiles) -> None:
    assert run("-n", "s", "--signing-key", "alice", "-x", "-m", "a.py", "--base-path", "src") == 0
    assert signed(only_link())["materials"] == {"a.py": sha(b"print(1)\n")}


def test_run_lstrip_paths(alice: KeyFiles) -> None:
    code = run(
        "-n", "s", "--signing-key", "alice", "-x", "-m", "src/a.py", "--lstrip-paths", "src/"
    )
    assert code == 0
    assert set(signed(only_link())["materials"]) == {"a.py"}


def test_run_lstrip_collision(alice: KeyFiles, capsys: pytest.CaptureFixture[str]) -> None:
    Path("other").mkdir()
    Path("other/a.py").write_text("different")
    code = run("-n", "s", "--signing-key", "alice", "-x", "-m", "src", "other",
               "--lstrip-paths", "src/", "other/")  # fmt: skip
    assert code == 2
    assert "would both be recorded as 'a.py'" in one_error_line(capsys.readouterr().err)
    assert not list(Path().glob("*.link"))


def test_run_normalize_line_endings(alice: KeyFiles) -> None:
    code = run("-n", "s", "--signing-key", "alice", "-x", "-m", "notes.txt",
               "--normalize-line-endings")  # fmt: skip
    assert code == 0
    assert signed(only_link())["materials"] == {"notes.txt": sha(b"one\ntwo\n")}


def test_run_use_dsse(alice: KeyFiles) -> None:
    assert run("-n", "s", "--signing-key", "alice", "-x", "--use-dsse") == 0
    document = json.loads(only_link().read_bytes())
    assert document["payloadType"] == "application/vnd.in-toto+json"
    assert read(only_link()).kind == "dsse"


def test_run_timeout(alice: KeyFiles, capsys: pytest.CaptureFixture[str]) -> None:
    code = run("-n", "s", "--signing-key", "alice", "--run-timeout", "0.3",
               "--", PY, "-c", "import time; time.sleep(20)")  # fmt: skip
    assert code == 1
    assert "did not finish within 0.3 s" in one_error_line(capsys.readouterr().err)
    assert not list(Path().glob("*.link*"))


def test_run_password(work: Path) -> None:
    key = write_key(work, "enc", password="pw")
    assert run("-n", "s", "--signing-key", "enc", "-P", "pw", "-x") == 0
    assert verified_keys(read(only_link()), [key.key])


def test_run_password_prompt(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_key(work, "enc", password="pw")
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "pw")
    assert run("-n", "s", "--signing-key", "enc", "-P", "-x") == 0
    assert only_link().exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--signing-key", "enc", "-P", "wrong"], "wrong password"),
        (["--signing-key", "enc"], "is encrypted"),
        (["--signing-key", "missing-key"], "cannot read key missing-key"),
    ],
)
def test_run_key_errors(
    work: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    write_key(work, "enc", password="pw")
    assert run("-n", "s", *args, "-x") == 2
    assert words in one_error_line(capsys.readouterr().err)
    assert not list(work.glob("*.link"))


def test_run_command_not_found(alice: KeyFiles, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("-n", "s", "--signing-key", "alice", "--", "no-such-command-xyz") == 1
    assert "'no-such-command-xyz' not found" in one_error_line(capsys.readouterr().err)
    assert not list(Path().glob("*.link*"))


def test_run_missing_path_warns(alice: KeyFiles, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("-n", "s", "--signing-key", "alice", "-x", "-m", "nope") == 0
    assert "warning: 'nope' does not exist, skipped" in capsys.readouterr().err
    assert signed(only_link())["materials"] == {}


def test_run_quiet_and_verbose(alice: KeyFiles, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("-n", "q", "--signing-key", "alice", "-x", "-m", "nope", "-q") == 0
    assert capsys.readouterr().err == ""
    assert run("-n", "v", "--signing-key", "alice", "-x", "-v") == 0
    assert f"wrote v.{alice.key.keyid[:8]}.link" in capsys.readouterr().err


def test_run_as_a_program(alice: KeyFiles, work: Path) -> None:
    command = [PY, "-m", "intoto_pip.cli.main", "run", "-n", "s", "--signing-key", "alice",
               "-s", "--", PY, "-c", "print('hi'); raise SystemExit(3)"]  # fmt: skip
    done = subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)
    assert done.returncode == 3
    assert done.stdout == "hi\n"
    assert signed(only_link(work))["byproducts"]["stdout"] == "hi\n"


# --- record -----------------------------------------------------------------------------


def test_record_start_stop(alice: KeyFiles, work: Path) -> None:
    (work / "out").mkdir()
    base = ["--signing-key", "alice", "-n", "edit"]
    assert main(["record", "start", *base, "-m", "notes.txt", "--use-dsse"]) == 0
    unfinished = Path(f".edit.{alice.key.keyid[:8]}.link-unfinished")
    assert read(unfinished).payload["materials"] == {"notes.txt": sha(b"one\r\ntwo\r\n")}
    Path("notes.txt").write_bytes(b"edited")
    assert main(["record", "stop", *base, "-p", "notes.txt", "-d", "out"]) == 0
    assert not unfinished.exists()
    link = read(only_link(work / "out"))
    assert link.kind == "dsse"
    assert link.payload["products"] == {"notes.txt": sha(b"edited")}
    assert link.payload["materials"] == {"notes.txt": sha(b"one\r\ntwo\r\n")}


def test_record_options_apply(alice: KeyFiles) -> None:
    base = ["--signing-key", "alice", "-n", "e"]
    assert main(["record", "start", *base, "-m", "a.py", "--base-path", "src"]) == 0
    stop = ["-p", "src", "--lstrip-paths", "src/", "--no-default-excludes"]
    assert main(["record", "stop", *base, *stop]) == 0
    payload = signed(only_link())
    assert set(payload["materials"]) == {"a.py"}
    assert set(payload["products"]) == {"a.py", "a.pyc"}


def test_record_stop_without_start(alice: KeyFiles, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["record", "stop", "-n", "e", "--signing-key", "alice"]) == 2
    assert "no unfinished link" in one_error_line(capsys.readouterr().err)


# --- sign -------------------------------------------------------------------------------


def mock_link(name: str = "pkg") -> Path:
    assert main(["mock", "-n", name, "--", PY, "-c", "pass"]) == 0
    return Path(f"{name}.link")


def test_sign_link_default_output(alice: KeyFiles) -> None:
    assert main(["sign", "-f", str(mock_link()), "-k", "alice"]) == 0
    link = Path(f"pkg.{alice.key.keyid[:8]}.link")
    assert verified_keys(read(link), [alice.key]) == [alice.key]
    assert main(["sign", "-f", str(link), "-k", "alice.pub", "--verify"]) == 0


def test_sign_output_append_and_verify(
    alice: KeyFiles, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bob = write_key(work, "bob", "ecdsa")
    assert main(["layout", "create", str(write_toml(work)), "-o", "root.layout", "--unsigned"]) == 0
    assert main(["sign", "-f", "root.layout", "-k", "alice", "-o", "signed.layout"]) == 0
    assert read(Path("root.layout")).signatures == ()
    assert main(["sign", "-f", "signed.layout", "-k", "bob", "-a"]) == 0
    assert [s.keyid for s in read(Path("signed.layout")).signatures] == [
        alice.key.keyid,
        bob.key.keyid,
    ]
    assert main(["sign", "-f", "signed.layout", "-k", "alice.pub", "bob.pub", "--verify"]) == 0
    assert main(["sign", "-f", "signed.layout", "-k", "bob"]) == 0  # replaces without -a
    assert main(["sign", "-f", "signed.layout", "-k", "alice.pub", "--verify"]) == 1
    assert "no valid signature by key(s)" in capsys.readouterr().err


def test_sign_prompt(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = write_key(work, "enc", password="pw")
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "pw")
    assert main(["sign", "-f", str(mock_link()), "-k", "enc", "-p"]) == 0
    assert verified_keys(read(Path(f"pkg.{key.key.keyid[:8]}.link")), [key.key])


def test_sign_verify_refuses_output(alice: KeyFiles, capsys: pytest.CaptureFixture[str]) -> None:
    link = str(mock_link())
    capsys.readouterr()
    assert main(["sign", "-f", link, "-k", "alice.pub", "--verify", "-o", "x"]) == 2
    assert "--verify takes no" in one_error_line(capsys.readouterr().err)


# --- keygen and key show ------------------------------------------------------------------


@pytest.mark.parametrize("keytype", ["ed25519", "rsa", "ecdsa"])
def test_keygen_types(work: Path, capsys: pytest.CaptureFixture[str], keytype: str) -> None:
    assert main(["keygen", "k", "--type", keytype]) == 0
    key = load_public_key(work / "k.pub")
    assert key.keytype == keytype
    assert capsys.readouterr().out.split()[0] == key.keyid
    assert stat.S_IMODE((work / "k").stat().st_mode) == 0o600


def test_keygen_password(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["keygen", "k", "--password", "pw"]) == 0
    assert b"ENCRYPTED" in (work / "k").read_bytes()
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "pw2")
    assert main(["keygen", "k2", "-P"]) == 0
    assert run("-n", "s", "--signing-key", "k2", "-P", "pw2", "-x") == 0


def test_keygen_keeps_existing(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "k").write_text("precious")
    assert main(["keygen", "k"]) == 2
    assert "already exists" in one_error_line(capsys.readouterr().err)
    assert (work / "k").read_text() == "precious"


def test_key_show(alice: KeyFiles, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["key", "show", "alice.pub"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == {"keyid": alice.key.keyid, "key": alice.key.to_keydict()}


# --- layout create ----------------------------------------------------------------------


def write_toml(work: Path, extra: str = "") -> Path:
    path = work / "layout.toml"
    path.write_text(
        'expires = "30d"\n[[steps]]\nname = "build"\nfunctionaries = ["alice.pub"]\n'
        'expected_products = ["CREATE *"]\n' + extra
    )
    return path


@pytest.mark.parametrize("dsse", [False, True])
def test_layout_create_signed(alice: KeyFiles, work: Path, dsse: bool) -> None:
    owner = write_key(work, "owner", "rsa")
    args = ["layout", "create", str(write_toml(work)), "-o", "root.layout", "-k", "owner"]
    assert main(args + (["--use-dsse"] if dsse else [])) == 0
    envelope = read(Path("root.layout"))
    assert envelope.kind == ("dsse" if dsse else "metablock")
    assert verified_keys(envelope, [owner.key]) == [owner.key]
    assert envelope.payload["steps"][0]["pubkeys"] == [alice.key.keyid]


def test_layout_create_needs_a_key(alice: KeyFiles, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["layout", "create", str(write_toml(Path.cwd())), "-o", "root.layout"]) == 2
    assert "must be signed" in one_error_line(capsys.readouterr().err)
    assert not Path("root.layout").exists()


def test_layout_create_error_line(alice: KeyFiles, capsys: pytest.CaptureFixture[str]) -> None:
    toml = write_toml(Path.cwd(), "threshold = 0\n")
    assert main(["layout", "create", str(toml), "-o", "root.layout", "-k", "alice"]) == 2
    assert f"{toml}:6: steps[0].threshold" in one_error_line(capsys.readouterr().err)


# --- match-products and mock ---------------------------------------------------------------


@pytest.mark.parametrize("dsse", [False, True])
def test_match_products(alice: KeyFiles, capsys: pytest.CaptureFixture[str], dsse: bool) -> None:
    run_args = ["-n", "s", "--signing-key", "alice", "-x", "-p", "src"]
    assert run(*run_args, *(["--use-dsse"] if dsse else [])) == 0
    link = str(only_link())
    assert main(["match-products", "-l", link, "-p", "src"]) == 0
    assert "match" in capsys.readouterr().out
    Path("src/a.py").write_text("changed")
    Path("src/new.py").write_text("new")
    assert main(["match-products", "-l", link, "-p", "src"]) == 1
    out = capsys.readouterr().out
    assert "hashes differ: src/a.py" in out and "not in products: src/new.py" in out
    assert main(["match-products", "-l", link, "-p", "src", "-e", "*.py"]) == 1
    assert "only in products: src/a.py" in capsys.readouterr().out
    assert main(["match-products", "-l", link, "-p", "src", "--lstrip-paths", "src/", "-q"]) == 1
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("dsse", [False, True])
def test_mock(work: Path, dsse: bool) -> None:
    args = ["mock", "-n", "try", *(["--use-dsse"] if dsse else []), "--", PY, "-c", "print(7)"]
    assert main(args) == 0
    envelope = read(Path("try.link"))
    assert envelope.signatures == () and envelope.kind == ("dsse" if dsse else "metablock")
    assert envelope.payload["byproducts"]["stdout"] == "7\n"
    assert "src/a.py" in envelope.payload["materials"]


def test_layout_create_makes_the_output_folder_and_says_what_it_wrote(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = write_key(work, "owner")
    toml = work / "layout.toml"
    toml.write_text('expires = "30d"\n[[steps]]\nname = "build"\nfunctionaries = ["owner.pub"]\n')
    out = work / "in-toto" / "root.layout"
    assert main(["layout", "create", str(toml), "-o", str(out), "-k", str(owner.private)]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"{out}: layout with 1 step(s) and 0 inspection(s), signed by 1 key(s)")
    assert out.is_file()


@pytest.mark.parametrize("content", ["not json", "{}"])
def test_sign_a_file_that_is_not_metadata_exits_2(
    alice: KeyFiles, content: str, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("x.link").write_text(content)
    assert main(["sign", "-f", "x.link", "-k", "alice"]) == 2
    assert "x.link" in one_error_line(capsys.readouterr().err)
    assert main(["sign", "-f", "x.link", "-k", "alice.pub", "--verify"]) == 2


def test_sign_a_layout_without_expires_warns_what_it_set(
    alice: KeyFiles, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["layout", "create", str(write_toml(work)), "-o", "t.layout", "--unsigned"]) == 0
    document = json.loads(Path("t.layout").read_text())
    del document["signed"]["expires"]
    Path("t.layout").write_text(json.dumps(document))
    capsys.readouterr()
    assert main(["sign", "-f", "t.layout", "-k", "alice", "-o", "root.layout"]) == 0
    err = capsys.readouterr().err
    assert "t.layout: the layout has no 'expires'; set it to 20" in err
    assert "expires" in read(Path("root.layout")).payload
