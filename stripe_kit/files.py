"""Files written whole or not at all: a temporary name beside the target, renamed over it on success."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write to; rename it over ``path`` if the block succeeds.

    The temporary name is hidden, unique per process and thread, and ends in ``suffix`` (``.tmp``, which run
    directories clean up after a killed writer; a writer that picks its format by extension, as USD does, passes
    one). Whatever happens, no temporary file is left behind and ``path`` is either the old file or complete.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}{suffix}")
    tmp.unlink(missing_ok=True)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
