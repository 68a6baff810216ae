"""Reading RECORD and telling Python's own bytecode from anything else."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from intoto_pip.install.installed_files import (
    in_pycache,
    is_generated_bytecode,
    read_record,
    top_folders,
    walk_files,
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")


def test_record_rows_become_absolute_paths_with_hex_digests(tmp_path: Path) -> None:
    info = tmp_path / "site" / "demo-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "RECORD").write_text(
        f"demo/__init__.py,sha256={_b64(b'x')},1\n"
        "../../bin/demo,,\n"
        "demo-1.0.dist-info/RECORD,,\n"
        "demo/bad.py,md5=abc,3\n"
    )
    record = read_record(info)
    assert record is not None
    site = os.path.normpath(tmp_path / "site")
    assert [row.path for row in record.rows] == [
        f"{site}/demo/__init__.py",
        os.path.normpath(tmp_path.parent / "bin" / "demo"),
        f"{site}/demo-1.0.dist-info/RECORD",
        f"{site}/demo/bad.py",
    ]
    assert record.rows[0].sha256 == hashlib.sha256(b"x").hexdigest()
    assert record.rows[1].sha256 is None
    assert record.problems == ("RECORD line 4: hash 'md5=abc' is not sha256=<base64>",)
    assert top_folders(record) == {f"{site}/demo", f"{site}/demo-1.0.dist-info"}


def test_no_record_is_none(tmp_path: Path) -> None:
    assert read_record(tmp_path) is None


def test_only_a_pyc_named_for_a_present_module_is_pythons_own(tmp_path: Path) -> None:
    present = {"/s/pkg/mod.py"}
    assert is_generated_bytecode("/s/pkg/__pycache__/mod.cpython-311.pyc", present)
    assert is_generated_bytecode("/s/pkg/__pycache__/mod.cpython-311.opt-1.pyc", present)
    assert not is_generated_bytecode("/s/pkg/__pycache__/other.cpython-311.pyc", present)
    assert not is_generated_bytecode("/s/pkg/__pycache__/mod.py", present)
    assert not is_generated_bytecode("/s/pkg/mod.cpython-311.pyc", present)


def test_pycache_folders_and_their_files_are_bytecode_territory() -> None:
    assert in_pycache("/s/pkg/__pycache__")
    assert in_pycache("/s/pkg/__pycache__/mod.cpython-311.pyc")
    assert not in_pycache("/s/pkg/my__pycache__x.py")


def test_walking_does_not_follow_links(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "sub" / "a.py").write_text("")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "b.py").write_text("")
    (tmp_path / "pkg" / "link").symlink_to(tmp_path / "outside")
    assert sorted(walk_files(str(tmp_path / "pkg"))) == [str(tmp_path / "pkg" / "sub" / "a.py")]


def _row_by_row(text: str, root: str) -> object:
    """What the csv module and the row-by-row reading make of a RECORD."""
    import csv

    from intoto_pip.install.installed_files import _read_rows

    return _read_rows(csv.reader(text.splitlines()), root)


def test_a_record_read_a_list_at_a_time_is_the_record_read_row_by_row() -> None:
    """Random RECORDs built from the pieces where readers differ: whenever the whole-list
    reading answers, its answer is the row-by-row one (csv's own splitting included)."""
    import random

    from intoto_pip.install.installed_files import _read_usual

    good = [f"sha256={_b64(bytes([n]))}" for n in range(4)]
    # The last character of a 43-character value carries 2 bits; these set the 4 after them.
    odd = [value[:-1] + "B" for value in good]
    pieces = [
        "pkg", "/", "mod.py", ".", "..", "x.pyc", "__pycache__/", ",", ",,", "\n", "\r\n",
        "\r", "\x0b", "\x00", " ", "é", '"', '""', "sha256=", "md5=ab", "=", "-", "_", "A",
        "10", *good, *odd, *(f"pkg/m{n}.py,{value},1\n" for n, value in enumerate(good + odd)),
        *(f"pkg/__pycache__/m{n}.cpython-311.pyc,{value},1\n" for n, value in enumerate(good)),
    ]  # fmt: skip
    chooser = random.Random(20261207)
    answered = 0
    for _ in range(20_000):
        text = "".join(chooser.choice(pieces) for _ in range(chooser.randint(0, 12)))
        usual = _read_usual(text, "/site")
        if usual is not None:
            answered += 1
            assert usual == _row_by_row(text, "/site"), repr(text)
    assert answered > 1000  # the whole-list reading was tried, not only refused


def test_the_usual_record_is_read_a_list_at_a_time() -> None:
    from intoto_pip.install.installed_files import _read_usual

    text = (
        f"pkg/__init__.py,sha256={_b64(b'x')},1\n"
        "pkg/__pycache__/__init__.cpython-311.pyc,,\n"
        "pkg-1.0.dist-info/RECORD,,\n"
    )
    record = _read_usual(text, "/site")
    assert record == _row_by_row(text, "/site")
    assert record is not None and record.rows[0].sha256 == hashlib.sha256(b"x").hexdigest()
    # A name outside the distribution's folder, a hash that does not read, a quote: row by row.
    assert _read_usual(text + "../../bin/tool,,\n", "/site") is None
    assert _read_usual(text + "pkg/bad.py,md5=abc,3\n", "/site") is None
    assert _read_usual(text + '"pkg/a,b.py",,\n', "/site") is None
