"""A deck's own note types run and load nothing: templates, CSS and the LaTeX header and footer
(checks/notetype_safety.py). Templates are generated from hostile and harmless pieces; every one
the rule accepts is rendered with hostile field text that the field sanitizer keeps as written,
and the result, read by a parser of the test's own, holds no script, handler or remote address."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import write
from neurodeck.apkg.templates import MAX_NESTING
from neurodeck.checks.notetype_safety import latex_problem, template_problems
from neurodeck.pipeline.build import build, compile_deck
from neurodeck.render.sanitize import css_problem, sanitize

IO_SCRIPT = ('<script>\ntry {\n    anki.imageOcclusion.setup();\n} catch (exc) {\n    document.getElementById("err")'
             '.innerHTML = `Error loading image occlusion. Is your Anki version up to date?<br><br>${exc}`;\n}\n'
             '</script>\n')
_SAFE = ["<div>", "</div>", "<hr id=answer>", "text", "<b>", "</b>", '<div class="x">', '<img src="local.png">', "<br>",
         "<!-- a note -->", "[", "]", '"', "'", "=", ">", "<", " ", "<canvas id=c></canvas>", IO_SCRIPT,
         "<style>.x { color: red }</style>", '<span style="color: red">']
_HANDLES = ["{{F}}", "{{#F}}", "{{/F}}", "{{^F}}", "{{text:F}}", "{{Tags}}", "{{Card}}", "{{FrontSide}}"]
_HOSTILE = ["<script>x()</script>", "<img src=x onerror=alert(1)>", '<a href="javascript:x()">a</a>',
            '<img src="http://evil.example/p.png">', '<div style="background:url(//evil.example/p)">',
            "<style>@import 'http://evil.example/x.css';</style>", "<iframe src=x.html></iframe>", "[sound:x.mp3]",
            "[latex]x[/latex]", '<img src="', '<div title="', "<!--", "-->", "<", '<div class="', "<script>",
            "<style>", '<video src="https://evil.example/v.mp4">', '<img srcset="a.png 1x, //evil.example/b.png 2x">',
            "[$]x[/$]", '<object data="x.swf">', "<svg><a href='javascript:x()'>", "</script>"]
# Field text the field sanitizer keeps byte for byte (checked below), placed by the template.
VALUES = ['" onerror="alert(1)', "' onmouseover='alert(1)", "http://evil.example/p.png", "javascript:alert(1)",
          "script", "img src=x onerror=alert(1)", "-->", "sound:../../x.mp3", "latex]x[/latex", "x onerror=alert(1) y",
          "background:url(//evil.example/p)", "/script", ""]


class _Active(HTMLParser):
    """What in rendered HTML could run or load something, as this test reads it."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "svg", "frame", "link", "meta", "base"):
            self.found.append(tag)
        for name, value in attrs:
            plain = re.sub(r"[\x00-\x20]", "", value or "").lower()
            if name.startswith("on") or "javascript:" in plain or "//" in plain or "url(" in plain:
                self.found.append(f"{tag} {name}={value}")

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        if self.cdata_elem == "style" and css_problem(data, local_urls=True):
            self.found.append("style loading something")


def _render(template: str, value: str) -> str:
    """The template as Anki shows it when every field holds `value` (sections dropped, as a filled
    field leaves their contents). As rslib reads templates: a {{...}} with its closing braces is a
    replacement, a <!-- with its --> a comment left as written, whatever it holds."""
    shown = {"FrontSide": "", "Tags": "tag", "Card": "Card 1", "F": value, "text:F": value}
    out, pos = [], 0
    while pos < len(template):
        close = template.find("}}", pos + 2) if template.startswith("{{", pos) else -1
        if close >= 0:
            handle = template[pos + 2:close].strip()
            out.append("" if handle[:1] in "#^/" else shown[handle])
            pos = close + 2
            continue
        close = template.find("-->", pos + 4) if template.startswith("<!--", pos) else -1
        if close >= 0:
            out.append(template[pos:close + 3])
            pos = close + 3
            continue
        out.append(template[pos])
        pos += 1
    return "".join(out)


def _dangers(rendered: str) -> list[str]:
    without_io = rendered.replace(IO_SCRIPT.strip(), "")
    found = _Active(without_io).found
    if re.search(r"\[(?:sound:|anki:|latex\]|\$\$?\])", rendered, re.IGNORECASE):
        found.append("anki tag")
    return found


def test_the_field_values_are_ones_the_sanitizer_keeps_as_written():
    assert all(sanitize(v, keep_markup=True).kept for v in VALUES)


@example('<img src="{{F}}">')
@example('<div title="{{F}}">x</div>')
@example("<{{F}}>")
@example("<!--{{F}}<img src=x onerror=alert(1)>")
@example("[{{F}}]")
@example("[{{FrontSide}}{{text:F}}")  # found by the CI profile: FrontSide may be empty, F then starts the tag
@example('<img src=x {{#F}}title="{{/F}} onerror=alert(1) {{#F}}"{{/F}}>')
@given(st.lists(st.sampled_from(_SAFE + _HANDLES + _HOSTILE), max_size=8).map("".join))
def test_a_template_the_rule_accepts_runs_and_loads_nothing_whatever_its_fields_hold(template):
    problems = template_problems(template)
    if problems:
        return
    for value in VALUES:
        assert _dangers(_render(template, value)) == [], (template, value)


def test_anki_s_own_templates_and_css_pass(tmp_path):
    from anki.collection import Collection

    col = Collection(str(tmp_path / "c.anki2"))
    try:
        models = col.models.all()
    finally:
        col.close()
    assert len(models) == 6  # Basic... and Image Occlusion, whose template holds Anki's set-up script
    for model in models:
        for t in model["tmpls"]:
            assert template_problems(t["qfmt"]) == [] and template_problems(t["afmt"]) == [], model["name"]
        assert css_problem(model["css"], local_urls=True) is None
        assert latex_problem(model["latexPre"]) is None and latex_problem(model["latexPost"]) is None


@given(st.sampled_from([r"\immediate\write18{touch /tmp/x}", r"\input{/etc/passwd}", r"\include{x}",
                        r"\openin1=/etc/passwd", r"^^5cinput{/etc/passwd}", r"\csname input\endcsname{/etc/passwd}",
                        r"\catcode`\|=0 |input{/etc/passwd}", r"\usepackage{/tmp/evil}", r"\read16 to\x",
                        r"\newwrite\f\openout\f=x.tex", r"\pdffiledump length 100 {/etc/passwd}",
                        r"\special{sh: touch /tmp/x}", r"\scantokens{x}", r"\expandafter\x"]),
       st.sampled_from(["", "\\documentclass[12pt]{article}\n", "\\usepackage{amsmath}\n"]))
def test_a_latex_header_that_reads_writes_or_runs_is_refused(command, before):
    assert latex_problem(before + command + "\n\\begin{document}\n") is not None


MANIFEST = "name: Anatomy\nnamespace: anatomy-safe\ncards: [cards/*.yaml]\n"
CARDS = "subtopic: Regions\ncards:\n  - id: x\n    type: evil\n    fields: {Front: a, Back: b}\n"
EVIL = """\
name: Evil Type
fields: [Front, Back]
templates:
  - name: Card 1
    front: "<script>fetch('http://evil.example/')</script>{{Front}}"
    back: "{{FrontSide}}<hr id=answer><img src='{{Back}}'>"
css: "@import url(http://evil.example/x.css);"
latex_pre: "\\\\documentclass{article}\\\\immediate\\\\write18{touch /tmp/pwned}\\\\begin{document}"
"""


def test_a_hostile_note_type_is_refused_at_its_lines_and_nothing_is_written(tmp_path: Path):
    write(tmp_path / "decks" / "d.yaml", MANIFEST)
    write(tmp_path / "notetypes" / "evil.yaml", EVIL)
    write(tmp_path / "cards" / "a.yaml", CARDS)
    result = build(tmp_path / "decks" / "d.yaml", tmp_path / "dist", now=1_700_000_000)
    assert not result.ok and not (tmp_path / "dist").exists()
    found = {(p.location.line, p.message.split(" ")[1]) for p in result.problems if p.severity == "error"}
    assert found == {(5, "front"), (6, "back"), (7, "CSS"), (8, "LaTeX")}, [p.format() for p in result.problems]


@example(3000, 3000, True)
@example(1, 0, True)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 3000), st.integers(0, 3000), st.booleans())
def test_any_nesting_of_sections_with_or_without_tts_is_a_located_error_or_builds(tmp_path_factory, opened, closed,
                                                                                   tts):
    """Sections nested thousands deep overflowed every recursive reader of the template (a
    traceback), and a tts option parsed the templates before they were checked (a traceback for
    an unclosed section)."""
    root = tmp_path_factory.mktemp("nest")
    front = "{{#Front}}" * opened + "{{Front}}" + "{{/Front}}" * closed
    write(root / "decks" / "d.yaml", MANIFEST)
    write(root / "notetypes" / "deep.yaml", "name: Deep\nfields: [Front, Back]\n" +
          ("tts: {field: Front, lang: en_US}\n" if tts else "") +
          f'templates:\n  - name: C1\n    front: "{front}"\n    back: "{{{{Back}}}}"\n')
    write(root / "cards" / "a.yaml", "subtopic: S\ncards:\n  - id: x\n    type: deep\n    fields: {Front: a, Back: b}\n")
    compiled = compile_deck(root / "decks" / "d.yaml", now=1_700_000_000)
    errors = [p for p in compiled.problems if p.severity == "error"]
    if opened == closed and opened <= MAX_NESTING:
        assert compiled.ok, [p.format() for p in errors]
    else:
        assert errors and errors[0].location.path.endswith("deep.yaml") and errors[0].location.line == 6 - (not tts)
