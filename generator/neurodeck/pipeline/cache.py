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
import pickle
from collections.abc import Generator, Iterator
from pathlib import Path
from sys import intern
from typing import Any

from neurodeck.model import DeckContext, Location, Note, Problem
from neurodeck.pipeline import workers
from neurodeck.pipeline.compile_file import FileResult, process_file
from neurodeck.pipeline.stamps import code_key
from neurodeck.pipeline.store import Store
from neurodeck.project import read_bytes
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
                    result = next(fresh)
                    if not all(media.adopt(name, source) for name, source in result.media.items()):
                        result = process_file(path, self.deck, media)  # an image changed meanwhile
                yield result
        finally:
            fresh.close()  # stops the worker processes


def encode(result: FileResult) -> list[Any]:
    """A file's result as plain JSON values (named tuples become arrays)."""
    return [str(result.path), result.notes, [(p.location, p.message, p.hint, p.severity) for p in result.problems],
            result.media]


def decode(value: Any) -> FileResult | None:
    """The result `encode` made `value` from; None for anything else."""
    if value is None:
        return None
    try:
        path, notes, problems, media = value
        return FileResult(Path(path), [_note(*note) for note in notes],
                          [Problem(_location(*where), message, hint, severity)
                           for where, message, hint, severity in problems],
                          {str(name): str(source) for name, source in media.items()})
    except (TypeError, ValueError, AttributeError):
        return None


def _location(path: str, line: int, column: int) -> Location:
    return Location(intern(path), line, column)


def _note(id: str, id_location: list, type: str, location: list, subtopic: str, fields: list, tags: list,
          deck: str, ords: list, media: list, guid: str, sort_field: str, checksum: int, hash: str,
          retired: bool, given_guid: bool) -> Note:
    # Interned, as rendering does: a large deck then holds each tag, deck and path name once.
    return Note(id, _location(*id_location), intern(type), _location(*location), intern(subtopic), tuple(fields),
                tuple(map(intern, tags)), intern(deck), tuple(ords), tuple(media), guid, sort_field, checksum, hash,
                retired, given_guid)


# Below this many files a process pool costs more than it saves.
_PARALLEL_MIN_FILES = 8

# (card file, cache key or None, sha256 of the bytes the cache key was made from or None)
Job = tuple[Path, "str | None", "str | None"]


def _process_many(jobs: list[Job], deck: DeckContext, store: Store) -> Generator[FileResult, None, None]:
    """The results of `jobs`, in order, each also filed in the cache.

    Worker processes on every core do the work; results stream back in order and are unpickled
    as they arrive, so memory holds only a few in transit.
    """
    count = min(os.cpu_count() or 1, len(jobs) // _PARALLEL_MIN_FILES)
    if count < 2:
        for job in jobs:
            yield _process_job(job, deck, store)
        return
    remote = functools.partial(_process_remote, deck=deck, store=store)
    batches = workers.imap(remote, _batches(jobs, count), count)
    try:
        for batch in batches:
            for payload in batch:
                yield pickle.loads(payload)  # from our own worker processes, never from a file
    finally:
        batches.close()  # stops the workers, then what those stopped mid-write left goes
        store.remove_leftovers("files/*/*.tmp")


def _batches(jobs: list[Job], workers: int) -> Iterator[list[Job]]:
    """Jobs in batches that shrink towards the end: large ones cost little in messages, small
    last ones let every worker finish at about the same time."""
    start = 0
    while start < len(jobs):
        size = max(1, (len(jobs) - start) // (workers * 4))
        yield jobs[start:start + size]
        start += size


def _process_remote(batch: list[Job], deck: DeckContext, store: Store) -> list[bytes]:
    return [pickle.dumps(_process_job(job, deck, store), protocol=pickle.HIGHEST_PROTOCOL) for job in batch]


def _process_job(job: Job, deck: DeckContext, store: Store) -> FileResult:
    path, key, digest = job
    # Each file gets its own media store; the caller adopts the images a result names.
    result = process_file(path, deck, MediaStore(deck.root))
    if key is not None and _digest(path) == digest:  # file results only under their bytes
        store.write(store.folder / "files" / key[:2] / key, key, encode(result))
    return result


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(read_bytes(path)).hexdigest()
    except OSError:
        return None
