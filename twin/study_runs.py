"""The runs of a study: their keys, the run cache that makes a study resumable, the work a
worker does for one run, and ``runs.parquet``.

Run keys and the cache
----------------------
Every run is keyed by :func:`run_key`, the SHA-256 of its resolved plant (overrides and
strategies applied), its days, start and seed, the twin version and the content of every data
file the plant names (weather, prices, grid factors, PV/wind profiles, order books:
:data:`twin.config.loader.PLANT_FILE_FIELDS`). Two runs with the same key give the same
results (the simulation is deterministic for a seed), so a run is simulated once and its folder
kept in the **run cache** ``<cache>/<key>/``, each folder written atomically (complete or
absent, :func:`twin.atomic.staged_folder`). The cache is ``--runs-dir`` when given (a path the
workers of a cluster share), else ``.<out>.runs`` beside the study folder; a study that ends
copies (hard-links) its runs into ``<out>/<scenario>/rep<k>/`` and removes the default cache.
After a crash, a kill or a failed run, the cache keeps every completed run and the next
``twin compare`` with the same ``--out`` reuses them; ``--resume`` also reuses the runs of a
complete study folder at ``--out`` (listed by key in its ``study.json``).

Workers
-------
:func:`execute` runs in a worker. For a Dask cluster the worker receives the resolved plant with
each run and the bytes of the study's data files once (scattered to every worker; never paths it
may not see), writes the files to its own temporary folder (once per content), and either writes
the run folder into the run cache (a shared ``--runs-dir``, or any cache on a local cluster) or
sends the folder's files back for the client to write; in both cases it returns the run's
``kpis.json`` text, from which the client takes the KPI row.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import shutil
import tempfile
import time
from array import array
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from twin.atomic import staged_folder
from twin.config.loader import PLANT_FILE_FIELDS
from twin.config.plant import Plant

# ---------------------------------------------------------------------------------------------
# data files and keys


def data_files(plant: Plant) -> list[str]:
    """The data files a resolved plant names (absolute paths, in field order, no repeats)."""
    found: list[str] = []
    for node, key in _file_fields(plant.model_dump(mode="json")):
        if isinstance(node[key], str) and node[key] not in found:
            found.append(node[key])
    return found


def _file_fields(data: Any) -> Iterator[tuple[dict[str, Any], str]]:
    """(mapping, key) of every data-file field present in raw plant data."""

    def walk(node: Any, keys: tuple[str, ...]) -> Iterator[tuple[dict[str, Any], str]]:
        key, rest = keys[0], keys[1:]
        if key == "*":
            for item in node if isinstance(node, list) else ():
                yield from walk(item, rest)
        elif isinstance(node, dict) and node.get(key) is not None:
            yield from walk(node[key], rest) if rest else iter([(node, key)])

    for keys in PLANT_FILE_FIELDS:
        yield from walk(data, keys)


def file_sha(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def run_key(plant: Plant, days: float, start: dt.date, seed: int,
            file_shas: dict[str, str] | None = None) -> str:
    """The key of one run: SHA-256 (hex) of the canonical JSON of the resolved plant, ``days``
    [d], ``start``, ``seed``, the twin version and the SHA-256 of each data file the plant
    names (``file_shas``: path -> sha; computed when not given). Equal keys give equal runs."""
    from twin import __version__

    shas = file_shas if file_shas is not None else {}
    files = {p: shas[p] if p in shas else file_sha(p) for p in data_files(plant)}
    doc = {"plant": plant.model_dump(mode="json"), "days": float(days),
           "start": start.isoformat(), "seed": int(seed), "twin_version": __version__,
           "files": files}
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# the work of one run (in a worker)


@dataclass(frozen=True)
class RunJob:
    """One run for a worker: the study's task (scenario, rep, plant, days, start, seed), its
    key, where to write its run folder (``None``: send the files back) and, for workers that may
    not see the client's files, the data files' bytes by the path the plant names."""

    task: Any
    key: str
    folder: str | None
    files: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True)
class RunOutput:
    """What a worker sends back: the run's ``kpis.json`` text, its wall time [s], and the run
    folder's files (name -> bytes) when the worker did not write the folder itself."""

    key: str
    kpis_json: str
    wall_s: float
    folder_files: tuple[tuple[str, bytes], ...] | None = None


def localise(plant: Plant, files: tuple[tuple[str, bytes], ...]) -> Plant:
    """The plant with every data-file path replaced by a copy of the shipped bytes in this
    worker's temporary folder (``<tmp>/twin-data/<sha256>/<name>``, written once per content)."""
    if not files:
        return plant
    local: dict[str, str] = {}
    root = Path(tempfile.gettempdir()) / "twin-data"
    for path, data in files:
        target = root / hashlib.sha256(data).hexdigest() / Path(path).name
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, target)
        local[path] = str(target)
    raw = plant.model_dump(mode="json")
    for node, key in _file_fields(raw):
        if node[key] in local:
            node[key] = local[node[key]]
    return Plant.model_validate(raw)


def execute(job: RunJob, shared: Mapping[str, bytes] | None = None) -> RunOutput:
    """Simulate one run and write its folder (or pack it): the function every executor runs.
    ``shared``: the bytes of data files by the path the plant names, sent to the worker once
    for all its runs (:meth:`twin.executors.Executor.map_unordered`); the files of ``job.files``
    and those of ``shared`` that the plant names are used instead of the paths."""
    import twin

    task = job.task
    t0 = time.perf_counter()
    files = job.files
    if shared:
        files = files + tuple((p, shared[p]) for p in data_files(task.plant) if p in shared)
    plant = localise(task.plant, files)
    result = twin.simulate(plant, days=task.days, start=task.start, seed=task.seed,
                           progress=False)
    if plant is not task.plant:  # the manifest names the plant as the study resolved it
        config = task.plant.model_dump(mode="json")
        canonical = json.dumps(config, sort_keys=True, separators=(",", ":"))
        result.manifest["config"] = config
        result.manifest["config_sha256"] = hashlib.sha256(canonical.encode()).hexdigest()
    if job.folder is not None:
        result.save(job.folder, overwrite=True)
        kpis = (Path(job.folder) / "kpis.json").read_text(encoding="utf-8")
        return RunOutput(job.key, kpis, time.perf_counter() - t0)
    with tempfile.TemporaryDirectory(prefix="twin-run-") as tmp:
        folder = result.save(Path(tmp) / "run")
        packed = tuple((p.name, p.read_bytes()) for p in sorted(folder.iterdir()) if p.is_file())
    kpis = dict(packed)["kpis.json"].decode("utf-8")
    return RunOutput(job.key, kpis, time.perf_counter() - t0, packed)


# ---------------------------------------------------------------------------------------------
# the cache (client side)


def default_cache(out: Path) -> Path:
    """The run cache of the study folder ``out`` when no ``--runs-dir`` is given."""
    return out.with_name(f".{out.name}.runs")


def cached(cache: Path, key: str) -> Path | None:
    """The complete run folder of ``key`` in ``cache``, or None."""
    d = cache / key
    return d if (d / "manifest.json").is_file() and (d / "kpis.json").is_file() else None


def write_packed(cache: Path, key: str, files: tuple[tuple[str, bytes], ...]) -> Path:
    """Write a run folder sent back by a worker into the cache, atomically."""
    with staged_folder(cache / key) as tmp:
        for name, data in files:
            (tmp / Path(name).name).write_bytes(data)
    return cache / key


def link_tree(src: Path, dst: Path) -> Path:
    """Put a copy of the run folder ``src`` at ``dst`` (absent), atomically: files hard-linked
    where the file system allows (no extra space), copied otherwise."""
    with staged_folder(dst) as tmp:
        for p in src.iterdir():
            if p.is_file():
                try:
                    os.link(p, tmp / p.name)
                except OSError:
                    shutil.copy2(p, tmp / p.name)
    return dst


def adopt_study_runs(out: Path, cache: Path, wanted: set[str]) -> int:
    """Link the runs of the complete study folder ``out`` whose keys are ``wanted`` (and not
    yet cached) into ``cache``; return how many. ``out``'s ``study.json`` lists its run keys."""
    try:
        manifest = json.loads((out / "study.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0
    n = 0
    for scenario, keys in (manifest.get("run_keys") or {}).items():
        for k, key in enumerate(keys):
            src = out / scenario / f"rep{k}"
            if key in wanted and cached(cache, key) is None and (src / "kpis.json").is_file() \
                    and (src / "manifest.json").is_file():
                cache.mkdir(parents=True, exist_ok=True)
                link_tree(src, cache / key)
                n += 1
    return n


def remove_cache(cache: Path) -> None:
    """Remove a default run cache once its runs are in the study folder."""
    with contextlib.suppress(OSError):
        shutil.rmtree(cache)


# ---------------------------------------------------------------------------------------------
# runs.parquet


def scalar_kpis(kpis: dict[str, Any]) -> dict[str, float]:
    """Every scalar number of a run's ``kpis.json``: top-level numbers under their names, numbers
    in nested mappings as ``outer.inner`` (e.g. ``due_dates.on_time_share``); booleans, text and
    lists are left out."""
    out: dict[str, float] = {}

    def walk(node: dict[str, Any], prefix: str) -> None:
        for k, v in node.items():
            name = f"{prefix}{k}"
            if isinstance(v, dict):
                walk(v, name + ".")
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                out[name] = float(v)

    walk(kpis, "")
    return out


class KpiRows(MutableMapping[str, dict[str, float]]):
    """The scalar KPIs of a study's runs by run key, held compactly while the runs come in: each
    KPI name once for the study, and per run two arrays, its KPIs' columns and their values (12
    bytes per KPI instead of a dict with its own name strings and float objects: ~4 kB instead of
    ~47 kB for a demo run). Reading a run gives its dict back, in the run's own order."""

    def __init__(self) -> None:
        self._index: dict[str, int] = {}  # KPI name -> column
        self._names: list[str] = []
        self._runs: dict[str, tuple[array[int], array[float]]] = {}

    def __setitem__(self, key: str, row: dict[str, float]) -> None:
        cols = array("I")
        for name in row:
            c = self._index.get(name)
            if c is None:
                c = self._index[name] = len(self._names)
                self._names.append(name)
            cols.append(c)
        self._runs[key] = (cols, array("d", row.values()))

    def __getitem__(self, key: str) -> dict[str, float]:
        cols, values = self._runs[key]
        return {self._names[c]: v for c, v in zip(cols, values, strict=True)}

    def __delitem__(self, key: str) -> None:
        del self._runs[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._runs)

    def __len__(self) -> int:
        return len(self._runs)


def override_paths(resolved: Any) -> list[str]:
    """Every override path any scenario of the study sets, in first-seen order."""
    paths: list[str] = []
    for spec in resolved.study.scenarios.values():
        for p in spec.overrides:
            if p not in paths:
                paths.append(p)
    return paths


def value_at(plant: Plant, path: str) -> Any:
    """The value of the plant field at an override ``path`` (``lines[0]``,
    ``equipment_types[id=press].power_kw``), read from the resolved plant; None where the path
    does not lead to a value."""
    from twin.config.study import parse_override_path

    node: Any = plant.model_dump(mode="json")
    for step in parse_override_path(path):
        if step.by_id:
            node = next((x for x in node if isinstance(x, dict) and x.get("id") == step.key),
                        None) if isinstance(node, list) else None
        elif isinstance(step.key, int):
            node = node[step.key] if isinstance(node, list) and -len(node) <= step.key < len(
                node) else None
        else:
            node = node.get(step.key) if isinstance(node, dict) else None
        if node is None:
            return None
    return node


def parameter_values(resolved: Any) -> dict[str, dict[str, Any]]:
    """Scenario -> override path -> the value in that scenario's resolved plant (the base
    plant's value where the scenario does not override the path). Lists and mappings as compact
    JSON text, so that every column of ``runs.parquet`` holds scalars."""
    paths = override_paths(resolved)
    table: dict[str, dict[str, Any]] = {}
    for s, plant in resolved.plants.items():
        row = {}
        for p in paths:
            v = value_at(plant, p)
            row[p] = json.dumps(v, sort_keys=True, separators=(",", ":")) \
                if isinstance(v, (list, dict)) else v
        table[s] = row
    return table


def runs_table(resolved: Any, rows: dict[tuple[str, int], dict[str, float]],
               seeds: dict[tuple[str, int], int], keys: dict[tuple[str, int], str]
               ) -> pd.DataFrame:
    """``runs.parquet``: one row per scenario and replication (file order) with ``scenario``,
    ``replication``, ``seed``, ``run_key``, the override values of the scenario (one column per
    override path), with an ``uncertainty:`` block the option each source drew for the
    replication (``uncertainty.weather``, ``uncertainty.prices``, ``uncertainty.grid_factor``:
    its label, the same in every scenario), and every scalar KPI (columns in first-seen order;
    NaN where a run lacks one)."""
    params = parameter_values(resolved)
    unc = resolved.study.uncertainty
    drawn: dict[int, dict[str, str]] = {}
    records = []
    for s in resolved.names:
        for (scen, k) in sorted(key for key in rows if key[0] == s):
            if unc is not None and k not in drawn:
                drawn[k] = {f"uncertainty.{src}": unc.label(src, i)
                            for src, i in resolved.choice(k).items()}
            records.append({"scenario": scen, "replication": k, "seed": seeds[(scen, k)],
                            "run_key": keys[(scen, k)], **params[scen], **drawn.get(k, {}),
                            **rows[(scen, k)]})
    df = pd.DataFrame.from_records(records)
    for col in df.columns:  # mixed override values (numbers and text) as text
        if df[col].dtype == object and df[col].map(lambda v: isinstance(v, str)).any():
            df[col] = df[col].map(lambda v: None if v is None or (isinstance(v, float)
                                                                   and math.isnan(v)) else str(v))
    return df
