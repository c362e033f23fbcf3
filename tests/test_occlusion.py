"""Image occlusion cards end to end: built as Anki's image occlusion note type, imported into the
official engine, parsed back with its image occlusion API, rendered, upgraded in place, linted
and previewed."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import REPO, import_package, release, study_all, write
from neurodeck.apkg.occlusion_type import occlusion_note_type
from neurodeck.cli import main
from neurodeck.commands import example_image
from neurodeck.commands.preview.page import preview_cards, write_preview
from neurodeck.commands.preview.template import render_template
from neurodeck.pipeline.build import build, compile_deck
from neurodeck.render.occlusion import ordinals, properties
from neurodeck.source.cards import load_card_file

MANIFEST = Path("decks/test-deck.yaml")


def readme_example() -> str:
    """The card file of the README's section on image occlusion cards."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Image occlusion cards\n"):]
    return re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1)


def with_readme_example(project: Path) -> Path:
    path = write(project / "cards" / "brain.yaml", readme_example())
    (project / "cards" / "media" / "lateral-view.png").write_bytes(example_image.png())
    return path


def parsed_shapes(col, note_id: int) -> list[tuple[int, str, list[tuple[str, str]]]]:
    """The note's shapes as Anki's engine reads them: (card number, kind, properties), sorted."""
    response = col.get_image_occlusion_note(note_id=note_id)
    assert response.WhichOneof("value") == "note", response
    return sorted((o.ordinal, s.shape, [(p.name, p.value) for p in s.properties])
                  for o in response.note.occlusions for s in o.shapes)


def expected_shapes(card_file: Path, card_id: str, hide_all: bool = True):
    loaded, problems = load_card_file(card_file)
    assert loaded is not None and not problems
    [card] = [c for c in loaded.cards if c.id.value == card_id]
    oi = [("oi", "1")] if hide_all else []
    return sorted((n, s.kind, properties(s) + oi) for n, s in zip(ordinals(card.shapes), card.shapes))


def without_css(side: str) -> str:
    return re.sub(r"\A<style>.*?</style>", "", side, flags=re.DOTALL)


def test_the_readme_example_builds_as_anki_s_image_occlusion(project, collection):
    card_file = with_readme_example(project)
    result = build(MANIFEST, Path("dist"))
    assert result.ok, [p.format() for p in result.problems]
    log = import_package(collection, result.output)
    assert len(log.new) == 6 and not log.conflicting and not log.duplicate
    [note_id] = collection.find_notes('"Id:lateral-view-regions"')
    note = collection.get_note(note_id)
    model = note.note_type()
    # Anki's image occlusion type under the deck's own name, beside the stock one.
    assert model["name"] == "Test Deck Image Occlusion" and model["originalStockKind"] == 6 and model["type"] == 1
    assert collection.models.by_name("Image Occlusion")["id"] != model["id"]
    assert [f["name"] for f in model["flds"]][:5] == ["Occlusion", "Image", "Header", "Back Extra", "Comments"]
    assert parsed_shapes(collection, note_id) == expected_shapes(card_file, "lateral-view-regions")
    io = collection.get_image_occlusion_note(note_id=note_id).note
    assert io.image_data == example_image.png() and io.header == "Name the <em>hidden</em> region."
    assert io.occlude_inactive and io.back_extra == "Lateral view of the left hemisphere."
    # Two cards (the group is one), each rendered by the engine, and our preview renders the same.
    cards = sorted(note.cards(), key=lambda c: c.ord)
    assert [c.ord for c in cards] == [0, 1]
    compiled = next(n for n in result.compiled.notes if n.id == "lateral-view-regions")
    note_type = occlusion_note_type("test-deck", "Test Deck")
    fields = dict(zip(note_type.fields, compiled.fields))
    template = note_type.templates[0]
    for card, labels in zip(cards, ["Insula", "Putamen, Caudate nucleus"]):
        question, answer = without_css(card.question()), without_css(card.answer())
        assert render_template(template.qfmt, fields, card.ord, True) == question
        assert render_template(template.afmt, fields, card.ord, False, question) == answer
        assert f'<div class="nd-io-answer">{labels}</div>' in answer
        assert "Insula" not in question and "Putamen" not in question  # the labels stay hidden
        assert question.count('class="cloze"') == len(re.findall(f"c{card.ord + 1}::image", fields["Occlusion"]))
    assert collection.fix_integrity() == ("Database rebuilt and optimized.", True)
    check = collection.media.check()
    assert list(check.missing) == [] and list(check.unused) == []


def test_hide_one_leaves_the_other_shapes_visible(project, collection):
    card_file = with_readme_example(project)
    card_file.write_text(card_file.read_text().replace("mode: hide-all", "mode: hide-one"))
    result = build(MANIFEST, Path("dist"))
    assert result.ok
    import_package(collection, result.output)
    [note_id] = collection.find_notes('"Id:lateral-view-regions"')
    assert parsed_shapes(collection, note_id) == expected_shapes(card_file, "lateral-view-regions", hide_all=False)
    assert not collection.get_image_occlusion_note(note_id=note_id).note.occlude_inactive


def test_an_edited_occlusion_note_updates_in_place_and_keeps_its_reviews(project, collection):
    card_file = with_readme_example(project)
    v1 = release(project, "v1", 1_700_000_000)
    import_package(collection, v1)
    assert study_all(collection) == 9  # the fixture's 7 cards and the occlusion note's 2
    [note_id] = collection.find_notes('"Id:lateral-view-regions"')
    card_ids = sorted(collection.find_cards(f"nid:{note_id}"))
    reviews = collection.db.scalar("select count() from revlog")
    # A shape moved, a label renamed: the same note, the same cards.
    card_file.write_text(card_file.read_text().replace("rect: {left: 0.10, top: 0.20,", "rect: {left: 0.12, top: 0.22,")
                         .replace("label: Insula", "label: Insular cortex"))
    v2 = release(project, "v2", 1_700_000_100)
    log = import_package(collection, v2)
    assert [n.id.nid for n in log.updated] == [note_id]
    assert not log.new and not log.conflicting and len(log.duplicate) == 5  # the unchanged notes
    assert parsed_shapes(collection, note_id) == expected_shapes(card_file, "lateral-view-regions")
    assert sorted(collection.find_cards(f"nid:{note_id}")) == card_ids
    assert collection.db.scalar("select count() from revlog") == reviews
    assert all(collection.get_card(cid).reps == 1 for cid in card_ids)
    first = collection.get_card(card_ids[0]) if collection.get_card(card_ids[0]).ord == 0 else \
        collection.get_card(card_ids[1])
    assert '<div class="nd-io-answer">Insular cortex</div>' in first.answer()
    assert len(collection.models.all_names_and_ids()) == len({m.name for m in collection.models.all_names_and_ids()})
    assert not any(m.name.endswith("+") for m in collection.models.all_names_and_ids())


def test_a_bad_occlusion_card_is_a_located_error(project):
    (project / "cards" / "media" / "lateral-view.png").write_bytes(example_image.png())
    write(project / "cards" / "brain.yaml", """\
        subtopic: Brain
        cards:
          - id: bad-shapes
            type: occlusion
            image: media/lateral-view.png
            header: "Which {{c3::region}}?"
            extra: Not for occlusion cards.
            shapes:
              - rect: {left: 0.9, top: 0.2, width: 0.3, height: 0.1}
                label: "A::B"
              - rect: {left: 0.1, top: 0.2, width: 0.3, height: 0.1}
                label: Insula
                colour: red
          - id: no-image
            type: occlusion
            image: media/missing.png
            shapes: [{ellipse: {left: 0.1, top: 0.1, rx: 0.1, ry: 0.1}, label: X}]
        """)
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    out = result.stderr
    for where, what in [("cards/brain.yaml:9:44", "reaches past the image's right edge"),
                        ("cards/brain.yaml:10:16", "'::' in a label"),
                        ("cards/brain.yaml:13:9", "unknown key 'colour' in a shape"),
                        ("cards/brain.yaml:7:5", "an occlusion card has no 'extra'"),
                        ("cards/brain.yaml:6:13", "deletion '{{c3::' in an occlusion card"),
                        ("cards/brain.yaml:16:12", "image 'media/missing.png' not found")]:
        line = next((line for line in out.splitlines() if what in line), None)
        assert line is not None and line.startswith(f"{where}: error"), (what, out)
    assert out.count("hint:") >= 6


def test_lint_warns_once_per_deck_with_occlusion_cards(project):
    runner = CliRunner()
    assert "ND114" not in runner.invoke(main, ["lint"]).output
    with_readme_example(project)
    write(project / "cards" / "more.yaml", readme_example().replace("Brain Regions", "More Regions")
          .replace("lateral-view-regions", "second-view"))
    result = runner.invoke(main, ["lint"])
    warnings = [line for line in result.output.splitlines() if ": warning: ND114" in line]
    assert len(warnings) == 1, result.output
    assert "cards/brain.yaml:3:5: warning: ND114 the deck has 2 image occlusion cards, which Anki before 23.10" \
        in warnings[0]
    assert "Anki 23.10 or later" in result.output.split(warnings[0])[1].splitlines()[1]  # the hint
    manifest = project / MANIFEST
    manifest.write_text(manifest.read_text() + "lint:\n  ND114: off\n")
    assert "ND114" not in runner.invoke(main, ["lint"]).output


def test_preview_draws_the_masks_as_the_reviewer_does(project):
    with_readme_example(project)
    compiled = compile_deck(MANIFEST)
    assert compiled.ok
    cards = [c for c in preview_cards(compiled) if c.note.type == "occlusion"]
    assert [c.label for c in cards] == ["Occlusion, card 1", "Occlusion, card 2"]
    first, second = cards

    def masks(side: str) -> list[tuple[str, str]]:
        svg = re.search(r'<svg class="nd-io-masks".*?</svg>', side).group(0)
        return re.findall(r'<(rect|ellipse|polygon) [^>]*class="(nd-io-[a-z]+)"', svg)

    # Question: the asked shape in the active colour, the others hidden too (hide all).
    assert masks(first.question) == [("rect", "nd-io-active"), ("ellipse", "nd-io-inactive"),
                                     ("polygon", "nd-io-inactive")]
    assert masks(second.question) == [("rect", "nd-io-inactive"), ("ellipse", "nd-io-active"),
                                      ("polygon", "nd-io-active")]
    # Answer: the asked shape revealed (outlined), with its label.
    assert masks(second.answer) == [("rect", "nd-io-inactive"), ("ellipse", "nd-io-highlight"),
                                    ("polygon", "nd-io-highlight")]
    assert '<div class="nd-io-answer">Putamen, Caudate nucleus</div>' in second.answer
    # Where Anki draws them: the ellipse around its centre, the polygon at its points.
    assert '<ellipse cx="0.65" cy="0.48" rx="0.1" ry="0.08"' in first.question
    assert '<polygon points="0.5,0.25 0.7,0.25 0.6,0.38"' in first.question
    assert "<script>" not in first.question and 'id="' not in first.question

    card_file = project / "cards" / "brain.yaml"
    card_file.write_text(card_file.read_text().replace("mode: hide-all", "mode: hide-one"))
    hide_one = [c for c in preview_cards(compile_deck(MANIFEST)) if c.note.type == "occlusion"]
    assert masks(hide_one[0].question) == [("rect", "nd-io-active")]


@pytest.fixture(scope="module")
def browser(chromium):
    """Chromium as the preview tests drive it (test_preview.py)."""
    from playwright.sync_api import sync_playwright

    from test_preview import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def test_the_masks_lie_over_the_image_in_a_browser(project, browser, tmp_path):
    """What a student would see: at the asked shape's centre the active mask, at another shape's
    the inactive one (hide all), and on the answer the image itself (the mask is only outlined)."""
    with_readme_example(project)
    path, problems = write_preview(MANIFEST, tmp_path / "out")
    assert path is not None, problems
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(path.resolve().as_uri())

        def hit(card: str, side: int, x: float, y: float) -> str:
            """The element at (x, y), in fractions of the image, on a card's question (0) or answer (1)."""
            return page.evaluate("""([card, side, x, y]) => {
                const img = document.querySelectorAll(`#${card} .nd-io-container img`)[side];
                img.scrollIntoView({block: "center"});
                const box = img.getBoundingClientRect();
                const hit = document.elementFromPoint(box.left + x * box.width, box.top + y * box.height);
                return hit.tagName.toLowerCase() + (hit.getAttribute("class") ? "." + hit.getAttribute("class") : "");
            }""", [card, side, x, y])

        rect, ellipse = (0.10 + 0.25 / 2, 0.20 + 0.15 / 2), (0.55 + 0.10, 0.40 + 0.08)
        first, second = "card-lateral-view-regions-1", "card-lateral-view-regions-2"
        assert hit(first, 0, *rect) == "rect.nd-io-active"
        assert hit(first, 0, *ellipse) == "ellipse.nd-io-inactive"
        assert hit(second, 0, *ellipse) == "ellipse.nd-io-active"
        assert hit(first, 1, *rect) == "img"  # revealed: only its outline is drawn
        assert hit(first, 1, *ellipse) == "ellipse.nd-io-inactive"
        assert hit(first, 0, 0.02, 0.98) == "img"  # no mask there
    finally:
        page.close()


def test_a_retired_occlusion_card_keeps_its_masks_and_says_so_on_the_back(project, collection):
    card_file = with_readme_example(project)
    card_file.write_text(card_file.read_text().replace(
        "    type: occlusion\n", "    type: occlusion\n    retired: true\n    why: Replaced by a labelled atlas.\n"))
    result = build(MANIFEST, Path("dist"))
    assert result.ok, [p.format() for p in result.problems]
    import_package(collection, result.output)
    [note_id] = collection.find_notes('"Id:lateral-view-regions"')
    assert parsed_shapes(collection, note_id) == expected_shapes(card_file, "lateral-view-regions")
    note = collection.get_note(note_id)
    assert "td::retired" in note.tags
    for card in note.cards():
        assert "This card has been retired." in card.answer() and "Replaced by a labelled atlas." in card.answer()
        assert "This card has been retired." not in card.question()
    assert "ND114" not in CliRunner().invoke(main, ["lint"]).output  # retired cards are not linted
