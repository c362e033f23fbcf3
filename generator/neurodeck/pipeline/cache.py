"""A content-addressed cache of processed card files, under `.neurodeck-cache/` (safe to delete).

An entry is keyed by the file's bytes, its path, the deck identity and neurodeck's code, and
holds the file's notes and problems. Entries carry a checksum: a damaged or unreadable entry is
ignored and rebuilt, and images are re-checked against their content-hashed names on every use.
"""
from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import pickle
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Iterator

from neurodeck.pipeline.stamps import cache_dir, code_key
from neurodeck.render.media import MediaStore
from neurodeck.model import DeckContext
from neurodeck.pipeline.compile_file import FileResult, process_file

_MAGIC = b"NDC1"


class FileCache:
    def __init__(self, manifest_path: Path, deck: DeckContext):
        self.folder = cache_dir(manifest_path) / "files"
        self.deck = deck
        self.salt = f"{code_key()}\0{deck.name}\0{deck.namespace}\0{deck.tag}\0{deck.root}".encode()
        self.digests: dict[str, str] = {}  # path -> sha256 of the bytes this build used
        leftovers = [*self.folder.glob("*/*.tmp"), *self.folder.parent.glob("stamps/*.tmp")]
        for leftover in leftovers:  # from builds killed mid-write
            try:
                leftover.unlink()
            except OSError:
                pass

    def process_all(self, paths: list[Path], media: MediaStore) -> Iterator[FileResult]:
        """Every file's result, in order, each as soon as it is ready: from the cache when the
        file's inputs are unchanged, the rest processed on all cores and filed in the cache."""
        cached: dict[Path, FileResult] = {}
        missing: list[tuple[Path, str | None]] = []
        for path in paths:
            try:
                data = path.read_bytes()
            except OSError:
                missing.append((path, None))  # process_file reports the problem
                continue
            digest = self.digests[str(path)] = hashlib.sha256(data).hexdigest()
            key = hashlib.sha256(f"{path.resolve()}\0{digest}".encode() + self.salt).hexdigest()
            entry = self.folder / key[:2] / key
            hit = _read(entry)
            if hit is not None and all(media.adopt(name, source) for name, source in hit.media.items()):
                cached[path] = hit
            else:
                missing.append((path, str(entry)))
        fresh = _process_many([(path, entry, self.digests.get(str(path))) for path, entry in missing], self.deck)
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


def _read(entry: Path) -> FileResult | None:
    try:
        blob = entry.read_bytes()
    except OSError:
        return None
    if blob[:4] != _MAGIC or hashlib.sha256(blob[36:]).digest() != blob[4:36]:
        return None
    try:
        result = pickle.loads(blob[36:])
    except Exception:  # a damaged entry is only a cache miss
        return None
    return result if isinstance(result, FileResult) else None


def _write(entry: Path, payload: bytes) -> None:
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(_MAGIC + hashlib.sha256(payload).digest() + payload)
        os.replace(tmp, entry)
    except OSError:
        pass  # a read-only cache only costs speed


# Below this many files a process pool costs more than it saves.
_PARALLEL_MIN_FILES = 8

Job = tuple  # (card file, cache entry or None, sha256 of the bytes the cache key was made from)


def _process_many(jobs: list[Job], deck: DeckContext) -> Iterator[FileResult]:
    """The results of `jobs`, in order, each also filed in the cache.

    Worker processes on every core do the work; results stream back in order and are unpickled
    as they arrive, so memory holds only a few in transit.
    """
    workers = min(os.cpu_count() or 1, len(jobs) // _PARALLEL_MIN_FILES)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for job in jobs:
            yield _process_job(job, deck)[0]
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=gc.disable) as pool:
        batches = [pool.submit(_process_remote, batch, deck) for batch in _batches(jobs, workers)]
        for batch in batches:
            for payload in batch.result():
                yield pickle.loads(payload)


def _batches(jobs: list[Job], workers: int) -> Iterator[list[Job]]:
    """Jobs in batches that shrink towards the end: large ones cost little in messages, small
    last ones let every worker finish at about the same time."""
    start = 0
    while start < len(jobs):
        size = max(1, (len(jobs) - start) // (workers * 4))
        yield jobs[start:start + size]
        start += size


def _process_remote(batch: list[Job], deck: DeckContext) -> list[bytes]:
    return [_process_job(job, deck)[1] for job in batch]


def _process_job(job: Job, deck: DeckContext) -> tuple[FileResult, bytes]:
    path, entry, digest = job
    # Each file gets its own media store; the caller adopts the images a result names.
    result = process_file(path, deck, MediaStore(deck.root))
    payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    if entry is not None and _digest(path) == digest:  # file results only under their bytes
        _write(Path(entry), payload)
    return result, payload


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
