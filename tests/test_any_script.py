"""Names in any script: subtopics, deck names, tags and `neurodeck new` accept letters of every
script, slugs keep them, and one rule (checks/names.py) says what each name may hold."""
from __future__ import annotations

import json
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neurodeck as nd
from conftest import REPO, import_package
from neurodeck.checks.names import ascii_slug, name_problem, slug
from neurodeck.cli import main
from neurodeck.model import SLUG_PATTERN, TAG_PATTERN


def old_slug(text: str) -> str:
    """The ASCII-only slug every existing deck was built with."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def test_every_bundled_subtopic_keeps_its_slug():
    subtopics = [yaml.safe_load(p.read_text("utf-8"))["subtopic"] for p in sorted((REPO / "cards").glob("*.yaml"))]
    assert subtopics and all(slug(s) == old_slug(s) for s in subtopics)
    names = [yaml.safe_load(p.read_text("utf-8"))["name"] for p in sorted((REPO / "decks").glob("*.yaml"))]
    assert names and all(slug(n) == old_slug(n) == ascii_slug(n) for n in names)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text(st.characters(max_codepoint=127), max_size=30))
def test_ascii_text_slugs_as_before(text):
    assert slug(text) == old_slug(text) == ascii_slug(text)


@pytest.mark.parametrize(("name", "expected"), [
    ("Émotions", "émotions"), ("神経科学", "神経科学"), ("Нейроны мозга", "нейроны-мозга"),
    ("Νευρώνες", "νευρώνες"), ("विज्ञान", "विज्ञान"), ("E\u0301motions", "émotions")])
def test_slugs_keep_letters_of_any_script(name, expected):
    assert slug(name) == expected


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=20))
def test_slug_keeps_every_letter_and_digit_and_nothing_else(text):
    result = slug(text)
    assert result == slug(result) == slug(unicodedata.normalize("NFD", text))
    assert unicodedata.normalize("NFC", result) == result
    assert not result.startswith("-") and not result.endswith("-") and "--" not in result
    assert all(ch == "-" or unicodedata.category(ch)[0] in "LMN" for ch in result)
    lowered = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).lower())
    assert [c for c in lowered if unicodedata.category(c)[0] in "LMN"] == [c for c in result if c != "-"]
    ascii_form = ascii_slug(text)
    assert ascii_form == "" or re.fullmatch(SLUG_PATTERN, ascii_form)
    assert ascii_form == ascii_slug(text) and bool(ascii_form) == bool(result)


@pytest.mark.parametrize(("value", "kind", "message"), [
    ("a::b", "subtopic", "subtopic 'a::b' contains '::'"),
    ("Root::Sub", "deck name", "deck name 'Root::Sub' contains '::'"),
    ("— · —", "subtopic", "has no letter or digit"),
    ("a\x01b", "tag", "invisible character U+0001"),
    ("a\x9bb", "deck name", "invisible character U+009B"),
    ("a/b", "tag", "'/' (solidus) is not a letter, digit, '-' or '_'"),
    ("a::::b", "tag", "has an empty part"),
    ("bad tag", "tag", "tag 'bad tag' is not a valid tag"),
])
def test_the_rule_says_what_is_wrong(value, kind, message):
    wrong = name_problem(value, kind)
    assert wrong is not None and message in wrong[0] and wrong[1]


@pytest.mark.parametrize("name", ["Нейроны", "Νευρώνες", "神経科学", "Émotions", "विज्ञान", "علم_الأعصاب"])
def test_names_in_any_script_are_accepted_everywhere(name):
    tag = name.replace(" ", "-")
    assert name_problem(name, "subtopic") is None and name_problem(name, "deck name") is None
    assert name_problem(tag, "tag") is None and re.fullmatch(TAG_PATTERN, tag)


def test_new_accepts_any_script_and_the_file_is_valid(project):
    result = CliRunner().invoke(main, ["new", "神経科学", "--manifest", "decks/test-deck.yaml"])
    assert result.exit_code == 0, result.output
    created = project / "cards" / "神経科学.yaml"
    assert created.exists() and "subtopic: \"神経科学\"" in created.read_text("utf-8")
    assert CliRunner().invoke(main, ["new", "Émotions"]).exit_code == 0
    assert (project / "cards" / "émotions.yaml").exists()
    compiled = nd.validate("decks/test-deck.yaml")
    assert compiled.ok, [p.format() for p in compiled.problems]
    assert {n.subtopic for n in compiled.notes} >= {"神経科学", "Émotions"}
    assert any("td::神経科学" in n.tags for n in compiled.notes)


def test_a_subtopic_with_two_levels_is_refused_with_the_reason(project):
    (project / "cards" / "b.yaml").write_text(
        (project / "cards" / "b.yaml").read_text().replace("subtopic: Neuropeptides", "subtopic: Нейро::пептиды"))
    problems = [p.format() for p in nd.validate("decks/test-deck.yaml").problems]
    assert any(p.startswith("cards/b.yaml:1:11: error: subtopic 'Нейро::пептиды' contains '::'") for p in problems)
    assert not any("no '::'" in p for p in problems)


# ---- generated names, built and imported by the official engine -----------------------------

SCRIPTS = st.sampled_from(["Latin", "Cyrillic", "Greek", "Han", "Hiragana", "Devanagari", "Arabic", "Hebrew"])
LETTERS = {"Latin": "aeéøßÅĳ", "Cyrillic": "абвгдёжЯ", "Greek": "αβγδΣςώ", "Han": "神経科学脳", "Hiragana": "のうかがく",
           "Devanagari": "विज्ञानक", "Arabic": "علمالأعصاب", "Hebrew": "מדעהמוח"}
name_text = st.builds(
    lambda parts: "".join(parts),
    st.lists(st.one_of(*[SCRIPTS.flatmap(lambda s: st.sampled_from(LETTERS[s]))] * 4,
                       st.sampled_from([" ", "-", "_", "1", "::", "/", "·", "\x07", "'"])), min_size=1, max_size=10))


@settings(max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(deck=name_text, subtopic=name_text, tag=name_text)
def test_generated_names_build_and_import_intact_or_are_refused_with_the_reason(deck, subtopic, tag):
    assert_builds_and_imports_or_is_refused(deck, subtopic, tag)


def test_names_in_three_scripts_reach_anki_intact():
    assert assert_builds_and_imports_or_is_refused("神経科学", "Нейроны мозга", "νευρώνες::ニューロン")


def assert_builds_and_imports_or_is_refused(deck: str, subtopic: str, tag: str) -> bool:
    """True when the deck was built and imported with its names intact."""
    from anki.collection import Collection

    root = Path(tempfile.mkdtemp(prefix="nd-script-"))
    try:
        (root / "decks").mkdir()
        (root / "cards").mkdir()
        (root / "decks" / "d.yaml").write_text(
            f"name: {json.dumps(deck)}\nnamespace: script-test\ncards: [cards/*.yaml]\noutput: d.apkg\n", "utf-8")
        (root / "cards" / "c.yaml").write_text(
            f"subtopic: {json.dumps(subtopic)}\ncards:\n  - id: c1\n    question: Q\n    answer: A\n"
            f"    tags: [{json.dumps(tag)}]\n", "utf-8")
        built = nd.build(root / "decks" / "d.yaml", root / "dist")
        # what the shared rule refuses, with its reason (a blank value is "empty" to the reader)
        refusals = {value: ("is empty" if not value.strip() else wrong[0])
                    for value, kind in ((deck, "deck name"), (subtopic, "subtopic"), (tag, "tag"))
                    for wrong in [name_problem(value, kind)] if wrong is not None}
        errors = [p for p in built.problems if p.severity == "error"]
        shown = [p.format() for p in errors]
        if not built.ok:
            assert errors and all(p.location.line >= 1 and p.location.column >= 1 for p in errors), shown
            # the first refused name (the manifest is read first) is reported with its reason;
            # a name the rule allows is refused only for how Anki would store it
            assert not refusals or any(next(iter(refusals.values())) in p.message for p in errors), (refusals, shown)
            assert all(p.message for p in errors)
            if not refusals:
                assert all("Anki would" in p.message for p in errors), shown
            return False
        assert not refusals
        col = Collection(str(root / "collection.anki2"))
        try:
            import_package(col, built.output)
            note = col.get_note(col.find_notes("")[0])
            card = note.cards()[0]
            assert col.decks.name(card.did) == f"{deck}::{subtopic}"
            root_tag = slug(deck)
            assert set(note.tags) == {f"{root_tag}::{tag}", f"{root_tag}::{slug(subtopic)}"}
        finally:
            col.close()
        return True
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_the_schema_accepts_tags_in_any_script_and_refuses_what_the_rule_refuses():
    import jsonschema

    from neurodeck.commands.schema import SCHEMAS

    validator = jsonschema.Draft202012Validator(SCHEMAS["card-file"]())

    def errors(tag: str) -> list[str]:
        card_file = {"subtopic": "Нейроны", "tags": [tag], "cards": [{"id": "a", "question": "Q", "answer": "A"}]}
        return [e.message for e in validator.iter_errors(card_file)]

    for tag in ["нейроны", "神経::科学", "Émotions", "a-b_c"]:
        assert errors(tag) == [] and name_problem(tag, "tag") is None
    for tag in ["a b", "a/b", "a::", "a.b", "x:y"]:
        assert errors(tag) and name_problem(tag, "tag") is not None
