"""Writing outputs so that nothing already written is lost or half-written.

A file is written to a temporary file in the same folder and renamed over the target
(:func:`write_text`); a folder of outputs is built under a temporary name beside the target and
swapped in once everything in it is written (:func:`staged_folder`, :func:`swap_in`), the old
folder removed only once the new one is in place. Temporary names carry the writer's process id,
so the leftovers of a killed writer (SIGKILL, power loss) are recognised and removed by the next
write of the same output (:func:`clean_stale`). :func:`check_target` tells before any work whether
an output folder can be written at all.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

CSV_FORMULA_CHARS = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters that make a spreadsheet read a cell as a formula (OWASP CSV injection)."""


def write_file(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Write the file ``path`` atomically: ``write`` writes a temporary file next to it (it is
    given that file's path), which then replaces ``path`` in one rename; if anything fails (or
    is interrupted), the temporary file is removed and ``path`` is as it was. Returns ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically; return the path."""

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

    return write_file(path, write)


def swap_in(tmp: Path, out: Path) -> Path:
    """Put the finished folder ``tmp`` at ``out``, replacing what is there (renamed aside first,
    removed once ``tmp`` is in place); return ``out``. If anything fails (or is interrupted)
    between the two renames, the old folder is put back."""
    if out.exists() or out.is_symlink():
        old = out.with_name(f".{out.name}.{os.getpid()}.old")
        out.rename(old)
        try:
            tmp.rename(out)
        except BaseException:
            old.rename(out)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out)
    return out


_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.(?:[A-Za-z0-9_]+\.tmp|old)$")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def clean_stale(out: Path) -> list[Path]:
    """Remove the temporary folders of ``out`` left by writers that no longer run (killed by
    SIGKILL or a power cut); return what was removed. Folders of live writers are kept."""
    removed = []
    parent = out.parent
    if not parent.is_dir():
        return removed
    for p in parent.iterdir():
        m = _TEMP_NAME.match(p.name)
        if m is None or m["name"] != out.name or _alive(int(m["pid"])):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


class OutputError(OSError):
    """An output folder could not be written; says what happened to the folder."""


def check_target(out: Path) -> None:
    """Raise :class:`OutputError` now if the output folder ``out`` cannot be written: a symbolic
    link (replacing it would replace the link, not the folder it points to), or a place where
    no folder can be made (read-only, no permission). Tries it with a temporary folder in the
    nearest existing parent, removed at once."""
    if out.is_symlink():
        raise OutputError(f"{out}: is a symbolic link; give the folder itself as --out")
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputError(f"{out}: {parent} is not a folder")
    try:
        probe = tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".tmp",
                                 dir=parent)
    except OSError as exc:
        raise OutputError(f"{out}: cannot write there ({exc.strerror or type(exc).__name__})"
                          ) from None
    os.rmdir(probe)


@contextlib.contextmanager
def staged_folder(out: str | os.PathLike[str]) -> Iterator[Path]:
    """Build the output folder ``out`` in a fresh temporary folder beside it and swap it in when
    the block ends without error; on any error or interrupt remove the temporary folder and
    leave ``out`` as it was.

    An :class:`OSError` while writing (a full disk, no permission) becomes an
    :class:`OutputError` naming ``out`` (not the hidden temporary folder) and saying that
    ``out`` is unchanged."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".tmp",
                                dir=out.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; outputs are meant to be shared
        yield tmp
        swap_in(tmp, out)
    except OutputError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        state = "was left as it was" if out.exists() else "was not created"
        raise OutputError(f"{out}: cannot write ({exc.strerror or type(exc).__name__}); "
                          f"{out} {state}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def csv_safe(df):  # type: ignore[no-untyped-def]
    """A copy of the DataFrame ``df`` whose text cells (and index and column labels) cannot be
    read as formulas by a spreadsheet: a text starting with ``= + - @``, tab or carriage return
    gets a leading single quote, as the OWASP guidance on CSV injection says. Numbers are left as
    they are (a negative number is not a formula), and so is a cell that is just ``-`` (what
    ``comparison.csv`` writes as the unit of a share: read back as ``'-`` it was shown so). Use
    it for every CSV written.

    References
    ----------
    OWASP, "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection
    """
    import pandas as pd

    def fix(v: object) -> object:  # (a lone "-", the unit of a share, is no formula)
        return ("'" + v if isinstance(v, str) and v.startswith(CSV_FORMULA_CHARS) and v != "-"
                else v)

    def text(dtype: object) -> bool:
        return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)

    out = df.copy()
    for col in out.columns:
        if text(out[col].dtype):
            out[col] = out[col].map(fix)
    if text(out.index.dtype):
        out.index = out.index.map(fix).rename(fix(out.index.name))
    out.columns = [fix(c) for c in out.columns]
    return out


def check_out(out: Path, overwrite: bool, marker: str, noun: str, label: str,
              error: type[Exception] = ValueError) -> None:
    """Refuse an output folder ``out`` that cannot take this output, before any work: a symbolic
    link or an unwritable place (:func:`check_target`); a file; an existing folder without
    ``overwrite``; with ``overwrite``, a non-empty folder that lacks ``marker`` (the file that
    marks a folder twin wrote: a run's manifest, a study's or calibration's summary), so a
    mistaken ``--out`` never deletes other files. ``noun`` ("run") and ``label`` ("twin run")
    word the messages; ``error`` is the exception raised."""
    check_target(out)
    if not out.exists():
        return
    if not out.is_dir():
        raise error(f"--out {out}: is a file; expected a folder for the {noun}")
    if not overwrite:
        raise error(f"--out {out}: folder exists; choose another or add --overwrite")
    if not (out / marker).is_file() and any(out.iterdir()):
        raise error(f"--out {out}: not a {label} folder (no {marker}); --overwrite only "
                    f"replaces {noun} folders, choose another --out")
