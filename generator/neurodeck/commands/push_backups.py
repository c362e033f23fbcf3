"""`push`'s backups of a collection: written as Anki writes its own (a .colpkg in the profile's
backups folder, which Anki's File > Switch Profile > Open Backup lists), and thinned with the
rule and the limits Anki thins its own with (rslib/src/collection/backup.rs).

Only files named as push names them are ever thinned: Anki's own backups (`backup-<time>.colpkg`)
and any other file in the folder are left alone, and Anki's thinning, which only reads its own
names, leaves push's alone.
"""
from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

NAME_FORMAT = "neurodeck-push-%Y-%m-%d-%H.%M.%S.colpkg"  # Anki: backup-%Y-%m-%d-%H.%M.%S.colpkg


@dataclass(frozen=True)
class Limits:
    """How many daily, weekly and monthly backups to keep beyond today's and yesterday's
    (Anki's preferences; these defaults are Anki's)."""

    daily: int = 12
    weekly: int = 10
    monthly: int = 9


def folder_of(collection: Path) -> Path:
    """The profile's backups folder, where Anki keeps its own."""
    return collection.parent / "backups"


def write(collection: Path, folder: Path, now: datetime | None = None) -> Path:
    """Package the collection file `collection` as Anki packages a backup, named for the local
    time `now`: `meta` (package version 3), the collection zstd-compressed as
    `collection.anki21b`, and an empty media list. A partial file is deleted on an error."""
    import zstandard

    now = now or datetime.now()
    folder.mkdir(exist_ok=True)
    target = folder / now.strftime(NAME_FORMAT)
    while target.exists():  # never overwrite: a later name, still in the format thinning reads
        now = now.replace(microsecond=0) + timedelta(seconds=1)
        target = folder / now.strftime(NAME_FORMAT)
    compressor = zstandard.ZstdCompressor()
    try:
        # Anki stores these entries uncompressed in the zip: zstd has compressed them.
        with zipfile.ZipFile(target, "x", zipfile.ZIP_STORED) as package:
            package.writestr("meta", b"\x08\x03")  # PackageMetadata{version: VERSION_LATEST}
            with collection.open("rb") as source, package.open("collection.anki21b", "w", force_zip64=True) as entry:
                compressor.copy_stream(source, entry)
            package.writestr("media", compressor.compress(b""))  # MediaEntries{}: no media
        with target.open("rb+") as done:
            os.fsync(done.fileno())
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


def _stamp(name: str) -> datetime | None:
    """The time in a name push wrote; None for any other name (strptime alone would also read
    unpadded numbers, which push never writes)."""
    try:
        stamp = datetime.strptime(name, NAME_FORMAT)
    except ValueError:
        return None
    return stamp if stamp.strftime(NAME_FORMAT) == name else None


def obsolete(stamps: Iterable[datetime], today: datetime, limits: Limits) -> list[datetime]:
    """Which backups Anki's rule drops: every one from today and yesterday is kept; then, newest
    first, the newest of each earlier day until `daily` days are kept, then of each week
    (weeks start on Monday) until `weekly`, then of each month until `monthly`; all older go."""
    yesterday = today.toordinal() - 1
    left = {"daily": limits.daily, "weekly": limits.weekly, "monthly": limits.monthly}
    last_day = last_week = last_month = None
    dropped = []
    for stamp in sorted(stamps, reverse=True):
        day, week, month = _day(stamp), (_day(stamp) - 1) // 7, stamp.year * 12 + stamp.month
        stage = next((name for name in ("daily", "weekly", "monthly") if left[name] > 0), None)
        if day >= yesterday:
            keep = True
        elif stage is None:
            keep = False
        else:
            last = {"daily": (day, last_day), "weekly": (week, last_week), "monthly": (month, last_month)}[stage]
            keep = last[1] is None or last[0] < last[1]
            if keep:
                left[stage] -= 1
        if keep:
            last_day, last_week, last_month = day, week, month
        else:
            dropped.append(stamp)
    return dropped


def _day(stamp: datetime) -> int:
    return stamp.toordinal()  # rslib's num_days_from_ce: 1 January of year 1 is day 1 in both


def thin(folder: Path, limits: Limits, now: datetime | None = None) -> list[Path]:
    """Delete push's backups in `folder` that Anki's rule drops; returns the ones deleted. A file
    that cannot be deleted is left (as Anki does: it logs and carries on)."""
    try:
        mine = {stamp: entry for entry in folder.iterdir() if (stamp := _stamp(entry.name)) and entry.is_file()}
    except OSError:
        return []
    deleted = []
    for stamp in obsolete(mine, now or datetime.now(), limits):
        try:
            mine[stamp].unlink()
            deleted.append(mine[stamp])
        except OSError:
            pass
    return deleted
