"""A compiled deck -> one self-contained HTML page showing every card as Anki will show it.

Each card is rendered from the note's fields with the note type's own templates and CSS
(template.py). The page needs no network: its stylesheet and script (assets/, package data),
images (as data: URLs) and, when the deck has maths, the MathJax build shipped in the package
(mathjax/) are inlined, and a Content-Security-Policy forbids every request. A sound tag becomes
an <audio controls> element playing the packaged file (a data: URL), and a text-to-speech tag a
button that reads the text with the browser's own speech synthesis, where Anki shows its play
buttons.
"""
from __future__ import annotations

import base64
import functools
import html
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from neurodeck.apkg import files
from neurodeck.apkg.notetypes import CustomNoteType, note_types
from neurodeck.checks.names import slug
from neurodeck.commands.preview.masks import draw_masks
from neurodeck.commands.preview.template import render_card
from neurodeck.model import Note, Problem
from neurodeck.pipeline.build import CompiledDeck, compile_deck, write_problem
from neurodeck.render.audio import MIME as SOUND_MIME
from neurodeck.render.markdown import SOUND_TAG
from neurodeck.render.plaintext import plain_text

_MATH = re.compile(r"\\\(|\\\[")


_IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]*)(")')


_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
         ".webp": "image/webp"}


# Nothing may be fetched: everything the page needs is in it.
_CSP = ("default-src 'none'; img-src data:; media-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
        "base-uri 'none'; form-action 'none'")


# The served page may also open its server's event stream (same origin only).
_LIVE_CSP = _CSP + "; connect-src 'self'"


_KIND = {"basic": "Basic", "reversed": "Reversed", "cloze": "Cloze", "type-in": "Type-in", "occlusion": "Occlusion"}


@dataclass(frozen=True)
class PreviewCard:
    """One Anki card of a note: what the page shows for it."""

    note: Note
    ord: int
    fields: dict[str, str]  # field name -> HTML
    question: str
    answer: str
    own: CustomNoteType | None = None  # the deck's own note type of the card, if it is one

    @property
    def label(self) -> str:
        if self.note.type == "occlusion":
            return f"Occlusion, card {self.ord + 1}"
        if self.own is not None:
            template = self.own.templates[0 if self.own.is_cloze else self.ord].name
            return f"{self.own.name}, c{self.ord + 1}" if self.own.is_cloze else f"{self.own.name}: {template}"
        if self.note.type == "cloze":
            return f"Cloze c{self.ord + 1}"
        if self.note.type == "reversed":
            return "Reversed, card 1: question → answer" if self.ord == 0 else "Reversed, card 2: answer → question"
        return _KIND[self.note.type]


def preview_cards(compiled: CompiledDeck) -> list[PreviewCard]:
    """Every card Anki makes from the deck, in note order, each note's cards by ordinal."""
    assert compiled.manifest is not None  # a deck without errors
    types = compiled.notetypes or note_types(compiled.manifest.namespace)
    cards = []
    for note in compiled.notes:
        note_type = types[note.type]
        own = note_type if isinstance(note_type, CustomNoteType) else None
        specials = None if own is None else {
            "Tags": " ".join(note.tags), "Deck": note.deck, "Subdeck": note.deck.rsplit("::", 1)[-1],
            "Type": own.name, "CardFlag": "", "CardID": ""}
        for card_ord in note.ords:
            question, answer = render_card(note_type, note.fields, card_ord, specials)
            if note_type.kind == "occlusion":  # the deck's and any of its own image occlusion types
                question, answer = draw_masks(question), draw_masks(answer)
            cards.append(PreviewCard(note, card_ord, dict(zip(note_type.fields, note.fields)), question, answer, own))
    return cards


def own_css(compiled: CompiledDeck) -> str:
    """Each of the deck's own note types' CSS, nested under its cards' class (`nt-<key>`), so that
    it styles only them (CSS nesting: `.nt-x { .card {...} }` is `.nt-x .card {...}`)."""
    return "".join(f"\n/* note type {nt.name} */\n.nt-{_css_class(nt.key)} {{\n{nt.css}\n}}\n"
                   for nt in compiled.notetypes.values() if isinstance(nt, CustomNoteType))


def _css_class(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", lambda m: f"_{ord(m.group()):x}_", key)


@functools.lru_cache(maxsize=1)
def mathjax_script() -> str | None:
    """MathJax 3's TeX-to-SVG build with every TeX extension (nothing is loaded later, and SVG
    output needs no font files), shipped in the package's `mathjax` folder (the official build,
    with its licence; scripts/update-mathjax.sh replaces it); None if an installation lacks it."""
    try:
        source = (resources.files(__package__) / "mathjax" / "tex-svg-full.js").read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    # "</script" would end the inline <script> element early (the build has none; be sure).
    return re.sub(r"</(script)", r"<\\/\1", source, flags=re.IGNORECASE)



@functools.cache
def _asset(name: str) -> str:
    """A file of assets/ (shipped as package data): the page's stylesheet and scripts.

    mathjax-config.js holds Anki's MathJax settings: \\( \\) inline and \\[ \\] display only,
    no $ delimiters; and no menu, which would load its extensions from the network."""
    return (resources.files(__package__) / "assets" / name).read_text(encoding="utf-8")


def preview_html(compiled: CompiledDeck, live_version: int | None = None) -> str:
    """The preview page of a compiled deck (which must be ok). Same deck, same page.

    With `live_version` the page is the one `preview --serve` serves: it may connect to its own
    server's event stream (/events), reloads itself when a newer version is announced, and shows
    the errors of a failed rebuild."""
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
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP if live_version is None else _LIVE_CSP}">\n',
        '<meta name="generator" content="neurodeck preview">\n',
        f"<title>{e(manifest.name)} · card preview</title>\n",
        f"<style>\n/* note types */\n{note_types(manifest.namespace)['basic'].css}"
        f"{_no_style_end(own_css(compiled))}</style>\n",
        f"<style>\n{_asset('page.css')}</style>\n</head>\n",
        "<body>\n" if live_version is None else f'<body data-version="{live_version}">\n',
        '<header class="pv-top">\n<div class="pv-head">\n',
        f"<h1>{e(manifest.name)}</h1>\n",
        f'<p class="pv-summary">{note_count} notes · {len(cards)} cards · {len(groups)} subtopics</p>\n',
        f'<div class="pv-desc">{_inline_media(compiled.description, media)}</div>\n</div>\n</header>\n',
        ('<div class="pv-bar">\n<div class="pv-tools">\n<input type="search" id="pv-search" '
         'placeholder="Search cards, tags, ids…" aria-label="Search cards" autocomplete="off" spellcheck="false">\n'),
        '<button type="button" id="pv-night" aria-pressed="false">Night mode</button>\n',
        '<button type="button" id="pv-phone" aria-pressed="false">Phone width</button>\n',
        f'<span id="pv-shown" aria-live="polite">{len(cards)} of {len(cards)} cards</span>\n</div>\n',
    ]
    if has_math and mathjax is None:
        parts.append('<p class="pv-note">Maths is shown as TeX source: this installation of neurodeck '
                     'lacks its MathJax build (reinstall neurodeck to typeset it).</p>\n')
    if live_version is not None:
        parts.append('<div id="pv-live" role="status" hidden></div>\n')
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
    parts.append(f"<script>\n{_asset('page.js')}</script>\n")
    if live_version is not None:
        parts.append(f"<script>\n{_asset('live.js')}</script>\n")
    if mathjax is not None:
        parts.append(f"<script>\n{_asset('mathjax-config.js')}</script>\n<script>\n{mathjax}\n</script>\n")
    parts.append("</body>\n</html>\n")
    return "".join(parts)


def _no_style_end(css: str) -> str:
    """CSS that cannot end the page's <style> element early."""
    return re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE)


def _section_id(subtopic: str) -> str:
    return "sub-" + (slug(subtopic) or "topic")


def _card_html(card: PreviewCard, media: dict[str, bytes]) -> str:
    note, e = card.note, html.escape
    source = card.fields.get("Source", "")
    search = " ".join([plain_text(card.question), plain_text(card.answer), plain_text(source),
                       note.id, " ".join(note.tags), note.subtopic, card.label, note.type]).lower()
    side_class = f"card card{card.ord + 1}"
    scope = f" nt-{_css_class(note.type)}" if card.own is not None else ""
    retired = ' <span class="pv-badge">retired</span>' if note.retired else ""
    tags = "".join(f"<li>{e(t)}</li>" for t in note.tags)
    return (
        f'<article class="pv-card" id="card-{e(note.id)}-{card.ord + 1}" data-search="{e(" ".join(search.split()))}">\n'
        f'<header class="pv-meta"><span class="pv-kind pv-{_css_class(note.type)}">{e(card.label)}</span>{retired}'
        f'<code class="pv-id">{e(note.id)}</code>'
        f'<span class="pv-loc">{e(str(note.location))}</span></header>\n'
        '<div class="pv-sides">\n'
        f'<section class="pv-side{scope}" aria-label="Question"><h3>Question</h3>'
        f'<div class="{side_class}">{_inline_media(card.question, media)}</div></section>\n'
        f'<section class="pv-side{scope}" aria-label="Answer"><h3>Answer</h3>'
        f'<div class="{side_class}">{_inline_media(card.answer, media)}</div></section>\n'
        "</div>\n"
        f'<footer class="pv-info"><p class="pv-source"><span>Source</span> {source or "<em>none</em>"}</p>'
        f'<ul class="pv-tags" aria-label="Tags">{tags}</ul></footer>\n'
        "</article>\n")


def _inline_media(body: str, media: dict[str, bytes]) -> str:
    """Packaged image names -> data: URLs, and sound tags -> audio players, so the page needs
    no other file."""
    def data_url(name: str) -> str | None:
        data = media.get(name)
        if data is None:
            return None
        suffix = Path(name).suffix.lower()
        mime = _MIME.get(suffix) or SOUND_MIME.get(suffix, "application/octet-stream")
        return f"data:{mime};base64,{base64.b64encode(data).decode()}"

    def image(match: re.Match) -> str:
        url = data_url(html.unescape(match.group(2)))
        return match.group(0) if url is None else f"{match.group(1)}{url}{match.group(3)}"

    def sound(match: re.Match) -> str:
        url = data_url(match.group(1))
        if url is None:
            return match.group(0)
        return (f'<audio class="pv-sound" controls preload="metadata" src="{url}" '
                f'title="{html.escape(match.group(1))}"></audio>')

    if "<img" in body:
        body = _IMG_SRC.sub(image, body)
    if "[sound:" in body:
        body = SOUND_TAG.sub(sound, body)
    if "[anki:tts " in body:
        body = _TTS.sub(_speech_button, body)
    return body


# What the template's tts filter writes (rslib's tts_filter), options as speech.py allows them.
_TTS = re.compile(r"\[anki:tts lang=(\S+?)((?: [a-z_]+=[^\s\]]*)*)\](.*?)\[/anki:tts\]", re.DOTALL)


# rslib/src/text.rs: HTML_LINEBREAK_TAGS become spaces, then HTML (comments, styles, scripts, tags) goes.
_LINEBREAK_TAGS = re.compile(r"</?(?:br|address|article|aside|blockquote|canvas|dd|div|dl|dt|fieldset|figcaption"
                             r"|figure|footer|form|h[1-6]|header|hr|li|main|nav|noscript|ol|output|p|pre|section"
                             r"|table|tfoot|ul|video)>", re.IGNORECASE)
_ANY_HTML = re.compile(r"(?si)<!--.*?-->|<style.*?>.*?</style>|<script.*?>.*?</script>|<.*?>")


def _text_for_tts(body: str) -> str:
    """What Anki's text-to-speech reads of a field (strip_html_for_tts)."""
    return html.unescape(_ANY_HTML.sub("", _LINEBREAK_TAGS.sub(" ", body))).replace("\u00a0", " ")


def _speech_button(match: re.Match) -> str:
    """A button that reads the tag's text aloud in its language, as Anki's play button does."""
    lang, options, text = match.groups()
    speed = dict(option.split("=", 1) for option in options.split()).get("speed", "1")
    spoken = _text_for_tts(text).replace("[...]", "blank")  # Anki's default cloze_blank
    e = html.escape
    return (f'<button type="button" class="pv-tts" data-lang="{e(lang.replace("_", "-"))}" data-speed="{e(speed)}" '
            f'data-text="{e(spoken)}" title="Anki reads this aloud ({e(lang)})" aria-label="Read aloud ({e(lang)})">'
            "&#128266;</button>")


# ---- writing ----------------------------------------------------------------------------------------

def preview_path(output: str, out_dir: Path) -> Path:
    """Where the preview of a deck whose package is `output` goes."""
    return out_dir / (Path(output).stem + ".html")


def write_preview(manifest_path: Path, out_dir: Path) -> tuple[Path | None, list[Problem]]:
    """Compile a manifest and write its preview page into `out_dir`; nothing is written (and the
    path is None) if the deck has errors or the write fails. The lock is never written."""
    with files.exclusive(manifest_path):
        compiled = compile_deck(manifest_path)
        if not compiled.ok or compiled.manifest is None:
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
