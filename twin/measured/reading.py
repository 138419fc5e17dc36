"""Reading a meter file (CSV, Parquet, XLSX) into a raw table, safely.

Nothing here interprets values: the table holds what the file holds (text for CSV, the stored
types for Parquet and XLSX). Every failure is a :class:`MeterDataError` of one line that names the
file and the column, row or line, never a pandas traceback and never a line of the file.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from twin.measured.errors import MeterDataError

MAX_FILE_BYTES = 2 * 1024**3
"""Largest meter file read (2 GiB): a year of 1-min readings of 50 meters is ~0.5 GB as CSV."""
ENCODINGS = ("utf-8-sig", "gb18030", "latin-1")
"""CSV encodings tried in turn (UTF-8, then the GB encodings of Chinese EMS exports)."""


@dataclass(frozen=True)
class RawTable:
    """The needed columns of a meter file, in file order, and how to name a row of it."""

    frame: pd.DataFrame
    file: str
    kind: str
    """``csv``, ``parquet`` or ``xlsx``."""

    def where(self, i: int) -> str:
        """The file position of data row ``i`` (0-based): CSV line / spreadsheet row, header = 1."""
        if self.kind == "csv":
            return f"line {i + 2}"
        if self.kind == "xlsx":
            return f"row {i + 2}"
        return f"row {i + 1}"


def read_table(path: Path, shown: str, columns: list[str], *, sheet: str | None = None,
               separator: str = ",", max_bytes: int = MAX_FILE_BYTES) -> RawTable:
    """The ``columns`` of the meter file at ``path`` (``shown`` is its name in messages).

    Raises :class:`MeterDataError` when the file is missing, not a regular file, larger than
    ``max_bytes``, of an unknown type, unreadable, or lacks one of ``columns``.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise MeterDataError(shown, "", "file not found; expected a CSV, Parquet or XLSX meter "
                             "file (path relative to the calibration file)") from None
    except OSError as exc:
        raise MeterDataError(shown, "", f"cannot open ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise MeterDataError(shown, "", "not a regular file; expected a CSV, Parquet or XLSX "
                             "meter file")
    if st.st_size > max_bytes:
        raise MeterDataError(shown, "", f"file is {st.st_size / 1024**3:.1f} GiB; expected at "
                             f"most {max_bytes / 1024**3:.1f} GiB (split it by period)")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        return RawTable(_read_csv(path, shown, columns, separator), shown, "csv")
    if suffix in (".parquet", ".pq"):
        return RawTable(_read_parquet(path, shown, columns), shown, "parquet")
    if suffix in (".xlsx", ".xlsm"):
        return RawTable(_read_xlsx(path, shown, columns, sheet), shown, "xlsx")
    raise MeterDataError(shown, "", "unknown file type; expected .csv, .parquet or .xlsx",
                         path.suffix, True)


def _check_columns(shown: str, have: list[str], need: list[str]) -> None:
    import difflib

    for col in need:
        if col not in have:
            close = difflib.get_close_matches(col, have, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"the file has {len(have)} " \
                "columns, none close to it"
            raise MeterDataError(shown, f"column '{col}'", f"no such column; {hint}")


def _read_csv(path: Path, shown: str, columns: list[str], sep: str) -> pd.DataFrame:
    last: Exception | None = None
    for enc in ENCODINGS:
        try:
            header = pd.read_csv(path, sep=sep, nrows=0, encoding=enc)
            have = [str(c).strip() for c in header.columns]
            _check_columns(shown, have, columns)
            frame = pd.read_csv(path, sep=sep, dtype=str, encoding=enc, keep_default_na=False,
                                na_values=[""], skipinitialspace=True)
        except UnicodeDecodeError as exc:
            last = exc
            continue
        except MeterDataError:
            raise
        except pd.errors.EmptyDataError:
            raise MeterDataError(shown, "", "the file is empty; expected a header line and "
                                 "readings") from None
        except pd.errors.ParserError as exc:
            m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
            if m:
                raise MeterDataError(shown, f"line {m.group(2)}", f"{m.group(3)} fields; expected "
                                     f"{m.group(1)} like the header (separator '{sep}')") from None
            raise MeterDataError(shown, "", "cannot be read as CSV (malformed quoting or "
                                 f"separator other than '{sep}')") from None
        except (OSError, ValueError):
            raise MeterDataError(shown, "", "cannot be read as CSV") from None
        frame.columns = have
        return frame[columns]
    assert last is not None
    raise MeterDataError(shown, "", "cannot be decoded as text (UTF-8, GB18030 or Latin-1); "
                         "expected a CSV file") from None


def _read_parquet(path: Path, shown: str, columns: list[str]) -> pd.DataFrame:
    try:
        import pyarrow.parquet as pq

        have = [str(c) for c in pq.read_schema(path).names]
    except Exception:
        raise MeterDataError(shown, "", "cannot be read as Parquet") from None
    _check_columns(shown, have, columns)
    try:
        frame = pd.read_parquet(path, columns=columns)
    except Exception:
        raise MeterDataError(shown, "", "cannot be read as Parquet") from None
    return frame.reset_index(drop=True)


def _read_xlsx(path: Path, shown: str, columns: list[str], sheet: str | None) -> pd.DataFrame:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - a dependency of the package
        raise MeterDataError(shown, "", "reading XLSX needs openpyxl (pip install openpyxl)") \
            from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:
        raise MeterDataError(shown, "", "cannot be read as XLSX") from None
    try:
        names = list(book.sheetnames)
        if sheet is None:
            ws = book[names[0]]
        elif sheet in names:
            ws = book[sheet]
        elif sheet.isdigit() and int(sheet) < len(names):
            ws = book[names[int(sheet)]]
        else:
            raise MeterDataError(shown, f"sheet '{sheet}'", "no such sheet; expected one of "
                                 + ", ".join(f"'{n}'" for n in names[:12]))
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise MeterDataError(shown, "", "the sheet is empty; expected a header row and "
                                 "readings")
        have = [str(c).strip() if c is not None else "" for c in header]
        _check_columns(shown, have, columns)
        idx = [have.index(c) for c in columns]
        data = [[r[i] if i < len(r) else None for i in idx] for r in rows]
    except MeterDataError:
        raise
    except Exception:
        raise MeterDataError(shown, "", "cannot be read as XLSX") from None
    finally:
        book.close()
    return pd.DataFrame(data, columns=columns, dtype=object)
