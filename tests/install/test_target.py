"""Probing the target interpreter: scheme, tags, markers; nothing written."""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

import pytest

from intoto_pip.errors import InputError
from intoto_pip.install.target import probe_target, start_probe


def test_probe_of_this_interpreter() -> None:
    target = probe_target(Path(sys.executable))
    assert target.version == ".".join(map(str, sys.version_info[:3]))
    assert target.scheme["purelib"] == sysconfig.get_paths()["purelib"]
    assert target.cache_tag == sys.implementation.cache_tag
    assert target.supports_tags(frozenset({"py3-none-any"}))
    assert not target.supports_tags(frozenset({"cp27-cp27m-win32"}))
    assert target.markers["python_version"] == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert "intoto-pip" in target.installed()


@pytest.mark.parametrize("prefix", [False, True])
def test_in_process_probe_answers_as_the_interpreter_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefix: bool
) -> None:
    """The running interpreter is probed in-process; the answer equals a real probe's."""
    from intoto_pip.install import target as module

    where = tmp_path / "p" if prefix else None
    fast = probe_target(Path(sys.executable), prefix=where)
    assert module.is_this_interpreter(Path(sys.executable))
    monkeypatch.setattr(module, "is_this_interpreter", lambda python: False)
    assert probe_target(Path(sys.executable), prefix=where) == fast


def test_environment_that_changes_the_scheme_means_a_real_probe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from intoto_pip.install import target as module

    monkeypatch.setenv("PYTHONPLATLIBDIR", "lib64")
    assert not module.is_this_interpreter(Path(sys.executable))
    monkeypatch.delenv("PYTHONPLATLIBDIR")
    assert not module.is_this_interpreter(Path(sys.executable).with_name("python-other"))


def test_target_and_prefix_schemes(tmp_path: Path) -> None:
    target = probe_target(Path(sys.executable), target_dir=tmp_path / "t")
    assert target.scheme["purelib"] == str(tmp_path / "t")
    assert target.scheme["scripts"] == str(tmp_path / "t" / "bin")
    prefixed = probe_target(Path(sys.executable), prefix=tmp_path / "p")
    assert prefixed.scheme["purelib"].startswith(str(tmp_path / "p"))
    assert prefixed.scheme["scripts"] == str(tmp_path / "p" / "bin")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InputError):
        probe_target(Path(sys.executable), target_dir=tmp_path, prefix=tmp_path)


def test_unusable_interpreter_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--python"):
        probe_target(tmp_path / "no-python")
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(InputError, match="probing the interpreter failed"):
        probe_target(fake)
    chatty = tmp_path / "chatty"
    chatty.write_text("#!/bin/sh\necho not json\n")
    chatty.chmod(0o755)
    with pytest.raises(InputError, match="does not answer like a Python"):
        probe_target(chatty)


def test_the_interpreter_is_fingerprinted_along_its_links(tmp_path: Path) -> None:
    """Every path on the way from the interpreter given to the real file is remembered, and a
    change to any of them shows (the compiler then refuses to run it)."""
    import os

    from intoto_pip.install.target import interpreter_unchanged

    real = os.path.realpath(sys.executable)
    (tmp_path / "real").symlink_to(real)
    (tmp_path / "python").symlink_to("real")
    target = probe_target(tmp_path / "python", target_dir=tmp_path / "site")
    paths = target.interpreter.paths
    assert {str(tmp_path / "python"), str(tmp_path / "real"), real} <= paths
    assert interpreter_unchanged(target)
    (tmp_path / "real").unlink()
    (tmp_path / "real").symlink_to("/bin/sh")
    assert not interpreter_unchanged(target)


@pytest.mark.parametrize("in_process", [True, False])
def test_a_probe_for_looking_only_has_the_scheme_but_no_tags_or_markers(
    monkeypatch: pytest.MonkeyPatch, in_process: bool
) -> None:
    from intoto_pip.install import target as module

    if not in_process:
        monkeypatch.setattr(module, "is_this_interpreter", lambda python: False)
    full = probe_target(Path(sys.executable))
    with start_probe(Path(sys.executable), installing=False) as probe:
        looking = probe.result()
    assert looking.scheme == full.scheme
    assert looking.executable == full.executable
    assert looking.tags == () and looking.markers == {}
    assert not looking.supports_tags(frozenset({"py3-none-any"}))  # cannot choose a wheel


def test_a_probe_that_cannot_start_fails_when_its_answer_is_asked(tmp_path: Path) -> None:
    probe = start_probe(tmp_path / "no-python")  # no error yet: the caller's come first
    with pytest.raises(InputError, match="cannot run the interpreter"):
        probe.result()


def test_an_unanswered_probe_is_ended(tmp_path: Path) -> None:
    slow = tmp_path / "python"
    slow.write_text("#!/bin/sh\nexec sleep 30\n")
    slow.chmod(0o755)
    with start_probe(slow) as probe:
        process = probe._process
    assert process is not None and process.returncode is not None  # killed and reaped


def test_installed_reads_name_and_version_from_the_headers_only(tmp_path: Path) -> None:
    """The description after the first empty line is not read, so a line in it that looks
    like a header never names the distribution."""
    target = probe_target(Path(sys.executable), target_dir=tmp_path / "site")
    site = tmp_path / "site"
    for folder, metadata in {
        "real-1.0.dist-info": "Metadata-Version: 2.1\nName: Real\nVersion: 1.0\n\nName: fake\n",
        "crlf-2.0.dist-info": "Name: crlf\r\nVersion: 2.0\r\n\r\nVersion: 9\r\n",
        "folded-3.0.dist-info": "Name: folded\nSummary: one\n  two\nVersion: 3.0\n",
        "late-1.0.dist-info": "Metadata-Version: 2.1\n\nName: late\nVersion: 1.0\n",
    }.items():
        (site / folder).mkdir(parents=True)
        (site / folder / "METADATA").write_text(metadata, newline="")
    found = {name: dist.version for name, dist in target.installed().items()}
    assert found == {"real": "1.0", "crlf": "2.0", "folded": "3.0"}


def _email_reads(head: str) -> tuple[object, object]:
    import email.parser

    headers = email.parser.HeaderParser().parsestr(head)
    return headers.get("Name"), headers.get("Version")


@pytest.mark.parametrize(
    "head",
    [
        "Metadata-Version: 2.1\nName: Real\nVersion: 1.0",
        "Name: a\nVersion: 1\n",  # no body: the block's own end
        "",
        "name:a\nVERSION:\t 2.0 ",  # any case, no space, a tab, a trailing space kept
        "Name: first\nName: second\nVersion: 1\nVersion: 2",  # the first of each
        "Name: folded\n  more\nVersion: 3",  # a continuation line
        "Name: x\rVersion: 4",  # a lone carriage return ends a line for email
        "Name: x\x0bVersion: 5\nVersion: 6",  # a vertical tab does not
        "Name: x\u2028Version: 7\nVersion: 8",
        "From someone\nName: unix\nVersion: 9",  # an mbox "From " line
        "Name: a\nnot a header\nVersion: 10",  # the body starts early
        ": empty\nName: b\nVersion: 11",  # a field without a name
        "Na me: c\nName: d\nVersion: 12",
        "Name: é\nVersion: 13",
        "Name:\nVersion: 14",
        "X-Thing: a:b\nName: e:f\nVersion: 15",
    ],
)
def test_name_and_version_are_read_as_emails_header_parser_reads_them(head: str) -> None:
    from intoto_pip.install.target import _name_and_version

    assert _name_and_version(head) == _email_reads(head)


def test_name_and_version_agree_with_email_on_random_headers() -> None:
    """Random header blocks built from the pieces where parsers differ."""
    import random

    from intoto_pip.install.target import _name_and_version

    pieces = ["Name", "Version", "name", "X", " ", "\t", ":", "\n", "\r", "\x0c", "a", "1", "é"]
    chooser = random.Random(20261207)
    for _ in range(5000):
        head = "".join(chooser.choice(pieces) for _ in range(chooser.randint(0, 14)))
        head = head.split("\n\n", 1)[0]  # what the scan hands over: the block before a blank
        assert _name_and_version(head) == _email_reads(head), repr(head)


def test_the_usual_metadata_is_read_without_loading_email(tmp_path: Path) -> None:
    """``check`` reads every METADATA; the usual one does not cost it the ``email`` package."""
    import subprocess

    site = tmp_path / "site"
    (site / "real-1.0.dist-info").mkdir(parents=True)
    (site / "real-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: Real\nVersion: 1.0\n\nDescription\n"
    )
    code = (
        "import sys; from pathlib import Path; from intoto_pip.install.target import _scan; "
        f"found = _scan(Path({str(site)!r})); "
        "print([(d.name, d.version) for d in found], 'email.parser' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[('real', '1.0')] False"
