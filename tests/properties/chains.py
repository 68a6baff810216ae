"""Random two-step supply chains for rule properties: artifacts, rules, and the verdict."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from intoto_pip.errors import VerificationError
from intoto_pip.verify.engine import verify_layout
from tests.fuzz.chain import NOW, base_payloads, base_source, keys, sign

NAMES = ["a.py", "b.py", "src/a.py", "src/c/d.txt", "dist/x.whl", "README"]
PATTERNS = ["*", "*.py", "src/*", "a.py", "dist/*", "?.py", "[ab].py", "src/c/*", "README"]
STEPS = ["write-code", "build", "no-such-step"]
Artifacts = dict[str, dict[str, str]]


def _hash(content: int) -> dict[str, str]:
    return {"sha256": hashlib.sha256(str(content).encode()).hexdigest()}


ARTIFACTS = st.dictionaries(
    st.sampled_from(NAMES), st.integers(min_value=0, max_value=2).map(_hash), max_size=5
)
SIMPLE = st.tuples(
    st.sampled_from(["CREATE", "DELETE", "MODIFY", "ALLOW", "DISALLOW"]), st.sampled_from(PATTERNS)
).map(list)
REQUIRE = st.sampled_from(NAMES).map(lambda name: ["REQUIRE", name])


@st.composite
def _match(draw: st.DrawFn) -> list[str]:
    words = ["MATCH", draw(st.sampled_from(PATTERNS))]
    if draw(st.booleans()):
        words += ["IN", draw(st.sampled_from(["src", "dist"]))]
    words += ["WITH", draw(st.sampled_from(["PRODUCTS", "MATERIALS"]))]
    if draw(st.booleans()):
        words += ["IN", draw(st.sampled_from(["src", "dist"]))]
    return [*words, "FROM", draw(st.sampled_from(STEPS))]


RULE = st.one_of(SIMPLE, REQUIRE, _match())
RULES = st.lists(RULE, max_size=4)


@dataclass(frozen=True)
class Chain:
    """Rules for both steps and the artifacts both links report."""

    rules: dict[str, list[list[str]]]  # "<step> <field>" -> rules
    artifacts: dict[str, Artifacts]  # "<step> <materials|products>" -> artifacts

    def payloads(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        layout, code, build = base_payloads()
        for index, name in enumerate(("write-code", "build")):
            for field in ("expected_materials", "expected_products"):
                layout["steps"][index][field] = self.rules[f"{name} {field}"]
        for name, link in (("write-code", code), ("build", build)):
            for noun in ("materials", "products"):
                link[noun] = self.artifacts[f"{name} {noun}"]
        return layout, code, build


FIELDS = [
    f"{s} {f}" for s in ("write-code", "build") for f in ("expected_materials", "expected_products")
]
NOUNS = [f"{s} {n}" for s in ("write-code", "build") for n in ("materials", "products")]
CHAINS = st.builds(
    Chain,
    st.fixed_dictionaries({name: RULES for name in FIELDS}),
    st.fixed_dictionaries({name: ARTIFACTS for name in NOUNS}),
)


def verdict(layout: Mapping[str, Any], code: Mapping[str, Any], build: Mapping[str, Any]) -> str:
    """ "verified", or the refusal's type and message."""
    try:
        verify_layout(
            sign(layout, "owner"),
            layout_keys=[keys().pub("owner")],
            links=base_source(code, build),
            params=None,
            run_inspection=None,
            now=NOW,
        )
    except VerificationError as exc:
        return f"{type(exc).__name__}: {exc}"
    return "verified"
