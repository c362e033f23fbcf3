"""Plain data shared by every stage: locations, problems and the loaded cards and manifests."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from neurodeck.apkg.notetypes import CustomNoteType
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


CARD_TYPES = ("basic", "reversed", "cloze", "type-in", "occlusion")
# Image occlusion: what a shape may be, in Anki's own names (rslib's image_occlusion), and how the
# other masks behave while one is asked: hidden too (Anki's `oi=1`, its default) or shown.
SHAPE_KINDS = ("rect", "ellipse", "polygon")
OCCLUSION_MODES = ("hide-all", "hide-one")
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
FORMATS = ("markdown", "html")  # how a card file's fields are written
# Anki's GUID alphabet (rslib/src/notes/mod.rs, anki_base91): its own GUIDs are at most 10 long,
# other tools' (UUIDs, say) longer.
GUID_PATTERN = r"[a-zA-Z0-9!#$%&()*+,\-./:;<=>?@\[\]^_`{|}~]{1,64}"
RETIRED_TAG = "retired"  # a retired card's note is tagged <root tag>::retired


def fields_of(card_type: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The text fields a card of this type requires, and those it must not have."""
    if card_type == "occlusion":
        return ("image",), ("question", "answer", "text", "extra")
    if card_type == "cloze":
        return ("text",), ("question", "answer", *OCCLUSION_KEYS)
    return ("question", "answer"), ("text", *OCCLUSION_KEYS)


OCCLUSION_KEYS = ("image", "shapes", "mode", "header", "back_extra")  # an occlusion card's own keys


class Shape(NamedTuple):
    """One occlusion mask as written, in coordinates relative to the image (0..1).

    `values` are Anki's own properties in order: a rect's left, top, width, height; an ellipse's
    left, top, rx, ry (left and top of its bounding box); a polygon's x1, y1, x2, y2, ..."""

    kind: str  # one of SHAPE_KINDS
    values: tuple[Decimal, ...]
    locations: tuple[Location, ...]  # where each value was written
    label: Text
    group: Text | None
    location: Location


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
    image: Text | None = None  # occlusion: the image's path, relative to the card file
    shapes: tuple[Shape, ...] = ()  # occlusion: the masks, one card per shape or group
    mode: str = "hide-all"  # occlusion: one of OCCLUSION_MODES
    header: Text | None = None  # occlusion: Markdown above the image
    back_extra: Text | None = None  # occlusion: Markdown below the image on the answer
    named_fields: dict[str, Text] | None = None  # a custom note type's fields, by name (`fields:`)
    guid: Text | None = None  # the note's GUID when given (adopted notes), else made from namespace and id
    format: str = "markdown"  # the card file's: "markdown", or "html" (fields stored as written)


@dataclass
class CardFile:
    path: Path
    subtopic: Text
    tags: list[Text]
    cards: list[Card]
    format: str = "markdown"


class Speech(NamedTuple):
    """A `tts` entry: Anki reads `field` aloud in `lang` ({{tts lang voices=... speed=...:field}})."""

    field: Text
    lang: Text
    voices: tuple[str, ...] = ()
    speed: str | None = None  # as written, e.g. "1.2"
    location: Location = Location("")


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
    notetypes: list[Text] | None = None  # globs of note type files; None: the default (project.py)
    keep_markup: bool = False  # HTML fields keep formatting outside the allow-list (render/sanitize.py)
    tts: list[Speech] = field(default_factory=list)  # fields the built-in note types read aloud

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
    notetypes: tuple[CustomNoteType, ...] = ()  # the deck's own note types (source/notetypes.py)
    keep_markup: bool = False  # the manifest's: HTML fields keep markup outside the allow-list

    @classmethod
    def of(cls, manifest: Manifest, notetypes: tuple[CustomNoteType, ...] = ()) -> DeckContext:
        return cls(manifest.name, manifest.namespace, manifest.tag, manifest.root, notetypes, manifest.keep_markup)

    def notetype(self, key: str) -> CustomNoteType | None:
        """The deck's own note type that cards name `key` (its file stem), if any."""
        for nt in self.notetypes:
            if nt.key == key:
                return nt
        return None


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
    given_guid: bool = False  # the GUID came from the card's guid: key (the lock records it)
