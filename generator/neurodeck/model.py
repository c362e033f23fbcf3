"""Plain data shared by every stage: locations, problems and the loaded cards and manifests."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from neurodeck.source.yamlnodes import YValue


class Location(NamedTuple):
    """A place in a source file; line and column count from 1 (0: the whole file).

    A named tuple rather than a dataclass: a large deck makes hundreds of thousands of them.
    """

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}:{self.column}"
        return self.path


@dataclass(frozen=True)
class Problem:
    """Something wrong with the input, with where it is and how to fix it."""

    location: Location
    message: str
    hint: str | None = None
    severity: str = "error"

    def format(self) -> str:
        text = f"{self.location}: {self.severity}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def to_json(self) -> dict:
        return {
            "path": self.location.path,
            "line": self.location.line,
            "column": self.location.column,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
        }


def has_errors(problems: list[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)


class Text(NamedTuple):
    """A string as the author wrote it, with where it was written."""

    value: str
    location: Location


CARD_TYPES = ("basic", "reversed", "cloze", "type-in")
# The format's rules as data, shared by the validator and the JSON Schema (schema.py).
SLUG_PATTERN = r"[a-z0-9]+(?:[-_.][a-z0-9]+)*"  # card ids and namespaces
# A tag part as JSON Schema can say it portably (no \p{L} in every regex engine): any character
# but white space and ASCII other than letters, digits, '-' and '_'. checks/names.py has the exact
# rule (letters of any script, marks, digits, '-' and '_').
_TAG_PART = r"[^\s\x00-\x2c./:-@\[-^`{-\x7f]+"
TAG_PATTERN = rf"{_TAG_PART}(?:::{_TAG_PART})*"
ROOT_TAG_PATTERN = _TAG_PART
VERSION_PATTERN = r"\d+(?:\.\d+){0,3}"
FLAG_VALUES = {True: ("true", "yes"), False: ("false", "no")}
RETIRED_TAG = "retired"  # a retired card's note is tagged <root tag>::retired


def fields_of(card_type: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The text fields a card of this type requires, and those it must not have."""
    if card_type == "cloze":
        return ("text",), ("question", "answer")
    return ("question", "answer"), ("text",)


@dataclass
class Card:
    """One card as written in a card file (before rendering)."""

    id: Text
    type: str
    location: Location
    subtopic: str
    file_path: Path
    question: Text | None = None
    answer: Text | None = None
    text: Text | None = None
    extra: Text | None = None
    source: Text | None = None
    tags: list[Text] = field(default_factory=list)
    retired: bool = False
    why: Text | None = None  # why the card was retired
    lint_ignore: list[Text] = field(default_factory=list)  # lint rule codes silenced on this card
    lint_why: Text | None = None  # the reason they are silenced


@dataclass
class CardFile:
    path: Path
    subtopic: Text
    tags: list[Text]
    cards: list[Card]


@dataclass
class Manifest:
    """A deck manifest: which card files make which deck."""

    path: Path
    root: Path
    name: str
    namespace: str
    tag: str
    description: str
    cards: list[Text]
    output: str
    location: Location
    lint: dict[str, tuple[Location, YValue]] = field(default_factory=dict)  # rule code -> raw setting
    glossary: list[Text] = field(default_factory=list)  # abbreviations that need no spelling out
    synonyms: dict[str, tuple[Location, YValue]] = field(default_factory=dict)  # answer -> raw forms (lint)
    version: Text | None = None  # the release version, set by `neurodeck release`

    @property
    def lock_path(self) -> Path:
        return self.path.with_suffix(".lock")


@dataclass(frozen=True)
class DeckContext:
    """What a note's rendering depends on besides its own card file."""

    name: str
    namespace: str
    tag: str
    root: Path

    @classmethod
    def of(cls, manifest: Manifest) -> DeckContext:
        return cls(manifest.name, manifest.namespace, manifest.tag, manifest.root)


class Note(NamedTuple):
    """A card rendered into the note that will be packaged.

    A named tuple: large decks send tens of thousands between processes, and tuples pickle
    several times faster than dataclasses."""

    id: str
    id_location: Location
    type: str
    location: Location
    subtopic: str
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck: str
    ords: tuple[int, ...]
    media: tuple[str, ...]
    guid: str
    sort_field: str
    checksum: int
    hash: str
    retired: bool = False
