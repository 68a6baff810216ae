"""Publisher identities read from Fulcio claims, and pins from flags and policy tables."""

from __future__ import annotations

import pytest

from intoto_pip.errors import InputError
from intoto_pip.models.publisher import (
    GITHUB_ISSUER,
    OID_BUILD_CONFIG_URI,
    OID_ISSUER_V2,
    OID_SOURCE_REPOSITORY_DIGEST,
    OID_SOURCE_REPOSITORY_REF,
    OID_SOURCE_REPOSITORY_URI,
    PublisherIdentity,
    identity_from_claims,
    parse_publisher_spec,
    publisher_from_table,
)

REPO = "https://github.com/o/r"


def github_claims(config: str, *, ref: str = "refs/tags/v1") -> dict[str, str]:
    return {
        OID_ISSUER_V2: GITHUB_ISSUER,
        OID_SOURCE_REPOSITORY_URI: REPO,
        OID_SOURCE_REPOSITORY_REF: ref,
        OID_SOURCE_REPOSITORY_DIGEST: "abc",
        OID_BUILD_CONFIG_URI: config,
    }


def test_a_github_workflow_identity() -> None:
    identity = identity_from_claims(github_claims(f"{REPO}/.github/workflows/rel.yml@abc"), "")
    assert (identity.kind, identity.repository, identity.workflow) == ("GitHub", "o/r", "rel.yml")


@pytest.mark.parametrize(
    "config",
    [
        "https://github.com/other/r/.github/workflows/rel.yml@refs/tags/v1",  # another repo's
        f"{REPO}/.github/workflows/rel.yml@refs/heads/evil",  # a ref the claims do not name
        f"{REPO}/.github/workflows/@refs/tags/v1",  # no workflow
        f"{REPO}/other/rel.yml@refs/tags/v1",
    ],
)
def test_claims_that_do_not_hang_together_are_not_a_trusted_publisher(config: str) -> None:
    assert identity_from_claims(github_claims(config), "uri").kind == "Other"


def test_an_unknown_issuer_is_other() -> None:
    identity = identity_from_claims({OID_ISSUER_V2: "https://example.com"}, "a@b.c")
    assert identity == PublisherIdentity(kind="Other", email="a@b.c", issuer="https://example.com")


@pytest.mark.parametrize(
    ("spec", "kind", "repository", "workflow"),
    [
        ("github:o/r", "GitHub", "o/r", None),
        ("github:o/r@release.yml", "GitHub", "o/r", "release.yml"),
        ("GitHub:o/r@release.yml", "GitHub", "o/r", "release.yml"),
        ("gitlab:g/sub/p@.gitlab-ci.yml", "GitLab", "g/sub/p", ".gitlab-ci.yml"),
    ],
)
def test_publisher_specs(spec: str, kind: str, repository: str, workflow: str | None) -> None:
    pin = parse_publisher_spec(spec)
    assert (pin.kind, pin.repository, pin.workflow) == (kind, repository, workflow)


@pytest.mark.parametrize(
    "spec",
    [
        "o/r",
        "github:",
        "github:o",
        "github:o/r/x",
        "github:o/r@",
        "bitbucket:o/r",
        "github:../r",
        "google:nobody",
    ],
)
def test_bad_publisher_specs_are_usage_errors(spec: str) -> None:
    with pytest.raises(InputError):
        parse_publisher_spec(spec)


def test_pins_compare_repository_without_case_and_workflow_exactly() -> None:
    identity = PublisherIdentity(kind="GitHub", repository="Owner/Repo", workflow="release.yml")
    assert parse_publisher_spec("github:owner/repo@release.yml").mismatch(identity) == ""
    assert parse_publisher_spec("github:owner/repo").mismatch(identity) == ""
    assert parse_publisher_spec("github:owner/repo@Release.yml").mismatch(identity)
    assert parse_publisher_spec("github:owner/other").mismatch(identity)
    assert parse_publisher_spec("gitlab:owner/repo").mismatch(identity)


def test_policy_tables_use_pep_740_field_names() -> None:
    pin = publisher_from_table(
        {"kind": "GitLab", "repository": "g/p", "workflow_filepath": "ci.yml"}, where="x"
    )
    assert (pin.kind, pin.workflow) == ("GitLab", "ci.yml")
    google = publisher_from_table(
        {"kind": "Google", "email": "sa@p.iam.gserviceaccount.com"}, where="x"
    )
    assert google.email.startswith("sa@")
    with pytest.raises(InputError, match="unknown key 'workflow'"):
        publisher_from_table({"kind": "GitLab", "repository": "g/p", "workflow": "x"}, where="x")
    with pytest.raises(InputError, match="kind"):
        publisher_from_table({"kind": "Jenkins"}, where="x")


def test_the_spec_of_an_identity_pins_it() -> None:
    identity = PublisherIdentity(kind="GitHub", repository="o/r", workflow="w.yml")
    assert parse_publisher_spec(identity.spec()).mismatch(identity) == ""
