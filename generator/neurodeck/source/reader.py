"""Reading typed values out of parsed YAML (yamlnodes), collecting problems on the way; the keys
each kind of file allows. Shape means the right keys with the right kinds of value: rules about
what the values say live in checks/."""
from __future__ import annotations

import difflib
from pathlib import Path

from neurodeck.model import FLAG_VALUES, Location, Problem, Text
from neurodeck.project import shown_path
from neurodeck.source.yamlnodes import YMap, YScalar, describe, parse, read_text

MANIFEST_KEYS = ("name", "namespace", "tag", "description", "cards", "output", "version", "lint", "glossary",
                 "synonyms", "notetypes", "keep_markup", "tts")
FILE_KEYS = ("subtopic", "tags", "format", "cards")
CARD_KEYS = ("id", "type", "question", "answer", "text", "extra", "source", "tags", "retired", "why", "lint",
             "fields", "guid", "image", "shapes", "mode", "header", "back_extra")
_TRUE, _FALSE = FLAG_VALUES[True], FLAG_VALUES[False]
MAX_FIELD_CHARS = 100_000  # far beyond any real card; keeps rendering and Anki's editor responsive
_new = tuple.__new__


class Reader:
    """Collects problems while reading values out of a YMap."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems

    def error(self, loc: Location, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(loc, message, hint))

    def check_keys(self, mapping: YMap, allowed: tuple[str, ...], what: str) -> None:
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
        value = entry[1]
        if type(value) is YScalar:
            text = value.text
            if not text or text.isspace():  # isspace: no stripped copy of every field
                if required:
                    self.error(entry[0], f"'{key}' is empty")
                return None
            if len(text) > MAX_FIELD_CHARS:
                self.error(value.location, f"'{key}' is {len(text):,} characters long; the limit is "
                           f"{MAX_FIELD_CHARS:,}", "split it into several cards, or move detail to 'extra'")
                return None
            # A scalar with text has a Text's fields; tuple.__new__ as this runs for every field.
            return _new(Text, value)
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
            if type(item) is YScalar and item.text and not item.text.isspace():
                out.append(_new(Text, item))
            else:
                self.error(item.location, f"each entry of '{key}' must be non-empty text, not {describe(item)}")
        return out


def parse_mapping(path: Path, what: str, hint: str | None = None) -> tuple[YMap | None, list[Problem]]:
    """Read and parse one YAML file that must hold a mapping (`what`: "a manifest", ...); None with
    the problems when it cannot be read or parsed or holds something else."""
    shown = shown_path(path)
    text, problems = read_text(path, shown)
    if text is None:
        return None, problems
    value, problems = parse(text, shown)
    if value is None:
        return None, problems
    if not isinstance(value, YMap):
        return None, problems + [Problem(value.location, f"{what} must be a mapping, not {describe(value)}", hint)]
    return value, problems
