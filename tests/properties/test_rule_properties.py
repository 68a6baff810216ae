"""Rule verdicts: artifact names are compared as normalised paths, and DISALLOW * only refuses."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from intoto_pip.models.link import normalize_artifact_name
from tests.properties.chains import CHAINS, FIELDS, NOUNS, Chain, verdict

PROPERTY = settings(max_examples=150, deadline=None)


@st.composite
def equivalent_name(draw: st.DrawFn, name: str) -> str:
    """Another spelling of ``name``: './' prefixes, doubled slashes, 'x/..' detours, '/.'."""
    parts = name.split("/")
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        at = draw(st.integers(min_value=0, max_value=len(parts) - 1))
        form = draw(st.sampled_from(["dot", "slash", "detour", "tail"]))
        if form == "dot":
            parts.insert(at, ".")
        elif form == "slash":
            parts.insert(at + 1, "") if at + 1 < len(parts) else parts.insert(at, "")
        elif form == "detour":
            parts[at:at] = [draw(st.sampled_from(["x", "src", "a.py"])), ".."]
        else:
            parts.append(".")
    spelled = "/".join(parts)
    assume(not spelled.startswith("/"))
    return spelled


@st.composite
def renamed(draw: st.DrawFn) -> tuple[Chain, Chain]:
    chain = draw(CHAINS)
    noun = draw(
        st.sampled_from([n for n in NOUNS if chain.artifacts[n]])
        if any(chain.artifacts.values())
        else st.nothing()
    )
    artifacts = chain.artifacts[noun]
    name = draw(st.sampled_from(sorted(artifacts)))
    spelled = draw(equivalent_name(name))
    assert normalize_artifact_name(spelled) == name, spelled
    changed = {(spelled if key == name else key): value for key, value in artifacts.items()}
    return chain, Chain(chain.rules, {**chain.artifacts, noun: changed})


@PROPERTY
@given(renamed())
def test_equivalent_spelling_never_changes_a_verdict(pair: tuple[Chain, Chain]) -> None:
    original, respelled = pair
    assert verdict(*respelled.payloads()) == verdict(*original.payloads())


@PROPERTY
@given(CHAINS, st.sampled_from(FIELDS), st.data())
def test_adding_disallow_all_never_turns_a_refusal_into_a_pass(
    chain: Chain, field: str, data: st.DataObject
) -> None:
    before = verdict(*chain.payloads())
    rules = chain.rules[field]
    at = data.draw(st.integers(min_value=0, max_value=len(rules)))
    stricter = Chain(
        {**chain.rules, field: [*rules[:at], ["DISALLOW", "*"], *rules[at:]]}, chain.artifacts
    )
    after = verdict(*stricter.payloads())
    if before != "verified":
        assert after != "verified"


def test_the_generator_reaches_both_verdicts() -> None:
    # Guards the two properties above against a generator that only makes one kind of chain.
    seen: set[str] = set()

    @settings(max_examples=60, deadline=None, database=None, derandomize=True)
    @given(CHAINS)
    def sample(chain: Chain) -> None:
        seen.add(verdict(*chain.payloads()).partition(":")[0])

    sample()
    assert {"verified", "ArtifactRuleError"} <= seen, seen
