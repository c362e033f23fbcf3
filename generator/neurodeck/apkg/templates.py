"""Anki's card template language as rslib reads it (rslib/src/template.rs): tokens, sections, the
fields a template references, and whether a template's front renders for a note.

Ported rule for rule, because these decide what Anki does with a note type: which fields a
template names (an unknown one makes the note type invalid), which fields the cloze filter
reads, and which cards a note gets (a card whose front would be empty is never made).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

SPECIAL_FIELDS = frozenset({"FrontSide", "Card", "CardFlag", "Deck", "Subdeck", "Tags", "Type", "CardID"})
_ALT_SYNTAX = "{{=<% %>=}}"
# Sections inside sections: real templates nest a few deep; every reader of the parsed template
# recurses once per level, so a hostile one nesting thousands deep must stop here, as an error.
MAX_NESTING = 100


class TemplateError(ValueError):
    """A template Anki cannot parse: a section closed that is not open, or left open."""


@dataclass(frozen=True)
class Replacement:
    key: str
    filters: tuple[str, ...]  # in the order Anki applies them: {{text:cloze:F}} -> ("cloze", "text")


@dataclass(frozen=True)
class Section:
    key: str
    negated: bool
    children: tuple


@dataclass(frozen=True)
class Comment:
    text: str  # between <!-- and -->


Node = "str | Replacement | Section | Comment"


def _tokens(template: str) -> Iterator[tuple[str, str]]:
    """(kind, text) pairs: "text", "comment" or "handle" (the inside of a handlebar)."""
    start, end = "{{", "}}"
    if template.lstrip().startswith(_ALT_SYNTAX):
        template = template.lstrip()[len(_ALT_SYNTAX):]
        start, end = "<%", "%>"
    pos, text_from = 0, 0
    while pos < len(template):
        if template.startswith(start, pos):
            close = template.find(end, pos + len(start))
            if close >= 0:
                if text_from < pos:
                    yield "text", template[text_from:pos]
                yield "handle", template[pos + len(start):close]
                pos = text_from = close + len(end)
                continue
        if template.startswith("<!--", pos):
            close = template.find("-->", pos + 4)
            if close >= 0:
                if text_from < pos:
                    yield "text", template[text_from:pos]
                yield "comment", template[pos + 4:close]
                pos = text_from = close + 3
                continue
        pos += 1
    if text_from < len(template):
        yield "text", template[text_from:]


def parse(template: str) -> tuple:
    """Template text -> nodes (str, Replacement, Section, Comment), or TemplateError."""
    stack: list[tuple[str | None, bool, list]] = [(None, False, [])]
    for kind, text in _tokens(template):
        nodes = stack[-1][2]
        if kind == "text":
            nodes.append(text)
            continue
        if kind == "comment":
            nodes.append(Comment(text))
            continue
        handle = text.lstrip("{").strip()
        if len(handle) >= 2 and handle[0] in "#^":
            if len(stack) > MAX_NESTING:
                raise TemplateError(f"sections nest more than {MAX_NESTING} deep")
            stack.append((handle[1:].lstrip(), handle[0] == "^", []))
        elif len(handle) >= 2 and handle[0] == "/":
            closed = handle[1:].lstrip()
            key, negated, children = stack[-1]
            if key != closed:
                raise TemplateError(f"{{{{/{closed}}}}} closes a section that is not open"
                                    + (f" (the open one is {{{{#{key}}}}})" if key is not None else ""))
            stack.pop()
            stack[-1][2].append(Section(closed, negated, tuple(children)))
        else:
            key, *filters = handle.split(":")[::-1]
            nodes.append(Replacement(key, tuple(filters)))
    if len(stack) > 1:
        raise TemplateError(f"section {{{{#{stack[-1][0]}}}}} is never closed with {{{{/{stack[-1][0]}}}}}")
    return tuple(stack[0][2])


def _is_cloze_conditional(key: str) -> bool:
    return key[:1] == "c" and key[1:].isascii() and key[1:].isdigit()


def referenced_fields(nodes: Iterable, cloze_only: bool = False) -> set[str]:
    """Field names a template uses (rslib's all_referenced_field_names, or with `cloze_only` the
    fields read through the cloze filter); names may not be fields of the note type."""
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, Replacement):
            if not cloze_only or "cloze" in node.filters:
                found.add(node.key)
        elif isinstance(node, Section):
            if not cloze_only and not _is_cloze_conditional(node.key):
                found.add(node.key)
            found |= referenced_fields(node.children, cloze_only)
    return found


def renders_with(nodes: Iterable, nonempty: set[str] | frozenset[str], check_negated: bool = True) -> bool:
    """Whether the template shows something when exactly `nonempty` fields have content
    (rslib's renders_with_fields: text alone never counts)."""
    return not _is_empty(nodes, nonempty, check_negated)


def _is_empty(nodes: Iterable, nonempty: set[str] | frozenset[str], check_negated: bool) -> bool:
    for node in nodes:
        if isinstance(node, Replacement):
            if node.key in nonempty:
                return False
        elif isinstance(node, Section):
            if node.negated:
                if check_negated and node.key in nonempty:
                    continue
            elif node.key not in nonempty:
                continue
            if not _is_empty(node.children, nonempty, check_negated):
                return False
    return True


def requirements(nodes: tuple, field_ords: Mapping[str, int]) -> tuple[str, list[int]]:
    """The legacy `req` entry of one template ("any", "all" or "none", and field ordinals), as
    rslib's updated_requirements computes it."""
    ords = sorted(o for name, o in field_ords.items() if renders_with(nodes, {name}, False))
    if ords:
        return "any", ords
    every = set(field_ords)
    needed = set(field_ords.values())
    for name, o in field_ords.items():
        if renders_with(nodes, every - {name}, False):
            needed.discard(o)
    if needed and renders_with(nodes, every, False):
        return "all", sorted(needed)
    return "none", []


# Anki's test for an empty field: only whitespace, line breaks and empty divs.
_EMPTY_FIELD = re.compile(r"(?:\s|</?(?:br|div) ?/?>)*", re.IGNORECASE)


def field_is_empty(text: str) -> bool:
    return _EMPTY_FIELD.fullmatch(text) is not None


def card_templates(fronts: list[tuple], fields: Mapping[str, str], has_tags: bool) -> tuple[int, ...]:
    """The ordinals of the templates whose front renders for a note of a standard note type
    (rslib's new_cards_required_normal): special fields count as filled, except FrontSide, and
    Tags only when the note has tags."""
    nonempty = {name for name, value in fields.items() if not field_is_empty(value)}
    nonempty |= {s for s in SPECIAL_FIELDS if s not in fields and s != "FrontSide" and (s != "Tags" or has_tags)}
    return tuple(i for i, nodes in enumerate(fronts) if renders_with(nodes, nonempty))
