"""Anki's card rendering, for the part of its template language our note types use:
`{{Field}}`, `{{#Field}}`/`{{^Field}}` sections, `{{FrontSide}}`, `{{cloze:Field}}` and
`{{type:Field}}`, and the reviewer's type-in box. A test compares it with the official Anki engine.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass

from neurodeck.apkg.notetypes import NoteType
from neurodeck.render.cloze import reveal as reveal_clozes  # the build's reading of deletions

_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


@dataclass(frozen=True)
class _Field:
    name: str
    filters: tuple[str, ...]  # outermost first, as written: {{type:Answer}} -> ("type",)


@dataclass(frozen=True)
class _Section:
    name: str
    negated: bool
    body: tuple


def _parse(template: str) -> tuple:
    """Template text -> nodes (str, _Field, _Section); a template is parsed before any field is
    put in, so field text that looks like a template tag stays text, as in Anki."""
    stack: list[tuple[str | None, bool, list]] = [(None, False, [])]
    pos = 0
    for match in _TAG.finditer(template):
        if match.start() > pos:
            stack[-1][2].append(template[pos:match.start()])
        pos = match.end()
        tag = match.group(1).strip()
        if tag[:1] in "#^":
            stack.append((tag[1:].strip(), tag[0] == "^", []))
        elif tag[:1] == "/":
            name, negated, body = stack.pop()
            if name is None or name != tag[1:].strip():
                raise ValueError(f"template section {{{{/{tag[1:]}}}}} closes {{{{#{name}}}}}")
            stack[-1][2].append(_Section(name, negated, tuple(body)))
        else:
            *filters, name = tag.split(":")
            stack[-1][2].append(_Field(name.strip(), tuple(f.strip() for f in filters)))
    if len(stack) != 1:
        raise ValueError(f"template section {{{{#{stack[-1][0]}}}}} is not closed")
    stack[0][2].append(template[pos:])
    return tuple(stack[0][2])


# Anki's test for an empty field: only whitespace, line breaks and empty divs.
_EMPTY_FIELD = re.compile(r"(?:\s|</?(?:br|div) ?/?>)*", re.IGNORECASE)


def field_is_empty(text: str) -> bool:
    return _EMPTY_FIELD.fullmatch(text) is not None


def render_template(template: str, fields: dict[str, str], card_ord: int, question: bool,
                    front_side: str = "") -> str:
    """Render one side as Anki's engine does (`card.question()` / `card.answer()` without the
    CSS): `{{type:F}}` becomes the `[[type:F]]` placeholder that the reviewer fills in."""
    out: list[str] = []
    _render(_parse(template), fields, card_ord, question, front_side, out)
    return "".join(out)


def _render(nodes: tuple, fields: dict[str, str], card_ord: int, question: bool, front_side: str,
            out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, _Section):
            if field_is_empty(_field(fields, node.name)) == node.negated:
                _render(node.body, fields, card_ord, question, front_side, out)
        elif node.name == "FrontSide" and not node.filters:
            out.append(front_side)
        elif node.filters == ("type",):
            _field(fields, node.name)  # an unknown field is a template bug
            out.append(f"[[type:{node.name}]]")
        elif node.filters == ("cloze",):
            out.append(reveal_clozes(_field(fields, node.name), card_ord + 1, question))
        elif not node.filters:
            out.append(_field(fields, node.name))
        else:
            raise ValueError(f"template filter {':'.join(node.filters)} is not supported by the preview")


def _field(fields: dict[str, str], name: str) -> str:
    try:
        return fields[name]
    except KeyError:
        raise ValueError(f"template uses unknown field {{{{{name}}}}}") from None


# ---- the reviewer's type-in box ------------------------------------------------------------------

_TYPE_PLACEHOLDER = re.compile(r"\[\[type:(.+?)\]\]")


_LINE_BREAKS = re.compile(r"<br\s*/?>|</?div[^>]*>|\n", re.IGNORECASE)


_HTML_TAG = re.compile(r"<[^>]*>")


# The font Anki's reviewer gives the type-in box: the field's editor font (see NoteType.to_anki).
_TYPE_STYLE = "font-family: 'Arial'; font-size: 20px"


def typed_answer(field_html: str) -> str:
    """What Anki's reviewer shows for a type-in field when nothing was typed: the expected answer
    as plain text (as `col.compare_answer(field, "")`)."""
    text = html.unescape(_HTML_TAG.sub("", _LINE_BREAKS.sub(" ", field_html))).strip()
    return f"<code id=typeans>{html.escape(text, quote=False)}</code>"


def fill_type_answers(side: str, fields: dict[str, str], question: bool) -> str:
    """Replace `[[type:F]]` as the reviewer does: an input on the question, the answer on the back.

    Ids become classes: the page shows many cards, and ids must be unique."""
    if question:
        box = (f'<center><input type="text" class="typeans" aria-label="Type the answer" '
               f'autocomplete="off" spellcheck="false" style="{_TYPE_STYLE};"></center>')
        return _TYPE_PLACEHOLDER.sub(lambda m: box, side)
    if not _TYPE_PLACEHOLDER.search(side):
        return side
    had_rule = "<hr id=answer>" in side
    if had_rule:  # the reviewer moves the rule to just above the comparison
        side = side.replace("<hr id=answer>", "")

    def back(match: re.Match) -> str:
        shown = typed_answer(fields.get(match.group(1), "")).replace("<code id=typeans>", '<code class="typeans">')
        return ("<hr id=answer>" if had_rule else "") + f'<div style="{_TYPE_STYLE}">{shown}</div>'

    return _TYPE_PLACEHOLDER.sub(back, side)


def render_card(note_type: NoteType, fields: tuple[str, ...], card_ord: int) -> tuple[str, str]:
    """Question and answer HTML of one card as the reviewer shows them (without the CSS)."""
    named = dict(zip(note_type.fields, fields))
    template = note_type.templates[0 if note_type.is_cloze else card_ord]
    front = render_template(template.qfmt, named, card_ord, question=True)
    back = render_template(template.afmt, named, card_ord, question=False, front_side=front)
    return fill_type_answers(front, named, True), fill_type_answers(back, named, False)
