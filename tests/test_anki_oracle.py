"""Every input either fails validation with a located error or builds a package that Anki imports
as written: the official importer accepts it, Check Database changes nothing, no card is empty,
names and fields are stored as the package has them (`neurodeck verify` is the oracle).

Inputs: arbitrary Unicode (every control character), cloze-like markers, Anki's own field syntax
and hostile HTML, in arbitrary names (ids, tags, subtopics, deck names) and fields. The number of
examples comes from the hypothesis profile (NEURODECK_FUZZ, see conftest.py); `.ci/run` uses "ci"."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import PNG
from neurodeck.commands.verify import verify
from neurodeck.pipeline.build import build

pytestmark = pytest.mark.fuzz  # packages are checked here, by a sample, not by the autouse fixture

any_char = st.characters(exclude_categories=("Cs",))
MARKERS = ["{{c1::", "{{c2::", "{{c0::", "{{c501::", "{{c500::", "{{c1,2::", "{{c65536::", "{{c", "}}", "::", "}",
           "[sound:a.mp3]", "[latex]x[/latex]", "[$]", "[/$]", "\\(", "\\)", "\\[", "\\]", "&#123;&#123;c1::",
           "&#125;&#125;", "<!--", "-->", '<img src="media/insula.png">', "![i](media/insula.png)",
           '<img alt="x src=" src="https://t.example/p.gif">', "<b>", "</b>", "`", "*", "\n\n", "\r", "\x00",
           "\x01", "\x1f", "\x7f", "\x85", "\u00a0", "\u2028", "\ufeff", "e\u0301", "\u212b", "image-occlusion:",
           "[x](https://t.example/)", '<a href="mailto:a@b.example">m</a>',
           "&#1;", "&#x7F;", "&#13;"]  # character references CommonMark decodes into control characters
CLOZE_MARKERS = ["{{c1::", "{{c0::", "{{c501::", "}}", "{{c1,2::", "&#123;&#123;c0::", "{{c65536::", "::"]
NAMES = ["Foo", "foo", "FOO", " Foo", "Foo ", "Foo:", ":Foo", "Foo\x01", "Stra\u00dfe", "STRASSE", "e\u0301",
         "\u00e9", "\u212b", "A\u3000B", "retired", "Retired", "x::retired", "blank", "", "a::b", "Foo\u00a0"]
SAFE_NAMES = ["Mirror Neurons", "Oxytocin", "Émotion", "fMRI", "a-b", "x_y", "Δ", "Foo", "Stra\u00dfe"]
SAFE_TEXT = ["Mirror neurons fire.", "Oxytocin", "**bold** and *em*", "Émotion", "x < y", "a & b", "`co}}de`",
             "\\(x^2\\)", "![i](media/insula.png)", "- a\n- b", "# Title", "> quote", "Δ≈∞", "日本語", "e\u0301",
             "<i>i</i>", " ", "\n"]
SAFE_CLOZES = ["{{c1::hypothalamus}}", "{{c2::F5::a premotor area}}", "{{c1::a {{c2::nested}}}}", "{{c3::**x**}}",
               "{{c500::last}}", "{{c1::\\(x^2\\)}}", "{{c2::![i](media/insula.png)}}", "{{c1::<b>b</b>}}"]
safe_texts = st.lists(st.sampled_from(SAFE_TEXT), max_size=3).map(" ".join)
safe_cloze_texts = st.lists(st.sampled_from(SAFE_TEXT) | st.sampled_from(SAFE_CLOZES), max_size=4).map(
    lambda parts: " ".join(parts + ["{{c1::x}}"]))
wild_texts = st.lists(st.sampled_from(MARKERS) | st.sampled_from(SAFE_TEXT) | st.text(any_char, max_size=5),
                      max_size=10).map("".join)
SAFE_TAGS = ["motor", "x_y", "a-b", "émotion", "δ", "fmri", "topic::sub"]
safe_names = st.sampled_from(SAFE_NAMES)
safe_tags = st.sampled_from(SAFE_TAGS)
wild_names = st.sampled_from(NAMES) | st.text(any_char, min_size=1, max_size=8)
WILD_IDS = st.sampled_from(["a", "b", "c-1", "A", "a b", "é"]) | st.text(any_char, min_size=1, max_size=6)


def cards(wild: bool):
    """Cards whose every part is valid, or (wild) any part may be anything."""
    pick = (lambda safe, hostile: safe | hostile) if wild else (lambda safe, hostile: safe)
    return st.fixed_dictionaries(
        {"id": pick(st.none(), WILD_IDS), "type": st.sampled_from(["basic", "reversed", "cloze", "type-in"]),
         "body": pick(safe_texts, wild_texts), "cloze": pick(safe_cloze_texts, wild_texts),
         "extra": pick(safe_texts, wild_texts), "tags": st.lists(pick(safe_tags, wild_names), max_size=3),
         "retired": st.booleans()})


@st.composite
def projects(draw):
    """A deck: all valid; valid but for one hostile value; or hostile anywhere."""
    mode = draw(st.sampled_from(["clean", "clean", "one", "one", "wild"]))
    wild = mode == "wild"
    names, tags = (wild_names, wild_names) if wild else (safe_names, safe_tags)
    deck_name = draw(st.sampled_from(["Fuzz Deck"]) | (wild_names if wild else st.nothing()))
    files = draw(st.lists(st.tuples(names, st.lists(tags, max_size=2), st.lists(cards(wild), min_size=1, max_size=8)),
                          min_size=1, max_size=3))
    if mode == "one":
        subtopic, file_tags, file_cards = files[0]
        card = dict(file_cards[0])
        slot = draw(st.sampled_from(["deck", "subtopic", "file-tag", "id", "tag", "body", "cloze", "cloze", "cloze",
                                     "extra"]))
        hostile_name = draw(wild_names)
        hostile_text = draw(st.lists(st.sampled_from(CLOZE_MARKERS) | st.sampled_from(MARKERS) | st.sampled_from(SAFE_TEXT),
                                     min_size=1, max_size=4)
                            .map("".join) | st.text(any_char, max_size=4))
        if slot == "deck":
            deck_name = hostile_name
        elif slot == "subtopic":
            subtopic = hostile_name
        elif slot == "file-tag":
            file_tags = file_tags + [hostile_name]
        elif slot == "id":
            card["id"] = draw(WILD_IDS)
        elif slot == "tag":
            card["tags"] = card["tags"] + [hostile_name]
        else:
            card[slot] = card[slot] + hostile_text
            if slot == "cloze":
                card["type"] = "cloze"
        files[0] = (subtopic, file_tags, [card] + file_cards[1:])
    return deck_name, files


def card_yaml(card: dict, number: int) -> dict:
    out: dict = {"id": f"card-{number}" if card["id"] is None else card["id"], "type": card["type"]}
    if card["type"] == "cloze":
        out["text"] = card["cloze"]
    else:
        out["question"], out["answer"] = card["body"] or "Q", card["extra"] or "A"
    if card["extra"]:
        out["extra"] = card["extra"]
    if card["tags"]:
        out["tags"] = card["tags"]
    if card["retired"]:
        out["retired"], out["why"] = True, "Superseded."
    return out


def write_project(root: Path, deck_name: str, files: list[tuple[str, list[str], list[dict]]]) -> None:
    (root / "decks").mkdir(parents=True)
    (root / "cards" / "media").mkdir(parents=True)
    (root / "cards" / "media" / "insula.png").write_bytes(PNG)
    manifest = {"name": deck_name, "namespace": "fuzz-deck", "tag": "fz", "description": "Fuzz.",
                "cards": ["cards/*.yaml"], "output": "fuzz.apkg"}
    (root / "decks" / "fuzz.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")
    for i, (subtopic, tags, file_cards) in enumerate(files):
        doc = {"subtopic": subtopic, "tags": tags, "cards": [card_yaml(c, i * 100 + j) for j, c in enumerate(file_cards)]}
        (root / "cards" / f"f{i}.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")


measured = {"examples": 0, "built": 0, "imported": 0, "refused": 0}
# Importing is the slow part: in long runs one package in three goes through the engine, in short
# ones every package does.
IMPORT_EVERY = 3 if settings().max_examples >= 500 else 1


def _cloze_card(text: str) -> dict:
    return {"id": None, "type": "cloze", "body": "", "cloze": text, "extra": "", "tags": [], "retired": False}


# Regression examples that always run: each built a package Anki refused or misread before.
@example(project=("Fuzz Deck", [("Clozes", [], [_cloze_card("{{c1::x}} {{c0::y}}")])]))
@example(project=("Fuzz Deck", [("Clozes", [], [_cloze_card("{{c1::x}} {{c0::")])]))
@example(project=("Fuzz Deck", [("Clozes", [], [_cloze_card("<!-- {{c1::x}} -->")])]))
@example(project=("Fuzz Deck", [("Clozes", [], [_cloze_card("{{c1::x}} {{c501::y}} {{c502::z}}")])]))
@example(project=("Fuzz Deck", [("Clozes", ["retired"], [_cloze_card("{{c1::x}}")])]))
@example(project=("Fuzz Deck", [(" Clozes", [], [_cloze_card("{{c1::x}}")]), ("clozes", [], [_cloze_card("{{c1::y}}")])]))
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(project=projects())
def test_every_input_is_refused_where_it_is_or_imports_as_written(project):
    deck_name, files = project
    measured["examples"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_project(root, deck_name, files)
        result = build(root / "decks" / "fuzz.yaml", root / "dist", now=1_700_000_000)
        if result.output is None:
            errors = [p for p in result.problems if p.severity == "error"]
            assert errors, [p.format() for p in result.problems]
            for problem in errors:
                assert problem.location.path and problem.location.line >= 1, problem.format()
            measured["refused"] += 1
            return
        measured["built"] += 1
        if (measured["built"] - 1) % IMPORT_EVERY == 0:
            assert [p.format() for p in verify([result.output])] == []
            measured["imported"] += 1


def test_the_oracle_imported_a_sample():
    # Runs after the property test above (pytest keeps file order).
    print(f"\nanki oracle: {measured}")
    assert measured["imported"] >= 3 and measured["refused"] >= 10, measured
