"""Every validation rule, with its message, line and column. Library only, no Click."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import write
from neurodeck.pipeline.build import build, compile_deck
from neurodeck.source.cards import load_card_file

MANIFEST = Path("decks/test-deck.yaml")


def problems_for(project: Path, cards_yaml: str, name: str = "a.yaml") -> list[str]:
    write(project / "cards" / name, cards_yaml)
    return [p.format() for p in compile_deck(MANIFEST).problems]


def one(problems: list[str], fragment: str) -> str:
    found = [p for p in problems if fragment in p]
    assert len(found) == 1, (fragment, problems)
    return found[0]


def test_the_fixture_project_is_valid(project):
    assert compile_deck(MANIFEST).problems == []


def test_yaml_syntax_error_has_location_and_hint(project):
    problems = problems_for(project, "subtopic: X\ncards:\n  - id: a\n    question: What is: this?\n    answer: b\n")
    assert one(problems, "YAML syntax error").startswith("cards/a.yaml:4:")
    assert "hint: put text containing ': ' in double quotes" in one(problems, "YAML syntax error")


def test_tabs_get_a_hint(project):
    problems = problems_for(project, "subtopic: X\ncards:\n\t- id: a\n")
    assert "indent with spaces" in one(problems, "YAML syntax error")


def test_duplicate_key_is_rejected(project):
    problems = problems_for(project, "subtopic: X\ncards:\n  - id: a\n    question: Q?\n    answer: one\n    answer: two\n")
    assert one(problems, "duplicate key 'answer'") == (
        "cards/a.yaml:6:5: error: duplicate key 'answer' (first at line 5)\n"
        "  hint: YAML would silently keep only the last one; remove or rename one of them")


def test_unknown_key_suggests_the_right_one(project):
    problems = problems_for(project, "subtopic: X\ncards:\n  - id: a\n    question: Q?\n    anwser: b\n")
    assert one(problems, "unknown key 'anwser'") == (
        "cards/a.yaml:5:5: error: unknown key 'anwser' in a card\n  hint: did you mean 'answer'?")
    assert one(problems, "missing required key 'answer'").startswith("cards/a.yaml:3:5:")


def test_empty_required_field(project):
    problems = problems_for(project, "subtopic: X\ncards:\n  - id: a\n    question: Q?\n    answer:\n")
    assert one(problems, "'answer' is empty").startswith("cards/a.yaml:5:5:")


def test_wrong_types(project):
    problems = problems_for(project, "subtopic: X\ntags: motor\ncards:\n  - id: a\n    question: [1, 2]\n    answer: b\n")
    assert one(problems, "'question' must be text, not a list").startswith("cards/a.yaml:5:15:")
    assert "hint: write it as a list: tags: [motor]" in one(problems, "'tags' must be a list, not text")


def test_python_tags_are_never_constructed(project):
    problems = problems_for(project, "subtopic: X\ncards:\n  - id: a\n"
                                     "    question: !!python/object/apply:os.system [\"touch /tmp/pwned\"]\n"
                                     "    answer: b\n")
    assert one(problems, "YAML tag !!python/object/apply:os.system is not allowed").startswith("cards/a.yaml:4:15:")
    assert not Path("/tmp/pwned").exists()


def test_duplicate_ids_across_files_name_both_places(project):
    write(project / "cards" / "c.yaml", "subtopic: Y\ncards:\n  - id: mn-discovery\n    question: Q?\n    answer: A\n")
    problems = [p.format() for p in compile_deck(MANIFEST).problems]
    assert one(problems, "duplicate card id") == (
        "cards/c.yaml:3:9: error: duplicate card id 'mn-discovery', first used at cards/a.yaml:4:9\n"
        "  hint: ids are unique across the project; give this card its own id")


def test_cloze_without_deletion(project):
    problems = problems_for(project, "subtopic: X\ncards:\n  - id: a\n    type: cloze\n    text: No deletion here.\n")
    assert one(problems, "cloze card has no deletion").startswith("cards/a.yaml:5:11:")


def test_unknown_type_suggests(project):
    problems = problems_for(project, "subtopic: X\ncards:\n  - id: a\n    type: clozee\n    text: x\n")
    assert one(problems, "unknown card type 'clozee'") == (
        "cards/a.yaml:4:11: error: unknown card type 'clozee'\n  hint: did you mean 'cloze'?")


def test_tags_with_spaces(project):
    problems = problems_for(project, "subtopic: X\ncards:\n  - id: a\n    question: Q?\n    answer: b\n"
                                     "    tags: [good, bad tag]\n")
    assert one(problems, "tag 'bad tag'") == (
        "cards/a.yaml:6:18: error: tag 'bad tag' is not a valid tag\n  hint: use hyphens instead of spaces")


def test_missing_image(project):
    problems = problems_for(project, "subtopic: X\ncards:\n  - id: a\n    question: \"![x](media/nope.png)\"\n"
                                     "    answer: b\n")
    assert one(problems, "image 'media/nope.png' not found").startswith("cards/a.yaml:4:15:")


def test_image_that_is_not_an_image(project):
    (project / "cards" / "media" / "fake.png").write_text("<svg onload=alert(1)>")
    problems = problems_for(project, "subtopic: X\ncards:\n  - id: a\n    question: \"![x](media/fake.png)\"\n"
                                     "    answer: b\n")
    assert "is not a PNG, JPEG, GIF or WebP image" in one(problems, "fake.png")


def test_image_outside_the_project(project, tmp_path):
    (tmp_path / "secret.png").write_bytes((project / "cards" / "media" / "insula.png").read_bytes())
    problems = problems_for(project, "subtopic: X\ncards:\n  - id: a\n    question: \"![x](../../secret.png)\"\n"
                                     "    answer: b\n")
    assert one(problems, "is outside the project").startswith("cards/a.yaml:4:15:")


def test_remote_image_is_an_error(project):
    problems = problems_for(project, "subtopic: X\ncards:\n  - id: a\n"
                                     "    question: \"<img src='https://example.com/t.gif'>\"\n    answer: b\n")
    assert "remote images" in one(problems, "image 'https://example.com/t.gif' is not a file")


def test_manifest_glob_matching_nothing(project):
    write(project / "decks" / "test-deck.yaml", (project / "decks" / "test-deck.yaml").read_text()
          .replace("cards: [cards/*.yaml]", "cards: [cards/*.yaml, extra/*.yml]"))
    problems = [p.format() for p in compile_deck(MANIFEST).problems]
    assert one(problems, "glob 'extra/*.yml' matches no file").startswith("decks/test-deck.yaml:5:")


@pytest.mark.parametrize("output", ["collection.apkg", "backup-2024.apkg", "../x.apkg", "deck.zip"])
def test_dangerous_or_bad_output_names(project, output):
    write(project / "decks" / "test-deck.yaml", (project / "decks" / "test-deck.yaml").read_text()
          .replace("output: test-deck.apkg", f"output: {output}"))
    problems = [p.format() for p in compile_deck(MANIFEST).problems]
    assert one(problems, f"output '{output}'").startswith("decks/test-deck.yaml:6:9:")


def test_manifest_unknown_key_and_missing_namespace(project):
    write(project / "decks" / "test-deck.yaml", "name: X\nnamspace: x\ncards: [cards/*.yaml]\n")
    problems = [p.format() for p in compile_deck(MANIFEST).problems]
    assert one(problems, "unknown key 'namspace'").endswith("did you mean 'namespace'?")
    assert one(problems, "missing required key 'namespace'").startswith("decks/test-deck.yaml:1:1:")


def test_all_problems_are_reported_in_one_run(project):
    problems = problems_for(project, "subtopic: X\ncards:\n  - id: a\n    question: Q?\n"
                                     "  - id: B c\n    question: Q?\n    answer: b\n    tgs: [x]\n")
    assert len(problems) == 3
    assert any("missing required key 'answer'" in p for p in problems)
    assert any("not a lowercase slug" in p for p in problems)
    assert any("unknown key 'tgs'" in p for p in problems)


def test_scalars_are_kept_as_written(project):
    card_file, problems = load_card_file(project / "cards" / "b.yaml")
    assert problems == []
    image = card_file.cards[1]
    assert image.answer.value == "no" and image.source.value == "3.10"


@pytest.mark.parametrize("content, fragment", [
    (b"subtopic: X\ncards:\n  - id: a\n    question: caf\xe9?\n", "cards/a.yaml:4:18: error: file is not valid UTF-8"),
    (b"", "cards/a.yaml:1:1: error: file is empty"),
    (b"- just\n- a list\n", "cards/a.yaml:1:1: error: a card file must be a mapping, not a list"),
    (b"\xef\xbb\xbfsubtopic: X\ncards:\n  - id: a\n    question: Q?\n    answer: A\n", None),
])
def test_encodings_and_shapes(project, content, fragment):
    (project / "cards" / "a.yaml").write_bytes(content)
    problems = [p.format() for p in compile_deck(MANIFEST).problems]
    if fragment is None:
        assert problems == []
    else:
        assert any(p.startswith(fragment) for p in problems), problems


def test_folder_where_a_file_should_be(project):
    (project / "cards" / "dir.yaml").mkdir()
    problems = [p.format() for p in compile_deck(MANIFEST).problems]
    assert "cards/dir.yaml: error: is a folder, not a file" in problems


def test_billion_laughs_is_refused_quickly(project):
    lines = ["subtopic: X", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 10) + "]")
    lines.append("cards: *a8")
    problems = problems_for(project, "\n".join(lines) + "\n")
    assert any("too many values" in p for p in problems), problems




RELEASE_1 = {"version": "1.0", "date": "2023-11-14"}
RELEASE_2 = {"version": "1.1", "date": "2023-11-15"}


def test_type_change_since_lock_needs_a_new_id(project):
    assert build(MANIFEST, project / "dist", now=1_700_000_000, release=RELEASE_1).ok
    text = (project / "cards" / "a.yaml").read_text().replace("  - id: mn-term\n    type: reversed\n",
                                                             "  - id: mn-term\n    type: basic\n")
    problems = problems_for(project, text)
    assert one(problems, "changed type from reversed to basic").startswith("cards/a.yaml:14:5:")
    assert "give the card a new id" in one(problems, "changed type")


def test_removed_id_coming_back_is_reported(project):
    original = (project / "cards" / "a.yaml").read_text()
    assert build(MANIFEST, project / "dist", now=1_700_000_000, release=RELEASE_1).ok
    without = original.split("  - id: mn-term")[0]
    write(project / "cards" / "a.yaml", without)
    assert build(MANIFEST, project / "dist", now=1_700_000_100, release=RELEASE_2).ok
    assert json.loads((project / "decks" / "test-deck.lock").read_text())["removed"] == ["mn-term"]
    problems = problems_for(project, original)
    assert one(problems, "card id 'mn-term' was removed in an earlier release").startswith("cards/a.yaml:14:9:")


def test_namespace_change_is_refused(project):
    assert build(MANIFEST, project / "dist", now=1_700_000_000).ok
    write(project / "decks" / "test-deck.yaml", (project / "decks" / "test-deck.yaml").read_text()
          .replace("namespace: test-deck", "namespace: other"))
    problems = [p.format() for p in compile_deck(MANIFEST).problems]
    assert "duplicates every student's cards" in one(problems, "lock was made for namespace 'test-deck'")


def test_deeply_nested_document_is_refused(project):
    problems = problems_for(project, "subtopic: X\ncards: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert one(problems, "nesting depth").startswith("cards/a.yaml:2:")


def test_field_over_the_length_limit(project):
    problems = problems_for(project, "subtopic: X\ncards:\n  - id: a\n    question: Q?\n    answer: " + "x" * 100_001 + "\n")
    assert one(problems, "'answer' is 100,001 characters long; the limit is 100,000").startswith("cards/a.yaml:5:13:")


def test_file_over_the_size_limit(project, monkeypatch):
    from neurodeck.source import yamlnodes as yamlsource

    monkeypatch.setattr(yamlsource, "MAX_FILE_BYTES", 1000)
    problems = problems_for(project, "subtopic: X\n# " + "padding " * 200 + "\ncards: []\n")
    assert one(problems, "the limit is 1000").startswith("cards/a.yaml: error: file is")


def test_card_gone_without_retiring_is_a_warning(project):
    from click.testing import CliRunner

    from neurodeck.cli import main

    assert build(MANIFEST, project / "dist", now=1_700_000_000, release=RELEASE_1).ok
    write(project / "cards" / "a.yaml", (project / "cards" / "a.yaml").read_text().split("  - id: mn-term")[0])
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 0
    assert ("decks/test-deck.lock: warning: released card 'mn-term' is gone from the cards" in result.stderr)
    assert "'retired: true'" in result.stderr


def test_retired_flag_and_why_are_checked(project):
    problems = problems_for(project, "subtopic: X\ncards:\n  - id: a\n    question: Q?\n    answer: A\n"
                                     "    retired: maybe\n  - id: b\n    question: Q?\n    answer: A\n"
                                     "    why: Old.\n  - id: c\n    question: Q?\n    answer: A\n"
                                     "    lint: {ignore: [ND101]}\n")
    assert one(problems, "'retired' must be true or false, not 'maybe'").startswith("cards/a.yaml:6:14:")
    assert one(problems, "'why' explains a retirement").startswith("cards/a.yaml:10:10:")
    assert one(problems, "missing required key 'why'").startswith("cards/a.yaml:14:11:")
