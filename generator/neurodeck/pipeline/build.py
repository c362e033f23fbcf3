"""The pipeline for one manifest: load, validate, render, lock, package.

`compile_deck` does everything except writing; `build` writes the package and the lock.
Neither raises for bad content: problems come back as values.
"""
from __future__ import annotations

import errno
import functools
import gc
import hashlib
import html
import os
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import BinaryIO

from neurodeck import lockfile, releases
from neurodeck.apkg import files
from neurodeck.apkg.collection import Collection, PackDeck, write_package
from neurodeck.apkg.notetypes import CustomNoteType, NoteType, note_types
from neurodeck.apkg.occlusion_type import occlusion_note_type
from neurodeck.apkg.speech import check_fields, check_sounds_read_aloud, with_speech
from neurodeck.checks.frozen_types import check_frozen
from neurodeck.checks.names import check_deck_name, check_merged_names
from neurodeck.checks.rules import (
    check_against_lock,
    check_duplicate_guids,
    check_duplicates,
    check_gone,
    check_lock_namespace,
)
from neurodeck.lockfile import Lock
from neurodeck.model import CARD_TYPES, DeckContext, Location, Manifest, Note, Problem, Text, has_errors
from neurodeck.pipeline import stamps
from neurodeck.pipeline.cache import FileCache
from neurodeck.project import card_files, notetype_globs, shown_path
from neurodeck.render.markdown import MediaResolver, render_field
from neurodeck.render.media import MediaStore
from neurodeck.source.manifest import load_manifest
from neurodeck.source.notetypes import load_notetypes

AnyNoteType = NoteType | CustomNoteType


@dataclass
class CompiledDeck:
    """A manifest compiled in memory: its notes, media and the lock this build would write."""

    manifest_path: Path
    manifest: Manifest | None = None
    notes: list[Note] = field(default_factory=list)
    media: MediaStore | None = None
    description: str = ""  # HTML
    old_lock: Lock | None = None
    lock: Lock | None = None
    notetypes: dict[str, AnyNoteType] = field(default_factory=dict)  # built-in and own, by card `type`
    inputs: dict[str, str] = field(default_factory=dict)  # card files and images read -> sha256
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not has_errors(self.problems)

    def summary(self) -> dict:
        """Counts for reports: notes per subtopic and per type, cards, and changes since the lock."""
        # Changes are only known when the deck compiled: a failed build changes nothing.
        old = self.old_lock.notes if self.old_lock and self.lock else {}
        new = self.lock.notes if self.lock else {}
        notes = self.notes  # map() and set operations keep these loops in C on large decks
        changed = sorted(k for k in new.keys() & old.keys() if new[k] is not old[k])
        return {
            "deck": self.manifest.name if self.manifest else None,
            "notes": len(notes),
            "cards": sum(map(len, map(attrgetter("ords"), notes))),
            "subtopics": dict(Counter(map(attrgetter("subtopic"), notes))),
            "types": dict(Counter(map(attrgetter("type"), notes))),
            "media": len(self.media.files) if self.media else 0,
            "new": sorted(new.keys() - old.keys()),
            # next_lock keeps the very entry of an unchanged note, so identity is equality here
            "changed": changed,
            "retired": self._newly_retired(new.keys() - old.keys(), changed),
            "removed": sorted(old.keys() - new.keys()),
        }

    def _newly_retired(self, new: set[str], changed: list[str]) -> list[str]:
        """Retired cards whose note this build added or changed: a retirement changes the answer."""
        touched = new.union(changed)
        if not touched:
            return []
        return sorted(filter(touched.__contains__, map(attrgetter("id"), filter(attrgetter("retired"), self.notes))))


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    # Everything compiled is acyclic and lives until the end; the cyclic garbage collector would
    # only rescan it again and again (a quarter of the time on large decks).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def compile_deck(manifest_path: Path, now: int | None = None, release: dict[str, str] | None = None,
                 sink: PackageSink | None = None, previous: str | None = None,
                 out_dir: Path | None = None) -> CompiledDeck:
    """Load, validate and render one manifest's deck, and compute its next lock. Writes nothing
    in the project (only the cache, in the user's cache folder); a `sink` receives the notes with their
    `mod`s, file by file, as they are ready.

    `previous` (a package or git revision) is a release whose newer `mod`s the lock takes;
    with `out_dir`, the package there and the committed locks are checked for newer `mod`s."""
    with _no_cyclic_gc():
        return _compile(manifest_path, now, release, sink, previous, out_dir)


def _compile(manifest_path: Path, now: int | None, release: dict[str, str] | None,
             sink: PackageSink | None, previous: str | None = None, out_dir: Path | None = None) -> CompiledDeck:
    result = CompiledDeck(manifest_path)
    with files.shared(manifest_path):  # a release writes the manifest and the lock: see both or neither
        manifest, problems = load_manifest(manifest_path)
        result.problems += problems
        if manifest is None:
            return result
        lock_shown = shown_path(manifest.lock_path)
        result.old_lock, lock_problems = lockfile.read_lock(manifest.lock_path, lock_shown)
    result.manifest = manifest
    own = load_notetypes(manifest)
    result.problems += own.problems
    builtin = note_types(manifest.namespace)
    result.problems += check_fields(manifest.tts, [f for nt in builtin.values() for f in nt.fields],
                                    "the built-in note types")
    builtin = {kind: with_speech(nt, manifest.tts) for kind, nt in builtin.items()}
    occlusion = occlusion_note_type(manifest.namespace, manifest.name)  # for cards of type: occlusion
    result.notetypes = {**builtin, occlusion.key: occlusion, **{nt.key: nt for nt in own.notetypes}}
    own_ids = {occlusion.id: occlusion.key, **{nt.id: nt.key for nt in own.notetypes}}
    result.problems += check_frozen(own.declared, result.old_lock)
    if not result.ok:
        return result
    paths, problems = card_files(manifest)
    result.problems += problems
    if now is None:
        try:
            now = lockfile.build_time()
        except ValueError as exc:
            result.problems.append(Problem(Location("SOURCE_DATE_EPOCH"), str(exc),
                                           "unset it, or set it to a time such as `git log -1 --format=%ct`"))
            return result
    recorded = result.old_lock.notes if result.old_lock else {}
    shipped = None
    if previous is not None:
        shipped, problems = releases.load_previous(previous, manifest.lock_path, manifest.namespace, own_ids)
        result.problems += problems
    if sink is not None and result.ok and not lock_problems:
        sink.start(manifest, (occlusion, *own.notetypes))

    result.media = MediaStore(manifest.root)
    cache = FileCache(manifest_path, DeckContext.of(manifest, own.notetypes))
    entries: dict[str, lockfile.Entry] = {}  # the next lock's, decided while files still render
    for processed in cache.process_all(paths, result.media):
        result.problems += processed.problems
        result.notes += processed.notes
        decided = [lockfile.next_entry(recorded.get(n.id), n.hash, n.type, now, n.guid if n.given_guid else None)
                   for n in processed.notes]
        if shipped is not None:
            decided = [lockfile.past(e, lockfile.note_content(n.type, n.fields, n.tags), shipped.of(n), now)
                       for e, n in zip(decided, processed.notes)]
        entries.update(zip([n.id for n in processed.notes], decided))
        if sink is not None:
            sink.add(processed.notes, [entry.mod for entry in decided])
    result.inputs = {**own.inputs, **cache.digests}  # in the order stamps.matched_files lists them
    # Only now: the worker pool forks only while no other thread is alive, and the watch's thread
    # would make it spawn workers that import everything again (~0.5 s of CPU each on 30k cards).
    watch = None
    if out_dir is not None:
        watch = releases.Watch(out_dir / manifest.output, manifest.lock_path, manifest.namespace, own_ids,
                               functools.partial(stamps.written_with_lock, manifest_path, out_dir))
    result.problems += check_duplicates(result.notes)
    result.problems += check_sounds_read_aloud(result.notes, result.notetypes)
    result.problems += check_duplicate_guids(result.notes)
    result.problems += check_merged_names(result.notes)
    result.problems += check_deck_name(manifest.name, manifest.location)
    description = render_field(Text(manifest.description, manifest.location),
                               _images_only(result.media.resolver(manifest.path)))
    result.description = description.html
    result.problems += description.problems
    used_own = {n.type for n in result.notes} & {nt.key for nt in own.notetypes}
    result.media.add_fonts(text for nt in own.notetypes if nt.key in used_own
                           for text in (nt.css, *[side for t in nt.templates for side in (t.qfmt, t.afmt)]))
    result.inputs.update({str(p): hashlib.sha256(result.media.files[n]).hexdigest()
                          for n, p in sorted(result.media.sources.items())})

    result.problems += lock_problems
    result.problems += check_lock_namespace(result.old_lock, manifest.namespace, manifest.lock_path)
    result.problems += check_against_lock(result.notes, result.old_lock, lock_shown)
    if not result.ok:
        if watch is not None:
            watch.close()
        return result
    result.problems += check_gone(result.notes, result.old_lock, lock_shown)
    types = result.notetypes
    used = {n.type for n in result.notes}
    result.problems += _check_schemas(result, types)
    result.lock = lockfile.next_lock(
        result.old_lock, manifest.namespace, entries,
        {kind: (nt.content_hash(), _schema_hash(nt)) for kind, nt in types.items() if kind in used},
        now, release, {nt.key: nt.schema() for nt in own.notetypes},
    )
    contents = releases.notetype_contents(types)
    if shipped is not None:  # --previous: the note types past it too
        result.lock.notetypes.update({kind: lockfile.past(entry, contents[kind], shipped.notetypes[kind], now)
                                      for kind, entry in result.lock.notetypes.items()
                                      if kind in shipped.notetypes and kind in contents})
    if watch is not None:
        used_types = {kind: (result.lock.notetypes[kind], contents[kind]) for kind in used}
        result.problems += watch.problems(result.notes, entries, result.old_lock, lock_shown, used_types)
    released = result.lock.release["version"] if result.lock.release else None
    if manifest.version is not None and manifest.version.value != released:
        result.problems.append(Problem(
            manifest.version.location, f"version {manifest.version.value} has not been released "
            f"(the lock records {released or 'no release'})",
            f"run `neurodeck release {manifest.version.value}` instead of editing the version by hand"))
    return result


def _images_only(resolve: MediaResolver) -> MediaResolver:
    """A resolver for the deck description, where Anki shows images but plays no sound."""
    def resolve_image(reference: str, location: Location, kind: str = "image") -> str | Problem:
        if kind != "image":
            return Problem(location, f"the deck description cannot play the {kind} '{reference}'",
                           "Anki plays sounds on cards only; put it in a card's field")
        return resolve(reference, location)

    return resolve_image


def _schema_hash(nt: AnyNoteType) -> str:
    return lockfile.content_hash(nt.schema())


def _check_schemas(result: CompiledDeck, types: dict[str, AnyNoteType]) -> list[Problem]:
    if result.old_lock is None:
        return []
    assert result.manifest is not None  # the lock was found beside it
    problems = []
    for kind, entry in result.old_lock.notetypes.items():
        if kind in CARD_TYPES and kind in types and entry.schema != _schema_hash(types[kind]):
            problems.append(Problem(
                Location(shown_path(result.manifest.lock_path)),
                f"the fields or templates of note type '{kind}' changed since the last release",
                "Anki would fork the note type and mark every student's note as conflicting; "
                "restore the note type's fields and templates (template text and CSS may change)"))
    return problems


@dataclass
class BuildResult:
    compiled: CompiledDeck
    output: Path | None = None
    size: int = 0
    sha256: str = ""
    lock_written: bool = False
    _report: dict | None = field(default=None, repr=False)

    @property
    def problems(self) -> list[Problem]:
        return self.compiled.problems

    @property
    def ok(self) -> bool:
        return self.compiled.ok

    def report(self) -> dict:
        """What the CLI prints, as plain data (also stored for up-to-date rebuilds).

        Made once, when the build is over."""
        if self._report is None:
            self._report = dict(self.compiled.summary(), manifest=str(self.compiled.manifest_path), ok=self.ok,
                                problems=[p.to_json() for p in self.problems],
                                output=str(self.output) if self.output else None, size=self.size,
                                sha256=self.sha256 or None, lock_written=self.lock_written,
                                environment=build_environment())
        return self._report


def build_environment() -> dict[str, str]:
    """What the package's bytes depend on besides the sources: reproducible for equal values."""
    import platform
    import zlib

    env = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "zlib": zlib.ZLIB_RUNTIME_VERSION}
    return dict(env, **stamps.versions())


def package_deck(compiled: CompiledDeck, out: BinaryIO, work_dir: Path | None = None,
                 collection: Collection | None = None) -> None:
    """Write the .apkg of a compiled deck (which must be ok) to `out`.

    `collection`, if given, already holds the deck's notes (see PackageSink)."""
    manifest, lock = compiled.manifest, compiled.lock
    assert manifest is not None and lock is not None and compiled.media is not None
    types = compiled.notetypes
    # Every subdeck and its parents (an HTML card file's subtopic may nest: Root::A::B), the deck itself once.
    named = {tuple(deck.split("::")) for deck in set(map(attrgetter("deck"), compiled.notes))}  # each deck once
    subdecks = sorted({"::".join(parts[:end]) for parts in named
                       for end in range(len(manifest.name.split("::")) + 1, len(parts) + 1)})
    description = compiled.description
    if lock.release:  # the date comes from the lock, never the clock: rebuilds give the same bytes
        description += (f'<p class="nd-release">Version {html.escape(lock.release["version"])}, '
                        f'released {html.escape(lock.release["date"])}</p>')
    decks = [PackDeck(manifest.name, description)] + [PackDeck(d, "") for d in subdecks]
    notetypes = {types[kind]: lock.notetypes[kind].mod for kind in sorted({n.type for n in compiled.notes})}
    if collection is not None:
        collection.write(out, decks, notetypes, compiled.media.files)
        return
    mods = [lock.notes[n.id].mod for n in compiled.notes]
    write_package(out, manifest.namespace, decks, notetypes, compiled.notes, mods, compiled.media.files,
                  work_dir, files.temp_prefix(Path(manifest.output)))


class PackageSink:
    """Fills the package's collection while the deck still compiles, so that inserting the
    notes overlaps rendering them. A write error is kept, and reported only if the deck compiles."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.collection: Collection | None = None
        self.error: OSError | sqlite3.Error | None = None
        self._made: list[Path] = []  # folders created for the output, removed if nothing is written

    def start(self, manifest: Manifest, notetypes: tuple[CustomNoteType, ...] = ()) -> None:
        try:
            folder = self.out_dir.absolute()
            while not folder.exists() and folder != folder.parent:
                self._made.append(folder)
                folder = folder.parent
            self.out_dir.mkdir(parents=True, exist_ok=True)
            files.remove_stale(self.out_dir / manifest.output)
            self.collection = Collection(manifest.namespace, self.out_dir,
                                         files.temp_prefix(Path(manifest.output)), notetypes)
        except (OSError, sqlite3.Error) as exc:
            self.error = exc

    def add(self, notes: list[Note], mods: list[int]) -> None:
        if self.collection is None:
            return
        try:
            self.collection.add(notes, mods)
        except (OSError, sqlite3.Error) as exc:
            self.error = exc
            self.close()

    def close(self, written: bool = False) -> None:
        """Remove the scratch collection, and the output folders made for it unless `written`."""
        if self.collection is not None:
            self.collection.close()
            self.collection = None
        for folder in [] if written else self._made:
            try:
                folder.rmdir()
            except OSError:
                pass
        self._made = []


def build(manifest_path: Path, out_dir: Path, locked: bool = False, now: int | None = None,
          release: dict[str, str] | None = None, previous: str | None = None) -> BuildResult:
    """Compile one manifest and write its package and lock.

    With `locked`, a missing or outdated lock is a problem and nothing is written. Concurrent
    builds of one manifest take turns; a failed or killed build leaves the previous package and
    lock as they were, and the next build removes its temporary files.
    """
    with files.exclusive(manifest_path), _no_cyclic_gc():
        sink, written = PackageSink(out_dir), False
        try:
            result = BuildResult(compile_deck(manifest_path, now, release, sink, previous, out_dir))
            if result.ok:
                _write(result, out_dir, locked, sink)
            written = result.output is not None
        finally:
            sink.close(written)
        if result.ok and result.output is not None:
            manifest, media = result.compiled.manifest, result.compiled.media
            assert manifest is not None and media is not None  # an ok deck
            unchanged = dict(result.report(), new=[], changed=[], retired=[], removed=[], lock_written=False)
            stamps.record(manifest_path, out_dir, notetype_globs(manifest) + [g.value for g in manifest.cards],
                          result.compiled.inputs,
                         sorted(str(p) for p in media.sources.values()), unchanged)
        return result


def _write(result: BuildResult, out_dir: Path, locked: bool, sink: PackageSink) -> None:
    compiled = result.compiled
    manifest, lock = compiled.manifest, compiled.lock
    assert manifest is not None and lock is not None  # an ok deck
    lock_changed = compiled.old_lock != lock
    if locked and lock_changed:
        what = "is missing" if compiled.old_lock is None else "is out of date"
        stale = f"it lacks {stale_cards(compiled)}; " if compiled.old_lock is not None else ""
        compiled.problems.append(Problem(
            Location(shown_path(manifest.lock_path)), f"lock file {what} (--locked)",
            f"{stale}run `neurodeck build` without --locked and commit the updated lock"))
        return
    output = out_dir / manifest.output
    temps: list[tuple[Path, Path]] = []
    try:
        if sink.collection is None and sink.error is None:  # not started while compiling
            sink.start(manifest, tuple(nt for nt in compiled.notetypes.values() if isinstance(nt, CustomNoteType)))
            sink.add(compiled.notes, [lock.notes[n.id].mod for n in compiled.notes])
        if sink.error is not None:
            raise sink.error
        files.remove_stale(manifest.lock_path)
        temps.append((files.prepare(output, lambda f: package_deck(compiled, f, collection=sink.collection)),
                      output))
        size, digest = _size_and_sha256(temps[0][0])
        if lock_changed:
            lock_bytes = lock.dumps().encode()
            temps.append((files.prepare(manifest.lock_path, lambda f: f.write(lock_bytes)), manifest.lock_path))
        for tmp, target in temps:
            files.commit(tmp, target)
    except (OSError, sqlite3.Error) as exc:
        for tmp, _ in temps:
            files.discard(tmp)
        compiled.problems.append(write_problem(exc, out_dir))
        return
    result.output, result.size, result.sha256 = output, size, digest
    result.lock_written = lock_changed


def stale_cards(compiled: CompiledDeck) -> str:
    """What an outdated lock misses, naming the cards as reports do."""
    summary = compiled.summary()
    parts = [f"{label} {listed(summary[key])}" for key, label in
             (("new", "new:"), ("changed", "changed:"), ("removed", "removed:")) if summary[key]]
    old, lock = compiled.old_lock, compiled.lock
    if old is not None and lock is not None and old.notetypes != lock.notetypes:
        parts.append("note types: " + listed(sorted(k for k in lock.notetypes.keys() | old.notetypes.keys()
                                                    if lock.notetypes.get(k) != old.notetypes.get(k))))
    return "; ".join(parts) or "the records of the last release"


def listed(ids: list[str], first: int = 10) -> str:
    """Ids for people to read: the first ten, then how many more."""
    shown = ", ".join(ids[:first])
    return shown + (f" and {len(ids) - first} more" if len(ids) > first else "")


def _size_and_sha256(path: Path) -> tuple[int, str]:
    data = path.read_bytes()
    return len(data), hashlib.sha256(data).hexdigest()


def write_problem(exc: OSError | sqlite3.Error, out_dir: Path) -> Problem:
    if isinstance(exc, sqlite3.Error):  # the scratch collection lives in the output folder
        full = "full" in str(exc)
        exc = OSError(errno.ENOSPC if full else errno.EIO, os.strerror(errno.ENOSPC) if full else str(exc))
    return files.write_problem(exc, out_dir)
