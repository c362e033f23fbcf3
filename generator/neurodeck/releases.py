"""Releases newer than the lock, as far as a build can see them, so that no note's `mod` goes back.

A lock rolled back with the cards (`git checkout v1 -- cards decks`), or deleted and rebuilt
with an older SOURCE_DATE_EPOCH, gives notes older `mod`s than a release students already have,
and Anki then skips them. A build sees three kinds of release: the package it is about to
replace, a package or git revision given with `--previous`, and the lock as committed at HEAD
and at every tag. The first and last only stop a build (its output stays a function of the
sources and the lock); `--previous` also takes the newer `mod`s into the lock.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from neurodeck import lockfile
from neurodeck.lockfile import Entry, NoteTypeEntry, Shipped
from neurodeck.model import Location, Note, Problem

if TYPE_CHECKING:
    from neurodeck.apkg.notetypes import CustomNoteType, NoteType
    from neurodeck.apkg.reader import CollectionReader, NoteRecord, NoteTypeRecord


@dataclass
class Releases:
    """Every note some release shipped: by card id (from locks) and by GUID (from packages)."""

    by_id: dict[str, list[Shipped]] = field(default_factory=dict)
    by_guid: dict[str, list[Shipped]] = field(default_factory=dict)
    notetypes: dict[str, list[Shipped]] = field(default_factory=dict)  # by card type ("basic", ...)

    def of(self, note: Note) -> list[Shipped]:
        return self.by_id.get(note.id, []) + self.by_guid.get(note.guid, [])

    def merge(self, other: Releases) -> None:
        for mine, theirs in ((self.by_id, other.by_id), (self.by_guid, other.by_guid),
                             (self.notetypes, other.notetypes)):
            for key, shipped in theirs.items():
                mine.setdefault(key, []).extend(shipped)


def from_package(path: Path, label: str, namespace: str,
                 own: Mapping[int, str] | None = None) -> tuple[Releases | None, list[Problem]]:
    """The notes of a built package, keyed by GUID (read with the hardened reader)."""
    from neurodeck.apkg.reader import PackageError, open_collection

    try:
        with open_collection(path) as db:
            releases = _shipped(db.notes(), label, namespace, own)
            releases.merge(_shipped_types(db.notetypes(), label, namespace, own))
            return releases, []
    except PackageError as exc:
        return None, [Problem(Location(label), str(exc), exc.hint)]


def _kinds(namespace: str, own: Mapping[int, str] | None) -> dict[int, str]:
    """A deck's note type ids -> the card type (or own type's key) its notes name."""
    from neurodeck.apkg.notetypes import note_types
    from neurodeck.apkg.occlusion_type import occlusion_id

    return {**{nt.id: kind for kind, nt in note_types(namespace).items()}, occlusion_id(namespace): "occlusion",
            **(own or {})}


def _shipped(notes: Iterable[NoteRecord], label: str, namespace: str, own: Mapping[int, str] | None = None) -> Releases:
    kinds = _kinds(namespace, own)
    releases = Releases()
    for note in notes:
        content = lockfile.note_content(kinds.get(note.notetype, str(note.notetype)), note.fields, note.tags)
        releases.by_guid.setdefault(note.guid, []).append(Shipped(note.mod, label, content=content))
    return releases


def _shipped_types(notetypes: dict[int, NoteTypeRecord], label: str, namespace: str,
                   own: Mapping[int, str] | None = None) -> Releases:
    """The deck's note types in a package (matched by id, as Anki matches them), by kind."""
    kinds = _kinds(namespace, own)
    releases = Releases()
    for mid, nt in notetypes.items():
        if mid in kinds:
            content = lockfile.notetype_content(nt.name, nt.css, nt.texts)
            releases.notetypes.setdefault(kinds[mid], []).append(Shipped(nt.mod, label, content=content))
    return releases


def notetype_contents(types: Mapping[str, NoteType | CustomNoteType]) -> dict[str, tuple]:
    """A build's note types as `lockfile.notetype_content` shows them, by kind."""
    return {kind: lockfile.notetype_content(nt.name, nt.css, [(t.name, t.qfmt, t.afmt) for t in nt.templates])
            for kind, nt in types.items()}


def from_locks(texts: dict[str, bytes]) -> Releases:
    """The notes of lock files (revision -> bytes), keyed by card id. Unreadable ones are skipped:
    a lock that never parsed was never a release."""
    releases = Releases()
    for where, data in texts.items():
        try:
            lock = json.loads(data)
            for into, entries in ((releases.by_id, lock["notes"]), (releases.notetypes, lock.get("notetypes", {}))):
                for key, entry in entries.items():
                    mod = entry["mod"]
                    if isinstance(mod, int) and not isinstance(mod, bool):
                        into.setdefault(str(key), []).append(Shipped(mod, where, hash=str(entry["hash"])))
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            continue
    return releases


def committed_locks(lock_path: Path, revisions: list[str] | None = None) -> dict[str, bytes]:
    """The lock as committed at `revisions` (default: HEAD and every tag), each distinct version
    once and none equal to the lock on disk. Empty outside a git repository."""
    folder = lock_path.parent if lock_path.parent.is_dir() else Path.cwd()
    if not _in_repository(folder):
        return {}
    try:
        top = Path(_git(folder, "rev-parse", "--show-toplevel").decode().strip())
        relative = lock_path.resolve().relative_to(top.resolve()).as_posix()
        if revisions is None:
            # Tags first: a version held by a tag and HEAD is named by its tag.
            revisions = _git(top, "for-each-ref", "--format=%(refname)", "refs/tags").decode().split() + ["HEAD"]
        checked = _git(top, "cat-file", "--batch-check", stdin="".join(f"{r}:{relative}\n" for r in revisions))
    except (OSError, ValueError, _GitError):
        return {}
    try:
        on_disk = lock_path.read_bytes()
        skip = hashlib.sha1(b"blob %d\0" % len(on_disk) + on_disk).hexdigest()
    except OSError:
        skip = None
    wanted: dict[str, str] = {}  # blob id -> the first revision holding it
    for revision, line in zip(revisions, checked.decode(errors="replace").splitlines()):
        parts = line.split()
        if len(parts) == 3 and parts[1] == "blob" and parts[0] != skip:
            wanted.setdefault(parts[0], revision.removeprefix("refs/tags/"))
    if not wanted:
        return {}
    try:
        out = _git(top, "cat-file", "--batch", stdin="".join(f"{oid}\n" for oid in wanted))
    except _GitError:
        return {}
    texts, pos = {}, 0
    while pos < len(out):  # "<oid> blob <size>\n<content>\n", once per blob
        end = out.index(b"\n", pos)
        oid, _, size = out[pos:end].decode().split()
        texts[wanted[oid]] = out[end + 1:end + 1 + int(size)]
        pos = end + 2 + int(size)
    return texts


class _GitError(Exception):
    pass


def _in_repository(folder: Path) -> bool:
    """Whether git could find a repository from `folder`: `GIT_DIR` is set, or `folder` or one
    above it holds a `.git` (a folder, or a worktree's file). Outside one, starting git only to
    hear so would cost every build a process."""
    if os.environ.get("GIT_DIR"):
        return True
    try:
        folder = folder.resolve()
    except (OSError, RuntimeError):
        return True
    return any(os.path.lexists(candidate / ".git") for candidate in (folder, *folder.parents))


def _git(cwd: Path, *args: str, stdin: str | None = None) -> bytes:
    import subprocess  # only builds in a repository start git

    try:
        done = subprocess.run(["git", *args], cwd=cwd, input=stdin.encode() if stdin is not None else None,
                              capture_output=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise _GitError(str(exc)) from exc
    if done.returncode != 0:
        raise _GitError(done.stderr.decode(errors="replace").strip())
    return done.stdout


def load_previous(spec: str, lock_path: Path, namespace: str,
                  own: Mapping[int, str] | None = None) -> tuple[Releases | None, list[Problem]]:
    """`--previous SPEC`: a built package, or a git revision whose committed lock is read."""
    path = Path(spec)
    if path.is_file():
        return from_package(path, spec, namespace, own)
    where = Location(spec)
    if path.exists():
        return None, [Problem(where, "--previous must be a package (.apkg) or a git revision")]
    if spec.startswith("-") or not spec.strip() or "\n" in spec:
        return None, [Problem(where, f"'{spec}' is neither a package nor a git revision")]
    texts = committed_locks(lock_path, [spec])
    if not texts:
        return None, [Problem(where, f"no package '{spec}', and no lock committed at a git revision '{spec}'",
                              "give the package of the newest release, or its git tag")]
    return from_locks(texts), []


class Watch:
    """Reads, in a thread while the deck compiles, the releases a build can see by itself: the
    package it would replace and the committed locks. Reading them never stops a build; only
    what they show does (see `problems`).

    Of the package, only each note's `mod` is read at first. A note it shipped with the lock's
    own `mod` was built from the lock's entry (and that build was checked against what it could
    see then), so only notes newer than the lock, or missing from it, are read whole: on a large
    deck, a fraction of a second instead of several. A package that `written_with_lock` says
    the last build wrote together with the lock now on disk is not read at all: all its `mod`s
    are the lock's own, so it holds no note newer than the lock."""

    def __init__(self, output: Path, lock_path: Path, namespace: str, own: Mapping[int, str] | None = None,
                 written_with_lock: Callable[[Path], bool] | None = None):
        self.releases = Releases()
        self._output, self._namespace, self._own = output, namespace, own
        self._package = ExitStack()
        self._db: CollectionReader | None = None
        self._mods: dict[str, int] = {}
        self._thread = threading.Thread(target=self._load, args=(lock_path, written_with_lock), daemon=True)
        self._thread.start()

    def _load(self, lock_path: Path, written_with_lock: Callable[[Path], bool] | None) -> None:
        types = Releases()
        if self._output.is_file() and not (written_with_lock is not None and written_with_lock(self._output)):
            from neurodeck.apkg.reader import PackageError, open_collection

            try:
                self._db = self._package.enter_context(open_collection(self._output))
                self._mods = dict(self._db.note_mods())
                types = _shipped_types(self._db.notetypes(), _shown(self._output), self._namespace, self._own)
            except PackageError:  # a damaged package is replaced, not a release
                self._db, types = None, Releases()
        self.releases = from_locks(committed_locks(lock_path))
        self.releases.merge(types)

    def problems(self, notes: list[Note], entries: dict[str, Entry], old: lockfile.Lock | None,
                 lock_shown: str, notetypes: dict[str, tuple[NoteTypeEntry, tuple]] | None = None) -> list[Problem]:
        """What the releases seen show against this build's notes and (used) note types."""
        self._thread.join()
        try:
            if self._db is not None:
                from neurodeck.apkg.reader import PackageError

                recorded = old.notes if old else {}
                newer = [n.guid for n in notes if self._mods.get(n.guid, -1) > getattr(recorded.get(n.id), "mod", -1)]
                try:
                    if newer:
                        self.releases.merge(_shipped(self._db.notes(newer), _shown(self._output), self._namespace,
                                                     self._own))
                except PackageError:
                    pass
        finally:
            self.close()
        return (going_back(notes, entries, self.releases, lock_shown)
                + types_going_back(notetypes or {}, self.releases, lock_shown))

    def close(self) -> None:
        """Remove the package's extracted collection (when the build stops early, too)."""
        self._thread.join()
        self._package.close()


def _shown(path: Path) -> str:
    from neurodeck.project import shown_path

    return shown_path(path)


def types_going_back(notetypes: dict[str, tuple[NoteTypeEntry, tuple]], releases: Releases,
                     lock_shown: str) -> list[Problem]:
    """As `going_back`, for the deck's note types (kind -> lock entry and content), whose template
    and CSS changes Anki applies only with a newer note type `mod`."""
    problems = []
    for kind, (entry, content) in sorted(notetypes.items()):
        release = lockfile.going_back(entry, content, releases.notetypes.get(kind, []))
        if release is not None:
            problems.append(Problem(
                Location(lock_shown),
                f"note type '{kind}' would get an older `mod` than release {release.where} gave it: Anki "
                "would skip its template and CSS changes for students who have that release",
                f"run `neurodeck build --previous {release.where}` to record a newer mod time in the lock, "
                "then commit it"))
    return problems


def going_back(notes: list[Note], entries: dict[str, Entry], releases: Releases, lock_shown: str) -> list[Problem]:
    """One problem per release that students may have with newer `mod`s than this build gives
    (or as new, with other content): Anki would keep the release's content for them, now or at
    the note's next change."""
    if not releases.by_id and not releases.by_guid:
        return []
    behind: dict[str, list[str]] = {}
    for note in notes:
        shipped = releases.of(note)
        if shipped:
            release = lockfile.going_back(entries[note.id], lockfile.note_content(note.type, note.fields, note.tags),
                                          shipped)
            if release is not None:
                behind.setdefault(release.where, []).append(note.id)
    problems = []
    for where, ids in sorted(behind.items()):
        shown = ", ".join(sorted(ids)[:5]) + (", ..." if len(ids) > 5 else "")
        problems.append(Problem(
            Location(lock_shown),
            f"{len(ids)} note{'s' if len(ids) != 1 else ''} would get older `mod` times than release {where} "
            f"gave them ({shown}): Anki would skip their changes for students who have that release "
            "(was the lock rolled back, or rebuilt with an older SOURCE_DATE_EPOCH?)",
            f"run `neurodeck build --previous {where}` to record newer mod times in the lock, then commit it"))
    return problems
