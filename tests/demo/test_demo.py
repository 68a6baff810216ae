"""``intoto-pip demo`` plays the whole story, and its refusal step really refuses.

These run the real commands end to end (keys, layout, links, a PEP 517 build, two venvs),
so they are marked slow; each takes a few seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from intoto_pip.demo import StoryError, StoryOptions, play, tamper
from intoto_pip.demo import story as story_module
from intoto_pip.demo.narration import Event, Shell

SWAPPED = "greeting/__init__.py"


def _demo(*args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return subprocess.run(
        [*prefix, sys.executable, "-m", "intoto_pip.cli.main", "demo", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )


@pytest.mark.slow
def test_demo_goes_as_told_and_shows_the_refusal(tmp_path: Path) -> None:
    kept = tmp_path / "story"
    done = _demo("--keep", str(kept))
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "The story went as told" in out
    refusal = [line for line in out.splitlines() if "intoto-pip: error:" in line]
    assert refusal, "the demo's output shows no refusal"
    assert any(SWAPPED in line for line in refusal)
    # The kept folder holds what the story claims: the good wheel installed, the forged one not.
    site = list((kept / "consumer" / "venv").glob("lib/python*/site-packages/greeting"))
    assert len(site) == 1 and (site[0] / "__init__.py").is_file()
    assert not list((kept / "consumer" / "venv2").glob("lib/python*/site-packages/greeting*"))
    forged = kept / "attacker" / "greeting-1.0-py3-none-any.whl"
    with zipfile.ZipFile(forged) as wheel:
        assert wheel.read(SWAPPED) == story_module.ATTACKER_CODE


@pytest.mark.slow
def test_demo_quiet_prints_only_the_verdict() -> None:
    done = _demo("-q")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0].startswith("intoto-pip demo: the story went as told")
    assert len(done.stdout.splitlines()) == 1


def _offline_prefix() -> tuple[str, ...]:
    """``unshare -rn``: run in a new network namespace with no interfaces but loopback."""
    prefix = ("unshare", "-rn")
    try:
        probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10, check=False)
    except OSError:
        probe = None
    if probe is None or probe.returncode != 0:
        pytest.skip("unshare -rn (user and network namespaces) is not available here")
    return prefix


@pytest.mark.slow
def test_demo_needs_no_network() -> None:
    done = _demo("-q", prefix=_offline_prefix())
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_story_fails_at_the_attack_when_the_install_does_not_refuse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An "attack" that changes nothing must make the refusal step fail: proof that the demo
    # checks the install's verdict rather than assuming it.
    def harmless(source: Path, target: Path, member: str, data: bytes) -> None:
        target.write_bytes(source.read_bytes())

    monkeypatch.setattr(tamper, "swap_member", harmless)
    commands: list[str] = []

    def record(event: Event) -> None:
        if isinstance(event, Shell):
            commands.append(event.command)

    with pytest.raises(StoryError) as failure:
        play(StoryOptions(folder=tmp_path, narrate=record))
    assert failure.value.chapter.number == 6
    assert "exited with 0, expected 1" in str(failure.value)
    assert commands[-1].startswith("intoto-pip install ../attacker/greeting-1.0-py3-none-any.whl")
    # ... and the unchanged wheel did get installed there: the install really ran.
    assert list((tmp_path / "consumer" / "venv2").glob("lib/python*/site-packages/greeting"))
