"""Who published a distribution: the identity a Sigstore certificate names, and a user's pin.

A PEP 740 attestation is signed with a short-lived Fulcio certificate whose extensions carry
the claims of the CI workflow that asked for it (issuer, source repository, build config URI).
``identity_from_claims`` turns those claims into a ``PublisherIdentity``; it reads only the
certificate, never the unsigned ``publisher`` block a provenance file also carries.

A ``PublisherPin`` is what the user trusts for a project: a GitHub or GitLab repository (and,
optionally, its workflow file) or a Google service account, named as PEP 740 names them, from
the policy file (``publisher = { kind = "GitHub", repository = "o/r", workflow = "x.yml" }``)
or the command line (``github:OWNER/REPO[@WORKFLOW]``). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from intoto_pip.errors import InputError

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITLAB_ISSUER = "https://gitlab.com"
GOOGLE_ISSUER = "https://accounts.google.com"

# Fulcio's certificate extensions (github.com/sigstore/fulcio, docs/oid-info.md).
OID_ISSUER_V1 = "1.3.6.1.4.1.57264.1.1"
OID_ISSUER_V2 = "1.3.6.1.4.1.57264.1.8"
OID_SOURCE_REPOSITORY_URI = "1.3.6.1.4.1.57264.1.12"
OID_SOURCE_REPOSITORY_DIGEST = "1.3.6.1.4.1.57264.1.13"
OID_SOURCE_REPOSITORY_REF = "1.3.6.1.4.1.57264.1.14"
OID_BUILD_CONFIG_URI = "1.3.6.1.4.1.57264.1.18"

KINDS = ("GitHub", "GitLab", "Google")
_HOSTS = {"GitHub": "https://github.com/", "GitLab": "https://gitlab.com/"}
# Between the repository URL and the workflow path in a build config URI.
_WORKFLOW_SEPARATOR = {"GitHub": "/.github/workflows/", "GitLab": "//"}
_SPEC_PREFIX = {"github": "GitHub", "gitlab": "GitLab", "google": "Google"}


@dataclass(frozen=True, kw_only=True)
class PublisherIdentity:
    """The identity a verified certificate names. ``kind`` is GitHub, GitLab, Google, or
    Other (a person or a CI that is not a PyPI Trusted Publisher: only issuer and subject)."""

    kind: str
    repository: str = ""  # owner/repo (GitHub), namespace/project (GitLab)
    workflow: str = ""  # workflow file (GitHub), CI configuration path (GitLab)
    email: str = ""  # service account (Google), or the subject of an Other identity
    issuer: str = ""

    def describe(self) -> str:
        if self.kind in _HOSTS:
            return f"{self.kind} {self.repository}, workflow {self.workflow}"
        if self.kind == "Google":
            return f"Google {self.email}"
        return f"{self.email or 'an unnamed subject'} (issuer {self.issuer})"

    def spec(self) -> str:
        """The ``--publisher`` form that pins exactly this identity ("" for Other)."""
        if self.kind in _HOSTS:
            return f"{self.kind.lower()}:{self.repository}@{self.workflow}"
        return f"google:{self.email}" if self.kind == "Google" else ""

    def to_dict(self) -> dict[str, str]:
        fields = {"kind": self.kind, "repository": self.repository, "workflow": self.workflow}
        fields |= {"email": self.email, "issuer": self.issuer}
        return {key: value for key, value in fields.items() if value}


@dataclass(frozen=True, kw_only=True)
class PublisherPin:
    """Who may publish a project. ``workflow`` None accepts any workflow of the repository;
    ``environment`` is kept but cannot be checked: no certificate claim carries it."""

    kind: str
    repository: str = ""
    workflow: str | None = None
    email: str = ""
    environment: str | None = None
    source: str = "--publisher"

    def describe(self) -> str:
        if self.kind == "Google":
            return f"Google {self.email}"
        workflow = f", workflow {self.workflow}" if self.workflow else " (any workflow)"
        return f"{self.kind} {self.repository}{workflow}"

    def mismatch(self, identity: PublisherIdentity) -> str:
        """Why ``identity`` is not the pinned publisher; "" when it is."""
        if identity.kind != self.kind:
            return f"published by {identity.describe()}, not by {self.describe()}"
        if self.kind == "Google":
            same = identity.email.lower() == self.email.lower()
        else:
            # GitHub and GitLab compare owner and project names without regard to case.
            same = identity.repository.lower() == self.repository.lower()
            same = same and self.workflow in (None, identity.workflow)
        return "" if same else f"published by {identity.describe()}, not by {self.describe()}"


def identity_from_claims(claims: Mapping[str, str], subject: str) -> PublisherIdentity:
    """The publisher a certificate's Fulcio claims name; ``subject`` is its SAN (a URI or an
    email address). A Trusted Publisher whose claims do not hang together is Other."""
    issuer = claims.get(OID_ISSUER_V2) or claims.get(OID_ISSUER_V1, "")
    kind = {GITHUB_ISSUER: "GitHub", GITLAB_ISSUER: "GitLab", GOOGLE_ISSUER: "Google"}.get(issuer)
    if kind == "Google":
        return PublisherIdentity(kind="Google", email=subject, issuer=issuer)
    if kind is not None:
        found = _repository_and_workflow(kind, claims)
        if found is not None:
            repository, workflow = found
            return PublisherIdentity(
                kind=kind, repository=repository, workflow=workflow, issuer=issuer
            )
    return PublisherIdentity(kind="Other", email=subject, issuer=issuer)


def _repository_and_workflow(kind: str, claims: Mapping[str, str]) -> tuple[str, str] | None:
    """From the source repository URI and the build config URI
    (``<repository URL><separator><workflow>@<ref or commit>``), as PyPI reads them."""
    host = _HOSTS[kind]
    repository_url = claims.get(OID_SOURCE_REPOSITORY_URI, "")
    config = claims.get(OID_BUILD_CONFIG_URI, "")
    if not repository_url.startswith(host) or not config:
        return None
    prefix = repository_url + _WORKFLOW_SEPARATOR[kind]
    workflow, at, suffix = config.removeprefix(prefix).partition("@")
    refs = {claims.get(OID_SOURCE_REPOSITORY_DIGEST), claims.get(OID_SOURCE_REPOSITORY_REF)}
    if not config.startswith(prefix) or not at or not workflow or suffix not in refs - {None}:
        return None
    return repository_url.removeprefix(host), workflow


def parse_publisher_spec(text: str, *, where: str = "--publisher") -> PublisherPin:
    """``github:OWNER/REPO[@WORKFLOW]``, ``gitlab:NAMESPACE/PROJECT[@PATH]``, ``google:EMAIL``."""
    scheme, colon, rest = text.partition(":")
    kind = _SPEC_PREFIX.get(scheme.lower())
    if not colon or kind is None or not rest:
        raise InputError(
            f"{where} {text!r}: expected github:OWNER/REPO[@WORKFLOW], "
            "gitlab:NAMESPACE/PROJECT[@PATH] or google:EMAIL"
        )
    if kind == "Google":
        return PublisherPin(kind=kind, email=_email(rest, where), source=where)
    repository, at, workflow = rest.partition("@")
    if at and not workflow:
        raise InputError(f"{where} {text!r}: nothing after '@' (give the workflow file)")
    return PublisherPin(
        kind=kind,
        repository=_repository(repository, kind, where),
        workflow=workflow or None,
        source=where,
    )


_TABLE_KEYS = {
    "GitHub": {"kind", "repository", "workflow", "environment"},
    "GitLab": {"kind", "repository", "workflow_filepath", "environment"},
    "Google": {"kind", "email"},
}


def publisher_from_table(table: Mapping[str, Any], *, where: str) -> PublisherPin:
    """A policy entry's ``publisher = { kind = ..., ... }``, with PEP 740's field names."""
    kind = table.get("kind")
    if kind not in KINDS:
        raise InputError(f"{where}.kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    unknown = sorted(set(table) - _TABLE_KEYS[kind])
    if unknown:
        raise InputError(f"{where}: unknown key {unknown[0]!r} for kind {kind}")
    values = {key: _text(table, key, where) for key in table}
    if kind == "Google":
        return PublisherPin(kind=kind, email=_email(values.get("email", ""), where), source=where)
    workflow = values.get("workflow" if kind == "GitHub" else "workflow_filepath")
    return PublisherPin(
        kind=kind,
        repository=_repository(values.get("repository", ""), kind, where),
        workflow=workflow or None,
        environment=values.get("environment") or None,
        source=where,
    )


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table[key]
    if not isinstance(value, str):
        raise InputError(f"{where}.{key}: expected a string")
    return value


def _repository(value: str, kind: str, where: str) -> str:
    parts = value.split("/")
    # GitHub: exactly owner/repo; GitLab: a namespace may hold subgroups.
    too_short = len(parts) < 2 or (kind == "GitHub" and len(parts) != 2)
    if too_short or not all(part and part not in (".", "..") for part in parts):
        shape = "OWNER/REPO" if kind == "GitHub" else "NAMESPACE/PROJECT"
        raise InputError(f"{where}: repository {value!r} is not of the form {shape}")
    return value


def _email(value: str, where: str) -> str:
    if value.count("@") != 1 or value.startswith("@") or value.endswith("@"):
        raise InputError(f"{where}: {value!r} is not an email address")
    return value
