"""Markdown field text -> the HTML Anki stores: maths and cloze markers protected, HTML allow-listed.

CommonMark would eat the backslashes of MathJax delimiters and may split cloze markers, so both
are swapped for private-use placeholders before rendering and put back after sanitising.
"""
from __future__ import annotations

import ctypes
import html
import os
import re
import unicodedata
from typing import Callable, NamedTuple
from urllib.parse import unquote

import cmarkgfm
from cmarkgfm import _cmark
import nh3

from neurodeck.model import Location, Problem, Text
from neurodeck.render import cloze

ALLOWED_TAGS = {
    "b", "i", "u", "em", "strong", "sub", "sup", "br", "p", "ul", "ol", "li", "code", "pre",
    "blockquote", "img", "a", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "del", "s", "table", "thead",
    "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"img": {"src", "alt", "title"}, "a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}

_OPTIONS = cmarkgfm.Options.CMARK_OPT_UNSAFE  # raw HTML reaches nh3, which decides
_PLACEHOLDERS = re.compile("[\ue000-\ue00f]")
_MATH = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_MATH_TOKEN = re.compile("\ue000(\\d+)\ue001")
_CLOZE_OPEN, _CLOZE_HINT, _CLOZE_CLOSE = "\ue002", "\ue003", "\ue004"
_HAS_SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*:|//|/|\\)")

# Resolves a local image reference (as written, relative to the card file) to the name it is
# stored under in the package, or returns a Problem.
MediaResolver = Callable[[str, Location], "str | Problem"]


class Rendered(NamedTuple):
    html: str
    media: list[str]
    problems: list[Problem]


def render_field(text: Text, resolve_media: MediaResolver, cloze: bool = False) -> Rendered:
    """Render one Markdown field to sanitised HTML, collecting the media it references."""
    value = text.value
    if _PLAIN.fullmatch(value):
        return Rendered(value, [], [])  # what CommonMark and the sanitiser would make of it
    printable = _printable(value)
    source = value if printable else _PLACEHOLDERS.sub("", value)  # placeholders are not printable
    maths: list[str] = []

    def keep_math(match: re.Match) -> str:
        maths.append(match.group(0))
        return f"\ue000{len(maths) - 1}\ue001"

    if "\\" in source:
        source = _MATH.sub(keep_math, source)
    if cloze:
        source = _protect_clozes(source)
    body = markdown_to_html(source)
    media: list[str] = []
    problems: list[Problem] = []
    if not printable or _has_markup(source):
        body = _cleaner().clean(body)
        if "<img" in body:
            body = _IMG.sub(lambda m: _resolve_image(m, text, resolve_media, media, problems), body)
    else:
        # Without '<' or '[' CommonMark can emit only its own tags, without links, images or
        # raw HTML: the sanitiser would change nothing but serialisation details, done here.
        body = _serialise_like_sanitiser(body)
    body = _unwrap_single_paragraph(body.strip())
    if cloze:
        body = body.replace(_CLOZE_OPEN, "{{c").replace(_CLOZE_HINT, "::").replace(_CLOZE_CLOSE, "}}")
    if maths:
        body = _MATH_TOKEN.sub(lambda m: html.escape(maths[int(m.group(1))], quote=False), body)
    if not body.isascii() and not unicodedata.is_normalized("NFC", body):
        body = unicodedata.normalize("NFC", body)  # as Anki stores every field (rslib's normalize_field)
    return Rendered(body, media, problems)


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

_IMG = re.compile(r"<img ([^>]*)>")
_SRC = re.compile(r'src="([^"]*)"')


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


def _libc_free():
    # cmark allocates with the C library's calloc; on POSIX the process has one C library.
    if os.name != "posix":
        return None
    free = ctypes.CDLL(None).free
    free.argtypes, free.restype = [ctypes.c_void_p], None
    return free


_free = _libc_free()


def _serialise_like_sanitiser(body: str) -> str:
    return body.replace(" />", ">").replace("&quot;", '"')


_CLEANER = None


def _cleaner():
    global _CLEANER
    if _CLEANER is None:
        _CLEANER = nh3.Cleaner(tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
                               strip_comments=True)
    return _CLEANER


def _resolve_image(match: re.Match, text: Text, resolve_media: MediaResolver, media: list[str],
                   problems: list[Problem]) -> str:
    attributes = match.group(1)
    src = _SRC.search(attributes)
    if src is None:
        return ""
    value = html.unescape(src.group(1))
    if _HAS_SCHEME.match(value):
        problems.append(Problem(text.location, f"image '{value}' is not a file in the project",
                                "remote images and absolute paths are not allowed; "
                                "put the image beside the cards and use a relative path"))
        return ""
    resolved = resolve_media(unquote(value), text.location)
    if isinstance(resolved, Problem):
        problems.append(resolved)
        return ""
    media.append(resolved)
    return "<img " + attributes.replace(src.group(0), f'src="{html.escape(resolved)}"') + ">"


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


_TAG = re.compile(r"<[^>]*>")


def plain_text(body: str) -> str:
    """HTML -> text, as Anki's sort field and checksum see it."""
    if "<" not in body and "&" not in body:
        return body.strip()
    return html.unescape(_TAG.sub(" ", body)).strip()
