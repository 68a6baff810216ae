"""How archive verdicts read on the terminal."""

from __future__ import annotations

from pathlib import Path

from intoto_pip.cli._archive_report import describe
from intoto_pip.verify.archive import ArchiveVerdict

WHEEL = "pkg-1.0-py3-none-any.whl"


def verdict(**changes: object) -> ArchiveVerdict:
    fields: dict[str, object] = {
        "path": Path(WHEEL),
        "filename": WHEEL,
        "name": "pkg",
        "version": "1.0",
        "verified": False,
    }
    fields.update(changes)
    return ArchiveVerdict(**fields)  # type: ignore[arg-type]


def test_a_refusal_names_the_archive_once() -> None:
    line = describe(verdict(reason=f"{WHEEL}: member 'a.py' differs"))
    assert line == f"{WHEEL}: NOT verified: member 'a.py' differs"


def test_a_reason_without_the_name_is_kept_whole() -> None:
    line = describe(verdict(reason="step 'build' needs 1 link"))
    assert line == f"{WHEEL}: NOT verified: step 'build' needs 1 link"


def test_a_verified_archive_names_who_vouched() -> None:
    line = describe(
        verdict(verified=True, layout_keys=("a" * 64,), functionaries={"build": ("b" * 64,)})
    )
    assert line == f"{WHEEL}: verified (layout signed by aaaaaaaa; build by bbbbbbbb)"
