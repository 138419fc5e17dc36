"""Mutation testing of the core modules with mutmut 3 (``make mutate``; not part of CI).

Each core module is mutated on its own, in a scratch copy of the project under ``.mutate/NAME``,
and only the test files that check it are run against its mutants (mutmut also maps every test to
the functions it reaches and runs only those per mutant). Usage::

    python tests/mutate.py                  # every module in MODULES, one worker
    python tests/mutate.py tariff storage   # some of them
    python tests/mutate.py --workers 2 economics
    python tests/mutate.py evaluation --tests tests/test_evaluation.py   # a narrower selection
    python tests/mutate.py --out .mutate-full --survivors-of .mutate ems  # survivors, in full
    python tests/mutate.py --resume ems     # go on with a stopped run of ems
    python tests/mutate.py --resume ems --only '*ǁ_follow_asks__mutmut_*'  # one function first

A full run uses the hypothesis profile ``mutation`` (``tests/conftest.py``: at most 20 examples
per property test, from a fixed seed, fastest tests first); ``--survivors-of`` re-runs with the
tests' own example counts, so a mutant is called a survivor only after the full tests.

Per module it writes ``.mutate/NAME/summary.md``: the counts (killed, survived, timeout, ...),
the mutation score (killed + timeout over all mutants tested; mutants in functions the selected
tests never call are counted apart, as "no tests") and the diff of every survivor,
and prints the score line. The results in ``tests/MUTATION.md`` are copied from those summaries
by hand, with each survivor marked as killed by a new test or as an equivalent mutant.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / ".mutate"

MODULES: dict[str, tuple[str, list[str]]] = {
    # name: (module file, the test files that check it)
    "tariff": ("twin/energy/tariff.py", ["tests/test_tariff.py", "tests/test_energy_balance.py"]),
    "storage": ("twin/energy/storage.py", ["tests/test_storage.py", "tests/test_ems_by_hand.py"]),
    "economics": ("twin/economics.py", ["tests/test_economics.py"]),
    "metering": ("twin/metering.py", ["tests/test_metering.py", "tests/test_programme.py",
                                      "tests/test_ems_settle.py"]),
    "ems": ("twin/energy/ems.py", ["tests/test_ems_by_hand.py", "tests/test_ems_settle.py"]),
    "accounting": ("twin/carbon/accounting.py", ["tests/test_carbon_accounting.py",
                                                  "tests/test_carbon_in_run.py",
                                                  "tests/test_own_factors.py",
                                                  "tests/test_carbon_integration.py",
                                                  "tests/test_purchased_heat.py",
                                                  "tests/test_footprint.py"]),
    "evaluation": ("twin/carbon/evaluation.py", ["tests/test_evaluation.py",
                                                  "tests/test_energy_basis.py",
                                                  "tests/test_zero_carbon_run.py",
                                                  "tests/test_report.py"]),
    "sector": ("twin/sector.py", ["tests/test_sector_ranges.py"]),
    "data_centre": ("twin/energy/data_centre.py", ["tests/test_data_centre.py"]),
}

PYPROJECT = """\
[tool.mutmut]
source_paths = ["twin"]
only_mutate = [{module!r}]
also_copy = ["plant_configs", "simulations", "benchmarks"]
pytest_add_cli_args = ["-p", "no:xdist", "-p", "no:cacheprovider", "-q", "-x"]
pytest_add_cli_args_test_selection = {tests!r}

[tool.pytest.ini_options]
testpaths = ["tests"]
markers = ["slow: long statistical runs (still part of make test)"]
filterwarnings = ["ignore:DatetimeIndex.dayofyear is deprecated:DeprecationWarning",
                  "ignore:DatetimeIndex.dayofyear is deprecated"]
"""


SHOW = """\
import sys
from mutmut.__main__ import find_mutant, get_diff_for_mutant
for name in sys.argv[1:]:
    diff = get_diff_for_mutant(name, path=find_mutant(name).path)
    print(f"### {name}\\n```diff\\n{diff.strip()}\\n```\\n")
"""
"""``mutmut show`` for many mutants in one process (a process per mutant takes a second each)."""


def _mutmut(work: Path, *args: str, timeout: float | None = None,
            profile: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if profile is not None:  # tests/conftest.py loads it (and caps the tests' own examples)
        env["HYPOTHESIS_PROFILE"] = profile
    return subprocess.run([sys.executable, "-m", "mutmut", *args], cwd=work, text=True,
                          capture_output=True, timeout=timeout, env=env)


def survivors_of(summary: Path) -> list[str]:
    """The surviving mutants listed in a ``summary.md`` written by :func:`run_module`."""
    return [line[4:].strip() for line in summary.read_text().splitlines()
            if line.startswith("### ")]


def not_yet_run(work: Path, patterns: list[str]) -> list[str]:
    """The mutants of the run in ``work`` that match any of ``patterns`` (fnmatch) and have no
    result yet (mutmut's ``mutants/**/*.meta`` files)."""
    names = []
    for meta in sorted((work / "mutants").rglob("*.meta")):
        codes = json.loads(meta.read_text()).get("exit_code_by_key", {})
        names += [k for k, v in codes.items()
                  if v is None and any(fnmatch.fnmatchcase(k, p) for p in patterns)]
    return names


def run_module(name: str, workers: int, out: Path = OUT, only: list[str] | None = None,
               tests: list[str] | None = None, profile: str | None = None,
               resume: bool = False) -> str:
    """Mutate one module in ``OUT/NAME`` (only the mutants named in ``only``, if given: e.g.
    the survivors of an earlier run, after new tests; with the test files ``tests`` instead of
    the module's own selection, if given); returns its score line. ``profile`` is the
    hypothesis profile of the tests (``tests/conftest.py``): by default ``mutation`` (few
    examples, fixed seed) for a run of all mutants and ``default`` (the tests' own examples)
    for a run of named mutants, so that a survivor of the cheap run is tried in full. With
    ``resume``, an existing ``OUT/NAME`` is kept (sources, tests and results as they are) and
    mutmut goes on with the mutants it has no result for (or, with ``only``, the mutants whose
    names match those patterns and have no result yet, e.g. ``'*ǁ_follow_asks__mutmut_*'``)."""
    if profile is None:
        profile = "mutation" if only is None else "default"
    module, own_tests = MODULES[name]
    tests = tests or own_tests
    work = out / name
    if only is not None and not only:
        return f"{name}: no mutants to run"
    if resume and work.exists() and only is not None:
        only = not_yet_run(work, only)  # mutmut runs named mutants again even with a result
        if not only:
            return f"{name}: every mutant matching the patterns has a result"
    if not (resume and work.exists()):
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        for folder in ("twin", "tests", "plant_configs", "simulations", "benchmarks"):
            shutil.copytree(ROOT / folder, work / folder,
                            ignore=shutil.ignore_patterns("__pycache__", "out", ".hypothesis"))
        (work / "pyproject.toml").write_text(PYPROJECT.format(module=module, tests=tests))
    start = time.perf_counter()
    run = _mutmut(work, "run", "--max-children", str(workers), *(only or []), profile=profile)
    seconds = time.perf_counter() - start
    (work / "run.log").write_text(run.stdout + run.stderr)
    line = summarize(name, work, f"{seconds:.0f} s with {workers} worker(s), hypothesis "
                     f"profile {profile}", tests)
    if run.returncode != 0:
        line += f" (mutmut exited {run.returncode}: see {work / 'run.log'})"
    return line


def summarize(name: str, work: Path, timing: str, tests: list[str] | None = None) -> str:
    """Write ``work/summary.md`` from a finished mutmut run in ``work``; returns the score
    line."""
    module, own_tests = MODULES[name]
    tests = tests or own_tests
    _mutmut(work, "export-cicd-stats")
    stats_file = work / "mutants" / "mutmut-cicd-stats.json"
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    listing = _mutmut(work, "results", "--all", "true").stdout
    survivors = [line.split(":")[0].strip() for line in listing.splitlines()
                 if line.strip().endswith(": survived")]
    tested = sum(stats.get(k, 0) for k in ("killed", "survived", "timeout", "suspicious",
                                           "segfault"))
    caught = stats.get("killed", 0) + stats.get("timeout", 0)
    score = caught / tested if tested else float("nan")
    line = (f"{name} ({module}; {', '.join(tests)}): {caught}/{tested} killed = "
            f"{100 * score:.1f} %, {len(survivors)} survived, {stats.get('no_tests', 0)} in "
            f"functions these tests never call, {timing}; counts "
            f"{json.dumps(stats, sort_keys=True)}")
    diffs = subprocess.run([sys.executable, "-c", SHOW, *survivors], cwd=work, text=True,
                           capture_output=True).stdout if survivors else ""
    parts = [f"# {name}\n", line + "\n", "## Survivors\n", diffs]
    (work / "summary.md").write_text("\n".join(parts))
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE",
                        help=f"modules to mutate (default: all of {', '.join(MODULES)})")
    parser.add_argument("--workers", type=int, default=1,
                        help="mutants tested at once (default 1)")
    parser.add_argument("--out", type=Path, default=OUT,
                        help="folder of the scratch copies and summaries (default .mutate)")
    parser.add_argument("--survivors-of", type=Path, default=None, metavar="FOLDER",
                        help="run only the mutants that survived in FOLDER/NAME/summary.md (an "
                             "earlier run's --out), e.g. after adding tests")
    parser.add_argument("--tests", nargs="+", default=None, metavar="FILE",
                        help="test files to run instead of the module's own selection (e.g. "
                             "only the fast ones, for one module)")
    parser.add_argument("--profile", default=None, metavar="NAME",
                        help="hypothesis profile of the tests: 'mutation' (at most 20 examples "
                             "per property test, fixed seed; default for a full run) or "
                             "'default' (the tests' own; default with --survivors-of)")
    parser.add_argument("--resume", action="store_true",
                        help="keep OUT/NAME from an earlier (stopped) run and go on with the "
                             "mutants that have no result yet")
    parser.add_argument("--only", nargs="+", default=None, metavar="PATTERN",
                        help="run only the mutants whose names match these patterns (fnmatch, "
                             "e.g. '*ǁ_follow_asks__mutmut_*'); with --resume, to run the "
                             "functions that matter first")
    args = parser.parse_args(argv)
    swallowed = [p for p in args.only or [] if p in MODULES]
    if swallowed:  # `mutate.py --only PATTERN ems`: argparse reads "ems" as a pattern
        parser.error(f"--only took the module name {swallowed[0]!r} as a pattern: give the "
                     "modules before --only (mutate.py ems --only 'PATTERN')")
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module {unknown[0]!r}: expected one of {', '.join(MODULES)}")
    for name in args.modules or list(MODULES):
        only = (survivors_of(args.survivors_of / name / "summary.md")
                if args.survivors_of is not None else args.only)
        profile = args.profile or ("default" if args.survivors_of is not None else "mutation")
        print(run_module(name, args.workers, args.out.resolve(), only, args.tests, profile,
                         args.resume), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
