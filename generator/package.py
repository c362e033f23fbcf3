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
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import genanki
from genanki.apkg_col import APKG_COL
from genanki.apkg_schema import APKG_SCHEMA

from .notetypes import NoteType, stable_id
from .render import plain_text

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
                     notes: list[PackNote]) -> bytes:
    """The collection.anki2 SQLite file for these notes (notes in study order)."""
    with tempfile.TemporaryDirectory(prefix=TEMP_PREFIX) as tmp:
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


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and rename, so a reader or a crash never
    sees a partial file and a failure leaves the previous file as it was."""
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
