"""Markdown rendering and the HTML allow-list (no Anki, no Click)."""
from __future__ import annotations

import re
import sys
from html import unescape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurodeck.model import Location, Problem, Text
from neurodeck.render import markdown as render
from neurodeck.render.cloze import cloze_numbers
from neurodeck.render.markdown import render_field
from neurodeck.render.plaintext import shows_nothing

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")  # what Anki deletes from a field (rslib: invalid_char_for_field)


def no_media(reference, location):
    return Problem(location, f"unexpected media {reference}")


def html(text: str, cloze: bool = False) -> str:
    out = render_field(Text(text, Location("x.yaml", 1, 1)), no_media, cloze=cloze)
    assert out.problems == []
    return out.html


def test_markdown_renders_and_single_paragraph_is_unwrapped():
    assert html("Area **F5** of the *macaque*") == "Area <strong>F5</strong> of the <em>macaque</em>"
    assert html("one\n\ntwo") == "<p>one</p>\n<p>two</p>"
    assert html("- a\n- b") == "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"


def test_maths_survives_commonmark_escapes():
    assert html(r"Inline \(a_1 < b^*\) and \[x*y*z\]") == r"Inline \(a_1 &lt; b^*\) and \[x*y*z\]"


@pytest.mark.parametrize("text, expected", [
    ("In {{c1::F5::a premotor area}}.", "In {{c1::F5::a premotor area}}."),
    ("{{c1::**bold** answer}} and {{c2::x_1_}}", "{{c1::<strong>bold</strong> answer}} and {{c2::x_1_}}"),
    (r"{{c1::\(x^2\)}}", r"{{c1::\(x^2\)}}"),
])
def test_cloze_markers_survive(text, expected):
    assert html(text, cloze=True) == expected


def test_cloze_numbers():
    assert cloze_numbers("{{c2::a}} {{c1::b}} {{c2::c::hint}}") == [1, 2]


@pytest.mark.parametrize("dirty", [
    "<script>alert(1)</script>safe",
    '<b onclick="alert(1)">safe</b>',
    '<a href="javascript:alert(1)">safe</a>',
    '<iframe src="https://evil.example"></iframe>safe',
    '<object data="x.swf"></object>safe',
    "<style>body{background:url(https://t.example/p.gif)}</style>safe",
    '<span style="background:url(https://t.example/p.gif)">safe</span>',
])
def test_dangerous_html_is_removed(dirty):
    out = html(dirty)
    assert "safe" in out
    for bad in ("<script", "onclick", "javascript:", "<iframe", "<object", "<style", "url(", "alert"):
        assert bad not in out, out


def test_formatting_tags_are_kept():
    assert html("H<sub>2</sub>O, x<sup>2</sup>, <u>u</u>, <i>i</i>, a<br>b") == \
        "H<sub>2</sub>O, x<sup>2</sup>, <u>u</u>, <i>i</i>, a<br>b"


def test_remote_images_are_problems_and_removed():
    for text in ("![x](https://t.example/p.gif)", '<img src="http://t.example/p.gif">', "![x](/etc/passwd)"):
        out = render_field(Text(text, Location("x.yaml", 3, 7)), no_media)
        assert "t.example" not in out.html and "passwd" not in out.html
        assert [p.location for p in out.problems] == [Location("x.yaml", 3, 7)]


def test_local_images_are_renamed_by_the_resolver():
    seen = []

    def resolve(reference, location):
        seen.append(reference)
        return "insula-0123.png"

    out = render_field(Text("![The insula](media/my%20insula.png)", Location("x", 1, 1)), resolve)
    assert out.html == '<img src="insula-0123.png" alt="The insula">'
    assert seen == ["media/my insula.png"] and out.media == ["insula-0123.png"]


def test_braces_in_basic_text_are_plain_text():
    assert html("{{Front}} and {{c1::x}}") == "{{Front}} and {{c1::x}}"


# The fast path skips the sanitiser when CommonMark cannot produce anything it would remove;
# its output must be exactly what the sanitiser would have made.
pieces = st.one_of(
    st.sampled_from(list("*_`#>-+=|~!()\\\"'{}:.0123456789 \n\té߆😀\u200b")),
    st.sampled_from(["**", "__", "1. ", "3) ", "- ", "> ", "# ", "## ", "    ", "\n\n", "***", "---", "===",
                     "\\*", "  \n", "\\\n", "{{c1::", "}}", "\\(", "\\)"]),
    st.characters(exclude_categories=("Cs",)),
)
markdownish = st.lists(pieces, max_size=40).map("".join)


@settings(max_examples=600, deadline=None, derandomize=True, database=None)
@given(markdownish)
def test_fast_path_matches_the_sanitiser(text):
    if render._needs_sanitiser(text):
        return
    body = render.cmarkgfm.markdown_to_html(text, options=render._OPTIONS)
    assert render._serialise_like_sanitiser(body) == render._cleaner().clean(body)


@settings(max_examples=600, deadline=None, derandomize=True, database=None)
@given(st.from_regex(render._PLAIN, fullmatch=True) | markdownish)
def test_plain_text_path_matches_the_full_path(text):
    if not render._PLAIN.fullmatch(text):
        return
    body = render.cmarkgfm.markdown_to_html(text, options=render._OPTIONS)
    assert render._unwrap_single_paragraph(render._cleaner().clean(body).strip()) == text


controls = st.lists(st.one_of(pieces, st.sampled_from(
    ["&#1;", "&#x7F;", "&#X1f;", "&#0;", "&#13;", "&#9;", "&#10;", "&#127;", "&amp;#1;", "&#", "\r", "\x00",
     "\x01", "\x0b", "\x7f", "\x85", "<b>", "[x](y)", "\\(x\\)", "[sound:a.mp3]", "&nbsp;", "&Tab;", "&NewLine;"])),
    max_size=30).map("".join)


@settings(max_examples=600, deadline=None, derandomize=True, database=None)
@given(controls)
def test_a_field_whose_control_characters_are_ruled_out_holds_none(text):
    """The build skips its control-character check on such fields (compile_file), so the renderer's
    word must hold for any text: control characters come from the text or its character references."""
    out = render_field(Text(text, Location("c.yaml", 1, 1)), lambda ref, loc, kind="image": Problem(loc, "no media"))
    if out.controls_ruled_out:
        assert not CONTROL.search(out.html), (text, out.html)


tagged = st.lists(st.one_of(st.sampled_from(
    ["<b>", "</b>", "<br>", "<p>", "</p>", "<!--", "-->", "<img src=x>", "<IMG src=x>", "<", ">", "&", "&nbsp;",
     "&amp;", "&lt;", "&#32;", "&#160;", "&nbsp", " ", "\u00a0", "\u3000", "\n", "\t", "x", "\u200b", "<a title='>'>",
     "<span>", "</span>"]), st.characters(exclude_categories=("Cs",))), max_size=12).map("".join)


@settings(max_examples=1000, deadline=None, derandomize=True, database=None)
@given(tagged)
def test_shows_nothing_is_what_its_definition_says(body):
    """Its fast path (text before or between tags) agrees with the definition: no image, and nothing
    left once comments, tags and spaces are removed and entities decoded."""
    definition = "<img" not in body.lower() and not unescape(
        re.sub(r"<[^>]*>", "", re.sub(r"<!--.*?(?:-->|$)", "", body, flags=re.DOTALL))).strip()
    assert shows_nothing(body) == definition


def test_markdown_to_html_matches_cmarkgfm_and_frees_what_cmark_allocates():
    import resource

    text = "A *field* with `code`, **bold** and a list:\n\n- one\n- two\n" * 40  # about 2.4 KB
    assert render.markdown_to_html(text) == render.cmarkgfm.markdown_to_html(text, options=render._OPTIONS)
    unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB elsewhere
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit
    for _ in range(40_000):  # leaking each result would take over 200 MB
        render.markdown_to_html(text)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit - before < 50 * 2**20
