"""What installation promises about the target, end to end with real virtualenvs and genuinely
signed wheels (DESIGN §5): the bytes installed are those of the listing verified; a wheel
writes only its own files, never the interpreter; local detached evidence is found."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

from intoto_pip.cli.main import main
from tests.support.index import run_intoto_pip, site_packages
from tests.support.signing import Project
from tests.support.tree import diff, snapshot
from tests.support.wheels import dist_info, wheel_filename, wheel_members, write_wheel

pytestmark = pytest.mark.slow


def _install(python: Path, project: Project, *args: str) -> list[str]:
    return [
        "install",
        *args,
        "--no-deps",
        "--python",
        str(python),
        "--layout-key",
        str(project.owner.public_path),
    ]


# --- one zip, two readings -------------------------------------------------------------------


def _parts(data: bytes) -> tuple[bytes, bytes, int]:
    """(local headers and data, central directory, entry count) of a plain zip."""
    _sig, _d, _cd, _n, count, cd_size, cd_offset, _c = struct.unpack("<4sHHHHIIH", data[-22:])
    return data[:cd_offset], data[cd_offset : cd_offset + cd_size], count


def _relocated(central: bytes, delta: int) -> bytes:
    out, pos = bytearray(central), 0
    while pos < len(out):
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", out, pos + 28)
        (offset,) = struct.unpack_from("<I", out, pos + 42)
        struct.pack_into("<I", out, pos + 42, offset + delta)
        pos += 46 + name_len + extra_len + comment_len
    return bytes(out)


def two_readings(signed: bytes, other: bytes) -> bytes:
    """``signed`` as our reader sees it; ``other`` as Python's zipfile sees it.

    The zip64 end record carries "extensible data" holding ``other``'s members, its central
    directory and a second zip64 end record at the end. Our reader follows the zip64 locator to
    the first record; zipfile assumes the record sits right before the locator and reads the
    second one, which points at ``other``'s central directory."""
    signed_body, signed_cd, signed_count = _parts(signed)
    other_body, other_cd, other_count = _parts(other)
    record_at = len(signed_body) + len(signed_cd)
    base = record_at + 56
    other_cd_at = base + len(other_body)
    end64 = "<4sQHHIIQQQQ"
    fake = struct.pack(end64, b"PK\x06\x06", 44, 45, 45, 0, 0, other_count, other_count,
                       len(other_cd), other_cd_at)  # fmt: skip
    extensible = other_body + _relocated(other_cd, base) + fake
    real = struct.pack(end64, b"PK\x06\x06", 44 + len(extensible), 45, 45, 0, 0, signed_count,
                       signed_count, len(signed_cd), len(signed_body))  # fmt: skip
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, record_at, 1)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return signed_body + signed_cd + real + extensible + locator + end


def test_a_zip_with_two_readings_installs_only_what_was_verified(
    venv: Path, project: Project, tmp_path: Path
) -> None:
    """A genuinely signed wheel whose bytes zipfile reads as another wheel: either refused, or
    installed as our reader (the one that verified it) reads it; never zipfile's reading."""
    files = {"demo_pkg/__init__.py": b"WHO = 'signed'\n"}
    signed = project.signed_wheel(tmp_path / "signed", "demo-pkg", "1.0", files)
    evil_members = wheel_members("demo-pkg", "1.0", {"demo_pkg/__init__.py": b"WHO = 'evil'\n"})
    info = dist_info("demo-pkg", "1.0")
    evil = write_wheel(tmp_path / "evil.whl", evil_members, f"{info}/RECORD")
    crafted = tmp_path / "crafted" / wheel_filename("demo-pkg", "1.0")
    crafted.parent.mkdir()
    crafted.write_bytes(two_readings(signed.read_bytes(), evil.read_bytes()))
    import zipfile

    assert zipfile.ZipFile(crafted).read("demo_pkg/__init__.py") == b"WHO = 'evil'\n"
    code = main(_install(venv, project, str(crafted)))
    installed = site_packages(venv) / "demo_pkg" / "__init__.py"
    if code == 0:
        assert installed.read_bytes() == b"WHO = 'signed'\n"
    else:
        assert code == 1 and not installed.exists()


# --- a wheel writes only its own files --------------------------------------------------------


def test_a_verified_wheel_may_not_replace_the_interpreter(
    venv: Path, project: Project, tmp_path: Path
) -> None:
    """``NAME.data/scripts/python`` would overwrite the venv's ``bin/python``: refused by
    name, nothing written. (Before: written, and then run to compile bytecode.)"""
    data = "demo_pkg-1.0.data/scripts/python"
    files = {"demo_pkg/__init__.py": b"X = 1\n", data: b"#!/bin/sh\necho owned\n"}
    wheel = project.signed_wheel(tmp_path / "w", "demo-pkg", "1.0", files)
    before = snapshot(venv.parent.parent)
    done = run_intoto_pip(*_install(venv, project, str(wheel)))
    assert done.returncode == 1, done.stderr
    assert "bin/python (owned by the interpreter)" in done.stderr
    assert "Traceback" not in done.stderr
    assert diff(before, snapshot(venv.parent.parent)) == []


@pytest.mark.parametrize("script", ["python3", "pip"])
def test_a_console_script_may_not_take_the_name_of_the_interpreter_or_another_distribution(
    script: str, venv: Path, project: Project, tmp_path: Path
) -> None:
    entry_points = f"[console_scripts]\n{script} = demo_pkg:main\n"
    files = {"demo_pkg/__init__.py": b"def main():\n    pass\n"}
    wheel = project.signed_wheel(
        tmp_path / "w", "demo-pkg", "1.0", files, entry_points=entry_points
    )
    before = snapshot(venv.parent.parent)
    done = run_intoto_pip(*_install(venv, project, str(wheel)))
    assert done.returncode == 1, done.stderr
    owner = "the interpreter" if script == "python3" else "distribution 'pip'"
    assert f"bin/{script} (owned by {owner})" in done.stderr
    assert diff(before, snapshot(venv.parent.parent)) == []


def test_a_wheel_may_not_overwrite_a_file_another_distribution_owns(
    venv: Path, project: Project, tmp_path: Path
) -> None:
    first = project.signed_wheel(tmp_path / "a", "first", "1.0", {"shared/mod.py": b"A = 1\n"})
    assert main(_install(venv, project, str(first))) == 0
    second = project.signed_wheel(tmp_path / "b", "second", "1.0", {"shared/mod.py": b"B = 1\n"})
    before = snapshot(venv.parent.parent)
    done = run_intoto_pip(*_install(venv, project, str(second)))
    assert done.returncode == 1, done.stderr
    assert "shared/mod.py (owned by distribution 'first')" in done.stderr
    assert diff(before, snapshot(venv.parent.parent)) == []
    # Two wheels of one installation may not write one file either.
    third = project.signed_wheel(tmp_path / "c", "third", "1.0", {"other/x.py": b"C = 1\n"})
    fourth = project.signed_wheel(tmp_path / "d", "fourth", "1.0", {"other/x.py": b"D = 1\n"})
    done = run_intoto_pip(*_install(venv, project, str(third), str(fourth)))
    assert done.returncode == 1, done.stderr
    assert "other/x.py (owned by distribution" in done.stderr
    assert diff(before, snapshot(venv.parent.parent)) == []


def test_compiling_runs_only_the_interpreter_that_was_probed(
    venv: Path,
    project: Project,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """If the interpreter changes between the probe and compiling (here: while the wheel's
    files are written), nothing runs it and the installation is rolled back."""
    from intoto_pip.install import installer_step

    wheel = project.signed_wheel(tmp_path / "w", "demo-pkg", "1.0", {"demo_pkg/m.py": b"X=1\n"})
    marker = tmp_path / "impostor-ran"
    original = installer_step.RecordingDestination.write_to_fs

    def swap_then_write(self: installer_step.RecordingDestination, *args: Any, **kw: Any) -> Any:
        if venv.is_symlink():
            venv.unlink()
            venv.write_text(f"#!/bin/sh\ntouch {marker}\n")
            venv.chmod(0o755)
        return original(self, *args, **kw)

    monkeypatch.setattr(installer_step.RecordingDestination, "write_to_fs", swap_then_write)
    site = site_packages(venv)
    assert main(_install(venv, project, str(wheel))) == 1
    assert "the interpreter changed since it was probed" in capsys.readouterr().err
    assert not marker.exists(), "the replaced interpreter was run"
    assert not (site / "demo_pkg").exists()


# --- detached evidence beside a local archive -------------------------------------------------


def test_install_finds_detached_evidence_beside_a_local_wheel(
    venv: Path, project: Project, tmp_path: Path
) -> None:
    """``verify`` finds ``pkg.whl.intoto/`` beside a local wheel; so must ``install``, which
    reads it once, with the archive, into its private copy's side."""
    info = dist_info("demo-pkg", "1.0")
    members = wheel_members("demo-pkg", "1.0", {"demo_pkg/__init__.py": b"WHO = 'detached'\n"})
    wheel = write_wheel(tmp_path / wheel_filename("demo-pkg", "1.0"), members, f"{info}/RECORD")
    evidence = tmp_path / f"{wheel.name}.intoto"
    evidence.mkdir()
    for name, data in project.metadata_files({wheel.name: wheel.read_bytes()}).items():
        (evidence / name).write_bytes(data)
    key = str(project.owner.public_path)
    verified = run_intoto_pip("verify", str(wheel), "--layout-key", key)
    assert verified.returncode == 0, verified.stderr
    done = run_intoto_pip(*_install(venv, project, str(wheel)))
    assert done.returncode == 0, done.stderr
    imported = subprocess.run(
        [str(venv), "-c", "import demo_pkg; print(demo_pkg.WHO)"], capture_output=True, text=True
    )
    assert imported.stdout == "detached\n", imported.stderr


def test_a_wheel_may_not_ship_its_own_verdict_record(
    venv: Path, project: Project, tmp_path: Path
) -> None:
    """``intoto-pip check`` reads ``<dist-info>/intoto-pip.json`` to say how a distribution
    got in: a wheel shipping one would claim its own verdict. Refused, nothing written."""
    claim = b'{"verdict": "verified"}'
    files = {"demo_pkg/__init__.py": b"X = 1\n", "demo_pkg-1.0.dist-info/intoto-pip.json": claim}
    wheel = project.signed_wheel(tmp_path / "w", "demo-pkg", "1.0", files)
    before = snapshot(venv.parent.parent)
    done = run_intoto_pip(*_install(venv, project, str(wheel)))
    assert done.returncode == 1, done.stderr
    assert "it ships demo_pkg-1.0.dist-info/intoto-pip.json" in done.stderr
    assert diff(before, snapshot(venv.parent.parent)) == []
