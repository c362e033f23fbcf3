"""The lower bound for writing a package: the same rows, inserted with `executemany` in one
transaction into genanki's schema, indexes after the inserts, then the same zip (deflate level 1).
Nothing else: no JSON for note types or decks, no id policy, no atomic write.

    from lower_bound import write_rows
"""
from __future__ import annotations

import io
import os
import sqlite3
import tempfile
import zipfile

from genanki.apkg_schema import APKG_SCHEMA


def rows_of(compiled, mods_by_id: dict[str, int]) -> tuple[list[tuple], list[tuple]]:
    """The notes and cards rows neurodeck writes for a compiled deck, precomputed."""
    notes, cards = [], []
    for i, n in enumerate(compiled.notes):
        mod = mods_by_id[n.id]
        nid = 1_000_000_000 + i
        notes.append((nid, n.guid, 1, mod, -1, " ".join(n.tags), "\x1f".join(n.fields), n.sort_field,
                      n.checksum, 0, ""))
        for ord_ in n.ords:
            cards.append((len(cards) + 1, nid, 1, ord_, mod, -1, 0, 0, len(cards), 0, 0, 0, 0, 0, 0, 0, 0, ""))
    return notes, cards


def write_rows(notes: list[tuple], cards: list[tuple]) -> bytes:
    statements = [s.strip() for s in APKG_SCHEMA.split(";") if s.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "c.anki2")
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.executescript(";".join(s for s in statements if not s.startswith("CREATE INDEX")) + ";")
        conn.executemany("INSERT INTO notes VALUES (?,?,?,?,?,?,?,?,?,?,?)", notes)
        conn.executemany("INSERT INTO cards VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", cards)
        conn.executescript(";".join(s for s in statements if s.startswith("CREATE INDEX")) + ";")
        conn.commit()
        conn.close()
        with open(path, "rb") as f:
            data = f.read()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("collection.anki2", data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
        zf.writestr("media", b"{}", compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    return buffer.getvalue()
