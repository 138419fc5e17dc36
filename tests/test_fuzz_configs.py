"""Fuzz: mutated copies of the shipped plant and study files never crash, hang or print a
traceback.

Seeded and bounded in wall-clock time. Each mutant is checked with ``twin validate`` in-process
(:func:`twin.cli.main`), which must exit 0 or 2 with no traceback; a few of the mutants that
validate are run for a short horizon, which must also end with 0 or 2. Mutations: delete a key,
swap a value's type, huge, tiny, negative and non-finite numbers, booleans for numbers, empty
strings, unicode, control characters, and raw bytes (control characters, invalid UTF-8, tabs)
dropped into the text. A hang is caught by an alarm (SIGALRM) around every call (issue 12).
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from twin.cli import main
from twin.config import read_yaml

ROOT = Path(__file__).resolve().parents[1]
PLANTS = sorted((ROOT / "plant_configs").glob("*.yaml"))
STUDIES = sorted((ROOT / "simulations").glob("*.yaml"))
SEED = 20261206
VALIDATE_BUDGET_S = 6.0
"""Wall-clock time spent validating mutants per plant file [s]."""
STUDY_BUDGET_S = 3.0
"""Wall-clock time spent validating mutants per study file [s]."""
RUNS_PER_PLANT = 2
RUN_DAYS = "0.05"
"""Horizon of the runs of valid mutants [d] (72 minutes)."""
CALL_TIMEOUT_S = 60
"""A single validate or run taking longer than this is a hang [s] (generous for a loaded CI)."""

NASTY: list[Any] = [
    None, True, False, 0, -1, -1e12, 1e12, 1e308, 1e-308, 5e-324, float("inf"), float("nan"),
    "", " ", "x" * 10_000, "工厂🏭", "=cmd|' /C calc'!A0", "a\x0cb", "\x00", "\u202e", "06:00",
    "2026-02-30", [], {}, [None], {"dist": "constant", "value": 0}, 2**70, -(2**70),
]


class Hang(Exception):
    pass


@contextmanager
def alarm(seconds: int) -> Iterator[None]:
    def on_alarm(signum: int, frame: Any) -> None:
        raise Hang(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _paths(data: Any, path: tuple = ()) -> Iterator[tuple]:
    yield path
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _paths(v, (*path, i))


def _swap(value: Any, rng: random.Random) -> Any:
    if isinstance(value, bool):
        return rng.choice([1, "yes", None])
    if isinstance(value, (int, float)):
        return rng.choice([str(value), -value, value * 1e9, True, [value], -abs(value) - 1])
    if isinstance(value, str):
        return rng.choice([len(value), True, "", value.upper(), value + "\u00e9", [value]])
    if isinstance(value, list):
        return rng.choice([{}, value[:1] * 50, [], value[0] if value else None])
    if isinstance(value, dict):
        return rng.choice([[], list(value.values()), "text", None])
    return copy.deepcopy(rng.choice(NASTY))


def mutate(data: Any, rng: random.Random) -> Any:
    """One to three random changes at random places of a deep copy of ``data``."""
    data = copy.deepcopy(data)
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _paths(data) if p]
        path = rng.choice(paths)
        parent = data
        for el in path[:-1]:
            parent = parent[el]
        key = path[-1]
        action = rng.random()
        if action < 0.2 and isinstance(parent, dict):
            del parent[key]
        elif action < 0.45:
            parent[key] = _swap(parent[key], rng)
        elif action < 0.55 and isinstance(parent, dict):
            parent[rng.choice(["extra", "unknown_key", str(key) + "s"])] = \
                copy.deepcopy(parent[key])
        else:
            parent[key] = copy.deepcopy(rng.choice(NASTY))  # never share: no cycles
    return data


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)


def raw_mutate(text: str, rng: random.Random) -> bytes:
    """The text with a few raw bytes dropped in (control characters, invalid UTF-8, tabs)."""
    raw = bytearray(text.encode("utf-8"))
    for _ in range(rng.randint(1, 3)):
        pos = rng.randrange(len(raw))
        raw[pos:pos] = rng.choice([b"\x00", b"\x0c", b"\x1b", b"\xff\xfe", b"\t", b"\r",
                                   b"&a ", b"*a ", b": ", b"- ", b"{", b"]", b"\n  "])
    return bytes(raw)


def _check(argv: list[str], capsys: pytest.CaptureFixture[str], label: str) -> int:
    with alarm(CALL_TIMEOUT_S):
        code = main(argv)
    err = capsys.readouterr().err
    assert code in (0, 2), f"{label}: exit {code}\n{err}"
    assert "Traceback" not in err, f"{label}:\n{err}"
    return code


def _jsonable(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _jsonable(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_jsonable(v) for v in data]
    return data.isoformat() if isinstance(data, (dt.date, dt.datetime)) else data


def _mutants(data: object, text: str, rng: random.Random, folder: Path, budget_s: float,
             least: int):  # type: ignore[no-untyped-def]
    """Write mutants of a file (every fourth one mutated as raw text, the others as data) and
    yield ``(n, path)``: for ``budget_s`` seconds, and at least ``least`` of them however loaded
    the machine."""
    n = 0
    t_end = time.monotonic() + budget_s
    while time.monotonic() < t_end or n < least:
        n += 1
        path = folder / f"m{n}.yaml"
        if n % 4 == 0:
            path.write_bytes(raw_mutate(text, rng))
        else:
            path.write_text(_dump(mutate(data, rng)), encoding="utf-8")
        yield n, path


@pytest.mark.parametrize("plant", PLANTS, ids=[p.stem for p in PLANTS])
def test_mutated_plant_files(plant: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(f"{SEED}-{plant.stem}")
    data, _ = read_yaml(plant)
    data = _jsonable(data)
    text = plant.read_text(encoding="utf-8")
    valid: list[Path] = []
    for n, path in _mutants(data, text, rng, tmp_path, VALIDATE_BUDGET_S, least=10):
        if _check(["validate", str(path)], capsys, f"mutant {n} of {plant.name}") == 0:
            valid.append(path)
    for k, path in enumerate(valid[:RUNS_PER_PLANT]):
        _check(["run", str(path), "--days", RUN_DAYS, "--out", str(tmp_path / f"run{k}")],
               capsys, f"run of {path.name} ({plant.name})")


@pytest.mark.parametrize("study", STUDIES, ids=[p.stem for p in STUDIES])
def test_mutated_study_files(study: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(f"{SEED}-{study.stem}")
    data, _ = read_yaml(study)
    data = _jsonable(data)
    plant = (study.parent / data["plant"]).resolve()  # the mutants live in tmp_path
    data["plant"] = str(plant)
    text = study.read_text(encoding="utf-8").replace(
        "plant: ../plant_configs/", f"plant: {plant.parent}/")
    for n, path in _mutants(data, text, rng, tmp_path, STUDY_BUDGET_S, least=5):
        _check(["validate", str(path)], capsys, f"mutant {n} of {study.name}")
