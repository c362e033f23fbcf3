"""`neurodeck verify`: what a student's Anki makes of a package, checked with the real engine.

Each package is imported into a fresh collection with the import dialog's default options; every
card is rendered (question and answer); Check Database and Check Media run. A problem is anything
Anki refuses, changes, repairs or reports: a note stored other than as written (fields, tags,
cards), an empty card, a repair by Check Database, a missing or unused media file. Needs the
official `anki` package (`pip install 'neurodeck[verify]'`).
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from neurodeck.apkg.reader import PackageError, check_package, open_collection
from neurodeck.commands.upgrade_engine import _import
from neurodeck.model import Location, Problem

if TYPE_CHECKING:  # the engine is imported only where it runs
    from anki.collection import Collection
    from anki.notes import Note

_CHECK_DATABASE_OK = "Database rebuilt and optimized."
# What Check Database may repair or rewrite: the rows it looks at.
_NOTES = "select id, guid, mid, mod, tags, flds, sfld, csum from notes order by id"
_CARDS = "select id, nid, did, ord, type, queue, due from cards order by id"
_DECKS = "select id, name from decks order by id"


def verify(packages: list[Path]) -> list[Problem]:
    """Every problem Anki finds in each package (empty when all import cleanly)."""
    try:
        from anki.collection import Collection
    except ImportError:
        where = Location(str(packages[0])) if packages else Location("neurodeck")
        return [Problem(where, "verify needs the official Anki engine",
                        "install it with: pip install 'neurodeck[verify]'")]
    problems: list[Problem] = []
    for path in packages:
        found = check_package(path, str(path))
        if not found:
            with tempfile.TemporaryDirectory(prefix="neurodeck-verify-") as tmp:
                col = Collection(str(Path(tmp) / "collection.anki2"))
                try:
                    found = _verify(col, path)
                except Exception as exc:  # the engine refused the package: report, never a traceback
                    found = [Problem(Location(str(path)), f"Anki refuses the package: {exc}")]
                finally:
                    col.close()
        problems += found
    return problems


def _verify(col: Collection, path: Path) -> list[Problem]:
    where = Location(str(path))
    problems: list[Problem] = []

    def report(message: str, card_id: int | None = None, note: Note | None = None) -> None:
        about = f"card {card_id}" if card_id is not None else ""
        if note is not None:
            about += f"{' of ' if about else ''}note '{_name(note)}'"
        problems.append(Problem(where, f"{about}: {message}" if about else message))

    try:
        with open_collection(path) as db:
            written = {n.guid: ("\x1f".join(n.fields), " ".join(n.tags)) for n in db.notes()}
            written_cards = set(db.card_ords())
            written_decks = {name for deck_id, name in db.decks().items() if deck_id != 1}
    except PackageError as exc:
        return [Problem(where, str(exc), exc.hint)]
    log = _import(col, str(path))
    for label, notes in (("conflicts with a note type of the collection", log.conflicting),
                         ("has no note type Anki accepts", log.missing_notetype),
                         ("refers to a deck Anki cannot use", log.missing_deck),
                         ("has an empty first field", log.empty_first_field)):
        for note in notes:
            report(label, note=note)
    col.models._clear_cache()  # the importer does not refresh the Python-side cache

    stored_decks = {deck.name for deck in col.decks.all_names_and_ids()}
    for name in sorted(written_decks - stored_decks):
        problems.append(Problem(where, f"deck {name!r}: Anki stores it under another name (it normalises deck "
                                       "names and merges names that differ only in case)"))
    imported_cards = set()
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        imported_cards |= {(note.guid, card.ord) for card in note.cards()}
        if note.guid not in written:
            report("is not in the package", note=note)
            continue
        flds, tags = written[note.guid]
        if "\x1f".join(note.fields) != flds:
            report("Anki stores its fields other than written (it removes control characters "
                   "and normalises Unicode to NFC)", note=note)
        if sorted(note.tags) != sorted(tags.split()):
            report(f"Anki stores its tags as {' '.join(note.tags)!r}, the package has {tags.strip()!r}", note=note)
        for card in note.cards():
            if (note.guid, card.ord) not in written_cards:
                report(f"Anki made card {card.ord + 1}, which the package does not have", card.id, note)
    for guid, ord_ in sorted(written_cards - imported_cards):
        problems.append(Problem(where, f"note {guid}: card {ord_ + 1} of the package was not imported"))

    for cid in col.find_cards(""):
        card = col.get_card(cid)
        try:
            output = card.render_output(reload=True)
        except Exception as exc:
            report(f"cannot be rendered: {exc}", cid, card.note())
            continue
        if not _visible(output.question_text):
            report("renders an empty question", cid, card.note())
        if not _visible(output.answer_text):
            report("renders an empty answer", cid, card.note())
    empty = col.get_empty_cards()
    for note in empty.notes:
        for cid in note.card_ids:
            report("Anki lists it under Empty Cards", cid, col.get_note(note.note_id))

    engine_db = col.db
    assert engine_db is not None  # an open collection
    before = [engine_db.all(query) for query in (_NOTES, _CARDS, _DECKS)]
    message, ok = col.fix_integrity()
    if not ok or message != _CHECK_DATABASE_OK:
        problems.append(Problem(where, f"Check Database: {message}"))
    after = [engine_db.all(query) for query in (_NOTES, _CARDS, _DECKS)]
    for label, rows_before, rows_after in zip(("note", "card", "deck"), before, after):
        old, new = {row[0]: row for row in rows_before}, {row[0]: row for row in rows_after}
        for row_id in sorted(old.keys() | new.keys()):
            if old.get(row_id) != new.get(row_id):
                change = "added" if row_id not in old else "removed" if row_id not in new else "changed"
                problems.append(Problem(where, f"{label} {row_id}: Check Database {change} it"))

    media = col.media.check()
    for name in media.missing:
        problems.append(Problem(where, f"media file '{name}' is used by a card but not in the package"))
    for name in media.unused:
        problems.append(Problem(where, f"media file '{name}' is in the package but no card uses it"))
    if media.have_trash:
        problems.append(Problem(where, "Check Media moved files to the trash"))
    return problems


def _name(note: Note) -> str:
    """A note's name in messages: its Id field (neurodeck's last field), else its first field."""
    return (note.fields[-1] or note.fields[0])[:80]


_MARKUP = re.compile(r"<[^>]*>|\s|&nbsp;")


def _visible(html: str) -> bool:
    return "<img" in html or bool(_MARKUP.sub("", html))
