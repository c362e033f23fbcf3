"""A released custom note type's schema is frozen by the lock; template text and CSS are not.
Checked with the official engine: what the error says students would get is what they get."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import import_package, study_all, write
from neurodeck.pipeline.build import build, compile_deck
from test_custom_notetypes import CARDS, CLOZE, TWO_TEMPLATES
from test_old_engine import student

MANIFEST = Path("decks/d.yaml")
V1, V2 = 1_700_000_000, 1_700_100_000
RELEASE = {"version": "1.0.0", "date": "2023-11-14"}


@pytest.fixture
def released(tmp_path, monkeypatch) -> Path:
    """A deck with two custom types, released as 1.0.0 (its package kept as v1.apkg)."""
    root = tmp_path / "p"
    write(root / "decks" / "d.yaml", "name: Anatomy\nnamespace: anatomy-test\ncards: [cards/*.yaml]\n")
    write(root / "notetypes" / "anatomy-basic.yaml", TWO_TEMPLATES)
    write(root / "notetypes" / "anatomy-cloze.yaml", CLOZE)
    write(root / "cards" / "a.yaml", CARDS)
    monkeypatch.chdir(root)
    result = build(MANIFEST, root / "dist", now=V1, release=RELEASE)
    assert result.ok, [p.format() for p in result.problems]
    (root / "v1.apkg").write_bytes(result.output.read_bytes())
    return root


def frozen(root: Path) -> dict:
    return {k: v.get("frozen") for k, v in json.loads((root / "decks" / "d.lock").read_text())["notetypes"].items()}


def test_a_release_records_the_schema_of_the_custom_types_it_ships(released):
    schemas = frozen(released)
    assert schemas["basic"] is None  # the built-in types are pinned in the code instead
    basic = compile_deck(MANIFEST).notetypes["anatomy-basic"]
    assert schemas["anatomy-basic"] == {
        "kind": "standard", "id": basic.id,
        "fields": [["Front", basic.field_specs[0].id], ["Back", basic.field_specs[1].id],
                   ["Notes", basic.field_specs[2].id]],
        "templates": [["Forward", basic.templates[0].id], ["Backward", basic.templates[1].id]]}
    assert schemas["anatomy-cloze"]["kind"] == "cloze"
    # a later build keeps the record, and a draft type (never released) has none
    write(released / "notetypes" / "draft.yaml", CLOZE.replace("Anatomy Cloze", "Draft Cloze"))
    write(released / "cards" / "b.yaml", "subtopic: Drafts\ncards:\n  - id: d\n    type: draft\n"
          "    fields: {Text: '{{c1::x}}'}\n")
    assert build(MANIFEST, released / "dist", now=V2).ok
    assert frozen(released)["anatomy-basic"] == schemas["anatomy-basic"] and frozen(released)["draft"] is None


def test_template_text_and_css_changes_update_students_in_place_with_reviews_kept(released, collection):
    assert len(import_package(collection, released / "v1.apkg").new) == 4
    assert study_all(collection) == 6
    reviews = collection.db.scalar("select count() from revlog")
    types_before = sorted(collection.models.all_names())
    write(released / "notetypes" / "anatomy-basic.yaml", TWO_TEMPLATES.replace(
        '"{{Front}}"', '"<h2>{{Front}}</h2>"').replace("font-family: serif;", "font-family: serif; color: navy;"))
    result = build(MANIFEST, released / "dist", now=V2)
    assert result.ok, [p.format() for p in result.problems]
    log = import_package(collection, result.output)
    assert not log.new and not log.conflicting and not log.updated
    assert sorted(collection.models.all_names()) == types_before  # no copy of any note type
    nt = collection.models.by_name("Anatomy Basic")
    assert "color: navy" in nt["css"] and nt["tmpls"][0]["qfmt"] == "<h2>{{Front}}</h2>"
    card = collection.get_card(collection.find_cards('"Front:Where is the <em>insula</em>?"')[0])
    assert "<h2>Where is the <em>insula</em>?</h2>" in card.question()
    assert collection.db.scalar("select count() from revlog") == reviews
    assert collection.db.scalar("select count() from cards where queue = 0") == 0  # nothing back to new


def test_a_field_renamed_under_its_released_id_is_refused_because_older_clients_copy_the_type(
        released, old_anki, monkeypatch):
    """Today's Anki matches fields by id and would rename in place; 2.1.66 matches by name."""
    back_id = frozen(released)["anatomy-basic"]["fields"][1][1]
    write(released / "notetypes" / "anatomy-basic.yaml", TWO_TEMPLATES.replace(
        "  - Back\n", f"  - name: Answer\n    id: {back_id}\n").replace("{{Back}}", "{{Answer}}").replace(
        "sort_field: Back", "sort_field: Answer"))
    write(released / "cards" / "a.yaml", CARDS.replace("Back:", "Answer:"))
    result = build(MANIFEST, released / "dist", now=V2)
    found = [p.format() for p in result.problems if "was released" in p.message]
    assert not result.ok and len(found) == 1, [p.format() for p in result.problems]
    assert found[0].startswith("notetypes/anatomy-basic.yaml:5:11: error: note type 'Anatomy Basic' was released, "
                               "and its field 'Back' was renamed 'Answer' (Anki before 23.10"), found

    # what the error says is what the oldest supported engine does without the check
    # (with one answer edited too, which the student should get)
    monkeypatch.setattr("neurodeck.pipeline.build.check_frozen", lambda declared, lock: [])
    write(released / "cards" / "a.yaml", CARDS.replace("Back:", "Answer:").replace(
        "Deep in the lateral sulcus.", "Deep in the sylvian fissure."))
    result = build(MANIFEST, released / "dist", now=V2)
    assert result.ok
    seen = student(old_anki, released / "v1.apkg", result.output)
    assert seen["engine"] == "2.1.66" and "Anatomy Basic+" in seen["types"]
    assert seen["imports"][1]["conflicting"] == 1 and seen["imports"][1]["updated"] == 0, seen["imports"]
    assert seen["notes"][""]["fields"][1] == "Deep in the lateral sulcus."  # the edit never arrives


SCHEMA_CHANGES = [
    ("a field 'Source' was added", lambda t: t.replace("  - Back\n", "  - Back\n  - Source\n"),
     "notetypes/anatomy-basic.yaml:6:5"),
    ("its field 'Notes' was removed", lambda t: t.replace(
        "  - name: Notes\n    sticky: true\n    description: Shown on the back when filled\n", "").replace(
        "{{#Notes}}<div class=notes>{{Notes}}</div>{{/Notes}}", "").replace(
        "{{#Notes}}{{Back}}{{/Notes}}", "{{Back}}"), "notetypes/anatomy-basic.yaml:1:7"),
    ("its field 'Back' was renamed 'Answer', which gives it a new id", lambda t: t.replace(
        "  - Back\n", "  - Answer\n").replace("{{Back}}", "{{Answer}}").replace("sort_field: Back", ""),
     "notetypes/anatomy-basic.yaml:5:5"),
    ("its fields were reordered", lambda t: t.replace("  - name: Front\n  - Back\n", "  - Back\n  - name: Front\n"),
     "notetypes/anatomy-basic.yaml:4:5"),
    ("a template 'Extra card' was added", lambda t: t.replace(
        "css:", "  - name: Extra card\n    front: '{{Notes}}'\n    back: '{{Front}}'\ncss:"),
     "notetypes/anatomy-basic.yaml:16:11"),
    ("its templates were reordered", lambda t: t.replace("name: Forward", "name: TMP").replace(
        "name: Backward", "name: Forward").replace("name: TMP", "name: Backward"), "notetypes/anatomy-basic.yaml:10:11"),
    ("its kind changed from standard to cloze", lambda t: t.replace("kind: standard", "kind: cloze").replace(
        '  - name: Backward\n    front: "{{#Notes}}{{Back}}{{/Notes}}"\n    back: "{{FrontSide}}<hr id=answer>{{Front}}"\n',
        "").replace('"{{Front}}"', '"{{cloze:Front}}"').replace('"{{FrontSide}}', '"{{cloze:Front}}'),
     "notetypes/anatomy-basic.yaml:2:7"),
    ("its id changed from", lambda t: t.replace("name: Anatomy Basic", "name: Anatomy Basics"),
     "notetypes/anatomy-basic.yaml:1:7"),
]


@pytest.mark.parametrize("what, change, where", SCHEMA_CHANGES, ids=[c[0][:30] for c in SCHEMA_CHANGES])
def test_a_schema_change_of_a_released_type_is_refused_before_anything_is_written(released, what, change, where):
    if "kind changed" in what:
        write(released / "cards" / "a.yaml", CARDS.replace(
            'fields: {Front: "Where is the *insula*?", Back: Deep in the lateral sulcus.}',
            'fields: {Front: "Where is the {{c1::insula}}?"}').replace(
            "Front: Which lobe covers the insula?", "Front: '{{c1::Which}} lobe covers the insula?'"))
    write(released / "notetypes" / "anatomy-basic.yaml", change(TWO_TEMPLATES))
    if "renamed" in what:
        write(released / "cards" / "a.yaml", CARDS.replace("Back:", "Answer:"))
    before = {p: p.read_bytes() for p in released.rglob("*") if p.is_file()}
    result = build(MANIFEST, released / "dist", now=V2)
    assert not result.ok
    found = [p.format() for p in result.problems if "was released" in p.message]
    assert len(found) == 1, [p.format() for p in result.problems]
    assert found[0].startswith(f"{where}: error: note type 'Anatomy Basic") and what in found[0]
    assert "get a copy of the note type" in found[0] and "conflicting" in found[0]
    assert "declare a new note type" in found[0]
    assert {p: p.read_bytes() for p in released.rglob("*") if p.is_file()} == before


def test_what_the_error_says_is_what_anki_does_without_the_check(released, collection, monkeypatch):
    """Bypass the check: Anki copies the note type and reports the notes as conflicting, for ever."""
    import_package(collection, released / "v1.apkg")
    study_all(collection)
    monkeypatch.setattr("neurodeck.pipeline.build.check_frozen", lambda declared, lock: [])
    write(released / "notetypes" / "anatomy-basic.yaml", TWO_TEMPLATES.replace("  - Back\n", "  - Back\n  - Source\n"))
    write(released / "cards" / "a.yaml", CARDS.replace("Deep in the lateral sulcus.", "Deep in the sylvian fissure."))
    result = build(MANIFEST, released / "dist", now=V2)
    assert result.ok
    log = import_package(collection, result.output)
    assert len(log.conflicting) == 2 and not log.updated
    assert "Anatomy Basic+" in collection.models.all_names()
    assert not collection.find_notes('"Back:*sylvian*"')  # the edit never reaches the student


def test_a_released_type_s_record_survives_an_unused_build_and_still_guards(released):
    write(released / "cards" / "a.yaml", "subtopic: R\ncards:\n  - id: only\n    question: q\n    answer: a\n")
    result = build(MANIFEST, released / "dist", now=V2)
    assert result.ok  # the released cards are gone (a warning), the type unused
    assert frozen(released)["anatomy-basic"] is not None
    write(released / "notetypes" / "anatomy-basic.yaml", TWO_TEMPLATES.replace("  - Back\n", "  - Back\n  - X\n"))
    assert any("was released" in p.message for p in compile_deck(MANIFEST).problems)


def test_a_lock_with_a_damaged_frozen_record_is_a_located_problem(released):
    lock = released / "decks" / "d.lock"
    data = json.loads(lock.read_text())
    data["notetypes"]["anatomy-basic"]["frozen"]["fields"] = "Front"
    lock.write_text(json.dumps(data))
    found = [p.format() for p in compile_deck(MANIFEST).problems]
    assert any(p.startswith("decks/d.lock: error: lock file has an unexpected structure") for p in found), found
