"""The one HTML allow-list of every field, and the sanitizer that reports what it keeps and removes.

Markdown fields are rendered, then cleaned with the allow-list (`markdown_cleaner`). HTML fields
(a card file's `format: html`, what `neurodeck adopt` writes) are stored byte for byte, because
any change, even a re-serialisation, changes the note for every student who has it: `sanitize`
keeps a field as written when it holds nothing to remove, and otherwise cleans it with the same
policy, reporting each thing it found. Two kinds of finding:

- markup: formatting outside the allow-list (span, div, font, style and class attributes,
  comments...), kept only when the manifest sets `keep_markup: true`;
- removed: what is never kept: scripts and other active elements, event handlers, `javascript:`
  and other script URLs, remote addresses (links, images, CSS `url()`), unknown attributes.

A field is kept as written only when three independent readings agree that it holds nothing to
remove: Python's HTML parser (which finds the report), ammonia (html5ever, a browser-grade parser,
through nh3) whose cleaned output must have exactly the same elements and attributes, and a scan
of the raw text for anything that could run a script.
"""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import NamedTuple

import nh3

ALLOWED_TAGS = frozenset({
    "b", "i", "u", "em", "strong", "sub", "sup", "br", "p", "ul", "ol", "li", "code", "pre",
    "blockquote", "img", "a", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "del", "s", "table", "thead",
    "tbody", "tr", "th", "td",
})
ALLOWED_ATTRIBUTES = {"img": {"src", "alt", "title"}, "a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}  # Markdown links: remote ones are then refused with a location

# Formatting that Anki's editor and pasted text leave in fields: harmless, but outside the allow-list.
MARKUP_TAGS = frozenset({
    "span", "div", "font", "center", "small", "big", "mark", "strike", "tt", "kbd", "samp", "var", "abbr",
    "cite", "q", "dfn", "ins", "dl", "dt", "dd", "caption", "tfoot", "col", "colgroup", "ruby", "rt", "rp",
    "wbr", "figure", "figcaption", "section", "article", "header", "footer", "aside", "address", "details",
    "summary", "nobr",
})
MARKUP_ATTRIBUTES = frozenset({
    "style", "class", "id", "title", "dir", "lang", "align", "valign", "width", "height", "color", "face",
    "size", "bgcolor", "border", "colspan", "rowspan", "cellpadding", "cellspacing", "start", "type", "alt",
    "span", "nowrap", "clear", "open", "reversed", "value",
})
# Elements removed with their content: they run code, load documents or hide text Anki would show.
_ACTIVE = frozenset({
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math", "template",
    "noscript", "noembed", "noframes", "xmp", "plaintext", "title", "textarea", "select", "form", "input",
    "button", "link", "meta", "base", "audio", "video", "source", "track", "canvas", "portal", "param",
})

MARKUP, REMOVED = "markup", "removed"
# Elements an HTML parser adds by itself (a table row's <tbody>): their appearing changes nothing.
_IMPLIED = {("tbody", ())}


class Finding(NamedTuple):
    """One thing in a field outside the allow-list: MARKUP (kept with keep_markup) or REMOVED."""

    kind: str
    what: str  # e.g. "<span style>", "<script>", "event handler onclick on <img>"


class Sanitized(NamedTuple):
    html: str  # the field as packaged: the input itself unless something had to go
    findings: tuple[Finding, ...]
    kept: bool  # the input is packaged byte for byte


_URL_SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):")
_REMOTE = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:[/\\]{2}|^\s*[/\\]{2}")
# What in CSS loads or runs something: url() and the functions that take a bare string as an
# address (image-set("//host/x.png") loads it), imports, and the old script hooks. Matched after
# comments are removed and escapes decoded (`\75 rl(` is url( to a browser).
_CSS_BAD = re.compile(r"(?<![\w-])(?:-[a-z]+-)?(?:url|src|image|image-set|cross-fade|element|expression|paint)\s*\("
                      r"|@import|behavior\s*:|-moz-binding|javascript:", re.IGNORECASE)
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.DOTALL)
_CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\n\f]?|\r\n|(.))", re.DOTALL)


def _css_char(match: re.Match) -> str:
    if match.group(1):
        code = int(match.group(1), 16)
        return chr(code) if 0 < code < 0x110000 and not 0xD800 <= code < 0xE000 else "\ufffd"
    return match.group(2) or ""  # an escaped newline continues the line


_LOCAL_URL = re.compile(r"""url\(\s*(["']?)[^"'()\s:/\\]+\1\s*\)""", re.IGNORECASE)


def css_problem(css: str, local_urls: bool = False) -> str | None:
    """What in CSS (a style attribute, a note type's stylesheet) would load or run something,
    read as a browser reads it: comments removed, escapes decoded; None when nothing would.
    `local_urls`: url(name) of a file in the package's media (a note type's fonts) is allowed."""
    plain = _CSS_ESCAPE.sub(_css_char, _CSS_COMMENT.sub(" ", css))
    if local_urls:
        plain = _LOCAL_URL.sub("", plain)
    found = _CSS_BAD.search(plain) or _REMOTE.search(plain)
    return None if found is None else found.group().strip()
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")
# The raw text's last line of defence: anything a browser could run, in any spelling a parser might
# read (in a tag: "javascript:" in a field's text is only text).
_RISKY = re.compile(
    r"<\s*/?\s*(?:script|iframe|frame|object|embed|applet|svg|math|style|base|meta|link|form|template|"
    r"noscript|xmp|plaintext)\b|<[^>]*?[\s/\"']on[a-z]+\s*=|<[^>]*?(?:java|vb)script\s*:",
    re.IGNORECASE)


def attribute_verdict(tag: str, name: str, value: str, keep_markup: bool) -> Finding | None:
    """Why attribute `name`="value" of <tag> goes (or, for MARKUP, goes unless kept); None: allowed."""
    if name.startswith("on"):
        return Finding(REMOVED, f"event handler {name} on <{tag}>")
    plain = _INVISIBLE.sub("", html.unescape(value)).lower()
    if plain.startswith(("javascript:", "vbscript:", "data:text", "data:application")):
        return Finding(REMOVED, f"script address in {name} of <{tag}>")
    if name in ("href", "src"):
        if (tag, name) not in (("a", "href"), ("img", "src")):
            return Finding(REMOVED, f"{name} of <{tag}>")
        if _REMOTE.search(value) or (_URL_SCHEME.match(value) and not plain.startswith("mailto:")) or \
                value.lstrip().startswith(("/", "\\")):
            if _REMOTE.search(value):
                return Finding(REMOVED, f"remote address in {name} of <{tag}>: {value[:80]}")
            return Finding(REMOVED, f"address {value[:80]!r} in {name} of <{tag}>")
        return None
    if _REMOTE.search(value):
        return Finding(REMOVED, f"remote address in {name} of <{tag}>: {value[:80]}")
    if name == "style" and css_problem(value) is not None:
        return Finding(REMOVED, f"style of <{tag}> loading or running something ({value[:60]})")
    if name in ALLOWED_ATTRIBUTES.get(tag, ()):
        return None
    if name in MARKUP_ATTRIBUTES:
        return Finding(MARKUP, f"<{tag} {name}>")
    return Finding(REMOVED, f"attribute {name} of <{tag}>")


def tag_verdict(tag: str) -> Finding | None:
    """Why element <tag> goes (or, for MARKUP, goes unless kept); None: allowed."""
    if tag in ALLOWED_TAGS:
        return None
    if tag in MARKUP_TAGS:
        return Finding(MARKUP, f"<{tag}>")
    if tag in _ACTIVE:
        return Finding(REMOVED, f"<{tag}> element")
    return Finding(REMOVED, f"unknown element <{tag}>")


class _Scan(HTMLParser):
    """Every start tag with its attributes, and comments, as Python's HTML parser reads them."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, tuple[tuple[str, str], ...]]] = []
        self.comments = 0
        self.feed(text)
        self.pending = self.rawdata  # what the parser could not finish: an open tag, comment or "<"
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, tuple((name, value or "") for name, value in attrs)))

    handle_startendtag = handle_starttag

    def handle_comment(self, data: str) -> None:
        self.comments += 1

    def unknown_decl(self, data: str) -> None:  # <![CDATA[...]]> and the like
        self.comments += 1


def unfinished(scan: _Scan) -> bool:
    """Whether text ends inside a tag, comment or declaration (or on a bare "<"), where whatever
    follows it would be read as part of that markup."""
    return "<" in scan.pending


def findings_of(text: str, keep_markup: bool = False) -> list[Finding]:
    """What `text` holds outside the allow-list, in order, each thing once."""
    scan = _Scan(text)
    found: dict[Finding, None] = {}
    for tag, attrs in scan.tags:
        verdict = tag_verdict(tag)
        if verdict is not None:
            found[verdict] = None
        for name, value in attrs:
            verdict = attribute_verdict(tag, name, value, keep_markup)
            if verdict is not None:
                found[verdict] = None
    if scan.comments:
        found[Finding(MARKUP, "comment <!-- -->")] = None
    return list(found)


_CLEANERS: dict[bool, nh3.Cleaner] = {}


def _field_cleaner(keep_markup: bool) -> nh3.Cleaner:
    cleaner = _CLEANERS.get(keep_markup)
    if cleaner is None:
        tags = set(ALLOWED_TAGS | (MARKUP_TAGS if keep_markup else set()))
        names = {n for names in ALLOWED_ATTRIBUTES.values() for n in names}
        attributes = {"*": set(MARKUP_ATTRIBUTES | names)} if keep_markup else \
            {tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()}

        def attribute_filter(tag: str, name: str, value: str) -> str | None:
            verdict = attribute_verdict(tag, name, value, keep_markup)
            return value if verdict is None or (verdict.kind == MARKUP and keep_markup) else None

        cleaner = _CLEANERS[keep_markup] = nh3.Cleaner(
            tags=tags, attributes=attributes, attribute_filter=attribute_filter, url_schemes={"mailto"},
            clean_content_tags=set(_ACTIVE - tags), strip_comments=not keep_markup, link_rel=None)
    return cleaner


# Markup as Anki's editor writes it: text without '<', and complete tags whose attributes all have
# double-quoted values without '<', '>' or '"'. An HTML tokenizer reads such a field as exactly
# these tags, so their verdicts decide it without parsing (and most fields of a deck look so).
_PLAIN_TAG = r'<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:[ \t\n\f\r]+[a-zA-Z_][a-zA-Z0-9_.:-]*="[^"<>]*")*)[ \t\n\f\r]*/?>'
# Text runs and tags alternate, each run taken whole: `(?:[^<]+|tag)*` split a run of n
# characters in 2**n ways before failing on a '<' that starts no tag (a field "x < y" hung).
_PLAIN_FIELD = re.compile(rf"[^<]*(?:{_PLAIN_TAG}[^<]*)*")
_PLAIN_TAGS = re.compile(_PLAIN_TAG)
_PLAIN_ATTRIBUTE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_.:-]*)="([^"]*)"')


def _plain_findings(text: str, keep_markup: bool) -> list[Finding] | None:
    """The findings of a field written as Anki's editor writes it, or None for any other field."""
    if not _PLAIN_FIELD.fullmatch(text):
        return None
    found: dict[Finding, None] = {}
    for match in _PLAIN_TAGS.finditer(text):
        if match.group(1):
            continue  # an end tag
        tag = match.group(2).lower()
        verdict = tag_verdict(tag)
        if verdict is not None:
            found[verdict] = None
        names = set()
        for name, value in _PLAIN_ATTRIBUTE.findall(match.group(3)):
            name = name.lower()
            if name in names:
                return None  # a repeated attribute: parsers keep the first, let ammonia say
            names.add(name)
            verdict = attribute_verdict(tag, name, html.unescape(value), keep_markup)
            if verdict is not None:
                found[verdict] = None
    return list(found)


def sanitize(text: str, keep_markup: bool = False) -> Sanitized:
    """An HTML field as it may be packaged, with what was found outside the allow-list.

    Returned unchanged (byte for byte) when nothing has to go: no finding, or only markup
    findings and `keep_markup`. Otherwise cleaned by ammonia with the same policy."""
    if "<" not in text:  # no element, so no attribute: plain text and entities only
        return Sanitized(text, (), True)
    plain = _plain_findings(text, keep_markup)
    if plain is not None and all(f.kind == MARKUP and keep_markup for f in plain):
        return Sanitized(text, tuple(plain), True)
    findings = findings_of(text, keep_markup)
    must_go = any(f.kind == REMOVED or not keep_markup for f in findings)
    cleaned = _field_cleaner(keep_markup).clean(text)
    if not must_go:
        # Consensus: ammonia must keep every kind of element and attribute Python's parser found
        # (and add none but what parsers imply, as for `<p><p></p></p>`, which becomes three
        # paragraphs: a field is not cleaned for being loosely nested), and the raw text must hold
        # nothing a browser could run.
        scan = _Scan(text)
        found, kept = set(scan.tags), set(_Scan(cleaned).tags)
        if found != kept - _IMPLIED or _RISKY.search(text):
            findings.append(Finding(REMOVED, "markup that browsers may read differently"))
            must_go = True
        elif unfinished(scan):
            # A field that ends inside a tag or comment swallows what the template puts after it:
            # `<img src=x title="` then a field `" onerror="...">` is an event handler in Anki.
            findings.append(Finding(REMOVED, f"an unfinished tag or comment at the end ({scan.pending[:40]!r})"))
            must_go = True
    if not must_go:
        return Sanitized(text, tuple(findings), True)
    return Sanitized(cleaned, tuple(findings), False)


_MARKDOWN_CLEANER: nh3.Cleaner | None = None


def markdown_cleaner() -> nh3.Cleaner:
    """The allow-list cleaner of rendered Markdown (remote links are refused later, with a location)."""
    global _MARKDOWN_CLEANER
    if _MARKDOWN_CLEANER is None:
        _MARKDOWN_CLEANER = nh3.Cleaner(tags=set(ALLOWED_TAGS), attributes=ALLOWED_ATTRIBUTES,
                                        url_schemes=URL_SCHEMES, strip_comments=True)
    return _MARKDOWN_CLEANER
