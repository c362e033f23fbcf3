"""What `neurodeck diff` works on: one side's deck as a Snapshot, and the DeckDiff of two sides.

Plain data, and the few text helpers the reading, comparing and formatting modules share.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from neurodeck.render.plaintext import plain_text

# ---- snapshots: what one side holds ---------------------------------------------------------

@dataclass(frozen=True)
class NoteTypeInfo:
    id: int
    name: str
    fields: tuple[tuple[str, int | None], ...]  # (name, id) in order; ids are absent in old exports
    templates: tuple[tuple[str, int | None], ...]
    cloze: bool
    css: str
    texts: tuple[tuple[str, str, str], ...]  # (template name, front, back)

    def schema(self) -> tuple:
        """What Anki compares to decide between updating the note type in place and copying it."""
        return self.fields, self.templates, self.cloze


@dataclass(frozen=True)
class NoteInfo:
    guid: str
    name: str  # the Id field (neurodeck's last field), else the first field, as plain text
    notetype: int
    fields: tuple[str, ...]  # HTML
    tags: tuple[str, ...]
    decks: tuple[str, ...]  # the decks of its cards, sorted


@dataclass
class Snapshot:
    """One deck as released: its notes by GUID and its note types by id."""

    label: str  # how the side is shown: "v1.apkg", "HEAD~1:test-deck.apkg"
    key: str  # output file name; pairs the decks of the two sides
    deck: str  # top-level deck name(s)
    notes: dict[str, NoteInfo] = field(default_factory=dict)
    notetypes: dict[int, NoteTypeInfo] = field(default_factory=dict)


# ---- the diff -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Segment:
    op: str  # "=" unchanged, "-" deleted, "+" inserted
    text: str


@dataclass
class FieldChange:
    name: str
    old: str  # plain text
    new: str
    segments: list[Segment]

    @property
    def formatting_only(self) -> bool:
        return all(s.op == "=" for s in self.segments)


@dataclass
class NoteRef:
    name: str
    guid: str
    decks: list[str]


@dataclass
class NoteChange:
    name: str
    guid: str
    decks: list[str]
    fields: list[FieldChange] = field(default_factory=list)
    tags_added: list[str] = field(default_factory=list)
    tags_removed: list[str] = field(default_factory=list)
    notetype: list[str] | None = None  # [old name, new name] when the note's type changed


@dataclass
class Move:
    name: str
    guid: str
    old: list[str]
    new: list[str]


@dataclass
class NoteTypeChange:
    id: int
    name: str
    kind: str  # "added" | "removed" | "schema" (Anki copies it) | "in-place"
    details: list[str] = field(default_factory=list)


@dataclass
class DiffWarning:
    kind: str  # "removed" | "moved" | "fork" | "notetype"
    message: str
    items: list[str] = field(default_factory=list)


@dataclass
class DeckDiff:
    key: str
    deck: str
    old: str  # side labels
    new: str
    added: list[NoteRef] = field(default_factory=list)
    changed: list[NoteChange] = field(default_factory=list)
    removed: list[NoteRef] = field(default_factory=list)
    retired: list[NoteRef] = field(default_factory=list)
    moved: list[Move] = field(default_factory=list)
    notetypes: list[NoteTypeChange] = field(default_factory=list)
    unchanged: int = 0
    warnings: list[DiffWarning] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed or self.retired or self.moved or self.notetypes)

    def to_json(self) -> dict:
        return dict(asdict(self), summary=counts(self))


def counts(d: DeckDiff) -> dict[str, int]:
    """How many notes of each kind of change, and how many note type changes."""
    return {"added": len(d.added), "changed": len(d.changed), "removed": len(d.removed),
            "retired": len(d.retired), "moved": len(d.moved), "unchanged": d.unchanged,
            "notetypes": len(d.notetypes)}


def plural(count: int, noun: str) -> str:
    """"1 note", "2 notes"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


_IMG = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']?([^"'\s>]+)[^>]*>""", re.IGNORECASE)


def field_text(field_html: str) -> str:
    """A field as the diff compares and names it: its plain text with each image kept as
    "[image: name]", whitespace runs as one space."""
    return " ".join(plain_text(_IMG.sub(lambda m: f" [image: {m.group(1)}] ", field_html)).split())
