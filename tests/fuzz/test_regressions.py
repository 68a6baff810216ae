"""Inputs the fuzzers (or anyone) found worth keeping, replayed on every run.

Each file in ``regressions/`` is fed to the reader its suffix names: ``.whl``, ``.tar.gz`` and
``.zip`` to the archive reader, anything else to metadata loading. Each must be read or refused
with the project's own error, never crash. When a fuzz run finds a crash, save the input here
(the Hypothesis failure report prints it), fix the reader, and keep the file.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from intoto_pip.errors import MetadataError
from tests.fuzz.test_archive_fuzz import survives
from tests.fuzz.test_metadata_fuzz import load_metadata

FOLDER = Path(__file__).parent / "regressions"
ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip")
FILES = sorted(path for path in FOLDER.iterdir() if path.is_file() and path.name != "README")


def test_there_are_regression_inputs() -> None:
    assert FILES, f"{FOLDER} is empty: the seeds were lost"


@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_replay(path: Path) -> None:
    data = path.read_bytes()
    if path.name.endswith(ARCHIVE_SUFFIXES):
        suffix = next(s for s in ARCHIVE_SUFFIXES if path.name.endswith(s))
        filename = "demo-1.0-py3-none-any.whl" if suffix == ".whl" else f"demo-1.0{suffix}"
        survives(filename, data)
        return
    with contextlib.suppress(MetadataError):
        load_metadata(data)
