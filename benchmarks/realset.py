"""Pairs 7-pip, 7-uv, 7-no-compile: a common stack of 30 real wheels from a loopback index.

The set (``PINS``: requests, rich, httpx, pydantic, click, jinja2, sqlalchemy, pyyaml,
pytest, typer and their dependencies, for CPython 3.11 on x86-64 Linux) is downloaded once
from PyPI by pip into ``out/realset/pypi/``. Evidence is attached with intoto-pip's own
producer tools, once: one layout (``layout create``: a ``build`` step whose products the
built-in final-product check compares with every member), and per wheel a ``build`` link
over its unpacked members (``run -x``) embedded by ``attach``. The signed wheels are served
by ``python -m http.server`` on 127.0.0.1 as a PEP 503 index.

Every round installs into a fresh ``python -m venv --without-pip`` (made untimed) with empty
caches: pip ``--no-cache-dir``, uv ``--no-cache``, intoto-pip (whose resolver is pip) with
``XDG_CACHE_HOME`` emptied before each run.

(7-pip) verified ``intoto-pip install`` vs ``pip install`` (both compile bytecode);
(7-uv) the same vs ``uv pip install --compile-bytecode``;
(7-no-compile) ``intoto-pip install --no-compile`` vs ``uv pip install`` (no bytecode either);
(7-unverified) verified vs ``intoto-pip install --allow-unverified :all:`` with no key (each
    wheel still checked whole): what verification itself costs;
(3-venv) one of the set's wheels, pygments (351 files), installed from its local file into a
    fresh venv with ``--python``: verified ``intoto-pip install`` vs ``pip install``, both
    ``--no-deps --no-index``.
"""

from __future__ import annotations

import atexit
import hashlib
import html
import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks.context import Case, Context, Unavailable, fresh_dir, invocation, setup_run
from benchmarks.harness import Invocation, Side

REQUESTED = (
    "requests",
    "rich",
    "httpx",
    "pydantic",
    "click",
    "jinja2",
    "sqlalchemy",
    "pyyaml",
    "pytest",
    "typer",
)
# What `pip download --only-binary :all:` of REQUESTED picked on 2026-12-07, pinned.
PINS = (
    "annotated-doc==0.0.7",
    "annotated-types==0.8.0",
    "anyio==4.16.0",
    "certifi==2026.10.19.post1",
    "charset-normalizer==3.5.3",
    "click==8.5.1",
    "h11==0.16.0",
    "httpcore==1.0.9",
    "httpx==0.29.0",
    "idna==3.21",
    "iniconfig==2.3.1",
    "jinja2==3.1.6",
    "markdown-it-py==4.3.0",
    "markupsafe==3.0.4",
    "mdurl==0.1.2",
    "packaging==26.4",
    "pluggy==1.7.0",
    "pydantic==2.14.4",
    "pydantic-core==2.50.5",
    "pygments==2.21.0",
    "pytest==9.2.0",
    "pyyaml==6.0.4",
    "requests==2.34.2",
    "rich==15.0.0",
    "shellingham==1.5.4",
    "sqlalchemy==2.1.9",
    "typer==0.29.2",
    "typing-extensions==4.16.0",
    "typing-inspection==0.4.5",
    "urllib3==2.8.0",
)
LAYOUT_TOML = """\
expires = "3650d"
readme = "benchmark: every wheel of the real set, as built"

[[steps]]
name = "build"
functionaries = ["functionary.pub"]
expected_products = ["ALLOW *"]
"""


_MADE: dict[int, dict[str, Case]] = {}


def real_set_pair(context: Context, key: str) -> Case:
    """Pair ``key`` (7-*, 3-venv); the set is signed and served once for all of them."""
    made = _MADE.get(id(context))
    if made is None:
        made = _MADE[id(context)] = {case.key: case for case in real_set(context)}
    return made[key]


def real_set(context: Context) -> list[Case]:
    """The pairs over one signed set and one running index."""
    uv = _uv()
    root = context.inputs.parent / "realset"
    wheels = _downloaded(context, root / "pypi")
    signed = _signed(context, root, wheels)
    url = _serve(context, signed.parent)
    work = fresh_dir(context.work / "p7")
    ours = _Ours(context, work, url, root / "keys" / "owner.pub")
    pip = (*_pip_install(context), "--index-url", url, *REQUESTED)
    uv_install = (uv, "pip", "install", "--no-cache", "--python", "{venv}", "--index-url", url)
    count = f"{len(PINS)} real wheels"
    return [
        _case(context, work, "7-pip", f"7-pip. install {count}: verified vs pip", ours.side(), pip),
        _case(
            context,
            work,
            "7-uv",
            f"7-uv. install {count}: verified vs uv --compile-bytecode",
            ours.side(),
            (*uv_install, "--compile-bytecode", *REQUESTED),
        ),
        _case(
            context,
            work,
            "7-no-compile",
            f"7-no-compile. install {count}: verified --no-compile vs uv (no bytecode)",
            ours.side("--no-compile"),
            (*uv_install, *REQUESTED),
        ),
        _case(
            context,
            work,
            "7-unverified",
            f"7-unverified. install {count}: verified vs --allow-unverified :all: (no key)",
            ours.side(),
            ours.side("--allow-unverified", ":all:", keyed=False),
        ),
        _local_case(context, work, ours, signed),
    ]


TARGETS = {"7-pip": 0.65, "7-uv": 1.1, "7-no-compile": 1.3, "7-unverified": 1.05, "3-venv": 0.8}
LOCAL = "pygments"  # 351 files: the local pair's wheel


def _pip_install(context: Context) -> tuple[str, ...]:
    """The current pip installing into the round's fresh venv, with no cache."""
    pip = context.envs.pip_bin("pip")
    return (pip, "--python", "{venv}", "install", "--disable-pip-version-check", "--no-cache-dir")


def _local_case(context: Context, work: Path, ours: _Ours, signed: Path) -> Case:
    """One local wheel of the set into a fresh venv with ``--python``, no index."""
    [wheel] = [w for w in sorted(signed.glob("*.whl")) if w.name.lower().startswith(LOCAL + "-")]
    local = ("--no-deps", "--no-index", str(wheel))
    pip = (*_pip_install(context), *local)
    title = f"3-venv. install one local wheel ({wheel.name}) into a venv (--python) vs pip"
    return _case(context, work, "3-venv", title, ours.side(what=local), pip)


class _Ours:
    """The intoto-pip side: a fresh venv and an empty cache before every run."""

    def __init__(self, context: Context, work: Path, url: str, owner_pub: Path) -> None:
        self._context, self._work, self._url, self._owner_pub = context, work, url, owner_pub

    def side(
        self, *extra: str, keyed: bool = True, what: Sequence[str] = REQUESTED
    ) -> Callable[[Path], Side]:
        context, url = self._context, self._url
        cache = self._work / f"cache-ours-{len(extra)}-{keyed}"
        key = ("--layout-key", str(self._owner_pub)) if keyed else ()

        def make(venv: Path) -> Side:
            argv = (
                context.envs.ours_bin("intoto-pip"),
                "install",
                "-q",
                "--python",
                str(venv / "bin" / "python"),
                "--index-url",
                url,
                *extra,
                *what,
                *key,
            )
            env = dict(context.envs.process_env, XDG_CACHE_HOME=str(cache))
            call = Invocation(argv=argv, cwd=self._work, env=env)

            def reset() -> None:
                _fresh_venv(venv)
                fresh_dir(cache)

            label = " ".join(("intoto-pip install", *extra))
            return Side(label=label, invocations=(call,), reset=reset)

        return make


def _case(
    context: Context,
    work: Path,
    key: str,
    title: str,
    ours: Callable[[Path], Side],
    baseline: Sequence[str] | Callable[[Path], Side],
) -> Case:
    venv_a, venv_b = work / f"venv-{key}-a", work / f"venv-{key}-b"
    b = baseline(venv_b) if callable(baseline) else _baseline(context, work, venv_b, baseline)
    return Case(
        key=key,
        title=title,
        target=TARGETS[key],
        a=ours(venv_a),
        b=b,
        after=lambda: (f"Installed: A {_count(venv_a)}, B {_count(venv_b)}.",),
    )


def _baseline(context: Context, work: Path, venv: Path, baseline: Sequence[str]) -> Side:
    argv = tuple(a.replace("{venv}", str(venv / "bin" / "python")) for a in baseline)
    label = "uv pip install" if Path(argv[0]).name == "uv" else "pip install"
    if "--compile-bytecode" in argv:
        label += " --compile-bytecode"
    return Side(
        label=label,
        invocations=(invocation(context, argv, work),),
        reset=lambda: _fresh_venv(venv),
    )


def _uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent))
    if found is None:
        raise Unavailable("uv is not installed beside this interpreter (the test extra has it)")
    return found


def _fresh_venv(venv: Path) -> None:
    if venv.exists():
        shutil.rmtree(venv)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # The last run's thousands of files written and this removal, flushed before the clock
    # starts: otherwise the disk's write-back falls into whichever run comes next.
    os.sync()


def _count(venv: Path) -> str:
    files = [p for p in venv.joinpath("lib").rglob("*") if p.is_file()]
    return f"{len(files)} files ({sum(p.suffix == '.pyc' for p in files)} .pyc)"


def _downloaded(context: Context, folder: Path) -> list[Path]:
    """The pinned wheels, downloaded by pip once (later runs find them in place)."""
    stamp = folder / ".complete"
    if not stamp.exists():
        fresh_dir(folder)
        argv = (
            context.envs.pip_bin("pip"),
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary",
            ":all:",
            "--dest",
            str(folder),
            *PINS,
        )
        setup_run(context, argv, folder)
        stamp.write_text("\n".join(PINS) + "\n", encoding="utf-8")
    wheels = sorted(folder.glob("*.whl"))
    if len(wheels) != len(PINS):
        raise Unavailable(f"{folder}: {len(wheels)} wheels, {len(PINS)} pinned")
    return wheels


def _signed(context: Context, root: Path, wheels: list[Path]) -> Path:
    """Every wheel with a layout and its build link embedded (made once, by our tools)."""
    files = root / "index" / "files"
    stamp = root / "index" / ".complete"
    if stamp.exists():
        _write_simple(files.parent)  # cheap: the pages as this version of the benchmark makes them
        return files
    keys = fresh_dir(root / "keys")
    ours = context.envs.ours_bin("intoto-pip")
    for name in ("owner", "functionary"):
        setup_run(context, (ours, "keygen", str(keys / name)), keys)
    (keys / "layout.toml").write_text(LAYOUT_TOML, encoding="utf-8")
    layout = keys / "root.layout"
    create = (ours, "layout", "create", "layout.toml", "-o", str(layout), "-k", "owner")
    setup_run(context, create, keys)
    fresh_dir(files)
    scratch = fresh_dir(root / "scratch")
    for wheel in wheels:
        unpacked, links = fresh_dir(scratch / "unpacked"), fresh_dir(scratch / "links")
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(unpacked)
        record = (
            *(ours, "run", "-n", "build", "--signing-key", str(keys / "functionary"), "-x"),
            *("--no-default-excludes", "--exclude", "*.dist-info/RECORD", "-d", str(links)),
            *("-p", "."),
        )
        setup_run(context, record, unpacked)
        attach = (ours, "attach", str(wheel), "--layout", str(layout), "--link-dir", str(links))
        setup_run(context, (*attach, "-o", f"{files}/"), scratch)
    shutil.rmtree(scratch)
    _write_simple(files.parent)
    stamp.write_text("\n".join(PINS) + "\n", encoding="utf-8")
    return files


def _write_simple(root: Path) -> None:
    """``simple/<name>/index.html`` (PEP 503) for every wheel in ``root/files``, each with its
    METADATA beside it as PyPI serves it (PEP 658/714: ``<wheel>.metadata``, announced with
    ``data-core-metadata``), so resolvers that use it need not download the wheel."""
    by_project: dict[str, list[str]] = {}
    for wheel in sorted((root / "files").glob("*.whl")):
        project = wheel.name.split("-")[0].replace("_", "-").lower()
        metadata = _metadata_of(wheel)
        wheel.with_name(wheel.name + ".metadata").write_bytes(metadata)
        core = f"sha256={hashlib.sha256(metadata).hexdigest()}"
        by_project.setdefault(project, []).append(
            f'<a href="../../files/{html.escape(wheel.name)}#sha256='
            f'{hashlib.sha256(wheel.read_bytes()).hexdigest()}" data-core-metadata="{core}" '
            f'data-dist-info-metadata="{core}">{html.escape(wheel.name)}</a>\n'
        )
    simple = fresh_dir(root / "simple")
    for project, links in by_project.items():
        (simple / project).mkdir()
        (simple / project / "index.html").write_text(
            f"<!DOCTYPE html><html><body>\n{''.join(links)}</body></html>\n", encoding="utf-8"
        )


def _metadata_of(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        [name] = [
            n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
        ]
        return archive.read(name)


def _serve(context: Context, root: Path) -> str:
    """Serve ``root`` on 127.0.0.1 until the benchmark ends; the index's URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(context.envs.process_env),
    )
    atexit.register(_stop, server)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return f"http://127.0.0.1:{port}/simple/"
        except OSError:
            time.sleep(0.1)
    raise Unavailable("the loopback index did not start")


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()
        server.wait()
