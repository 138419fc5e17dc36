"""Finished lots kept on disk in chunks, so that a run's memory does not grow with its length.

:class:`~twin.production.flow.Flow` records every finished lot in typed arrays (about 50 bytes a
lot). A plant of 100 stations finishes some 14,000 lots a day, 5 million in a year: held in memory
they, and the ``lots.parquet`` table made of them, would outgrow everything else the run keeps.
So every :data:`LOT_CHUNK` lots the arrays are appended to one raw binary file per column in a
temporary folder (:class:`LotSpill`) and emptied; after the run the lots are read back one chunk
at a time: for the KPIs (:mod:`twin.production.lot_stats`), the hourly completions, and
``lots.parquet``, which is written one row group per chunk (:class:`SpilledLots`). Nothing is
spilled in a run that finishes fewer than :data:`LOT_CHUNK` lots.

The chunk size is a count of lots, never a memory reading, so the chunks, and with them every
output, are the same on every machine; the outputs do not depend on it at all
(``tests/test_lot_spill.py``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

LOT_CHUNK = 1 << 16
"""Finished lots held in memory before they are written to disk (about 3.5 MB), and the row-group
size of ``lots.parquet``."""

ROW_GROUP = LOT_CHUNK
"""Rows per row group of ``lots.parquet`` (whether the lots were spilled or not)."""

COLUMNS: dict[str, str] = {"product": "i", "released_s": "d", "completed_s": "d", "held_s": "d",
                           "due_s": "d", "order": "i", "lot": "q"}
"""The columns of a chunk and their array typecodes (as :meth:`Flow.completions` returns them)."""

_DTYPES = {"i": np.int32, "d": np.float64, "q": np.int64}


class LotSpill:
    """Full chunks of finished lots, one raw binary file per column in a temporary folder
    (removed when the spill is closed or garbage-collected)."""

    def __init__(self, chunk: int = LOT_CHUNK):
        self.chunk = int(chunk)
        self.chunks = 0
        """Chunks written so far (each exactly :attr:`chunk` lots)."""
        self._dir = tempfile.TemporaryDirectory(prefix="twin-lots-")
        self._path = Path(self._dir.name)

    def write(self, arrays: dict[str, Any]) -> None:
        """Append one chunk: ``arrays`` maps each column of :data:`COLUMNS` to exactly
        :attr:`chunk` values (typed arrays or numpy arrays)."""
        for name, code in COLUMNS.items():
            a = np.asarray(arrays[name], dtype=_DTYPES[code])
            if a.size != self.chunk:
                raise ValueError(f"a lot chunk has {self.chunk} rows; column {name} has {a.size}")
            with open(self._path / name, "ab") as fh:
                a.tofile(fh)
        self.chunks += 1

    def read(self, k: int) -> dict[str, np.ndarray]:
        """Chunk ``k`` (0-based) as numpy arrays."""
        out = {}
        for name, code in COLUMNS.items():
            dtype = np.dtype(_DTYPES[code])
            out[name] = np.fromfile(self._path / name, dtype=dtype, count=self.chunk,
                                    offset=k * self.chunk * dtype.itemsize)
        return out

    def close(self) -> None:
        """Remove the files."""
        self._dir.cleanup()


def rechunk(chunks: Iterable[dict[str, np.ndarray]], rows: int
            ) -> Iterator[dict[str, np.ndarray]]:
    """The same columns in chunks of exactly ``rows`` rows (the last one shorter)."""
    held: list[dict[str, np.ndarray]] = []
    n = 0
    for c in chunks:
        held.append(c)
        n += c["lot"].size
        while n >= rows:
            joined = {k: np.concatenate([h[k] for h in held]) for k in COLUMNS}
            yield {k: v[:rows] for k, v in joined.items()}
            rest = {k: v[rows:] for k, v in joined.items()}
            held, n = [rest], rest["lot"].size
    if n:
        yield {k: np.concatenate([h[k] for h in held]) for k in COLUMNS}


class SpilledLots:
    """``lots.parquet`` of a run whose lots were spilled to disk, still on disk.

    :meth:`to_parquet` writes the file one row group at a time, the same bytes as
    ``frame().to_parquet(path, index=False, row_group_size=ROW_GROUP)``. Any other use (a
    column, ``len``, ``head()``...) reads the whole table into memory once (:meth:`frame`) and
    hands it on, so code written for a DataFrame keeps working."""

    def __init__(self, chunks: Callable[[], Iterator[dict[str, np.ndarray]]],
                 table: Callable[[dict[str, np.ndarray]], pd.DataFrame], rows: int,
                 keep: Any = None):
        self._chunks = chunks
        self._table = table
        self.rows = rows
        self._frame: pd.DataFrame | None = None
        self._keep = keep  # what must outlive this object's reads (the spill)

    def frames(self, rows: int | None = None) -> Iterator[pd.DataFrame]:
        """The table, ``rows`` rows at a time (default: as the chunks come)."""
        chunks = self._chunks() if rows is None else rechunk(self._chunks(), rows)
        for c in chunks:
            if c["lot"].size:
                yield self._table(c)

    def frame(self) -> pd.DataFrame:
        """The whole table in memory (read once, then kept)."""
        if self._frame is None:
            self._frame = pd.concat(list(self.frames()), ignore_index=True)
        return self._frame

    def to_parquet(self, path: str | Path, index: bool = False,
                   row_group_size: int | None = None) -> None:
        """Write the table to ``path`` one row group at a time (``index`` must be False):
        the bytes ``frame().to_parquet(path, index=False, row_group_size=...)`` writes."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if index:
            raise ValueError("spilled lots are written without an index")
        size = ROW_GROUP if row_group_size is None else int(row_group_size)
        writer = None
        try:
            for df in self.frames(size):
                t = pa.Table.from_pandas(df, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(str(path), t.schema)
                writer.write_table(t, row_group_size=size)
        finally:
            if writer is not None:
                writer.close()

    def __len__(self) -> int:
        return self.rows

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.frame(), name)

    def __getitem__(self, key: Any) -> Any:
        return self.frame()[key]
