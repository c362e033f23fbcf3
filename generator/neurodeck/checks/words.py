"""Text as lint compares it: Markdown as a reader sees it, its words, and the images it shows."""
from __future__ import annotations

import functools
import html
import re
import unicodedata

from neurodeck.render.cloze import CLOZE

IMAGE = re.compile(r"!\[[^\]]*\]\(([^)]*)\)")  # group 1: the image's path
_SOUND = re.compile(r"\[sound:[^\]]*\]")  # Anki's sound tag: a play button, not words
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_HTML_TAG = re.compile(r"<[^>]*>")
_MATH = re.compile(r"\\\(.*?\\\)|\\\[.*?\\\]", re.DOTALL)
_CODE = re.compile(r"`[^`]*`")
_WORD = re.compile(r"\S*[^\W_]\S*")  # a run of non-space holding a letter or digit


@functools.lru_cache(maxsize=1024)  # several rules read the same field one after the other
def plain(text: str) -> str:
    """Markdown as a reader sees it: no images, sounds, URLs, tags, maths, code or cloze markers."""
    if "{{" in text:
        text = CLOZE.sub(lambda m: m.group(2) + (f" ({m.group(3)})" if m.group(3) else ""), text)
    for marker, pattern, repl in (("[sound:", _SOUND, " "), ("](", IMAGE, " "), ("](", _LINK, r"\1"),
                                  ("<", _HTML_TAG, " "), ("\\", _MATH, " "), ("`", _CODE, " ")):
        if marker in text:  # most fields have none of these
            text = pattern.sub(repl, text)
    if "&" in text:
        text = html.unescape(text)
    return text.replace("**", "").replace("__", "")


def word_count(text: str) -> int:
    return len(_WORD.findall(plain(text)))


# Words dropped before comparing questions: they never make two questions different.
_STOP = frozenset(("a", "an", "the"))


def tokens(text: str) -> list[str]:
    """Case-, accent-, punctuation- and plural-insensitive words."""
    text = plain(text).casefold()
    if not text.isascii():  # fold accents: "Peciña" and "Pecina" are the same word
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    words = re.findall(r"[^\W_]+", text)
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
            for w in words if w not in _STOP]


def shown(text: str) -> list[str]:
    """The images a field shows, one word each (`image:` and the path as written)."""
    return [f"image:{path.strip()}" for path in IMAGE.findall(text)] if "](" in text else []
