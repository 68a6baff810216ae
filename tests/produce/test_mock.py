"""mock_step: an unsigned <name>.link recording the working folder and the output."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from intoto_pip.models.envelope import parse_envelope
from intoto_pip.models.link import Link
from intoto_pip.produce.mock import MockOptions, mock_step


@pytest.mark.parametrize("dsse", [False, True])
def test_mock_link(tmp_path: Path, dsse: bool) -> None:
    (tmp_path / "in.txt").write_bytes(b"in")
    script = "print('made'); open('out.txt', 'w').write('o'); raise SystemExit(2)"
    options = MockOptions(
        step="try", command=(sys.executable, "-c", script), use_dsse=dsse, workdir=tmp_path
    )
    result = mock_step(options)
    assert result.link_path == tmp_path / "try.link"
    assert result.return_value == 2
    envelope = parse_envelope(result.link_path.read_bytes(), what="mock")
    assert envelope.signatures == ()
    assert envelope.kind == ("dsse" if dsse else "metablock")
    link = Link.from_dict(envelope.payload)
    assert set(link.materials) == {"in.txt"}
    assert set(link.products) == {"in.txt", "out.txt"}
    assert link.byproducts == {"return-value": 2, "stdout": "made\n", "stderr": ""}
