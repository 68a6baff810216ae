"""How the story's events look: plain unless on a terminal; long output cut, refusals never."""

from __future__ import annotations

from intoto_pip.demo.narration import Chapter, Check, Output, Say, Shell
from intoto_pip.demo.render import SHORT_OUTPUT_LINES, Style, failure, render

PLAIN = Style()


def test_chapter_shows_number_and_title() -> None:
    text = render(Chapter(number=2, total=6, title="the layout"), PLAIN)
    assert text == "\n[2/6] the layout"


def test_shell_shows_the_folder_as_a_prompt() -> None:
    text = render(Shell(folder="owner", command="intoto-pip keygen owner"), PLAIN)
    assert text == "  owner$ intoto-pip keygen owner"


def test_plain_style_has_no_escape_codes_and_colour_style_has() -> None:
    event = Check(text="done")
    assert "\033[" not in render(event, PLAIN)
    assert "\033[" in render(event, Style(colour=True))


def test_ascii_terminals_get_ascii_marks() -> None:
    assert render(Check(text="done"), Style(unicode=False)) == "  ok done"
    assert "✓" in render(Check(text="done"), PLAIN)


def test_long_output_is_cut_unless_verbose() -> None:
    lines = "\n".join(f"line {n}" for n in range(10))
    short = render(Output(text=lines), PLAIN)
    assert short.count("\n") == SHORT_OUTPUT_LINES
    assert "6 more lines; -v shows them" in short
    assert "line 9" in render(Output(text=lines), Style(verbose=True))


def test_important_output_is_never_cut() -> None:
    lines = "\n".join(f"line {n}" for n in range(10))
    assert "line 9" in render(Output(text=lines, important=True), PLAIN)


def test_sentences_are_wrapped_and_indented() -> None:
    text = render(Say(text="word " * 40), PLAIN)
    assert all(line.startswith("  ") and len(line) <= 88 for line in text.splitlines())
    assert len(text.splitlines()) > 1


def test_failure_shows_the_command_output() -> None:
    text = failure("step 6 failed", "first\nsecond", PLAIN)
    assert text.splitlines() == ["✗ step 6 failed", "    | first", "    | second"]
