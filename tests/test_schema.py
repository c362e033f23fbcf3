"""The shipped JSON Schemas agree with the validator."""
from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from conftest import REPO, write
from neurodeck.cli import main
from neurodeck.commands.schema import SCHEMAS, render, shipped_path
from neurodeck.pipeline.build import compile_deck

MANIFEST = Path("decks/test-deck.yaml")


def schema_errors(kind: str, text: str) -> list[str]:
    validator = jsonschema.Draft202012Validator(SCHEMAS[kind]())
    return [e.message for e in validator.iter_errors(yaml.safe_load(text))]  # YAML 1.1, as editors may read


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_shipped_schemas_are_the_generated_ones(kind):
    assert shipped_path(kind).read_text() == render(kind)
    jsonschema.Draft202012Validator.check_schema(SCHEMAS[kind]())
    assert CliRunner().invoke(main, ["schema", kind]).stdout == render(kind)


def test_bundled_cards_and_manifest_are_valid_for_both():
    for path in sorted((REPO / "cards").glob("*.yaml")):
        assert schema_errors("card-file", path.read_text()) == [], path
    for path in sorted((REPO / "decks").glob("*.yaml")):
        assert schema_errors("manifest", path.read_text()) == [], path


VALID_CARDS = [
    "subtopic: X\ncards:\n  - id: a\n    question: Q?\n    answer: no\n    source: 3.10\n",
    "subtopic: X\ncards:\n  - id: a\n    type: cloze\n    text: \"{{c1::x}}\"\n    retired: yes\n    why: Old.\n",
    "subtopic: X\ntags: [t-1, a::b]\ncards:\n  - id: a.b_c\n    type: type-in\n    question: Q?\n    answer: A\n"
    "    lint: {ignore: [ND101], why: Because.}\n",
]
INVALID_CARDS = [
    "subtopic: X\ncards:\n  - id: a\n    question: Q?\n    anwser: A\n",            # unknown key, missing answer
    "subtopic: X\ncards:\n  - question: Q?\n    answer: A\n",                       # no id
    "subtopic: X\ncards:\n  - id: a\n    question: [1, 2]\n    answer: A\n",        # list instead of text
    "subtopic: X\ncards:\n  - id: a\n    type: clozee\n    text: x\n",              # unknown type
    "subtopic: X\ncards:\n  - id: a\n    type: cloze\n    question: Q?\n    text: \"{{c1::x}}\"\n",  # cloze with question
    "subtopic: X\ncards:\n  - id: a\n    question: Q?\n",                           # basic without answer
    "subtopic: X\ncards:\n  - id: a\n    question: Q?\n    answer: A\n    tags: [bad tag]\n",
    "subtopic: X\ncards:\n  - id: Bad_ID\n    question: Q?\n    answer: A\n",
    "subtopic: X\ncards: []\n",
    "subtopic: X\ncards:\n  - id: a\n    question: Q?\n    answer: A\n    retired: maybe\n",
    "subtopic: X\ncards:\n  - id: a\n    question: Q?\n    answer: A\n    lint: {ignore: [ND101]}\n",
    "cards:\n  - id: a\n    question: Q?\n    answer: A\n",                          # no subtopic
]


@pytest.mark.parametrize("text", VALID_CARDS)
def test_valid_samples_pass_both(project, text):
    write(project / "cards" / "a.yaml", text)
    assert compile_deck(MANIFEST).ok
    assert schema_errors("card-file", text) == []


@pytest.mark.parametrize("text", INVALID_CARDS)
def test_invalid_samples_fail_both(project, text):
    write(project / "cards" / "a.yaml", text)
    assert not compile_deck(MANIFEST).ok
    assert schema_errors("card-file", text) != []


@pytest.mark.parametrize("text, valid", [
    ("name: X\nnamespace: x\ncards: [cards/*.yaml]\n", True),
    ("name: X\nnamespace: x\ncards: [cards/*.yaml]\nversion: 1.2\noutput: x.apkg\n", True),
    ("name: X\nnamspace: x\ncards: [cards/*.yaml]\n", False),
    ("name: X\nnamespace: Not Valid\ncards: [cards/*.yaml]\n", False),
    ("name: X\nnamespace: x\ncards: [cards/*.yaml]\noutput: collection.apkg\n", False),
    ("name: X\nnamespace: x\ncards: [cards/*.yaml]\noutput: deck.zip\n", False),
    ("name: X\nnamespace: x\ncards: [cards/*.yaml]\nversion: one\n", False),
])
def test_manifest_samples_agree(project, text, valid):
    write(project / "decks" / "test-deck.yaml", text)
    problems = [p for p in compile_deck(MANIFEST).problems
                if p.severity == "error" and "has not been released" not in p.message]  # needs a lock
    assert (problems == []) == valid, problems
    assert (schema_errors("manifest", text) == []) == valid
