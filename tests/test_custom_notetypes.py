"""A deck's own note types (notetypes/*.yaml): built into packages the official engine imports and
renders, and every declaration or card mistake a located error with a hint."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import import_package, write
from neurodeck.pipeline.build import build, compile_deck

MANIFEST = Path("decks/d.yaml")

TWO_TEMPLATES = """\
name: Anatomy Basic
kind: standard
fields:
  - name: Front
  - Back
  - name: Notes
    sticky: true
    description: Shown on the back when filled
templates:
  - name: Forward
    front: "{{Front}}"
    back: "{{FrontSide}}<hr id=answer>{{Back}}{{#Notes}}<div class=notes>{{Notes}}</div>{{/Notes}}"
  - name: Backward
    front: "{{#Notes}}{{Back}}{{/Notes}}"
    back: "{{FrontSide}}<hr id=answer>{{Front}}"
css: ".card { font-family: serif; }"
sort_field: Back
"""

CLOZE = """\
name: Anatomy Cloze
kind: cloze
fields: [Text, Extra]
templates:
  - name: Cloze
    front: "{{cloze:Text}}"
    back: "{{cloze:Text}}<div class=extra>{{Extra}}</div>"
"""

CARDS = """\
subtopic: Regions
cards:
  - id: insula-where
    type: Anatomy Basic
    fields: {Front: "Where is the *insula*?", Back: Deep in the lateral sulcus.}
  - id: insula-both
    type: anatomy-basic
    fields:
      Front: Which lobe covers the insula?
      Back: The frontal, parietal and temporal opercula
      Notes: Both directions are asked.
  - id: insula-cloze
    type: anatomy-cloze
    fields: {Text: "The {{c1::insula}} lies in the {{c2::lateral sulcus}}.", Extra: Human}
  - id: plain
    question: A built-in card beside them?
    answer: Yes.
"""


@pytest.fixture
def deck(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "p"
    write(root / "decks" / "d.yaml", "name: Anatomy\nnamespace: anatomy-test\ncards: [cards/*.yaml]\n")
    write(root / "notetypes" / "anatomy-basic.yaml", TWO_TEMPLATES)
    write(root / "notetypes" / "anatomy-cloze.yaml", CLOZE)
    write(root / "cards" / "a.yaml", CARDS)
    monkeypatch.chdir(root)
    return root


def test_custom_types_import_into_anki_and_render_with_their_templates(deck, collection):
    result = build(MANIFEST, deck / "dist", now=1_700_000_000)
    assert result.ok, [p.format() for p in result.problems]
    log = import_package(collection, result.output)
    assert len(log.new) == 4 and not log.conflicting
    assert collection.fix_integrity() == ("Database rebuilt and optimized.", True)
    shown = {}
    for cid in collection.find_cards(""):
        card = collection.get_card(cid)
        shown[(card.note()["Front"] if "Front" in card.note() else card.note().fields[0], card.ord)] = (
            card.note_type()["name"], card.question(), card.answer())
    name, question, answer = shown[("Where is the <em>insula</em>?", 0)]
    assert name == "Anatomy Basic" and question.endswith("Where is the <em>insula</em>?")
    assert ".card { font-family: serif; }" in question
    assert answer.endswith("<hr id=answer>Deep in the lateral sulcus.")
    # the second template's front needs Notes: only the note that fills it gets a second card
    assert ("Where is the <em>insula</em>?", 1) not in shown
    name, question, answer = shown[("Which lobe covers the insula?", 1)]
    assert question.endswith("The frontal, parietal and temporal opercula")
    assert answer.endswith("<hr id=answer>Which lobe covers the insula?")
    assert shown[("Which lobe covers the insula?", 0)][2].endswith('<div class=notes>Both directions are asked.</div>')
    cloze_cards = {o: v for (f, o), v in shown.items() if f.startswith("The ")}
    assert sorted(cloze_cards) == [0, 1]
    assert 'data-cloze="insula"' in cloze_cards[0][1] and "[...]" in cloze_cards[0][1]
    assert cloze_cards[1][2].endswith('<div class=extra>Human</div>')
    nt = collection.models.by_name("Anatomy Basic")
    assert [f["name"] for f in nt["flds"]] == ["Front", "Back", "Notes"]
    assert [f["sticky"] for f in nt["flds"]] == [False, False, True]
    assert nt["flds"][2]["description"] == "Shown on the back when filled"
    assert nt["sortf"] == 1 and [t["name"] for t in nt["tmpls"]] == ["Forward", "Backward"]
    assert collection.models.by_name("Anatomy Cloze")["type"] == 1


def test_ids_derive_from_the_namespace_and_name_unless_given(deck):
    first = compile_deck(MANIFEST).notetypes["anatomy-basic"]
    again = compile_deck(MANIFEST).notetypes["anatomy-basic"]
    assert first == again
    write(deck / "decks" / "d.yaml", "name: Anatomy\nnamespace: other-space\ncards: [cards/*.yaml]\n")
    other = compile_deck(MANIFEST).notetypes["anatomy-basic"]
    assert other.id != first.id and other.field_specs[0].id != first.field_specs[0].id
    write(deck / "notetypes" / "anatomy-basic.yaml", TWO_TEMPLATES.replace(
        "kind: standard\n", "kind: standard\nid: 1607392319\n").replace(
        "  - name: Front\n", "  - name: Front\n    id: 123456\n").replace(
        "  - name: Forward\n", "  - name: Forward\n    id: 654321\n"))
    pinned = compile_deck(MANIFEST).notetypes["anatomy-basic"]
    assert pinned.id == 1607392319 and pinned.field_specs[0].id == 123456 and pinned.templates[0].id == 654321


def test_the_manifest_may_name_note_type_files_with_globs(deck):
    (deck / "notetypes").rename(deck / "types")
    assert any("unknown card type 'Anatomy Basic'" in p.message for p in compile_deck(MANIFEST).problems)
    write(deck / "decks" / "d.yaml", "name: Anatomy\nnamespace: anatomy-test\ncards: [cards/*.yaml]\n"
          "notetypes: [types/*.yaml]\n")
    assert compile_deck(MANIFEST).ok
    write(deck / "decks" / "d.yaml", "name: Anatomy\nnamespace: anatomy-test\ncards: [cards/*.yaml]\n"
          "notetypes: [nowhere/*.yaml]\n")
    assert [p.format() for p in compile_deck(MANIFEST).problems if "matches no file" in p.message] == [
        "decks/d.yaml:4:13: error: glob 'nowhere/*.yaml' matches no file\n  hint: globs are relative to the "
        "project root ."]


def problems(deck: Path, notetype: str | None = None, cards: str | None = None, name: str = "anatomy-basic") -> list[str]:
    if notetype is not None:
        write(deck / "notetypes" / f"{name}.yaml", notetype)
    if cards is not None:
        write(deck / "cards" / "a.yaml", cards)
    return [p.format() for p in compile_deck(MANIFEST).problems]


def one(found: list[str], fragment: str) -> str:
    hits = [p for p in found if fragment in p]
    assert len(hits) == 1, (fragment, found)
    return hits[0]


CARD = "subtopic: Regions\ncards:\n  - id: x\n    type: anatomy-basic\n"


@pytest.mark.parametrize("card, where, message, hint", [
    ("    fields: {Front: a, Bak: b}\n", "cards/a.yaml:5:24", "note type 'Anatomy Basic' has no field 'Bak'",
     "did you mean 'Back'?"),
    ("    fields: {front: a}\n", "cards/a.yaml:5:14", "has no field 'front'", "did you mean 'Front'?"),
    ("    fields: {Back: b}\n", "cards/a.yaml:5:13", "missing required field 'Front' of note type 'Anatomy Basic'",
     "the note type marks it required"),
    ("    fields: {Front: '', Back: b}\n", "cards/a.yaml:5:14", "'Front' is empty", None),
    ("    question: q\n    fields: {Front: a}\n", "cards/a.yaml:5:5", "a card of note type 'Anatomy Basic' has no "
     "'question'", "give its fields under 'fields:' (Front, Back, Notes)"),
    ("", "cards/a.yaml:3:5", "missing required key 'fields' (a card of note type 'Anatomy Basic')",
     "give its fields by name: fields: {Front: ...}"),
    ("    fields: [a]\n", "cards/a.yaml:5:13", "'fields' must be a mapping, not a list", None),
])
def test_card_mistakes_are_located(deck, card, where, message, hint):
    found = one(problems(deck, cards=CARD + card), message)
    assert found.startswith(f"{where}: error: ") and message in found.splitlines()[0]
    assert (f"hint: {hint}" in found) if hint else "hint:" not in found


def test_an_unknown_type_suggests_the_deck_s_own(deck):
    found = one(problems(deck, cards=CARD.replace("anatomy-basic", "anatomy-basc") + "    fields: {Front: a}\n"),
                "unknown card type")
    assert found.startswith("cards/a.yaml:4:11: error: unknown card type 'anatomy-basc'")
    assert "did you mean 'anatomy-basic'?" in found


def test_a_built_in_card_may_not_give_fields(deck):
    found = one(problems(deck, cards="subtopic: R\ncards:\n  - id: x\n    question: q\n    answer: a\n"
                         "    fields: {Front: a}\n"), "has no 'fields'")
    assert found.startswith("cards/a.yaml:6:5: error: a basic card has no 'fields'")


def test_a_card_whose_fields_make_no_card_is_an_error(deck):
    write(deck / "notetypes" / "anatomy-basic.yaml", TWO_TEMPLATES.replace('front: "{{Front}}"',
                                                                           'front: "{{#Notes}}{{Front}}{{/Notes}}"'))
    found = one(problems(deck, cards=CARD + "    fields: {Front: a, Back: b}\n"), "make no card")
    assert found.startswith("cards/a.yaml:3:5: error: this card's fields make no card of note type 'Anatomy Basic'")


def test_cloze_type_cards_need_deletions_in_the_cloze_field_only(deck):
    cards = "subtopic: R\ncards:\n  - id: x\n    type: Anatomy Cloze\n    fields: {Text: no deletion, Extra: b}\n"
    assert one(problems(deck, cards=cards), "no deletion").startswith("cards/a.yaml:5:20: error: cloze card has no")
    cards = ("subtopic: R\ncards:\n  - id: x\n    type: Anatomy Cloze\n"
             "    fields: {Text: '{{c1::a}}', Extra: '{{c2::b}}'}\n")
    assert one(problems(deck, cards=cards), "outside the cloze fields").startswith(
        "cards/a.yaml:5:40: error: deletion '{{c2::' outside the cloze fields")
    assert one(problems(deck, cards="subtopic: R\ncards:\n  - id: x\n    type: Anatomy Cloze\n"
                        "    fields: {Extra: b}\n"), "missing required field 'Text'")


@pytest.mark.parametrize("change, where, message, hint", [
    (lambda t: t.replace('back: "{{FrontSide}}<hr id=answer>{{Front}}"', 'back: "{{FrontSide}}{{Frnt}}"'),
     "notetypes/anatomy-basic.yaml:15:11", "the back of template 'Backward' uses {{Frnt}}, which is not a field of "
     "note type 'Anatomy Basic'", "did you mean 'Front'?"),
    (lambda t: t.replace('front: "{{Front}}"', 'front: "{{#Front}}x"'), "notetypes/anatomy-basic.yaml:11:12",
     "the front of template 'Forward' cannot be read: section {{#Front}} is never closed", None),
    (lambda t: t.replace('front: "{{Front}}"', 'front: "plain text"'), "notetypes/anatomy-basic.yaml:11:12",
     "the front of template 'Forward' uses no field", None),
    (lambda t: t.replace("  - Back\n", "  - Back\n  - back\n"), "notetypes/anatomy-basic.yaml:6:5",
     "duplicate field name 'back'", "Anki would rename this one 'back+'"),
    (lambda t: t.replace("name: Backward", "name: Forward"), "notetypes/anatomy-basic.yaml:13:11",
     "duplicate template name 'Forward'", None),
    (lambda t: t.replace("  - Back\n", "  - name: Back\n    id: 7\n").replace(
        "    sticky: true\n", "    sticky: true\n    id: 7\n"), "notetypes/anatomy-basic.yaml:9:9",
     "field 'Notes' has the id 7 of field 'Back'", None),
    (lambda t: t.replace("  - Back\n", "  - 'Back: x'\n").replace("sort_field: Back", ""), "notetypes/anatomy-basic.yaml:5:5",
     "field name 'Back: x' contains ':', which Anki removes", None),
    (lambda t: t.replace("name: Anatomy Basic", "name: Basic"), "notetypes/anatomy-basic.yaml:1:7",
     "note type name 'Basic' is the name of one of Anki's own note types", None),
    (lambda t: t.replace("name: Anatomy Basic", "name: reversed"), "notetypes/anatomy-basic.yaml:1:7",
     "note type name 'reversed' is the name of a built-in note type", None),
    (lambda t: t.replace("name: Anatomy Basic", "name: neurodeck Basic (anatomy-test)"),
     "notetypes/anatomy-basic.yaml:1:7", "is the name of a built-in note type", None),
    (lambda t: t.replace("name: Anatomy Basic", "name: Anatomy Cloze"), "notetypes/anatomy-cloze.yaml:1:7",
     "two note types are named 'Anatomy Cloze'", None),
    (lambda t: t.replace("kind: standard", "kind: standrd"), "notetypes/anatomy-basic.yaml:2:7",
     "unknown note type kind 'standrd'", "one of: standard, cloze, occlusion"),
    (lambda t: t.replace("kind: standard", "kind: cloze"), "notetypes/anatomy-basic.yaml:13:11",
     "a cloze note type has one template, not 2", None),
    (lambda t: t.replace("sort_field: Back", "sort_field: Bak"), "notetypes/anatomy-basic.yaml:17:13",
     "sort field 'Bak' is not a field of this note type", "one of: Front, Back, Notes"),
    (lambda t: t.replace("kind: standard", "kind: standard\nid: -3"), "notetypes/anatomy-basic.yaml:3:5",
     "'id' must be a whole number above 0, not '-3'", None),
    (lambda t: t.replace('front: "{{Front}}"', 'front: "{{cloze:Front}}"'), "notetypes/anatomy-basic.yaml:11:12",
     "the front of template 'Forward' uses {{cloze:Front}} on a standard note type, where it shows nothing",
     "declare the type with kind: cloze"),
    (lambda t: t.replace('front: "{{Front}}"', 'front: "{{furigana:Front}}{{edit:Front}}"'),
     "notetypes/anatomy-basic.yaml:11:12", "the front of template 'Forward' uses the filter 'edit', which Anki does "
     "not have", None),
    (lambda t: t.replace("kind: standard", "kind: standard\ncolour: red"), "notetypes/anatomy-basic.yaml:3:1",
     "unknown key 'colour' in a note type", None),
    (lambda t: t.replace("templates:\n", "templates: []\nx:\n"), "notetypes/anatomy-basic.yaml:9:12",
     "'templates' must be a non-empty list", None),
])
def test_declaration_mistakes_are_located(deck, change, where, message, hint):
    found = one(problems(deck, change(TWO_TEMPLATES)), message)
    severity = "warning" if "does not have" in message else "error"
    assert found.startswith(f"{where}: {severity}: ") and message in found.splitlines()[0], found
    if hint:
        assert f"hint: {hint}" in found


def test_a_cloze_kind_needs_the_cloze_filter_on_both_sides(deck):
    found = problems(deck, CLOZE.replace('back: "{{cloze:Text}}', 'back: "{{Text}}'), name="anatomy-cloze")
    assert one(found, "has no {{cloze:Field}}").startswith(
        "notetypes/anatomy-cloze.yaml:7:11: error: the back of a cloze note type's template has no {{cloze:Field}}")


def test_an_adopted_type_may_keep_a_stock_name(deck):
    assert one(problems(deck, TWO_TEMPLATES.replace("name: Anatomy Basic", "name: Basic")), "Anki's own note types")
    assert problems(deck, TWO_TEMPLATES.replace("name: Anatomy Basic", "name: Basic\nid: 1342697561419"),
                    CARDS.replace("type: Anatomy Basic", "type: Basic")) == []


def test_a_file_named_like_a_built_in_type_is_refused(deck):
    found = problems(deck, CLOZE.replace("Anatomy Cloze", "Other"), name="cloze")
    assert one(found, "file name 'cloze'").startswith(
        "notetypes/cloze.yaml:1:1: error: note type file name 'cloze' is the name of a built-in note type")


def test_the_same_explicit_id_twice_is_refused(deck):
    write(deck / "notetypes" / "anatomy-cloze.yaml", CLOZE.replace("kind: cloze", "kind: cloze\nid: 99"))
    found = problems(deck, TWO_TEMPLATES.replace("kind: standard", "kind: standard\nid: 99"))
    assert one(found, "has the id 99").startswith("notetypes/anatomy-cloze.yaml:3:5: error: note type 'Anatomy Cloze' "
                                                  "has the id 99 of 'Anatomy Basic' in notetypes/anatomy-basic.yaml")


def test_the_readme_example_builds_and_renders_in_anki(tmp_path, monkeypatch, collection):
    import re

    from conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Custom note types"):]
    notetype, cards = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)[:2]
    root = tmp_path / "readme"
    write(root / "decks" / "d.yaml", "name: Anatomy\nnamespace: readme-example\ncards: [cards/*.yaml]\n")
    write(root / "notetypes" / "anatomy-basic.yaml", notetype)
    write(root / "cards" / "insula.yaml", cards)
    monkeypatch.chdir(root)
    result = build(MANIFEST, root / "dist", now=1_700_000_000)
    assert result.ok, [p.format() for p in result.problems]
    assert len(import_package(collection, result.output).new) == 1
    sides = sorted((c.ord, c.question(), c.answer()) for c in map(collection.get_card, collection.find_cards("")))
    assert [s[0] for s in sides] == [0, 1]
    assert sides[0][1].endswith("Where is the insula?")
    assert sides[0][2].endswith('<p class=notes>Human, from MRI and dissection.</p>')
    assert "the depth of the <em>lateral sulcus</em>" in sides[1][1] and sides[1][2].endswith("insula")


def test_the_card_file_schema_accepts_custom_type_cards_as_the_validator_does(deck):
    from test_schema import schema_errors

    assert compile_deck(MANIFEST).ok
    assert schema_errors("card-file", CARDS) == []
    wrong = CARD + "    question: q\n    fields: {Front: a}\n"
    assert not compile_deck(MANIFEST).ok if problems(deck, cards=wrong) else False
    assert schema_errors("card-file", wrong) != []
    assert schema_errors("card-file", CARD) != []  # no fields
    assert schema_errors("card-file", "subtopic: R\ncards:\n  - id: x\n    question: q\n    answer: a\n"
                                      "    fields: {Front: a}\n") != []
    assert schema_errors("manifest", "name: X\nnamespace: x\ncards: [cards/*.yaml]\nnotetypes: [types/*.yaml]\n") == []


SPECIALS = """\
name: Specials
fields: [Term, Meaning]
templates:
  - name: Term first
    front: "<!-- a comment -->{{Term}} ({{Type}}, {{Card}}) {{#Tags}}[{{Tags}}]{{/Tags}}"
    back: "{{FrontSide}}<hr id=answer>{{Meaning}} {{text:Meaning}} in {{Deck}} / {{Subdeck}}{{^Meaning}}none{{/Meaning}}"
"""


def test_preview_renders_custom_type_cards_as_the_anki_engine_does(deck, collection):
    from neurodeck.commands.preview.page import preview_cards, preview_html
    from test_preview import _without_css

    write(deck / "notetypes" / "specials.yaml", SPECIALS)
    write(deck / "cards" / "b.yaml", "subtopic: Terms\ntags: [terms]\ncards:\n  - id: t\n    type: Specials\n"
          "    fields: {Term: Sulcus, Meaning: 'A *groove* & fold'}\n")
    result = build(MANIFEST, deck / "dist", now=1_700_000_000)
    assert result.ok, [p.format() for p in result.problems]
    import_package(collection, result.output)
    previews = {(c.note.guid, c.ord): c for c in preview_cards(result.compiled)}
    compared = 0
    for cid in collection.find_cards(""):
        card = collection.get_card(cid)
        shown = previews[(card.note().guid, card.ord)]
        assert shown.question == _without_css(card.question())
        assert shown.answer == _without_css(card.answer())
        compared += 1
    assert compared == len(previews) == 7
    page = preview_html(result.compiled)
    assert ".nt-specials {" in page and ".nt-anatomy-basic {\n.card { font-family: serif; }" in page
    assert 'class="pv-side nt-anatomy-basic"' in page and "Anatomy Basic: Backward" in page
    assert "Anatomy Cloze, c2" in page


def test_every_command_handles_custom_type_cards(deck):
    import json

    from click.testing import CliRunner

    from neurodeck.cli import main

    def run(*args: str, env: dict[str, str] | None = None):
        done = CliRunner().invoke(main, list(args), env=env)
        assert done.exception is None or isinstance(done.exception, SystemExit), done.output
        return done

    assert run("validate").exit_code == 0
    # Fixed build times: two builds in one second would give the edited note a mod one second in
    # the future (a note's mod never goes backwards), which verify's Check Database, run within
    # that second, clamps and reports.
    assert run("build", "--out", "v1", env={"SOURCE_DATE_EPOCH": "1700000000"}).exit_code == 0
    stats = json.loads(run("stats", "--json").output)
    deck_stats = stats["decks"][0]
    assert deck_stats["types"]["anatomy-basic"] == {"notes": 2, "cards": 3}
    assert deck_stats["types"]["anatomy-cloze"] == {"notes": 1, "cards": 2}
    assert deck_stats["with_source"] == 0  # the custom types have no Source field; the basic card none
    lint = run("lint")
    assert "has no source" in lint.output and lint.output.count("has no source") == 1  # only the basic card
    assert "unknown card type" not in lint.output
    assert run("preview", "--out", "pv").exit_code == 0
    page = next((deck / "pv").glob("*.html")).read_text()
    assert "Anatomy Basic: Forward" in page and "Where is the <em>insula</em>?" in page
    write(deck / "notetypes" / "anatomy-basic.yaml", TWO_TEMPLATES.replace("serif", "sans-serif"))
    write(deck / "cards" / "a.yaml", CARDS.replace("Deep in the lateral sulcus.", "Deep in the sylvian fissure."))
    assert run("build", "--out", "v2", env={"SOURCE_DATE_EPOCH": "1700000100"}).exit_code == 0
    diff = run("diff", "v1/anatomy.apkg", "v2/anatomy.apkg")
    assert diff.exit_code == 0 and "sylvian" in diff.output and "Anatomy Basic" in diff.output
    upgrade = run("check-upgrade", "v1/anatomy.apkg", "v2/anatomy.apkg")
    assert upgrade.exit_code == 0, upgrade.output
    verified = run("verify", "v2/anatomy.apkg")
    assert verified.exit_code == 0, verified.output


OCCLUSION = """\
name: Anatomy Occlusion
kind: occlusion
fields: [Occlusion, Image, Header, Back Extra, Comments]
templates:
  - name: Image Occlusion
    front: |
      {{#Header}}<div>{{Header}}</div>{{/Header}}
      <div style="display: none">{{cloze:Occlusion}}</div>
      <div id="err"></div>
      <div id="image-occlusion-container">{{Image}}<canvas id="image-occlusion-canvas"></canvas></div>
      <script>try { anki.imageOcclusion.setup(); } catch (exc) { document.getElementById("err").innerHTML = exc; }</script>
    back: |
      {{#Header}}<div>{{Header}}</div>{{/Header}}
      <div style="display: none">{{cloze:Occlusion}}</div>
      <div id="image-occlusion-container">{{Image}}<canvas id="image-occlusion-canvas"></canvas></div>
      <script>try { anki.imageOcclusion.setup(); } catch (exc) {}</script>
      {{#Back Extra}}<div>{{Back Extra}}</div>{{/Back Extra}}
"""


def test_an_occlusion_kind_is_anki_s_image_occlusion_note_type(deck, collection):
    from conftest import PNG

    write(deck / "notetypes" / "anatomy-occlusion.yaml", OCCLUSION)
    (deck / "cards" / "media").mkdir()
    (deck / "cards" / "media" / "brain.png").write_bytes(PNG)
    write(deck / "cards" / "b.yaml", "subtopic: Figures\ncards:\n  - id: insula-figure\n    type: anatomy-occlusion\n"
          "    fields:\n      Occlusion: '{{c1::image-occlusion:rect:left=.1:top=.1:width=.3:height=.2:oi=1}}"
          "{{c2::image-occlusion:ellipse:left=.5:top=.5:width=.2:height=.2:oi=1}}'\n"
          "      Image: '![](media/brain.png)'\n      Header: Name the shaded region\n")
    result = build(MANIFEST, deck / "dist", now=1_700_000_000)
    assert result.ok, [p.format() for p in result.problems]
    log = import_package(collection, result.output)
    assert not log.conflicting
    assert collection.fix_integrity() == ("Database rebuilt and optimized.", True)
    nt = collection.models.by_name("Anatomy Occlusion")
    assert nt["type"] == 1 and nt["originalStockKind"] == 6
    assert [(f["tag"], f["preventDeletion"]) for f in nt["flds"]] == [(0, True), (1, True), (2, True), (3, True),
                                                                        (4, False)]
    nid = collection.find_notes('"note:Anatomy Occlusion"')[0]
    assert len(collection.get_note(nid).cards()) == 2
    parsed = collection.get_image_occlusion_note(note_id=nid)
    shapes = parsed.note.occlusions
    assert sorted((o.ordinal, s.shape) for o in shapes for s in o.shapes) == [(1, "rect"), (2, "ellipse")]
    assert parsed.note.header == "Name the shaded region"


def test_an_occlusion_kind_needs_its_four_fields_and_the_occlusions_first(deck):
    found = problems(deck, OCCLUSION.replace("fields: [Occlusion, Image, Header, Back Extra, Comments]",
                                             "fields: [Occlusion, Image, Header]").replace(
        "{{#Back Extra}}<div>{{Back Extra}}</div>{{/Back Extra}}", ""), name="anatomy-occlusion")
    assert one(found, "needs at least 4 fields").startswith("notetypes/anatomy-occlusion.yaml:1:1: error: an occlusion")
    found = problems(deck, OCCLUSION.replace("[Occlusion, Image,", "[Image, Occlusion,"), name="anatomy-occlusion")
    assert one(found, "holds the occlusions").startswith("notetypes/anatomy-occlusion.yaml:3:10: error: the first field")


def test_a_note_type_edit_or_a_new_type_file_makes_the_deck_out_of_date(deck):
    from neurodeck.pipeline.stamps import up_to_date

    assert build(MANIFEST, deck / "dist", now=1_700_000_000).ok
    assert up_to_date(MANIFEST, deck / "dist") is not None
    write(deck / "notetypes" / "anatomy-basic.yaml", TWO_TEMPLATES.replace("serif", "monospace"))
    assert up_to_date(MANIFEST, deck / "dist") is None
    result = build(MANIFEST, deck / "dist", now=1_700_000_100)
    assert result.ok and "monospace" in json_models(result.output)["Anatomy Basic"]["css"]
    assert up_to_date(MANIFEST, deck / "dist") is not None
    write(deck / "notetypes" / "unused.yaml", CLOZE.replace("Anatomy Cloze", "Unused"))
    assert up_to_date(MANIFEST, deck / "dist") is None


def json_models(package: Path) -> dict:
    import json
    import sqlite3
    import tempfile
    import zipfile

    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(package) as zf:
        zf.extract("collection.anki2", tmp)
        conn = sqlite3.connect(Path(tmp) / "collection.anki2")
        models = json.loads(conn.execute("select models from col").fetchone()[0])
        conn.close()
    return {m["name"]: m for m in models.values()}


def test_many_files_of_custom_type_cards_render_alike_in_worker_processes(deck, collection):
    for i in range(20):
        write(deck / "cards" / f"f{i:02}.yaml", f"subtopic: Part {i}\ncards:\n  - id: c{i}\n    type: anatomy-basic\n"
              f"    fields: {{Front: 'Question {i}', Back: Answer, Notes: 'note {i}'}}\n")
    result = build(MANIFEST, deck / "dist", now=1_700_000_000)  # 21 files: parsed on every core
    assert result.ok, [p.format() for p in result.problems]
    import_package(collection, result.output)
    assert len(collection.find_cards('"note:Anatomy Basic"')) == 3 + 2 * 20
    again = build(MANIFEST, deck / "dist2", now=1_700_000_000)  # from the cache this time
    assert again.output.read_bytes() == result.output.read_bytes()
