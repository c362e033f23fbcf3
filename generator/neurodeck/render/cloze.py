"""Cloze deletions exactly as Anki reads them (a port of rslib/src/cloze.rs), for the build and
the preview alike, plus the rules a deck must meet so that Anki makes the cards the author meant.

Anki finds deletions in a field's stored HTML, after our Markdown rendering: these functions take
that HTML, never the Markdown source.
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

# rslib's tokenizer: "{{c", digits and commas, "::" opens; "}}" closes; everything else is text.
# An opening whose numbers do not parse as u16 is text (Anki skips it character by character,
# and no marker can start inside it, so skipping it whole is the same).
_TOKEN = re.compile(r"\{\{c([\d,]*)::|\}\}")
MAX_OPEN = 10  # rslib ignores openings nested deeper than this, but not their closings
MAX_NUMBER = 500  # card ordinal = number - 1, capped at 499 (rslib/src/notetype/cardgen.rs)
_U16 = 65535
# Anki's own pattern for stripping deletions to their text (rslib's CLOZE, one number): for reading.
CLOZE = re.compile(r"\{\{c(\d+)::(.*?)(?:::((?:(?!\}\}).)*?))?\}\}", re.DOTALL)


def ordinals(digits: str) -> tuple[int, ...]:
    """The numbers of an opening as rslib parses them: u16 values, deduplicated, sorted. Only ASCII
    digits count (rslib takes `is_ascii_digit`; Python's isdigit and int() also read "\u0663" as 3)."""
    return tuple(sorted({int(part) for part in digits.split(",")
                         if part.isascii() and part.isdigit() and int(part) <= _U16}))


@dataclass
class Deletion:
    ordinals: tuple[int, ...]
    marker: str  # the opening as written, e.g. "{{c1::"
    nodes: list[str | Deletion] = field(default_factory=list)
    hint: str | None = None

    def text(self) -> str:
        """What the deletion hides (nested deletions included, hints excluded)."""
        return "".join(n if isinstance(n, str) else n.text() for n in self.nodes)


@dataclass
class Parsed:
    nodes: list[str | Deletion]  # as Anki renders them
    unclosed: list[Deletion]  # openings never closed: Anki drops them and their text
    stray_closings: int  # "}}" outside any deletion: Anki shows them as text
    unrecognised: list[str]  # "{{c...::" markers Anki takes for text
    too_deep: list[str]  # openings beyond MAX_OPEN, which Anki ignores


def parse(text: str) -> Parsed:
    """Split field HTML into text and deletions as rslib's parse_text_with_clozes does."""
    output: list = []
    stack: list[Deletion] = []
    result = Parsed(output, [], 0, [], [])
    pos = 0

    def add_text(chunk: str) -> None:
        if stack:
            top = stack[-1]
            if not chunk.startswith("image-occlusion:") and "::" in chunk:
                chunk, top.hint = chunk.split("::", 1)  # every text node may set the hint
            top.nodes.append(chunk)
        elif chunk:
            output.append(chunk)

    for match in _TOKEN.finditer(text):
        digits = match.group(1)
        if digits is not None and not ordinals(digits):
            result.unrecognised.append(match.group(0))
            continue  # stays part of the surrounding text
        if match.start() > pos:
            add_text(text[pos:match.start()])
        pos = match.end()
        if digits is not None:
            if len(stack) < MAX_OPEN:
                stack.append(Deletion(ordinals(digits), match.group(0)))
            else:
                result.too_deep.append(match.group(0))
        elif stack:
            closed = stack.pop()
            (stack[-1].nodes if stack else output).append(closed)
        else:
            result.stray_closings += 1
            output.append("}}")
    if pos < len(text):
        add_text(text[pos:])
    result.unclosed = stack
    return result


def _walk(nodes: list[str | Deletion]) -> Iterator[Deletion]:
    for node in nodes:
        if isinstance(node, Deletion):
            yield node
            yield from _walk(node.nodes)


def numbers(text: str) -> set[int]:
    """The deletion numbers Anki makes cards for (rslib's cloze_numbers_in_string: 0 excluded)."""
    if "{{c" not in text:
        return set()
    return {n for d in _walk(parse(text).nodes) for n in d.ordinals if n}


def cloze_numbers(text: str) -> list[int]:
    """The distinct deletion numbers Anki makes cards for, ascending."""
    return sorted(numbers(text))


def card_ordinals(fields: Iterable[str]) -> tuple[int, ...]:
    """The card ordinals Anki generates for a cloze note with these fields, ascending."""
    found: set[int] = set()
    for value in fields:
        found |= numbers(value)
    return tuple(sorted({min(n - 1, MAX_NUMBER - 1) for n in found}))


_TAG = re.compile(r"<[^>]*>")


def _is_empty(hidden: str) -> bool:
    if "<img" in hidden.lower():
        return False
    return not html.unescape(_TAG.sub("", hidden)).strip()


def problems(text: str, occlusion: bool = False) -> list[tuple[str, str, str]]:
    """Where Anki would read a cloze field other than its author meant: (message, hint, severity).

    `text` is the field's HTML as stored in the package; `occlusion`: it is the occlusions field
    of an image occlusion note type, whose deletions are Anki's image-occlusion shapes."""
    parsed = parse(text)
    found: list[tuple[str, str, str]] = []
    for marker in parsed.unrecognised:
        found.append((f"'{marker}' is not a deletion Anki recognises",
                      f"number deletions from 1 to {MAX_NUMBER}, as {{{{c1::text}}}}", "error"))
    for deletion in _walk(parsed.nodes):
        marker = deletion.marker
        if len(deletion.ordinals) > 1 or "," in marker:
            found.append((f"'{marker}' gives one deletion several numbers",
                          "Anki before 23.10 does not read it; write a separate deletion per card", "error"))
        elif deletion.ordinals[0] == 0:
            found.append((f"'{marker}' is numbered 0, and Anki never shows deletion 0",
                          "deletion numbers start at 1: {{c1::text}}", "error"))
        elif deletion.ordinals[0] > MAX_NUMBER:
            found.append((f"'{marker}': Anki makes at most {MAX_NUMBER} cards per note",
                          f"number deletions from 1 to {MAX_NUMBER}, or split the text into several cards", "error"))
        if deletion.nodes and isinstance(deletion.nodes[0], str) and deletion.nodes[0].startswith("image-occlusion:"):
            if occlusion:
                continue
            found.append((f"'{marker}image-occlusion:' is Anki's image occlusion, which cards do not support",
                          "", "error"))
        elif _is_empty(deletion.text()):
            found.append((f"deletion '{marker}' hides nothing", "put the text to hide between '::' and '}}'", "error"))
        elif _open_maths(deletion.text()):
            found.append((f"deletion '{marker}' ends inside maths",
                          "a '}}' in maths ends the deletion early; write '} }' instead", "error"))
    for deletion in parsed.unclosed:
        found.append((f"deletion '{deletion.marker}' is never closed, and Anki would drop it and its text",
                      "close it with '}}'", "error"))
    if parsed.stray_closings:
        found.append(("'}}' closes no deletion; Anki shows it as text",
                      "if it was meant to end a deletion, a '}}' before it (in maths, say) ended it early: "
                      "write '} }' there", "warning"))
    for marker in parsed.too_deep:
        found.append((f"deletion '{marker}' is nested deeper than Anki reads ({MAX_OPEN} levels)", "", "error"))
    return found


def _open_maths(hidden: str) -> bool:
    """Whether MathJax opened in a deletion's text is still open at its end."""
    return any(hidden.rfind(opening) > hidden.rfind(closing) for opening, closing in (("\\(", "\\)"), ("\\[", "\\]")))


def markers(text: str) -> list[str]:
    """The deletion openings Anki recognises in `text` (for fields that must have none)."""
    return [m.group(0) for m in _TOKEN.finditer(text) if m.group(1) is not None and ordinals(m.group(1))]


# ---- the {{cloze:Field}} filter, for the preview -------------------------------------------------

def reveal(text: str, cloze_ord: int, question: bool) -> str:
    """Deletion `cloze_ord` hidden (question) or highlighted (answer), the others shown; empty when
    the text has no deletion of that number (an empty card). rslib's reveal_cloze_text."""
    out: list[str] = []
    found = False
    for node in parse(text).nodes:
        if isinstance(node, str):
            out.append(node)
        else:
            found |= _reveal(node, cloze_ord, question, out)
    return "".join(out) if found else ""


def _ordinals_str(deletion: Deletion) -> str:
    return ",".join(map(str, deletion.ordinals))


def _reveal(cloze: Deletion, cloze_ord: int, question: bool, out: list[str]) -> bool:
    active = cloze_ord in cloze.ordinals
    found = active
    if cloze.nodes and isinstance(cloze.nodes[0], str) and cloze.nodes[0].startswith(_IO):
        out.append(_image_occlusion(cloze.nodes[0][len(_IO):], question, active, cloze.ordinals))
        return found
    hint = "..." if cloze.hint is None else cloze.hint
    if question and active:
        content: list[str] = []
        for node in cloze.nodes:
            if isinstance(node, str):
                content.append(node)
            else:
                found |= _reveal(node, cloze_ord, True, content)
        out.append(f'<span class="cloze" data-cloze="{encode_attribute("".join(content))}" '
                   f'data-ordinal="{_ordinals_str(cloze)}">[{hint}]</span>')
        return found
    css_class = "cloze" if active else "cloze-inactive"
    out.append(f'<span class="{css_class}" data-ordinal="{_ordinals_str(cloze)}">')
    for node in cloze.nodes:
        if isinstance(node, str):
            out.append(node)
        else:
            found |= _reveal(node, cloze_ord, question, out)
    out.append("</span>")
    return found


def reveal_only(text: str, cloze_ord: int, question: bool) -> str:
    """The `cloze-only` filter: the hints (question) or texts (answer) of deletion `cloze_ord`,
    joined by ", ". rslib's reveal_cloze_text_only."""
    out: list[str] = []
    for deletion in _walk(parse(text).nodes):
        if cloze_ord in deletion.ordinals:
            out.append((deletion.hint or "") if question else _clozed_text(deletion))
    return ", ".join(out)


def _clozed_text(deletion: Deletion) -> str:
    return "".join(n if isinstance(n, str) else _clozed_text(n) for n in deletion.nodes)


# ---- image occlusion (rslib/src/image_occlusion/imageocclusion.rs) ---------------------------------

_IO = "image-occlusion:"
_IO_PROPERTY = re.compile(r":([^=]+)=((?:[^\\:]|\\[\\:])*)")
_IO_SHAPES = ("rect", "ellipse", "polygon", "text")


def io_properties(text: str) -> tuple[str, list[tuple[str, str]]] | None:
    """`KIND:name=value:...` (after `image-occlusion:`) -> the kind and its properties, values
    unescaped (`\\:` and `\\\\`); None without a ':'. rslib's parse_image_cloze."""
    if ":" not in text:
        return None
    kind, rest = text.split(":", 1)
    rest = ":" + rest
    props = []
    pos = 0
    while (match := _IO_PROPERTY.match(rest, pos)) is not None:
        props.append((match.group(1), re.sub(r"\\([\\:])", r"\1", match.group(2))))
        pos = match.end()
    return kind, props


def _image_occlusion(text: str, question: bool, active: bool, ordinals: tuple[int, ...]) -> str:
    """A shape as the reviewer's script reads it: a div whose class says its state."""
    if (question and active) or 0 in ordinals:
        css_class = "cloze"
    elif not active:
        css_class = "cloze-inactive"
    else:
        css_class = "cloze-highlight"
    return f'<div class="{css_class}" data-ordinal="{",".join(map(str, ordinals))}" {_io_data(text)}></div>'


def _io_data(text: str) -> str:
    parsed = io_properties(text)
    if parsed is None:
        return ""
    kind, props = parsed
    out = [f'data-shape="{kind}" '] if kind in _IO_SHAPES else []
    for name, value in props:
        if name in ("left", "top", "angle", "fill") and value:
            out.append(f'data-{name}="{value}" ')
        elif name in ("width", "height", "rx", "ry", "scale") and value not in ("", "0"):
            out.append(f'data-{name}="{value}" ')
        elif name == "points" and value:
            points = " ".join(f"{x},{y}" for x, _, y in (p.partition(",") for p in value.split(" ") if "," in p))
            if points:
                out.append(f'data-points="{points}" ')
        elif name == "oi" and value:
            out.append(f'data-occludeInactive="{value}" ')
        elif name == "text" and value:
            out.append(f'data-text="{encode_attribute(value)}" ')
        elif name == "fs" and value:
            out.append(f'data-font-size="{value}" ')
    return "".join(out)


_NAMED = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def encode_attribute(text: str) -> str:
    """The escaping of the htmlescape crate Anki uses: ASCII letters and digits as they are,
    four named entities, every other character below U+0100 as &#xHH;."""
    return "".join(
        c if (c.isascii() and c.isalnum()) or ord(c) >= 256 else _NAMED.get(c) or f"&#x{ord(c):02X};"
        for c in text)
