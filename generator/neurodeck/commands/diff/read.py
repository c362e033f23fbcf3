"""An .apkg read into a Snapshot, with zipfile and sqlite3 only: `neurodeck diff` needs no Anki engine."""
from __future__ import annotations

import json
import sqlite3
import tempfile
import zipfile
from pathlib import Path

from neurodeck.commands.diff.model import NoteInfo, NoteTypeInfo, Snapshot, plain_text
from neurodeck.model import Location, Problem


def read_package(path: Path, label: str | None = None) -> tuple[Snapshot | None, list[Problem]]:
    """Read a package's notes, cards, note types and decks (schema-11 collections)."""
    where = Location(label or str(path))
    try:
        with zipfile.ZipFile(path) as zf, tempfile.TemporaryDirectory(prefix="neurodeck-diff-") as tmp:
            names = set(zf.namelist())
            # Anki 2.1.50+ exports without "support older versions" hold a compressed collection in a
            # newer schema, and a dummy collection.anki2 that only says "please update".
            if "collection.anki21b" in names:
                return None, [Problem(where, "this package uses Anki's newer compressed format",
                                      "export it again from Anki with 'Support older Anki versions' ticked")]
            member = next((n for n in ("collection.anki21", "collection.anki2") if n in names), None)
            if member is None:
                return None, [Problem(where, "not an Anki package (no collection.anki2 inside)")]
            db = Path(tmp) / "collection.db"
            with zf.open(member) as source, open(db, "wb") as target:
                while chunk := source.read(1 << 20):
                    target.write(chunk)
            return _read_collection(db, label or path.name, path.name), []
    except (OSError, zipfile.BadZipFile, sqlite3.Error, ValueError, KeyError, TypeError, AttributeError,
            IndexError) as exc:
        return None, [Problem(where, f"not a readable Anki package: {exc}")]


def _read_collection(db: Path, label: str, key: str) -> Snapshot:
    conn = sqlite3.connect(db)
    try:
        models_json, decks_json = conn.execute("select models, decks from col").fetchone()
        notes = conn.execute("select id, guid, mid, flds, tags from notes order by id").fetchall()
        cards = conn.execute("select nid, did from cards").fetchall()
    finally:
        conn.close()
    deck_names = {int(k): v["name"] for k, v in json.loads(decks_json).items()}
    notetypes = {int(k): _notetype(v) for k, v in json.loads(models_json).items()}
    decks_of: dict[int, set[str]] = {}
    for nid, did in cards:
        decks_of.setdefault(nid, set()).add(deck_names.get(did, f"deck {did}"))
    snapshot = Snapshot(label=label, key=key, deck="")
    for nid, guid, mid, flds, tags in notes:
        fields = tuple(flds.split("\x1f"))
        name = plain_text(fields[-1]) or plain_text(fields[0])
        snapshot.notes[guid] = NoteInfo(guid, name[:80] or guid, mid, fields, tuple(sorted(tags.split())),
                                        tuple(sorted(decks_of.get(nid, ()))))
    snapshot.notetypes = notetypes
    used = {d for n in snapshot.notes.values() for d in n.decks}
    snapshot.deck = ", ".join(sorted({d.split("::")[0] for d in used})) or ", ".join(
        sorted({n.split("::")[0] for i, n in deck_names.items() if i != 1}))
    return snapshot


def _notetype(model: dict) -> NoteTypeInfo:
    return NoteTypeInfo(
        id=int(model["id"]), name=str(model["name"]),
        fields=tuple((str(f["name"]), f.get("id")) for f in sorted(model["flds"], key=lambda f: f["ord"])),
        templates=tuple((str(t["name"]), t.get("id")) for t in sorted(model["tmpls"], key=lambda t: t["ord"])),
        cloze=model.get("type") == 1, css=str(model.get("css", "")),
        texts=tuple((str(t["name"]), str(t.get("qfmt", "")), str(t.get("afmt", ""))) for t in model["tmpls"]),
    )
