"""Turn manifest and card files into Manifest and Card values, reporting shape problems.

Shape means: the right keys with the right kinds of value. Rules about what the values say
live in validate.py.
"""
from __future__ import annotations

import difflib
import glob
import os
import re
from pathlib import Path

from neurodeck.pipeline.stamps import project_root
from neurodeck.model import (CARD_TYPES, FLAG_VALUES, ROOT_TAG_PATTERN, SLUG_PATTERN, VERSION_PATTERN, Card, CardFile, Location, Manifest,
                    Problem, Text, fields_of)
from neurodeck.source.yamlnodes import YMap, YScalar, YSeq, YValue, describe, parse, read_text

MANIFEST_KEYS = ("name", "namespace", "tag", "description", "cards", "output", "version", "lint", "glossary")
VERSION = re.compile(VERSION_PATTERN)
FILE_KEYS = ("subtopic", "tags", "cards")
CARD_KEYS = ("id", "type", "question", "answer", "text", "extra", "source", "tags", "retired", "why", "lint")
_KNOWN = {keys: frozenset(keys) for keys in (MANIFEST_KEYS, FILE_KEYS, CARD_KEYS)}
_TRUE, _FALSE = FLAG_VALUES[True], FLAG_VALUES[False]
_TEXT_FIELDS = ("question", "answer", "text", "extra", "source")
MAX_FIELD_CHARS = 100_000  # far beyond any real card; keeps rendering and Anki's editor responsive
_new = tuple.__new__


def shown_path(path: Path) -> str:
    """The path as printed in messages: relative to the working folder when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - other drive on Windows
        return str(path)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class _Reader:
    """Collects problems while reading values out of a YMap."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems

    def error(self, loc: Location, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(loc, message, hint))

    def check_keys(self, mapping: YMap, allowed: tuple[str, ...], what: str) -> None:
        if (_KNOWN.get(allowed) or frozenset(allowed)).issuperset(mapping.items):
            return
        for key, (loc, _) in mapping.items.items():
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(allowed)}"
                self.error(loc, f"unknown key '{key}' in {what}", hint)

    def text(self, mapping: YMap, key: str, required: bool = False) -> Text | None:
        entry = mapping.items.get(key)
        if entry is None:
            if required:
                self.error(mapping.location, f"missing required key '{key}'")
            return None
        loc, value = entry
        if type(value) is YScalar:
            text = value.text
            if text is None or not text.strip():
                if required:
                    self.error(loc, f"'{key}' is empty")
                return None
            if len(text) > MAX_FIELD_CHARS:
                self.error(value.location, f"'{key}' is {len(text):,} characters long; the limit is "
                           f"{MAX_FIELD_CHARS:,}", "split it into several cards, or move detail to 'extra'")
                return None
            return _new(Text, (text, value.location))  # tuple.__new__: this runs for every field
        self.error(value.location, f"'{key}' must be text, not {describe(value)}",
                   "put the text in double quotes if it contains ': ' or starts with [ or {")
        return None

    def mapping(self, mapping: YMap, key: str) -> YMap | None:
        if key not in mapping.items:
            return None
        _, value = mapping.items[key]
        if isinstance(value, YMap):
            return value
        self.error(value.location, f"'{key}' must be a mapping, not {describe(value)}")
        return None

    def flag(self, mapping: YMap, key: str) -> bool:
        value = self.text(mapping, key)
        if value is None or value.value.lower() in _FALSE:
            return False
        if value.value.lower() in _TRUE:
            return True
        self.error(value.location, f"'{key}' must be true or false, not '{value.value}'")
        return False

    def text_list(self, mapping: YMap, key: str, required: bool = False) -> list[Text]:
        if key not in mapping.items:
            if required:
                self.error(mapping.location, f"missing required key '{key}'")
            return []
        loc, value = mapping.items[key]
        if isinstance(value, YScalar) and value.text is not None:
            self.error(value.location, f"'{key}' must be a list, not text",
                       f"write it as a list: {key}: [{value.text}]")
            return []
        if isinstance(value, YMap):
            self.error(value.location, f"'{key}' must be a list, not a mapping")
            return []
        if isinstance(value, YScalar) or not value.items:
            if required:
                self.error(loc, f"'{key}' is empty")
            return []
        out = []
        for item in value.items:
            if type(item) is YScalar and item.text and item.text.strip():
                out.append(_new(Text, item))
            else:
                self.error(item.location, f"each entry of '{key}' must be non-empty text, not {describe(item)}")
        return out


def load_manifest(path: Path) -> tuple[Manifest | None, list[Problem]]:
    """Read one deck manifest."""
    shown = shown_path(path)
    value, problems = _parse_file(path, shown)
    if value is None:
        return None, problems
    if not isinstance(value, YMap):
        return None, problems + [Problem(value.location, f"a manifest must be a mapping, not {describe(value)}")]
    r = _Reader(problems)
    r.check_keys(value, MANIFEST_KEYS, "the manifest")
    name = r.text(value, "name", required=True)
    namespace = r.text(value, "namespace", required=True)
    tag = r.text(value, "tag")
    description = r.text(value, "description")
    cards = r.text_list(value, "cards", required=True)
    output = r.text(value, "output")
    glossary = r.text_list(value, "glossary")
    version = r.text(value, "version")
    if version is not None and not VERSION.fullmatch(version.value):
        r.error(version.location, f"version '{version.value}' must be numbers separated by dots, e.g. 1.2.0")
    lint = r.mapping(value, "lint")
    if name is None or namespace is None:
        return None, problems
    if "::" in name.value or name.value != name.value.strip():
        r.error(name.location, "the deck name must not contain '::' or surrounding spaces",
                "subdecks come from the card files' subtopics")
    if not re.fullmatch(SLUG_PATTERN, namespace.value):
        r.error(namespace.location, f"namespace '{namespace.value}' must be lowercase letters, digits and hyphens",
                "for example: my-course-deck; never change it after a release")
    tag_value = tag.value if tag else slug(name.value)
    if tag and not re.fullmatch(ROOT_TAG_PATTERN, tag.value):
        r.error(tag.location, f"tag '{tag.value}' must be one word of letters, digits, '-' or '_'")
    output_value = output.value if output else slug(name.value) + ".apkg"
    _check_output_name(r, output_value, output.location if output else value.location)
    manifest = Manifest(
        path=path, root=project_root(path), name=name.value, namespace=namespace.value,
        tag=tag_value, description=description.value if description else "",
        cards=cards, output=output_value, location=value.location,
        lint={key: (loc, v) for key, (loc, v) in lint.items.items()} if lint else {}, glossary=glossary,
        version=version,
    )
    return manifest, problems


def _check_output_name(r: _Reader, name: str, loc: Location) -> None:
    if "/" in name or "\\" in name or name in (".", "..") or not name.endswith(".apkg"):
        r.error(loc, f"output '{name}' must be a file name ending in .apkg", "the folder is chosen with --out")
    elif name.lower() == "collection.apkg" or name.lower().startswith("backup-"):
        r.error(loc, f"output '{name}' would make Anki offer to replace the student's whole collection",
                "choose another file name")


def card_files(manifest: Manifest) -> tuple[list[Path], list[Problem]]:
    """Expand the manifest's globs, relative to the project root, in a stable order."""
    problems: list[Problem] = []
    found: dict[Path, None] = {}
    for pattern in manifest.cards:
        if os.path.isabs(pattern.value) or ".." in Path(pattern.value).parts:
            problems.append(Problem(pattern.location, f"glob '{pattern.value}' leaves the project",
                                    "globs are relative to the project root"))
            continue
        matches = sorted(glob.glob(str(manifest.root / pattern.value), recursive=True))
        if not matches:
            problems.append(Problem(pattern.location, f"glob '{pattern.value}' matches no file",
                                    f"globs are relative to the project root {shown_path(manifest.root)}"))
        for match in matches:
            found.setdefault(Path(match), None)
    return list(found), problems


def load_card_file(path: Path) -> tuple[CardFile | None, list[Problem]]:
    """Read one card file into Cards; every card with a usable id is kept."""
    shown = shown_path(path)
    value, problems = _parse_file(path, shown)
    if value is None:
        return None, problems
    if not isinstance(value, YMap):
        return None, problems + [Problem(value.location, f"a card file must be a mapping, not {describe(value)}",
                                         "start with 'subtopic:' and 'cards:'")]
    r = _Reader(problems)
    r.check_keys(value, FILE_KEYS, "a card file")
    subtopic = r.text(value, "subtopic", required=True)
    if subtopic and ("::" in subtopic.value or not slug(subtopic.value)):
        r.error(subtopic.location, "subtopic must be a plain name (no '::')")
    file_tags = r.text_list(value, "tags")
    cards: list[Card] = []
    if "cards" not in value.items:
        r.error(value.location, "missing required key 'cards'")
    else:
        loc, items = value.items["cards"]
        if not isinstance(items, YSeq) or not items.items:
            r.error(items.location if items else loc, "'cards' must be a non-empty list of cards")
        else:
            for item in items.items:
                card = _read_card(r, item, subtopic.value if subtopic else "", path)
                if card is not None:
                    cards.append(card)
    if subtopic is None:
        return None, problems
    return CardFile(path=path, subtopic=subtopic, tags=file_tags, cards=cards), problems


def _read_card(r: _Reader, item: YValue, subtopic: str, path: Path) -> Card | None:
    card = _plain_card(item, subtopic, path) if type(item) is YMap else None
    return card if card is not None else _read_any_card(r, item, subtopic, path)


def _read_any_card(r: _Reader, item: YValue, subtopic: str, path: Path) -> Card | None:
    if not isinstance(item, YMap):
        r.error(item.location, f"a card must be a mapping, not {describe(item)}",
                "each card starts with '- id: ...'")
        return None
    r.check_keys(item, CARD_KEYS, "a card")
    card_id = r.text(item, "id", required=True)
    kind = r.text(item, "type")
    kind_value = kind.value if kind else "basic"
    if kind_value not in CARD_TYPES:
        close = difflib.get_close_matches(kind_value, CARD_TYPES, n=1, cutoff=0.5)
        r.error(kind.location, f"unknown card type '{kind_value}'",
                f"did you mean '{close[0]}'?" if close else f"one of: {', '.join(CARD_TYPES)}")
        return None
    required, unused = fields_of(kind_value)
    for name in unused:
        if name in item.items:
            r.error(item.items[name][0], f"a {kind_value} card has no '{name}'",
                    "cloze cards use 'text'; other cards use 'question' and 'answer'")
    fields = {name: r.text(item, name, required=name in required) for name in _TEXT_FIELDS}
    tags = r.text_list(item, "tags")
    retired = r.flag(item, "retired")
    why = r.text(item, "why")
    if why is not None and not retired:
        r.error(why.location, "'why' explains a retirement, but this card is not retired",
                "add 'retired: true', or use 'extra' for notes to students")
    lint_ignore, lint_why = [], None
    lint = r.mapping(item, "lint")
    if lint is not None:
        r.check_keys(lint, ("ignore", "why"), "a card's lint settings")
        lint_ignore = r.text_list(lint, "ignore", required=True)
        lint_why = r.text(lint, "why", required=True)
    if card_id is None:
        return None
    return Card(id=card_id, type=kind_value, location=item.location, subtopic=subtopic,
                file_path=path, tags=tags, retired=retired, why=why, lint_ignore=lint_ignore,
                lint_why=lint_why, **fields)


_PLAIN_KEYS = frozenset(("id", "type", "tags") + _TEXT_FIELDS)


def _plain_card(item: YMap, subtopic: str, path: Path) -> Card | None:
    """The card `_read_card` would read from `item` without a problem, read in one pass; None
    for anything else (retired, lint settings, any problem), which takes the general path.

    Most cards in a large deck are like this, and reading them is a tenth of a build's work
    (a test checks both paths agree)."""
    items = item.items
    if not _PLAIN_KEYS.issuperset(items):
        return None
    texts: dict[str, Text] = {}
    tags: list[Text] = []
    for key, (_, value) in items.items():
        if key == "tags":
            if type(value) is not YSeq:
                return None
            for tag in value.items:
                if type(tag) is not YScalar or not tag.text or not tag.text.strip():
                    return None
                tags.append(_new(Text, tag))
        elif type(value) is YScalar and value.text and value.text.strip() and len(value.text) <= MAX_FIELD_CHARS:
            texts[key] = _new(Text, value)
        else:
            return None
    kind = texts.pop("type", None)
    kind_value = kind.value if kind else "basic"
    card_id = texts.pop("id", None)
    if card_id is None or kind_value not in CARD_TYPES:
        return None
    required, unused = fields_of(kind_value)
    if any(name in texts for name in unused) or not all(name in texts for name in required):
        return None
    return Card(id=card_id, type=kind_value, location=item.location, subtopic=subtopic, file_path=path,
                tags=tags, **texts)


def _parse_file(path: Path, shown: str):
    text, problems = read_text(path, shown)
    if text is None:
        return None, problems
    return parse(text, shown)
