"""Rendered notes -> a deterministic .apkg, written atomically.

The collection is written directly with `executemany` into genanki's schema (genanki stamps one
timestamp on everything, but each note needs its own `mod`), and the zip gets fixed entry dates,
permissions and order, so the same notes and lock give the same bytes on any machine.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import genanki
from genanki.apkg_col import APKG_COL
from genanki.apkg_schema import APKG_SCHEMA

from .notetypes import NoteType, stable_id
from .render import plain_text

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks
    fcntl = None

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
TEMP_PREFIX = ".neurodeck-"


@dataclass(frozen=True)
class PackNote:
    """One note as it goes into the package."""

    guid: str
    notetype: NoteType
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck: str
    ords: tuple[int, ...]
    mod: int


@dataclass(frozen=True)
class PackDeck:
    name: str
    description: str  # HTML


def deck_id(namespace: str, name: str) -> int:
    return stable_id(namespace, "deck", name)


def collection_bytes(namespace: str, decks: list[PackDeck], notetypes: dict[NoteType, int],
                     notes: list[PackNote], work_dir: Path | None = None, prefix: str = TEMP_PREFIX) -> bytes:
    """The collection.anki2 SQLite file for these notes (notes in study order).

    The scratch database lives in `work_dir` (the output folder) so that a killed build's
    leftovers are found and removed by the next one.
    """
    with tempfile.TemporaryDirectory(prefix=prefix, dir=work_dir) as tmp:
        db_path = os.path.join(tmp, "collection.anki2")
        conn = sqlite3.connect(db_path)
        try:
            _fill(conn, namespace, decks, notetypes, notes)
            conn.commit()
        finally:
            conn.close()
        with open(db_path, "rb") as f:
            return f.read()


def _fill(conn: sqlite3.Connection, namespace: str, decks: list[PackDeck],
          notetypes: dict[NoteType, int], notes: list[PackNote]) -> None:
    tables, indexes = _split_schema(APKG_SCHEMA)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.executescript(tables)
    conn.executescript(APKG_COL)
    first_deck = deck_id(namespace, decks[0].name)
    deck_json = {"1": json.loads(conn.execute("SELECT decks FROM col").fetchone()[0])["1"]}
    for deck in decks:
        did = deck_id(namespace, deck.name)
        entry = genanki.Deck(did, deck.name, deck.description).to_json()
        deck_json[str(did)] = entry
    models = {str(nt.id): nt.to_anki(mod, first_deck) for nt, mod in notetypes.items()}
    conn.execute("UPDATE col SET models = ?, decks = ?",
                 (json.dumps(models, sort_keys=True), json.dumps(deck_json, sort_keys=True)))

    note_rows, card_rows = [], []
    note_ids = _ids(n.mod for n in notes)
    card_mods = [n.mod for n in notes for _ in n.ords]
    card_ids = iter(_ids(card_mods))
    position = 0
    for nid, note in zip(note_ids, notes):
        sort_field = plain_text(note.fields[0])
        checksum = int(hashlib.sha1(sort_field.encode()).hexdigest()[:8], 16)
        tags = f" {' '.join(note.tags)} " if note.tags else ""
        note_rows.append((nid, note.guid, note.notetype.id, note.mod, -1, tags, "\x1f".join(note.fields),
                          sort_field, checksum, 0, ""))
        did = deck_id(namespace, note.deck)
        for ord_ in note.ords:
            position += 1
            card_rows.append((next(card_ids), nid, did, ord_, note.mod, -1, 0, 0, position,
                              0, 0, 0, 0, 0, 0, 0, 0, ""))
    conn.executemany("INSERT INTO notes VALUES (?,?,?,?,?,?,?,?,?,?,?)", note_rows)
    conn.executemany("INSERT INTO cards VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", card_rows)
    conn.executescript(indexes)


def _split_schema(schema: str) -> tuple[str, str]:
    statements = [s.strip() for s in schema.split(";") if s.strip()]
    tables = ";\n".join(s for s in statements if not s.upper().startswith("CREATE INDEX")) + ";"
    indexes = ";\n".join(s for s in statements if s.upper().startswith("CREATE INDEX")) + ";"
    return tables, indexes


def _ids(mods) -> list[int]:
    """Unique, increasing ids in Anki's style (milliseconds), from each row's `mod`.

    Rows are numbered from their own `mod`, so a note's id (its "Created" date in Anki) depends
    only on the lock, never on the clock.
    """
    out, last = [], 0
    for mod in mods:
        last = max(mod * 1000, last + 1)
        out.append(last)
    return out


def package_bytes(collection: bytes, media: dict[str, bytes]) -> bytes:
    """The .apkg zip: collection, media files numbered by sorted name, then the media map."""
    buffer = io.BytesIO()
    names = sorted(media)
    with zipfile.ZipFile(buffer, "w") as zf:
        _add(zf, "collection.anki2", collection)
        for index, name in enumerate(names):
            _add(zf, str(index), media[name])
        _add(zf, "media", json.dumps({str(i): n for i, n in enumerate(names)}).encode())
    return buffer.getvalue()


def _add(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.create_system = 3
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data, compresslevel=6)


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


def prepare(target: Path, data: bytes) -> Path:
    """Write `data` to a temporary file beside `target`, flushed to disk; `commit` renames it."""
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target), suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
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
