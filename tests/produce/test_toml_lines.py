"""The light TOML scanner finds keys and array elements, and is not fooled by strings."""

from __future__ import annotations

from intoto_pip.produce._toml_lines import TomlLines

TEXT = '''\
expires = "30d"  # a comment with [[steps]] in it
readme = """
[[steps]]
name = "not a step"
"""

[keys]
"alice" = 'alice.pub'

[[steps]]
name = "a"
rules = [ "one, [two]", 'three',
  # a comment, with a ] bracket
  ["four", "five"], { x = "y" },
  "six\\"]",
]

[[steps]]
name = "b"
'''


def test_lines() -> None:
    lines = TomlLines(TEXT)
    assert lines.line(None, None, "expires") == 1
    assert lines.line(None, None, "readme") == 2
    assert lines.line("keys", None, "alice") == 8
    assert lines.line("steps", 0) == 10
    assert lines.line("steps", 0, "name") == 11
    assert [lines.line("steps", 0, "rules", i) for i in range(5)] == [12, 12, 14, 14, 15]
    assert lines.line("steps", 1, "name") == 19


def test_fallbacks() -> None:
    lines = TomlLines(TEXT)
    assert lines.line("steps", 0, "rules", 99) == 12
    assert lines.line("steps", 1, "nothing") == 18
    assert lines.line("steps", 7) is None
