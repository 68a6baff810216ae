"""pip as a resolver: the command line we build and the report we read."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from intoto_pip.errors import InstallError
from intoto_pip.install.resolve import ResolveOptions, parse_report, pip_command


def test_pip_command_passes_options_through() -> None:
    options = ResolveOptions(
        requirements=("app>=1",),
        requirement_files=(Path("req.txt"),),
        index_url="http://127.0.0.1:1/simple/",
        extra_index_urls=("http://127.0.0.1:2/simple/",),
        find_links=("/wheels",),
        no_index=True,
        no_deps=True,
        upgrade=True,
        pre=True,
        python=Path("/other/python"),
        prefix=Path("/p"),
    )
    command = pip_command(options)
    assert command[:5] == [sys.executable, "-m", "pip", "--python", "/other/python"]
    joined = " ".join(command)
    for part in (
        "install --dry-run --report - --only-binary :all: --quiet",
        "--no-index",
        "--no-deps",
        "--upgrade",
        "--pre",
        "--index-url http://127.0.0.1:1/simple/",
        "--extra-index-url http://127.0.0.1:2/simple/",
        "--find-links /wheels",
        "--prefix /p",
        "-r req.txt",
    ):
        assert part in joined
    assert command[-1] == "app>=1"


def test_same_interpreter_needs_no_python_flag() -> None:
    assert "--python" not in pip_command(ResolveOptions(python=Path(sys.executable)))


def test_parse_report() -> None:
    report = {
        "install": [
            {
                "download_info": {
                    "url": "http://127.0.0.1/files/dep-1.0-py3-none-any.whl",
                    "archive_info": {"hashes": {"sha256": "ab" * 32}},
                },
                "is_direct": False,
                "requested": False,
                "metadata": {"name": "Dep", "version": "1.0", "requires_dist": ["x"]},
            }
        ]
    }
    [item] = parse_report(json.dumps(report).encode())
    assert (item.name, item.version, item.sha256, item.requested) == (
        "dep",
        "1.0",
        "ab" * 32,
        False,
    )
    assert item.requires_dist == ("x",)


@pytest.mark.parametrize("data", [b"not json", b'{"install": [{"metadata": {}}]}'])
def test_unreadable_report(data: bytes) -> None:
    with pytest.raises(InstallError, match="not readable"):
        parse_report(data)
