"""Card files: a subtopic, file-wide tags and a list of cards, read into CardFile and Card values."""
from __future__ import annotations

import difflib
from pathlib import Path

from neurodeck.apkg.notetypes import CustomNoteType
from neurodeck.checks.names import name_problem
from neurodeck.model import (
    CARD_TYPES,
    FORMATS,
    OCCLUSION_KEYS,
    OCCLUSION_MODES,
    Card,
    CardFile,
    Problem,
    Shape,
    Text,
    fields_of,
)
from neurodeck.source.reader import CARD_KEYS, FILE_KEYS, Reader, parse_mapping
from neurodeck.source.shapes import read_shapes
from neurodeck.source.yamlnodes import YMap, YSeq, YValue, describe

_TEXT_FIELDS = ("question", "answer", "text", "extra", "source", "image", "header", "back_extra")
_OCCLUSION_USES = "occlusion cards use 'image', 'shapes', 'header' and 'back_extra' (not 'extra')"
_OTHERS_USE = "cloze cards use 'text'; other cards use 'question' and 'answer'"
_CARD_KEYS = frozenset(CARD_KEYS)


def load_card_file(path: Path, notetypes: tuple[CustomNoteType, ...] = ()) -> tuple[CardFile | None, list[Problem]]:
    """Read one card file into Cards; every card with a usable id is kept. Cards may name the
    deck's own `notetypes` (source/notetypes.py) in `type:`."""
    value, problems = parse_mapping(path, "a card file", "start with 'subtopic:' and 'cards:'")
    if value is None:
        return None, problems
    r = Reader(problems)
    r.check_keys(value, FILE_KEYS, "a card file")
    fmt = r.text(value, "format") if "format" in value.items else None
    if fmt is not None and fmt.value not in FORMATS:
        r.error(fmt.location, f"unknown format '{fmt.value}'",
                "markdown (the default) or html (fields stored exactly as written, as `neurodeck adopt` writes them)")
    file_format = fmt.value if fmt is not None and fmt.value in FORMATS else "markdown"
    # An HTML file is in Anki's own terms: its subtopic may name nested subdecks (A::B), or be
    # left out for the deck itself.
    as_html = file_format == "html"
    subtopic = r.text(value, "subtopic", required=not as_html)
    if subtopic is None and as_html and "subtopic" not in value.items:
        subtopic = Text("", value.location)
    parts = [] if subtopic is None else (subtopic.value.split("::") if subtopic.value else []) if as_html \
        else [subtopic.value]
    wrong = next((w for part in parts if (w := name_problem(part, "subtopic"))), None)
    if subtopic and wrong:
        r.error(subtopic.location, *wrong)
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
                card = _read_card(r, item, subtopic.value if subtopic else "", path, notetypes, file_format)
                if card is not None:
                    cards.append(card)
    if subtopic is None:
        return None, problems
    return CardFile(path=path, subtopic=subtopic, tags=file_tags, cards=cards, format=file_format), problems


def _read_card(r: Reader, item: YValue, subtopic: str, path: Path,
               notetypes: tuple[CustomNoteType, ...] = (), file_format: str = "markdown") -> Card | None:
    """One card, or None when it has no usable id or type; its problems go to `r`.

    A key the card leaves out costs one set lookup: most cards in a large deck have only an id,
    a question, an answer, a source and tags, and reading cards is a tenth of a build's work."""
    if type(item) is not YMap:
        r.error(item.location, f"a card must be a mapping, not {describe(item)}",
                "each card starts with '- id: ...'")
        return None
    items = item.items
    if not _CARD_KEYS.issuperset(items):  # one set operation for the usual card
        r.check_keys(item, CARD_KEYS, "a card")
    card_id = r.text(item, "id", required=True)
    kind = r.text(item, "type") if "type" in items else None
    kind_value = kind.value if kind else "basic"
    custom = None
    if kind_value not in CARD_TYPES:
        assert kind is not None  # the default, basic, is a card type
        custom = _notetype(notetypes, kind_value)
        if custom is None:
            known = [*CARD_TYPES, *[nt.key for nt in notetypes], *[nt.name for nt in notetypes]]
            close = difflib.get_close_matches(kind_value, known, n=1, cutoff=0.5)
            r.error(kind.location, f"unknown card type '{kind_value}'",
                    f"did you mean '{close[0]}'?" if close else f"one of: {', '.join(known)}")
            return None
        kind_value = custom.key
    elif "fields" in items:
        r.error(items["fields"][0], f"a {kind_value} card has no 'fields'",
                "'fields' gives the fields of a note type of your own (notetypes/); "
                "built-in types use 'question' and 'answer', or 'text'")
    named_fields = None
    if custom is not None:
        named_fields = _read_fields(r, item, custom)
        required: tuple[str, ...] = ()
        unused = tuple(name for name in (*_TEXT_FIELDS, "shapes", "mode") if name in items)
        for name in unused:
            r.error(items[name][0], f"a card of note type '{custom.name}' has no '{name}'",
                    f"give its fields under 'fields:' ({', '.join(custom.fields)})")
    else:
        required, unused = fields_of(kind_value)
    for name in unused if custom is None else ():
        if name in items:
            r.error(items[name][0], f"{'an' if kind_value == 'occlusion' else 'a'} {kind_value} card has no '{name}'",
                    _OCCLUSION_USES if kind_value == "occlusion" else
                    f"'{name}' belongs to occlusion cards (type: occlusion)" if name in OCCLUSION_KEYS else _OTHERS_USE)
    fields = {}
    for name in _TEXT_FIELDS if custom is None else ():
        needed = name in required
        if needed or name in items:
            fields[name] = r.text(item, name, needed)
    tags = r.text_list(item, "tags") if "tags" in items else []
    retired = "retired" in items and r.flag(item, "retired")
    why = r.text(item, "why") if "why" in items else None
    if why is not None and not retired:
        r.error(why.location, "'why' explains a retirement, but this card is not retired",
                "add 'retired: true', or use 'extra' for notes to students")
    if retired and why is None:
        r.error(items["retired"][0], "a retired card needs a 'why'",
                "add why: with one sentence students will read in place of the answer, "
                "e.g. why: Replaced by another-card-id.")
    lint_ignore: list[Text] = []
    lint_why = None
    lint = r.mapping(item, "lint") if "lint" in items else None
    if lint is not None:
        r.check_keys(lint, ("ignore", "why"), "a card's lint settings")
        lint_ignore = r.text_list(lint, "ignore", required=True)
        lint_why = r.text(lint, "why", required=True)
    guid = r.text(item, "guid", required=True) if "guid" in items else None
    shapes: tuple[Shape, ...] = ()
    mode = OCCLUSION_MODES[0]
    if kind_value == "occlusion":
        shapes = read_shapes(r, item)
        written = r.text(item, "mode") if "mode" in items else None
        if written is not None and written.value not in OCCLUSION_MODES:
            r.error(written.location, f"unknown occlusion mode '{written.value}'",
                    "hide-all (the default: all shapes hidden, one asked) or hide-one (only the asked "
                    "shape hidden)")
        elif written is not None:
            mode = written.value
    if card_id is None:
        return None
    return Card(id=card_id, type=kind_value, location=item.location, subtopic=subtopic, file_path=path,
                tags=tags, retired=retired, why=why, lint_ignore=lint_ignore, lint_why=lint_why,
                named_fields=named_fields,
                question=fields.get("question"), answer=fields.get("answer"), text=fields.get("text"),
                extra=fields.get("extra"), source=fields.get("source"), guid=guid, format=file_format,
                image=fields.get("image"), header=fields.get("header"), back_extra=fields.get("back_extra"),
                shapes=shapes, mode=mode)


def _notetype(notetypes: tuple[CustomNoteType, ...], written: str) -> CustomNoteType | None:
    """The note type a card's `type:` names: by file name (stem), else by name."""
    return next((nt for nt in notetypes if nt.key == written), None) or next(
        (nt for nt in notetypes if nt.name == written), None)


def _read_fields(r: Reader, item: YMap, nt: CustomNoteType) -> dict[str, Text]:
    """A custom-type card's `fields:`: known names only, each text, the required ones present."""
    fields_map = r.mapping(item, "fields")
    if fields_map is None:
        if "fields" not in item.items:
            r.error(item.location, f"missing required key 'fields' (a card of note type '{nt.name}')",
                    f"give its fields by name: fields: {{{nt.fields[0]}: ...}}")
        return {}
    required = {spec.name for spec in nt.field_specs if spec.required} | nt.cloze_fields
    out: dict[str, Text] = {}
    for name, (loc, _) in fields_map.items.items():
        if name not in nt.fields:
            same_case = next((f for f in nt.fields if f.casefold() == name.casefold()), None)
            close = same_case or next(iter(difflib.get_close_matches(name, nt.fields, n=1, cutoff=0.6)), None)
            r.error(loc, f"note type '{nt.name}' has no field '{name}'",
                    f"did you mean '{close}'?" if close else f"its fields are: {', '.join(nt.fields)}")
            continue
        text = r.text(fields_map, name, required=name in required)
        if text is not None:
            out[name] = text
    for name in nt.fields:
        if name in required and name not in fields_map.items:
            r.error(fields_map.location, f"missing required field '{name}' of note type '{nt.name}'",
                    "its deletions make the cards of this note type" if name in nt.cloze_fields else
                    "the note type marks it required")
    return out
