"""Round trips through the official `anki` library: what students actually get."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from conftest import import_package, study_all
from neurodeck.apkg import notetypes
from neurodeck.apkg.occlusion_type import occlusion_id
from neurodeck.lockfile import note_guid
from neurodeck.pipeline.build import build

MANIFEST = Path("decks/test-deck.yaml")
T0 = 1_700_000_000


def build_ok(out: Path, now: int):
    result = build(MANIFEST, out, now=now)
    assert result.ok, [p.format() for p in result.problems]
    return result.output


def note_by_id(col, card_id: str):
    ids = col.find_notes(f'"Id:{card_id}"')
    assert len(ids) == 1, (card_id, ids)
    return col.get_note(ids[0])


def test_import_gives_decks_tags_fields_media_and_cards(project, collection, tmp_path):
    log = import_package(collection, build_ok(tmp_path / "out", T0))
    assert len(log.new) == 5 and not log.conflicting and not log.updated

    names = {d.name for d in collection.decks.all_names_and_ids()}
    assert {"Test Deck", "Test Deck::Mirror Neurons", "Test Deck::Neuropeptides"} <= names
    assert "A <em>small</em> deck" in collection.decks.by_name("Test Deck")["desc"]

    # cards per type: basic 1, cloze one per deletion (2), reversed 2, type-in 1, basic with image 1
    kind_of = {nt.id: kind for kind, nt in notetypes.note_types("test-deck").items()}
    kinds = Counter(kind_of[collection.get_card(c).note_type()["id"]] for c in collection.find_cards(""))
    assert kinds == {"basic": 2, "cloze": 2, "reversed": 2, "type-in": 1}
    assert collection.card_count() == 7

    note = note_by_id(collection, "mn-discovery")
    assert note["Answer"] == "In area <strong>F5</strong> of the macaque ventral premotor cortex."
    assert note["Source"] == "di Pellegrino et al. 1992, Exp Brain Res 91:176"
    assert sorted(note.tags) == ["td::macaque", "td::mirror-neurons", "td::motor-system"]
    assert note.guid == note_guid("test-deck", "mn-discovery")
    card = note.cards()[0]
    assert collection.decks.name(card.did) == "Test Deck::Mirror Neurons"
    assert "Where were mirror neurons first recorded?" in card.question()
    answer = card.answer()
    assert "<strong>F5</strong>" in answer and "Single-unit recordings." in answer
    assert "di Pellegrino" in answer and "mn-discovery" in answer

    cloze = note_by_id(collection, "mn-f5-cloze")
    c1, c2 = sorted(cloze.cards(), key=lambda c: c.ord)
    assert "[a premotor area]" in c1.question() and "macaque" in c1.question()
    assert ">F5<" in c1.answer()
    assert "[...]" in c2.question() and "F5" in c2.question()

    reversed_note = note_by_id(collection, "mn-term")
    forward, backward = sorted(reversed_note.cards(), key=lambda c: c.ord)
    assert "Mirror neuron" in forward.question() and "fires both" not in forward.question()
    assert "fires both" in backward.question() and "Mirror neuron" in backward.answer()

    typed = note_by_id(collection, "ot-site").cards()[0]
    assert "[[type:Answer]]" in typed.question()  # the reviewer swaps this for the input box

    image_note = note_by_id(collection, "ot-image")
    assert image_note["Answer"] == "no" and image_note["Source"] == "3.10"
    assert "\\(x_1 &lt; y\\)" in image_note["Extra"]
    media_dir = Path(collection.media.dir())
    [stored] = [p.name for p in media_dir.iterdir()]
    assert stored.startswith("insula-") and stored.endswith(".png")
    assert f'src="{stored}"' in image_note["Question"]
    check = collection.media.check()
    assert not check.missing and not check.unused


def test_upgrade_updates_exactly_the_edited_card_and_keeps_history(project, collection, tmp_path):
    import_package(collection, build_ok(tmp_path / "v1", T0))
    assert study_all(collection) == 7
    history = {cid: collection.db.scalar("select count() from revlog where cid = ?", cid)
               for cid in collection.find_cards("")}
    assert set(history.values()) == {1}
    models_before = {m["id"] for m in collection.models.all()}

    cards_a = project / "cards" / "a.yaml"
    cards_a.write_text(cards_a.read_text().replace("Single-unit recordings.", "Single-unit recordings in 1992.")
                       + "  - id: mn-new\n    question: Who named mirror neurons?\n    answer: Rizzolatti's group.\n")
    log = import_package(collection, build_ok(tmp_path / "v2", T0 + 100))
    assert (len(log.updated), len(log.new), len(log.conflicting)) == (1, 1, 0)
    assert log.updated[0].fields[0] == "Where were mirror neurons first recorded?"
    assert {m["id"] for m in collection.models.all()} == models_before  # no forked note type
    assert note_by_id(collection, "mn-discovery")["Extra"] == "Single-unit recordings in 1992."
    for cid, count in history.items():  # every old card and its review survived
        assert collection.db.scalar("select count() from revlog where cid = ?", cid) == count
        assert collection.get_card(cid).reps == 1
    assert collection.card_count() == 8


def test_rebuild_without_edits_updates_nothing(project, collection, tmp_path):
    import_package(collection, build_ok(tmp_path / "v1", T0))
    log = import_package(collection, build_ok(tmp_path / "v2", T0 + 500))
    assert not log.updated and not log.new and not log.conflicting
    assert len(log.duplicate) == 5


def test_students_edit_to_untouched_card_survives(project, collection, tmp_path):
    import_package(collection, build_ok(tmp_path / "v1", T0))
    mine = note_by_id(collection, "mn-term")
    mine["Answer"] = "My own wording."
    collection.update_note(mine)

    cards_b = project / "cards" / "b.yaml"
    cards_b.write_text(cards_b.read_text().replace("Supraoptic nucleus", "Supraoptic nucleus (SON)"))
    log = import_package(collection, build_ok(tmp_path / "v2", T0 + 100))
    assert [n.fields[0] for n in log.updated] == [note_by_id(collection, "ot-site")["Question"]]
    assert note_by_id(collection, "mn-term")["Answer"] == "My own wording."
    assert note_by_id(collection, "ot-site")["Answer"] == "Supraoptic nucleus (SON)"


def test_css_change_updates_note_type_in_place(project, collection, tmp_path, monkeypatch):
    import_package(collection, build_ok(tmp_path / "v1", T0))
    before = {m["id"]: m["name"] for m in collection.models.all()}
    monkeypatch.setattr(notetypes, "CSS", notetypes.CSS + "\n.nd-answer { color: teal; }\n")
    log = import_package(collection, build_ok(tmp_path / "v2", T0 + 100))
    assert not log.conflicting and not log.updated
    after = {m["id"]: m for m in collection.models.all()}
    assert set(after) == set(before)
    ours = [m for m in after.values() if m["name"].startswith("neurodeck")]
    assert ours and all("color: teal" in m["css"] for m in ours)


def test_bundled_deck_imports_with_expected_counts(bundled, collection, tmp_path):
    from neurodeck.pipeline.build import compile_deck

    compiled = compile_deck(Path("decks/neurobiology-of-intimacy.yaml"))
    assert compiled.ok, [p.format() for p in compiled.problems]
    result = build(Path("decks/neurobiology-of-intimacy.yaml"), tmp_path / "out", locked=True)
    assert result.ok, [p.format() for p in result.problems]
    log = import_package(collection, result.output)
    assert not log.conflicting and len(log.new) == len(compiled.notes) >= 150

    per_deck = Counter(collection.decks.name(collection.get_card(c).did).split("::")[1]
                       for c in collection.find_cards(""))
    expected_cards = Counter()
    for note in compiled.notes:
        expected_cards[note.subtopic] += len(note.ords)
    assert per_deck == expected_cards
    assert set(per_deck) == {"Brain Regions", "Neuropeptides", "Mirror Neurons", "Social Connection", "Pair Bonding"}

    notes_per_subtopic = Counter(n.subtopic for n in compiled.notes)
    assert min(notes_per_subtopic.values()) >= 25
    kind_of = {nt.id: kind for kind, nt in notetypes.note_types("neurodeck-intimacy").items()}
    kind_of[occlusion_id("neurodeck-intimacy")] = "occlusion"  # the brain figures' occlusion notes
    per_type = Counter(kind_of[collection.get_note(n).note_type()["id"]] for n in collection.find_notes(""))
    assert per_type == Counter(n.type for n in compiled.notes)
    assert set(per_type) == {"basic", "reversed", "cloze", "type-in", "occlusion"}
    for nid in collection.find_notes(""):
        note = collection.get_note(nid)
        assert note["Source"].strip(), note["Id"]


def test_integrity_check_is_clean(project, collection, tmp_path):
    import_package(collection, build_ok(tmp_path / "out", T0))
    message, ok = collection.fix_integrity()
    assert ok
    assert "Database rebuilt and optimized" in message
    assert message.count("\n") == 0, message


def test_readme_table_matches_the_bundled_deck(bundled):
    from conftest import REPO
    from neurodeck.pipeline.build import compile_deck

    compiled = compile_deck(Path("decks/neurobiology-of-intimacy.yaml"))
    rows = {}
    for line in (REPO / "README.md").read_text().splitlines():
        cells = [c.strip().strip("*") for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[1].isdigit():
            rows[cells[0]] = [int(c) for c in cells[1:]]
    expected = {}
    for note in compiled.notes:
        row = expected.setdefault(note.subtopic, [0] * 7)
        row[0] += 1
        row[1 + ["basic", "reversed", "cloze", "type-in", "occlusion"].index(note.type)] += 1
        row[6] += len(note.ords)
    expected["Total"] = [sum(r[i] for r in expected.values()) for i in range(7)]
    assert rows == expected


def test_retiring_a_card_updates_it_in_place_with_a_notice(project, collection, tmp_path):
    import_package(collection, build_ok(tmp_path / "v1", T0))
    cards_a = project / "cards" / "a.yaml"
    cards_a.write_text(cards_a.read_text().replace(
        "  - id: mn-term\n    type: reversed\n",
        "  - id: mn-term\n    type: reversed\n    retired: true\n    why: Merged into mn-discovery.\n"))
    log = import_package(collection, build_ok(tmp_path / "v2", T0 + 100))
    assert len(log.updated) == 1 and not log.new and not log.conflicting
    note = note_by_id(collection, "mn-term")
    assert "This card has been retired." in note["Answer"] and "Merged into mn-discovery." in note["Answer"]
    assert "td::retired" in note.tags
    assert collection.find_notes("tag:td::retired") == [note.id]
