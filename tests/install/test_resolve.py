"""pip as a resolver: the command line we build and the report we read."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from intoto_pip.errors import InstallError
from intoto_pip.install import resolve as resolve_module
from intoto_pip.install.pip_runner import pip_runner
from intoto_pip.install.pip_settings import sort_settings, start_reading
from intoto_pip.install.resolve import (
    ResolveOptions,
    announced_wheel_url,
    parse_report,
    pip_command,
    resolve,
)
from tests.support.index import SimpleIndex, clean_env, serve
from tests.support.traps import trap_pip_package, trap_sdist
from tests.support.wheels import wheel_members, write_wheel


def test_pip_command_passes_options_through() -> None:
    options = ResolveOptions(
        requirements=("app>=1",),
        requirement_files=(Path("req.txt"),),
        index_url="http://127.0.0.1:1/simple/",
        extra_index_urls=("http://127.0.0.1:2/simple/",),
        find_links=("/wheels",),
        no_index=True,
        no_deps=True,
        upgrade=True,
        pre=True,
        python=Path("/other/python"),
        prefix=Path("/p"),
    )
    command = pip_command(options, "/private/report.json")
    # pip's runner, started by the other interpreter itself (not pip started twice).
    assert command[:4] == ["/other/python", "-I", str(pip_runner()), "--isolated"]
    joined = " ".join(command)
    for part in (
        "install --dry-run --report /private/report.json --only-binary :all: --quiet",
        "--no-index",
        "--no-deps",
        "--upgrade",
        "--pre",
        "--index-url http://127.0.0.1:1/simple/",
        "--extra-index-url http://127.0.0.1:2/simple/",
        "--find-links /wheels",
        "--prefix /p",
        "-r req.txt",
    ):
        assert part in joined
    assert command[-1] == "app>=1"


def test_same_interpreter_needs_no_python_flag() -> None:
    command = pip_command(ResolveOptions(python=Path(sys.executable)), "r.json")
    assert command[:5] == [sys.executable, "-I", "-m", "pip", "--isolated"]
    assert "--python" not in command


def test_parse_report() -> None:
    report = {
        "install": [
            {
                "download_info": {
                    "url": "http://127.0.0.1/files/dep-1.0-py3-none-any.whl",
                    "archive_info": {"hashes": {"sha256": "ab" * 32}},
                },
                "is_direct": False,
                "requested": False,
                "metadata": {"name": "Dep", "version": "1.0", "requires_dist": ["x"]},
            }
        ]
    }
    [item] = parse_report(json.dumps(report).encode())
    assert (item.name, item.version, item.sha256, item.requested) == (
        "dep",
        "1.0",
        "ab" * 32,
        False,
    )
    assert item.requires_dist == ("x",)


def test_the_report_is_read_from_a_file_in_a_folder_only_this_user_enters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """pip writes the report to a file (on standard output it pretty-prints it, slowly); the
    file is in a private temporary folder, which is gone afterwards."""
    import os
    import stat

    from intoto_pip.install import resolve as resolve_module

    seen: list[str] = []

    def pip(command: list[str], env: object) -> tuple[int, str]:
        report = command[command.index("--report") + 1]
        folder = os.path.dirname(report)
        seen.append(folder)
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
        assert os.listdir(folder) == []  # nothing there before pip writes
        with open(report, "w", encoding="utf-8") as file:
            json.dump({"install": []}, file)
        return 0, ""

    monkeypatch.setattr(resolve_module, "_run_pip", pip)
    assert resolve(ResolveOptions(requirements=("app",), settings=sort_settings(""))) == []
    [folder] = seen
    assert not os.path.exists(folder)


def test_no_report_from_pip_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from intoto_pip.install import resolve as resolve_module

    monkeypatch.setattr(resolve_module, "_run_pip", lambda command, env: (0, ""))
    options = ResolveOptions(requirements=("app",), settings=sort_settings(""))
    with pytest.raises(InstallError, match="pip wrote no installation report"):
        resolve(options)


@pytest.mark.parametrize("data", [b"not json", b'{"install": [{"metadata": {}}]}'])
def test_unreadable_report(data: bytes) -> None:
    with pytest.raises(InstallError, match="not readable"):
        parse_report(data)


def test_pip_settings_taken_are_passed_back_and_merged_with_the_command_line() -> None:
    settings = sort_settings(
        "global.extra-index-url='http://127.0.0.1:3/simple/ http://127.0.0.1:4/simple/'\n"
        ":env:.index-url='http://127.0.0.1:5/simple/'\n"
        ":env:.trusted-host='a.example b.example'\n"
        ":env:.cert='/ca.pem'\n"
        ":env:.constraint='/c.txt'\n"
    )
    options = ResolveOptions(
        requirements=("app",),
        extra_index_urls=("http://127.0.0.1:4/simple/", "http://127.0.0.1:6/simple/"),
        settings=settings,
    )
    joined = " ".join(pip_command(options, "r.json"))
    assert "--index-url http://127.0.0.1:5/simple/" in joined
    extras = [part for part in joined.split("--extra-index-url ")[1:]]
    assert [e.split()[0] for e in extras] == [
        "http://127.0.0.1:3/simple/",
        "http://127.0.0.1:4/simple/",
        "http://127.0.0.1:6/simple/",
    ]
    assert "--trusted-host a.example --trusted-host b.example" in joined
    assert "--cert /ca.pem" in joined
    assert "constraint" not in joined and "/c.txt" not in joined
    # intoto-pip's own --index-url wins over pip's setting.
    mine = pip_command(replace(options, index_url="http://127.0.0.1:7/simple/"), "r.json")
    assert "http://127.0.0.1:5/simple/" not in mine


@pytest.mark.parametrize("in_session", [False, True], ids=["own-process", "session"])
def test_settings_from_pip_environment_and_files_never_make_pip_build(
    tmp_path: Path, in_session: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PIP_CONSTRAINT names an sdist URL (which `-c` on the command line is refused for), and
    a config file turns --no-binary on: before pip ran isolated, it built the trap's backend.

    In a session, the same process read those settings (``pip config list``) before it
    resolves: the environment it resolves in is the isolated one sent with the request."""
    marker = tmp_path / "trap-backend-ran"
    trap = trap_sdist(tmp_path / "trap", "dep", "1.0", marker)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    write_wheel(
        wheels / "dep-1.0-py3-none-any.whl",
        wheel_members("dep", "1.0", {"dep/__init__.py": b""}),
        "dep-1.0.dist-info/RECORD",
    )
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(f"dep @ {trap.as_uri()}\n")
    config = tmp_path / "pip.conf"
    config.write_text("[global]\nno-binary = :all:\n[install]\nno-build-isolation = true\n")
    env = {**clean_env(), "PIP_CONSTRAINT": str(constraints), "PIP_CONFIG_FILE": str(config)}
    env["PIP_FIND_LINKS"] = str(wheels)  # taken: a place to look
    python = Path(sys.executable)
    options = ResolveOptions(requirements=("dep",), no_index=True, env=env, python=python)
    session = start_reading(python, env) if in_session else None
    if session is not None:  # no second pip process: the session resolves
        monkeypatch.setattr(resolve_module, "_run_pip", _no_second_pip)
    try:
        items = resolve(options, session)
    except InstallError:
        items = []
    finally:
        if session is not None:
            session.close()
    assert not marker.exists()
    assert [(item.name, item.url.rsplit("/", 1)[-1]) for item in items] == [
        ("dep", "dep-1.0-py3-none-any.whl")
    ]


def _no_second_pip(*_args: object) -> None:
    raise AssertionError("pip started again: the session did not resolve")


def test_pip_never_runs_a_pip_package_from_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "planted-pip-ran"
    work = tmp_path / "work"
    trap_pip_package(work, marker)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    write_wheel(
        wheels / "dep-1.0-py3-none-any.whl",
        wheel_members("dep", "1.0", {"dep/__init__.py": b""}),
        "dep-1.0.dist-info/RECORD",
    )
    monkeypatch.chdir(work)
    options = ResolveOptions(
        requirements=("dep",), no_index=True, find_links=(str(wheels),), env=clean_env()
    )
    try:
        items = resolve(options)
    except InstallError:  # what the planted package printed is no report
        items = []
    assert not marker.exists()
    assert [item.name for item in items] == ["dep"]


def _wheels_with_dep(tmp_path: Path) -> Path:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    write_wheel(
        wheels / "dep-1.0-py3-none-any.whl",
        wheel_members("dep", "1.0", {"dep/__init__.py": b""}),
        "dep-1.0.dist-info/RECORD",
    )
    return wheels


def test_no_wheel_found_suggests_no_binary(tmp_path: Path) -> None:
    """pip's "No matching distribution found" is a dead end for an sdist-only project; say
    how intoto-pip gets it: --no-binary NAME, which verifies before it builds."""
    options = ResolveOptions(
        requirements=("sdist-only>=1",),
        no_index=True,
        find_links=(str(_wheels_with_dep(tmp_path)),),
        env=clean_env(),
    )
    with pytest.raises(InstallError) as info:
        resolve(options)
    assert "no wheel of sdist-only>=1 for this interpreter" in str(info.value)
    assert "add --no-binary sdist-only to fetch, verify and then build it" in str(info.value)


def test_a_hash_mismatch_is_called_a_hash_mismatch(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"dep==1.0 --hash=sha256:{'0' * 64}\n")
    options = ResolveOptions(
        requirement_files=(requirements,),
        no_index=True,
        find_links=(str(_wheels_with_dep(tmp_path)),),
        env=clean_env(),
    )
    with pytest.raises(InstallError) as info:
        resolve(options)
    message = str(info.value)
    assert message.startswith("hash mismatch for dep==1.0: the requirements pin sha256 000")
    assert "nothing was installed" in message and "could not resolve" not in message


def test_a_session_resolves_without_the_targets_own_pip_files(tmp_path: Path) -> None:
    """``--isolated`` still lets pip read the machine's and the target's (site) pip.conf; only
    the null device as PIP_CONFIG_FILE turns them off. The session read the target's file for
    its settings, so the environment it resolves in must be the one sent with the request,
    never the one it started with: else the file's constraint makes pip build the trap."""
    import venv

    marker = tmp_path / "trap-backend-ran"
    trap = trap_sdist(tmp_path / "trap", "dep", "1.0", marker)
    wheels = _wheels_with_dep(tmp_path)
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(f"dep @ {trap.as_uri()}\n")
    venv.create(tmp_path / "env", with_pip=False)
    site_file = tmp_path / "env" / "pip.conf"
    site_file.write_text(f"[global]\nconstraint = {constraints}\nno-binary = :all:\n")
    python = tmp_path / "env" / "bin" / "python"
    env = {k: v for k, v in clean_env().items() if k != "PIP_CONFIG_FILE"}
    env["HOME"] = str(tmp_path)  # no user file
    options = ResolveOptions(
        requirements=("dep",), no_index=True, find_links=(str(wheels),), env=env, python=python
    )
    session = start_reading(python, env)
    try:
        settings = session.result()
        assert "constraint" in {s.name for s in settings.ignored}  # it was read, and ignored
        items = resolve(options, session)
    except InstallError:
        items = []
    finally:
        session.close()
    assert not marker.exists()
    assert [(item.name, item.url.rsplit("/", 1)[-1]) for item in items] == [
        ("dep", "dep-1.0-py3-none-any.whl")
    ]


@pytest.mark.parametrize(
    ("line", "url"),
    [
        (
            "Obtaining dependency information for dep>=1 from "
            "https://files.example/dep-1.0-py3-none-any.whl.metadata",
            "https://files.example/dep-1.0-py3-none-any.whl",
        ),
        (
            "Obtaining dependency information for dep from "
            "http://127.0.0.1:8/f/dep-1.0-py3-none-any.whl.metadata (from http://127.0.0.1:8/s/)",
            "http://127.0.0.1:8/f/dep-1.0-py3-none-any.whl",
        ),
        # pip shows credentials as ****: never fetched with those
        ("... for dep from https://user:****@host/dep-1.0-py3-none-any.whl.metadata", None),
        ("... for dep from file:///srv/dep-1.0-py3-none-any.whl.metadata", None),
        ("... for dep from https://host/dep-1.0.tar.gz.metadata", None),
        ("... for dep from https://host/dep-1.0-py3-none-any.whl", None),
        ("... for dep from https://host/dep-1.0-py3-none-any.whl.metadata#sha256=00", None),
        ("Obtaining dependency information for dep", None),
    ],
)
def test_an_announcement_names_a_wheel_by_a_plain_http_url_only(line: str, url: str) -> None:
    assert announced_wheel_url(line) == url


def test_a_session_announces_each_wheel_whose_metadata_pip_reads(tmp_path: Path) -> None:
    """With PEP 658 metadata on the index, pip fetches no wheel; the session names each one
    whose METADATA pip read, while pip runs, and the report's picks are among them."""
    index = SimpleIndex(tmp_path / "index", metadata=True)
    index.add(_app_requiring_dep(tmp_path), "app")
    index.add(_wheels_with_dep(tmp_path) / "dep-1.0-py3-none-any.whl", "dep")
    requests: list[str] = []
    announced: list[str] = []
    python = Path(sys.executable)
    with serve(index.root, requests=requests) as base:
        options = ResolveOptions(
            requirements=("app",), index_url=f"{base}/simple/", env=clean_env(), python=python
        )
        session = start_reading(python, clean_env())
        try:
            items = resolve(options, session, announce=announced.append)
        finally:
            session.close()
    assert sorted(item.name for item in items) == ["app", "dep"]
    assert sorted(announced) == sorted(item.url for item in items)
    assert not [path for path in requests if path.endswith(".whl")]
    assert len([path for path in requests if path.endswith(".whl.metadata")]) == 2


def test_a_session_asked_for_no_announcements_resolves_from_metadata_as_before(
    tmp_path: Path,
) -> None:
    """No announcer given: no pipe is read and the session resolves exactly as it did."""
    index = SimpleIndex(tmp_path / "index", metadata=True)
    index.add(_wheels_with_dep(tmp_path) / "dep-1.0-py3-none-any.whl", "dep")
    python = Path(sys.executable)
    with serve(index.root) as base:
        options = ResolveOptions(
            requirements=("dep",), index_url=f"{base}/simple/", env=clean_env(), python=python
        )
        session = start_reading(python, clean_env())
        try:
            (item,) = resolve(options, session)
        finally:
            session.close()
    assert item.name == "dep"


def _app_requiring_dep(tmp_path: Path) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    return write_wheel(
        folder / "app-1.0-py3-none-any.whl",
        wheel_members("app", "1.0", {"app/__init__.py": b""}, requires=["dep>=1"]),
        "app-1.0.dist-info/RECORD",
    )
