"""Rendered notes -> a deterministic .apkg, written atomically.

The collection is written directly with `executemany` into genanki's schema (genanki stamps one
timestamp on everything, but each note needs its own `mod`), and the zip gets fixed entry dates,
permissions and order, so the same notes and lock give the same bytes on any machine.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from neurodeck.apkg.deflate import PIECE, ParallelDeflate
from neurodeck.apkg.files import TEMP_PREFIX
from neurodeck.apkg.notetypes import CustomNoteType, NoteType, note_types, stable_id
from neurodeck.model import Note

AnyNoteType = NoteType | CustomNoteType
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_LEVEL = 1


@dataclass(frozen=True)
class PackDeck:
    name: str
    description: str  # HTML


def deck_id(namespace: str, name: str) -> int:
    return stable_id(namespace, "deck", name)


def write_package(out: BinaryIO, namespace: str, decks: list[PackDeck], notetypes: dict[AnyNoteType, int],
                  notes: list[Note], mods: list[int], media: dict[str, bytes], work_dir: Path | None = None,
                  prefix: str = TEMP_PREFIX) -> None:
    """Write the .apkg of these notes (in study order, each with its `mod`) to `out`; `notetypes`
    holds every type the notes use, with its `mod`."""
    own = [nt for nt in notetypes if isinstance(nt, CustomNoteType)]
    with Collection(namespace, work_dir, prefix, own) as collection:
        collection.add(notes, mods)
        collection.write(out, decks, notetypes, media)


class Collection:
    """The collection inside a package, filled a batch of notes at a time.

    A build adds each card file's notes as soon as they are rendered, so that inserting them
    overlaps rendering the rest; `write` adds the cards, decks and note types and zips it all.
    The same notes in the same order give the same bytes however they are batched: card rows
    wait for `write`, so each table's rows are inserted in one run.

    The scratch database lives in `work_dir` (the output folder) so that a killed build's
    leftovers are found and removed by the next one; it is streamed into the zip, never held
    in memory whole.
    """

    def __init__(self, namespace: str, work_dir: Path | None = None, prefix: str = TEMP_PREFIX,
                 notetypes: Iterable[CustomNoteType] = ()):
        from genanki.apkg_col import APKG_COL
        from genanki.apkg_schema import APKG_SCHEMA

        self.namespace = namespace
        self._model_ids = {kind: nt.id for kind, nt in note_types(namespace).items()}
        self._model_ids.update({nt.key: nt.id for nt in notetypes})
        self._last_note_id = 0
        self._cards: list[tuple[int, str, tuple[int, ...], int]] = []  # note id, deck, ords, mod
        tables, self._indexes = _split_schema(APKG_SCHEMA)
        self._tmp = tempfile.TemporaryDirectory(prefix=prefix, dir=work_dir)
        self._conn: sqlite3.Connection | None = None
        try:
            self._path = os.path.join(self._tmp.name, "collection.anki2")
            self._conn = sqlite3.connect(self._path)
            # 16 KiB pages instead of 4: fewer pages to split and fill, so the collection is
            # written a tenth faster and deflates smaller. SQLite (and so Anki) reads any size.
            self._conn.execute("PRAGMA page_size=16384")
            self._conn.execute("PRAGMA journal_mode=OFF")
            self._conn.execute("PRAGMA synchronous=OFF")
            self._conn.executescript(tables)
            self._conn.executescript(APKG_COL)
        except BaseException:
            self.close()
            raise

    def add(self, notes: Sequence[Note], mods: Sequence[int]) -> None:
        """Insert notes, each with its `mod`, after those already added."""
        note_ids = _ids(mods, self._last_note_id)
        if note_ids:
            self._last_note_id = note_ids[-1]
        model_ids = self._model_ids
        # Rows are generated as SQLite consumes them; constant columns are literals in the
        # statement, so fewer values are bound per row.
        rows = (
            (nid, n.guid, model_ids[n.type], mod, f" {' '.join(n.tags)} " if n.tags else "",
             "\x1f".join(n.fields), n.sort_field, n.checksum)
            for nid, mod, n in zip(note_ids, mods, notes)
        )
        self._open().executemany("INSERT INTO notes VALUES (?,?,?,?,-1,?,?,?,?,0,'')", rows)
        self._cards += zip(note_ids, [n.deck for n in notes], [n.ords for n in notes], mods)

    def write(self, out: BinaryIO, decks: list[PackDeck], notetypes: dict[AnyNoteType, int],
              media: dict[str, bytes]) -> None:
        """Finish the collection and write the .apkg to `out`: the collection, the media files
        numbered by sorted name, then the media map."""
        import genanki

        conn = self._open()
        deck_ids = {deck.name: deck_id(self.namespace, deck.name) for deck in decks}
        deck_json = {"1": json.loads(conn.execute("SELECT decks FROM col").fetchone()[0])["1"]}
        for deck in decks:
            deck_json[str(deck_ids[deck.name])] = genanki.Deck(
                deck_ids[deck.name], deck.name, deck.description).to_json()
        first_deck = deck_ids[decks[0].name]
        models = {str(nt.id): nt.to_anki(mod, first_deck) for nt, mod in notetypes.items()}
        conn.execute("UPDATE col SET models = ?, decks = ?",
                     (json.dumps(models, sort_keys=True), json.dumps(deck_json, sort_keys=True)))
        cards = [(nid, deck_ids[deck], ord_, mod) for nid, deck, ords, mod in self._cards for ord_ in ords]
        card_rows = (
            (cid, nid, did, ord_, mod, position)
            for position, (cid, (nid, did, ord_, mod)) in enumerate(zip(_ids(c[3] for c in cards), cards), start=1)
        )
        conn.executemany("INSERT INTO cards VALUES (?,?,?,?,?,-1,0,0,?,0,0,0,0,0,0,0,0,'')", card_rows)
        conn.executescript(self._indexes)
        conn.commit()
        conn.close()
        self._conn = None
        names = sorted(media)
        with zipfile.ZipFile(out, "w") as zf:
            with open(self._path, "rb") as db, zf.open(_entry("collection.anki2"), "w") as entry:
                # zipfile has no parameter for another compressor, but calls only compress() and
                # flush() on this attribute (test_package checks the stream is ours).
                entry._compressor = ParallelDeflate(_LEVEL)  # type: ignore[attr-defined]
                shutil.copyfileobj(db, entry, PIECE)
            for index, name in enumerate(names):
                zf.writestr(_entry(str(index)), media[name])
            zf.writestr(_entry("media"), json.dumps({str(i): n for i, n in enumerate(names)}).encode())

    def close(self) -> None:
        """Remove the scratch database (also when the build stopped halfway)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._tmp.cleanup()

    def __enter__(self) -> Collection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the package's collection is already written or closed")
        return self._conn


def _split_schema(schema: str) -> tuple[str, str]:
    statements = [s.strip() for s in schema.split(";") if s.strip()]
    tables = ";\n".join(s for s in statements if not s.upper().startswith("CREATE INDEX")) + ";"
    indexes = ";\n".join(s for s in statements if s.upper().startswith("CREATE INDEX")) + ";"
    return tables, indexes


def _ids(mods: Iterable[int], last: int = 0) -> list[int]:
    """Unique, increasing ids in Anki's style (milliseconds) above `last`, from each row's `mod`.

    Rows are numbered from their own `mod`, so a note's id (its "Created" date in Anki) depends
    only on the lock, never on the clock.
    """
    out: list[int] = []
    append = out.append
    for mod in mods:
        last = mod * 1000 if mod * 1000 > last else last + 1
        append(last)
    return out


def _entry(name: str) -> zipfile.ZipInfo:
    """A zip entry that is the same on every machine: fixed date, permissions and system."""
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.create_system = 3
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    # Deflate level 1: 3.5 times smaller than stored, for little time. (`compress_level` is
    # public from Python 3.13; before, only the private name exists.)
    setattr(info, "compress_level" if hasattr(zipfile.ZipInfo, "compress_level") else "_compresslevel", _LEVEL)
    return info
