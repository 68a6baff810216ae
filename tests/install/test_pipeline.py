"""The install pipeline's decisions, without a virtual environment: usage errors, the
externally-managed marker, --allow-unverified, --dry-run, --target."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from intoto_pip.cli.main import main
from intoto_pip.errors import InputError
from intoto_pip.install.pipeline import InstallOptions, _check_managed
from intoto_pip.install.target import probe_target
from tests.support.index import SimpleIndex, serve
from tests.support.signing import Project
from tests.support.wheels import wheel_members, write_wheel


def _plain(folder: Path, version: str = "1.0") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    members = wheel_members("demo", version, {"demo/__init__.py": b"X = 1\n"})
    return write_wheel(
        folder / f"demo-{version}-py3-none-any.whl", members, f"demo-{version}.dist-info/RECORD"
    )


def test_externally_managed_is_respected(tmp_path: Path) -> None:
    target = replace(probe_target(Path(sys.executable)), externally_managed="Use apt.\n")
    with pytest.raises(InputError, match="externally managed"):
        _check_managed(target, InstallOptions())
    _check_managed(target, InstallOptions(target_dir=tmp_path))
    _check_managed(target, InstallOptions(dry_run=True))
    _check_managed(target, InstallOptions(break_system_packages=True))


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["install"]) == 2
    assert main(["install", str(tmp_path / "missing.whl"), "--target", str(tmp_path)]) == 2
    one, two = _plain(tmp_path / "a", "1.0"), _plain(tmp_path / "b", "2.0")
    args = [
        "install",
        str(one),
        str(two),
        "--target",
        str(tmp_path / "t"),
        "--allow-unverified",
        "demo",
    ]
    assert main([*args, "--python", sys.executable]) == 2
    assert "are both demo" in capsys.readouterr().err
    assert main(["install", str(one), "--layout-key", str(tmp_path / "nokey.pub")]) == 2


def test_allow_all_needs_no_key_and_target_dir_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = _plain(tmp_path / "dist")
    target = tmp_path / "target"
    base = ["install", str(wheel), "--python", sys.executable, "--target", str(target)]
    assert main([*base, "--dry-run", "--allow-unverified", ":all:"]) == 0
    assert not target.exists()
    assert main([*base, "--allow-unverified", ":all:", "--report", str(tmp_path / "r.json")]) == 0
    assert (target / "demo" / "__init__.py").read_text() == "X = 1\n"
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["distributions"][0]["verdict"] == "allowed-unverified"
    assert "WITHOUT verification" in capsys.readouterr().err


def test_metadata_present_but_no_key_is_refused(tmp_path: Path) -> None:
    project = Project(tmp_path / "keys")
    wheel = project.signed_wheel(tmp_path / "dist", "demo", "1.0", {"demo/__init__.py": b""})
    target = tmp_path / "target"
    args = ["install", str(wheel), "--python", sys.executable, "--target", str(target)]
    assert main(args) == 1
    assert not target.exists()
    assert main([*args, "--layout-key", str(project.owner.public_path)]) == 0
    assert (target / "demo-1.0.dist-info" / "in-toto" / "root.layout").is_file()


def test_allowed_unverified_archive_is_still_checked(tmp_path: Path) -> None:
    members = wheel_members("demo", "1.0", {"demo/__init__.py": b"X = 1\n"})
    info = "demo-1.0.dist-info"
    record = "".join(f"{name},sha256=AAAA,1\n" for name in members) + f"{info}/RECORD,,\n"
    members[f"{info}/RECORD"] = record.encode()
    (tmp_path / "dist").mkdir()
    wheel = write_wheel(
        tmp_path / "dist" / "demo-1.0-py3-none-any.whl", members, f"{info}/RECORD", record=False
    )
    target = tmp_path / "target"
    args = ["install", str(wheel), "--python", sys.executable, "--target", str(target)]
    assert main([*args, "--allow-unverified", "demo"]) == 1
    assert not target.exists()


def test_an_unwritable_report_is_refused_before_installing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel, target = _plain(tmp_path / "dist"), tmp_path / "target"
    args = ["install", str(wheel), "--target", str(target), "--allow-unverified", "demo"]
    assert main([*args, "--report", str(tmp_path / "missing" / "r.json")]) == 2
    assert main([*args, "--report", str(tmp_path)]) == 2
    assert not target.exists()
    err = capsys.readouterr().err
    assert err.count("cannot write a file there") == 2 and "Traceback" not in err


def test_allowed_with_metadata_but_no_key_says_the_metadata_was_not_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = Project(tmp_path / "keys")
    wheel = project.signed_wheel(tmp_path / "dist", "demo", "1.0", {"demo/__init__.py": b""})
    target = tmp_path / "target"
    args = ["install", str(wheel), "--python", sys.executable, "--target", str(target)]
    assert main([*args, "--allow-unverified", "Demo", "--report", str(tmp_path / "r.json")]) == 0
    err = capsys.readouterr().err
    assert "demo installed WITHOUT verification" in err
    assert "in-toto metadata was not checked" in err
    entry = json.loads((tmp_path / "r.json").read_text())["distributions"][0]
    assert entry["verdict"] == "allowed-unverified" and "not checked" in entry["reason"]
    # --allow-unverified names one project only.
    other = _plain(tmp_path / "other")
    assert main(["install", str(other), "--target", str(target), "--allow-unverified", "dem"]) == 1


def test_no_binary_with_no_index_contacts_no_index(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("the index was contacted")

    monkeypatch.setattr("urllib.request.urlopen", fail)
    args = ["install", "demo", "--no-binary", "demo", "--no-index", "--dry-run"]
    assert main([*args, "--allow-unverified", "demo"]) == 2


def _spy_on_verify_archives(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The file names of each call to the parallel verification, as it is called."""
    from intoto_pip.verify import parallel as verify_many

    calls: list[list[str]] = []
    real = verify_many.verify_archives

    def spy(paths: list[Path], request: object, **kwargs: object) -> object:
        calls.append([path.name for path in paths])
        return real(paths, request, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(verify_many, "verify_archives", spy)
    return calls


def test_local_archives_are_verified_together_and_one_refusal_installs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every local archive goes to one parallel verification (so independent archives are
    verified at once); every verdict is reported, and one refusal means nothing is installed."""
    calls = _spy_on_verify_archives(monkeypatch)
    project = Project(tmp_path / "keys")
    good = project.signed_wheel(tmp_path / "a", "good", "1.0", {"good/__init__.py": b""})
    bad = project.signed_wheel(
        tmp_path / "b", "bad", "1.0", {"bad/__init__.py": b""}, tamper={"bad/__init__.py": b"1"}
    )
    target = tmp_path / "target"
    key = ["--layout-key", str(project.owner.public_path)]
    args = ["install", str(bad), str(good), "--python", sys.executable, "--target", str(target)]
    assert main([*args, *key]) == 1
    assert calls == [[bad.name, good.name]]
    err = capsys.readouterr().err
    assert f"{bad.name}: NOT verified" in err and f"{good.name}: verified" in err
    assert not target.exists()


def test_wheels_pip_picks_from_metadata_are_fetched_and_verified_once_while_it_resolves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An index serving PEP 658 metadata (as PyPI): pip reads only METADATA files; each wheel
    is downloaded once, while pip resolves, and verified then (nothing is left to verify after
    the report), and what is installed is what the index lists. Each is opened for installing
    once, while pip resolves, and that opened wheel is what is installed."""
    from intoto_pip.install import wheel_source

    after_report = _spy_on_verify_archives(monkeypatch)
    opened: list[str] = []
    real_open = wheel_source.open_wheel

    def counting_open(path: Path, **kwargs: Any) -> Any:
        opened.append(path.name)
        return real_open(path, **kwargs)

    monkeypatch.setattr(wheel_source, "open_wheel", counting_open)
    project = Project(tmp_path / "keys")
    index = SimpleIndex(tmp_path / "index", metadata=True)
    app = index.add(_app(project, tmp_path / "a", "dep>=1"), "app")
    dep = index.add(
        project.signed_wheel(tmp_path / "d", "dep", "1.0", {"dep/__init__.py": b"V = 1\n"}),
        "dep",
    )
    target = tmp_path / "target"
    code, requests = _install_app(index, project, target)
    assert code == 0, capsys.readouterr().err
    assert [name for call in after_report for name in call] == []  # all verified early
    wheels = sorted(path for path in requests if path.endswith(".whl"))
    assert wheels == [f"/files/{app.name}", f"/files/{dep.name}"]
    assert sorted(opened) == sorted([app.name, dep.name])
    assert (target / "dep" / "__init__.py").read_bytes() == b"V = 1\n"


def test_a_failed_resolution_stops_what_was_fetched_early_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """pip reads app's METADATA (so app is fetched and verified early), then finds no wheel of
    its dependency: the install fails as before, and the early work leaves no file behind."""
    import tempfile

    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    project = Project(tmp_path / "keys")
    index = SimpleIndex(tmp_path / "index", metadata=True)
    index.add(_app(project, tmp_path / "a", "missing-dep"), "app")
    target = tmp_path / "target"
    code, requests = _install_app(index, project, target)
    assert code == 1
    assert "no wheel of missing-dep" in capsys.readouterr().err
    assert "/files/app-1.0-py3-none-any.whl" in requests  # it was fetched early
    assert not target.exists()
    # the private folder is gone (multiprocessing's own pymp-* folder goes at exit)
    assert [p.name for p in private.iterdir() if p.name.startswith("intoto-pip-")] == []


def _app(project: Project, folder: Path, requirement: str) -> Path:
    return project.signed_wheel(
        folder, "app", "1.0", {"app/__init__.py": b""}, requires=[requirement]
    )


def _install_app(index: SimpleIndex, project: Project, target: Path) -> tuple[int, list[str]]:
    """``intoto-pip install app`` from ``index`` into ``target``: the exit code, and every
    path the index was asked for."""
    requests: list[str] = []
    with serve(index.root, requests=requests) as base:
        args = ["install", "app", "--index-url", f"{base}/simple/", "--target", str(target)]
        args += ["--python", sys.executable, "--layout-key", str(project.owner.public_path)]
        return main(args), requests
