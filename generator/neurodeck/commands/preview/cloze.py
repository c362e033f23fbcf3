"""Cloze deletions revealed exactly as Anki's rslib/src/cloze.rs does, for the `{{cloze:...}}` filter."""
from __future__ import annotations

import re
from dataclasses import dataclass

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
