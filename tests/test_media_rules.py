"""Rule 4: images and links are checked on attributes as an HTML parser reads them, and what
Anki itself interprets in a field (sound, LaTeX) is refused where it is written."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import PNG, write
from neurodeck.cli import main
from neurodeck.model import Location, Problem, Text
from neurodeck.pipeline.build import build, compile_deck
from neurodeck.render.markdown import render_field

MANIFEST = Path("decks/test-deck.yaml")
LOCAL = "media/insula.png"
STORED = "insula-stored.png"


def card_file(project: Path, question: str) -> None:
    escaped = question.replace("\\", "\\\\").replace('"', '\\"')
    write(project / "cards" / "c.yaml", f'subtopic: C\ncards:\n  - id: c\n    question: "{escaped}"\n    answer: A\n')


def test_a_crafted_attribute_order_cannot_smuggle_a_remote_image(project, tmp_path):
    """Before: the first `src="` of the serialised tag was taken, here the end of `title` and the
    name of the next attribute; the image file ' alt=' resolved, and the real, remote `src` stayed."""
    (project / "cards" / " alt=").write_bytes(PNG)
    card_file(project, '<img title="x src=" alt="y" src="https://t.example/p.gif">')
    result = build(MANIFEST, tmp_path / "out")
    assert result.output is None
    [problem] = [p for p in result.problems if "t.example" in p.message]
    assert problem.location.line == 4 and "not a file in the project" in problem.message


@pytest.mark.parametrize("field, kind", [
    ("Listen: &#91;sound:beep.mp3]", "sound"),  # [sound:beep.mp3] itself is a sound reference (test_sound.py)
    ("[latex]x^2[/latex]", "LaTeX"),
    ("[LATEX]x^2[/LaTeX]", "LaTeX"),
    ("inline [$]x[/$] maths", "LaTeX"),
    ("[$$]\\\\sum x[/$$]", "LaTeX"),
    ('<img src="media/insula.png" alt="&#91;sound:x.mp3]">', "sound"),
    ("Press [anki:play:q:0]", "play button"),
    ("[anki:tts lang=en_US]read aloud[/anki:tts]", "text-to-speech"),  # before: built, and Anki spoke it
    ("a [anki:tts]x\n y[/anki:tts] b", "text-to-speech"),
])
def test_what_anki_interprets_in_fields_is_refused(project, field, kind):
    card_file(project, field)
    problems = compile_deck(MANIFEST).problems
    assert [p.location.line for p in problems if f"Anki's own {kind} syntax" in p.message] == [4], \
        [p.format() for p in problems]


@pytest.mark.parametrize("link", ["[doi](https://doi.org/10.1000/1)", '<a href="HTTP://x.example">x</a>',
                                  '<a title="t" href="//x.example/">x</a>'])
def test_remote_links_are_refused(project, link):
    card_file(project, f"See {link}.")
    problems = compile_deck(MANIFEST).problems
    assert [p.location.line for p in problems if "remote addresses" in p.message] == [4]


def test_mailto_links_stay(project):
    card_file(project, "Ask [me](mailto:a@b.example).")
    assert CliRunner().invoke(main, ["validate"]).exit_code == 0


# ---- hostile attributes, generated ---------------------------------------------------------------

REMOTE = ["https://t.example/p.gif", "HTTPS://t.example/p.gif", "//t.example/p.gif", " https://t.example/",
          "&#104;ttps://t.example/p.gif", "&#x68;ttp://t.example/", "https&colon;//t.example/", "/etc/passwd",
          "ftp://t.example/", "data:image/png;base64,AAAA", "\\\\t.example\\p.gif", "http:t.example"]
VALUES = REMOTE + [LOCAL, "media/./insula.png", "x src=", ' src="https://t.example/"', "<img src=https://t.example/>",
                   "'", '"', "&quot;", "&amp;", ">", "[sound:x.mp3]", ""]
NAMES = ["src", "SRC", "alt", "title", "srcset", "data", "onerror", "style", "href", "poster"]


def attribute(name: str, value: str, quote: str) -> str:
    if quote == "":
        return f"{name}={value.replace(' ', '&#32;').replace('>', '&gt;') or 'x'}"
    escaped = value.replace(quote, {'"': "&quot;", "'": "&#39;"}[quote])
    return f"{name}={quote}{escaped}{quote}"


tags = st.tuples(st.sampled_from(["img", "IMG", "a", "img/", "video", "source"]),
                 st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(VALUES), st.sampled_from(['"', "'", ""])),
                          max_size=5)).map(lambda t: f"<{t[0]} " + " ".join(attribute(*a) for a in t[1]) + ">")
fields = st.lists(tags | st.sampled_from(["text ", f"![x]({LOCAL}) ", "![y](https://t.example/p.gif) "]),
                  min_size=1, max_size=4).map("".join)


# rslib/src/text.rs HTML_MEDIA_TAGS, verbatim: how Anki finds the files a field uses.
ANKI_MEDIA_TAGS = re.compile(r"""(?xsi)
            <\b(?:img|audio|video|object|source)\b
            (?:
                [^>]
            |
                "[^"]+?"
            |
                '[^']+?'
            )+?
            \b(?:src|data)\b=
            (?:
                    "
                    ([^"]+?)
                    "
                    [^>]*>
                |
                    '
                    ([^']+?)
                    '
                    [^>]*>
                |
                    ([^ >]+?)
                    (?:
                        \x20[^>]*>
                        |
                        >
                    )
            )
            """)


class Attributes(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def resolve(reference: str, location: Location, kind: str = "image") -> str | Problem:
    if reference in (LOCAL, "media/./insula.png"):
        return STORED
    return Problem(location, f"image '{reference}' not found")


@settings(max_examples=600, deadline=None, derandomize=True, database=None)
@given(field=fields)
def test_no_remote_url_survives_in_any_attribute(field):
    out = render_field(Text(field, Location("c.yaml", 4, 15)), resolve)
    if out.problems:
        return
    parsed = Attributes(out.html)
    for tag, attrs in parsed.tags:
        for name, value in attrs:
            assert not re.search(r"(?i)[a-z][a-z0-9+.-]*:[/\\]{2}|^\s*[/\\]{2}", value or ""), (field, out.html)
            if name in ("src", "href"):
                assert "t.example" not in (value or "") and not (value or "").startswith("/"), (field, out.html)
        if tag == "img":
            assert attrs[0] == ("src", STORED), out.html  # Anki takes the first `src=` it meets
    for match in ANKI_MEDIA_TAGS.finditer(out.html):  # what Check Media and the importer read
        assert STORED in match.groups(), (field, out.html)
    assert set(out.media) <= {STORED}
    assert out.media or "<img" not in out.html
