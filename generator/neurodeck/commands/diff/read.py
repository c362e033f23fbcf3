"""An .apkg read into a Snapshot through the hardened package reader (apkg/reader.py): bounded,
read-only, every collection format Anki writes; `neurodeck diff` needs no Anki engine."""
from __future__ import annotations

from pathlib import Path

from neurodeck.apkg.reader import PackageContents
from neurodeck.apkg.reader import read_package as read_contents
from neurodeck.commands.diff.model import NoteInfo, NoteTypeInfo, Snapshot, field_text
from neurodeck.model import Problem


def read_package(path: Path, label: str | None = None) -> tuple[Snapshot | None, list[Problem]]:
    """A package's notes, cards, note types and decks, or a Problem located at the package."""
    contents, problems = read_contents(path, label or str(path))
    if contents is None:
        return None, problems
    return snapshot(contents, label or path.name, path.name), []


def snapshot(contents: PackageContents, label: str, key: str) -> Snapshot:
    """What diff compares, from what the reader found."""
    deck_names = contents.decks
    decks_of: dict[int, set[str]] = {}
    for nid, did in contents.cards:
        decks_of.setdefault(nid, set()).add(deck_names.get(did, f"deck {did}"))
    result = Snapshot(label=label, key=key, deck="")
    for note in contents.notes:
        name = field_text(note.fields[-1]) or field_text(note.fields[0])
        result.notes[note.guid] = NoteInfo(note.guid, name[:80] or note.guid, note.notetype, note.fields,
                                           tuple(sorted(note.tags)), tuple(sorted(decks_of.get(note.id, ()))))
    result.notetypes = {mid: NoteTypeInfo(nt.id, nt.name, nt.fields, nt.templates, nt.cloze, nt.css, nt.texts)
                        for mid, nt in contents.notetypes.items()}
    used = {d for n in result.notes.values() for d in n.decks}
    result.deck = ", ".join(sorted({d.split("::")[0] for d in used})) or ", ".join(
        sorted({n.split("::")[0] for i, n in deck_names.items() if i != 1}))
    return result
