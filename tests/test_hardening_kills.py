"""Kill tests: ``twin run`` and ``twin compare --jobs 2`` stopped by SIGTERM or SIGKILL leave no
process behind, no half-written output, and no temp folder the next run does not clean; a full
disk leaves an existing run folder whole (issue 12, items 3, 6, 8)."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import const, make_plant

import twin
from twin.atomic import clean_stale
from twin.cli import main

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "plant_configs" / "benchmark_line.yaml"
TWIN = Path(sys.executable).with_name("twin")
WAIT_S = 60.0
"""Longest wait for a process to start or to go [s] (a loaded CI machine)."""

pytestmark = [
    pytest.mark.skipif(not TWIN.exists(), reason="no twin console script installed"),
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)"),
]


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a live process, None when it is gone (or a zombie)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return None if fields[0] in ("Z", "X") else (fields[0], int(fields[1]))


def children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            st = _stat(int(d.name))
            if st is not None and st[1] == pid:
                out.append(int(d.name))
    return out


def wait_for(cond, timeout: float = WAIT_S, step: float = 0.1) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return bool(cond())


@contextlib.contextmanager
def started(*args: str | Path, cwd: Path):  # type: ignore[no-untyped-def]
    """A ``twin`` subprocess; killed with everything it started, whatever the test does."""
    proc = subprocess.Popen([str(TWIN), *map(str, args)], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own process group, as in a terminal
    seen: set[int] = set()
    try:
        yield proc, seen
    finally:
        seen.update(children(proc.pid))
        if proc.poll() is None:
            proc.kill()
        for pid in seen:  # never leave a worker behind, even when the test failed
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if _stat(pid) is not None:
                    os.kill(pid, signal.SIGKILL)
        proc.communicate(timeout=WAIT_S)  # the pipes close once every holder is gone


def _study(tmp_path: Path) -> Path:
    study = tmp_path / "study.yaml"
    study.write_text(f"plant: {BENCH}\nbase: base\nreplications: 2\ndays: 30\n"
                     "scenarios:\n  base: {}\n  other: {}\n", encoding="utf-8")
    return study


def _temp_folders(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT],
                         ids=["KILL", "TERM", "ctrl-C"])
def test_compare_workers_do_not_outlive_the_client(tmp_path: Path, sig: signal.Signals) -> None:
    with started("compare", _study(tmp_path), "--jobs", "2", "--out", "out",
                 cwd=tmp_path) as (proc, seen):
        assert wait_for(lambda: len(children(proc.pid)) >= 2), "no workers started"
        workers = children(proc.pid)
        seen.update(workers)
        time.sleep(0.5)  # the workers are simulating
        if sig == signal.SIGINT:  # Ctrl-C in a terminal: the whole process group
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        assert wait_for(lambda: proc.poll() is not None, 30), "the client did not stop"
        t0 = time.monotonic()
        assert wait_for(lambda: all(_stat(w) is None for w in workers), 15), \
            f"workers left running: {[w for w in workers if _stat(w) is not None]}"
        gone_after = time.monotonic() - t0
    assert gone_after < 15
    assert not (tmp_path / "out").exists()
    if sig != signal.SIGKILL:
        _, err = proc.communicate()
        assert proc.returncode == 130 and "interrupted; nothing was written" in err, err
        assert "Traceback" not in err
        assert _temp_folders(tmp_path) == []
    else:  # SIGKILL: no cleanup in the client; the next write of this output cleans up
        clean_stale(tmp_path / "out")
        assert _temp_folders(tmp_path) == []


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["KILL", "TERM"])
def test_run_killed_while_simulating_writes_nothing(tmp_path: Path, sig: signal.Signals) -> None:
    with started("run", BENCH, "--days", "120", "--out", "out", cwd=tmp_path) as (proc, _):
        # wait until the run says it simulates (its signal handlers are in place by then, even
        # on a loaded machine where imports take seconds), then a little into the simulation
        ready, _, _ = select.select([proc.stderr], [], [], 60)
        assert ready and "simulating" in proc.stderr.readline()
        time.sleep(1.0)  # 120 days take far longer
        assert proc.poll() is None, "the run ended before it could be killed"
        proc.send_signal(sig)
        assert wait_for(lambda: proc.poll() is not None, 30)
        _, err = proc.communicate()
    assert not (tmp_path / "out").exists()
    clean_stale(tmp_path / "out")
    assert _temp_folders(tmp_path) == []
    if sig == signal.SIGTERM:
        assert proc.returncode == 130 and "interrupted; nothing was written" in err, err
        assert "Traceback" not in err


# ---------------------------------------------------------------------------------------------
# full disk


@pytest.fixture()
def tiny_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A 1 MB tmpfs (root on Linux, as in CI); skipped where it cannot be mounted."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {proc.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_full_disk_keeps_the_old_run_folder(tiny_disk: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    plant = make_plant([{"id": "s1", "equipment": "machine", "process_time": const(60)}])
    old = twin.simulate(plant, days=2 / 24, seed=1).save(tiny_disk / "run")
    before = {p.name: p.read_bytes() for p in old.iterdir()}
    # a day of the benchmark line with its 5 MB dashboard does not fit in 1 MB
    code = main(["run", str(BENCH), "--days", "1", "--out", str(old), "--overwrite"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{old}: cannot write (No space left on device); {old} was left as it was" in err
    assert "Traceback" not in err and ".tmp" not in err
    assert {p.name: p.read_bytes() for p in old.iterdir()} == before
    assert [p.name for p in tiny_disk.iterdir()] == ["run"]
