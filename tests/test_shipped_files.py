"""Every plant, study and calibration file shipped in ``plant_configs/`` and ``simulations/``
validates with its own defaults (``twin validate``, as an engineer's first command would).

Found needed: the automotive plant's 365 days from March 2026 ran into 2027, a year whose
Chinese holidays the installed calendar does not know, so ``twin run`` on it stopped with an error
while every test ran it with a week."""

from __future__ import annotations

from pathlib import Path

import pytest

from twin.cli import main

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "plant_configs").glob("*.yaml")) + sorted(
    (ROOT / "simulations").glob("*.yaml"))


def test_there_are_shipped_files() -> None:
    assert len(FILES) >= 20


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_shipped_file_validates_with_its_own_defaults(path: Path, capsys) -> None:
    code = main(["validate", str(path)])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert ": OK (" in out.out
