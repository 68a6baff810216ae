"""Parameter substitution: plain {NAME} only, user values checked."""

from __future__ import annotations

import pytest

from intoto_pip.errors import InputError, MetadataError, VerificationError
from intoto_pip.models.layout import Layout
from intoto_pip.models.rules import MatchRule, rule_to_str
from intoto_pip.verify.params import check_param, parse_param_args, substitute, substitute_layout
from tests.verify.builders import inspection, layout, step

PARAMS = {"NAME": "demo", "VERSION": "1.0", "EMPTY": ""}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{NAME}-{VERSION}.tar.gz", "demo-1.0.tar.gz"),
        ("no placeholders", "no placeholders"),
        ("{{NAME}}", "{NAME}"),  # doubled braces are literal, as in str.format
        ("{{{NAME}}}", "{demo}"),
        ("a}}b{{c", "a}b{c"),
        ("{EMPTY}x", "x"),
    ],
)
def test_substitute(text: str, expected: str) -> None:
    assert substitute(text, PARAMS, where="here") == expected
    assert text.format(**PARAMS) == expected  # the reference's reading agrees


@pytest.mark.parametrize(
    ("text", "error", "fragment"),
    [
        ("{MISSING}", VerificationError, "no value for parameter {MISSING}"),
        ("{NAME!r}", MetadataError, "is not a plain {NAME}"),
        ("{NAME:>10}", MetadataError, "is not a plain {NAME}"),
        ("{NAME.upper}", MetadataError, "is not a plain {NAME}"),
        ("{NAME[0]}", MetadataError, "is not a plain {NAME}"),
        ("{0}", MetadataError, "is not a plain {NAME}"),
        ("{}", MetadataError, "is not a plain {NAME}"),
        ("a{b", MetadataError, "unmatched '{'"),
        ("a}b", MetadataError, "unmatched '}'"),
    ],
)
def test_substitute_refuses(text: str, error: type[Exception], fragment: str) -> None:
    with pytest.raises(error, match=None) as caught:
        substitute(text, PARAMS, where="step 'x' expected_products[0]")
    assert fragment in str(caught.value)
    assert str(caught.value).startswith("step 'x' expected_products[0]: ")


def test_parse_param_args() -> None:
    assert parse_param_args(["A=1", "B=x=y", "C="]) == {"A": "1", "B": "x=y", "C": ""}


@pytest.mark.parametrize(
    ("arg", "fragment"),
    [
        ("NOVALUE", "expected NAME=VALUE"),
        ("1ABC=x", "plain identifier"),
        ("A-B=x", "plain identifier"),
        ("GLOB=*.py", "'*'"),  # would turn a literal rule into a wildcard
        ("Q=a?b", "'?'"),
        ("C=[ab]", "'['"),
        ("C=ab]", "']'"),
        ("UP=../etc", "'..'"),
        ("NUL=a\x00b", "NUL"),
        # An inspection may hand a value to a shell (`sh -c "unzip {ARCHIVE}"`).
        *((f"SH=a{char}b", f"{char!r} (a shell metacharacter)") for char in ";&|`$<>()'\"\\"),
        ("SPACE=a b", "whitespace"),
        ("LINE=a\nb", "whitespace"),
        ("ESC=a\x1bb", "control character"),
    ],
)
def test_param_values_refused(arg: str, fragment: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_param_args([arg])
    assert fragment in str(caught.value)
    assert caught.value.exit_code == 2


def test_ordinary_values_pass() -> None:
    values = ["demo_pkg-1.0+local.2-py3-none-any.whl", "1!2.0rc1", "Demo.Pkg", "a=b,c:d@e%f~g"]
    for value in values:
        check_param("V", value)


def test_repeated_param_refused() -> None:
    with pytest.raises(InputError, match="more than once"):
        parse_param_args(["A=1", "A=2"])


def test_substitute_layout_covers_rules_commands_and_inspections() -> None:
    value = layout(
        [
            step(
                "build",
                ["alice"],
                materials=["MATCH {NAME}/* IN {NAME} WITH PRODUCTS IN {NAME} FROM {STEP}"],
                products=["CREATE {NAME}-{VERSION}.tar.gz", "DISALLOW {{literal}}"],
                command=["make", "{NAME}"],
            ),
            step("fetch", ["alice"]),
        ],
        functionaries=["alice"],
        inspect=[
            inspection(
                "untar",
                ["tar", "xf", "{NAME}-{VERSION}.tar.gz"],
                products=["REQUIRE {NAME}/setup.py"],
            )
        ],
    )
    params = {"NAME": "demo", "VERSION": "1.0", "STEP": "fetch"}
    result = substitute_layout(Layout.from_dict(value), params)
    build = result.steps[0]
    match = build.expected_materials[0]
    assert isinstance(match, MatchRule)
    assert (match.pattern, match.source_prefix, match.dest_prefix, match.dest_name) == (
        "demo/*",
        "demo",
        "demo",
        "fetch",
    )
    assert [rule_to_str(rule) for rule in build.expected_products] == [
        "CREATE demo-1.0.tar.gz",
        "DISALLOW {literal}",
    ]
    assert build.expected_command == ("make", "demo")
    assert result.inspect[0].run == ("tar", "xf", "demo-1.0.tar.gz")
    assert rule_to_str(result.inspect[0].expected_products[0]) == "REQUIRE demo/setup.py"


def test_substitute_layout_checks_values_given_programmatically() -> None:
    value = Layout.from_dict(layout([step("build", ["alice"])], functionaries=["alice"]))
    with pytest.raises(InputError, match="must not contain"):
        substitute_layout(value, {"NAME": "*"})


def test_missing_parameter_names_the_field() -> None:
    value = Layout.from_dict(
        layout([step("build", ["alice"], products=["CREATE {X}"])], functionaries=["alice"])
    )
    with pytest.raises(VerificationError) as caught:
        substitute_layout(value, {})
    assert str(caught.value) == (
        "step 'build' expected_products[0]: no value for parameter {X} (use --param)"
    )


def test_the_interpreter_path_may_hold_a_space() -> None:
    value = Layout.from_dict(layout([step("build", ["alice"])], functionaries=["alice"]))
    substitute_layout(value, {"PYTHON": "/Program Files/Python/python"})
    with pytest.raises(InputError, match="whitespace"):
        substitute_layout(value, {"OTHER": "/Program Files/Python/python"})
