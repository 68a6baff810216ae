"""Pin the real-world suite's distributions: download from PyPI, write tests/realworld/pins.toml.

    python -m tools.pin_realworld            # rewrite the pins from the names listed below
    python -m tools.pin_realworld --check    # exit 1 if a pinned file's sha256 no longer matches

Wheels are the best file pip picks for this interpreter (``--only-binary :all:``); sdists are
fetched with ``--no-binary :all:``; ``build`` wheels are build backends that only the sdists'
index serves. Each wheel's import names come from its members and its needs (its runtime
requirements on this interpreter) from its METADATA, so a test can import it once what it
needs is installed; a need that is not itself pinned is reported (and fails test_pins.py).
Review the output before committing it.
"""

from __future__ import annotations

import argparse
import email.parser
import hashlib
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

from tests.realworld.pins import PINS_FILE, Kind, Pin, download_pin, load_pins
from tests.support.index import clean_env

# Runtime dependencies first where it costs nothing; the tests install needs first anyway.
WHEELS = [
    "six",
    "python-dateutil",
    "pytz",
    "tzdata",
    "idna",
    "certifi",
    "charset-normalizer",
    "urllib3",
    "requests",
    "packaging",
    "setuptools",
    "wheel",
    "pip",
    "flit-core",
    "hatchling",
    "pathspec",
    "trove-classifiers",
    "pluggy",
    "iniconfig",
    "pygments",
    "pytest",
    "colorama",
    "click",
    "markupsafe",
    "jinja2",
    "itsdangerous",
    "werkzeug",
    "blinker",
    "flask",
    "mdurl",
    "markdown-it-py",
    "rich",
    "typing-extensions",
    "annotated-types",
    "typing-inspection",
    "pydantic-core",
    "pydantic",
    "pycparser",
    "cffi",
    "cryptography",
    "pillow",
    "lxml",
    "greenlet",
    "sqlalchemy",
    "mako",
    "alembic",
    "tomli",
    "filelock",
    "platformdirs",
    "distlib",
    "python-discovery",
    "virtualenv",
    "h11",
    "sniffio",
    "anyio",
    "httpcore",
    "httpx",
    "jmespath",
    "botocore",
    "s3transfer",
    "boto3",
    "docutils",
    "markdown",
    "psutil",
    "wrapt",
    "decorator",
    "tqdm",
    "msgpack",
    "protobuf",
    "grpcio",
    "attrs",
    "multidict",
    "propcache",
    "yarl",
    "frozenlist",
    "aiosignal",
    "aiohappyeyeballs",
    "async-timeout",
    "aiohttp",
    "numpy",
    "pandas",
    "pyyaml",
    "soupsieve",
    "beautifulsoup4",
    "tomlkit",
    "pyparsing",
    "cachetools",
    "pyasn1",
    "pyasn1-modules",
    "rsa",
    "oauthlib",
    "requests-oauthlib",
    "zipp",
    "lazy-importer",
    "importlib-metadata",
    "more-itertools",
    "rpds-py",
    "referencing",
    "jsonschema-specifications",
    "jsonschema",
    "fsspec",
    "networkx",
    "mpmath",
    "sympy",
    "et-xmlfile",
    "openpyxl",
    "tabulate",
    "wcwidth",
    "prompt-toolkit",
    "ptyprocess",
    "pexpect",
    "parso",
    "jedi",
    "traitlets",
    "regex",
    "orjson",
    "ujson",
    "simplejson",
    "coverage",
    "websockets",
    "tornado",
    "zstandard",
    "bcrypt",
    "pynacl",
    "invoke",
    "paramiko",
    "python-dotenv",
    "pyjwt",
    "websocket-client",
    "requests-toolbelt",
    "shellingham",
    "annotated-doc",
    "typer",
    "toml",
    "tenacity",
    "kiwisolver",
    "cycler",
    "fonttools",
    "contourpy",
    "matplotlib",
    "cloudpickle",
    "joblib",
    "threadpoolctl",
    "isodate",
]

# Pure-Python sdists built by setuptools, flit_core or hatchling alone (no VCS plugins).
SDISTS = [
    "docopt",
    "pyperclip",
    "six",
    "toml",
    "h11",
    "jmespath",
    "decorator",
    "idna",
    "tomli",
    "itsdangerous",
    "blinker",
    "typing-extensions",
    "mdurl",
    "annotated-types",
    "colorama",
    "pytz",
    "ptyprocess",
]

# Build backends some of those sdists ask for besides the versions in WHEELS: flit_core 3
# (``flit_core<4``). Served on the sdists' index only.
BUILD = ["flit-core<4"]

# Top-level names in wheels that are not modules to import on their own.
NOT_IMPORTS = {"tests", "test", "testing", "docs", "examples", "benchmarks", "scripts"}
# Namespace packages have no __init__.py to find them by.
IMPORTS = {"protobuf": ["google.protobuf"], "matplotlib": ["matplotlib"]}  # pylab: pyplot
# Imports a wheel does without declaring them (soupsieve's matcher imports bs4).
NEEDS = {"soupsieve": ["beautifulsoup4"]}
_MODULE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\.py|\.[A-Za-z0-9_.-]*\.so|/__init__\.py)$")


def download(names: list[str], folder: Path, *, sdist: bool) -> None:
    # pip prepares an sdist's metadata: in isolation, with build backends it fetches from PyPI.
    kind = ["--no-binary", ":all:"] if sdist else ["--only-binary", ":all:"]
    command = [sys.executable, "-m", "pip", "download", "--no-deps", *kind, "-q"]
    command += ["--index-url", "https://pypi.org/simple", "-d", str(folder), *names]
    subprocess.run(command, check=True, env=clean_env())


def imports_of(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        found = {m.group(1) for n in archive.namelist() if (m := _MODULE.match(n))}
    # mypyc's helper modules (``<hash>__mypyc``) are loaded by the package, not by users.
    return sorted(name for name in found - NOT_IMPORTS if not name.endswith("__mypyc"))


def needs_of(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = email.parser.BytesParser().parsebytes(archive.read(name))
    needs = []
    for line in metadata.get_all("Requires-Dist") or []:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
            continue
        dep = str(canonicalize_name(requirement.name))
        if dep not in needs:
            needs.append(dep)
    return needs + NEEDS.get(str(canonicalize_name(metadata["Name"])), [])


def wheel_pin(path: Path, kind: Kind = "wheel") -> Pin:
    name, version, _, _ = parse_wheel_filename(path.name)
    imports = IMPORTS.get(str(name)) or imports_of(path)
    return Pin(
        kind=kind,
        name=str(name),
        version=str(version),
        file=path.name,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        size=path.stat().st_size,
        imports=tuple(imports),
        needs=tuple(needs_of(path)),
    )


def sdist_pin(path: Path) -> Pin:
    name, version = parse_sdist_filename(path.name)
    return Pin(
        kind="sdist",
        name=str(name),
        version=str(version),
        file=path.name,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        size=path.stat().st_size,
        # Every sdist here is a project whose import name is its name with "_" for "-".
        imports=(str(name).replace("-", "_"),),
        needs=(),
    )


def render(pins: list[Pin]) -> str:
    out = [
        "# Generated by `python -m tools.pin_realworld`, then reviewed: see tests/realworld/.",
        "# imports: modules the test imports after install; needs: runtime requirements (all",
        "# pinned wheels), installed first into the same venv so the import can succeed.",
    ]
    for pin in pins:
        out += ["", f"[[{pin.kind}]]", f'name = "{pin.name}"', f'version = "{pin.version}"']
        out += [f'file = "{pin.file}"', f'sha256 = "{pin.sha256}"', f"size = {pin.size}"]
        out.append("imports = [" + ", ".join(f'"{i}"' for i in pin.imports) + "]")
        if pin.kind != "sdist":
            out.append("needs = [" + ", ".join(f'"{n}"' for n in pin.needs) + "]")
    return "\n".join(out) + "\n"


def generate() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        wheels, build, sdists = Path(tmp, "wheels"), Path(tmp, "build"), Path(tmp, "sdists")
        download(WHEELS, wheels, sdist=False)
        download(BUILD, build, sdist=False)
        download(SDISTS, sdists, sdist=True)
        by_name = {canonicalize_name(parse_wheel_filename(p.name)[0]): p for p in wheels.iterdir()}
        pins = [wheel_pin(by_name[canonicalize_name(n)]) for n in WHEELS]
        pins += [wheel_pin(path, "build") for path in sorted(build.iterdir())]
        by_sdist = {canonicalize_name(parse_sdist_filename(p.name)[0]): p for p in sdists.iterdir()}
        pins += [sdist_pin(by_sdist[canonicalize_name(n)]) for n in SDISTS]
    return render(pins)


def check() -> int:
    """Download every pinned file again; 1 if one is missing or its sha256 changed."""
    with tempfile.TemporaryDirectory() as tmp:
        bad = []
        for pin in load_pins():
            try:
                download_pin(pin, Path(tmp))
            except (OSError, ValueError, subprocess.CalledProcessError) as exc:
                bad.append(f"{pin.file}: {exc}")
    print("\n".join(bad) or "every pin downloads with its sha256")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if args.check:
        return check()
    PINS_FILE.write_text(generate())
    pins = load_pins()
    pinned = {pin.name for pin in pins if pin.kind == "wheel"}
    unpinned = sorted({need for pin in pins for need in pin.needs} - pinned)
    if unpinned:
        print(f"needed but not pinned (add them to WHEELS): {' '.join(unpinned)}")
    return 1 if unpinned else 0


if __name__ == "__main__":
    sys.exit(main())
