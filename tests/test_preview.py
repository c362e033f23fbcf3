"""The HTML preview: the template renderer against the real Anki engine, the page file, and the
page itself in a real headless Chromium or Chrome (conftest.chromium_path finds it) driven by Playwright."""
from __future__ import annotations

import re
import shutil
import string
from pathlib import Path

import pytest

from conftest import import_package, write
from neurodeck.apkg.notetypes import note_types
from neurodeck.commands.preview import (
    fill_type_answers,
    preview_cards,
    preview_html,
    render_card,
    render_template,
    reveal_clozes,
    typed_answer,
    write_preview,
)
from neurodeck.commands.preview import page as preview
from neurodeck.pipeline.build import build, compile_deck

MANIFEST = Path("decks/test-deck.yaml")
TYPES = note_types("test-deck")

TRICKY_CLOZES = """\
subtopic: Tricky Clozes
cards:
  - id: nested
    type: cloze
    text: "Outer {{c1::a {{c2::inner::a hint}} b}} and {{c3::<b>x</b> & y::h::i}} then {{c1::again}}."
    extra: "Maths \\\\(a^2 + b^2\\\\)"
  - id: markdown-cloze
    type: cloze
    text: "**Bold** {{c2::second *em*}} before {{c1::first}}, a stray }} and `code`."
    source: "Somebody 2020"
"""


# ---- the template renderer -------------------------------------------------------------------

def test_cloze_hides_its_own_deletion_and_shows_the_others():
    text = "In {{c1::F5::a premotor area}} of the {{c2::macaque}}; {{c1::again}}."
    q1, a1 = reveal_clozes(text, 1, True), reveal_clozes(text, 1, False)
    q2, a2 = reveal_clozes(text, 2, True), reveal_clozes(text, 2, False)
    assert q1 == ('In <span class="cloze" data-cloze="F5" data-ordinal="1">[a premotor area]</span> of the '
                  '<span class="cloze-inactive" data-ordinal="2">macaque</span>; '
                  '<span class="cloze" data-cloze="again" data-ordinal="1">[...]</span>.')
    assert a1 == ('In <span class="cloze" data-ordinal="1">F5</span> of the '
                  '<span class="cloze-inactive" data-ordinal="2">macaque</span>; '
                  '<span class="cloze" data-ordinal="1">again</span>.')
    assert q2 == ('In <span class="cloze-inactive" data-ordinal="1">F5</span> of the '
                  '<span class="cloze" data-cloze="macaque" data-ordinal="2">[...]</span>; '
                  '<span class="cloze-inactive" data-ordinal="1">again</span>.')
    assert '<span class="cloze" data-ordinal="2">macaque</span>' in a2
    assert reveal_clozes(text, 3, True) == ""  # no such deletion: Anki's empty card


def test_nested_cloze_hides_everything_inside_the_active_one():
    text = "{{c1::outer {{c2::inner}} end}}"
    assert reveal_clozes(text, 1, True) == (
        '<span class="cloze" data-cloze="outer&#x20;&lt;span&#x20;class&#x3D;&quot;cloze&#x2D;inactive&quot;'
        '&#x20;data&#x2D;ordinal&#x3D;&quot;2&quot;&gt;inner&lt;&#x2F;span&gt;&#x20;end" data-ordinal="1">'
        '[...]</span>')
    assert reveal_clozes(text, 2, True) == (
        '<span class="cloze-inactive" data-ordinal="1">outer '
        '<span class="cloze" data-cloze="inner" data-ordinal="2">[...]</span> end</span>')


def test_reversed_cards_go_both_ways():
    fields = ("Mirror neuron", "A neuron that fires when acting and watching", "", "Rizzolatti 2004", "mn-term")
    q1, a1 = render_card(TYPES["reversed"], fields, 0)
    q2, a2 = render_card(TYPES["reversed"], fields, 1)
    assert q1 == '<div class="nd-side"><div class="nd-prompt">Mirror neuron</div></div>'
    assert q2 == '<div class="nd-side"><div class="nd-prompt">A neuron that fires when acting and watching</div></div>'
    assert a1.startswith('<div class="nd-side"><div class="nd-prompt">Mirror neuron</div><hr id=answer>'
                         '<div class="nd-answer">A neuron that fires when acting and watching</div></div>')
    assert a2.startswith('<div class="nd-side"><div class="nd-prompt">A neuron that fires when acting and watching'
                         '</div><hr id=answer><div class="nd-answer">Mirror neuron</div></div>')
    for back in (a1, a2):
        assert '<div class="nd-extra">' not in back  # empty Extra: its section is left out
        assert '<span class="nd-label">Source:</span> Rizzolatti 2004</div><div class="nd-id">mn-term</div>' in back


def test_type_in_shows_a_box_on_the_question_and_the_answer_on_the_back():
    fields = ("Which nucleus?", "Supra<b>optic</b> &amp; more", "", "", "ot-site")
    question, answer = render_card(TYPES["type-in"], fields, 0)
    assert '<input type="text" class="typeans"' in question and "Supra" not in question
    assert "[[type:" not in question + answer and "<input" not in answer
    assert ('<div class="nd-prompt">Which nucleus?</div><hr id=answer><div style="font-family: \'Arial\'; '
            'font-size: 20px"><code class="typeans">Supraoptic &amp; more</code></div>') in answer


def test_sections_and_front_side():
    template = "{{#Extra}}[{{Extra}}]{{/Extra}}{{^Extra}}none{{/Extra}}|{{FrontSide}}|{{ Id }}"
    fields = {"Extra": "x", "Id": "id"}
    assert render_template(template, fields, 0, False, front_side="F") == "[x]|F|id"
    assert render_template(template, dict(fields, Extra=" <br> <div></div>"), 0, False) == "none||id"
    with pytest.raises(ValueError):
        render_template("{{Missing}}", fields, 0, True)
    with pytest.raises(ValueError):
        render_template("{{#Extra}}open", fields, 0, True)


def test_renderer_matches_the_anki_engine_on_every_card_of_a_built_deck(project, collection):
    """Our templates through our renderer == `card.question()`/`card.answer()` of real Anki."""
    write(project / "cards" / "c.yaml", TRICKY_CLOZES)
    result = build(MANIFEST, Path("dist"))
    assert result.ok, result.problems
    import_package(collection, result.output)
    notes = {n.id: n for n in result.compiled.notes}
    compared = 0
    for cid in collection.find_cards(""):
        card = collection.get_card(cid)
        note = notes[card.note()["Id"]]
        note_type = TYPES[note.type]
        fields = dict(zip(note_type.fields, note.fields))
        template = note_type.templates[0 if note_type.is_cloze else card.ord]
        question = render_template(template.qfmt, fields, card.ord, True)
        assert question == _without_css(card.question())
        assert render_template(template.afmt, fields, card.ord, False, question) == _without_css(card.answer())
        if note.type == "type-in":
            assert typed_answer(fields["Answer"]) == collection.compare_answer(fields["Answer"], "")
        compared += 1
    assert compared == sum(len(n.ords) for n in result.compiled.notes) == 12


@pytest.mark.parametrize("text", [
    "a {{c1::two words & <b>bold</b>::hi nt}} b {{c2::x {{c3::nested}} y}} {{c1::again}} }} {{c4::unclosed",
    "{{c1::a::b::c}} and {{c2::}} and {{c1::with <i>it</i>}} {{c::x}} {{c1a::y}} {{c01::lead}}",
    "{{c1::" + string.punctuation.replace("}", "").replace(":", "") + " é\u00a0ÿĀ😀\t\n}}",
    "{{c1::{{c1::same}} twice}} {{c2::\\(x^{2}\\)}}",
])
def test_cloze_filter_matches_the_anki_engine(collection, text):
    model = collection.models.by_name("Cloze")
    qfmt, afmt = model["tmpls"][0]["qfmt"], model["tmpls"][0]["afmt"]
    note = collection.new_note(model)
    note["Text"] = text
    collection.add_note(note, collection.decks.id("Default"))
    fields = dict(note.items())
    for card in note.cards():
        question = render_template(qfmt, fields, card.ord, True)
        assert question == _without_css(card.question())
        assert render_template(afmt, fields, card.ord, False, question) == _without_css(card.answer())


@pytest.mark.parametrize("expected", ["Supraoptic nucleus", "<b>x</b> &amp; y &lt;z&gt;", "a<br>b", "two  spaces",
                                      "é <div>div</div>"])
def test_typed_answer_matches_the_anki_engine(collection, expected):
    assert typed_answer(expected) == collection.compare_answer(expected, "")


def test_the_reviewer_moves_the_rule_only_for_type_in():
    assert fill_type_answers("a<hr id=answer>b", {}, False) == "a<hr id=answer>b"
    assert fill_type_answers("a<hr id=answer>b[[type:A]]", {"A": "x"}, False) == (
        "ab<hr id=answer><div style=\"font-family: 'Arial'; font-size: 20px\"><code class=\"typeans\">x</code></div>")


def _without_css(side: str) -> str:
    return re.sub(r"\A<style>.*?</style>", "", side, flags=re.DOTALL)


# ---- the page file ---------------------------------------------------------------------------

def test_write_preview_writes_one_self_contained_page(project):
    path, problems = write_preview(MANIFEST, Path("dist"))
    assert problems == [] and path == Path("dist/test-deck.html")
    page = path.read_text("utf-8")
    assert page.count("article class=\"pv-card\"") == 7
    assert page.count("/* note types */") == 1 and ".nightMode .cloze" in page
    assert "data:image/png;base64," in page  # the image is inlined
    markup = re.sub(r"<script>.*?</script>", "", page, flags=re.DOTALL)
    links = re.findall(r"""\b(?:src|href)=["']?([^"' >]*)""", markup)
    assert links and all(link.startswith(("data:", "#")) for link in links)  # nothing else to fetch
    assert "default-src 'none'" in page
    assert "MathJax" in page  # the deck has maths
    assert sorted(p.name for p in Path("dist").iterdir()) == ["test-deck.html"]
    assert not Path("decks/test-deck.lock").exists()  # previewing never writes the lock


def test_the_page_is_deterministic_and_has_no_mathjax_without_maths(project):
    write(project / "cards" / "b.yaml", "subtopic: Plain\ncards:\n  - id: plain\n    question: Q\n    answer: A\n")
    compiled = compile_deck(MANIFEST)
    first = preview_html(compiled)
    assert first == preview_html(compile_deck(MANIFEST))
    assert "MathJax" not in first and len(first) < 60_000


def test_an_invalid_deck_writes_nothing(project):
    write(project / "cards" / "b.yaml", "subtopic: Broken\ncards:\n  - id: Not A Slug\n    question: Q\n")
    path, problems = write_preview(MANIFEST, Path("dist"))
    assert path is None
    assert any(p.severity == "error" and "b.yaml" in p.location.path for p in problems)
    assert not Path("dist").exists()


def test_a_failed_write_is_a_problem_and_keeps_the_old_page(project, monkeypatch):
    path, _ = write_preview(MANIFEST, Path("dist"))
    before = path.read_bytes()

    def full_disk(target, write):
        raise OSError(28, "No space left on device", str(target))

    monkeypatch.setattr(preview.files, "prepare", full_disk)
    again, problems = write_preview(MANIFEST, Path("dist"))
    assert again is None and "disk is full" in problems[-1].hint
    assert path.read_bytes() == before


def test_without_mathjax_maths_stays_tex_source(project, monkeypatch):
    monkeypatch.setattr(preview, "mathjax_script", lambda: None)
    page = preview_html(compile_deck(MANIFEST))
    assert "window.MathJax" not in page and "Maths is shown as TeX source" in page
    assert "Maths: \\(x_1 &lt; y\\) stays." in page


def test_mathjax_comes_from_the_installed_package():
    script = preview.mathjax_script()
    assert script is not None and "MathJax" in script and "</script" not in script.lower()


# ---- in a real browser -------------------------------------------------------------------------

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Page:
    """A preview page open in the browser, recording console errors and every request."""

    def __init__(self, browser, path: Path, width: int = 1280):
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)
        self.page.wait_for_selector("body[data-ready]", state="attached")

    def visible_cards(self) -> list[str]:
        return self.page.eval_on_selector_all("article.pv-card:not([hidden])", "cards => cards.map(c => c.id)")

    def search(self, text: str) -> list[str]:
        self.page.fill("#pv-search", "")
        self.page.type("#pv-search", text)  # key by key, as a person types
        return self.visible_cards()

    def close(self):
        self.context.close()


def _cards(compiled) -> int:
    return sum(len(n.ords) for n in compiled.notes)


def test_the_project_page_in_a_browser(project, browser, tmp_path):
    write(project / "cards" / "c.yaml", TRICKY_CLOZES)
    path, problems = write_preview(MANIFEST, tmp_path / "out")
    assert path is not None, problems
    compiled = compile_deck(MANIFEST)
    page = Page(browser, path)
    try:
        page.page.wait_for_selector("body[data-maths]", state="attached")  # MathJax finished
        assert len(page.visible_cards()) == _cards(compiled) == 12
        assert page.page.locator("mjx-container svg").count() >= 4  # \( \) typeset as SVG, both sides
        assert page.page.locator(".pv-side .card").count() == 2 * 12

        assert set(page.search("macaque")) == {"card-mn-discovery-1", "card-mn-f5-cloze-1", "card-mn-f5-cloze-2"}
        assert page.page.text_content("#pv-shown") == "3 of 12 cards"
        assert page.search("macaque single-unit") == ["card-mn-discovery-1"]  # every word must match
        assert page.search("F5 Cloze") == ["card-mn-f5-cloze-1", "card-mn-f5-cloze-2"]
        assert page.search("td::neuropeptides") == ["card-ot-site-1", "card-ot-image-1"]
        assert page.page.is_hidden("#sub-mirror-neurons") and page.page.is_visible("#sub-neuropeptides")
        assert page.search("no such words") == [] and page.page.is_visible("#pv-none")
        page.page.press("#pv-search", "Escape")
        assert len(page.visible_cards()) == 12

        side = ".pv-side .card"
        background = f"getComputedStyle(document.querySelector('{side}')).backgroundColor"
        assert page.page.evaluate(background) == "rgb(251, 251, 250)"
        page.page.click("#pv-night")
        assert page.page.evaluate("document.body.className") == "nightMode night_mode"
        assert page.page.evaluate(background) == "rgb(30, 30, 32)"  # the note types' night-mode CSS
        assert page.page.evaluate("getComputedStyle(document.querySelector('.cloze')).color") == "rgb(108, 180, 255)"
        page.page.click("#pv-night")
        assert page.page.evaluate(background) == "rgb(251, 251, 250)"

        shot = tmp_path / "preview-project.png"
        page.page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
        assert page.errors == []
        assert page.requests == [page.url]  # no network, no other file
    finally:
        page.close()


def test_the_bundled_deck_in_a_browser(bundled, browser, tmp_path, collection):
    manifest = Path("decks/neurobiology-of-intimacy.yaml")
    path, problems = write_preview(manifest, tmp_path / "out")
    assert path is not None, problems
    compiled = compile_deck(manifest)
    expected = _cards(compiled)
    # The number of cards Anki itself makes from the built package, not a number that
    # every edit of the deck would have to update.
    built = build(manifest, tmp_path / "dist")
    assert built.output is not None, [p.format() for p in built.problems]
    import_package(collection, built.output)
    assert expected == len(preview_cards(compiled)) == collection.card_count()
    page = Page(browser, path)
    try:
        assert len(page.visible_cards()) == expected
        counts = page.page.eval_on_selector_all(
            "section.pv-subdeck", "s => s.map(x => [x.querySelectorAll('article').length, x.dataset.total])")
        assert sum(int(total) for _, total in counts) == expected and all(n == int(t) for n, t in counts)

        term = "oxytocin"
        shown = page.search(term)
        assert 0 < len(shown) < expected
        texts = page.page.eval_on_selector_all(
            "article.pv-card", "cards => cards.map(c => [c.id, c.hidden, c.textContent.toLowerCase()])")
        assert shown == [card_id for card_id, hidden, _ in texts if not hidden]
        assert all((term in text) != hidden for _, hidden, text in texts)  # the matching ones, and only they

        page.page.click("#pv-night")
        assert "nightMode" in page.page.evaluate("document.body.className")
        page.page.fill("#pv-search", "")
        page.page.dispatch_event("#pv-search", "input")
        assert len(page.visible_cards()) == expected

        shot = tmp_path / "preview-bundled-night.png"
        page.page.screenshot(path=str(shot))
        print(f"screenshot: {shot}")
        assert page.errors == [] and page.requests == [page.url]
    finally:
        page.close()


def test_the_page_fits_a_phone(project, browser, tmp_path):
    path, _ = write_preview(MANIFEST, tmp_path / "out")
    page = Page(browser, path, width=390)
    try:
        # One column, and nothing wider than the screen.
        assert page.page.evaluate("document.documentElement.scrollWidth") <= 390
        left = page.page.eval_on_selector_all(".pv-card:first-of-type .pv-side", "s => s.map(x => x.offsetLeft)")
        assert len(set(left)) == 1
        shot = tmp_path / "preview-phone.png"
        page.page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
        assert page.errors == []
    finally:
        page.close()


def test_the_page_works_from_any_folder(project, browser, tmp_path):
    """The file alone is the whole preview: moved away from the project, it still shows images."""
    path, _ = write_preview(MANIFEST, tmp_path / "out")
    moved = tmp_path / "elsewhere" / "deck.html"
    moved.parent.mkdir()
    shutil.move(path, moved)
    page = Page(browser, moved)
    try:
        assert page.page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        assert page.page.locator("img").count() == 2
        assert page.errors == []
    finally:
        page.close()


# ---- the preview -------------------------------------------------------------------------------

def test_the_preview_plays_the_sound_in_a_browser(project, tmp_path, browser):
    import sounds
    from test_sound import sound_card

    (project / "cards" / "media" / "tone.wav").write_bytes(sounds.wav(0.25))
    sound_card(project, "Which tone? [sound:media/tone.wav]")
    path, problems = write_preview(MANIFEST, tmp_path / "out")
    assert path is not None, problems
    page = Page(browser, path)
    try:
        players = "#card-s-1 audio.pv-sound[controls]"
        assert page.page.locator(players).count() == 2  # the question, and again on the answer side
        page.page.wait_for_function(f"[...document.querySelectorAll('{players}')].every(a => a.readyState >= 1)")
        durations = page.page.eval_on_selector_all(players, "players => players.map(a => a.duration)")
        assert durations == [pytest.approx(0.25, abs=0.01)] * 2  # the browser decoded the packaged file
        assert "[sound:" not in page.page.text_content("#card-s-1")
        assert page.errors == [] and page.requests == [page.url]
    finally:
        page.close()


def test_the_preview_reads_tts_aloud_in_a_browser(project, tmp_path, browser):
    manifest = project / "decks" / "test-deck.yaml"
    manifest.write_text(manifest.read_text() + "tts: [{field: Question, lang: en_US, speed: 1.5}, "
                                                "{field: Text, lang: fr_FR}]\n")
    path, problems = write_preview(MANIFEST, tmp_path / "out")
    assert path is not None, problems
    page = Page(browser, path)
    try:
        # the browser's speech synthesis, recorded instead of heard
        page.page.evaluate("() => { window.heard = []; speechSynthesis.speak = u => heard.push([u.text, u.lang, u.rate]); }")
        buttons = page.page.locator("#card-mn-discovery-1 .pv-side:first-child button.pv-tts")
        assert buttons.count() == 1
        buttons.click()
        page.page.locator("#card-mn-f5-cloze-2 .pv-side:first-child button.pv-tts").click()
        assert page.page.evaluate("heard") == [
            ["Where were mirror neurons first recorded?", "en-US", 1.5],
            ["Mirror neurons were first recorded in area F5 of the blank.", "fr-FR", 1]]
        assert page.page.locator("#card-mn-discovery-1 .pv-side:last-child button.pv-tts").count() == 0
        assert "[anki:tts" not in page.page.text_content("main")
        assert page.errors == [] and page.requests == [page.url]
    finally:
        page.close()
