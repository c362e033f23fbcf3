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
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neurodeck.model import Location, Problem

DEFAULT_ANKI_CONNECT = "http://127.0.0.1:8765"
ANKI_CONNECT_VERSION = 6
# The config keys an import stores its options under (measured with anki 26.9): put back afterwards.
REMEMBERED_OPTIONS = ("mergeNotetypes", "updateNotes", "updateNotetypes", "withScheduling", "withDeckConfigs")
ANKI_CONNECT_WARNING = ("AnkiConnect imports with 'merge note types', 'import scheduling' and 'import deck "
                        "presets' on, unlike a student's import, and returns no import log.")


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


def is_locked(path: Path, timeout: float = 0.2) -> bool:
    """Whether another program (Anki) holds the collection's lock."""
    try:
        db = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
    except sqlite3.Error:
        return True
    try:
        db.execute("begin exclusive")
        db.execute("rollback")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        db.close()


def backup(path: Path, now: float | None = None) -> Path:
    """Copy the collection (consistently, through SQLite) to the profile's backups folder."""
    folder = path.parent / "backups"
    folder.mkdir(exist_ok=True)
    stamp = time.strftime("%Y-%m-%d-%H.%M.%S", time.localtime(now))
    target = folder / f"before-neurodeck-push-{stamp}.anki2"
    n = 1
    while target.exists():
        n += 1
        target = folder / f"before-neurodeck-push-{stamp}-{n}.anki2"
    _copy_db(path, target)
    return target


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


def push_direct(package: Path, path: Path) -> tuple[PushReport | None, list[Problem]]:
    """Import `package` into the collection at `path` as a student would; back it up first,
    and restore the backup if the import fails."""
    try:
        from anki.collection import Collection, ImportAnkiPackageRequest
    except ImportError:
        return None, [_problem("push needs the official Anki engine",
                               "pip install 'neurodeck[verify]', or use --anki-connect")]
    if is_locked(path):
        return None, [_problem(f"Anki has the collection open: {path}",
                               "close Anki (or switch profile) and push again, or use --anki-connect", path)]
    saved = backup(path)
    report = PushReport(path, saved)
    try:
        col = Collection(str(path))
        try:
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
        finally:
            col.close()
    except Exception as exc:  # the engine refused: put the collection back as it was
        _restore(saved, path)
        return None, [_problem(f"import failed, collection restored from {saved}: {exc.__class__.__name__}: {exc}",
                               where=package)]
    for name in ("new", "updated", "conflicting"):
        setattr(report, name, [n.fields[-1] for n in getattr(log, name)])
    report.unchanged = [n.fields[-1] for n in log.duplicate]
    return report, []


def _restore(saved: Path, path: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    tmp = path.with_name(f".{path.name}.restore")
    shutil.copyfile(saved, tmp)
    os.replace(tmp, path)


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
