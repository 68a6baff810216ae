"""The demo's story: one small supply chain, played for real on built-in data.

An owner makes keys and a layout; alice records writing the code; bob builds the wheel through
``intoto_pip.backend``, which signs his step and embeds the evidence; a consumer installs the
wheel verified into a fresh venv and imports it; an attacker swaps a file, and the install is
refused with the reason, leaving the venv untouched.

Every step runs the public entry points in a subprocess, exactly as a user would type them
(``intoto-pip ...``, the PEP 517 hook a build frontend calls), inside one folder the caller
provides. ``play`` returns when the story went as told and raises ``StoryError`` naming the
step that did not.
"""

from __future__ import annotations

import os
import shlex
import shutil
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from intoto_pip.demo import tamper
from intoto_pip.demo.narration import Chapter, Check, Narrator, Output, Say, silent
from intoto_pip.demo.shell import Result, Runner, story_env
from intoto_pip.demo.snapshot import differences, snapshot
from intoto_pip.errors import IntotoPipError

CHAPTERS = 6
WHEEL = "greeting-1.0-py3-none-any.whl"
SWAPPED = "greeting/__init__.py"
GREETING = "Hello from greeting 1.0: alice wrote me, bob built me, and you checked both."
ATTACKER_CODE = b'''"""Looks the same from the outside."""

import os


def hello() -> str:
    # An attacker's payload would read ~/.ssh or ~/.pypirc here and send it away.
    return f"Hello! (your home folder is {os.path.expanduser('~')})"
'''
_SOURCES = ("pyproject.toml", "demo_backend.py", "greeting")
_EVIDENCE = "greeting-1.0.dist-info/in-toto/"
_ERROR = "intoto-pip: error:"
_BUILD_HOOK = 'import intoto_pip.backend as b; print(b.build_wheel("dist"))'


class StoryError(IntotoPipError):
    """A step of the demo did not go as the story tells it (exit 1)."""

    def __init__(self, chapter: Chapter, message: str, output: str = "") -> None:
        super().__init__(f"demo step {chapter.number} ({chapter.title}): {message}")
        self.chapter = chapter
        self.output = output


@dataclass(frozen=True, kw_only=True)
class StoryOptions:
    """Where the story plays (an empty folder, kept or not by the caller) and who tells it."""

    folder: Path
    narrate: Narrator = silent


@dataclass(frozen=True, kw_only=True)
class StoryResult:
    wheel: Path
    greeting: str
    refusal: str


@dataclass(frozen=True, kw_only=True)
class _Scene:
    """One chapter being played: runs its commands and fails in its name."""

    chapter: Chapter
    runner: Runner
    root: Path

    def say(self, text: str) -> None:
        self.runner.narrate(Say(text=text))

    def check(self, text: str) -> None:
        self.runner.narrate(Check(text=text))

    def fail(self, message: str, output: str = "") -> StoryError:
        return StoryError(self.chapter, message, output)

    def run(
        self,
        argv: Sequence[str],
        *,
        folder: str,
        expect: int = 0,
        env: Mapping[str, str] | None = None,
    ) -> Result:
        result = self.runner.run(argv, folder=folder, env=env)
        if result.output:
            self.runner.narrate(Output(text=result.output, important=expect != 0))
        if result.returncode != expect:
            message = f"{shlex.join(argv)!r} exited with {result.returncode}, expected {expect}"
            raise self.fail(message, result.output)
        return result


def play(options: StoryOptions) -> StoryResult:
    """Play the whole story in ``options.folder``; StoryError names a step that went wrong."""
    root = options.folder.resolve()
    runner = Runner(root=root, narrate=options.narrate, base_env=story_env(root / ".config"))

    def scene(number: int, title: str) -> _Scene:
        chapter = Chapter(number=number, total=CHAPTERS, title=title)
        options.narrate(chapter)
        return _Scene(chapter=chapter, runner=runner, root=root)

    _make_keys(scene(1, "the owner, alice and bob make their keys"))
    _write_layout(scene(2, "the owner lays out the supply chain"))
    _write_code(scene(3, "alice writes the code and records her step"))
    wheel = _build(
        scene(4, "bob builds the wheel; the build backend signs it and embeds the evidence")
    )
    greeting = _install(
        scene(5, "a consumer installs the wheel, verified, into a fresh venv"), wheel
    )
    refusal = _attack(scene(6, "an attacker swaps a file; the install is refused"), wheel)
    return StoryResult(wheel=wheel, greeting=greeting, refusal=refusal)


def data_files() -> Traversable:
    """The built-in data: the sample project and the owner's layout TOML."""
    return resources.files("intoto_pip.demo") / "data"


def _make_keys(scene: _Scene) -> None:
    scene.say(
        "The owner decides who may do what; alice writes the code; bob builds it. Each makes "
        "an ed25519 key pair: a private key they keep, and a public key (.pub) they hand out."
    )
    for person in ("owner", "alice", "bob"):
        (scene.root / person).mkdir()
        scene.run(["intoto-pip", "keygen", person], folder=person)
        if not (scene.root / person / f"{person}.pub").is_file():
            raise scene.fail(f"keygen wrote no {person}/{person}.pub")
    for person in ("alice", "bob"):
        shutil.copy2(scene.root / person / f"{person}.pub", scene.root / "owner")
    scene.check("alice and bob sent their public keys (alice.pub, bob.pub) to the owner")


def _write_layout(scene: _Scene) -> None:
    layout_toml = (data_files() / "layout.toml").read_text(encoding="utf-8")
    (scene.root / "owner" / "layout.toml").write_text(layout_toml, encoding="utf-8")
    scene.say(
        "The layout says which steps make the package, who may sign each, and what each step "
        "may consume and produce. The owner writes it in TOML (owner/layout.toml):"
    )
    scene.runner.narrate(Output(text=_layout_rules(layout_toml), important=True))
    scene.run(
        ["intoto-pip", "layout", "create", "layout.toml", "-o", "root.layout", "-k", "owner"],
        folder="owner",
    )
    in_toto = scene.root / "project" / "in-toto"
    (in_toto / "links").mkdir(parents=True)
    shutil.copy2(scene.root / "owner" / "root.layout", in_toto / "root.layout")
    (scene.root / "consumer").mkdir()
    shutil.copy2(scene.root / "owner" / "owner.pub", scene.root / "consumer" / "owner.pub")
    scene.check(
        "root.layout, signed with the owner's key, goes into the project (project/in-toto/, "
        "where the links will go too); "
        "owner.pub goes, out of band, to whoever will install the package"
    )


def _layout_rules(layout_toml: str) -> str:
    """The layout TOML without its comment lines: short enough to read in the narration."""
    lines = [line for line in layout_toml.splitlines() if not line.lstrip().startswith("#")]
    return "\n".join(lines).strip()


def _write_code(scene: _Scene) -> None:
    key = ["--signing-key", "../alice/alice"]
    scene.run(["intoto-pip", "record", "start", "-n", "write-code", *key], folder="project")
    _copy_tree(data_files() / "project", scene.root / "project")
    scene.say(
        "alice writes the code: greeting/__init__.py (the package), pyproject.toml and "
        "demo_backend.py (a 70-line build backend, standard library only)."
    )
    products = ["-p", *_SOURCES, "-d", "in-toto/links"]
    scene.run(
        ["intoto-pip", "record", "stop", "-n", "write-code", *key, *products], folder="project"
    )
    links = sorted((scene.root / "project" / "in-toto" / "links").glob("write-code.*.link"))
    if len(links) != 1:
        raise scene.fail("record stop wrote no in-toto/links/write-code.*.link")
    _, products = _link_artifacts(links[0].read_bytes(), links[0].name)
    scene.check(f"{links[0].name}, signed by alice, records products " + ", ".join(products))


def _link_artifacts(data: bytes, what: str) -> tuple[list[str], list[str]]:
    """The material and product names of a link, classic or DSSE (shown, not verified)."""
    from intoto_pip.models.envelope import parse_envelope

    payload = parse_envelope(data, what=what).payload
    return sorted(payload.get("materials", {})), sorted(payload.get("products", {}))


def _copy_tree(source: Traversable, target: Path) -> None:
    target.mkdir(exist_ok=True)
    for entry in source.iterdir():
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            _copy_tree(entry, target / entry.name)
        else:
            (target / entry.name).write_bytes(entry.read_bytes())


def _build(scene: _Scene) -> Path:
    scene.say(
        "bob runs the build through intoto_pip.backend, the PEP 517 backend pyproject.toml "
        "names. It runs the real backend, records what went in (the source tree) and what "
        "came out (the wheel's files), signs that as the 'build' step with the key "
        "INTOTO_PIP_SIGNING_KEY names, and embeds the layout and both links in the wheel. "
        "(pip and 'python -m build' call this same hook; calling it directly keeps the demo "
        "off the network.)"
    )
    (scene.root / "project" / "dist").mkdir()
    env = {"INTOTO_PIP_SIGNING_KEY": str(scene.root / "bob" / "bob")}  # absolute, as hooks need
    result = scene.run(["python", "-c", _BUILD_HOOK], folder="project", env=env)
    wheel = scene.root / "project" / "dist" / WHEEL
    if WHEEL not in result.output.splitlines() or not wheel.is_file():
        raise scene.fail(f"the backend did not report building dist/{WHEEL}", result.output)
    evidence = _embedded_evidence(wheel)
    builds = [name for name in evidence if name.startswith("build.")]
    if not builds:
        raise scene.fail(f"dist/{WHEEL} carries no build link", "\n".join(evidence))
    scene.check(f"dist/{WHEEL} carries {_EVIDENCE}: " + ", ".join(evidence))
    materials, products = _link_artifacts(evidence[builds[0]], builds[0])
    scene.check(
        f"{builds[0]}, signed by bob, records materials {', '.join(materials)} "
        f"and products {', '.join(products)}"
    )
    return wheel


def _embedded_evidence(wheel: Path) -> dict[str, bytes]:
    """The files of the wheel's in-toto folder, by name within it."""
    with zipfile.ZipFile(wheel) as archive:
        return {
            name.removeprefix(_EVIDENCE): archive.read(name)
            for name in sorted(archive.namelist())
            if name.startswith(_EVIDENCE)
        }


def _venv_python(venv: str) -> str:
    return f"{venv}/Scripts/python.exe" if os.name == "nt" else f"{venv}/bin/python"


def _install_command(archive: str, venv: str) -> list[str]:
    # The archive comes first: --layout-key takes one or more keys, so a path after it
    # would be read as a second key.
    return [
        "intoto-pip",
        "install",
        archive,
        "--python",
        _venv_python(venv),
        "--layout-key",
        "owner.pub",
    ]


def _install(scene: _Scene, wheel: Path) -> str:
    scene.say(
        "The consumer trusts one thing: the owner's public key, which they got out of band. "
        "Anyone can check an archive without installing it; 'install' checks again and "
        "installs only what it verified, into a fresh venv here."
    )
    published = f"../project/dist/{wheel.name}"
    scene.run(["intoto-pip", "verify", published, "--layout-key", "owner.pub"], folder="consumer")
    scene.run(["python", "-m", "venv", "--without-pip", "venv"], folder="consumer")
    scene.run(_install_command(published, "venv"), folder="consumer")
    result = scene.run(
        [_venv_python("venv"), "-I", "-c", "import greeting; print(greeting.hello())"],
        folder="consumer",
    )
    if result.output != GREETING:
        raise scene.fail("the installed package did not say its greeting", result.output)
    scene.check("greeting is installed in consumer/venv and imports; it says what alice wrote")
    return result.output


def _attack(scene: _Scene, wheel: Path) -> str:
    scene.say(
        f"The attacker controls the download (a mirror, a proxy, a stolen upload token). They "
        f"replace {SWAPPED} in the wheel and rewrite RECORD to match, so the wheel passes every "
        "check pip makes. They cannot sign for bob. (The demo swaps the file with Python's "
        "zipfile module: intoto_pip/demo/tamper.py.)"
    )
    (scene.root / "attacker").mkdir()
    forged = scene.root / "attacker" / wheel.name
    tamper.swap_member(wheel, forged, SWAPPED, ATTACKER_CODE)
    if not tamper.record_matches(forged):
        raise scene.fail("the forged wheel's RECORD does not match its files")
    scene.check(f"attacker/{wheel.name}: {SWAPPED} swapped, RECORD consistent with every file")
    return _refused_install(scene, forged)


def _refused_install(scene: _Scene, forged: Path) -> str:
    scene.run(["python", "-m", "venv", "--without-pip", "venv2"], folder="consumer")
    venv = scene.root / "consumer" / "venv2"
    before = snapshot(venv)
    forged_path = f"../attacker/{forged.name}"
    result = scene.run(_install_command(forged_path, "venv2"), folder="consumer", expect=1)
    reasons = [line for line in result.output.splitlines() if _ERROR in line and SWAPPED in line]
    if not reasons:
        raise scene.fail(f"the refusal does not name {SWAPPED}", result.output)
    scene.check(f"refused with exit code 1, and the reason names {SWAPPED}")
    changed = differences(before, snapshot(venv))
    if changed:
        raise scene.fail("the refused install changed consumer/venv2", "\n".join(changed))
    scene.check(f"consumer/venv2 is exactly as it was: all {len(before)} entries, byte for byte")
    scene.say(
        f"Why: bob's signed build link records the hash of the {SWAPPED} he built. The forged "
        "file has another hash, and without bob's private key nobody can sign a link that "
        "says otherwise. The check ran before anything was written to the venv."
    )
    return reasons[0].split(_ERROR, 1)[1].strip()
