"""Atomic file writes beside their target, the cleanup of what killed writes left, and the
per-manifest lock that makes concurrent builds take turns."""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks
    fcntl = None  # type: ignore[assignment]

TEMP_PREFIX = ".neurodeck-"


def temp_prefix(target: Path) -> str:
    """The prefix of every temporary file or folder made while writing `target`."""
    return f"{TEMP_PREFIX}{target.name}."


def remove_stale(target: Path) -> None:
    """Remove what an earlier, killed write of `target` left behind (call while holding the lock)."""
    prefix = temp_prefix(target)
    try:
        leftovers = [p for p in target.parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return
    for path in leftovers:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                path.unlink()
            except OSError:
                pass


def prepare(target: Path, write: Callable[[BinaryIO], object]) -> Path:
    """Have `write` fill a temporary file beside `target`, flushed to disk; `commit` renames it."""
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target), suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        discard(Path(tmp))
        raise
    return Path(tmp)


def commit(tmp: Path, target: Path) -> None:
    """Atomically replace `target`: a reader or a crash sees the old file or the new one, never a part."""
    os.replace(tmp, target)


def discard(tmp: Path) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass


@contextmanager
def exclusive(path: Path):
    """Hold an exclusive lock on `path` (the manifest) so that concurrent builds of one deck take turns."""
    try:
        handle = open(path, "rb")
    except OSError:
        yield  # unreadable manifest: the build reports it and writes nothing
        return
    try:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        handle.close()  # closing releases the lock
