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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable

from .deflate import PIECE, ParallelDeflate
from .notes import Note
from .notetypes import NoteType, stable_id

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks
    fcntl = None

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_LEVEL = 1
TEMP_PREFIX = ".neurodeck-"


@dataclass(frozen=True)
class PackDeck:
    name: str
    description: str  # HTML


def deck_id(namespace: str, name: str) -> int:
    return stable_id(namespace, "deck", name)


def write_package(out: BinaryIO, namespace: str, decks: list[PackDeck], notetypes: dict[NoteType, int],
                  notes: list[Note], mods: list[int], media: dict[str, bytes], work_dir: Path | None = None,
                  prefix: str = TEMP_PREFIX) -> None:
    """Write the .apkg to `out`: the collection of these notes (in study order, each with its
    `mod`), the media files numbered by sorted name, then the media map.

    The scratch database lives in `work_dir` (the output folder) so that a killed build's
    leftovers are found and removed by the next one; it is streamed into the zip, never held
    in memory whole.
    """
    with tempfile.TemporaryDirectory(prefix=prefix, dir=work_dir) as tmp:
        db_path = os.path.join(tmp, "collection.anki2")
        conn = sqlite3.connect(db_path)
        try:
            _fill(conn, namespace, decks, notetypes, notes, mods)
            conn.commit()
        finally:
            conn.close()
        names = sorted(media)
        with zipfile.ZipFile(out, "w") as zf:
            with open(db_path, "rb") as db, zf.open(_entry("collection.anki2"), "w") as entry:
                # zipfile has no parameter for another compressor, but calls only compress() and
                # flush() on this attribute (test_package checks the stream is ours).
                entry._compressor = ParallelDeflate(_LEVEL)
                shutil.copyfileobj(db, entry, PIECE)
            for index, name in enumerate(names):
                zf.writestr(_entry(str(index)), media[name])
            zf.writestr(_entry("media"), json.dumps({str(i): n for i, n in enumerate(names)}).encode())


def _fill(conn: sqlite3.Connection, namespace: str, decks: list[PackDeck],
          notetypes: dict[NoteType, int], notes: list[Note], mods: list[int]) -> None:
    import genanki
    from genanki.apkg_col import APKG_COL
    from genanki.apkg_schema import APKG_SCHEMA

    tables, indexes = _split_schema(APKG_SCHEMA)
    # 16 KiB pages instead of 4: fewer pages to split and fill, so the collection is written
    # a tenth faster and deflates smaller. SQLite (and so Anki) reads any page size.
    conn.execute("PRAGMA page_size=16384")
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.executescript(tables)
    conn.executescript(APKG_COL)
    deck_ids = {deck.name: deck_id(namespace, deck.name) for deck in decks}
    deck_json = {"1": json.loads(conn.execute("SELECT decks FROM col").fetchone()[0])["1"]}
    for deck in decks:
        deck_json[str(deck_ids[deck.name])] = genanki.Deck(deck_ids[deck.name], deck.name, deck.description).to_json()
    first_deck = deck_ids[decks[0].name]
    models = {str(nt.id): nt.to_anki(mod, first_deck) for nt, mod in notetypes.items()}
    model_ids = {nt.kind: nt.id for nt in notetypes}
    conn.execute("UPDATE col SET models = ?, decks = ?",
                 (json.dumps(models, sort_keys=True), json.dumps(deck_json, sort_keys=True)))

    # Rows are generated as SQLite consumes them: a large deck's rows never sit in memory at once.
    note_ids = _ids(mods)
    # Constant columns are written into the statements: fewer values to bind per row.
    note_rows = (
        (nid, n.guid, model_ids[n.type], mod, f" {' '.join(n.tags)} " if n.tags else "",
         "\x1f".join(n.fields), n.sort_field, n.checksum)
        for nid, mod, n in zip(note_ids, mods, notes)
    )
    conn.executemany("INSERT INTO notes VALUES (?,?,?,?,-1,?,?,?,?,0,'')", note_rows)
    cards = [(nid, deck_ids[n.deck], ord_, mod) for nid, mod, n in zip(note_ids, mods, notes) for ord_ in n.ords]
    card_rows = (
        (cid, nid, did, ord_, mod, position)
        for position, (cid, (nid, did, ord_, mod)) in enumerate(zip(_ids(c[3] for c in cards), cards), start=1)
    )
    conn.executemany("INSERT INTO cards VALUES (?,?,?,?,?,-1,0,0,?,0,0,0,0,0,0,0,0,'')", card_rows)
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
    if hasattr(zipfile.ZipInfo, "compress_level"):
        info.compress_level = _LEVEL
    else:
        info._compresslevel = _LEVEL
    return info


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
