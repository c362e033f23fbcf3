"""An HTML field (a card file's `format: html`) -> the field as packaged: byte for byte unless the
sanitizer must remove something, with the media files it names.

Adopted fields refer to media by the names they had in Anki (`<img src="x.png">`, `[sound:x.mp3]`):
these resolve in the project's media folder and are packaged under the same names, so that the
field is unchanged for the students who have it.
"""
from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from neurodeck.model import Problem, Text
from neurodeck.render.markdown import Rendered
from neurodeck.render.sanitize import MARKUP, REMOVED, sanitize

if TYPE_CHECKING:
    from neurodeck.render.markdown import MediaResolver

# Anki's own patterns (rslib/src/text.rs): HTML_MEDIA_TAGS for <img>, AV_TAGS for [sound:].
_IMG_SRC = re.compile(
    r"""<\bimg\b(?:[^>]|"[^"]+?"|'[^']+?')+?\bsrc\b=(?:"([^"]+?)"|'([^']+?)'|([^ >]+?)(?: [^>]*>|>))""",
    re.IGNORECASE | re.DOTALL)
_SOUND = re.compile(r"\[sound:(.+?)\]", re.DOTALL)


def media_names(field: str) -> list[tuple[str, str]]:
    """The media files a stored field refers to, as Anki finds them: (file name, "image" or "sound")."""
    found: list[tuple[str, str]] = []
    if "<" in field:
        found += [(html.unescape(next(g for g in m.groups() if g is not None)), "image")
                  for m in _IMG_SRC.finditer(field)]
    if "[sound:" in field:
        found += [(html.unescape(m.group(1)), "sound") for m in _SOUND.finditer(field)]
    return found


def render_html_field(text: Text, resolve: MediaResolver, keep_markup: bool) -> Rendered:
    """One HTML field as it will be packaged, the media it uses, and what the sanitizer found."""
    clean = sanitize(text.value, keep_markup)
    problems: list[Problem] = []
    removed = [f.what for f in clean.findings if f.kind == REMOVED]
    if removed:
        problems.append(Problem(text.location, f"never packaged: {'; '.join(removed)}",
                                "cards carry no scripts, event handlers or remote addresses; remove them"))
    markup = [f.what for f in clean.findings if f.kind == MARKUP]
    if markup and not keep_markup:
        problems.append(Problem(text.location, f"markup outside the allow-list removed from the package: "
                                f"{', '.join(markup)}",
                                "set keep_markup: true in the manifest to package such fields as written",
                                severity="warning"))
    media: list[str] = []
    for name, kind in media_names(clean.html):
        resolved = resolve(name, text.location, kind)
        if isinstance(resolved, Problem):
            problems.append(resolved)
        else:
            media.append(resolved)
    return Rendered(clean.html, media, problems)
