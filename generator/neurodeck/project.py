"""Where a project is: its root folder, paths as shown in messages, and the card files a
manifest's globs name. Light on purpose (no YAML): the up-to-date check imports it."""
from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from neurodeck.model import Manifest, Problem


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


def shown_path(path: Path) -> str:
    """The path as printed in messages: relative to the working folder when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - other drive on Windows
        return str(path)


def glob_files(root: Path, pattern: str) -> list[Path] | None:
    """The files `pattern` matches under `root`, sorted; None when the pattern leaves the project
    (an absolute path or a '..' part), which no build may read."""
    if os.path.isabs(pattern) or ".." in Path(pattern).parts:
        return None
    return [Path(match) for match in sorted(glob.glob(str(root / pattern), recursive=True))]


def card_files(manifest: Manifest) -> tuple[list[Path], list[Problem]]:
    """Expand the manifest's globs, relative to the project root, in a stable order."""
    from neurodeck.model import Problem  # here: model imports dataclasses, too slow for the up-to-date check

    problems: list[Problem] = []
    found: dict[Path, None] = {}
    for pattern in manifest.cards:
        matches = glob_files(manifest.root, pattern.value)
        if matches is None:
            problems.append(Problem(pattern.location, f"glob '{pattern.value}' leaves the project",
                                    "globs are relative to the project root"))
            continue
        if not matches:
            problems.append(Problem(pattern.location, f"glob '{pattern.value}' matches no file",
                                    f"globs are relative to the project root {shown_path(manifest.root)}"))
        for match in matches:
            found.setdefault(match, None)
    return list(found), problems
