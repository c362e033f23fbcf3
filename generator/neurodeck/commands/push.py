"""`push`: import a built package into the educator's own Anki collection, as a student's Anki would.

Direct mode opens the collection with the official engine (Anki must be closed: it holds an
exclusive lock), backs it up, imports with a fresh student's dialog options passed explicitly,
and puts back the import options the collection remembered. AnkiConnect mode asks a running
Anki to import through the add-on, whose shim merges note types and imports scheduling.
"""
from __future__ import annotations

import ipaddress
import json
import os
import shutil
import sqlite3
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neurodeck.commands import push_backups, push_rollback
from neurodeck.commands.push_rollback import Snapshot
from neurodeck.model import Location, Problem

DEFAULT_ANKI_CONNECT = "http://127.0.0.1:8765"
ANKI_CONNECT_VERSION = 6
# The config keys an import stores its options under (measured with anki 26.9): put back afterwards.
REMEMBERED_OPTIONS = ("mergeNotetypes", "updateNotes", "updateNotetypes", "withScheduling", "withDeckConfigs")
ANKI_CONNECT_WARNING = ("AnkiConnect imports with 'merge note types', 'import scheduling' and 'import deck "
                        "presets' on, unlike a student's import, and returns no import log; push cannot back "
                        "up a collection Anki has open (close Anki and push without --anki-connect for both).")


@dataclass
class PushReport:
    """What an import into a collection did, by card id (the note's last field)."""

    collection: Path
    backup: Path | None
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicting: list[str] = field(default_factory=list)
    new_notetypes: list[str] = field(default_factory=list)
    thinned: list[Path] = field(default_factory=list)


def _problem(message: str, hint: str = "", where: Path | None = None) -> Problem:
    return Problem(Location(str(where) if where else "<push>"), message, hint=hint or None)


def anki_base(env: dict[str, str] | None = None, platform: str = sys.platform) -> Path:
    """Anki's data folder: $ANKI_BASE, else the standard one of this system."""
    env = dict(os.environ) if env is None else env
    if env.get("ANKI_BASE"):
        return Path(env["ANKI_BASE"])
    home = Path(env.get("HOME") or env.get("USERPROFILE") or Path.home())
    if platform.startswith("win"):
        return Path(env.get("APPDATA") or home / "AppData" / "Roaming") / "Anki2"
    if platform == "darwin":
        return home / "Library" / "Application Support" / "Anki2"
    return Path(env.get("XDG_DATA_HOME") or home / ".local" / "share") / "Anki2"


def profiles(base: Path) -> list[str]:
    """Profile names: the rows of prefs21.db (read-only; their pickled data is never loaded),
    else the folders holding a collection."""
    names: list[str] = []
    prefs = base / "prefs21.db"
    if prefs.is_file():
        try:
            db = sqlite3.connect(f"{prefs.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
            try:
                names = [row[0] for row in db.execute("select name from profiles") if row[0] != "_global"]
            finally:
                db.close()
        except sqlite3.Error:
            names = []
    if not names and base.is_dir():
        names = [p.name for p in base.iterdir() if (p / "collection.anki2").is_file()]
    return sorted(names)


def find_collection(profile: str | None = None, collection: Path | None = None,
                    base: Path | None = None) -> tuple[Path | None, list[Problem]]:
    """The collection to push into: `collection`, `profile`'s, or the only profile's."""
    if collection is not None:
        if not collection.is_file():
            return None, [_problem(f"no collection at {collection}", "give the path of a collection.anki2", collection)]
        if collection.suffix.lower() != ".anki2":  # Anki finds the media folder by this suffix
            return None, [_problem(f"{collection} is not named like an Anki collection (*.anki2)",
                                   "give the path of a profile's collection.anki2 (an .apkg or .colpkg is a "
                                   "package: import it in Anki)", collection)]
        return collection, []
    base = anki_base() if base is None else base
    names = profiles(base)
    if profile is None:
        if len(names) == 1:
            profile = names[0]
        elif not names:
            return None, [_problem(f"no Anki profile found in {base}",
                                   "open Anki once, set ANKI_BASE, or pass --collection PATH", base)]
        else:
            return None, [_problem(f"several Anki profiles in {base}: {', '.join(names)}",
                                   "choose one with --profile NAME", base)]
    path = base / profile / "collection.anki2"
    if not path.is_file():
        return None, [_problem(f"profile {profile!r} has no collection at {path}",
                               f"profiles here: {', '.join(names) or 'none'}", base)]
    return path, []


def open_problem(path: Path, timeout: float = 0.2) -> Problem | None:
    """Why the collection cannot be written now: another program (Anki) holds its lock, or
    SQLite cannot use it (a full disk, no permission, not a database); None if it can."""
    companions = [p for p in _companions(path) if not p.exists()]
    try:
        db = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
        try:
            db.execute("begin exclusive")
            db.execute("rollback")
        finally:
            db.close()
    except sqlite3.Error as exc:
        if "locked" in str(exc):  # SQLITE_BUSY and SQLITE_LOCKED, the only errors saying "locked"
            return _problem(f"Anki has the collection open: {path}",
                            "close Anki (or switch profile) and push again, or use --anki-connect", path)
        _remove_empty_log(path, companions)
        return _problem(f"cannot open the collection {path}: {exc}{_free_space(path)}",
                        "check that it is an Anki collection, that you may write to it and that its disk "
                        "has free space", path)
    return None


def _companions(path: Path) -> list[Path]:
    return [Path(f"{path}-wal"), Path(f"{path}-shm")]


def _remove_empty_log(path: Path, created: list[Path]) -> None:
    """Remove the log and index SQLite created but could not clean up (on a full disk), if the
    log is empty: nothing is lost, and the profile is left as it was."""
    wal, shm = _companions(path)
    if wal in created and shm in created and wal.exists() and wal.stat().st_size == 0:
        wal.unlink()
        shm.unlink(missing_ok=True)


def backup(path: Path, snapshot: Snapshot) -> Path:
    """Write a backup of the collection as it is before the import, as Anki writes its own."""
    folder = push_backups.folder_of(path)
    copy = snapshot.files[path]
    wal = snapshot.files[Path(f"{path}-wal")]
    if copy is not None and (wal is None or wal.stat().st_size == 0):
        return push_backups.write(copy, folder)
    # Anki did not close cleanly, and part of the collection is still in its log: SQLite's
    # backup gives one consistent file to package.
    folder.mkdir(exist_ok=True)
    whole = folder / ".neurodeck-push-backup.anki2"
    try:
        _copy_db(path, whole)
        return push_backups.write(whole, folder)
    finally:
        whole.unlink(missing_ok=True)


def _copy_db(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(str(source)), sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def student_options() -> Any:
    """The options a fresh student's import dialog starts with."""
    from anki.collection import ImportAnkiPackageOptions
    from anki.import_export_pb2 import IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER as IF_NEWER

    return ImportAnkiPackageOptions(merge_notetypes=False, update_notes=IF_NEWER, update_notetypes=IF_NEWER,
                                    with_scheduling=False, with_deck_configs=False)


def push_direct(package: Path, path: Path,
                ids: dict[str, str] | None = None) -> tuple[PushReport | None, list[Problem]]:
    """Import `package` into the collection at `path` as a student would, reporting notes by
    card id (`ids`: card ids by note GUID, from the deck's lock). A backup is written
    first and push's older backups thinned as Anki thins its own; if the import fails, the
    collection, its media database and its media folder are put back exactly as they were."""
    try:
        import anki.collection  # noqa: F401  (only to say how to install it when it is missing)
    except ImportError:
        return None, [_problem("push needs the official Anki engine",
                               "pip install 'neurodeck[verify]', or use --anki-connect")]
    refused = open_problem(path)
    if refused is not None:
        return None, [refused]
    restoring = False
    try:  # whatever happens, even a signal between two lines, no copy is left behind
        try:
            snapshot = push_rollback.take(path)
        except OSError as exc:
            return None, [_problem(f"cannot copy the collection before importing, nothing was changed: {_why(exc)}",
                                   "free some space on its disk and push again", path)]
        try:
            saved = backup(path, snapshot)
        except OSError as exc:
            return None, [_problem(f"cannot write a backup of the collection, nothing was changed: {_why(exc)}",
                                   "free some space on its disk and push again", path)]
        report = PushReport(path, saved)
        limits = push_backups.Limits()
        try:
            log, names, limits = _import(package, path, ids or {}, report)
        except BaseException as exc:  # the engine refused, or the push was interrupted: put it all back
            failure = f"{exc.__class__.__name__}: {exc}"
            restoring = True  # a copy must outlive a restore that fails or is interrupted
            try:
                snapshot.restore()
            except OSError as again:
                return None, [_problem(f"import failed ({failure}), and putting the collection back failed: "
                                       f"{_why(again)}", f"with Anki closed, restore the backup {saved} (Anki: File "
                                       "> Switch Profile > Open Backup)", path)]
            restoring = False
            if not isinstance(exc, Exception):
                raise
            return None, [_problem(f"import failed, collection and media folder restored as they were (backup: "
                                   f"{saved}): {failure}{_free_space(path)}",
                                   "if the disk is full, free some space and push again", package)]
        finally:
            report.thinned = push_backups.thin(saved.parent, limits)
    finally:
        if not restoring:
            push_rollback.discard(path)
    for name, notes in (("new", log.new), ("updated", log.updated), ("unchanged", log.duplicate),
                        ("conflicting", log.conflicting)):
        setattr(report, name, [names[n.id.nid] for n in notes])
    return report, []


def _import(package: Path, path: Path, ids: dict[str, str],
            report: PushReport) -> tuple[Any, dict[int, str], push_backups.Limits]:
    """Import with a student's options and put back the options the collection remembers;
    returns Anki's log, the notes' names and the collection's backup limits."""
    from anki.collection import Collection, ImportAnkiPackageRequest

    col = Collection(str(path))
    try:
        limits = _backup_limits(col)
        remembered = {key: col.get_config(key, None) for key in REMEMBERED_OPTIONS}
        types_before = {m["id"] for m in col.models.all()}
        log = col.import_anki_package(ImportAnkiPackageRequest(package_path=str(package.resolve()),
                                                               options=student_options())).log
        for key, value in remembered.items():
            if value is None:
                col.remove_config(key)
            else:
                col.set_config(key, value)
        col.models._clear_cache()  # the importer does not refresh the Python-side cache
        report.new_notetypes = sorted(m["name"] for m in col.models.all() if m["id"] not in types_before)
        return log, _note_names(col, package, log, ids), limits
    finally:
        col.close()


def card_ids(manifest: Path) -> dict[str, str]:
    """The card id of each note GUID the deck's lock knows (empty if it cannot be read)."""
    from neurodeck.lockfile import note_guid, read_lock
    from neurodeck.source.manifest import load_manifest

    deck, _ = load_manifest(manifest)
    lock = read_lock(deck.lock_path, str(deck.lock_path))[0] if deck is not None else None
    if lock is None:
        return {}
    return {entry.guid or note_guid(lock.namespace, card): card for card, entry in lock.notes.items()}


def _note_names(col: Any, package: Path, log: Any, ids: dict[str, str]) -> dict[int, str]:
    """A name for each note in the import log: its card id, found by GUID in `ids`, else, for a
    note type whose last field is neurodeck's Id, that field, else its GUID. The log gives notes
    by id: in the collection, except conflicting ones, which keep the package's note id."""
    from neurodeck.apkg.reader import read_package

    contents, _ = read_package(package, cards=False)
    incoming = contents.notes if contents else []
    by_guid = {n.guid: n for n in incoming}
    with_id = {t.id for t in contents.notetypes.values() if t.fields and t.fields[-1][0] == "Id"} if contents else set()
    logged = [n.id.nid for notes in (log.new, log.updated, log.duplicate) for n in notes]
    guids = dict(col.db.all(f"select id, guid from notes where id in ({','.join(map(str, logged))})")) if logged else {}
    guids.update({n.id: n.guid for n in incoming if n.id not in guids})  # conflicting: the package's ids
    names = {}
    for note in (n for notes in (log.new, log.updated, log.duplicate, log.conflicting) for n in notes):
        nid = note.id.nid
        guid = guids.get(nid)
        if guid in ids:
            names[nid] = ids[guid]
        elif guid is None or guid in by_guid and by_guid[guid].notetype in with_id:
            names[nid] = note.fields[-1]
        else:
            names[nid] = f"guid {guid}"
    return names


def _backup_limits(col: Any) -> push_backups.Limits:
    """The backup limits set in the collection's preferences (Anki's defaults if unset)."""
    limits = col.get_preferences().backups
    return push_backups.Limits(limits.daily, limits.weekly, limits.monthly)


def _free_space(path: Path) -> str:
    """How much space the collection's disk has left: SQLite says only "disk I/O error" when
    it is full."""
    try:
        return f" ({shutil.disk_usage(path.parent).free} bytes free on its disk)"
    except OSError:
        return ""


def _why(exc: OSError) -> str:
    return f"{exc.strerror or exc} ({exc.filename})" if exc.filename else str(exc.strerror or exc)


def loopback(url: str) -> bool:
    """Whether `url` is http(s) on this machine."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def _call(url: str, action: str, **params: Any) -> Any:
    body = json.dumps({"action": action, "version": ANKI_CONNECT_VERSION, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    if not isinstance(answer, dict) or set(answer) != {"result", "error"}:
        raise ValueError(f"not an AnkiConnect version {ANKI_CONNECT_VERSION} answer: {str(answer)[:100]}")
    if answer["error"] is not None:
        raise RuntimeError(answer["error"])
    return answer["result"]


def push_anki_connect(package: Path, url: str = DEFAULT_ANKI_CONNECT) -> list[Problem]:
    """Ask the Anki running at `url` to import `package` through AnkiConnect's importPackage."""
    if not loopback(url):
        return [_problem(f"--anki-connect {url} is not on this machine",
                         "give a loopback address such as http://127.0.0.1:8765")]
    try:
        version = _call(url, "version")
        if not isinstance(version, int) or version < ANKI_CONNECT_VERSION:
            return [_problem(f"AnkiConnect at {url} speaks version {version}, push needs {ANKI_CONNECT_VERSION}",
                             "update the AnkiConnect add-on")]
        if _call(url, "importPackage", path=str(package.resolve())) is not True:
            return [_problem(f"AnkiConnect at {url} did not import {package}", where=package)]
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return [_problem(f"cannot reach AnkiConnect at {url}: {reason}",
                         "start Anki with the AnkiConnect add-on, or close Anki and push without --anki-connect")]
    except (ValueError, RuntimeError) as exc:
        return [_problem(f"AnkiConnect at {url}: {exc}", "check that the add-on is AnkiConnect, up to date")]
    return []
