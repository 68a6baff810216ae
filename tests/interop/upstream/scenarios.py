"""The reference in-toto 3.1.0's own command-line tests, re-expressed as data.

Each ``Case`` ports one test method of the sdist's ``tests/test_in_toto_*.py`` (named in
``source``): a set-up, then calls run one after another in one folder, each with the exit
code the upstream test asserts. Where intoto-pip answers differently on purpose, ``ours``
holds its code and ``why`` the rule that says so; the test asserts both.

Not ported: GPG calls (``--gpg``, ``--gpg-home``; intoto-pip signs with PEM keys only, see
docs/migration.md), calls that need a mocked ``getpass`` (``--prompt``, ``-P`` without a
value), and the match-products tests that mock its API (ported instead as real files).
"""

from __future__ import annotations

from dataclasses import dataclass, field

RSA = "{pems}/rsa_private_unencrypted.pem"
RSA_ENC = "{pems}/rsa_private_encrypted.pem"
RSA_PUB = "{pems}/rsa_public.pem"
ECDSA = "{pems}/ecdsa_private_unencrypted.pem"
ECDSA_ENC = "{pems}/ecdsa_private_encrypted.pem"
ECDSA_PUB = "{pems}/ecdsa_public.pem"
ED = "{pems}/ed25519_private_unencrypted.pem"
ED_ENC = "{pems}/ed25519_private_encrypted.pem"
ED_PUB = "{pems}/ed25519_public.pem"
PY = "{py}"
SHORT = {"rsa": "2f685fa7", "ecdsa": "50d7e110", "ed25519": "c6d8bf2e"}

# Why intoto-pip's exit code differs, where it does.
UNREADABLE_INPUT = (
    "DESIGN §6: a file the user named (key, layout path, link folder) that cannot be read "
    "is a usage error, exit 2; the reference exits 1 (docs/migration.md, Exit codes)"
)
NO_EXPIRY = (
    "DESIGN §3: a layout's expiry is required (YYYY-MM-DDTHH:MM:SSZ). in-toto-sign signs a DSSE "
    "template as it is, without expires, and in-toto-verify then reads the missing expiry as "
    "'a month from now' on every run, so that layout never expires; intoto-pip refuses it "
    "(docs/migration.md, What is stricter)"
)
NO_UNFINISHED_LINK = (
    "docs/migration.md, Commands that behave differently: 'record stop' without an "
    "unfinished link exits 2 (usage); the reference exits 1"
)


@dataclass(frozen=True)
class Call:
    args: tuple[str, ...]
    code: int  # what the upstream test asserts, and in-toto 3.1.0 does
    ours: int | None = None  # intoto-pip's code, where it differs on purpose
    why: str = ""
    creates: tuple[str, ...] = ()  # files that must exist afterwards
    absent: tuple[str, ...] = ()  # files that must not
    remove: tuple[str, ...] = ()  # files removed after the call (as the upstream test does)

    @property
    def expected_ours(self) -> int:
        return self.code if self.ours is None else self.ours


@dataclass(frozen=True)
class Case:
    source: str  # upstream file::class::method
    tool: str  # "sign" for in-toto-sign / intoto-pip sign, ...
    setup: str  # a key of SETUPS in test_upstream.py
    calls: tuple[Call, ...]
    files: dict[str, str] = field(default_factory=dict)  # more files to write first


def c(*args: str, code: int = 0, **kwargs: object) -> Call:
    return Call(args=args, code=code, **kwargs)  # type: ignore[arg-type]


# --- in-toto-verify --------------------------------------------------------------------------

ALL_PUBS = (RSA_PUB, ED_PUB, ECDSA_PUB)
VERIFY = [
    Case(
        "test_in_toto_verify.py::TestInTotoVerifySubjectPublicKeyInfoKeys::test_main_multiple_keys",
        "verify",
        "demo",
        (c("--layout", "demo.layout", "--verification-keys", *ALL_PUBS),),
    ),
    Case(
        "test_in_toto_verify.py::TestInTotoVerifySubjectPublicKeyInfoKeys::"
        "test_main_failing_bad_layout_path",
        "verify",
        "demo",
        (
            c(
                "--layout",
                "not-a-path-to-a-layout",
                "--verification-keys",
                *ALL_PUBS,
                code=1,
                ours=2,
                why=UNREADABLE_INPUT,
            ),
        ),
    ),
    Case(
        "test_in_toto_verify.py::TestInTotoVerifySubjectPublicKeyInfoKeys::test_main_link_dir",
        "verify",
        "demo",
        (
            c("--layout", "demo.layout", "--link-dir", ".", "--verification-keys", *ALL_PUBS),
            c(
                "--layout",
                "demo.layout",
                "--link-dir",
                "bad-link-dir",
                "--verification-keys",
                *ALL_PUBS,
                code=1,
                ours=2,
                why=UNREADABLE_INPUT,
            ),
        ),
    ),
    Case(
        "test_in_toto_verify.py::TestInTotoVerifySubjectPublicKeyInfoKeysAndUseDSSE::"
        "test_main_multiple_keys",
        "verify",
        "demo_dsse",
        (c("--layout", "demo.layout", "--verification-keys", *ALL_PUBS, ours=1, why=NO_EXPIRY),),
    ),
]


# --- in-toto-sign ----------------------------------------------------------------------------

LAYOUT = "demo.layout.template"
LINK = "package.2f89b927.link"


def _sign_cases(cls: str, setup: str) -> list[Case]:
    where = f"test_in_toto_sign.py::{cls}::"
    sign_and_verify = (
        c("-f", LAYOUT, "-k", RSA, ECDSA, "-o", "tmp.layout", creates=("tmp.layout",)),
        c("-f", "tmp.layout", "-k", RSA_PUB, ECDSA_PUB, "--verify"),
        c("-f", "tmp.layout", "-k", ED, "-a"),
        c("-f", "tmp.layout", "-k", RSA_PUB, ECDSA_PUB, ED_PUB, "--verify"),
        c("-f", LINK, "-k", ECDSA, "-o", LINK),
        c("-f", LINK, "-k", ECDSA_PUB, "--verify"),
        c("-f", LINK, "-k", RSA, creates=("package.2f685fa7.link",)),
        c("-f", "package.2f685fa7.link", "-k", RSA_PUB, "--verify"),
    )
    cases = [Case(where + "test_sign_and_verify", "sign", setup, sign_and_verify)]
    if cls.endswith("DSSE"):
        fail_verification: tuple[Call, ...] = (c("-f", LAYOUT, "-k", ED_PUB, "--verify", code=1),)
    else:
        fail_verification = (
            c("-f", LAYOUT, "-k", ED_PUB, "--verify", code=1),
            c("-f", LAYOUT, "-k", ED, "--verify", code=2),
        )
        cases += [
            Case(
                where + "test_fail_signing",
                "sign",
                setup,
                (
                    c("-f", LAYOUT, "-k", ED, LINK, code=2),
                    c("-f", LAYOUT, "-k", RSA_ENC, code=2),
                    c("-f", LAYOUT, "-k", ECDSA_ENC, code=2),
                ),
            ),
            Case(
                where + "test_bad_args",
                "sign",
                setup,
                (
                    c("-f", LAYOUT, "-k", "key-not-used", "--verify", "-o", "x", code=2),
                    c("-f", LAYOUT, "-k", "key-not-used", "--verify", "-a", code=2),
                    c("-f", LINK, "-k", "key-not-used", "-a", code=2),
                    c("-f", LINK, "-k", RSA, ECDSA, code=2),
                    c("-f", LAYOUT, "-k", RSA, "-g", code=2),
                    c("-f", LAYOUT, code=2),
                    c("-f", LAYOUT, "--verify", "-g", code=2),
                ),
            ),
            Case(
                where + "test_bad_metadata",
                "sign",
                setup,
                (
                    c("-f", RSA_PUB, "-k", "key-not-used", code=2),
                    c("-f", "tmp.json", "-k", "key-not-used", code=2),
                ),
                files={"tmp.json": "{}"},
            ),
        ]
    cases.append(Case(where + "test_fail_verification", "sign", setup, fail_verification))
    return cases


SIGN = _sign_cases("TestInTotoSignTool", "sign") + _sign_cases(
    "TestInTotoSignToolWithDSSE", "sign_dsse"
)


# --- in-toto-run -----------------------------------------------------------------------------

STEP_LINK = f"test_step.{SHORT['rsa']}.link"
BASE = ("--step-name", "test_step", "--signing-key", RSA)
OPTIONAL = (*BASE, "--materials", "test_artifact", "--products", "test_artifact", "-s")
VERSION = ("--", PY, "--version")


def _pkcs8(dsse: tuple[str, ...]) -> tuple[Call, ...]:
    calls: list[Call] = []
    for algo, short in SHORT.items():
        link = f"foo.{short}.link"
        base = ("-n", "foo", "-x", *dsse, "--signing-key")
        plain = f"{{pems}}/{algo}_private_unencrypted.pem"
        encrypted = f"{{pems}}/{algo}_private_encrypted.pem"
        calls += [
            c(*base, plain, creates=(link,), remove=(link,)),
            c(*base, encrypted, code=1, ours=2, why=UNREADABLE_INPUT, absent=(link,)),
            c(*base, encrypted, "-P", "hunter2", creates=(link,), remove=(link,)),
        ]
    return tuple(calls)


def _run_cases(cls: str, dsse: tuple[str, ...]) -> list[Case]:
    where = f"test_in_toto_run.py::{cls}::"
    optional = (
        c(*OPTIONAL, *dsse, *VERSION, creates=(STEP_LINK,)),
        c(*OPTIONAL, *dsse, "--exclude", "*test*", *VERSION),
        c(*OPTIONAL, *dsse, "--base-path", "{dir}", *VERSION),
        c(*OPTIONAL, *dsse, "--base-path", "bogus/path", *VERSION, code=1, ours=2,
          why=UNREADABLE_INPUT),
        c(*OPTIONAL, *dsse, "--lstrip-paths", "test_artifac", *VERSION),
    )  # fmt: skip
    cases = [
        Case(where + "test_main_required_args", "run", "artifact",
             (c(*BASE, *dsse, *VERSION, creates=(STEP_LINK,)),)),
        Case(where + "test_main_optional_args", "run", "artifact", optional),
        Case(where + "test_main_no_command_arg", "run", "artifact",
             (c("in_toto_run.py", *BASE, *dsse, "--no-command", creates=(STEP_LINK,)),)),
        Case(where + "test_pkcs8_signing_key", "run", "artifact", _pkcs8(dsse)),
        Case(where + "test_main_failed_command", "run", "artifact",
             (c(*BASE, *dsse, "--", PY, "--badParameter", code=2, creates=(STEP_LINK,)),)),
    ]  # fmt: skip
    if not dsse:
        cases += [
            Case(where + "test_main_with_metadata_directory", "run", "artifact",
                 (c(*BASE, "--metadata-directory", "meta", *VERSION,
                    creates=(f"meta/{STEP_LINK}",)),), files={"meta/.keep": ""}),
            Case(where + "test_main_wrong_args", "run", "artifact", tuple(
                c(*args, code=2, absent=(STEP_LINK,)) for args in (
                    (),
                    ("--step-name", "some"),
                    ("--signing-key", RSA),
                    ("--", "echo", "blub"),
                    ("--step-name", "test-step", "--signing-key", RSA),
                    ("--step-name", "--", "echo", "blub"),
                    ("--signing-key", RSA, "--", "echo", "blub"),
                    ("--step-name", "test-step", "--signing-key", RSA, "--"),
                    ("--step-name", "test-step", "--signing-key", RSA, "--gpg", "--", "echo",
                     "blub"),
                ))),
            Case(where + "test_main_wrong_key_exits", "run", "artifact",
                 (c("--step-name", "test_step", "--signing-key", "non-existing-key", "--",
                    "echo", "test", code=1, ours=2, why=UNREADABLE_INPUT,
                    absent=(STEP_LINK,)),)),
        ]  # fmt: skip
    return cases


RUN = _run_cases("TestInTotoRunTool", ()) + _run_cases("TestInTotoRunToolWithDSSE", ("--use-dsse",))


# --- in-toto-record --------------------------------------------------------------------------


def _start_stop(name: str, extra: tuple[str, ...], start: tuple[str, ...] = (),
                stop: tuple[str, ...] = ()) -> tuple[Call, Call]:  # fmt: skip
    args = ("--step-name", name, "--signing-key", RSA, *extra)
    return (
        c("start", *args, *start),
        c("stop", *args, *stop, creates=(f"{name}.{SHORT['rsa']}.link",)),
    )


def _record_pkcs8(dsse: tuple[str, ...]) -> tuple[Call, ...]:
    calls: list[Call] = []
    for algo, short in SHORT.items():
        plain = f"{{pems}}/{algo}_private_unencrypted.pem"
        encrypted = f"{{pems}}/{algo}_private_encrypted.pem"
        base = ("-n", "foo", *dsse, "--signing-key")
        calls += [
            c("start", *base, plain, creates=(f".foo.{short}.link-unfinished",)),
            c("stop", *base, plain, creates=(f"foo.{short}.link",)),
            c("start", *base, encrypted, code=1, ours=2, why=UNREADABLE_INPUT),
            c("start", *base, encrypted, "-P", "hunter2"),
            c("stop", *base, encrypted, "-P", "hunter2", creates=(f"foo.{short}.link",)),
        ]
    return tuple(calls)


def _record_cases(cls: str, dsse: tuple[str, ...]) -> list[Case]:
    where = f"test_in_toto_record.py::{cls}::"
    misc = (
        *_start_stop("test2", dsse, ("--materials", "test_artifact1"),
                     ("--products", "test_artifact1")),
        *_start_stop("test2.5", dsse, ("--materials", "test_artifact1", "--exclude", "test*"),
                     ("--products", "test_artifact1", "--exclude", "test*")),
        *_start_stop("test2.6", (*dsse, "--base-path", "{dir}")),
        *_start_stop("test3", dsse, ("--materials", "test_artifact1", "test_artifact2"),
                     ("--products", "test_artifact2", "test_artifact2")),
        c("start", "--step-name", "test9", "--signing-key", RSA, *dsse),
        c("stop", "--metadata-directory", "meta", "--step-name", "test9", "--signing-key", RSA,
          *dsse, creates=(f"meta/test9.{SHORT['rsa']}.link",)),
    )  # fmt: skip
    cases = [
        Case(where + "test_misc_options", "record", "artifacts", misc, files={"meta/.keep": ""}),
        Case(where + "test_pkcs8_signing_key", "record", "artifacts", _record_pkcs8(dsse)),
    ]
    if not dsse:
        wrong = ("--step-name", "wrong-key", "--signing-key", "non-existing-key")
        cases += [
            Case(where + "test_wrong_key", "record", "artifacts", (
                c("start", *wrong, code=1, ours=2, why=UNREADABLE_INPUT),
                c("stop", *wrong, code=1, ours=2, why=UNREADABLE_INPUT),
            )),
            Case(where + "test_no_key", "record", "artifacts", (
                c("start", "--step-name", "no-key", code=2),
                c("stop", "--step-name", "no-key", code=2),
            )),
            Case(where + "test_missing_unfinished_link", "record", "artifacts", (
                c("stop", "--step-name", "no-link", "--signing-key", RSA, code=1, ours=2,
                  why=NO_UNFINISHED_LINK),
            )),
        ]  # fmt: skip
    return cases


RECORD = _record_cases("TestInTotoRecordTool", ()) + _record_cases(
    "TestInTotoRecordToolWithDSSE", ("--use-dsse",)
)


# --- in-toto-mock ----------------------------------------------------------------------------

MOCK = [
    Case("test_in_toto_mock.py::TestInTotoMockTool::test_main_required_args", "mock", "artifact",
         (c("--name", "test_step", *VERSION, creates=("test_step.link",)),)),
    Case("test_in_toto_mock.py::TestInTotoMockTool::test_main_wrong_args", "mock", "artifact",
         tuple(c(*args, code=2, absent=("test_step.link", "test-step.link")) for args in
               ((), ("--name", "test-step"), ("--", "echo", "blub")))),
    Case("test_in_toto_mock.py::TestInTotoMockTool::test_main_bad_cmd", "mock", "artifact",
         (c("-n", "bad-command", "--", "ggadsfljasdhlasdfljvzxc", code=1),)),
]  # fmt: skip


# --- in-toto-match-products (upstream mocks the API; here with real files) --------------------

MATCH = [
    Case("test_in_toto_match_products.py::TestInTotoMatchProducts::test_check_exit",
         "match-products", "demo_unsigned", (
             c("-l", LINK, "--paths", "foo.tar.gz"),  # api returned nothing: 0
             c("-l", LINK, "--paths", "foo.tar.gz", "extra.txt", code=1),  # only on disk
             c("-l", LINK, "--paths", "foo.tar.gz", "--exclude", "foo*", code=1),  # only in link
             c("-l", "write-code.776a00e2.link", "--paths", "foo.py", code=1),  # differ
         ), files={"foo.py": "print('hello world')\n# changed\n", "extra.txt": "x"}),
    Case("test_in_toto_match_products.py::TestInTotoMatchProducts::test_check_args",
         "match-products", "demo_unsigned", (
             # Upstream checks only how the API is called; on real files everything is
             # excluded, so the link's foo.tar.gz is only in the link: 1.
             c("-l", LINK, "--paths", "foo", "bar", "--exclude", "f*", "b*", "--lstrip-paths",
               "f", "b", code=1),
         ), files={"foo/x": "", "bar/y": ""}),
]  # fmt: skip

CASES: list[Case] = [*VERIFY, *SIGN, *RUN, *RECORD, *MOCK, *MATCH]
