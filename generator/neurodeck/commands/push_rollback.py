"""What `push` puts back when an import fails: the collection's files and its media folder,
exactly as they were before the import.

The collection and the media database are copied byte for byte beside themselves (same folder,
so putting them back is a rename, which needs no free space on a full disk). Anki's importer
never overwrites a media file (a different file under a taken name is stored as
`name-<sha1>.ext`), so the media folder is put back by deleting what was not there before; the
files that were there, same name or not, are never touched.
"""
from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

# SQLite's companions of a database file: the write-ahead log and its index.
_WAL, _SHM = "-wal", "-shm"
_SUFFIX = ".neurodeck-rollback"


def media_paths(collection: Path) -> tuple[Path, Path]:
    """The media folder and media database Anki uses for `collection` (as anki.media does)."""
    folder = Path(re.sub(r"(?i)\.(anki2)$", ".media", str(collection)))
    return folder, Path(f"{folder}.db2")


@dataclass(frozen=True)
class Snapshot:
    """The collection's files as they were (copy, or None for a file that did not exist) and the
    names in its media folder (None if there was no folder)."""

    files: dict[Path, Path | None]
    media: Path
    media_names: frozenset[str] | None

    def restore(self) -> None:
        """Put every file back as it was: the media folder first, which frees space on a full disk."""
        if self.media.is_dir():
            for entry in os.scandir(self.media):
                if self.media_names is None or entry.name not in self.media_names:
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path)
                    else:
                        os.unlink(entry.path)
            if self.media_names is None:
                self.media.rmdir()
        for live, copy in self.files.items():
            Path(f"{live}{_SHM}").unlink(missing_ok=True)  # an index of a log that is replaced
            if copy is None:
                live.unlink(missing_ok=True)
            else:
                os.replace(copy, live)



def _live_files(collection: Path) -> list[Path]:
    media_db = media_paths(collection)[1]
    return [collection, Path(f"{collection}{_WAL}"), media_db, Path(f"{media_db}{_WAL}")]


def _copy_of(live: Path) -> Path:
    return live.with_name(f".{live.name}{_SUFFIX}")


def discard(collection: Path) -> None:
    """Delete the copies `take` makes (after a good import, or a failure before the import):
    their names are fixed, so this needs no Snapshot, and a signal can never strand one."""
    for live in _live_files(collection):
        _copy_of(live).unlink(missing_ok=True)


def take(collection: Path) -> Snapshot:
    """Copy the collection, its media database and their logs, and list the media folder.
    On an error (a full disk), the copies made so far are deleted before it is raised."""
    media = media_paths(collection)[0]
    names = frozenset(os.listdir(media)) if media.is_dir() else None
    files: dict[Path, Path | None] = {}
    try:
        for live in _live_files(collection):
            exists = live.exists()
            files[live] = _copy_of(live) if exists else None
            if exists:
                shutil.copyfile(live, _copy_of(live))
    except BaseException:
        discard(collection)
        raise
    return Snapshot(files, media, names)
