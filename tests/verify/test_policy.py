"""The TOML trust policy: project -> layout keys (+ out-of-band layout), allow-unverified."""

from __future__ import annotations

from pathlib import Path

import pytest

from intoto_pip.errors import InputError
from intoto_pip.verify.policy import default_policy_path, load_policy, parse_policy
from tests.support.signing import make_key


def test_projects_keys_and_layouts_resolve_relative_to_the_file(tmp_path: Path) -> None:
    key = make_key(tmp_path / "keys", "owner")
    pem = key.public_path.read_text()
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(
        'allow-unverified = ["Legacy_Lib"]\n'
        '[projects."My.Project"]\n'
        'layout-keys = ["keys/owner.pub"]\n'
        'layout = "layouts/root.layout"\n'
        f"[projects.inline]\nlayout-keys = ['''{pem}''']\n"
    )
    policy = load_policy(policy_file, extra_allowed=["other"])
    trust = policy.trust_for("my-project", ())
    assert trust.layout_keys == (key.public,)
    assert trust.layout == tmp_path / "layouts" / "root.layout"
    assert policy.trust_for("INLINE", ()).layout_keys == (key.public,)
    assert policy.allows_unverified("legacy.lib") and policy.allows_unverified("Other")
    assert not policy.allows_unverified("my-project")


def test_unnamed_project_falls_back_to_command_line_keys(tmp_path: Path) -> None:
    key = make_key(tmp_path, "k")
    policy = parse_policy(b"", where="p", base=tmp_path)
    trust = policy.trust_for("anything", (key.public,))
    assert trust.layout_keys == (key.public,) and trust.source == "--layout-key"


def test_all_allows_every_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    policy = load_policy(None, extra_allowed=[":all:"])
    assert policy.allows_unverified("whatever")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not toml = = =", "not valid TOML"),
        ("unknown = 1", "unknown key 'unknown'"),
        ("[projects.a]\nlayout-keys = []", "at least one entry"),
        ("[projects.a]\nlayout-keys = ['missing.pub']", "missing.pub"),
        (
            "[projects.a]\nlayout-keys = ['-----BEGIN PUBLIC KEY-----\\nAAAA\\n"
            "-----END PUBLIC KEY-----']",
            "layout-keys[0]",
        ),
        ("[projects.a]\nlayout-keys = 'x'", "list of strings"),
        ("[projects.a]\nextra = 1\nlayout-keys=['k.pub']", "unknown key 'extra'"),
        ("allow-unverified = ['']", "empty project name"),
        (
            "[projects.A_b]\nlayout-keys=['k.pub']\n[projects.a-B]\nlayout-keys=['k.pub']",
            "same project",
        ),
    ],
)
def test_bad_policies_are_usage_errors(tmp_path: Path, text: str, message: str) -> None:
    make_key(tmp_path, "k")
    with pytest.raises(InputError) as caught:
        parse_policy(text.encode(), where="policy.toml", base=tmp_path)
    assert message in str(caught.value)


def test_missing_named_policy_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        load_policy(tmp_path / "missing.toml")


def test_default_policy_path_uses_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert default_policy_path() == tmp_path / "intoto-pip" / "policy.toml"
    assert load_policy(None).projects == {}
    key = make_key(tmp_path, "owner")
    (tmp_path / "intoto-pip").mkdir()
    default_policy_path().write_text(f"[projects.x]\nlayout-keys = ['{key.public_path}']\n")
    assert load_policy(None).trust_for("x", ()).layout_keys == (key.public,)


def test_a_project_may_name_a_publisher_instead_of_layout_keys(tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(
        'provenance = "tofu"\n'
        "[projects.sampleproject]\n"
        'publisher = { kind = "GitHub", repository = "pypa/sampleproject", '
        'workflow = "release.yml", environment = "pypi" }\n'
    )
    policy = load_policy(policy_file)
    trust = policy.trust_for("SampleProject", ())
    assert trust.layout_keys == () and trust.publisher is not None
    assert (trust.publisher.repository, trust.publisher.workflow) == (
        "pypa/sampleproject",
        "release.yml",
    )
    assert trust.publisher.environment == "pypi"
    assert policy.provenance == "tofu" and policy.pinned("sampleproject")
    assert load_policy(policy_file, provenance="require").provenance == "require"


def test_command_line_pins_replace_the_policy_and_name_the_rest(tmp_path: Path) -> None:
    from intoto_pip.models.publisher import parse_publisher_spec

    policy_file = tmp_path / "policy.toml"
    policy_file.write_text('[projects.a]\npublisher = { kind = "GitHub", repository = "o/a" }\n')
    pins = {"A": parse_publisher_spec("github:o/other"), "": parse_publisher_spec("github:o/all")}
    policy = load_policy(policy_file, publishers=pins)
    assert policy.trust_for("a", ()).publisher == pins["A"]
    assert policy.trust_for("b", ()).publisher == pins[""]
    assert policy.provenance == "off"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('provenance = "maybe"\n', "expected one of off, warn, tofu, require"),
        ("[projects.p]\n", "needs at least one entry in layout-keys, or a publisher"),
        ('[projects.p]\npublisher = { kind = "GitHub", repository = "o" }\n', "OWNER/REPO"),
        ('[projects.p]\npublisher = "github:o/r"\n', "expected a table"),
    ],
)
def test_bad_provenance_entries_are_usage_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_policy(text.encode(), where="p", base=tmp_path)
