"""The pipeline for one manifest: load, validate, render, lock, package.

`compile_deck` does everything except writing; `build` writes the package and the lock.
Neither raises for bad content: problems come back as values.
"""
from __future__ import annotations

import errno
import hashlib
import html
import os
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import identity, package
from .identity import Lock
from .load import card_files, load_card_file, load_manifest, shown_path, slug
from .media import MediaStore
from .model import Card, Location, Manifest, Problem, Text, has_errors
from .notetypes import NoteType, note_types
from .render import cloze_numbers, render_field
from .validate import check_against_lock, check_cards, check_lock_namespace, check_tags


@dataclass
class RenderedNote:
    card: Card
    notetype: NoteType
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck: str
    ords: tuple[int, ...]
    media: tuple[str, ...]

    @property
    def hash(self) -> str:
        return identity.content_hash([self.notetype.kind, self.fields, self.tags, list(self.media)])


@dataclass
class CompiledDeck:
    """A manifest compiled in memory: its notes, media and the lock this build would write."""

    manifest_path: Path
    manifest: Manifest | None = None
    notes: list[RenderedNote] = field(default_factory=list)
    media: MediaStore | None = None
    description: str = ""  # HTML
    old_lock: Lock | None = None
    lock: Lock | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not has_errors(self.problems)

    def summary(self) -> dict:
        """Counts for reports: notes per subtopic and per type, cards, and changes since the lock."""
        old = self.old_lock.notes if self.old_lock else {}
        new = self.lock.notes if self.lock else {}
        return {
            "deck": self.manifest.name if self.manifest else None,
            "notes": len(self.notes),
            "cards": sum(len(n.ords) for n in self.notes),
            "subtopics": dict(Counter(n.card.subtopic for n in self.notes)),
            "types": dict(Counter(n.notetype.kind for n in self.notes)),
            "media": len(self.media.files) if self.media else 0,
            "new": sorted(k for k in new if k not in old),
            "changed": sorted(k for k in new if k in old and new[k] != old[k]),
            "removed": sorted(k for k in old if k not in new),
        }


def compile_deck(manifest_path: Path, now: int | None = None) -> CompiledDeck:
    """Load, validate and render one manifest's deck, and compute its next lock. Writes nothing."""
    result = CompiledDeck(manifest_path)
    manifest, problems = load_manifest(manifest_path)
    result.problems += problems
    if manifest is None:
        return result
    result.manifest = manifest
    paths, problems = card_files(manifest)
    result.problems += problems
    cards: list[Card] = []
    files = []
    for path in paths:
        card_file, problems = load_card_file(path)
        result.problems += problems
        if card_file is not None:
            files.append(card_file)
            result.problems += check_tags(card_file.tags)
            cards += card_file.cards
    result.problems += check_cards(cards)
    lock_shown = shown_path(manifest.lock_path)
    result.old_lock, problems = identity.read_lock(manifest.lock_path, lock_shown)
    result.problems += problems
    result.problems += check_lock_namespace(result.old_lock, manifest.namespace, manifest.lock_path)
    result.problems += check_against_lock(cards, result.old_lock, lock_shown)

    result.media = MediaStore(manifest.root)
    types = note_types(manifest.namespace)
    for card_file in files:
        file_tags = [t.value for t in card_file.tags]
        for card in card_file.cards:
            note, problems = render_note(card, manifest, types[card.type], file_tags, result.media)
            result.problems += problems
            result.notes.append(note)
    description = render_field(Text(manifest.description, manifest.location), result.media.resolver(manifest.path))
    result.description = description.html
    result.problems += description.problems
    if not result.ok:
        return result
    result.problems += _check_schemas(result, types)
    result.lock = identity.next_lock(
        result.old_lock, manifest.namespace,
        {n.card.id.value: (n.hash, n.notetype.kind) for n in result.notes},
        {kind: (nt.content_hash(), _schema_hash(nt)) for kind, nt in types.items() if kind in _used(result)},
        identity.build_time() if now is None else now,
    )
    return result


def _used(result: CompiledDeck) -> set[str]:
    return {n.notetype.kind for n in result.notes}


def _schema_hash(nt: NoteType) -> str:
    return identity.content_hash(nt.schema())


def _check_schemas(result: CompiledDeck, types: dict[str, NoteType]) -> list[Problem]:
    if result.old_lock is None:
        return []
    problems = []
    for kind, entry in result.old_lock.notetypes.items():
        if kind in types and entry.schema != _schema_hash(types[kind]):
            problems.append(Problem(
                Location(shown_path(result.manifest.lock_path)),
                f"the fields or templates of note type '{kind}' changed since the last release",
                "Anki would fork the note type and mark every student's note as conflicting; "
                "restore the note type's fields and templates (template text and CSS may change)"))
    return problems


def render_note(card: Card, manifest: Manifest, notetype: NoteType, file_tags: list[str],
                media: MediaStore) -> tuple[RenderedNote, list[Problem]]:
    """Render one card's fields and tags into the note that will be packaged."""
    resolve = media.resolver(card.file_path)
    problems: list[Problem] = []
    used_media: list[str] = []

    def render(text: Text | None, cloze: bool = False) -> str:
        if text is None:
            return ""
        out = render_field(text, resolve, cloze=cloze)
        problems.extend(out.problems)
        used_media.extend(out.media)
        return out.html

    if notetype.is_cloze:
        first = (render(card.text, cloze=True),)
        ords = tuple(n - 1 for n in cloze_numbers(card.text.value)) if card.text else ()
    else:
        first = (render(card.question), render(card.answer))
        ords = (0, 1) if card.type == "reversed" else (0,)
    fields = first + (render(card.extra), render(card.source), _escape(card.id.value))
    root = manifest.tag
    tags = {f"{root}::{slug(card.subtopic)}"}
    tags.update(f"{root}::{t}" for t in file_tags)
    tags.update(f"{root}::{t.value}" for t in card.tags)
    note = RenderedNote(
        card=card, notetype=notetype, fields=fields, tags=tuple(sorted(tags)),
        deck=f"{manifest.name}::{card.subtopic}", ords=ords, media=tuple(sorted(set(used_media))),
    )
    return note, problems


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


@dataclass
class BuildResult:
    compiled: CompiledDeck
    output: Path | None = None
    size: int = 0
    sha256: str = ""
    lock_written: bool = False

    @property
    def problems(self) -> list[Problem]:
        return self.compiled.problems

    @property
    def ok(self) -> bool:
        return self.compiled.ok


def package_deck(compiled: CompiledDeck, work_dir: Path | None = None) -> bytes:
    """The .apkg bytes for a compiled deck (which must be ok)."""
    manifest, lock = compiled.manifest, compiled.lock
    assert manifest is not None and lock is not None and compiled.media is not None
    subdecks = sorted({n.deck for n in compiled.notes})
    decks = [package.PackDeck(manifest.name, compiled.description)] + [package.PackDeck(d, "") for d in subdecks]
    notetypes = {}
    for note in compiled.notes:
        notetypes.setdefault(note.notetype, lock.notetypes[note.notetype.kind].mod)
    notes = [
        package.PackNote(guid=identity.note_guid(manifest.namespace, n.card.id.value), notetype=n.notetype,
                         fields=n.fields, tags=n.tags, deck=n.deck, ords=n.ords,
                         mod=lock.notes[n.card.id.value].mod)
        for n in compiled.notes
    ]
    prefix = package.temp_prefix(Path(manifest.output))
    collection = package.collection_bytes(manifest.namespace, decks, notetypes, notes, work_dir, prefix)
    return package.package_bytes(collection, compiled.media.files)


def build(manifest_path: Path, out_dir: Path, locked: bool = False, now: int | None = None) -> BuildResult:
    """Compile one manifest and write its package and lock.

    With `locked`, a missing or outdated lock is a problem and nothing is written. Concurrent
    builds of one manifest take turns; a failed or killed build leaves the previous package and
    lock as they were, and the next build removes its temporary files.
    """
    with package.exclusive(manifest_path):
        result = BuildResult(compile_deck(manifest_path, now))
        if result.ok:
            _write(result, out_dir, locked)
        return result


def _write(result: BuildResult, out_dir: Path, locked: bool) -> None:
    compiled = result.compiled
    manifest = compiled.manifest
    lock_text = compiled.lock.dumps()
    lock_changed = compiled.old_lock is None or compiled.old_lock.dumps() != lock_text
    if locked and lock_changed:
        what = "is missing" if compiled.old_lock is None else "is out of date"
        compiled.problems.append(Problem(
            Location(shown_path(manifest.lock_path)), f"lock file {what} (--locked)",
            "run `neurodeck build` without --locked and commit the updated lock"))
        return
    output = out_dir / manifest.output
    temps: list[tuple[Path, Path]] = []
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        package.remove_stale(output)
        package.remove_stale(manifest.lock_path)
        data = package_deck(compiled, work_dir=out_dir)
        temps.append((package.prepare(output, data), output))
        if lock_changed:
            temps.append((package.prepare(manifest.lock_path, lock_text.encode()), manifest.lock_path))
        for tmp, target in temps:
            package.commit(tmp, target)
    except (OSError, sqlite3.Error) as exc:
        for tmp, _ in temps:
            package.discard(tmp)
        compiled.problems.append(_write_problem(exc, out_dir))
        return
    result.output, result.size, result.sha256 = output, len(data), hashlib.sha256(data).hexdigest()
    result.lock_written = lock_changed


def _write_problem(exc: OSError | sqlite3.Error, out_dir: Path) -> Problem:
    if isinstance(exc, sqlite3.Error):  # the scratch collection lives in the output folder
        full = "full" in str(exc)
        exc = OSError(errno.ENOSPC if full else errno.EIO, os.strerror(errno.ENOSPC) if full else str(exc))
    where = Location(shown_path(Path(exc.filename)) if exc.filename else shown_path(out_dir))
    hints = {
        errno.ENOSPC: "the disk is full: free some space and build again",
        errno.EDQUOT: "the disk quota is exhausted: free some space and build again",
        errno.EROFS: "the file system is read-only: choose another --out folder, or make it writable",
        errno.EACCES: "no permission to write here: choose another --out folder, or fix its permissions",
        errno.EPERM: "no permission to write here: choose another --out folder, or fix its permissions",
    }
    return Problem(where, f"cannot write: {exc.strerror or exc}", hints.get(exc.errno),)
