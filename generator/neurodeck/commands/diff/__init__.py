"""`neurodeck diff`: what changed between two releases of a deck, and what Anki will not carry over.

Each side is a built `.apkg` (read.py) or a git revision of the project (git.py: that revision's
sources built with the current compiler in a temporary folder); sides.py loads them, compare.py
diffs two Snapshots (model.py) and format.py prints the result. Loading returns Problems;
diffing and formatting are pure.
"""
from neurodeck.commands.diff.compare import diff_sides, diff_snapshots, is_retired, word_diff
from neurodeck.commands.diff.format import format_json, format_markdown, format_text
from neurodeck.commands.diff.git import load_revision
from neurodeck.commands.diff.model import (
                                           DeckDiff,
                                           DiffWarning,
                                           FieldChange,
                                           Move,
                                           NoteChange,
                                           NoteInfo,
                                           NoteRef,
                                           NoteTypeChange,
                                           NoteTypeInfo,
                                           Segment,
                                           Snapshot,
                                           field_text,
)
from neurodeck.commands.diff.read import read_package
from neurodeck.commands.diff.sides import compare, load_side
from neurodeck.model import RETIRED_TAG

__all__ = [
    "RETIRED_TAG", "DeckDiff", "DiffWarning", "FieldChange", "Move", "NoteChange", "NoteInfo", "NoteRef",
    "NoteTypeChange", "NoteTypeInfo", "Segment", "Snapshot", "compare", "diff_sides", "diff_snapshots",
    "format_json", "format_markdown", "format_text", "is_retired", "load_revision", "load_side", "field_text",
    "read_package", "word_diff",
]
