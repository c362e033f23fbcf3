"""A compiled deck -> one self-contained HTML page showing every card as Anki will show it.

Each card's question and answer are rendered from the note's fields with the note type's own
templates and CSS, by a small renderer for the part of Anki's template language our note types
use (`{{Field}}`, `{{#Field}}`/`{{^Field}}` sections, `{{FrontSide}}`, `{{cloze:Field}}` and
`{{type:Field}}`); a test compares it with the official Anki engine. The page needs no network:
CSS, script, images (as data: URLs) and, when the deck has maths, the MathJax build shipped in
the package are inlined, and a Content-Security-Policy forbids every request.
"""
from __future__ import annotations

import base64
import functools
import html
import re
from dataclasses import dataclass
from pathlib import Path

from neurodeck.apkg import files
from neurodeck.pipeline.build import CompiledDeck, compile_deck, write_problem
from neurodeck.checks.names import slug
from neurodeck.model import Problem
from neurodeck.model import Note
from neurodeck.apkg.notetypes import NoteType, note_types

# ---- Anki's template language (the subset our note types use) ---------------------------------

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
            if name != tag[1:].strip():
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


# ---- cloze deletions, exactly as Anki's rslib/src/cloze.rs -------------------------------------

_CLOZE_TOKEN = re.compile(r"\{\{c(\d+)::|\}\}")
_MAX_OPEN_CLOZES = 10  # Anki ignores deeper nesting


@dataclass
class _Cloze:
    ordinal: int
    nodes: list  # str | _Cloze
    hint: str | None = None


def _parse_clozes(text: str) -> list:
    """Text -> str and _Cloze nodes; nested deletions nest, an unclosed one is dropped (as Anki)."""
    output: list = []
    open_clozes: list[_Cloze] = []
    pos = 0

    def add_text(chunk: str) -> None:
        if chunk:
            (open_clozes[-1].nodes if open_clozes else output).append(chunk)

    for match in _CLOZE_TOKEN.finditer(text):
        add_text(text[pos:match.start()])
        pos = match.end()
        if match.group(1) is not None:
            if len(open_clozes) < _MAX_OPEN_CLOZES:
                open_clozes.append(_Cloze(int(match.group(1)), []))
        elif open_clozes:
            cloze = open_clozes.pop()
            if cloze.nodes and isinstance(cloze.nodes[-1], str) and "::" in cloze.nodes[-1]:
                cloze.nodes[-1], cloze.hint = cloze.nodes[-1].split("::", 1)
            (open_clozes[-1].nodes if open_clozes else output).append(cloze)
        else:
            output.append("}}")
    add_text(text[pos:])
    return output


def reveal_clozes(text: str, cloze_ord: int, question: bool) -> str:
    """The `{{cloze:...}}` filter: deletion `cloze_ord` hidden (question) or highlighted (answer),
    the others shown; empty when the text has no deletion of that number (an empty card)."""
    out: list[str] = []
    found = False
    for node in _parse_clozes(text):
        if isinstance(node, str):
            out.append(node)
        else:
            found |= _reveal(node, cloze_ord, question, out)
    return "".join(out) if found else ""


def _reveal(cloze: _Cloze, cloze_ord: int, question: bool, out: list[str]) -> bool:
    active = cloze.ordinal == cloze_ord
    found = active
    if question and active:
        content: list[str] = []
        for node in cloze.nodes:
            if isinstance(node, str):
                content.append(node)
            else:
                found |= _reveal(node, cloze_ord, True, content)
        hint = "[...]" if cloze.hint is None else f"[{cloze.hint}]"
        out.append(f'<span class="cloze" data-cloze="{_encode_attribute("".join(content))}" '
                   f'data-ordinal="{cloze.ordinal}">{hint}</span>')
        return found
    css_class = "cloze" if active else "cloze-inactive"
    out.append(f'<span class="{css_class}" data-ordinal="{cloze.ordinal}">')
    for node in cloze.nodes:
        if isinstance(node, str):
            out.append(node)
        else:
            found |= _reveal(node, cloze_ord, question, out)
    out.append("</span>")
    return found


_NAMED = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def _encode_attribute(text: str) -> str:
    # The escaping of the htmlescape crate Anki uses: ASCII letters and digits as they are,
    # four named entities, every other character below U+0100 as &#xHH;.
    return "".join(
        c if (c.isascii() and c.isalnum()) or ord(c) >= 256 else _NAMED.get(c) or f"&#x{ord(c):02X};"
        for c in text)


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


# ---- the page -------------------------------------------------------------------------------------

_MATH = re.compile(r"\\\(|\\\[")
_IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]*)(")')
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
         ".webp": "image/webp"}
# Nothing may be fetched: everything the page needs is in it.
_CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
        "base-uri 'none'; form-action 'none'")
_KIND = {"basic": "Basic", "reversed": "Reversed", "cloze": "Cloze", "type-in": "Type-in"}


@dataclass(frozen=True)
class PreviewCard:
    """One Anki card of a note: what the page shows for it."""

    note: Note
    ord: int
    fields: dict[str, str]  # field name -> HTML
    question: str
    answer: str

    @property
    def label(self) -> str:
        if self.note.type == "cloze":
            return f"Cloze c{self.ord + 1}"
        if self.note.type == "reversed":
            return "Reversed, card 1: question → answer" if self.ord == 0 else "Reversed, card 2: answer → question"
        return _KIND[self.note.type]


def preview_cards(compiled: CompiledDeck) -> list[PreviewCard]:
    """Every card Anki makes from the deck, in note order, each note's cards by ordinal."""
    types = note_types(compiled.manifest.namespace)
    cards = []
    for note in compiled.notes:
        for card_ord in note.ords:
            note_type = types[note.type]
            question, answer = render_card(note_type, note.fields, card_ord)
            cards.append(PreviewCard(note, card_ord, dict(zip(note_type.fields, note.fields)), question, answer))
    return cards


@functools.lru_cache(maxsize=1)
def mathjax_script() -> str | None:
    """MathJax 3's TeX-to-SVG build with every TeX extension (nothing is loaded later, and SVG
    output needs no font files), shipped in the package's `mathjax` folder (the official build,
    with its licence; scripts/update-mathjax.sh replaces it); None if an installation lacks it."""
    from importlib.resources import files

    try:
        source = (files("neurodeck.commands.preview") / "mathjax" / "tex-svg-full.js").read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    # "</script" would end the inline <script> element early (the build has none; be sure).
    return re.sub(r"</(script)", r"<\\/\1", source, flags=re.IGNORECASE)


def preview_html(compiled: CompiledDeck) -> str:
    """The preview page of a compiled deck (which must be ok). Same deck, same page."""
    manifest = compiled.manifest
    assert manifest is not None
    cards = preview_cards(compiled)
    media = compiled.media.files if compiled.media else {}
    has_math = bool(_MATH.search(compiled.description)) or any(
        _MATH.search(f) for note in compiled.notes for f in note.fields)
    mathjax = mathjax_script() if has_math else None

    groups: dict[str, list[PreviewCard]] = {}
    for card in cards:
        groups.setdefault(card.note.subtopic, []).append(card)
    note_count = len(compiled.notes)
    e = html.escape

    parts = [
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n',
        '<meta name="generator" content="neurodeck preview">\n',
        f"<title>{e(manifest.name)} · card preview</title>\n",
        f"<style>\n/* note types */\n{note_types(manifest.namespace)['basic'].css}</style>\n",
        f"<style>\n{_PAGE_CSS}</style>\n</head>\n<body>\n",
        '<header class="pv-top">\n<div class="pv-head">\n',
        f"<h1>{e(manifest.name)}</h1>\n",
        f'<p class="pv-summary">{note_count} notes · {len(cards)} cards · {len(groups)} subtopics</p>\n',
        f'<div class="pv-desc">{_inline_images(compiled.description, media)}</div>\n</div>\n</header>\n',
        ('<div class="pv-bar">\n<div class="pv-tools">\n<input type="search" id="pv-search" '
         'placeholder="Search cards, tags, ids…" aria-label="Search cards" autocomplete="off" spellcheck="false">\n'),
        '<button type="button" id="pv-night" aria-pressed="false">Night mode</button>\n',
        f'<span id="pv-shown" aria-live="polite">{len(cards)} of {len(cards)} cards</span>\n</div>\n',
    ]
    if has_math and mathjax is None:
        parts.append('<p class="pv-note">Maths is shown as TeX source: this installation of neurodeck '
                     'lacks its MathJax build (reinstall neurodeck to typeset it).</p>\n')
    parts.append('<nav class="pv-toc" aria-label="Subtopics">\n')
    for subtopic, group in groups.items():
        parts.append(f'<a href="#{_section_id(subtopic)}" data-section="{_section_id(subtopic)}">{e(subtopic)} '
                     f'<span class="pv-n">{len(group)}</span></a>\n')
    parts.append("</nav>\n</div>\n<main>\n")
    for subtopic, group in groups.items():
        notes = len({c.note.id for c in group})
        parts.append(
            f'<section class="pv-subdeck" id="{_section_id(subtopic)}" data-total="{len(group)}">\n'
            f'<h2>{e(subtopic)} <span class="pv-count"><span class="pv-n">{len(group)}</span> cards · '
            f'{notes} notes · <span class="pv-deck">{e(group[0].note.deck)}</span></span></h2>\n')
        parts += (_card_html(card, media) for card in group)
        parts.append("</section>\n")
    parts.append('<p id="pv-none" hidden>No card matches the search.</p>\n</main>\n')
    parts.append(f"<script>\n{_PAGE_JS}</script>\n")
    if mathjax is not None:
        parts.append(f"<script>\n{_MATHJAX_CONFIG}</script>\n<script>\n{mathjax}\n</script>\n")
    parts.append("</body>\n</html>\n")
    return "".join(parts)


def _section_id(subtopic: str) -> str:
    return "sub-" + (slug(subtopic) or "topic")


def _card_html(card: PreviewCard, media: dict[str, bytes]) -> str:
    note, e = card.note, html.escape
    source = card.fields.get("Source", "")
    search = " ".join([_plain(card.question), _plain(card.answer), _plain(source),
                       note.id, " ".join(note.tags), note.subtopic, card.label, note.type]).lower()
    side_class = f"card card{card.ord + 1}"
    retired = ' <span class="pv-badge">retired</span>' if note.retired else ""
    tags = "".join(f"<li>{e(t)}</li>" for t in note.tags)
    return (
        f'<article class="pv-card" id="card-{e(note.id)}-{card.ord + 1}" data-search="{e(" ".join(search.split()))}">\n'
        f'<header class="pv-meta"><span class="pv-kind pv-{note.type}">{e(card.label)}</span>{retired}'
        f'<code class="pv-id">{e(note.id)}</code>'
        f'<span class="pv-loc">{e(str(note.location))}</span></header>\n'
        '<div class="pv-sides">\n'
        f'<section class="pv-side" aria-label="Question"><h3>Question</h3>'
        f'<div class="{side_class}">{_inline_images(card.question, media)}</div></section>\n'
        f'<section class="pv-side" aria-label="Answer"><h3>Answer</h3>'
        f'<div class="{side_class}">{_inline_images(card.answer, media)}</div></section>\n'
        "</div>\n"
        f'<footer class="pv-info"><p class="pv-source"><span>Source</span> {source or "<em>none</em>"}</p>'
        f'<ul class="pv-tags" aria-label="Tags">{tags}</ul></footer>\n'
        "</article>\n")


def _inline_images(body: str, media: dict[str, bytes]) -> str:
    """Packaged image names -> data: URLs, so the page needs no other file."""
    def data_url(match: re.Match) -> str:
        name = html.unescape(match.group(2))
        data = media.get(name)
        if data is None:
            return match.group(0)
        mime = _MIME.get(Path(name).suffix.lower(), "application/octet-stream")
        return f"{match.group(1)}data:{mime};base64,{base64.b64encode(data).decode()}{match.group(3)}"

    return _IMG_SRC.sub(data_url, body) if "<img" in body else body


def _plain(body: str) -> str:
    return html.unescape(_HTML_TAG.sub(" ", body))


# ---- writing ----------------------------------------------------------------------------------------

def preview_path(output: str, out_dir: Path) -> Path:
    """Where the preview of a deck whose package is `output` goes."""
    return out_dir / (Path(output).stem + ".html")


def write_preview(manifest_path: Path, out_dir: Path) -> tuple[Path | None, list[Problem]]:
    """Compile a manifest and write its preview page into `out_dir`; nothing is written (and the
    path is None) if the deck has errors or the write fails. The lock is never written."""
    with files.exclusive(manifest_path):
        compiled = compile_deck(manifest_path)
        if not compiled.ok:
            return None, compiled.problems
        target = preview_path(compiled.manifest.output, out_dir)
        page = preview_html(compiled).encode("utf-8")
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            files.remove_stale(target)
            files.commit(files.prepare(target, lambda f: f.write(page)), target)
        except OSError as exc:
            return None, compiled.problems + [write_problem(exc, out_dir)]
        return target, compiled.problems


# Anki's MathJax settings: \( \) inline and \[ \] display only, no $ delimiters. No menu: it
# would load its extensions from the network.
_MATHJAX_CONFIG = """\
window.MathJax = {
  tex: {inlineMath: [["\\\\(", "\\\\)"]], displayMath: [["\\\\[", "\\\\]"]],
        processEscapes: false, processEnvironments: false},
  svg: {fontCache: "local"},
  options: {enableMenu: false},
  startup: {pageReady: function () {
    return MathJax.startup.defaultPageReady().then(function () {
      document.body.setAttribute("data-maths", "typeset");
    });
  }}
};
"""

_PAGE_CSS = """\
[hidden] { display: none !important; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: #eceff3; color: #1d1d1f; font: 15px/1.45 -apple-system, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, sans-serif; }
body.nightMode { background: #111113; color: #e5e5e7; }
.pv-top { padding: 14px 20px 0; }
/* Only the search bar stays in view: a long deck description must not eat the screen. */
.pv-bar { position: sticky; top: 0; z-index: 2; background: rgba(236, 239, 243, 0.96); backdrop-filter: blur(6px);
  border-bottom: 1px solid #d5d9df; padding: 0 20px 8px; }
body.nightMode .pv-bar { background: rgba(17, 17, 19, 0.96); border-bottom-color: #2c2c30; }
.pv-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 14px; max-width: 1200px; margin: 0 auto; }
.pv-head h1 { font-size: 1.35em; margin: 0; }
.pv-summary { margin: 0; color: #6e6e73; }
.pv-desc { flex-basis: 100%; color: #48484a; font-size: 0.92em; }
.pv-desc p { margin: 0.2em 0; }
body.nightMode .pv-desc, body.nightMode .pv-summary { color: #a1a1a6; }
.pv-tools { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 12px; max-width: 1200px; margin: 0 auto;
  padding-top: 10px; }
#pv-search { flex: 1 1 260px; font: inherit; font-size: 16px; padding: 8px 12px; border-radius: 8px;
  border: 1px solid #b8bec7; background: #fff; color: inherit; min-width: 0; }
#pv-search:focus { outline: 2px solid #0a58ca; outline-offset: 1px; }
#pv-night { font: inherit; padding: 7px 14px; border-radius: 8px; border: 1px solid #b8bec7; background: #fff;
  color: inherit; cursor: pointer; }
body.nightMode #pv-search, body.nightMode #pv-night { background: #1e1e20; border-color: #48484a; }
#pv-shown { color: #6e6e73; white-space: nowrap; font-variant-numeric: tabular-nums; }
.pv-note { max-width: 1200px; margin: 6px auto 0; font-size: 0.9em; color: #8a5a00; }
.pv-toc { display: flex; gap: 6px; overflow-x: auto; max-width: 1200px; margin: 8px auto 0; padding-bottom: 2px;
  scrollbar-width: thin; }
.pv-toc a { flex: none; text-decoration: none; color: inherit; background: #fff; border: 1px solid #d5d9df;
  border-radius: 999px; padding: 3px 10px; font-size: 0.9em; white-space: nowrap; }
.pv-toc a .pv-n { color: #6e6e73; font-variant-numeric: tabular-nums; }
.pv-toc a.pv-empty { opacity: 0.45; }
body.nightMode .pv-toc a { background: #1e1e20; border-color: #38383c; }
main { max-width: 1200px; margin: 0 auto; padding: 8px 20px 40px; }
.pv-subdeck { scroll-margin-top: var(--pv-bar, 110px); }
.pv-subdeck h2 { font-size: 1.15em; margin: 22px 0 10px; display: flex; flex-wrap: wrap; align-items: baseline;
  gap: 2px 10px; }
.pv-count { font-size: 0.78em; font-weight: 400; color: #6e6e73; }
.pv-deck { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.92em; }
.pv-card { background: #fff; border: 1px solid #d5d9df; border-radius: 12px; margin: 0 0 14px; padding: 10px 12px 8px;
  box-shadow: 0 1px 2px rgba(0, 0, 0, 0.04); scroll-margin-top: var(--pv-bar, 110px); }
body.nightMode .pv-card { background: #18181a; border-color: #2c2c30; }
.pv-meta { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 10px; font-size: 0.85em; margin-bottom: 8px; }
.pv-kind { font-weight: 600; padding: 1px 8px; border-radius: 6px; background: #e8eefb; color: #1f4fa3; }
.pv-kind.pv-cloze { background: #e9f6ec; color: #1c6b33; }
.pv-kind.pv-reversed { background: #f6effb; color: #6a2c91; }
.pv-kind.pv-type-in { background: #fdf3e3; color: #8a5a00; }
body.nightMode .pv-kind { background: #23262d; color: #9cc2ff; }
.pv-badge { font-weight: 600; padding: 1px 8px; border-radius: 6px; background: #fde8e8; color: #9b1c1c; }
.pv-id { color: #48484a; }
body.nightMode .pv-id { color: #c7c7cc; }
.pv-loc { color: #8e8e93; margin-left: auto; font-size: 0.92em; overflow-wrap: anywhere; }
.pv-sides { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.pv-side { margin: 0; min-width: 0; display: flex; flex-direction: column; }
.pv-side h3 { margin: 0 0 4px; font-size: 0.72em; font-weight: 600; letter-spacing: 0.06em; text-transform: uppercase;
  color: #8e8e93; }
.pv-side > .card { flex: 1; border: 1px solid #e1e4e8; border-radius: 10px; padding-top: 14px; padding-bottom: 14px;
  min-height: 5em; overflow-wrap: break-word; overflow-x: auto; }
body.nightMode .pv-side > .card { border-color: #2c2c30; }
.card .typeans { width: 100%; box-sizing: border-box; margin-top: 0.6em; padding: 4px 6px; }
.card code.typeans { display: inline-block; white-space: pre-wrap; }
.card mjx-container[display="true"] { overflow-x: auto; overflow-y: hidden; }
.pv-info { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 12px; margin-top: 8px; font-size: 0.82em; }
.pv-source { margin: 0; color: #48484a; flex: 1 1 280px; }
.pv-source > span { font-variant: small-caps; letter-spacing: 0.04em; color: #8e8e93; margin-right: 4px; }
body.nightMode .pv-source { color: #c7c7cc; }
.pv-tags { display: flex; flex-wrap: wrap; gap: 4px; list-style: none; margin: 0; padding: 0; }
.pv-tags li { background: #f1f2f4; border-radius: 4px; padding: 0 6px; color: #48484a;
  font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.92em; }
body.nightMode .pv-tags li { background: #26262a; color: #c7c7cc; }
#pv-none { text-align: center; color: #6e6e73; margin: 40px 0; }
@media (max-width: 720px) {
  .pv-top { padding: 10px 12px 0; }
  .pv-bar { padding: 0 12px 6px; }
  main { padding: 4px 10px 30px; }
  .pv-sides { grid-template-columns: 1fr; }
  .pv-loc { margin-left: 0; flex-basis: 100%; }
}
"""

_PAGE_JS = """\
(function () {
  "use strict";
  var cards = Array.prototype.slice.call(document.querySelectorAll("article.pv-card"));
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.pv-subdeck"));
  var search = document.getElementById("pv-search");
  var shown = document.getElementById("pv-shown");
  var none = document.getElementById("pv-none");
  var night = document.getElementById("pv-night");
  var texts = cards.map(function (card) { return card.getAttribute("data-search"); });

  function filter() {
    var terms = search.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var visible = 0;
    cards.forEach(function (card, i) {
      var match = terms.every(function (term) { return texts[i].indexOf(term) !== -1; });
      card.hidden = !match;
      if (match) { visible += 1; }
    });
    sections.forEach(function (section) {
      var total = Number(section.getAttribute("data-total"));
      var count = section.querySelectorAll("article.pv-card:not([hidden])").length;
      var label = terms.length ? count + " of " + total : String(total);
      section.hidden = count === 0;
      section.querySelector(".pv-n").textContent = label;
      var link = document.querySelector('.pv-toc a[data-section="' + section.id + '"]');
      if (link) {
        link.querySelector(".pv-n").textContent = terms.length ? String(count) : String(total);
        link.classList.toggle("pv-empty", count === 0);
      }
    });
    shown.textContent = visible + " of " + cards.length + " cards";
    none.hidden = visible !== 0;
  }

  function setNight(on, remember) {
    // Anki puts these classes on the card's <body>; the note types' CSS styles .nightMode.
    document.body.classList.toggle("nightMode", on);
    document.body.classList.toggle("night_mode", on);
    night.setAttribute("aria-pressed", on ? "true" : "false");
    night.textContent = on ? "Day mode" : "Night mode";
    if (remember) {
      try { localStorage.setItem("neurodeck-preview-night", on ? "1" : "0"); } catch (e) { /* file: may forbid it */ }
    }
  }

  function measureBar() {
    // Section links scroll their target just below the sticky search bar.
    var bar = document.querySelector(".pv-bar");
    document.documentElement.style.setProperty("--pv-bar", (bar.offsetHeight + 8) + "px");
  }
  measureBar();
  window.addEventListener("resize", measureBar);
  search.addEventListener("input", filter);
  search.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { search.value = ""; filter(); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && document.activeElement !== search &&
        !(document.activeElement && document.activeElement.tagName === "INPUT")) {
      event.preventDefault();
      search.focus();
    }
  });
  night.addEventListener("click", function () {
    setNight(!document.body.classList.contains("nightMode"), true);
  });
  var stored = null;
  try { stored = localStorage.getItem("neurodeck-preview-night"); } catch (e) { stored = null; }
  setNight(stored === null ? window.matchMedia("(prefers-color-scheme: dark)").matches : stored === "1", false);
  if (search.value) { filter(); }  // a value the browser restored
  document.body.setAttribute("data-ready", "true");
})();
"""
