"""The `tts` option of a manifest or a note type file: which fields Anki reads aloud, in which
language, with which voices and speed (Anki's `{{tts en_US voices=A,B speed=1.2:Field}}`).

    tts: {field: Question, lang: en_US}
    tts:
      - {field: Question, lang: en_US, voices: [Apple_Samantha, Microsoft_Zira], speed: 0.9}
      - {field: Answer, lang: fr_FR}

The values become template text, so each is checked against what Anki's template and directive
parsers read (rslib/src/template_filters.rs, card_rendering/parser.rs) and what its players match
(qt/aqt/tts.py compares a voice's language code exactly): no ':' or '}' to end the tag early, no
space inside a value.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from neurodeck.model import Speech, Text
from neurodeck.source.reader import Reader
from neurodeck.source.yamlnodes import YMap, YScalar, YSeq, describe

SPEECH_KEYS = ("field", "lang", "voices", "speed")
# A language and a region as Anki's players name voices: en_US, pt_BR, zh_CN, ar_001 (macOS).
LANG = re.compile(r"[a-z]{2,3}_(?:[A-Z]{2}|[0-9]{3})")
# A voice as Anki names it: Apple_Samantha, Microsoft_Zira, Apple_Eddy_(English_(UK)).
VOICE = re.compile(r"[^\s,:{}\[\]\"=]+")
MAX_SPEED = Decimal(10)
_EXAMPLE = "for example: tts: {field: Question, lang: en_US}"


def read_speech(r: Reader, mapping: YMap) -> list[Speech]:
    """The `tts` entries of a manifest or note type file (one mapping or a list of them)."""
    entry = mapping.items.get("tts")
    if entry is None:
        return []
    value = entry[1]
    items = value.items if isinstance(value, YSeq) else [value]
    speeches: list[Speech] = []
    seen: dict[str, Text] = {}
    for item in items:
        if not isinstance(item, YMap):
            r.error(item.location, f"a tts entry must be a mapping, not {describe(item)}", _EXAMPLE)
            continue
        r.check_keys(item, SPEECH_KEYS, "a tts entry")
        field, lang, speed = r.text(item, "field", required=True), r.text(item, "lang", required=True), \
            r.text(item, "speed")
        voices = _voices(r, item)
        if lang is not None and not LANG.fullmatch(lang.value):
            fixed = lang.value.replace("-", "_")
            r.error(lang.location, f"tts language '{lang.value}' is not a language and region code",
                    f"write it as Anki names voices: {fixed}" if LANG.fullmatch(fixed) else
                    "a language and a region joined by '_', as Anki names voices: en_US, de_DE, ja_JP")
            lang = None
        if speed is not None and not _good_speed(speed.value):
            r.error(speed.location, f"tts speed '{speed.value}' must be a number above 0 and at most {MAX_SPEED}",
                    "1 is the voice's normal speed, 0.8 slower, 1.5 faster")
            speed = None
        if field is not None and field.value in seen:
            r.error(field.location, f"field '{field.value}' is read aloud twice "
                    f"(first at {seen[field.value].location})", "give each field one tts entry")
            continue
        if field is not None:
            seen[field.value] = field
        if field is not None and lang is not None and voices is not None:
            speeches.append(Speech(field, lang, voices, speed.value if speed else None, item.location))
    return speeches


def _voices(r: Reader, item: YMap) -> tuple[str, ...] | None:
    entry = item.items.get("voices")
    if entry is None:
        return ()
    value = entry[1]
    names = value.items if isinstance(value, YSeq) else [value]
    out = []
    for name in names:
        text = name.text if isinstance(name, YScalar) else None
        if not text or not VOICE.fullmatch(text):
            r.error(name.location, f"tts voice {text!r} is not a voice name" if text is not None else
                    f"a tts voice must be a name, not {describe(name)}",
                    "voices as Anki names them, without spaces: voices: [Apple_Samantha, Microsoft_Zira]")
            return None
        out.append(text)
    return tuple(out)


def _good_speed(text: str) -> bool:
    try:
        speed = Decimal(text)
    except InvalidOperation:
        return False
    return speed.is_finite() and 0 < speed <= MAX_SPEED and re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", text) is not None
