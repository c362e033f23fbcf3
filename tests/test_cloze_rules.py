"""Rule 2: deletions are read as Anki reads them (rslib/src/cloze.rs), from the stored HTML, and a
deck Anki would refuse, repair or show empty cards for never builds. `neurodeck verify` is the
oracle, and render/cloze.py is pinned against the official engine."""
from __future__ import annotations

import re
import sqlite3
import tempfile
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import write
from neurodeck.cli import main
from neurodeck.commands.verify import verify
from neurodeck.render import cloze

CLOZE_FILE = """\
subtopic: Clozes
cards:
  - id: filler
    question: A question?
    answer: An answer.
  - id: the-cloze
    type: cloze
    text: {text}
{more}"""


def cloze_card(project: Path, text: str, more: str = "") -> None:
    write(project / "cards" / "c.yaml", CLOZE_FILE.format(text=text, more=more))


def validate(project: Path):
    return CliRunner().invoke(main, ["validate"])


BAD = [
    ('"{{c0::x}}"', "numbered 0"),
    ('"{{c501::x}}"', "at most 500"),
    ('"{{c1,2::x}} {{c3::y}}"', "several numbers"),
    ('"{{c1::}} {{c2::y}}"', "hides nothing"),
    ('"{{c1::<b> </b>}} {{c2::y}}"', "hides nothing"),
    ('"{{c1::::only a hint}}"', "hides nothing"),
    ('"{{c1::x}} and {{c2::y"', "never closed"),
    ('"{{c1::\\\\(x^{2}}\\\\)}}"', "ends inside maths"),
    ('"{{c1::x}} a stray }}"', None),  # Anki shows it as text: a warning
    ('"{{c99999::x}}"', "not a deletion Anki recognises"),
    ('"{{c1::x}} <!-- {{c2::y}} -->"', None),  # fine: Anki never sees the comment
    ('"<!-- {{c1::y}} -->"', "has no deletion"),  # the old code counted it: a card with an empty front
    ('"&#123;&#123;c0::x&#125;&#125;"', "numbered 0"),  # entities make a marker in the stored HTML
    ('"{{c1::a {{c2::b}}}}"', None),  # nested deletions are Anki's
    ('"{{c1::x\\x01}}"', "control character U+0001"),
    ('"{{c1::x}}\\x7f"', "control character U+007F"),
    ('"{{c1::x}}\\ry"', None),  # CommonMark makes the carriage return a line break
]


@pytest.mark.parametrize("text, message", BAD)
def test_deletions_anki_would_misread_are_located_errors(project, text, message):
    cloze_card(project, text)
    result = validate(project)
    if message is None:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "cards/c.yaml:8:" in result.output  # the text's own line


def test_deletions_belong_in_the_text_only(project):
    cloze_card(project, '"{{c1::x}}"', "    extra: See {{c2::y}}.\n    source: '{{c1::z}}'\n")
    result = validate(project)
    assert result.exit_code == 1
    assert "cards/c.yaml:9:" in result.output and "cards/c.yaml:10:" in result.output
    assert result.output.count("outside the cloze text") == 2


def test_a_deck_with_deletion_zero_never_reaches_anki(project):
    """Before: `{{c0::x}}` validated, built, and Anki refused the whole package."""
    cloze_card(project, '"{{c0::x}} {{c1::y}}"')
    result = CliRunner().invoke(main, ["build", "--out", "dist"])
    assert result.exit_code == 1 and "numbered 0" in result.output
    assert not (project / "dist" / "test-deck.apkg").exists()


_BLANKS = ['"<!-- x -->"', '"<span></span>"', '"<br>"', '"<style>x</style>"', '"&nbsp;"', '"<!-- unclosed"',
           '"<b> </b><!---->"']


@pytest.mark.parametrize("blank", _BLANKS)
@pytest.mark.parametrize("type, field", [("basic", "question"), ("type-in", "question"), ("reversed", "answer")])
def test_a_front_that_shows_nothing_is_an_error(project, blank, type, field):
    """Before: these built, and Anki listed the card under Empty Cards (`neurodeck verify` said so)."""
    other = "answer" if field == "question" else "question"
    write(project / "cards" / "c.yaml", f"subtopic: Blank\ncards:\n  - id: blank\n    type: {type}\n"
                                        f"    {field}: {blank}\n    {other}: Text\n")
    result = CliRunner().invoke(main, ["build", "--out", "dist"])
    assert result.exit_code == 1 and "cards/c.yaml:5:" in result.output and "shows nothing" in result.output, \
        result.output


def test_every_front_that_builds_is_a_card_in_anki(project):
    write(project / "cards" / "c.yaml", "subtopic: Fronts\ncards:\n" + "".join(
        f"  - id: front-{i}\n    type: reversed\n    question: '{q}'\n    answer: A{i}\n"
        for i, q in enumerate(["<!-- x --> Q", "<img src=\"x.png\" alt=\"\">", "<b>Q</b>", "&amp;"])))
    (project / "cards" / "x.png").write_bytes(bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fe"
        "a7d605e50000000049454e44ae426082"))
    result = CliRunner().invoke(main, ["build", "--out", "dist"])
    assert result.exit_code == 0, result.output
    assert verify([project / "dist" / "test-deck.apkg"]) == []


def test_unicode_is_stored_as_anki_stores_it(project, collection):
    """Anki normalises every field to NFC on import: the package already holds that form."""
    cloze_card(project, '"Cafe\\u0301 {{c1::re\\u0301sume\\u0301}}"')
    assert CliRunner().invoke(main, ["build", "--out", "dist"]).exit_code == 0
    assert verify([project / "dist" / "test-deck.apkg"]) == []


# ---- pinned against the engine ------------------------------------------------------------------

_pieces = st.sampled_from(["{{c", "{{c1::", "{{c2::", "{{c0::", "{{c1,2::", "{{c,::", "{{c65536::", "{{c501::",
                           "{{c07::", "}}", "}", "{", "::", ":", "1", ",", "a", " ", "<b>", "</b>", "é",
                           "image-occlusion:", "{{c3::"])
cloze_texts = st.lists(_pieces | st.text(st.characters(exclude_categories=("Cs",), exclude_characters="[\\"),
                                         max_size=3), max_size=24).map("".join)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    from anki.collection import Collection

    col = Collection(str(tmp_path_factory.mktemp("engine") / "collection.anki2"))
    # The stock Cloze answer adds "<br>{{Back Extra}}"; a copy whose both sides are the cloze
    # filter alone lets the answer be compared with ours exactly.
    bare = col.models.copy(col.models.by_name("Cloze"), add=False)
    bare["name"] = "Cloze filter only"
    bare["tmpls"][0]["qfmt"] = bare["tmpls"][0]["afmt"] = "{{cloze:Text}}"
    col.models.add_dict(bare)
    yield col
    col.close()


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(text=cloze_texts)
@example(text="{{c1::a}} b {{c2::é::hint}}")  # the rendering comparisons below are always reached
@example(text="{{c1::a {{c2::<b>b</b>}}}} {{c3::}} }}")
def test_deletion_numbers_and_rendering_match_anki(engine, text):
    note = engine.new_note(engine.models.by_name("Cloze filter only"))
    note["Text"] = text
    normalised = note["Text"]
    assert cloze.numbers(text) == set(engine._backend.cloze_numbers_in_note(note._to_backend_note())) - {0}
    if not cloze.numbers(text) or "\r" in text or not text.isprintable():
        return  # Anki would store a different text (control characters removed)
    engine.add_note(note, 1)
    try:
        stored = engine.get_note(note.id)["Text"]
        if stored != normalised:
            return
        ords = sorted(card.ord for card in note.cards())
        assert ords == sorted(min(n, 500) - 1 for n in cloze.numbers(text)), ords
        for card in note.cards():
            if card.ord == 499:
                continue  # Anki merges every number above 500 into this card
            output = card.render_output(reload=True)
            assert cloze.reveal(stored, card.ord + 1, True) == output.question_text
            assert cloze.reveal(stored, card.ord + 1, False) == output.answer_text
    finally:
        engine.remove_notes([note.id])


# Openings numbered in any script's digits: Python's \\d and int() read "{{c\u0663::" as deletion 3,
# Anki's tokenizer takes ASCII digits only and reads the opening as text (the card would be empty).
_openings = st.text(st.sampled_from("0123,") | st.characters(categories=("Nd",)), min_size=1, max_size=3).map(
    lambda digits: "{{c" + digits + "::")
_any_digit_texts = st.lists(_openings | st.sampled_from(["}}", "x", " ", "::"]), max_size=8).map("".join)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(text=_any_digit_texts)
def test_deletion_numbers_in_any_script_digits_match_anki(engine, text):
    note = engine.new_note(engine.models.by_name("Cloze"))
    note["Text"] = text
    assert cloze.numbers(text) == set(engine._backend.cloze_numbers_in_note(note._to_backend_note())) - {0}


def test_a_deletion_numbered_in_other_digits_is_text_not_a_card(project):
    cloze_card(project, '"{{c1::x}} {{c\u0663::y}}"')  # ARABIC-INDIC DIGIT THREE
    result = validate(project)
    assert "not a deletion Anki recognises" in result.output, result.output


# ---- `neurodeck verify` -------------------------------------------------------------------------

def _edit_package(source: Path, target: Path, sql: str) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(source) as zf:
            zf.extractall(tmp)
            names = zf.namelist()
        conn = sqlite3.connect(Path(tmp) / "collection.anki2")
        conn.execute(sql)
        conn.commit()
        conn.close()
        with zipfile.ZipFile(target, "w") as zf:
            for name in names:
                zf.write(Path(tmp) / name, name)
    return target


@pytest.mark.fuzz  # writes packages Anki refuses on purpose: not for the every-package check
def test_verify_names_what_anki_refuses_or_changes(project, tmp_path):
    assert CliRunner().invoke(main, ["build", "--out", "dist"]).exit_code == 0
    good = project / "dist" / "test-deck.apkg"
    result = CliRunner().invoke(main, ["verify", str(good)])
    assert result.exit_code == 0 and "ok" in result.output

    minus_one = _edit_package(good, tmp_path / "ord.apkg", "update cards set ord = -1 where ord = 1")
    result = CliRunner().invoke(main, ["verify", str(minus_one)])
    assert result.exit_code == 1 and "Anki refuses the package" in result.output

    control = _edit_package(good, tmp_path / "ctl.apkg", "update notes set flds = replace(flds, 'F5', 'F\x015')")
    problems = [p.message for p in verify([control])]
    assert any("mn-f5-cloze" in m and "fields other than written" in m for m in problems), problems

    extra_card = _edit_package(good, tmp_path / "card.apkg",
                               "update notes set flds = replace(flds, 'macaque}}', 'macaque}} {{c3::x}}')")
    problems = [p.message for p in verify([extra_card])]
    assert len(problems) == 1 and re.fullmatch(r"card \d+: Check Database added it", problems[0]), problems

    missing = _edit_package(good, tmp_path / "media.apkg",
                            "update notes set flds = replace(flds, 'Which region', '<img src=\"gone.png\"> Which region')")
    assert any("gone.png" in p.message for p in verify([missing]))


def test_verify_without_the_engine_says_what_to_install(project, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "anki.collection", None)
    result = CliRunner().invoke(main, ["verify", "nothing.apkg"])
    assert result.exit_code == 1 and "pip install 'neurodeck[verify]'" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("workflow", ["ci.yml", "release.yml"])
def test_ci_and_release_verify_every_package_they_build(workflow):
    """Every package built in CI and in a release (a first release included) goes through Anki."""
    import yaml

    from conftest import REPO

    [job] = yaml.safe_load((REPO / ".github" / "workflows" / workflow).read_text())["jobs"].values()
    runs = [(step.get("run", ""), step.get("if")) for step in job["steps"]]
    built = next(i for i, (run, _) in enumerate(runs) if "neurodeck build --locked" in run)
    verified = [i for i, (run, condition) in enumerate(runs)
                if run.strip() == "neurodeck verify dist/*.apkg" and condition is None]
    assert verified and verified[0] > built, runs


def test_ci_runs_the_property_tests_with_the_ci_profile():
    from conftest import REPO

    assert "NEURODECK_FUZZ=ci .venv/bin/python -m pytest" in (REPO / ".ci" / "run").read_text()
