"""Choosing an sdist from a simple-index page (--no-binary)."""

from __future__ import annotations

import pytest
from packaging.requirements import Requirement

from intoto_pip.errors import InstallError
from intoto_pip.install.simple_api import choose, parse_page, project_page

PAGE = """<html><body>
<a href="../../files/demo-1.0.tar.gz#sha256=aa">demo-1.0.tar.gz</a>
<a href="../../files/demo-1.0.zip">demo-1.0.zip</a>
<a href="../../files/demo-2.0.tar.gz" data-yanked="broken">demo-2.0.tar.gz</a>
<a href="../../files/demo-1.5rc1.tar.gz">demo-1.5rc1.tar.gz</a>
<a href="../../files/demo-1.0-py3-none-any.whl">wheel</a>
<a href="../../files/demolition-9.0.tar.gz">other project</a>
</body></html>"""


def test_project_page_normalises_the_name() -> None:
    assert project_page("http://h/simple", "My_Pkg") == "http://h/simple/my-pkg/"


def test_parse_page_keeps_only_this_projects_unyanked_sdists() -> None:
    links = parse_page("http://h/simple/demo/", PAGE, "Demo")
    assert [link.filename for link in links] == [
        "demo-1.0.tar.gz",
        "demo-1.0.zip",
        "demo-1.5rc1.tar.gz",
    ]
    assert links[0].url == "http://h/files/demo-1.0.tar.gz" and links[0].sha256 == "aa"
    assert links[1].sha256 is None


def test_choose_prefers_newest_final_tar_gz() -> None:
    links = parse_page("http://h/simple/demo/", PAGE, "demo")
    assert choose(links, Requirement("demo"), pre=False).filename == "demo-1.0.tar.gz"
    assert choose(links, Requirement("demo"), pre=True).filename == "demo-1.5rc1.tar.gz"
    assert choose(links, Requirement("demo==1.5rc1"), pre=False).filename == "demo-1.5rc1.tar.gz"
    with pytest.raises(InstallError, match="no sdist"):
        choose(links, Requirement("demo>=3"), pre=False)
