"""A content-addressed cache of processed card files, in the user's cache folder (safe to delete).

An entry is keyed by the file's bytes, its path, the deck identity and neurodeck's code, and
holds the file's notes and problems as plain JSON values (see store.py: entries are sealed, and
one that neurodeck did not write for its key is a miss). Images are re-checked against their
content-hashed names on every use.
"""
from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Generator, Iterator
from pathlib import Path
from sys import intern
from typing import Any

from neurodeck.model import DeckContext, Location, Note, Problem
from neurodeck.pipeline import workers
from neurodeck.pipeline.compile_file import FileResult, process_file
from neurodeck.pipeline.stamps import code_key
from neurodeck.pipeline.store import Store, dumps, loads
from neurodeck.project import read_bytes, shown_path
from neurodeck.render.media import MediaStore


class FileCache:
    def __init__(self, manifest_path: Path, deck: DeckContext):
        self.store = Store.open()
        self.folder = self.store.folder / "files"
        self.deck = deck
        # The deck's own note types decide how its cards read and render (fields, kinds, templates).
        types = hashlib.sha256(repr(deck.notetypes).encode()).hexdigest() if deck.notetypes else ""
        self.salt = (f"{code_key()}\0{deck.name}\0{deck.namespace}\0{deck.tag}\0{deck.root}{types}"
                     f"\0{deck.keep_markup}").encode()
        self.digests: dict[str, str] = {}  # path -> sha256 of the bytes this build used
        self.store.remove_leftovers("files/*/*.tmp", "stamps/*.tmp", "secret.*.tmp")  # from builds killed mid-write

    def process_all(self, paths: list[Path], media: MediaStore) -> Iterator[FileResult]:
        """Every file's result, in order, each as soon as it is ready: from the cache when the
        file's inputs are unchanged, the rest processed on all cores and filed in the cache."""
        cached: dict[Path, FileResult] = {}
        missing: list[Job] = []
        for path in paths:
            try:
                data = read_bytes(path)
            except OSError:
                missing.append((path, None, None))  # process_file reports the problem
                continue
            digest = self.digests[str(path)] = hashlib.sha256(data).hexdigest()
            key = hashlib.sha256(f"{path.resolve()}\0{digest}".encode() + self.salt).hexdigest()
            entry = self.folder / key[:2] / key
            hit = decode(self.store.read(entry, key))
            if hit is not None and all(media.adopt(name, source) for name, source in hit.media.items()):
                cached[path] = hit
            else:
                missing.append((path, key, digest))
        fresh = _process_many(missing, self.deck, self.store)
        try:
            for path in paths:
                result = cached.get(path)
                if result is None:
                    try:
                        result = next(fresh)
                    except workers.WorkerDied as died:  # the pool is stopped: the rest stays uncompiled
                        yield _died(died)
                        return
                    if not all(media.adopt(name, source) for name, source in result.media.items()):
                        result = process_file(path, self.deck, media)  # an image changed meanwhile
                yield result
        finally:
            fresh.close()  # stops the worker processes


def encode(result: FileResult) -> list[Any]:
    """A file's result as plain JSON values: each note an array whose repeated strings (paths,
    note type, subtopic, deck, tags) are indexes into the record's own list of strings, so that
    a rebuild decodes each of them once per file rather than once per note."""
    strings: dict[str, int] = {}

    def at(text: str) -> int:
        return strings.setdefault(text, len(strings))

    notes = [(n.id, at(n.id_location.path), n.id_location.line, n.id_location.column, at(n.type),
              at(n.location.path), n.location.line, n.location.column, at(n.subtopic), n.fields,
              [at(tag) for tag in n.tags], at(n.deck), n.ords, n.media, n.guid, n.sort_field, n.checksum,
              n.hash, n.retired, n.given_guid) for n in result.notes]
    problems = [(tuple(p.location), p.message, p.hint, p.severity) for p in result.problems]
    return [str(result.path), list(strings), notes, problems, result.media]


_new = tuple.__new__  # a named tuple from its values without a Python-level call: once per note


def decode(value: Any) -> FileResult | None:
    """The result `encode` made `value` from; None for anything else."""
    if value is None:
        return None
    try:
        path, strings, notes, problems, media = value
        # Interned, as rendering does: a large deck then holds each tag, deck and path name once.
        text = [intern(s) for s in strings]
        tags = text.__getitem__
        return FileResult(
            Path(path),
            [_new(Note, (card_id, _new(Location, (text[id_path], id_line, id_column)), text[kind],
                         _new(Location, (text[where], line, column)), text[subtopic], tuple(fields),
                         tuple(map(tags, tag_ids)), text[deck], tuple(ords), tuple(images), guid, sort_field,
                         checksum, digest, retired, given_guid))
             for (card_id, id_path, id_line, id_column, kind, where, line, column, subtopic, fields, tag_ids, deck,
                  ords, images, guid, sort_field, checksum, digest, retired, given_guid) in notes],
            [Problem(Location(intern(where), line, column), message, hint, severity)
             for (where, line, column), message, hint, severity in problems],
            {str(name): str(source) for name, source in media.items()})
    except (TypeError, ValueError, AttributeError, IndexError):
        return None


# Below this many files a process pool costs more than it saves.
_PARALLEL_MIN_FILES = 8

# (card file, cache key or None, sha256 of the bytes the cache key was made from or None)
Job = tuple[Path, "str | None", "str | None"]


def _process_many(jobs: list[Job], deck: DeckContext, store: Store) -> Generator[FileResult, None, None]:
    """The results of `jobs`, in order, each also filed in the cache.

    Worker processes on every core do the work; results stream back in order, so memory holds
    only a few in transit. A worker that dies raises workers.WorkerDied with its job.
    """
    count = min(os.cpu_count() or 1, len(jobs) // _PARALLEL_MIN_FILES)
    if count < 2:
        for job in jobs:
            yield _process_job(job, deck, store)
        return
    results = workers.imap(functools.partial(_process_remote, deck=deck, store=store), _batches(jobs, count), count)
    try:
        for payload in results:  # from our own worker processes, never from a file
            result = decode(loads(payload))
            assert result is not None, "a worker's result is what encode() made"
            yield result
    finally:
        results.close()  # stops the workers, then what those stopped mid-write left goes
        store.remove_leftovers("files/*/*.tmp")


def _died(died: workers.WorkerDied) -> FileResult:
    path: Path = died.task[0]
    return FileResult(path, problems=[Problem(
        Location(shown_path(path)), f"the process compiling this card file died ({died.how})",
        "it may have run out of memory: build again, and if this file fails again, split it into smaller "
        "card files; nothing was written")])


def _batches(jobs: list[Job], workers: int) -> Iterator[list[Job]]:
    """Jobs in batches that shrink towards the end: large ones cost little in messages, small
    last ones let every worker finish at about the same time."""
    start = 0
    while start < len(jobs):
        size = max(1, (len(jobs) - start) // (workers * 4))
        yield jobs[start:start + size]
        start += size


def _process_remote(job: Job, deck: DeckContext, store: Store) -> bytes:
    """A job in a worker process: its result as the bytes of its cache record, which the worker
    makes to file it anyway and the parent decodes as it decodes a cache hit (cheaper than
    pickling the result a second time)."""
    payload = dumps(encode(process_file(job[0], deck, MediaStore(deck.root))))
    _file(job, store, payload)
    return payload


def _process_job(job: Job, deck: DeckContext, store: Store) -> FileResult:
    # Each file gets its own media store; the caller adopts the images a result names.
    result = process_file(job[0], deck, MediaStore(deck.root))
    if job[1] is not None:
        _file(job, store, dumps(encode(result)))
    return result


def _file(job: Job, store: Store, payload: bytes) -> None:
    path, key, digest = job
    if key is not None and _digest(path) == digest:  # file results only under their bytes
        store.write_payload(store.folder / "files" / key[:2] / key, key, payload)


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(read_bytes(path)).hexdigest()
    except OSError:
        return None
