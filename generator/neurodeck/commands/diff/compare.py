"""Two snapshots of a deck compared: notes added, changed (word by word), removed, retired and
moved, note type changes, and warnings for what Anki will not carry over on import.

Anki matches notes by GUID on import, updates their fields and tags, and never deletes a note nor
moves an existing card; a note type whose fields or templates changed is imported as a copy.
Those are the warnings given here. Everything here is pure.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable

from neurodeck.commands.diff.model import (
    DeckDiff,
    DiffWarning,
    FieldChange,
    Move,
    NoteChange,
    NoteInfo,
    NoteRef,
    NoteTypeChange,
    NoteTypeInfo,
    Segment,
    Snapshot,
    field_text,
    plural,
)
from neurodeck.model import RETIRED_TAG


def is_retired(tags: Iterable[str]) -> bool:
    """Whether a note's tags mark it retired (neurodeck tags it <root>::retired)."""
    return any(t == RETIRED_TAG or t.endswith("::" + RETIRED_TAG) for t in tags)


def diff_snapshots(old: Snapshot, new: Snapshot) -> DeckDiff:
    """Everything that differs between two releases of one deck, and the warnings it calls for."""
    result = DeckDiff(key=new.key or old.key, deck=new.deck or old.deck, old=old.label, new=new.label)
    for guid, note in new.notes.items():
        before = old.notes.get(guid)
        if before is None:
            result.added.append(NoteRef(note.name, guid, list(note.decks)))
        elif is_retired(note.tags) and not is_retired(before.tags):
            result.retired.append(NoteRef(note.name, guid, list(note.decks)))
        else:
            change = _note_change(before, note, old.notetypes, new.notetypes)
            if change is not None:
                result.changed.append(change)
            if before.decks != note.decks:
                result.moved.append(Move(note.name, guid, list(before.decks), list(note.decks)))
            if change is None and before.decks == note.decks:
                result.unchanged += 1
    result.removed = [NoteRef(n.name, g, list(n.decks)) for g, n in old.notes.items() if g not in new.notes]
    for items in (result.added, result.changed, result.removed, result.retired, result.moved):
        items.sort(key=lambda item: (item.name, item.guid))
    result.notetypes = _notetype_changes(old.notetypes, new.notetypes)
    result.warnings = _warnings(result)
    return result


def diff_sides(old: dict[str, Snapshot], new: dict[str, Snapshot]) -> list[DeckDiff]:
    """Pair the decks of two sides and diff each pair.

    One deck on each side is always a pair (v1.apkg against v2.apkg); otherwise decks pair by
    output file name, and a deck on one side only is diffed against nothing.
    """
    if len(old) == 1 and len(new) == 1:
        return [diff_snapshots(next(iter(old.values())), next(iter(new.values())))]
    diffs = []
    for key in sorted(set(old) | set(new)):
        present = old.get(key) or new[key]
        nothing = Snapshot(label="(absent)", key=key, deck=present.deck)
        diffs.append(diff_snapshots(old.get(key, nothing), new.get(key, nothing)))
    return diffs


def _note_change(old: NoteInfo, new: NoteInfo, old_types: dict[int, NoteTypeInfo],
                 new_types: dict[int, NoteTypeInfo]) -> NoteChange | None:
    change = NoteChange(new.name, new.guid, list(new.decks))
    new_type = new_types.get(new.notetype)
    names = [n for n, _ in new_type.fields] if new_type else []
    for i in range(max(len(old.fields), len(new.fields))):
        before = old.fields[i] if i < len(old.fields) else ""
        after = new.fields[i] if i < len(new.fields) else ""
        if before != after:
            name = names[i] if i < len(names) else f"field {i + 1}"
            a, b = field_text(before), field_text(after)
            change.fields.append(FieldChange(name, a, b, word_diff(a, b)))
    change.tags_added = sorted(set(new.tags) - set(old.tags))
    change.tags_removed = sorted(set(old.tags) - set(new.tags))
    if old.notetype != new.notetype:
        change.notetype = [_type_name(old.notetype, old_types), _type_name(new.notetype, new_types)]
    if change.fields or change.tags_added or change.tags_removed or change.notetype:
        return change
    return None


def _type_name(mid: int, types: dict[int, NoteTypeInfo]) -> str:
    return types[mid].name if mid in types else str(mid)


def _notetype_changes(old: dict[int, NoteTypeInfo], new: dict[int, NoteTypeInfo]) -> list[NoteTypeChange]:
    changes = []
    for mid in sorted(set(old) | set(new), key=lambda m: (new.get(m) or old[m]).name):
        a, b = old.get(mid), new.get(mid)
        if a is None:
            assert b is not None  # mid is in old or new
            changes.append(NoteTypeChange(mid, b.name, "added"))
        elif b is None:
            changes.append(NoteTypeChange(mid, a.name, "removed"))
        elif a.schema() != b.schema():
            changes.append(NoteTypeChange(mid, b.name, "schema", _schema_details(a, b)))
        else:
            details = _in_place_details(a, b)
            if details:
                changes.append(NoteTypeChange(mid, b.name, "in-place", details))
    return changes


def _schema_details(old: NoteTypeInfo, new: NoteTypeInfo) -> list[str]:
    details = (_list_changes("field", old.fields, new.fields)
               + _list_changes("template", old.templates, new.templates))
    if old.cloze != new.cloze:
        details.append("changed between cloze and standard")
    return details or ["fields or templates changed"]


def _list_changes(what: str, old: tuple[tuple[str, int | None], ...],
                  new: tuple[tuple[str, int | None], ...]) -> list[str]:
    """Field or template changes in words: renamed, removed, added, id changed, reordered."""
    out = []
    old_by_id = {i: n for n, i in old if i is not None}
    new_by_id = {i: n for n, i in new if i is not None}
    renamed = {old_by_id[i]: new_by_id[i] for i in old_by_id.keys() & new_by_id.keys()
               if old_by_id[i] != new_by_id[i]}
    old_names, new_names = [n for n, _ in old], [n for n, _ in new]
    gone = [n for n in old_names if n not in new_names and n not in renamed]
    came = [n for n in new_names if n not in old_names and n not in renamed.values()]
    # Ids derived from names (as neurodeck's are) change with the name: a name replaced at the
    # same position reads better as a rename.
    for name in list(gone):
        position = old_names.index(name)
        if position < len(new_names) and new_names[position] in came:
            renamed[name] = new_names[position]
            gone.remove(name)
            came.remove(new_names[position])
    out += [f"{what} '{a}' renamed to '{b}'" for a, b in sorted(renamed.items())]
    out += [f"{what} '{n}' removed" for n in gone]
    out += [f"{what} '{n}' added" for n in came]
    old_ids, new_ids = dict(old), dict(new)
    out += [f"{what} '{n}' has a new id" for n in old_names
            if n in new_ids and old_ids[n] != new_ids[n] and n not in renamed]
    if not out and old_names != new_names:
        out.append(f"{what}s reordered: {', '.join(new_names)}")
    return out


def _in_place_details(old: NoteTypeInfo, new: NoteTypeInfo) -> list[str]:
    details = []
    if old.name != new.name:
        details.append(f"renamed from '{old.name}'")
    if old.css != new.css:
        added, removed = _line_counts(old.css, new.css)
        details.append(f"CSS changed (+{added} -{removed} lines)")
    old_texts = {name: (front, back) for name, front, back in old.texts}
    for name, front, back in new.texts:
        if name in old_texts and old_texts[name] != (front, back):
            sides = [s for s, a, b in (("front", old_texts[name][0], front), ("back", old_texts[name][1], back))
                     if a != b]
            details.append(f"template '{name}': {' and '.join(sides)} changed")
    return details


def _line_counts(old: str, new: str) -> tuple[int, int]:
    ops = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False).get_opcodes()
    return (sum(j2 - j1 for tag, _, _, j1, j2 in ops if tag in ("insert", "replace")),
            sum(i2 - i1 for tag, i1, i2, _, _ in ops if tag in ("delete", "replace")))


def _warnings(d: DeckDiff) -> list[DiffWarning]:
    out = []
    if d.removed:
        out.append(DiffWarning(
            "removed",
            f"{plural(len(d.removed), 'removed note')} will stay in students' collections: Anki never deletes "
            "notes on import. Retire a card instead ('retired: true' with a 'why') so students learn it is gone.",
            [r.name for r in d.removed]))
    if d.moved:
        out.append(DiffWarning(
            "moved",
            f"{plural(len(d.moved), 'moved note')}: students who already have them keep the cards in the old "
            "subdeck; Anki updates a note's fields and tags on import but never moves an existing card.",
            [m.name for m in d.moved]))
    for change in d.notetypes:
        if change.kind == "schema":
            out.append(DiffWarning(
                "fork",
                f"note type '{change.name}': its fields or templates changed, so Anki will import it as a "
                "copy (a fork) and leave students' existing notes of this type un-updated (conflicting).",
                change.details))
    retyped = [c.name for c in d.changed if c.notetype]
    if retyped:
        out.append(DiffWarning(
            "notetype",
            f"{plural(len(retyped), 'note')} changed note type: Anki cannot change a note's type on import, "
            "so students keep the old note unchanged. Give such a card a new id.",
            retyped))
    return out


def word_diff(old: str, new: str) -> list[Segment]:
    """Word-level differences of two plain texts, as runs of unchanged, deleted and inserted words."""
    a, b = old.split(), new.split()
    segments = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            segments.append(Segment("=", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            segments.append(Segment("-", " ".join(a[i1:i2])))
        if j2 > j1:
            segments.append(Segment("+", " ".join(b[j1:j2])))
    return segments
