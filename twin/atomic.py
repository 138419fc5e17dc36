"""Writing outputs so that nothing already written is lost or half-written.

A file is written to a temporary file in the same folder and renamed over the target
(:func:`write_text`); a folder of outputs is built under a temporary name and swapped in
(:func:`swap_in`), the old folder removed only once the new one is in place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically; return the path."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def swap_in(tmp: Path, out: Path) -> Path:
    """Put the finished folder ``tmp`` at ``out``, replacing what is there (renamed aside first,
    removed once ``tmp`` is in place); return ``out``."""
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old)
    else:
        tmp.rename(out)
    return out
