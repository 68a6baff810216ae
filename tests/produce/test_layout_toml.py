"""Layouts from TOML: the layout they make, and errors that point at the TOML line."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from intoto_pip.errors import InputError
from intoto_pip.models.rules import AllowRule, CreateRule, DisallowRule, MatchRule
from intoto_pip.produce.layout_toml import layout_from_toml, load_layout_toml
from tests.produce._keys import write_key

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)

FULL = """\
expires = "30d"
readme = "How this project is built."

[keys]
alice = "keys/alice.pub"

[[steps]]
name = "clone"
functionaries = ["alice"]
expected_command = "git clone https://example.org/demo.git"
expected_products = ["CREATE demo/*"]

[[steps]]
name = "build"
functionaries = ["keys/alice.pub", "keys/bob.pub"]
threshold = 2
expected_command = ["python", "-m", "build"]
expected_materials = [
  "MATCH demo/* WITH PRODUCTS FROM clone",
  "DISALLOW *",
]
expected_products = [["CREATE", "dist/my file.whl"], "ALLOW demo/*"]

[[inspections]]
name = "unpack"
run = "tar xzf dist/demo.tar.gz"
expected_materials = ["MATCH dist/* WITH PRODUCTS FROM build", "ALLOW *"]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "keys").mkdir()
    write_key(tmp_path / "keys", "alice")
    write_key(tmp_path / "keys", "bob", "ecdsa")
    return tmp_path


def compile_text(project: Path, text: str) -> None:
    layout_from_toml(text, source="layout.toml", base_dir=project, now=NOW)


def error_of(project: Path, text: str) -> str:
    with pytest.raises(InputError) as info:
        compile_text(project, text)
    return str(info.value)


def test_full_example(project: Path) -> None:
    (project / "layout.toml").write_text(FULL)
    layout = load_layout_toml(project / "layout.toml", now=NOW)
    clone, build = layout.steps
    alice = write_key(project / "keys", "alice").key
    bob = write_key(project / "keys", "bob", "ecdsa").key
    assert layout.expires == NOW + timedelta(days=30)
    assert layout.readme == "How this project is built."
    assert dict(layout.keys) == {alice.keyid: alice, bob.keyid: bob}
    assert clone.pubkeys == (alice.keyid,) and clone.threshold == 1
    assert clone.expected_command == ("git", "clone", "https://example.org/demo.git")
    assert clone.expected_products == (CreateRule("demo/*"),)
    assert build.pubkeys == (alice.keyid, bob.keyid) and build.threshold == 2
    assert build.expected_materials == (
        MatchRule(
            pattern="demo/*",
            source_prefix="",
            dest_type="products",
            dest_prefix="",
            dest_name="clone",
        ),
        DisallowRule("*"),
    )
    assert build.expected_products == (CreateRule("dist/my file.whl"), AllowRule("demo/*"))
    (unpack,) = layout.inspect
    assert unpack.run == ("tar", "xzf", "dist/demo.tar.gz")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"30d"', NOW + timedelta(days=30)),
        ('"1y"', NOW + timedelta(days=365)),
        ('"2w 3d 12h"', NOW + timedelta(days=17, hours=12)),
        ("2027-03-04", datetime(2027, 3, 4, tzinfo=UTC)),
        ("2027-03-04T05:06:07Z", datetime(2027, 3, 4, 5, 6, 7, tzinfo=UTC)),
        ("2027-03-04T05:06:07+02:00", datetime(2027, 3, 4, 3, 6, 7, tzinfo=UTC)),
        ('"2027-03-04T05:06:07Z"', datetime(2027, 3, 4, 5, 6, 7, tzinfo=UTC)),
    ],
)
def test_expiry_forms(project: Path, value: str, expected: datetime) -> None:
    text = f'expires = {value}\n[[steps]]\nname = "s"\nfunctionaries = ["keys/alice.pub"]\n'
    layout = layout_from_toml(text, source="t", base_dir=project, now=NOW)
    assert layout.expires == expected


STEP = '[[steps]]\nname = "s"\nfunctionaries = ["keys/alice.pub"]\n'

# (TOML text, line the error must point at, words the message must hold)
ERRORS: list[tuple[str, int, str]] = [
    ('expires = "30d"\n\n' + STEP + "threshhold = 1\n", 6, "steps[0].threshhold: unknown key"),
    (
        'expires = "30d"\n' + STEP + STEP + "threshold = 2\n",
        8,
        "steps[1].threshold: 2 is more than the 1 functionary",
    ),
    (
        'expires = "30d"\n' + STEP + 'expected_products = [\n  "CREATE a",\n  "CRATE b",\n]\n',
        7,
        "steps[0].expected_products[1]: unknown rule keyword 'CRATE'",
    ),
    (
        'expires = "30d"\n' + STEP + 'expected_materials = ["MATCH * WITH PRODUCTS FROM biuld"]\n',
        5,
        "no such step",
    ),
    (
        'expires = "30d"\n[[steps]]\nname = "s"\nfunctionaries = ["keys/alice.pub", "nokey.pub"]\n',
        4,
        "steps[0].functionaries[1]: cannot read key",
    ),
    ('expires = "30d"\n' + STEP + STEP, 6, "steps[1].name: 's' is already used"),
    ('expires = "2020-01-01T00:00:00Z"\n' + STEP, 1, "is not in the future"),
    ('expires = "soon"\n' + STEP, 1, "expected a date, a date-time or a duration"),
    ("expires = 2030-01-01T00:00:00\n" + STEP, 1, "needs a zone"),
    (STEP, 0, "expires: missing"),
    ('expires = "1d"\n', 0, "at least one [[steps]]"),
    ('expires = "1d"\nsteps = 3\n', 2, "expected [[steps]] tables"),
    ('expires = "1d"\n' + STEP + '\n[[inspections]]\nname = "i"\n', 6, "missing key 'run'"),
    ('expires = "1d"\n' + STEP + 'name2 = "x"\n', 5, "unknown key"),
    ('expires = "1d"\n[[steps]]\nname = "a/b"\n', 3, "steps[0].name"),
    ('expires = "1d"\n' + STEP + 'expected_command = "unclosed \'quote"\n', 5, "cannot split"),
    ('expires = "1d"\nthis is not toml\n', 0, "not valid TOML"),
]


@pytest.mark.parametrize(("text", "line", "words"), ERRORS)
def test_errors_point_at_the_line(project: Path, text: str, line: int, words: str) -> None:
    message = error_of(project, text)
    assert words in message
    if line:
        assert message.startswith(f"layout.toml:{line}: ")
    else:
        assert re.match(r"layout\.toml: ", message)


def test_error_lines_in_a_large_file(project: Path) -> None:
    text = FULL.replace('"ALLOW demo/*"]', '"ALOW demo/*"]')
    message = error_of(project, text)
    line = FULL.splitlines().index(
        'expected_products = [["CREATE", "dist/my file.whl"], "ALLOW demo/*"]'
    )
    assert message.startswith(f"layout.toml:{line + 1}: steps[1].expected_products[1]: ")


def test_same_key_twice_in_a_step(project: Path) -> None:
    text = (
        'expires = "1d"\n[[steps]]\nname = "s"\n'
        'functionaries = ["keys/alice.pub", "keys/alice.pub"]\n'
    )
    assert "listed twice" in error_of(project, text)


def test_unreadable_toml_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot be read"):
        load_layout_toml(tmp_path / "missing.toml")


def test_the_documented_example_compiles(tmp_path: Path) -> None:
    doc = Path(__file__).parents[2] / "docs" / "layout-toml.md"
    example = re.search(r"```toml\n(.*?)```", doc.read_text(), re.S)
    assert example is not None
    (tmp_path / "keys").mkdir()
    for index, name in enumerate(("alice", "bob", "carol")):
        write_key(tmp_path / "keys", name, variant=index)
    layout = layout_from_toml(example.group(1), source="doc", base_dir=tmp_path, now=NOW)
    assert [step.name for step in layout.steps] == ["clone", "build"]
    assert len(layout.keys) == 3 and len(layout.inspect) == 1
    # The error shown in the document is the one a misspelt rule gives.
    broken = example.group(1).replace('"ALLOW demo/*",', '"ALOW demo/*",')
    with pytest.raises(InputError) as info:
        layout_from_toml(broken, source="layout.toml", base_dir=tmp_path, now=NOW)
    assert f"intoto-pip: error: {info.value}" in doc.read_text()


def test_a_quoted_date_is_told_to_be_written_bare(project: Path) -> None:
    message = error_of(project, FULL.replace('expires = "30d"', 'expires = "2027-01-01"'))
    assert "write the date without quotes (expires = 2027-01-01)" in message


def test_a_typo_in_a_key_path_is_reported_at_its_entry_in_keys(project: Path) -> None:
    message = error_of(
        project, FULL.replace('alice = "keys/alice.pub"', 'alice = "keys/alcie.pub"')
    )
    assert "keys.alice" in message and "alcie.pub" in message
    assert "steps" not in message.split("alcie.pub")[0]
