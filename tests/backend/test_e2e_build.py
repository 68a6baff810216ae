"""Real projects, real backends: ``python -m build``, then verify, reference-verify and install.

Each project follows the producer guide (docs/producer-guide.md): a layout written in TOML
and compiled with ``intoto-pip layout create``, a ``tag`` link recorded with ``intoto-pip run``
as the earlier evidence, and ``python -m build`` (sdist, then a wheel from the unpacked sdist)
with the builder's key in ``INTOTO_PIP_SIGNING_KEY``. Builds run with ``--no-isolation``:
an isolated build would fetch ``intoto-pip`` from PyPI, and the backends are installed in the
test environment instead (the ``test`` extra).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from intoto_pip.cli.main import main
from tests.support.index import clean_env, make_venv
from tests.support.signing import KeyPair, make_key

pytestmark = pytest.mark.slow

SOURCE_DATE_EPOCH = "1700000000"
LAYOUT_TOML = """\
expires = "30d"
readme = "demo-pkg: the release manager tags the tree, the builder builds each archive."

[keys]
release = "release.pub"
builder = "builder.pub"

[[steps]]
name = "tag"
functionaries = ["release"]
expected_products = ["ALLOW *"]

[[steps]]
name = "build"
functionaries = ["builder"]
expected_materials = [
  "MATCH * WITH PRODUCTS FROM tag",
  "ALLOW PKG-INFO",          # written into every sdist
  "ALLOW setup.cfg",         # setuptools writes one into its sdists
  "ALLOW pyproject.toml",    # pdm-backend reformats it in its sdists
  "DISALLOW *",
]
expected_products = ["ALLOW *"]
"""
# The same steps, plus an inspection the reference runs in the unpacked wheel: it binds
# the wheel's files to the build link's products, as our built-in final-product check does.
INSPECTION_TOML = """
[[inspections]]
name = "compare"
run = ["true"]
expected_materials = ["MATCH * WITH PRODUCTS FROM build", "DISALLOW *"]
"""


@dataclass(frozen=True)
class Backend:
    requirement: str
    name: str
    module: str
    extra: str = ""


BACKENDS = {
    "setuptools": Backend('"setuptools>=68"', "setuptools.build_meta", "setuptools"),
    "hatchling": Backend('"hatchling"', "hatchling.build", "hatchling"),
    "flit-core": Backend('"flit_core>=3.4"', "flit_core.buildapi", "flit_core"),
    "pdm-backend": Backend('"pdm-backend"', "pdm.backend", "pdm.backend"),
}


@dataclass(frozen=True)
class Keys:
    folder: Path
    owner: KeyPair
    release: KeyPair
    builder: KeyPair


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    folder = tmp_path_factory.mktemp("keys")
    return Keys(
        folder=folder,
        owner=make_key(folder, "owner"),
        release=make_key(folder, "release"),
        builder=make_key(folder, "builder"),
    )


def write_project(root: Path, backend: Backend) -> Path:
    pyproject = f"""\
[build-system]
requires = ["intoto-pip", {backend.requirement}]
build-backend = "intoto_pip.backend"

[project]
name = "demo-pkg"
version = "1.0"
description = "A demo package."

[tool.intoto-pip.build]
backend = "{backend.name}"
layout = "in-toto/root.layout"
links = "in-toto/links"
require-signature = true
{backend.extra}"""
    files = {
        "pyproject.toml": pyproject,
        "src/demo_pkg/__init__.py": '"""A demo package."""\n\n__version__ = "1.0"\nVALUE = 42\n',
        "src/demo_pkg/data.txt": "some data\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def cli(cwd: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> None:
    with monkeypatch.context() as patch:
        patch.chdir(cwd)
        assert main(list(args)) == 0, args


def prepare_evidence(project: Path, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the project owner and the release manager do before any build."""
    (keys.folder / "layout.toml").write_text(LAYOUT_TOML)
    (project / "in-toto/links").mkdir(parents=True)
    owner_key = str(keys.owner.private_path)
    layout_toml = str(keys.folder / "layout.toml")
    cli(
        project,
        monkeypatch,
        "layout",
        "create",
        layout_toml,
        "-o",
        "in-toto/root.layout",
        "-k",
        owner_key,
    )
    release_key = str(keys.release.private_path)
    cli(
        project,
        monkeypatch,
        "run",
        "-n",
        "tag",
        "--signing-key",
        release_key,
        "-p",
        ".",
        "-d",
        "in-toto/links",
        "-x",
        "-q",
    )


def python_build(project: Path, keys: Keys, outdir: Path) -> tuple[Path, Path]:
    env = clean_env(
        INTOTO_PIP_SIGNING_KEY=str(keys.builder.private_path), SOURCE_DATE_EPOCH=SOURCE_DATE_EPOCH
    )
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(outdir), "."]
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,) = outdir.glob("*.whl")
    (sdist,) = outdir.glob("*.tar.gz")
    return wheel, sdist


def reference_verify(wheel: Path, keys: Keys, workdir: Path, layout: Path | None = None) -> None:
    """Run in-toto-verify in the unpacked wheel, with the embedded metadata as link folder."""
    tree, links = workdir / "tree", workdir / "links"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tree)
    (dist_info,) = tree.glob("*.dist-info")
    shutil.move(dist_info / "in-toto", links)
    (dist_info / "RECORD").unlink()
    command = [
        str(Path(sys.executable).with_name("in-toto-verify")),
        "--layout", str(layout or links / "root.layout"),
        "--verification-keys", str(keys.owner.public_path),
        "--link-dir", str(links),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=tree, env=clean_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def install_and_import(wheel: Path, keys: Keys, venv_dir: Path) -> str:
    python = make_venv(venv_dir)
    owner = str(keys.owner.public_path)
    assert main(["install", "-q", str(wheel), "--python", str(python), "--layout-key", owner]) == 0
    done = subprocess.run(
        [str(python), "-c", "import demo_pkg; print(demo_pkg.VALUE)"],
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    return done.stdout.strip() or done.stderr


@pytest.mark.parametrize("backend_key", sorted(BACKENDS))
def test_build_verify_and_install(
    backend_key: str, keys: Keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = BACKENDS[backend_key]
    if importlib.util.find_spec(backend.module.split(".")[0]) is None:
        # The test extra installs every backend: a missing one in CI is a failure, not a skip.
        if os.environ.get("CI"):
            pytest.fail(f"{backend_key} is not installed, but it is in the test extra")
        pytest.skip(f"{backend_key} is not installed (it is in the test extra)")
    project = write_project(tmp_path / "project", backend)
    prepare_evidence(project, keys, monkeypatch)
    wheel, sdist = python_build(project, keys, tmp_path / "dist")
    owner = str(keys.owner.public_path)
    assert main(["verify", str(wheel), str(sdist), "--layout-key", owner]) == 0
    reference_verify(wheel, keys, tmp_path / "reference")
    cli(keys.folder, monkeypatch, "layout", "create", write_inspection_toml(keys), "-o",
        str(tmp_path / "inspect.layout"), "-k", str(keys.owner.private_path))  # fmt: skip
    reference_verify(wheel, keys, tmp_path / "reference-inspect", tmp_path / "inspect.layout")
    assert install_and_import(wheel, keys, tmp_path / "venv") == "42"


def write_inspection_toml(keys: Keys) -> str:
    path = keys.folder / "inspect.toml"
    path.write_text(LAYOUT_TOML + INSPECTION_TOML)
    return str(path)


def test_two_builds_of_one_tree_are_byte_identical(
    keys: Keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ed25519 signatures are deterministic, so the whole archives must match; with RSA-PSS
    # or ECDSA only the link's signature (and the RECORD line hashing the link) would differ.
    project = write_project(tmp_path / "project", BACKENDS["setuptools"])
    prepare_evidence(project, keys, monkeypatch)
    first = python_build(project, keys, tmp_path / "one")
    second = python_build(project, keys, tmp_path / "two")
    for one, two in zip(first, second, strict=True):
        assert one.read_bytes() == two.read_bytes(), one.name
