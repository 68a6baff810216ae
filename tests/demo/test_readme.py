"""The README's two quick-start commands: the demo, and the CI script that runs tox."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def quick_start_commands() -> list[str]:
    """The lines of the first console block under '## Quick start' in README.md."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```console\n(.*?)```", section, re.DOTALL)
    assert block is not None, "README.md quick start has no ```console block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_quick_start_is_the_demo_then_the_ci_script() -> None:
    first, second = quick_start_commands()
    assert first.split("&&")[-1].strip().endswith("intoto-pip demo")
    assert shlex.split(second) == ["bash", ".ci/run"]


def test_ci_script_runs_the_whole_tox_suite() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line for line in script.splitlines() if line and not line.startswith("#")]
    tox_lines = [line for line in commands if re.search(r"\btox\b.*-e\s+lint,type,py\b", line)]
    assert tox_lines, ".ci/run does not run tox -e lint,type,py"
    assert "set -euo pipefail" in commands


def test_tox_defines_the_envs_the_ci_script_names() -> None:
    tox_ini = (ROOT / "tox.ini").read_text(encoding="utf-8")
    env_list = re.search(r"^env_list\s*=\s*(.+)$", tox_ini, re.MULTILINE)
    assert env_list is not None
    assert {"lint", "type", "py"} <= {env.strip() for env in env_list.group(1).split(",")}
    assert "[testenv:lint]" in tox_ini and "[testenv:type]" in tox_ini
