"""A released note type's schema is frozen: what Anki compares on import must stay as shipped.

Anki (rslib's import, `equal_schema`) keeps a package's note type as the student's only when its
id is the same and its fields and templates match position by position: by id since 23.10, by
name before (2.1.66 hashes the names, `schema_hash`). Otherwise it adds a copy of the note type
("Name+") and logs every note of it as conflicting, in this release and every later one: the
notes are never updated again. So ids and names are both frozen; template text and CSS are not
compared, and update in place.
"""
from __future__ import annotations

from neurodeck.lockfile import Lock
from neurodeck.model import Location, Problem
from neurodeck.source.notetypes import DeclaredType

_CONSEQUENCE = ("students who have the release would get a copy of the note type ('{name}+') and Anki would "
                "report every note of it as conflicting, never updating it again")


def check_frozen(declared: list[DeclaredType], lock: Lock | None) -> list[Problem]:
    """One problem per released note type whose schema differs from the one it shipped with."""
    if lock is None:
        return []
    problems = []
    for d in declared:
        entry = lock.notetypes.get(d.notetype.key)
        if entry is None or entry.frozen is None:
            continue
        change = _first_change(entry.frozen, d)
        if change is not None:
            where, what = change
            name = d.notetype.name
            problems.append(Problem(
                where, f"note type '{name}' was released, and {what}: "
                + _CONSEQUENCE.format(name=name),
                "keep its released fields and templates, in their order (template text and CSS may "
                "change); for a different schema, declare a new note type (a new file with its own name) and "
                "give the cards that use it new ids, retiring the old ones"))
    return problems


def _first_change(frozen: dict, d: DeclaredType) -> tuple[Location, str] | None:
    """Where the declaration first departs from the released schema, and how; None if it matches."""
    nt = d.notetype
    if nt.id != frozen["id"]:
        return (d.id or d.name, f"its id changed from {frozen['id']} to {nt.id}"
                + ("" if d.id is not None else f" (ids derive from the name: keep it with `id: {frozen['id']}`)"))
    if nt.kind != frozen["kind"]:
        return d.kind, f"its kind changed from {frozen['kind']} to {nt.kind}"
    for part, now, locations, id_locations in (
            ("field", [[f.name, f.id] for f in nt.field_specs], d.fields, d.field_ids),
            ("template", [[t.name, t.id] for t in nt.templates], d.templates, d.template_ids)):
        found = _list_change(part, frozen[f"{part}s"], now)
        if found is not None:
            index, what = found
            renamed_in_place = " (Anki before 23.10 matches" in what  # the name changed, not the id
            where = ((locations[index] if renamed_in_place else id_locations[index] or locations[index])
                     if index < len(locations) else d.name)
            return where, what
    return None


def _list_change(part: str, before: list[list], now: list[list]) -> tuple[int, str] | None:
    """How a list of [name, id] pairs changed, as Anki compares them (position by position, by id
    or, before 23.10, by name)."""
    if [i for _, i in before] == [i for _, i in now]:
        for index, ((old, _), (new, _)) in enumerate(zip(before, now)):
            if old != new:  # same id: today's Anki updates in place, but 2.1.66 and older copy the type
                return index, (f"its {part} '{old}' was renamed '{new}' (Anki before 23.10 matches {part}s "
                               "by name)")
        return None
    old_ids = {i: n for n, i in before}
    new_ids = {i: n for n, i in now}
    names_before = ", ".join(n for n, _ in before)
    names_now = {n for n, _ in now}
    for index, (name, pid) in enumerate(now):
        if pid not in old_ids:
            if len(now) == len(before) and before[index][1] not in new_ids and before[index][0] not in names_now:
                return index, (f"its {part} '{before[index][0]}' was renamed '{name}', which gives it a new id "
                               f"(ids derive from the name: keep the id with `id: {before[index][1]}`)")
            return index, f"a {part} '{name}' was added (it shipped with {names_before})"
    removed = [n for n, i in before if i not in new_ids]
    if removed:
        index = next(k for k, (_, i) in enumerate(before) if i not in new_ids)
        return min(index, len(now)), f"its {part} '{removed[0]}' was removed (it shipped with {names_before})"
    index = next(k for k, (a, b) in enumerate(zip(before, now)) if a[1] != b[1])
    return index, f"its {part}s were reordered (it shipped with {names_before})"
