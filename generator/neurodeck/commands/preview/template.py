"""Anki's card rendering: `{{Field}}`, `{{#Field}}`/`{{^Field}}` sections, comments,
`{{FrontSide}}`, the cloze (image occlusion included), cloze-only, type, text, hint and tts filters,
and the reviewer's type-in box. Tests compare it with the official Anki engine.
"""
from __future__ import annotations

import html
import re

from neurodeck.apkg import templates
from neurodeck.apkg.notetypes import CustomNoteType, NoteType
from neurodeck.render.cloze import reveal as reveal_clozes  # the build's reading of deletions
from neurodeck.render.cloze import reveal_only


def _parse(template: str) -> tuple:
    """Template text -> nodes, as Anki parses it (apkg/templates.py); a template is parsed before
    any field is put in, so field text that looks like a template tag stays text, as in Anki."""
    return templates.parse(template)


field_is_empty = templates.field_is_empty


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
        elif isinstance(node, templates.Comment):
            out.append(f"<!--{node.text}-->")
        elif isinstance(node, templates.Section):
            if field_is_empty(_field(fields, node.key, node.key[:1] == "c" and node.key[1:].isdigit())) == node.negated:
                _render(node.children, fields, card_ord, question, front_side, out)
        elif node.key == "FrontSide" and not node.filters:
            out.append(front_side)
        elif node.filters == ("type",):
            _field(fields, node.key)  # an unknown field is a template bug
            out.append(f"[[type:{node.key}]]")
        else:
            out.append(_filtered(_field(fields, node.key), node, card_ord, question))


def _filtered(text: str, node: templates.Replacement, card_ord: int, question: bool) -> str:
    """A field through its filters, in Anki's order: the ones the reviewer shows are rendered as
    Anki renders them; others (furigana and add-ons' filters) show the field's text."""
    for name in node.filters:
        if name == "cloze":
            text = reveal_clozes(text, card_ord + 1, question)
        elif name == "cloze-only":
            text = reveal_only(text, card_ord + 1, question)
        elif name == "text":
            text = html.unescape(_HTML_TAG.sub("", text))  # rslib strip_html: tags, then entities
        elif name == "hint" and text.strip():
            text = (f'<a class=hint href="#" onclick="this.style.display=\'none\';this.nextElementSibling.style.'
                    f"display='block';return false;\">{html.escape(node.key)}</a>"
                    f'<div class=hint style="display: none">{text}</div>')
        elif name.startswith("tts "):
            text = f"[anki:tts lang={name[4:].strip()}]{text}[/anki:tts]"
    return text


def _field(fields: dict[str, str], name: str, cloze_conditional: bool = False) -> str:
    try:
        return fields[name]
    except KeyError:
        if cloze_conditional:  # {{#c1}}: Anki reads these as empty outside cloze notes' deletions
            return ""
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


def render_card(note_type: NoteType | CustomNoteType, fields: tuple[str, ...], card_ord: int,
                specials: dict[str, str] | None = None) -> tuple[str, str]:
    """Question and answer HTML of one card as the reviewer shows them (without the CSS);
    `specials` gives the special fields a custom type's templates may show ({{Tags}}, {{Deck}}...)."""
    named = dict(specials or {}, **dict(zip(note_type.fields, fields)))
    template = note_type.templates[0 if note_type.is_cloze else card_ord]
    if specials is not None:
        named.setdefault("Card", template.name)
    front = render_template(template.qfmt, named, card_ord, question=True)
    back = render_template(template.afmt, named, card_ord, question=False, front_side=front)
    return fill_type_answers(front, named, True), fill_type_answers(back, named, False)
