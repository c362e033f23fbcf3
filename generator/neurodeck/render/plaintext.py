"""HTML -> plain text: what the build's sort field and checksum, the diff's word comparison and
the preview's search read of a field."""
from __future__ import annotations

import html
import re

_TAG = re.compile(r"<[^>]*>")


def plain_text(body: str) -> str:
    """HTML -> text, as Anki's sort field and checksum see it: tags as spaces, entities decoded."""
    if "<" not in body and "&" not in body:
        return body.strip()
    return html.unescape(_TAG.sub(" ", body)).strip()


# A character that shows: not a space, not the start of a tag or an entity, and outside every tag
# (at the start, or after a tag's end). Only for bodies without comments, whose '>' may be text.
_SHOWN_TEXT = re.compile(r"(?:\A|>)\s*[^\s<&]")
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)  # an unclosed comment hides the rest


def shows_nothing(body: str) -> bool:
    """Whether a field's HTML shows nothing: no image, and no text once comments, tags and
    spaces (no-break ones included) are gone. Anki makes no card for such a front."""
    if "<" not in body and "&" not in body:  # plain text: no markup, comment or entity to remove
        return not body.strip()
    if "<!--" not in body and _SHOWN_TEXT.search(body):  # the usual front: text before or between tags
        return False
    if "<img" in body.lower():
        return False
    return not html.unescape(_TAG.sub("", _COMMENT.sub("", body))).strip()
