"""Atomic file writes beside their target, the cleanup of what killed writes left, and the
per-project lock that makes builds take turns and lets readers see whole releases."""
from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import BinaryIO

from neurodeck.model import Location, Problem

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


def _named(exc: OSError, target: Path) -> OSError:
    """`exc`, naming `target`: the file the user asked for, not a temporary name or the folder."""
    if exc.errno is None:
        return OSError(errno.EIO, str(exc), str(target))
    return type(exc)(exc.errno, exc.strerror or os.strerror(exc.errno), str(target))


def _final(target: Path) -> Path:
    # Writing through a symlink replaces what it points to, not the link itself.
    return Path(os.path.realpath(target)) if target.is_symlink() else target


def prepare(target: Path, write: Callable[[BinaryIO], object]) -> Path:
    """Have `write` fill a temporary file beside `target`, flushed to disk; `commit` renames it.

    An existing `target` that nobody may write is refused (as root too: replacing it by a rename
    would ignore that it was made read-only), and its permissions carry over to the new file.
    Every OSError names `target`."""
    final = _final(target)
    try:
        mode = 0o644
        try:
            st = os.stat(final)
        except FileNotFoundError:
            st = None
        if st is not None:
            if stat.S_ISDIR(st.st_mode):
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
            if not st.st_mode & 0o222:
                raise PermissionError(errno.EACCES, "the file is read-only")
            mode = stat.S_IMODE(st.st_mode)
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(final), suffix=".tmp", dir=final.parent)
    except OSError as exc:
        raise _named(exc, target) from exc
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
    except OSError as exc:
        discard(Path(tmp))
        raise _named(exc, target) from exc
    except BaseException:
        discard(Path(tmp))
        raise
    return Path(tmp)


def commit(tmp: Path, target: Path) -> None:
    """Atomically replace `target`: a reader or a crash sees the old file or the new one, never a part."""
    final = _final(target)
    try:
        os.replace(tmp, final)
    except OSError as exc:
        discard(tmp)
        raise _named(exc, target) from exc
    try:  # make the rename itself durable
        folder = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError:
        pass


def write_atomic(target: Path, data: bytes) -> None:
    """Replace `target` with `data` atomically, or raise an OSError naming `target` and leave it
    as it was. The one way neurodeck writes a file."""
    remove_stale(target)
    commit(prepare(target, lambda f: f.write(data)), target)


def discard(tmp: Path) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass


_HINTS: dict[int | None, str] = {
    errno.ENOSPC: "the disk is full: free some space and try again",
    errno.EDQUOT: "the disk quota is exhausted: free some space and try again",
    errno.EROFS: "the file system is read-only: choose another folder, or make it writable",
    errno.EACCES: "no permission to write here: choose another folder, or fix the permissions",
    errno.EPERM: "no permission to write here: choose another folder, or fix the permissions",
    errno.ENAMETOOLONG: "choose a shorter name",
    errno.ELOOP: "a symbolic link points to itself: remove the loop",
}


def write_problem(exc: OSError, fallback: Path) -> Problem:
    """A located problem for a failed write: the file the error names, else `fallback`."""
    from neurodeck.project import shown_path

    where = shown_path(Path(exc.filename)) if exc.filename else shown_path(fallback)
    return Problem(Location(where), f"cannot write: {exc.strerror or exc}", _HINTS.get(exc.errno))


# ---- locks ---------------------------------------------------------------------------------------

_held: dict[tuple[int, str], list] = {}  # (thread, folder) -> [handle, depth, exclusive]


@contextmanager
def _folder_lock(manifest: Path, exclusive: bool) -> Iterator[None]:
    """Lock the manifest's folder: the manifest itself is replaced on release, and a lock on a
    file that is renamed over guards nothing. Re-entrant within a thread."""
    folder = os.path.realpath(manifest.parent) if str(manifest.parent) else "."
    key = (threading.get_ident(), folder)
    held = _held.get(key)
    if held is not None:
        if exclusive and not held[2] and fcntl is not None:
            fcntl.flock(held[0], fcntl.LOCK_EX)
            held[2] = True
        held[1] += 1
        try:
            yield
        finally:
            held[1] -= 1
        return
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        yield  # an unreadable folder: the build reports it and writes nothing
        return
    try:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        _held[key] = [handle, 1, exclusive]
        yield
    finally:
        _held.pop(key, None)
        os.close(handle)  # closing releases the lock


def exclusive(manifest: Path) -> AbstractContextManager[None]:
    """Hold the manifest's lock alone: builds and releases of one project take turns."""
    return _folder_lock(manifest, True)


def shared(manifest: Path) -> AbstractContextManager[None]:
    """Hold the manifest's lock with other readers, while reading the manifest and its lock file,
    so that a release's two writes are seen both or neither."""
    return _folder_lock(manifest, False)
