"""End to end: ``intoto-pip check`` on a real virtualenv after a verified install (DESIGN §12).

One environment per module: a distribution installed verified by intoto-pip (with a console
script and a ``.data/scripts`` file whose shebang the installer rewrites), one installed by
plain pip, and pip itself. Each test changes something, checks, and puts it back.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.index import make_venv, run_intoto_pip, run_pip, site_packages
from tests.support.signing import Project
from tests.support.wheels import wheel_members, write_wheel

pytestmark = pytest.mark.slow

FILES = {
    "demo_pkg/__init__.py": b"VERSION = '1.0'\ndef main():\n    print(VERSION)\n",
    "demo_pkg/util.py": b"def helper():\n    return 42\n",
    "demo_pkg-1.0.data/scripts/demo-shell": b"#!python\nimport demo_pkg\nprint(demo_pkg.VERSION)\n",
}
ENTRY_POINTS = "[console_scripts]\ndemo-tool = demo_pkg:main\n"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Project]]:
    root = tmp_path_factory.mktemp("check")
    project = Project(root / "keys")
    wheel = project.signed_wheel(root / "dist", "demo-pkg", "1.0", FILES, entry_points=ENTRY_POINTS)
    python = make_venv(root / "venv")
    done = run_intoto_pip(
        "install",
        str(wheel),
        "--python",
        str(python),
        "--layout-key",
        str(project.owner.public_path),
    )
    assert done.returncode == 0, done.stderr
    members = wheel_members("plain", "2.0", {"plain/__init__.py": b"X = 1\n"})
    plain = write_wheel(root / "plain-2.0-py3-none-any.whl", members, "plain-2.0.dist-info/RECORD")
    assert run_pip(python, "install", "--no-index", str(plain)).returncode == 0
    yield python, project


def _check(python: Path, project: Project, *args: str) -> tuple[int, str, dict[str, object]]:
    key = ("--layout-key", str(project.owner.public_path))
    text = run_intoto_pip("check", "--python", str(python), *key, *args)
    done = run_intoto_pip("check", "--python", str(python), *key, "--json", *args)
    assert done.returncode == text.returncode, done.stderr
    assert "Traceback" not in text.stderr + done.stderr
    return text.returncode, text.stdout + text.stderr, json.loads(done.stdout)


def _dist(report: dict[str, object], name: str) -> dict[str, object]:
    dists = report["distributions"]
    assert isinstance(dists, list)
    [found] = [d for d in dists if d["name"] == name]
    assert isinstance(found, dict)
    return found


def test_an_untouched_environment_passes(env: tuple[Path, Project]) -> None:
    python, project = env
    code, output, report = _check(python, project)
    assert code == 0, output
    assert report["ok"] is True
    demo = _dist(report, "demo-pkg")
    assert demo["status"] == "intact"
    assert demo["verdict"] == "verified"
    assert demo["checked_against"] == ["RECORD", "evidence"]
    evidence = demo["evidence"]
    assert isinstance(evidence, dict)
    assert evidence["status"] == "verified"
    assert evidence["layout_keys"] == [project.owner.public.keyid]
    record = demo["verdict_record"]
    assert isinstance(record, dict)
    assert record["in_toto"]["layout_sha256"] == evidence["layout_sha256"]
    assert "demo-pkg 1.0: intact" in output


def test_a_distribution_installed_by_plain_pip_is_reported_as_such(
    env: tuple[Path, Project],
) -> None:
    python, project = env
    code, output, report = _check(python, project, "plain")
    assert code == 0
    plain = _dist(report, "plain")
    assert plain["installer"] == "pip"
    assert plain["verdict"] is None and plain["verdict_record"] is None
    assert plain["checked_against"] == ["RECORD"]
    assert "installed by pip: RECORD only" in output
    summary = report["summary"]
    assert isinstance(summary, dict) and summary["without_verdict_record"] == 1


def test_one_changed_byte_is_named(env: tuple[Path, Project]) -> None:
    python, project = env
    module = site_packages(python) / "demo_pkg" / "util.py"
    with _restored(module):
        module.write_bytes(module.read_bytes().replace(b"42", b"43"))
        code, output, report = _check(python, project)
    assert code == 1
    demo = _dist(report, "demo-pkg")
    assert demo["status"] == "changed"
    assert demo["modified"] == [str(module)]
    assert "modified: demo_pkg/util.py" in output
    assert _dist(report, "plain")["status"] == "intact"


def test_a_deleted_file_is_named(env: tuple[Path, Project]) -> None:
    python, project = env
    module = site_packages(python) / "demo_pkg" / "util.py"
    with _restored(module):
        module.unlink()
        code, output, report = _check(python, project, "demo-pkg")
    assert code == 1
    assert _dist(report, "demo-pkg")["missing"] == [str(module)]
    assert "missing: demo_pkg/util.py" in output


def test_a_file_replaced_by_a_link_to_the_same_bytes_is_not_intact(
    env: tuple[Path, Project], tmp_path: Path
) -> None:
    python, project = env
    module = site_packages(python) / "demo_pkg" / "util.py"
    with _restored(module):
        elsewhere = tmp_path / "util.py"
        elsewhere.write_bytes(module.read_bytes())
        module.unlink()
        module.symlink_to(elsewhere)  # same digest, but not the installed file any more
        code, _, report = _check(python, project, "demo-pkg")
        module.unlink()
    assert code == 1
    assert _dist(report, "demo-pkg")["missing"] == [str(module)]


def test_a_pipe_where_a_file_was_is_missing_and_does_not_stall_the_check(
    env: tuple[Path, Project],
) -> None:
    python, project = env
    module = site_packages(python) / "demo_pkg" / "util.py"
    with _restored(module):
        module.unlink()
        os.mkfifo(module)  # opened to be read, it would wait for a writer forever
        code, _, report = _check(python, project, "demo-pkg")
        module.unlink()
    assert code == 1
    assert _dist(report, "demo-pkg")["missing"] == [str(module)]


def test_an_added_pth_file_is_named(env: tuple[Path, Project]) -> None:
    python, project = env
    pth = site_packages(python) / "zz-extra.pth"
    pth.write_text("import os\n")
    try:
        code, output, report = _check(python, project)
    finally:
        pth.unlink()
    assert code == 1
    assert report["unowned"] == [str(pth)]
    assert {_dist(report, n)["status"] for n in ("demo-pkg", "plain", "pip")} == {"intact"}
    assert f"unexpected: {pth}" in output


def test_a_file_added_to_a_package_folder_is_named(env: tuple[Path, Project]) -> None:
    python, project = env
    added = site_packages(python) / "demo_pkg" / "extra.py"
    added.write_text("import os\n")
    try:
        code, _, report = _check(python, project)
    finally:
        added.unlink()
    assert code == 1
    assert _dist(report, "demo-pkg")["unexpected"] == [str(added)]


def test_a_change_hidden_by_rewriting_record_is_caught_by_the_evidence(
    env: tuple[Path, Project],
) -> None:
    python, project = env
    site = site_packages(python)
    module = site / "demo_pkg" / "util.py"
    record = site / "demo_pkg-1.0.dist-info" / "RECORD"
    with _restored(module), _restored(record):
        module.write_bytes(b"import os; os.system('evil')\n")
        _rewrite_record(record, "demo_pkg/util.py", module.read_bytes())
        code, _, report = _check(python, project)
        without_key = run_intoto_pip("check", "--python", str(python), "demo-pkg")
    assert code == 1
    assert _dist(report, "demo-pkg")["modified"] == [str(module)]
    # Without a key the evidence cannot vouch: unverifiable, never "intact".
    assert without_key.returncode == 1
    assert "no layout key is pinned for demo-pkg" in without_key.stderr


def test_evidence_removed_with_record_rewritten_is_unverifiable(
    env: tuple[Path, Project],
) -> None:
    python, project = env
    info = site_packages(python) / "demo_pkg-1.0.dist-info"
    record = info / "RECORD"
    backup = Path(tempfile.mkdtemp()) / "in-toto"
    shutil.move(info / "in-toto", backup)
    try:
        with _restored(record):
            rows = [r for r in record.read_text().splitlines() if "/in-toto/" not in r]
            record.write_text("\n".join(rows) + "\n")
            code, output, report = _check(python, project, "demo-pkg")
    finally:
        shutil.move(backup, info / "in-toto")
        backup.parent.rmdir()
    assert code == 1
    assert _dist(report, "demo-pkg")["status"] == "unverifiable"
    assert "in-toto/ is gone" in output


def test_installer_rewritten_shebang_and_console_script_are_allowed_but_nothing_else(
    env: tuple[Path, Project],
) -> None:
    python, project = env
    script = python.parent / "demo-shell"
    assert script.read_bytes().startswith(b"#!/")  # rewritten from #!python, yet intact
    record = site_packages(python) / "demo_pkg-1.0.dist-info" / "RECORD"
    row = next(line for line in record.read_text().splitlines() if "demo-shell" in line)
    tool = python.parent / "demo-tool"
    with _restored(tool), _restored(script), _restored(record):
        tool.write_bytes(tool.read_bytes() + b"# more\n")
        script.write_bytes(script.read_bytes() + b"import evil\n")
        _rewrite_record(record, row.split(",")[0], script.read_bytes())
        code, _, report = _check(python, project, "demo-pkg")
    assert code == 1
    assert _dist(report, "demo-pkg")["modified"] == sorted([str(tool), str(script)])


def test_usage_errors_exit_2(env: tuple[Path, Project], tmp_path: Path) -> None:
    python, _ = env
    done = run_intoto_pip("check", "--python", str(python), "--target", str(tmp_path))
    assert done.returncode == 2
    done = run_intoto_pip("check", "--python", str(python), "--layout-key", str(tmp_path / "no"))
    assert done.returncode == 2 and "Traceback" not in done.stderr


def _rewrite_record(record: Path, name: str, data: bytes) -> None:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")
    lines = []
    for line in record.read_text().splitlines():
        if line.startswith(f"{name},"):
            line = f"{name},sha256={digest},{len(data)}"
        lines.append(line)
    record.write_text("\n".join(lines) + "\n")


class _restored:
    """Put ``path`` back as it was (content and presence) when the block ends."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        # Kept outside the environment: a copy beside it would be an unexpected file.
        self.backup = Path(tempfile.mkdtemp()) / self.path.name
        shutil.copy2(self.path, self.backup)

    def __exit__(self, *exc: object) -> None:
        shutil.move(self.backup, self.path)
        self.backup.parent.rmdir()
