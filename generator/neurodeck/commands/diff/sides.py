"""The sides of `neurodeck diff` loaded and compared: a package file, or a git revision."""
from __future__ import annotations

import os
from pathlib import Path

from neurodeck.commands.diff.compare import diff_sides
from neurodeck.commands.diff.git import load_revision
from neurodeck.commands.diff.model import DeckDiff, Snapshot
from neurodeck.commands.diff.read import read_package
from neurodeck.model import Location, Problem


def load_side(spec: str, cwd: Path) -> tuple[dict[str, Snapshot] | None, list[Problem]]:
    """An existing file is a package; anything else a git revision of the repository holding `cwd`.

    Returns the decks of that side by output file name, or None and why not.
    """
    path = Path(spec) if os.path.isabs(spec) else cwd / spec
    try:
        is_file, is_dir, exists = path.is_file(), path.is_dir(), path.exists()
    except (OSError, ValueError):  # a name too long for a file, a NUL: can only be a revision
        is_file = is_dir = exists = False
    if is_file:
        snapshot, problems = read_package(path, spec)
        return ({snapshot.key: snapshot} if snapshot else None), problems
    if is_dir:
        return None, [Problem(Location(spec), f"'{spec}' is a folder",
                              "give a built .apkg or a git revision (a tag, branch or commit)")]
    if exists:  # a FIFO, socket or device: never opened, and never mistaken for a revision
        return None, [Problem(Location(spec), f"'{spec}' is not a regular file",
                              "give a built .apkg or a git revision (a tag, branch or commit)")]
    return load_revision(spec, cwd)


def compare(old: str, new: str, cwd: Path) -> tuple[list[DeckDiff] | None, list[Problem]]:
    """Load both sides and diff them: the whole of `neurodeck diff` except printing."""
    problems: list[Problem] = []
    sides = []
    for spec in (old, new):
        snapshots, found = load_side(spec, cwd)
        problems += found
        sides.append(snapshots)
    if sides[0] is None or sides[1] is None:
        return None, problems
    return diff_sides(sides[0], sides[1]), problems
