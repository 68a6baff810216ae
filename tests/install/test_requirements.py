"""Dependencies of local wheels: satisfied or not, install order, tags and Requires-Python."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from intoto_pip.errors import InstallError
from intoto_pip.install.requirements import (
    WheelMeta,
    check_compatible,
    dependency_order,
    direct_url_requirements,
    read_wheel_meta,
    unsatisfied,
)
from intoto_pip.install.target import Target
from tests.support.wheels import wheel_members, write_wheel

MARKERS = {"python_version": "3.11", "sys_platform": "linux", "python_full_version": "3.11.7"}


def _meta(name: str, *requires: str, version: str = "1.0") -> WheelMeta:
    return WheelMeta(
        name=name,
        version=version,
        requires_dist=requires,
        requires_python=None,
        tags=frozenset({"py3-none-any"}),
    )


def _target() -> Target:
    return Target(
        python=Path("python"),
        executable="python",
        cache_tag="cpython-311",
        version="3.11.7",
        scheme={},
        tags=("py3-none-any",),
        markers=MARKERS,
        tag_rank={"py3-none-any": 0},
    )


def test_unsatisfied_considers_installed_and_given_wheels() -> None:
    app = _meta("app", "dep>=2", "win-only; sys_platform == 'win32'", "extra-only; extra == 'x'")
    assert unsatisfied([app], {}, MARKERS) == ["app needs dep>=2"]
    assert unsatisfied([app], {"dep": "1.5"}, MARKERS) == ["app needs dep>=2"]
    assert unsatisfied([app], {"dep": "2.1"}, MARKERS) == []
    assert unsatisfied([app, _meta("dep", version="3.0")], {}, MARKERS) == []


def test_dependency_order_puts_dependencies_first() -> None:
    metas = [_meta("app", "lib"), _meta("lib", "base"), _meta("base"), _meta("other")]
    order = [meta.name for meta in dependency_order(metas, MARKERS)]
    assert order == ["base", "lib", "app", "other"]
    cycle = [_meta("a", "b"), _meta("b", "a")]
    assert sorted(m.name for m in dependency_order(cycle, MARKERS)) == ["a", "b"]


def test_tags_and_requires_python_are_checked() -> None:
    check_compatible(_meta("ok"), "ok.whl", _target())
    other_tag = replace(_meta("x"), tags=frozenset({"cp27-cp27m-win32"}))
    with pytest.raises(InstallError, match="not supported"):
        check_compatible(other_tag, "x.whl", _target())
    too_new = replace(_meta("x"), requires_python=">=3.12")
    with pytest.raises(InstallError, match=r"requires Python >=3\.12"):
        check_compatible(too_new, "x.whl", _target())


def test_read_wheel_meta(tmp_path: Path) -> None:
    members = wheel_members(
        "My_App", "1.0", {"a.py": b""}, requires=["dep>=1"], requires_python=">=3.8"
    )
    wheel = write_wheel(
        tmp_path / "my_app-1.0-py3-none-any.whl", members, "my_app-1.0.dist-info/RECORD"
    )
    meta = read_wheel_meta(wheel)
    assert (meta.name, meta.version, meta.requires_dist) == ("my-app", "1.0", ("dep>=1",))
    assert meta.requires_python == ">=3.8" and meta.tags == frozenset({"py3-none-any"})


def test_a_vendored_dist_info_below_a_package_is_an_ordinary_file(tmp_path: Path) -> None:
    # As flit_core vendors tomli: flit_core/vendor/tomli-1.2.3.dist-info/METADATA.
    vendored = {"app/vendor/lib-1.0.dist-info/METADATA": b"Name: lib\nVersion: 1.0\n\n"}
    members = wheel_members("app", "2.0", {"app/__init__.py": b"", **vendored})
    wheel = write_wheel(tmp_path / "app-2.0-py3-none-any.whl", members, "app-2.0.dist-info/RECORD")
    meta = read_wheel_meta(wheel)
    assert (meta.name, meta.version) == ("app", "2.0")


def test_direct_url_dependencies_are_found_unless_their_project_is_named() -> None:
    app = _meta(
        "app",
        "dep @ file:///tmp/dep-1.0.tar.gz",
        "web @ https://example.org/web-1.0.tar.gz",
        "Vcs_Dep @ git+https://example.org/vcs.git@v1",
        "wheel-dep @ https://example.org/wheel_dep-1.0-py3-none-any.whl",
        "plain>=1",
        "win @ https://example.org/win.tar.gz ; sys_platform == 'win32'",
    )
    found = [str(r) for r in direct_url_requirements(app, MARKERS, frozenset())]
    assert found == [
        "dep @ file:///tmp/dep-1.0.tar.gz",
        "web @ https://example.org/web-1.0.tar.gz",
        "Vcs_Dep @ git+https://example.org/vcs.git@v1",
        "wheel-dep @ https://example.org/wheel_dep-1.0-py3-none-any.whl",
    ]
    allowed = frozenset({"dep", "web", "vcs-dep"})
    left = direct_url_requirements(app, MARKERS, allowed)
    assert [r.name for r in left] == ["wheel-dep"]
    assert direct_url_requirements(app, MARKERS, frozenset({":all:"})) == []
