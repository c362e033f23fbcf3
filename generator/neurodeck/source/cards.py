"""Card files: a subtopic, file-wide tags and a list of cards, read into CardFile and Card values."""
from __future__ import annotations

import difflib
from pathlib import Path

from neurodeck.checks.names import name_problem
from neurodeck.model import CARD_TYPES, Card, CardFile, Problem, Text, fields_of
from neurodeck.source.reader import CARD_KEYS, FILE_KEYS, Reader, parse_mapping
from neurodeck.source.yamlnodes import YMap, YSeq, YValue, describe

_TEXT_FIELDS = ("question", "answer", "text", "extra", "source")
_CARD_KEYS = frozenset(CARD_KEYS)


def load_card_file(path: Path) -> tuple[CardFile | None, list[Problem]]:
    """Read one card file into Cards; every card with a usable id is kept."""
    value, problems = parse_mapping(path, "a card file", "start with 'subtopic:' and 'cards:'")
    if value is None:
        return None, problems
    r = Reader(problems)
    r.check_keys(value, FILE_KEYS, "a card file")
    subtopic = r.text(value, "subtopic", required=True)
    wrong = name_problem(subtopic.value, "subtopic") if subtopic else None
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
                card = _read_card(r, item, subtopic.value if subtopic else "", path)
                if card is not None:
                    cards.append(card)
    if subtopic is None:
        return None, problems
    return CardFile(path=path, subtopic=subtopic, tags=file_tags, cards=cards), problems


def _read_card(r: Reader, item: YValue, subtopic: str, path: Path) -> Card | None:
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
    if kind_value not in CARD_TYPES:
        assert kind is not None  # the default, basic, is a card type
        close = difflib.get_close_matches(kind_value, CARD_TYPES, n=1, cutoff=0.5)
        r.error(kind.location, f"unknown card type '{kind_value}'",
                f"did you mean '{close[0]}'?" if close else f"one of: {', '.join(CARD_TYPES)}")
        return None
    required, unused = fields_of(kind_value)
    for name in unused:
        if name in items:
            r.error(items[name][0], f"a {kind_value} card has no '{name}'",
                    "cloze cards use 'text'; other cards use 'question' and 'answer'")
    fields = {}
    for name in _TEXT_FIELDS:
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
    if card_id is None:
        return None
    return Card(id=card_id, type=kind_value, location=item.location, subtopic=subtopic, file_path=path,
                tags=tags, retired=retired, why=why, lint_ignore=lint_ignore, lint_why=lint_why,
                question=fields.get("question"), answer=fields.get("answer"), text=fields.get("text"),
                extra=fields.get("extra"), source=fields.get("source"))
