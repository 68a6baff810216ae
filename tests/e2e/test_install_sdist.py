"""Verified sdists: checked and verified first, only then built in an isolated environment
whose build requirements pass the same policy; local sdists and --no-binary from an index."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.index import SimpleIndex, make_venv, run_intoto_pip, serve
from tests.support.signing import Project, signed_sdist

pytestmark = pytest.mark.slow

# A PEP 517 backend kept in the sdist itself (backend-path), so no setuptools is needed.
BACKEND = """
import base64, hashlib, os, zipfile
{marker}
import buildhelper

def _record(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{{name}},sha256={{digest}},{{len(data)}}"

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    members = {{
        "demo/__init__.py": buildhelper.SOURCE.encode(),
        "demo-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: demo\\nVersion: 1.0\\n\\n",
        "demo-1.0.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
        ),
    }}
    name = "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as out:
        for member, data in members.items():
            out.writestr(member, data)
        rows = [_record(m, d) for m, d in members.items()] + ["demo-1.0.dist-info/RECORD,,"]
        out.writestr("demo-1.0.dist-info/RECORD", "\\n".join(rows) + "\\n")
    return name
"""
PYPROJECT = b"""[build-system]
requires = ["buildhelper"]
build-backend = "tinybackend"
backend-path = ["."]
"""


def _sdist(project: Project, folder: Path, marker: Path, *, tampered: bool = False) -> Path:
    backend = BACKEND.format(marker=f"open({str(marker)!r}, 'w').close()").encode()
    files = {"pyproject.toml": PYPROJECT, "tinybackend.py": backend, "demo/__init__.py": b""}
    sdist = signed_sdist(project, folder, "demo", "1.0", files)
    if tampered:
        # Re-sign nothing: swap the package source after signing.
        from tests.support.signing import sdist_members, write_sdist

        members = sdist_members("demo", "1.0", {**files, "demo/__init__.py": b"EVIL = 1\n"})
        import tarfile

        with tarfile.open(sdist) as original:
            for info in original.getmembers():
                if "/.in-toto/" in info.name:
                    handle = original.extractfile(info)
                    assert handle is not None
                    members[info.name] = handle.read()
        write_sdist(sdist, members)
    return sdist


def _index(project: Project, root: Path) -> SimpleIndex:
    simple = SimpleIndex(root / "index")
    helper = project.signed_wheel(
        root / "helper", "buildhelper", "1.0", {"buildhelper.py": b"SOURCE = 'VALUE = 42\\n'\n"}
    )
    simple.add(helper, "buildhelper")
    return simple


def _value(python: Path) -> str:
    done = subprocess.run(
        [str(python), "-c", "import demo; print(demo.VALUE)"], capture_output=True, text=True
    )
    return done.stdout.strip() if done.returncode == 0 else "absent"


def test_local_sdist_verified_then_built(project: Project, tmp_path: Path) -> None:
    simple = _index(project, tmp_path)
    marker = tmp_path / "backend-ran"
    sdist = _sdist(project, tmp_path / "dist", marker)
    python = make_venv(tmp_path / "venv")
    key = str(project.owner.public_path)
    with serve(simple.root) as url:
        done = run_intoto_pip(
            "install",
            str(sdist),
            "--python",
            str(python),
            "--layout-key",
            key,
            "--index-url",
            f"{url}/simple/",
        )
    assert done.returncode == 0, done.stderr
    assert marker.exists()
    assert _value(python) == "42"
    # The build requirement went into the throw-away build environment, not the target.
    check = subprocess.run([str(python), "-c", "import buildhelper"], capture_output=True)
    assert check.returncode != 0


def test_tampered_sdist_is_never_built(project: Project, tmp_path: Path) -> None:
    marker = tmp_path / "backend-ran"
    sdist = _sdist(project, tmp_path / "dist", marker, tampered=True)
    python = make_venv(tmp_path / "venv")
    done = run_intoto_pip(
        "install",
        str(sdist),
        "--python",
        str(python),
        "--layout-key",
        str(project.owner.public_path),
    )
    assert done.returncode == 1
    assert "NOT verified" in done.stderr and "Traceback" not in done.stderr
    assert not marker.exists()
    assert _value(python) == "absent"


def test_no_binary_fetches_the_sdist_from_the_index(project: Project, tmp_path: Path) -> None:
    simple = _index(project, tmp_path)
    marker = tmp_path / "backend-ran"
    simple.add(_sdist(project, tmp_path / "dist", marker), "demo")
    python = make_venv(tmp_path / "venv")
    with serve(simple.root) as url:
        done = run_intoto_pip(
            "install",
            "demo==1.0",
            "--no-binary",
            "demo",
            "--python",
            str(python),
            "--layout-key",
            str(project.owner.public_path),
            "--index-url",
            f"{url}/simple/",
        )
    assert done.returncode == 0, done.stderr
    assert _value(python) == "42"


def test_unverified_build_requirement_stops_the_build(project: Project, tmp_path: Path) -> None:
    simple = SimpleIndex(tmp_path / "index")
    from tests.support.wheels import wheel_members, write_wheel

    members = wheel_members("buildhelper", "1.0", {"buildhelper.py": b"SOURCE = ''\n"})
    helper = write_wheel(
        tmp_path / "buildhelper-1.0-py3-none-any.whl", members, "buildhelper-1.0.dist-info/RECORD"
    )
    simple.add(helper, "buildhelper")
    marker = tmp_path / "backend-ran"
    sdist = _sdist(project, tmp_path / "dist", marker)
    python = make_venv(tmp_path / "venv")
    with serve(simple.root) as url:
        done = run_intoto_pip(
            "install",
            str(sdist),
            "--python",
            str(python),
            "--index-url",
            f"{url}/simple/",
            "--layout-key",
            str(project.owner.public_path),
        )
    assert done.returncode == 1
    assert "build requirement buildhelper-1.0-py3-none-any.whl refused" in done.stderr
    # The same way forward as for a top-level refusal.
    assert "(to build with them unverified: --allow-unverified buildhelper)" in done.stderr
    assert not marker.exists()
