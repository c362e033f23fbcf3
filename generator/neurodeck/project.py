"""Where a project is: its root folder, paths as shown in messages, and the card files a
manifest's globs name. Light on purpose (no YAML): the up-to-date check imports it."""
from __future__ import annotations

import errno
import functools
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from neurodeck.model import Manifest, Problem, Text


def project_root(manifest_path: Path) -> Path:
    """Manifests live in <root>/decks/; elsewhere the manifest's own folder is the root."""
    folder = manifest_path.resolve().parent
    return folder.parent if folder.name == "decks" else folder


def find_root(start: Path) -> Path | None:
    """The nearest folder, `start` or one above it, that holds a `decks/` folder (as git looks
    for `.git`), absolute; None when there is none up to the file system's root."""
    folder = start.absolute()
    for candidate in (folder, *folder.parents):
        try:
            if (candidate / "decks").is_dir():
                return candidate
        except OSError:  # a folder we may not look into: keep climbing, as git does
            continue
    return None


def shown_path(path: Path | str) -> str:
    """The path as printed in messages: relative to the working folder when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - other drive on Windows
        return str(path)


MAX_GLOB_ENTRIES = 200_000  # folder entries one glob may visit: far beyond any deck, and a few seconds


def glob_files(root: Path, pattern: str) -> list[Path] | None:
    """The files `pattern` matches under `root`, sorted; None when the pattern leaves the project
    (an absolute path or a '..' part), which no build may read."""
    found = glob_paths(root, pattern)
    return None if found is None else [Path(p) for p in found]


def glob_paths(root: Path, pattern: str) -> list[str] | None:
    """`glob_files` as strings, which the up-to-date check compares without making Paths."""
    found = _expand(root, pattern)
    return None if found is None else found[0]


def _expand(root: Path, pattern: str) -> tuple[list[str], bool] | None:
    """(matches, whether the walk stopped at MAX_GLOB_ENTRIES), or None for a pattern that leaves.

    Like glob.glob(recursive=True), but `**` never descends into a symbolic link to a folder,
    so a link loop cannot make it walk for ever; names starting with '.' match only a pattern
    part starting with '.'."""
    if os.path.isabs(pattern) or ".." in Path(pattern).parts or "\0" in pattern:
        return None
    parts = [p for p in pattern.split("/") if p not in ("", ".")]
    fixed = 0
    while fixed < len(parts) and not _MAGIC.search(parts[fixed]):
        fixed += 1
    base = root.joinpath(*parts[:fixed])
    rest = tuple(parts[fixed:])
    if not rest:
        return ([str(base)] if os.path.lexists(base) else []), False
    deepest = None if "**" in rest else len(rest)
    matches: list[str] = []
    visited = 0
    for folder, dirs, names in os.walk(base, followlinks=False):
        relative = () if folder == str(base) else tuple(Path(folder).relative_to(base).parts)
        depth = len(relative) + 1
        entries = names + dirs  # a folder that matches is reported as one, as glob would list it
        visited += len(entries)
        if depth == deepest:  # every folder on the way matched its part: only the last part is left
            last, hidden = _part_regex(rest[-1]), rest[-1].startswith(".")
            matches += [os.path.join(folder, name) for name in entries
                        if (hidden or not name.startswith(".")) and last(name)]
        elif deepest is None:
            matches += [os.path.join(folder, name) for name in entries if _matches(rest, relative + (name,))]
        visited += len(dirs)
        if visited > MAX_GLOB_ENTRIES:
            return sorted(matches), True
        # descend only where the pattern can still match, never into hidden folders it does not name
        dirs[:] = [d for d in dirs if (deepest is None or depth < deepest)
                   and not os.path.islink(os.path.join(folder, d)) and _could_match(rest, relative + (d,))]
    return sorted(matches), False


@functools.lru_cache(maxsize=256)
def _part_regex(part: str) -> Callable[[str], re.Match[str] | None]:
    """What fnmatch.fnmatchcase(name, part) tests, compiled once per part."""
    import fnmatch  # only globs with wildcards need it, not the up-to-date check's imports

    return re.compile(fnmatch.translate(part)).match


_MAGIC = re.compile("[*?[]")  # what glob.has_magic looks for


@functools.lru_cache(maxsize=4096)
def _matches(pattern: tuple[str, ...], names: tuple[str, ...]) -> bool:
    if not pattern:
        return not names
    if pattern[0] == "**":  # any number of folders; last in the pattern, at least one name (as in glob)
        if len(pattern) > 1 and _matches(pattern[1:], names):
            return True
        if not names or names[0].startswith("."):
            return False
        return len(names) == 1 and len(pattern) == 1 or _matches(pattern, names[1:])
    return (bool(names) and _part_matches(pattern[0], names[0]) and _matches(pattern[1:], names[1:]))


def _could_match(pattern: tuple[str, ...], folders: tuple[str, ...]) -> bool:
    """Whether some path below `folders` could match `pattern`."""
    if not folders:
        return True
    if not pattern:
        return False
    if pattern[0] == "**":
        return _could_match(pattern[1:], folders) or (not folders[0].startswith(".")
                                                       and _could_match(pattern, folders[1:]))
    return _part_matches(pattern[0], folders[0]) and _could_match(pattern[1:], folders[1:])


def _part_matches(part: str, name: str) -> bool:
    if name.startswith(".") and not part.startswith("."):
        return False
    return _part_regex(part)(name) is not None


def card_files(manifest: Manifest) -> tuple[list[Path], list[Problem]]:
    """Expand the manifest's globs, relative to the project root, in a stable order.

    A match whose name is not UTF-8, or that resolves outside the project (a symbolic link out
    of it), is an error: the build reads only the project's own files."""
    return project_files(manifest, manifest.cards)


# The note type files of a manifest that names none (source/notetypes.py).
DEFAULT_NOTETYPES = "notetypes/*.yaml"


def notetype_globs(manifest: Manifest) -> list[str]:
    """The globs naming a deck's note type files: the manifest's `notetypes`, or the default."""
    return [g.value for g in manifest.notetypes] if manifest.notetypes is not None else [DEFAULT_NOTETYPES]


def notetype_files(manifest: Manifest) -> tuple[list[Path], list[Problem]]:
    """The note type files of a deck, as `card_files` finds card files; the default glob may match
    nothing (a deck without note types of its own)."""
    if manifest.notetypes is not None:
        return project_files(manifest, manifest.notetypes, "note type file")
    from neurodeck.model import Text

    return project_files(manifest, [Text(DEFAULT_NOTETYPES, manifest.location)], "note type file", True)


def project_files(manifest: Manifest, patterns: list[Text], what: str = "card file",
                  none_ok: bool = False) -> tuple[list[Path], list[Problem]]:
    """The files `patterns` match under the project root, each once, in pattern order."""
    from neurodeck.model import Problem  # here: model imports dataclasses, too slow for the up-to-date check

    problems: list[Problem] = []
    found: dict[Path, None] = {}
    inside = os.path.realpath(manifest.root)
    folders: dict[str, str] = {}
    for pattern in patterns:
        expanded = _expand(manifest.root, pattern.value)
        if expanded is None:
            problems.append(Problem(pattern.location, f"glob '{pattern.value}' leaves the project",
                                    "globs are relative to the project root"))
            continue
        matches, stopped = expanded
        if stopped:
            problems.append(Problem(pattern.location, f"glob '{pattern.value}' visits more than "
                                    f"{MAX_GLOB_ENTRIES:,} folder entries", "name the card folder in the glob"))
            continue
        if not matches and not none_ok:
            problems.append(Problem(pattern.location, f"glob '{pattern.value}' matches no file",
                                    f"globs are relative to the project root {shown_path(manifest.root)}"))
        for match in matches:
            if not is_utf8(match):
                problems.append(Problem(pattern.location, f"file name {shown_path(match)!a} is not valid UTF-8",
                                        "rename the file"))
                continue
            real = _realpath(match, folders)
            if os.path.commonpath([inside, real]) != inside:
                problems.append(Problem(pattern.location, f"{what} {shown_path(match)} is a link to "
                                        "a file outside the project", "copy the file into the project"))
                continue
            found.setdefault(Path(match), None)
    return list(found), problems


def _realpath(path: str, folders: dict[str, str]) -> str:
    """os.path.realpath(path), resolving each folder once (`folders` remembers them): a deck's
    card files share a few folders, and resolving every file's whole path took one system call
    per folder of it, per file."""
    folder, name = os.path.split(path)
    if name in ("", ".", "..") or os.path.islink(path):
        return os.path.realpath(path)
    real = folders.get(folder)
    if real is None:
        real = folders[folder] = os.path.realpath(folder)
    return os.path.join(real, name)


def is_utf8(name: str) -> bool:
    """Whether a name (a path from the OS: undecodable bytes are surrogates) is UTF-8."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def unusable_path(value: str) -> str | None:
    """Why a path given on the command line cannot be used, or None: a NUL, a name that is not
    UTF-8 (it could never be shown or stored), a name too long, or a symbolic link loop."""
    if "\0" in value:
        return "contains a NUL character"
    if not is_utf8(value):
        return "is not valid UTF-8: rename it"
    if len(value.encode("utf-8")) > 4000 or any(len(p.encode("utf-8")) > 255 for p in value.split(os.sep)):
        return "is too long for a file name"
    try:
        os.stat(value)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENAMETOOLONG):
            return f"cannot be used: {exc.strerror}"
    return None


def working_folder_problem() -> Problem | None:
    """A problem if the working folder no longer exists (deleted under a running shell)."""
    from neurodeck.model import Location, Problem

    try:
        os.getcwd()
    except OSError as exc:
        return Problem(Location("."), f"the working folder is gone: {exc.strerror or exc}",
                       "cd into the project folder again")
    return None


MAX_READ_BYTES = 64 * 1024 * 1024  # a card file, manifest or lock: far beyond any real one


def read_bytes(path: Path | str, limit: int = MAX_READ_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; an OSError naming `path` otherwise.

    Every file of a project is read through here: the checks are made on the opened file (a FIFO
    would block for ever, /dev/zero never ends, and a name can be swapped between a check and
    an open), and at most `limit` + 1 bytes are read, so a growing file cannot exhaust memory."""
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except ValueError as exc:  # a NUL in the name
        raise OSError(errno.EINVAL, str(exc), str(path)) from exc
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(errno.EINVAL, "is not a regular file (a FIFO, device or socket)", str(path))
        if info.st_size > limit:
            raise FileTooLarge(errno.EFBIG, f"file is {info.st_size} bytes; the limit is {limit}", str(path))
        chunks, size = [], 0
        while size <= limit:
            # the whole file in one read (and one more to see its end), as long as it does not grow
            chunk = os.read(fd, min(limit + 1 - size, max(info.st_size + 1 - size, 1 << 16)))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise FileTooLarge(errno.EFBIG, f"file is more than {limit} bytes (it grew while read)", str(path))
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)  # one chunk: no copy
    finally:
        os.close(fd)


class FileTooLarge(OSError):
    """A file over the limit of `read_bytes`."""


class NotRegularFile(OSError):
    """A FIFO, device or socket where `read_bytes` expected a file."""
