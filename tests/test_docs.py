"""Generated docs stay in step with the code."""

from __future__ import annotations

from tools.gen_reference import REFERENCE, render


def test_command_reference_is_generated_from_the_parsers() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == render(), (
        "docs/reference.md is out of date: run python -m tools.gen_reference"
    )
