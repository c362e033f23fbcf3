"""The card reader, checked against a specification: the straightforward reader it replaced.

`reference_card` below is that reader (the general path of neurodeck 0.x's load.py) written
for clarity, not speed. On generated cards, plain and broken alike, the library's one reader
must give the same Card and the same problems, in the same order."""
from __future__ import annotations

import difflib
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from neurodeck.model import CARD_TYPES, FLAG_VALUES, OCCLUSION_KEYS, OCCLUSION_MODES, Card, Problem, Text, fields_of
from neurodeck.source import cards
from neurodeck.source.reader import CARD_KEYS, MAX_FIELD_CHARS, Reader
from neurodeck.source.shapes import read_shapes
from neurodeck.source.yamlnodes import YMap, YScalar, YValue, describe, parse

TEXT_FIELDS = ("question", "answer", "text", "extra", "source", "image", "header", "back_extra")


def reference_card(item: YValue, subtopic: str, path: Path) -> tuple[Card | None, list[Problem]]:
    problems: list[Problem] = []

    def error(loc, message, hint=None):
        problems.append(Problem(loc, message, hint))

    def check_keys(mapping: YMap, allowed: tuple[str, ...], what: str) -> None:
        for key, (loc, _) in mapping.items.items():
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                error(loc, f"unknown key '{key}' in {what}",
                      f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(allowed)}")

    def text(mapping: YMap, key: str, required: bool = False) -> Text | None:
        if key not in mapping.items:
            if required:
                error(mapping.location, f"missing required key '{key}'")
            return None
        loc, value = mapping.items[key]
        if not isinstance(value, YScalar):
            error(value.location, f"'{key}' must be text, not {describe(value)}",
                  "put the text in double quotes if it contains ': ' or starts with [ or {")
            return None
        if value.text is None or not value.text.strip():
            if required:
                error(loc, f"'{key}' is empty")
            return None
        if len(value.text) > MAX_FIELD_CHARS:
            error(value.location, f"'{key}' is {len(value.text):,} characters long; the limit is "
                  f"{MAX_FIELD_CHARS:,}", "split it into several cards, or move detail to 'extra'")
            return None
        return Text(value.text, value.location)

    def text_list(mapping: YMap, key: str, required: bool = False) -> list[Text]:
        if key not in mapping.items:
            if required:
                error(mapping.location, f"missing required key '{key}'")
            return []
        loc, value = mapping.items[key]
        if isinstance(value, YScalar) and value.text is not None:
            error(value.location, f"'{key}' must be a list, not text", f"write it as a list: {key}: [{value.text}]")
            return []
        if isinstance(value, YMap):
            error(value.location, f"'{key}' must be a list, not a mapping")
            return []
        if isinstance(value, YScalar) or not value.items:
            if required:
                error(loc, f"'{key}' is empty")
            return []
        out = []
        for entry in value.items:
            if isinstance(entry, YScalar) and entry.text and entry.text.strip():
                out.append(Text(entry.text, entry.location))
            else:
                error(entry.location, f"each entry of '{key}' must be non-empty text, not {describe(entry)}")
        return out

    if not isinstance(item, YMap):
        error(item.location, f"a card must be a mapping, not {describe(item)}", "each card starts with '- id: ...'")
        return None, problems
    check_keys(item, CARD_KEYS, "a card")
    card_id = text(item, "id", required=True)
    kind = text(item, "type")
    kind_value = kind.value if kind else "basic"
    if kind_value not in CARD_TYPES:
        close = difflib.get_close_matches(kind_value, CARD_TYPES, n=1, cutoff=0.5)
        error(kind.location, f"unknown card type '{kind_value}'",
              f"did you mean '{close[0]}'?" if close else f"one of: {', '.join(CARD_TYPES)}")
        return None, problems
    required, unused = fields_of(kind_value)
    for name in unused:
        if name in item.items:
            error(item.items[name][0], f"{'an' if kind_value == 'occlusion' else 'a'} {kind_value} card has no '{name}'",
                  "occlusion cards use 'image', 'shapes', 'header' and 'back_extra' (not 'extra')"
                  if kind_value == "occlusion" else f"'{name}' belongs to occlusion cards (type: occlusion)"
                  if name in OCCLUSION_KEYS else "cloze cards use 'text'; other cards use 'question' and 'answer'")
    fields = {name: text(item, name, required=name in required) for name in TEXT_FIELDS}
    tags = text_list(item, "tags")
    flag = text(item, "retired")
    retired = False
    if flag is not None and flag.value.lower() in FLAG_VALUES[True]:
        retired = True
    elif flag is not None and flag.value.lower() not in FLAG_VALUES[False]:
        error(flag.location, f"'retired' must be true or false, not '{flag.value}'")
    why = text(item, "why")
    if why is not None and not retired:
        error(why.location, "'why' explains a retirement, but this card is not retired",
              "add 'retired: true', or use 'extra' for notes to students")
    if retired and why is None:
        error(item.items["retired"][0], "a retired card needs a 'why'",
              "add why: with one sentence students will read in place of the answer, "
              "e.g. why: Replaced by another-card-id.")
    lint_ignore, lint_why = [], None
    if "lint" in item.items:
        lint = item.items["lint"][1]
        if isinstance(lint, YMap):
            check_keys(lint, ("ignore", "why"), "a card's lint settings")
            lint_ignore = text_list(lint, "ignore", required=True)
            lint_why = text(lint, "why", required=True)
        else:
            error(lint.location, f"'lint' must be a mapping, not {describe(lint)}")
    shapes, mode = (), "hide-all"
    if kind_value == "occlusion":  # the shapes themselves: test_occlusion_shapes.py
        shapes = read_shapes(Reader(problems), item)
        written = text(item, "mode")
        if written is not None and written.value not in OCCLUSION_MODES:
            error(written.location, f"unknown occlusion mode '{written.value}'",
                  "hide-all (the default: all shapes hidden, one asked) or hide-one (only the asked shape hidden)")
        elif written is not None:
            mode = written.value
    if card_id is None:
        return None, problems
    return Card(id=card_id, type=kind_value, location=item.location, subtopic=subtopic, file_path=path,
                tags=tags, retired=retired, why=why, lint_ignore=lint_ignore, lint_why=lint_why,
                shapes=shapes, mode=mode, **fields), problems


_words = st.text(alphabet="abc -*:\t\u00a0\u2003\x1c", min_size=1, max_size=10)
_odd = st.sampled_from(["", " ", "\u2003", "~", "null", "yes", "No", "TRUE", "maybe", "3.10", "a: b", "basic",
                        "cloze", "reversed", "type-in", "typein", "card-1", "{{c1::x}}", "x" * (MAX_FIELD_CHARS + 1),
                        "occlusion", "hide-one", "hide-all", "hide"])
_values = st.one_of(_odd, _words, st.none(), st.integers(-3, 3), st.lists(st.sampled_from(["t", "", "a-b", " "]), max_size=3),
                    st.dictionaries(st.sampled_from(["ignore", "why", "igore"]),
                                    st.one_of(_words, st.lists(st.sampled_from(["ND101", ""]), max_size=2)), max_size=3))
_keys = st.sampled_from(("id", "type", "question", "answer", "text", "extra", "source", "tags", "retired",
                         "why", "lint", "typo", "Question", "image", "shapes", "mode", "header", "back_extra"))


@st.composite
def _plain(draw) -> dict:
    """A card as most decks have them: no problem at all."""
    kind = draw(st.sampled_from(CARD_TYPES + (None,)))
    card = {"id": draw(st.from_regex(r"[a-z0-9]+(-[a-z0-9]+){0,2}", fullmatch=True))}
    if kind is not None:
        card["type"] = kind
    optional = ["source", "header", "back_extra"] if kind == "occlusion" else ["extra", "source"]
    for name in fields_of(kind or "basic")[0] + tuple(draw(st.sets(st.sampled_from(optional)))):
        card[name] = draw(_words.filter(str.strip))
    if kind == "occlusion":
        card["shapes"] = [{"rect": {"left": 0.1, "top": 0.1, "width": 0.2, "height": 0.2}, "label": "x"}]
    if draw(st.booleans()):
        card["tags"] = draw(st.lists(st.from_regex(r"[a-z]+(::[a-z]+)?", fullmatch=True), min_size=1, max_size=3))
    return card


_broken = st.one_of(
    st.builds(lambda base, more: {**base, **more}, _plain(), st.dictionaries(_keys, _values, min_size=1, max_size=3)),
    st.dictionaries(_keys, _values, max_size=5),
    _values,
)
_cards = st.booleans().flatmap(lambda plain: _plain() if plain else _broken)  # real decks are mostly plain


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.lists(_cards, min_size=1, max_size=3))
def test_the_card_reader_reads_as_the_reference_reader(items):
    value, parse_problems = parse(yaml.safe_dump({"cards": items}, allow_unicode=True), "c.yaml")
    assert parse_problems == []
    path = Path("c.yaml")
    problems: list[Problem] = []
    reader = Reader(problems)
    for item in value.items["cards"][1].items:
        before = len(problems)
        expected_card, expected_problems = reference_card(item, "Topic", path)
        assert cards._read_card(reader, item, "Topic", path) == expected_card
        assert problems[before:] == expected_problems
