"""Markdown field text -> the HTML Anki stores: maths, sound tags and cloze markers protected,
HTML allow-listed (render/sanitize.py holds the allow-list).

CommonMark would eat the backslashes of MathJax delimiters, may split cloze markers and would
escape or emphasise parts of a sound file's name, so all three are swapped for private-use
placeholders before rendering and put back after sanitising.
"""
from __future__ import annotations

import ctypes
import html
import os
import re
import unicodedata
from collections.abc import Callable
from html.parser import HTMLParser
from typing import NamedTuple, Protocol
from urllib.parse import unquote

import cmarkgfm
from cmarkgfm import _cmark

from neurodeck.model import Location, Problem, Text
from neurodeck.render import cloze
from neurodeck.render.sanitize import markdown_cleaner

_OPTIONS = cmarkgfm.Options.CMARK_OPT_UNSAFE  # raw HTML reaches nh3, which decides
_PLACEHOLDERS = re.compile("[\ue000-\ue00f]")
_MATH = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_MATH_TOKEN = re.compile("\ue000(\\d+)\ue001")
_CLOZE_OPEN, _CLOZE_HINT, _CLOZE_CLOSE = "\ue002", "\ue003", "\ue004"
_REMOTE = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:[/\\]{2}|^\s*[/\\]{2}")  # in a value, not in markup
_HAS_SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*:|//|/|\\)")

_SOUND_TOKEN = re.compile("\ue005(\\d+)\ue006")
# Anki's sound tag (rslib/src/card_rendering/parser.rs, sound_node): "[sound:", no "]", "]".
SOUND_TAG = re.compile(r"\[sound:([^\]]*)\]")


class MediaResolver(Protocol):
    """Resolves a local image or sound reference (as written, relative to the card file) to the
    name it is stored under in the package, or returns a Problem."""

    def __call__(self, reference: str, location: Location, kind: str = "image") -> str | Problem: ...


class Rendered(NamedTuple):
    html: str
    media: list[str]
    problems: list[Problem]
    # Known to hold no control character (which Anki deletes from fields) without looking: the
    # text had none, and no character reference that could make one (CommonMark decodes &#1;).
    controls_ruled_out: bool = False


def render_field(text: Text, resolve_media: MediaResolver, cloze: bool = False) -> Rendered:
    """Render one Markdown field to sanitised HTML, collecting the media it references."""
    value = text.value
    if _PLAIN.fullmatch(value):
        return Rendered(value, [], [], True)  # what CommonMark and the sanitiser would make of it
    printable = _printable(value)
    source = value if printable else _PLACEHOLDERS.sub("", value)  # placeholders are not printable
    maths: list[str] = []

    def keep_math(match: re.Match) -> str:
        maths.append(match.group(0))
        return f"\ue000{len(maths) - 1}\ue001"

    sounds: list[str] = []
    if "[sound:" in source:
        def keep_sound(match: re.Match) -> str:
            sounds.append(match.group(1))
            return f"\ue005{len(sounds) - 1}\ue006"

        source = SOUND_TAG.sub(keep_sound, source)
    if "\\" in source:
        source = _MATH.sub(keep_math, source)
    if cloze:
        source = _protect_clozes(source)
    body = markdown_to_html(source)
    media: list[str] = []
    problems: list[Problem] = []
    if not printable or _has_markup(source):
        body = _cleaner().clean(body)
        if '="' in body or "<img" in body:  # an attribute or an image survived the sanitiser
            body = _rewrite_attributes(body, text, resolve_media, media, problems)
    else:
        # Without '<' or '[' CommonMark can emit only its own tags, without links, images or
        # raw HTML: the sanitiser would change nothing but serialisation details, done here.
        body = _serialise_like_sanitiser(body)
    body = _unwrap_single_paragraph(body.strip())
    if cloze:
        body = body.replace(_CLOZE_OPEN, "{{c").replace(_CLOZE_HINT, "::").replace(_CLOZE_CLOSE, "}}")
    if maths:
        body = _MATH_TOKEN.sub(lambda m: html.escape(maths[int(m.group(1))], quote=False), body)
    if sounds:  # resolved only now: a sound inside markup the sanitiser removed is not packaged
        body = _SOUND_TOKEN.sub(lambda m: _sound_tag(sounds[int(m.group(1))], text, resolve_media, media, problems),
                                body)
    if not body.isascii() and not unicodedata.is_normalized("NFC", body):
        body = unicodedata.normalize("NFC", body)  # as Anki stores every field (rslib's normalize_field)
    return Rendered(body, media, problems, printable and "&#" not in value)


# One line of words and plain punctuation, starting with a letter: a single paragraph that
# CommonMark reproduces unchanged (a test checks this against the full path).
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9,.;:?'()/%+=-]*(?: [A-Za-z0-9,.;:?'()/%+=-]+)*")


def _printable(text: str) -> bool:
    # Control characters, no-break spaces and \r escape differently in cmark and the sanitiser's
    # serialiser. str.isprintable rejects them (and more, which only costs the sanitiser's time)
    # in a fraction of a regular expression's time.
    return text.isprintable() or text.replace("\n", "").replace("\t", "").isprintable()


def _has_markup(text: str) -> bool:
    """Whether CommonMark could emit raw HTML, a link, an image or an attribute from `text`."""
    return "<" in text or "[" in text or "&" in text or "```" in text or "~~~" in text


def _needs_sanitiser(text: str) -> bool:
    return not _printable(text) or _has_markup(text)



def markdown_to_html(text: str) -> str:
    """CommonMark -> HTML with cmark, freeing what cmark allocated.

    cmarkgfm's own markdown_to_html never frees the HTML cmark returns: a large deck leaked tens
    of megabytes per worker, and the growing heap slowed every later allocation (8% on 100,000
    cards). Where the C library's free() is reachable we call cmark ourselves and free it."""
    if _free is None:
        return cmarkgfm.markdown_to_html(text, options=_OPTIONS)
    data = text.encode("utf-8")
    raw = _cmark.lib.cmark_markdown_to_html(data, len(data), _OPTIONS)
    try:
        return _cmark.ffi.string(raw).decode("utf-8")
    finally:
        _free(int(_cmark.ffi.cast("uintptr_t", raw)))


def _libc_free() -> Callable[[int], None] | None:
    # cmark allocates with the C library's calloc; on POSIX the process has one C library.
    if os.name != "posix":
        return None
    free = ctypes.CDLL(None).free
    free.argtypes, free.restype = [ctypes.c_void_p], None
    return free


_free = _libc_free()


def _serialise_like_sanitiser(body: str) -> str:
    return body.replace(" />", ">").replace("&quot;", '"')


_cleaner = markdown_cleaner  # the one allow-list (render/sanitize.py)


class _StartTags(HTMLParser):
    """The start tags of sanitised HTML that carry attributes, and images: where each is, its
    parsed attributes."""

    def __init__(self, body: str):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, int, str, list[tuple[str, str | None]]]] = []
        self._line_starts = [0]
        for line in body.splitlines(keepends=True)[:-1]:
            self._line_starts.append(self._line_starts[-1] + len(line))
        self.feed(body)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if attrs or tag == "img":
            line, column = self.getpos()
            start = self._line_starts[line - 1] + column
            self.found.append((start, start + len(self.get_starttag_text() or ""), tag, attrs))

    handle_startendtag = handle_starttag


def _rewrite_attributes(body: str, text: Text, resolve_media: MediaResolver, media: list[str],
                        problems: list[Problem]) -> str:
    """Every attribute the sanitiser kept, checked on its parsed value: an image's `src` becomes
    the name its file is stored under (or the image goes, with a problem), a remote link is a
    problem. Tags are written again with `src` first and `<`, `>` escaped, because Anki finds
    media references with a regular expression (rslib/src/text.rs, HTML_MEDIA_TAGS) that takes
    the first `src=` it meets, in any attribute."""
    out: list[str] = []
    pos = 0
    for start, end, tag, attrs in _StartTags(body).found:
        values = {name: value or "" for name, value in attrs}
        if tag == "img":
            resolved = _resolve_image(values.get("src"), text, resolve_media, problems)
            if resolved is not None:
                media.append(resolved)
            attrs = [] if resolved is None else [("src", resolved)] + [(n, v) for n, v in attrs if n != "src"]
        elif tag == "a" and _HAS_SCHEME.match(values.get("href", "")) and \
                not values["href"].strip().lower().startswith("mailto:"):
            problems.append(Problem(text.location, f"link to '{values['href']}': cards carry no remote addresses",
                                    "cite the source as text (in 'source'); mailto: links are allowed"))
        for name, value in attrs:
            if name not in ("src", "href") and value and _REMOTE.search(value):
                problems.append(Problem(text.location, f"remote address in the {name} of <{tag}>: '{value}'",
                                        "cards carry no remote addresses; cite sources as text in 'source'"))
        out.append(body[pos:start])
        if attrs or tag != "img":
            out.append(f"<{tag}" + "".join(f' {n}="{_escape_attribute(v or "")}"' for n, v in attrs) + ">")
        pos = end
    out.append(body[pos:])
    return "".join(out)


def _escape_attribute(value: str) -> str:
    # As the sanitiser's serialiser escapes, plus '<' and '>' so that no tag appears inside a value.
    return (value.replace("&", "&amp;").replace("\u00a0", "&nbsp;").replace('"', "&quot;")
            .replace("<", "&lt;").replace(">", "&gt;"))


def _resolve_image(value: str | None, text: Text, resolve_media: MediaResolver,
                   problems: list[Problem]) -> str | None:
    """The stored name of the image `value` refers to, or None (with a problem if it is not a file)."""
    if not value:
        return None
    if _HAS_SCHEME.match(value):
        problems.append(Problem(text.location, f"image '{value}' is not a file in the project",
                                "remote images and absolute paths are not allowed; "
                                "put the image beside the cards and use a relative path"))
        return None
    resolved = resolve_media(unquote(value), text.location)
    if isinstance(resolved, Problem):
        problems.append(resolved)
        return None
    return resolved


def _sound_tag(reference: str, text: Text, resolve_media: MediaResolver, media: list[str],
               problems: list[Problem]) -> str:
    """`[sound:<stored name>]` for the sound file `reference` names, or nothing, with a problem."""
    if not reference.strip() or _HAS_SCHEME.match(reference):
        problems.append(Problem(text.location, f"sound '[sound:{reference[:80]}]' is not a file in the project",
                                "remote sounds and absolute paths are not allowed; put the file beside the "
                                "cards and write [sound:media/name.mp3], relative to the card file"))
        return ""
    resolved = resolve_media(reference, text.location, "sound")
    if isinstance(resolved, Problem):
        problems.append(resolved)
        return ""
    media.append(resolved)
    return f"[sound:{resolved}]"


# What Anki reads as deletion markers (render/cloze.py), and "::" inside a deletion (its hint).
_CLOZE_SCAN = re.compile(r"\{\{c([\d,]*)::|\}\}|::")


def _protect_clozes(source: str) -> str:
    """Swap the markers of deletions for placeholders, so that CommonMark leaves them alone."""
    if "{{c" not in source:
        return source
    out: list[str] = []
    depth = pos = 0
    for match in _CLOZE_SCAN.finditer(source):
        token, digits = match.group(0), match.group(1)
        if digits is not None:
            if not cloze.ordinals(digits):
                continue
            depth += 1
            replacement = f"{_CLOZE_OPEN}{digits}{_CLOZE_HINT}"
        elif not depth:
            continue
        elif token == "}}":
            depth -= 1
            replacement = _CLOZE_CLOSE
        else:
            replacement = _CLOZE_HINT
        out += (source[pos:match.start()], replacement)
        pos = match.end()
    out.append(source[pos:])
    return "".join(out)


def _unwrap_single_paragraph(body: str) -> str:
    # A one-paragraph field reads better on a card without the paragraph's margins.
    if body.startswith("<p>") and body.endswith("</p>") and body.find("<p>", 3) < 0:
        return body[3:-4]
    return body
