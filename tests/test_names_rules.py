"""Rule 3: subtopics, deck names and tags as Anki stores them (rslib/src/decks/name.rs,
rslib/src/tags/register.rs), and the tag reserved for retired cards."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import write
from neurodeck.checks.names import anki_deck_component, folded
from neurodeck.pipeline.build import compile_deck

MANIFEST = Path("decks/test-deck.yaml")


def errors(project: Path) -> list[str]:
    return [p.format() for p in compile_deck(MANIFEST).problems if p.severity == "error"]


def card_file(project: Path, name: str, subtopic: str, tags: str = "[]", retired: bool = False) -> None:
    write(project / "cards" / f"{name}.yaml",
          f'subtopic: "{subtopic}"\ncards:\n  - id: {name}-card\n    question: Q?\n    answer: A.\n'
          f"    tags: {tags}\n" + ("    retired: true\n" if retired else ""))


@pytest.mark.parametrize("tags", ["[retired]", "[Retired]", "[topic::retired]", "[RETIRED, other]"])
def test_a_live_card_never_carries_the_retired_tag(project, tags):
    """Before: `tags: [retired]` on a live card added `<root>::retired`, which students delete."""
    card_file(project, "c", "Clean", tags)
    found = errors(project)
    assert len(found) == 1 and "cards/c.yaml:6:" in found[0] and "reserved for retired cards" in found[0], found


def test_a_file_tag_retired_is_reserved_when_the_file_has_a_live_card(project):
    write(project / "cards" / "c.yaml", "subtopic: C\ntags: [retired]\ncards:\n  - id: c\n    question: Q?\n"
                                        "    answer: A.\n")
    assert any("cards/c.yaml:2:" in e and "reserved" in e for e in errors(project))


def test_a_retired_card_may_say_so(project):
    card_file(project, "c", "Clean", "[retired]", retired=True)
    write(project / "cards" / "c.yaml", (project / "cards" / "c.yaml").read_text() + "    why: Wrong.\n")
    assert errors(project) == []


def test_a_subtopic_whose_tag_is_the_retired_tag_is_refused(project):
    """Before: subtopic 'Retired' tagged each of its live cards `<root>::retired` (its subtopic tag)."""
    card_file(project, "c", "Retired")
    found = errors(project)
    assert len(found) == 1 and "cards/c.yaml:1:" in found[0] and "reserved for retired cards" in found[0], found


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(cases=st.lists(st.booleans(), min_size=7, max_size=7), before=st.sampled_from(["", "!", "(", "\u2014 ", "_"]),
       after=st.sampled_from(["", "?", ")", " \u2713", "."]))
def test_no_subtopic_tag_is_the_retired_tag(cases, before, after):
    from neurodeck.checks.names import check_subtopic, slug
    from neurodeck.model import RETIRED_TAG, Location, Text

    subtopic = before + "".join(c.upper() if up else c for c, up in zip("retired", cases)) + after
    assert folded(slug(subtopic)) == RETIRED_TAG
    found = check_subtopic(Text(subtopic, Location("cards/c.yaml", 1, 11)))
    assert any("reserved for retired cards" in p.message for p in found), (subtopic, found)


@pytest.mark.parametrize("subtopic", [" Mirror", "Mirror ", "Mirror:", ":Mirror", "Mir\\x01ror", "Mirror\\u00a0",
                                      "Cafe\\u0301"])
def test_subtopics_anki_would_rename_are_errors(project, subtopic):
    card_file(project, "c", subtopic)
    found = errors(project)
    assert len(found) == 1 and "cards/c.yaml:1:" in found[0] and "Anki would name" in found[0], found


@pytest.mark.parametrize("first, second", [("Hormones", "hormones"), ("Straße", "STRASSE"), ("Hormones", "HORMONES"),
                                           ("Hormone Levels", "Hormone-Levels")])
def test_subtopics_anki_would_merge_name_both_places(project, first, second):
    card_file(project, "c", first)
    card_file(project, "d", second)
    found = [e for e in errors(project) if "subtopic" in e]
    assert len(found) == 1 and "cards/c.yaml:" in found[0] and "cards/d.yaml:" in found[0], found


def test_tags_that_differ_only_in_case_name_both_places(project):
    card_file(project, "c", "C", "[Motor-System]")
    found = [e for e in errors(project) if "only in case" in e]
    assert len(found) == 1 and "'td::Motor-System'" in found[0] and "cards/a.yaml:" in found[0], found


def test_deck_names_anki_would_rename_are_errors(project):
    manifest = project / "decks" / "test-deck.yaml"
    manifest.write_text(manifest.read_text().replace("name: Test Deck", 'name: "Test Deck:"'))
    assert any("Anki would name the deck 'Test Deck'" in e for e in errors(project))


# ---- the normalisation, pinned against the engine ------------------------------------------------

component = st.text(st.characters(exclude_categories=("Cs",)), max_size=6) | st.sampled_from(
    [" a", "a ", ":a", "a:", "\x01", "\u3000", "\u00a0", "e\u0301", "\u212b", ""])


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    from anki.collection import Collection

    col = Collection(str(tmp_path_factory.mktemp("names") / "collection.anki2"))
    yield col
    col.close()


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(part=component)
def test_deck_name_normalisation_is_ankis(engine, part):
    if "::" in part or "\x1f" in part:
        return  # a separator, not part of a component
    deck_id = engine.decks.id(f"Root::{part}")
    try:
        assert engine.decks.name(deck_id) == f"Root::{anki_deck_component(part)}"
    finally:
        engine.decks.remove([deck_id])


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(a=st.sampled_from(["Ab", "ß", "Σ", "ǅ", "ﬁ", "I", "İ", "K"]), b=st.sampled_from(["aB", "SS", "σ", "ǆ", "FI", "ı", "i", "k"]))
def test_names_anki_merges_are_the_names_folded_alike(engine, a, b):
    first = engine.decks.id(f"Fold::{a}")
    second = engine.decks.id(f"Fold::{b}")
    try:
        assert (first == second) == (folded(a) == folded(b)), (a, b)
    finally:
        engine.decks.remove(list({first, second}))


_spelling = st.text(st.sampled_from("aAßsSıIé É:"), min_size=1, max_size=4)


@settings(max_examples=300, deadline=None)
@given(cards=st.lists(st.tuples(_spelling, st.lists(st.lists(_spelling, min_size=1, max_size=3).map("::".join),
                                                    max_size=3)), min_size=1, max_size=8))
def test_merged_names_are_found_whether_or_not_the_quick_check_runs(cards):
    """check_merged_names first looks at each spelling once (a large deck repeats a few); it
    reports exactly what checking note by note reports."""
    from neurodeck.checks import names
    from neurodeck.model import Location, Note

    notes = [Note(f"c{i}", Location("x.yaml", i, 1), "basic", Location("x.yaml", i, 1), subtopic, ("q", "a"),
                  tuple(tags), f"D::{subtopic}", (0,), (), f"g{i}", "q", 0, "h") for i, (subtopic, tags) in enumerate(cards)]
    quick = names.check_merged_names(notes)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(names, "_any_merged", lambda subtopics, tags: True)
        assert quick == names.check_merged_names(notes)
