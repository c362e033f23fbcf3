"""JSON Schemas for card files and manifests, made from the definitions the validator uses.

For editors (yaml-language-server and others). The validator stays the authority: it also checks
what a schema cannot (duplicate ids across files, images, the lock), and it keeps every scalar as
the text written, so where a YAML 1.1 reader sees `no` or `3.10` as a boolean or number, the
schema accepts those too.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from neurodeck.model import (
    CARD_TYPES,
    FLAG_VALUES,
    FORMATS,
    GUID_PATTERN,
    OCCLUSION_MODES,
    ROOT_TAG_PATTERN,
    SLUG_PATTERN,
    TAG_PATTERN,
    VERSION_PATTERN,
    fields_of,
)
from neurodeck.source.reader import CARD_KEYS, FILE_KEYS, MANIFEST_KEYS
from neurodeck.source.shapes import BOX_KEYS
from neurodeck.source.speech import LANG, VOICE

DIALECT = "https://json-schema.org/draft/2020-12/schema"
Schema = dict[str, Any]  # a JSON Schema, or a part of one

_TEXT: Schema = {"type": ["string", "number", "boolean"], "pattern": r"\S"}  # scalars are read as text
_OPTIONAL_TEXT: Schema = {"type": ["string", "number", "boolean", "null"]}
_TAGS: Schema = {"type": "array", "items": {"type": "string", "pattern": f"^{TAG_PATTERN}$"}}
# An HTML card file's tags are Anki's own, as written: no spaces (checks/names.py anki_tag_problem).
_ANKI_TAGS: Schema = {"type": "array", "items": {"type": "string", "pattern": r"^[^\s]+$"}}
_FLAG: Schema = {"enum": [True, False, *[v for values in FLAG_VALUES.values() for v in values]]}

_DESCRIPTIONS = {
    "id": "The card's identity for ever: a lowercase slug, unique in the project.",
    "type": "basic (default), reversed (two cards), cloze (one card per deletion), type-in, occlusion (one "
            "card per shape or group of shapes on an image), or the file name or name of one of the deck's "
            "own note types (notetypes/*.yaml).",
    "fields": "The fields of a card of the deck's own note type, by name (Markdown).",
    "question": "Markdown.", "answer": "Markdown.", "text": "Markdown with cloze deletions {{c1::...}}.",
    "extra": "Markdown shown on the back.", "source": "The paper or textbook the fact comes from.",
    "tags": "Tags (no spaces), nested under the deck's root tag.",
    "retired": "Keep the note for students, with its answer replaced by a retirement notice.",
    "why": "Why the card was retired.",
    "lint": "Silence lint rules on this card: {ignore: [CODE], why: reason}.",
    "guid": "The note's Anki GUID, kept from an adopted deck; replaces the one made from the namespace and id.",
    "image": "Occlusion: the image (PNG, JPEG, GIF or WebP), relative to the card file.",
    "shapes": "Occlusion: the masks, each a rect, ellipse or polygon in fractions of the image (0 to 1), "
              "with its label and an optional group.",
    "mode": "Occlusion: hide-all (default; every mask shown, one asked) or hide-one (only the asked mask).",
    "header": "Occlusion: Markdown above the image.", "back_extra": "Occlusion: Markdown shown on the back.",
}
# A coordinate: read as text like every scalar, so a number or a string of one.
_COORDINATE: Schema = {"type": ["number", "string"]}


def _shape() -> Schema:
    boxes = {kind: {"type": "object", "additionalProperties": False, "required": list(keys),
                    "properties": {key: _COORDINATE for key in keys}} for kind, keys in BOX_KEYS.items()}
    polygon = {"type": "array", "minItems": 3,
               "items": {"type": "array", "minItems": 2, "maxItems": 2, "items": _COORDINATE}}
    return {"type": "object", "additionalProperties": False, "required": ["label"],
            "properties": {**boxes, "polygon": polygon, "label": _TEXT, "group": _TEXT},
            "oneOf": [{"required": [kind]} for kind in (*BOX_KEYS, "polygon")]}


def _card() -> Schema:
    properties: dict[str, Schema] = {key: dict(_OPTIONAL_TEXT) for key in CARD_KEYS}
    properties.update({
        "id": {"type": "string", "pattern": f"^{SLUG_PATTERN}$"},
        "type": {"type": "string", "minLength": 1},
        "fields": {"type": "object", "minProperties": 1, "additionalProperties": _OPTIONAL_TEXT},
        "tags": _ANKI_TAGS,  # the file's format decides (card_file_schema)
        "retired": _FLAG,
        "guid": {"type": "string", "pattern": f"^{GUID_PATTERN}$"},
        "shapes": {"type": "array", "minItems": 1, "items": _shape()},
        "mode": {"enum": list(OCCLUSION_MODES)},
        "lint": {"type": "object", "additionalProperties": False, "required": ["ignore", "why"],
                 "properties": {"ignore": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                                "why": _TEXT}},
    })
    for key, text in _DESCRIPTIONS.items():
        properties[key] = dict(properties[key], description=text)
    rules: list[Schema] = []
    for card_type in CARD_TYPES:
        required, unused = fields_of(card_type)
        condition: Schema = ({"properties": {"type": {"const": card_type}}, "required": ["type"]}
                     if card_type != "basic" else
                     {"anyOf": [{"not": {"required": ["type"]}}, {"properties": {"type": {"const": "basic"}}}]})
        rules.append({"if": condition, "then": {
            "required": list(required) + (["shapes"] if card_type == "occlusion" else []),
            "properties": {**{k: _TEXT for k in required}, **{k: False for k in (*unused, "fields")}},
        }})
    # Any other type names one of the deck's own note types, whose fields come under `fields`.
    rules.append({"if": {"properties": {"type": {"not": {"enum": list(CARD_TYPES)}}}, "required": ["type"]},
                  "then": {"required": ["fields"],
                           "properties": {k: False for k in ("question", "answer", "text", "extra", "source")}}})
    rules.append({"if": {"properties": {"retired": {"enum": [True, *FLAG_VALUES[True]]}}, "required": ["retired"]},
                  "then": {"required": ["why"]}})
    return {"type": "object", "additionalProperties": False, "required": ["id"], "properties": properties,
            "allOf": rules}


def card_file_schema() -> Schema:
    """The schema of a card file (cards/*.yaml)."""
    assert set(FILE_KEYS) == {"subtopic", "tags", "format", "cards"}
    return {
        "$schema": DIALECT, "title": "neurodeck card file", "type": "object", "additionalProperties": False,
        "required": ["cards"],
        # An HTML file (what `neurodeck adopt` writes) is in Anki's terms: its subtopic may be left out
        # (the deck itself) and its tags are Anki's as written; a Markdown file's follow neurodeck's rule.
        "if": {"properties": {"format": {"const": "html"}}, "required": ["format"]},
        "else": {"required": ["subtopic"], "properties": {
            "tags": _TAGS, "cards": {"items": {"properties": {"tags": _TAGS}}}}},
        "properties": {
            "subtopic": dict(_TEXT, description="Becomes the subdeck and the subtopic tag (in an HTML file, "
                             "the subdeck below the deck, A::B for a nested one; none for the deck itself)."),
            "tags": dict(_ANKI_TAGS, description="Tags added to every card of the file."),
            "format": {"enum": list(FORMATS), "description": "markdown (default), or html: fields stored as written "
                       "(an adopted deck's), cleaned only of what the allow-list refuses."},
            "cards": {"type": "array", "minItems": 1, "items": _card()},
        },
    }


_SPEECH: Schema = {
    "type": "object", "additionalProperties": False, "required": ["field", "lang"],
    "properties": {
        "field": dict(_TEXT, description="The field Anki reads aloud: on the front if the front shows it, "
                      "else on the back."),
        "lang": {"type": "string", "pattern": f"^{LANG.pattern}$", "description": "Language and region, e.g. en_US."},
        "voices": {"oneOf": [{"type": "string", "pattern": f"^{VOICE.pattern}$"},
                             {"type": "array", "items": {"type": "string", "pattern": f"^{VOICE.pattern}$"}}],
                   "description": "Preferred voices, as Anki names them (Apple_Samantha, Microsoft_Zira)."},
        "speed": {"type": ["number", "string"], "description": "1 is normal, 0.8 slower, 1.5 faster."},
    },
}
TTS_SCHEMA: Schema = {"oneOf": [_SPEECH, {"type": "array", "minItems": 1, "items": _SPEECH}],
                      "description": "Fields Anki reads aloud with text-to-speech ({{tts ...}} in the templates)."}


def manifest_schema() -> Schema:
    """The schema of a deck manifest (decks/*.yaml)."""
    properties: dict[str, Schema] = {key: dict(_OPTIONAL_TEXT) for key in MANIFEST_KEYS}
    properties.update({
        "name": dict(_TEXT, description="The deck's name in Anki."),
        "namespace": {"type": "string", "pattern": f"^{SLUG_PATTERN}$",
                      "description": "The deck's identity namespace; never change it after a release."},
        "tag": {"type": "string", "pattern": f"^{ROOT_TAG_PATTERN}$",
                "description": "Root of every tag the deck adds."},
        "cards": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1},
                  "description": "Globs of card files, relative to the project root."},
        "output": {"type": "string", "pattern": r"^[^/\\]+\.apkg$", "not": {"pattern": r"^(collection\.apkg|backup-)"},
                   "description": "File name of the package, written into the --out folder."},
        "version": {"type": ["string", "number"], "pattern": f"^{VERSION_PATTERN}$",
                    "description": "Set by `neurodeck release`."},
        "lint": {"type": "object", "description": "Lint rule settings by rule code."},
        "glossary": {"type": "array", "items": {"type": "string"},
                     "description": "Abbreviations that need no spelling out."},
        "notetypes": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1},
                      "description": "Globs of the deck's own note type files (default: notetypes/*.yaml)."},
        "synonyms": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                     "description": "Answer -> its other accepted forms; lint flags type-in cards with such answers."},
        "keep_markup": dict(_FLAG, description="HTML card files keep formatting outside the allow-list (spans, "
                            "divs, fonts, styles) as written; scripts and remote addresses are never kept."),
        "tts": TTS_SCHEMA,
    })
    return {"$schema": DIALECT, "title": "neurodeck deck manifest", "type": "object", "additionalProperties": False,
            "required": ["name", "namespace", "cards"], "properties": properties}


SCHEMAS = {"card-file": card_file_schema, "manifest": manifest_schema}


def shipped_path(name: str) -> Path:
    """Where the generated schema ships inside the package (kept equal to the generator by a test)."""
    return Path(__file__).parent / "schemas" / f"{name}.schema.json"


def render(name: str) -> str:
    import json

    return json.dumps(SCHEMAS[name](), indent=2, sort_keys=True) + "\n"
