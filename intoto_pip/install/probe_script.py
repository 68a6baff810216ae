"""What the target interpreter reports about itself: scheme, tags, markers, cache tag.

Two uses of one source: ``target.py`` runs this file's text with ``PY -I -B -c`` for another
interpreter (so it may import only the standard library and ``packaging``, and must keep to
syntax old Pythons accept), and calls :func:`probe` in-process when the target is the very
interpreter running intoto-pip, which saves starting it again.
"""

from __future__ import annotations

import json
import os
import sys
import sysconfig
from typing import Any


def probe(mode: str, where: str, installing: bool = True) -> dict[str, Any]:
    """The facts ``target.Target`` is made of; ``mode`` "prefix" installs under ``where``.
    Without ``installing``, the wheel tags and markers are left out (empty): looking at what
    is installed needs neither, and computing them costs the most."""
    in_venv = sys.prefix != getattr(sys, "base_prefix", sys.prefix)
    facts: dict[str, Any] = {
        "executable": sys.executable,
        "version": ".".join(map(str, sys.version_info[:3])),
        "paths": _paths(mode, where, in_venv),
        "tags": [],
        "markers": {},
        "externally_managed": None if in_venv else _externally_managed(),
        "in_venv": in_venv,
        "cache_tag": sys.implementation.cache_tag,
    }
    if installing:
        from packaging import markers, tags

        facts["tags"] = [str(t) for t in tags.sys_tags()]
        facts["markers"] = dict(markers.default_environment())
    return facts


def _paths(mode: str, where: str, in_venv: bool) -> dict[str, str]:
    if mode != "prefix":
        paths = sysconfig.get_paths()
        if in_venv:
            # As pip does: headers of a venv go inside it, not into the base's include.
            version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
            paths["include"] = os.path.join(sys.prefix, "include", "site", version)
        return paths
    try:
        scheme = sysconfig.get_preferred_scheme("prefix")
    except AttributeError:  # Python < 3.10
        scheme = "nt" if os.name == "nt" else "posix_prefix"
    bases = {"base": where, "platbase": where, "installed_base": where, "installed_platbase": where}
    return sysconfig.get_paths(scheme, vars=bases)


def _externally_managed() -> str | None:
    marker = os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")
    if not os.path.isfile(marker):
        return None
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(marker, encoding="utf-8")
        return parser.get("externally-managed", "Error", fallback="") or "externally managed"
    except (configparser.Error, OSError, UnicodeDecodeError):
        return "externally managed"


if __name__ == "__main__":
    # argv: our own packaging's folder (used only when the target has none), mode, where,
    # and "installing" or "looking" (see ``probe``).
    sys.path.append(sys.argv[1])
    json.dump(probe(sys.argv[2], sys.argv[3], sys.argv[4] != "looking"), sys.stdout)
