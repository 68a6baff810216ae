"""An in-tree backend end to end: ``python -m build`` runs the hooks in a fresh interpreter
where the project folder is not on ``sys.path``, so only ``backend-path`` finds it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import intoto_pip.demo
from intoto_pip.cli.main import main
from tests.backend.support import layout_bytes, make_keys
from tests.support.index import clean_env

pytestmark = pytest.mark.slow

DEMO_PROJECT = Path(intoto_pip.demo.__file__).parent / "data" / "project"


def python_build(project: Path, key: Path, outdir: Path) -> subprocess.CompletedProcess[str]:
    env = clean_env(INTOTO_PIP_SIGNING_KEY=str(key), SOURCE_DATE_EPOCH="1700000000")
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(outdir), "."]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)


def test_an_in_tree_backend_builds_with_evidence(tmp_path: Path) -> None:
    keys = make_keys(tmp_path / "keys")
    project = tmp_path / "project"
    shutil.copytree(DEMO_PROJECT, project)  # demo_backend.py: a backend in the project folder
    (project / "in-toto/links").mkdir(parents=True)
    layout = layout_bytes(keys.owner, [("build", [keys.builder])])
    (project / "in-toto/root.layout").write_bytes(layout)

    refused = python_build(project, keys.builder.private_path, tmp_path / "refused")
    assert refused.returncode != 0
    assert "cannot import the build backend 'demo_backend'" in refused.stderr + refused.stdout

    pyproject = project / "pyproject.toml"
    # The owner's key as PEM text: the wheel, built from the unpacked sdist, is verified too.
    pem = keys.owner.public_path.read_text()
    text = pyproject.read_text().replace('layout-keys = ["../owner/owner.pub"]', "")
    pyproject.write_text(text + f'backend-path = ["."]\nlayout-keys = ["""{pem}"""]\n')
    done = python_build(project, keys.builder.private_path, tmp_path / "dist")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stderr.count("verified against the layout") == 2, done.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    (sdist,) = (tmp_path / "dist").glob("*.tar.gz")
    owner = str(keys.owner.public_path)
    assert main(["verify", "-q", str(wheel), str(sdist), "--layout-key", owner]) == 0
