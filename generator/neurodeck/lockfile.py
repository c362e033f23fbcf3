"""Identity across releases: note GUIDs, the lock file and the policy for `mod` times.

Anki updates a note on import only when the package's `mod` is strictly newer than the one in
the student's collection, so every note keeps the `mod` it was given until its content changes.
The lock remembers those times between builds.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from json.encoder import encode_basestring  # what json.dumps(str) runs
from json.encoder import encode_basestring_ascii as _ascii
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from neurodeck.model import Location, Problem

LOCK_FORMAT = 1


_BASE91 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"


def note_guid(namespace: str, card_id: str) -> str:
    """The note's GUID: genanki's `guid_for(namespace, card_id)`, computed without importing
    genanki (a test checks they agree). Never change it: every student's cards would duplicate."""
    value = int.from_bytes(hashlib.sha256(f"{namespace}__{card_id}".encode()).digest()[:8], "big")
    pairs = []  # two base-91 digits at a time: half the divisions of genanki's loop
    while value >= 8281:
        value, pair = divmod(value, 8281)
        pairs.append(_BASE91_PAIRS[pair])
    if value:
        pairs.append(_BASE91_PAIRS[value] if value >= 91 else _BASE91[value])
    return "".join(reversed(pairs))


_BASE91_PAIRS = [high + low for high in _BASE91 for low in _BASE91]


def content_hash(parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


_quote = encode_basestring  # json's own string encoder (C), as json.dumps(ensure_ascii=False) uses it


def note_hash(kind: str, fields: tuple[str, ...], tags: tuple[str, ...], media: tuple[str, ...]) -> str:
    """`content_hash([kind, fields, tags, media])`, spelled out: a large deck hashes tens of
    thousands of notes, and a JSON encoder per note costs more than the hashing (a test checks
    both agree)."""
    text = (f"[{_quote(kind)}, [{', '.join(map(_quote, fields))}], [{', '.join(map(_quote, tags))}], "
            f"[{', '.join(map(_quote, media))}]]")
    return hashlib.sha256(text.encode()).hexdigest()


class Entry(NamedTuple):
    """One note in the lock (a named tuple: a large deck's lock holds tens of thousands)."""

    hash: str
    mod: int
    type: str
    guid: str | None = None  # the note's GUID when given by the card (adopted notes), not made from its id


@dataclass(frozen=True)
class NoteTypeEntry:
    """A note type in the lock: its content hash, `mod` and schema hash; for a deck's own type
    that a release shipped, also the schema it shipped with (`frozen`: kind, id, fields and
    templates as [name, id] in order), which no later build may change (checks/frozen_types.py)."""

    hash: str
    mod: int
    schema: str
    frozen: dict | None = None


@dataclass
class Lock:
    """What was built and released: per card id its content hash, note type and `mod`.

    A card id is a draft until a release ships it: drafts may be renamed or deleted freely.
    `released` holds every id some release shipped (an adopted deck's notes belong here too);
    `removed` those of them a later release no longer shipped, which may never come back."""

    namespace: str
    notes: dict[str, Entry] = field(default_factory=dict)
    notetypes: dict[str, NoteTypeEntry] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    release: dict[str, str] | None = None  # {"version": ..., "date": "YYYY-MM-DD"} of the last release
    released: set[str] = field(default_factory=set)

    def gone(self, present: set[str]) -> list[str]:
        """Released ids missing from `present` that no release has dropped yet, sorted."""
        return sorted(self.released - present - set(self.removed))

    def dumps(self) -> str:
        """JSON with sorted keys and one note per line, so it diffs and merges well."""
        def block(lines: list[str]) -> str:
            return "{\n" + ",\n".join(lines) + ("\n  }" if lines else "}")

        # Hashes are hex and types are slugs; only ids need JSON escaping.
        notes = [f'    {_ascii(k)}: {{' + (f'"guid": {_ascii(guid)}, ' if guid is not None else "")
                 + f'"hash": "{digest}", "mod": {mod}, "type": {_ascii(kind)}}}'
                 for k, (digest, mod, kind, guid) in sorted(self.notes.items())]
        notetypes = [f"    {json.dumps(k)}: {json.dumps(_present(vars(v)), sort_keys=True)}"
                     for k, v in sorted(self.notetypes.items())]

        def ids(values: Iterable[str]) -> str:
            listed = ",\n".join(f"    {json.dumps(v)}" for v in sorted(values))
            return f"[\n{listed}\n  ]" if listed else "[]"

        return (
            "{\n"
            f'  "format": {LOCK_FORMAT},\n'
            f'  "namespace": {json.dumps(self.namespace)},\n'
            f'  "notes": {block(notes)},\n'
            f'  "notetypes": {block(notetypes)},\n'
            + (f'  "release": {json.dumps(self.release, sort_keys=True)},\n' if self.release else "")
            # written whenever there was a release: a lock with a release or removals but no list is an old one
            + (f'  "released": {ids(self.released)},\n' if self.release or self.released or self.removed else "")
            + f'  "removed": {ids(self.removed)}\n'
            "}\n"
        )


def read_lock(path: Path, shown: str) -> tuple[Lock | None, list[Problem]]:
    """Read a lock file; a missing lock is None without a problem."""
    from neurodeck.source.yamlnodes import read_text

    if not os.path.lexists(path):
        return None, []
    text, problems = read_text(path, shown)
    if text is None:
        return None, [Problem(p.location, f"cannot read lock file: {p.message}", p.hint) for p in problems]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [Problem(Location(shown, exc.lineno, exc.colno), f"lock file is not valid JSON: {exc.msg}",
                              "resolve merge conflicts in the lock, or restore it from git")]
    except RecursionError:
        return None, [Problem(Location(shown), "lock file is nested too deeply", "restore it from git")]
    try:
        if not isinstance(data, dict) or data.get("format") != LOCK_FORMAT:
            raise ValueError(f"unknown lock format {data.get('format') if isinstance(data, dict) else data!r:.40}")
        lock = Lock(
            namespace=_text(data["namespace"]),
            notes=_entries(data["notes"]),
            notetypes={_text(k): NoteTypeEntry(_text(v["hash"]), _mod(v["mod"]), _text(v["schema"]),
                                               _frozen(v["frozen"]) if "frozen" in v else None)
                       for k, v in data["notetypes"].items()},
            removed=_texts(data["removed"]),
            release=_release(data["release"]) if data.get("release") else None,
        )
        if "released" in data:
            lock.released = set(_texts(data["released"]))
        elif lock.release:  # written before drafts existed: every id it holds may have shipped
            lock.released = set(lock.notes) | set(lock.removed)
        else:  # never released: every id is still a draft, and nothing was removed from a release
            lock.removed = []
        return lock, []
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        return None, [Problem(Location(shown), f"lock file has an unexpected structure ({str(exc)[:200]})",
                              "restore it from git; never edit mod times by hand")]


MAX_MOD = 2 ** 32 - 1  # seconds: the year 2106; Anki stores mods in 64 bits, a package's ids in milliseconds
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def _mod(value: object) -> int:
    # JSON numbers arrive as floats (1e16, Infinity) or bools too; only whole seconds in range are times.
    if type(value) is not int or not 0 <= value <= MAX_MOD:
        raise ValueError(f"mod {str(value)[:30]} is not a time in whole seconds between 0 and {MAX_MOD}")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, found {str(value)[:30]}")
    return value


def _present(values: dict) -> dict:
    return {k: v for k, v in values.items() if v is not None}


def _frozen(value: object) -> dict:
    """A released note type's schema as the lock records it, checked to be one."""
    def pairs(items: object) -> list[list]:
        if not isinstance(items, list) or not all(
                isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) and type(p[1]) is int for p in items):
            raise ValueError("a frozen note type's fields and templates must be [name, id] pairs")
        return items

    if not isinstance(value, dict) or set(value) != {"kind", "id", "fields", "templates"} \
            or type(value["id"]) is not int:
        raise ValueError("a frozen note type schema has kind, id, fields and templates")
    return {"kind": _text(value["kind"]), "id": value["id"], "fields": pairs(value["fields"]),
            "templates": pairs(value["templates"])}


def _texts(value: object) -> list[str]:
    # A list only: a string or an object would be iterated as its characters or keys.
    if not isinstance(value, list):
        raise ValueError(f"expected a list of card ids, found {str(value)[:30]}")
    if set(map(type, value)) <= {str}:  # the usual list, checked in C (a large deck's lock lists every id)
        return list(value)
    return [_text(item) for item in value]


_new = tuple.__new__


def _entries(notes: Any) -> dict[str, Entry]:  # JSON
    """The lock's notes, each checked to be {hash, mod, type[, guid]} of the right kinds.

    Every build reads every entry: the usual one is checked inline and made with tuple.__new__;
    any other goes through the checks one by one, which name the first thing wrong."""
    out = {}
    for key, v in notes.items():  # JSON object keys are always text
        try:
            digest, mod, kind = v["hash"], v["mod"], v["type"]
            guid = v["guid"] if "guid" in v else None
        except (KeyError, TypeError):
            digest = guid = None
        if (type(digest) is str and type(kind) is str and type(mod) is int and 0 <= mod <= MAX_MOD
                and (type(guid) is str or guid is None and "guid" not in v)):
            out[key] = _new(Entry, (digest, mod, kind, guid))
        else:
            out[key] = Entry(_text(v["hash"]), _mod(v["mod"]), _text(v["type"]),
                             _text(v["guid"]) if "guid" in v else None)
    return out


def version_key(version: str) -> tuple[int, ...] | None:
    """A release version's numbers for comparison (padded to four), or None if it is not one."""
    if not _VERSION.fullmatch(version):
        return None
    parts = [int(p) for p in version.split(".")]
    return tuple(parts + [0] * (4 - len(parts)))


_VERSION = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9}){0,3}", re.ASCII)  # no int() of thousands of digits


def _release(value: Any) -> dict[str, str]:  # JSON
    version, date = _text(value["version"]), _text(value["date"])
    if version_key(version) is None:
        raise ValueError(f"release version '{version[:30]}' is not numbers separated by dots")
    if not _DATE.fullmatch(date) or not _is_date(date):
        raise ValueError(f"release date '{date[:30]}' is not a date like 2025-01-31")
    return {"version": version, "date": date}


def _is_date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def build_time() -> int:
    """Now, or SOURCE_DATE_EPOCH when set, never later than the real clock.

    Anything but whole seconds in SOURCE_DATE_EPOCH is a ValueError: ignoring a mistyped value
    would silently make a build that is not reproducible."""
    real = int(time.time())
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return real
    if not re.fullmatch(r"[0-9]{1,12}", epoch, re.ASCII):
        raise ValueError(f"SOURCE_DATE_EPOCH must be whole seconds since 1970 (digits only), not '{epoch[:30]}'")
    return min(int(epoch), real)


_new = tuple.__new__


def _next_mod(previous: int | None, now: int) -> int:
    # Strictly newer than what students have, or Anki would skip the update.
    return now if previous is None else max(now, previous + 1)


def next_entry(before: Entry | None, digest: str, kind: str, now: int, guid: str | None = None) -> Entry:
    """A note's lock entry after this build: the recorded one while its content is unchanged.
    `guid` is the note's GUID when its card gives one."""
    if before is None:
        return _new(Entry, (digest, now, kind, guid))  # tuple.__new__: this runs once per note
    if before.hash == digest and before.type == kind and before.guid == guid:
        return before
    return Entry(digest, _next_mod(before.mod, now) if before.hash != digest or before.type != kind else before.mod,
                 kind, guid)


def next_lock(old: Lock | None, namespace: str, entries: dict[str, Entry],
              notetypes: dict[str, tuple[str, str]], now: int, release: dict[str, str] | None = None,
              schemas: dict[str, dict] | None = None) -> Lock:
    """The lock after this build.

    entries maps card id -> its entry as `next_entry` decided it while the notes were rendered;
    notetypes maps kind -> (hash, schema hash). Unchanged note types keep their `mod`. `schemas`
    holds the deck's own types' schemas: a release freezes those of the types it ships.
    """
    old = old or Lock(namespace)
    lock = Lock(namespace, notes=entries, released=set(old.released))
    for kind, (digest, schema) in notetypes.items():
        before_nt = old.notetypes.get(kind)
        frozen = before_nt.frozen if before_nt is not None else None
        if frozen is None and release is not None and schemas and kind in schemas:
            frozen = schemas[kind]
        if before_nt is not None and before_nt.hash == digest and before_nt.frozen == frozen:
            lock.notetypes[kind] = before_nt
        elif before_nt is not None and before_nt.hash == digest:
            lock.notetypes[kind] = NoteTypeEntry(digest, before_nt.mod, schema, frozen)
        else:
            lock.notetypes[kind] = NoteTypeEntry(digest, _next_mod(before_nt.mod if before_nt else None, now), schema,
                                                 frozen)
    for kind, entry in old.notetypes.items():
        lock.notetypes.setdefault(kind, entry)  # a type unused today keeps its history
    # Only a release makes an id permanent, or its absence: drafts come and go without a trace,
    # and a released card deleted since the last release may still come back until the next.
    lock.removed = sorted(old.removed)
    if release is not None:
        lock.removed = sorted(set(old.removed) | (old.released - entries.keys()))
        lock.released |= entries.keys()
    lock.release = release or old.release
    return lock


# ---- never backwards: what newer releases than the lock shipped ------------------------------

_E = TypeVar("_E", "Entry", "NoteTypeEntry")  # a note's or a note type's lock entry


class Shipped(NamedTuple):
    """One note as a release shipped it: its `mod`, and its content as far as the source shows
    it (a lock records the content hash; a package the note type, fields and tags)."""

    mod: int
    where: str  # the release, as the user would name it: a package path or a git revision
    hash: str | None = None
    content: tuple | None = None  # (kind, fields, sorted tags)

    def same(self, digest: str, content: tuple) -> bool:
        return digest == self.hash if self.hash is not None else content == self.content


def note_content(kind: str, fields: tuple[str, ...], tags: tuple[str, ...]) -> tuple:
    """What a package shows of a note, in the form `Shipped.same` compares."""
    return kind, tuple(fields), tuple(sorted(tags))


def going_back(entry: Entry | NoteTypeEntry, content: tuple, shipped: list[Shipped]) -> Shipped | None:
    """A release that gave this note a newer `mod` than `entry` has, or the same `mod` with other
    content: Anki would skip this build's note for students who have it, or (same content) the
    lock would hold an older `mod` than students have, and skip the note's next change. None if
    there is none."""
    for release in shipped:
        if release.mod > entry.mod or (release.mod == entry.mod and not release.same(entry.hash, content)):
            return release
    return None


def past(entry: _E, content: tuple, shipped: list[Shipped], now: int) -> _E:
    """`entry` with a `mod` past every release that shipped this note: strictly newer than a
    release with a `mod` as new and other content (so Anki applies this build's), equal to the
    newest release with the same content (students who have it need nothing, and the lock
    catches up with it)."""
    if any(r.mod >= entry.mod and not r.same(entry.hash, content) for r in shipped):
        return _with_mod(entry, max(now, entry.mod + 1, *(r.mod + 1 for r in shipped)))
    newest = max((r.mod for r in shipped), default=entry.mod)
    return _with_mod(entry, newest) if newest > entry.mod else entry


def _with_mod(entry: _E, mod: int) -> _E:
    if isinstance(entry, Entry):
        return entry._replace(mod=mod)
    return NoteTypeEntry(entry.hash, mod, entry.schema, entry.frozen)


def notetype_content(name: str, css: str, texts: Iterable[tuple[str, str, str]]) -> tuple:
    """What a package shows of a note type that a student sees, in the form `Shipped.same` compares."""
    return name, css, tuple(tuple(t) for t in texts)
