"""run_step: the link it writes, where, and what it leaves behind on failure."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from intoto_pip.artifacts.collect import RecordOptions
from intoto_pip.crypto.keys import Signer
from intoto_pip.errors import InputError, KeyLoadError
from intoto_pip.models.envelope import parse_envelope, verified_keys
from intoto_pip.models.link import Link
from intoto_pip.produce.command import CommandError
from intoto_pip.produce.run import RunOptions, run_step
from tests.produce._keys import write_key

PY = sys.executable


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src.txt").write_bytes(b"source\n")
    return tmp_path


def load_link(path: Path) -> tuple[Link, str]:
    envelope = parse_envelope(path.read_bytes(), what=str(path))
    return Link.from_dict(envelope.payload), envelope.kind


@pytest.mark.parametrize("dsse", [False, True])
def test_run_records_materials_command_and_products(workdir: Path, dsse: bool) -> None:
    keys = write_key(workdir, "alice")
    signer = keys.signer()
    command = (PY, "-c", "open('out.txt', 'w').write('built')")
    options = RunOptions(
        step="build",
        materials=("src.txt",),
        products=("out.txt",),
        command=command,
        use_dsse=dsse,
    )
    result = run_step(options, signer)
    assert result.link_path == Path(f"build.{signer.public_key.keyid[:8]}.link")
    assert result.return_value == 0
    envelope = parse_envelope(result.link_path.read_bytes(), what="link")
    assert envelope.kind == ("dsse" if dsse else "metablock")
    assert verified_keys(envelope, [signer.public_key]) == [signer.public_key]
    link = Link.from_dict(envelope.payload)
    assert link.command == command
    assert set(link.materials) == {"src.txt"} and set(link.products) == {"out.txt"}
    assert link.byproducts == {"return-value": 0, "stdout": "", "stderr": ""}
    assert link.environment == {}


def test_no_command_records_empty_byproducts(workdir: Path) -> None:
    signer = write_key(workdir, "alice").signer()
    result = run_step(RunOptions(step="review", materials=("src.txt",)), signer)
    link, _ = load_link(result.link_path)
    assert result.return_value is None
    assert link.command == () and link.byproducts == {}


def test_failing_command_still_writes_the_link(workdir: Path) -> None:
    signer = write_key(workdir, "alice").signer()
    options = RunOptions(step="s", command=(PY, "-c", "raise SystemExit(7)"), record_streams=True)
    result = run_step(options, signer)
    link, _ = load_link(result.link_path)
    assert result.return_value == 7
    assert link.byproducts["return-value"] == 7


def test_metadata_dir_and_record_options(workdir: Path) -> None:
    signer = write_key(workdir, "alice").signer()
    (workdir / "meta").mkdir()
    (workdir / "base" / "deep").mkdir(parents=True)
    (workdir / "base" / "deep" / "f.txt").write_bytes(b"f")
    options = RunOptions(
        step="s",
        products=("deep",),
        metadata_dir=Path("meta"),
        record=RecordOptions(base_path=Path("base"), lstrip_paths=("deep/",)),
    )
    result = run_step(options, signer)
    assert result.link_path.parent == Path("meta")
    link, _ = load_link(result.link_path)
    assert set(link.products) == {"f.txt"}


def test_missing_paths_are_reported(workdir: Path) -> None:
    signer = write_key(workdir, "alice").signer()
    result = run_step(RunOptions(step="s", materials=("gone",), products=("gone",)), signer)
    assert len(result.skipped) == 1 and "'gone'" in result.skipped[0]


def test_command_not_found_writes_nothing(workdir: Path) -> None:
    signer = write_key(workdir, "alice").signer()
    before = set(workdir.iterdir())
    with pytest.raises(CommandError):
        run_step(RunOptions(step="s", command=("no-such-command-xyz",)), signer)
    assert set(workdir.iterdir()) == before


def test_timeout_writes_nothing(workdir: Path) -> None:
    signer = write_key(workdir, "alice").signer()
    before = set(workdir.iterdir())
    options = RunOptions(step="s", command=(PY, "-c", "import time; time.sleep(20)"), timeout=0.3)
    with pytest.raises(CommandError, match="did not finish"):
        run_step(options, signer)
    assert set(workdir.iterdir()) == before


@pytest.mark.parametrize("name", ["", "a/b", "..", "x\\y"])
def test_step_names_that_escape_are_refused(workdir: Path, name: str) -> None:
    signer = write_key(workdir, "alice").signer()
    with pytest.raises(InputError, match="step name"):
        run_step(RunOptions(step=name), signer)


def test_missing_metadata_dir_is_refused_before_running(workdir: Path) -> None:
    signer = write_key(workdir, "alice").signer()
    options = RunOptions(
        step="s", command=(PY, "-c", "open('ran', 'w')"), metadata_dir=Path("nope")
    )
    with pytest.raises(InputError, match="metadata directory"):
        run_step(options, signer)
    assert not (workdir / "ran").exists()


class FailingSigner:
    """Signs nothing: stands for a key or device that fails at the last moment."""

    def __init__(self, inner: Signer) -> None:
        self.public_key = inner.public_key

    def sign(self, data: bytes) -> bytes:
        raise KeyLoadError("the signing device went away")


def test_failure_while_signing_leaves_no_file(workdir: Path) -> None:
    signer = FailingSigner(write_key(workdir, "alice").signer())
    before = set(workdir.iterdir())
    with pytest.raises(KeyLoadError):
        run_step(RunOptions(step="s", materials=("src.txt",)), signer)
    assert set(workdir.iterdir()) == before


def test_a_link_over_the_reading_cap_is_refused_before_it_is_written(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run and verify agree: a link run writes, the reader accepts; a link the reader would
    refuse (over the cap) is not written at all, with a one-line InputError (exit 2)."""
    from intoto_pip import store
    from intoto_pip.models import strict_json

    for folder, count in (("few", 10), ("many", 30)):
        (workdir / folder).mkdir()
        for i in range(count):
            (workdir / folder / f"f{i:02d}.txt").write_text(str(i))
    signer = write_key(workdir, "alice").signer()
    options = RunOptions(step="build", products=("few",))
    first = run_step(options, signer)
    cap = first.link_path.stat().st_size + 100
    first.link_path.unlink()
    monkeypatch.setattr(store, "MAX_METADATA_BYTES", cap)
    monkeypatch.setattr(strict_json, "MAX_BYTES", cap)
    written = run_step(options, signer)
    parse_envelope(store.read_metadata_bytes(written.link_path), what="link")  # reads back
    written.link_path.unlink()
    with pytest.raises(store.MetadataTooLarge) as refused:
        run_step(RunOptions(step="build", products=("many",)), signer)
    assert isinstance(refused.value, InputError) and refused.value.size > cap
    assert "cap that verify reads" in str(refused.value) and "\n" not in str(refused.value)
    assert not list(workdir.glob("*.link")) and not list(workdir.glob(".*.tmp"))
