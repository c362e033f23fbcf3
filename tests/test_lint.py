"""neurodeck lint: every rule with its message and location, manifest settings, and card ignores."""
from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from neurodeck.checks.lint import (
    RULES,
    Setting,
    _duplicates,
    _similar_pairs,
    lint_cards,
    lint_deck,
    read_settings,
    read_synonyms,
)
from neurodeck.model import Card, Location, Text, has_errors
from neurodeck.project import card_files
from neurodeck.source.cards import load_card_file
from neurodeck.source.manifest import load_manifest

MANIFEST = """\
name: Lint Deck
namespace: lint-deck
cards: [cards/*.yaml]
"""

GOOD = """\
  - id: good
    question: Where were mirror neurons first recorded?
    answer: In area F5 of the macaque ventral premotor cortex.
    source: di Pellegrino et al. 1992
"""


@pytest.fixture
def lint(tmp_path, monkeypatch):
    """lint(cards, manifest_extra) -> [(str(location), severity, message)] for one card file."""
    root = tmp_path / "lint"
    (root / "decks").mkdir(parents=True)
    (root / "cards").mkdir()
    monkeypatch.chdir(root)

    def run(cards: str, manifest_extra: str = "", full: bool = False):
        (root / "decks" / "deck.yaml").write_text(MANIFEST + textwrap.dedent(manifest_extra), encoding="utf-8")
        (root / "cards" / "c.yaml").write_text("subtopic: T\ncards:\n" + textwrap.indent(textwrap.dedent(cards), "  "),
                                               encoding="utf-8")
        problems = lint_deck(Path("decks/deck.yaml"))
        if full:
            return problems
        return [(str(p.location), p.severity, p.message) for p in problems]

    return run


def card(card_id: str = "c", **fields: str) -> str:
    """One card as YAML (double-quoted values), starting at column 3 of the card file."""
    lines = [f"- id: {card_id}"] + [f"  {k.replace('_', '-')}: {v}" for k, v in fields.items()]
    return "\n".join(lines) + "\n"


def words(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


def test_a_good_card_passes(lint):
    assert lint(textwrap.dedent(GOOD)) == []


def test_the_conftest_project_is_clean(project):
    assert lint_deck(Path("decks/test-deck.yaml")) == []


# ---- ND101, ND102: answer length -----------------------------------------------------------

def test_answer_over_20_words_is_a_warning(lint):
    q = "question: What?"
    assert lint(f"- id: c\n  {q}\n  answer: {words(21)}\n  source: S\n") == [
        ("cards/c.yaml:5:13", "warning", "ND101 answer has 21 words; the limit is 20")]
    assert lint(f"- id: c\n  {q}\n  answer: {words(20)}\n  source: S\n") == []


def test_answer_over_40_words_is_an_error_and_not_also_a_warning(lint):
    problems = lint(f"- id: c\n  question: What?\n  answer: {words(41)}\n  source: S\n", full=True)
    assert [(str(p.location), p.severity, p.message) for p in problems] == [
        ("cards/c.yaml:5:13", "error", "ND102 answer has 41 words; the limit is 40")]
    assert has_errors(problems)  # the CLI exits 1
    assert problems[0].hint.startswith("keep one fact per answer")


def test_words_are_counted_as_read_not_as_marked_up(lint):
    # Markup, images and a lone dash are not words: 20 words remain.
    answer = '"**' + words(18) + '** - ![x](media/x.png) <b>a</b> b"'
    assert lint(f"- id: c\n  question: What?\n  answer: {answer}\n  source: S\n") == []


# ---- ND103: question form --------------------------------------------------------------------

def test_a_basic_or_type_in_question_must_read_as_a_question(lint):
    cards = (card("a", question="Mirror neurons and area F5", answer="Recorded there.", source="S")
             + card("b", type="type-in", question="The hormone of milk ejection", answer="Oxytocin", source="S"))
    assert lint(cards) == [
        ("cards/c.yaml:4:15", "warning", "ND103 the question does not read as a question"),
        ("cards/c.yaml:9:15", "warning", "ND103 the question does not read as a question")]


def test_questions_prompts_and_reversed_terms_pass(lint):
    cards = (card("a", question='"Which region is shown? ![insula](media/insula.png)"', answer="Insula", source="S")
             + card("b", question="Name the hormone of milk ejection.", answer="Oxytocin", source="S")
             + card("c", question='"*Is it the insula?*"', answer="Yes", source="S")
             + card("d", type="reversed", question="Interoception", answer="Sense of the body's state.", source="S"))
    assert lint(cards) == []


# ---- ND104: answer in the question -----------------------------------------------------------

def test_answer_restated_in_the_question(lint):
    cards = card("a", question="Which nucleus, the Supraoptic Nucleus, makes oxytocin?",
                 answer="The supraoptic nucleus.", source="S")
    assert lint(cards) == [("cards/c.yaml:5:13", "warning",
                            "ND104 answer restated in the question: 'The supraoptic nucleus.'")]


def test_an_answer_offered_as_a_choice_or_too_short_is_fine(lint):
    cards = (card("a", question="Is the V2 receptor Gs-coupled or Gq-coupled?", answer="Gs-coupled.", source="S")
             + card("b", question="Did it replicate in study no 2?", answer="no", source="S"))
    assert lint(cards) == []


# ---- ND105, ND106: duplicate and similar questions -------------------------------------------

def test_questions_the_same_after_normalising_are_an_error(lint):
    cards = (card("a", question="Where were mirror neurons first recorded?", answer="F5.", source="S")
             + card("b", question='"where were the Mirror-Neurons  first recorded"', answer="In F5.", source="S"))
    assert lint(cards) == [
        ("cards/c.yaml:8:15", "warning", "ND103 the question does not read as a question"),
        ("cards/c.yaml:8:15", "error", "ND105 duplicate question: same as card 'a' (cards/c.yaml:4:15)")]


def test_nearly_the_same_questions_are_a_warning(lint):
    q1 = "In which area of the macaque ventral premotor cortex were mirror neurons first recorded by single units?"
    q2 = "In which area of the macaque ventral premotor cortex were mirror neurons first recorded with single units?"
    q3 = "Which brain region did Eisenberger et al. find more active during social exclusion in humans?"
    cards = (card("a", question=q1, answer="F5.", source="S") + card("b", question=q2, answer="F5.", source="S")
             + card("c", question=q3, answer="Anterior cingulate cortex.", source="S"))
    assert lint(cards) == [("cards/c.yaml:8:15", "warning",
                            "ND106 question nearly the same as card 'a' (cards/c.yaml:4:15), 88% of words shared")]


def test_retired_cards_are_not_linted(lint):
    cards = (card("a", question="Where were mirror neurons first recorded?", answer="F5.", source="S")
             + card("b", retired="true", why="Replaced by a.", question="Where were mirror neurons first recorded?",
                    answer=words(50)))
    assert lint(cards) == []


def _card(i: int, question: str) -> Card:
    loc = Location("x.yaml", i + 1, 1)
    return Card(id=Text(f"c{i}", loc), type="basic", location=loc, subtopic="T", file_path=Path("x.yaml"),
                question=Text(question, loc), answer=Text("A", loc), source=Text("S", loc))


@pytest.mark.parametrize("vocabulary", [12, 40, 2000])  # few words favour the hashed groups, many the rare words
@pytest.mark.parametrize("similarity", [0.4, 0.7, 0.85, 1.0])
def test_near_duplicate_search_finds_exactly_what_comparing_all_pairs_finds(similarity, vocabulary):
    """Both filters only skip pairs that cannot reach the similarity."""
    rng = random.Random(vocabulary)
    words = [f"w{i}" for i in range(vocabulary)]
    base = [rng.sample(words, rng.randint(1, 10)) for _ in range(80)]
    sets = [frozenset(rng.sample(b, max(1, len(b) - rng.randint(0, 1))) + rng.sample(words, rng.randint(0, 2)))
            for b in base * 3]
    rng.shuffle(sets)
    expected = []
    for j, bag in enumerate(sets):
        scores = [len(bag & sets[i]) / len(bag | sets[i]) for i in range(j)]
        best = max(range(j), key=lambda i: (scores[i], -i), default=None)
        if best is not None and scores[best] >= similarity:
            expected.append((best, j, scores[best]))
    assert len(expected) > 5
    assert _similar_pairs(sets, similarity) == expected


_IMAGE_NAMES = st.from_regex(r"[a-z][a-z0-9-]{0,12}\.png", fullmatch=True)


@hsettings(max_examples=200, deadline=None)
@given(question=st.lists(st.sampled_from(["which", "region", "is", "shaded", "on", "this", "slice", "brain",
                                          "sagittal", "coronal", "named", "here"]), min_size=1, max_size=12)
       .map(" ".join), images=st.lists(_IMAGE_NAMES, min_size=2, max_size=2, unique=True), alt=st.text(
           st.characters(codec="ascii", categories=("L", "N", "Zs")), max_size=20))
def test_the_same_words_over_different_images_are_different_questions(question, images, alt):
    """The image a question shows is part of what it asks: the same words over two figures are
    neither a duplicate (ND105) nor a near duplicate (ND106); over the same figure they are ND105."""
    shown = [f"{question}?\n\n![{alt}](figures/{name})" for name in images]
    assert _duplicates([_card(0, shown[0]), _card(1, shown[1])], 0.85) == []
    again = _duplicates([_card(0, shown[0]), _card(1, f"{question}?\n\n![other words](figures/{images[0]})")], 0.85)
    assert [(f.code, f.card.id.value) for f in again] == [("ND105", "c1")]


def test_near_duplicates_are_not_also_reported_as_exact():
    cards = [_card(i, q) for i, q in enumerate(["What is A B C D E F?", "what is a b c d e f", "What is A B C D E G?"])]
    assert [(f.code, f.card.id.value) for f in _duplicates(cards, 0.7)] == [("ND105", "c1"), ("ND106", "c2")]


# ---- ND107: cloze deletions -----------------------------------------------------------------

def test_a_cloze_with_more_than_5_deletion_numbers(lint):
    six = '"' + " ".join(f"{{{{c{n}::w{n}}}}}" for n in range(1, 7)) + '"'
    five = '"' + " ".join(f"{{{{c{n}::w{n}}}}}" for n in (1, 2, 3, 4, 5, 5)) + '"'
    assert lint(card("a", type="cloze", text=six, source="S") + card("b", type="cloze", text=five, source="S")) == [
        ("cards/c.yaml:5:11", "warning", "ND107 cloze has 6 deletion numbers; the limit is 5")]


# ---- ND108: source ------------------------------------------------------------------------

def test_a_card_without_source(lint):
    assert lint(card("a", question="What?", answer="This.")) == [
        ("cards/c.yaml:3:9", "warning", "ND108 card 'a' has no source")]


# ---- ND109: abbreviations -------------------------------------------------------------------

def test_an_abbreviation_not_spelled_out(lint):
    problems = lint(card("a", question="What does the ACC detect?", answer="Conflict.", source="S"), full=True)
    assert [(str(p.location), p.severity, p.message) for p in problems] == [
        ("cards/c.yaml:4:15", "warning", "ND109 abbreviation 'ACC' is not spelled out in this card")]
    assert "full name (ACC)" in problems[0].hint and "glossary" in problems[0].hint


def test_the_abbreviation_is_reported_where_first_used_once(lint):
    cards = card("a", question="What does the ACC detect?", answer='"Conflict, says the ACC model; fMRI too."',
                 extra="The ACC again.", source="S")
    assert lint(cards) == [
        ("cards/c.yaml:4:15", "warning", "ND109 abbreviation 'ACC' is not spelled out in this card"),
        ("cards/c.yaml:5:13", "warning", "ND109 abbreviation 'fMRI' is not spelled out in this card")]


@pytest.mark.parametrize("question, extra", [
    ("What does the anterior cingulate cortex (ACC) detect?", "The ACC is medial."),
    ("What does the ACC detect?", "ACC (anterior cingulate cortex): medial."),
    ("What does the ACC detect?", "Medial (anterior cingulate cortex, ACC)."),
    ("What does the ACC (anterior cingulate cortex, dorsal part) detect?", "Medial."),
])
def test_spelled_out_in_the_card_either_way_round(lint, question, extra):
    assert lint(card("a", question=f'"{question}"', answer="Conflict.", extra=f'"{extra}"', source="S")) == []


def test_an_unrelated_parenthesis_does_not_spell_out(lint):
    cards = card("a", question='"What does the ACC (especially its dorsal part) detect?"', answer="Conflict.",
                 source="S")
    assert lint(cards) == [("cards/c.yaml:4:15", "warning", "ND109 abbreviation 'ACC' is not spelled out in this card")]


def test_glossary_entries_need_no_spelling_out(lint):
    cards = card("a", question="Which EEGs and fMRI scans showed it?", answer="Both.", source="S")
    assert lint(cards, "glossary: [fMRI, EEG]\n") == []


def test_receptor_subtypes_are_abbreviations_unless_named(lint):
    assert lint(card("a", question="Where is V1a found?", answer="Smooth muscle.", source="S")) == [
        ("cards/c.yaml:4:15", "warning", "ND109 abbreviation 'V1a' is not spelled out in this card")]
    assert lint(card("a", question="Where is the vasopressin V1a receptor found?", answer="Smooth muscle.",
                     source="S")) == []


def test_no_false_positives_for_names_numerals_units_and_single_capitals(lint):
    text = ('"In patient NK, area F5, S1, type II cells, McGraw-Hill, DeWall, van IJzendoorn, NeuroImage, a 50 mV '
            'pulse at 10 Hz, -NH2, A.D. Craig and the word NOT: what fired?"')
    assert lint(card("a", question=text, answer="Neurons.", source="S")) == []


def test_sources_are_not_checked_for_abbreviations(lint):
    assert lint(card("a", question="What?", answer="This.", source='"Smith JPA 2020, PNAS 1:2"')) == []


# ---- ND110: extra -----------------------------------------------------------------------------

def test_an_extra_over_80_words(lint):
    assert lint(card("a", question="What?", answer="This.", extra=words(81), source="S")) == [
        ("cards/c.yaml:6:12", "warning", "ND110 extra has 81 words; the limit is 80")]
    assert lint(card("a", question="What?", answer="This.", extra=words(80), source="S")) == []


# ---- manifest settings ----------------------------------------------------------------------

def test_defaults():
    table = {code: (r.name, r.severity, r.default) for code, r in RULES.items()}
    assert table == {
        "ND101": ("long-answer", "warning", 20), "ND102": ("very-long-answer", "error", 40),
        "ND103": ("not-a-question", "warning", None), "ND104": ("answer-in-question", "warning", None),
        "ND105": ("duplicate-question", "error", None), "ND106": ("similar-question", "warning", 0.85),
        "ND107": ("too-many-clozes", "warning", 5), "ND108": ("missing-source", "warning", None),
        "ND109": ("undefined-abbreviation", "warning", None), "ND110": ("long-extra", "warning", 80),
        "ND111": ("type-in-synonym", "warning", None), "ND112": ("long-type-in-answer", "warning", 3),
        "ND113": ("near-duplicate-fact", "off", 0.45),
        "ND114": ("occlusion-needs-anki-23.10", "warning", None),
    }


def test_the_manifest_changes_severities_and_limits(lint):
    cards = card("a", question="What is it", answer=words(35), source="S") + card("b", question="What?",
                                                                               answer="This.")
    assert lint(cards) == [("cards/c.yaml:4:15", "warning", "ND103 the question does not read as a question"),
                           ("cards/c.yaml:5:13", "warning", "ND101 answer has 35 words; the limit is 20"),
                           ("cards/c.yaml:7:9", "warning", "ND108 card 'b' has no source")]
    settings = """\
    lint:
      ND103: off
      ND102: {severity: warning, limit: 30}
      ND108: {severity: error}
    """
    assert lint(cards, settings) == [("cards/c.yaml:5:13", "warning", "ND102 answer has 35 words; the limit is 30"),
                                     ("cards/c.yaml:7:9", "error", "ND108 card 'b' has no source")]


def test_turning_the_error_limit_off_leaves_the_warning(lint):
    cards = card("a", question="What?", answer=words(45), source="S")
    assert lint(cards, "lint: {ND102: off}\n") == [("cards/c.yaml:5:13", "warning",
                                                    "ND101 answer has 45 words; the limit is 20")]
    assert lint(cards, "lint: {ND101: off, ND102: off}\n") == []


def test_similarity_is_configurable(lint):
    cards = (card("a", question="Which region tracks pain affect in humans?", answer="ACC.", source="S")
             + card("b", question="Which region tracks pain intensity in humans?", answer="S1.", source="S"))
    assert lint(cards, "glossary: [ACC]\n") == []
    assert lint(cards, "glossary: [ACC]\nlint: {ND106: {similarity: 0.7}}\n") == [
        ("cards/c.yaml:8:15", "warning",
         "ND106 question nearly the same as card 'a' (cards/c.yaml:4:15), 75% of words shared")]


def test_setting_problems_are_located_with_did_you_mean(lint):
    settings = """\
    lint:
      ND11: off
      long-answer: off
      ND101: loud
      ND102: {limit: many}
      ND107: {limits: 3}
      ND103: {limit: 3}
      ND106: {similarity: 2}
      ND110: [off]
    """
    problems = lint(textwrap.dedent(GOOD), settings, full=True)
    assert [(str(p.location), p.severity, p.message, p.hint) for p in problems] == [
        ("decks/deck.yaml:5:3", "error", "ND001 unknown lint rule 'ND11'", "did you mean 'ND110'?"),
        ("decks/deck.yaml:6:3", "error", "ND001 unknown lint rule 'long-answer'", "rules are named by code: use ND101"),
        ("decks/deck.yaml:7:10", "error", "ND003 severity of ND101 must be error, warning or off, not 'loud'", None),
        ("decks/deck.yaml:8:18", "error", "ND003 limit of ND102 must be a whole number, 0 or more, not 'many'", None),
        ("decks/deck.yaml:9:11", "error", "ND003 unknown setting 'limits' for ND107", "did you mean 'limit'?"),
        ("decks/deck.yaml:10:11", "error", "ND003 unknown setting 'limit' for ND103", "ND103 takes: severity"),
        ("decks/deck.yaml:11:23", "error",
         "ND003 similarity of ND106 must be a number above 0 and at most 1, not '2'", None),
        ("decks/deck.yaml:12:10", "error", "ND003 ND110 must be a severity or a mapping, not a list",
         "e.g. ND110: off, or ND110: {severity: error}"),
    ]


def test_read_settings_keeps_defaults_for_rules_not_mentioned(project):
    manifest, _ = load_manifest(Path("decks/test-deck.yaml"))
    settings, problems = read_settings(manifest)
    assert problems == [] and settings["ND101"] == Setting("warning", 20)


# ---- card ignores -----------------------------------------------------------------------------

def test_an_ignore_with_a_reason_silences_only_that_rule_on_that_card(lint):
    cards = (card("a", question="What does the ACC detect", answer="Conflict.", source="S",
                  lint='{ignore: [ND109], why: "Named only to set up the next card."}')
             + card("b", question="What does the ACC signal?", answer="Conflict again.", source="S"))
    assert lint(cards) == [("cards/c.yaml:4:15", "warning", "ND103 the question does not read as a question"),
                           ("cards/c.yaml:9:15", "warning", "ND109 abbreviation 'ACC' is not spelled out in this card")]


def test_an_ignore_without_a_reason_is_an_error_and_silences_nothing(lint):
    cards = card("a", question="What does the ACC detect?", answer="Conflict.", source="S", lint="{ignore: [ND109]}")
    assert lint(cards) == [
        ("cards/c.yaml:4:15", "warning", "ND109 abbreviation 'ACC' is not spelled out in this card"),
        ("cards/c.yaml:7:11", "error", "missing required key 'why'")]


def test_unknown_and_unused_ignores(lint):
    cards = card("a", question="What?", answer="This.", source="S",
                 lint='{ignore: [ND1O9, ND101, ND103], why: "Testing."}')
    problems = lint(cards, "lint: {ND103: off}\n", full=True)
    assert [(str(p.location), p.severity, p.message, p.hint) for p in problems] == [
        ("cards/c.yaml:7:21", "error", "ND001 unknown lint rule 'ND1O9' in ignore", "did you mean 'ND109'?"),
        ("cards/c.yaml:7:28", "warning", "ND002 ignore of ND101 silences nothing: the card does not break it",
         "remove ND101 from the card's lint ignore"),
        ("cards/c.yaml:7:35", "warning", "ND002 ignore of ND103 silences nothing: it is off in the manifest",
         "remove ND103 from the card's lint ignore"),
    ]


def test_load_problems_are_reported_and_fail_the_run(lint):
    problems = lint("- id: a\n  question: [What?]\n  answer: x\n", full=True)
    assert has_errors(problems)
    assert [str(p.location) for p in problems if p.severity == "error"] == ["cards/c.yaml:4:15"]


# ---- the bundled deck ----------------------------------------------------------------------

def test_the_bundled_deck_is_lint_clean_with_few_ignores(bundled):
    manifest_path = Path("decks/neurobiology-of-intimacy.yaml")
    assert lint_deck(manifest_path) == []
    manifest, _ = load_manifest(manifest_path)
    cards = [c for path in card_files(manifest)[0] for c in load_card_file(path)[0].cards]
    ignoring = [c for c in cards if c.lint_ignore]
    assert len(cards) >= 180
    assert len(ignoring) <= 0.05 * len(cards)
    assert all(len(c.lint_why.value.split()) >= 8 for c in ignoring)  # a real reason, not a token


def test_the_bundled_deck_fails_when_its_glossary_is_removed(bundled):
    """The rules do look at the bundled deck: without the glossary, fMRI needs spelling out."""
    path = Path("decks/neurobiology-of-intimacy.yaml")
    text = path.read_text(encoding="utf-8")
    path.write_text("\n".join(line for line in text.splitlines() if not line.startswith("glossary:")) + "\n",
                    encoding="utf-8")
    problems = lint_deck(path)
    assert problems and {p.message.split()[0] for p in problems} == {"ND109"}
    assert not has_errors(problems)
    assert lint_cards([], {c: Setting(r.severity, r.default) for c, r in RULES.items()}) == []


# ---- ND111, ND112: type-in answers ----------------------------------------------------------

def _bundled_synonyms() -> str:
    """The bundled manifest's `synonyms:` table, as YAML to append to a test manifest."""
    from conftest import REPO

    text = (REPO / "decks" / "neurobiology-of-intimacy.yaml").read_text(encoding="utf-8")
    return text[text.index("\nsynonyms:") + 1:]


# The type-in answers the issue 17 review found marking correct answers wrong.
REVIEWED_TYPE_INS = ["Acetaminophen", "Antidiuretic hormone", "Posterior pituitary", "Medial orbitofrontal cortex",
                     "Right anterior insula", "Motor-evoked potentials", "Audiovisual mirror neurons",
                     "Associative sequence learning", "Rhesus macaque", "Mu rhythm"]


def _type_in_cards(answers: list[str], kind: str = "type-in") -> str:
    return "".join(card(f"t{i}", type=kind, question=f'"Which term is number {i}?"', answer=f'"{a}"', source="S")
                   for i, a in enumerate(answers))


def test_the_bundled_synonyms_flag_the_ten_type_in_answers_the_review_found(lint):
    problems = lint(_type_in_cards(REVIEWED_TYPE_INS), _bundled_synonyms())
    assert [p[1] for p in problems] == ["warning"] * 10
    assert [p[2].split("'")[1] for p in problems] == REVIEWED_TYPE_INS
    assert all(p[2].startswith("ND111 type-in answer '") for p in problems)
    assert problems[0] == ("cards/c.yaml:6:13", "warning",
                           "ND111 type-in answer 'Acetaminophen' has other accepted forms: paracetamol, APAP")
    # Without the table, or on basic cards, nothing fires: the table is what knows the other forms.
    assert lint(_type_in_cards(REVIEWED_TYPE_INS)) == []
    assert lint(_type_in_cards(REVIEWED_TYPE_INS, "basic"), _bundled_synonyms()) == []


def test_a_synonym_listed_as_the_other_form_is_flagged_too(lint):
    problems = lint(_type_in_cards(["Paracetamol", "Neurohypophysis", "Microtus ochrogaster"]), _bundled_synonyms())
    assert [p[2] for p in problems] == [
        "ND111 type-in answer 'Paracetamol' has other accepted forms: Acetaminophen, APAP",
        "ND111 type-in answer 'Neurohypophysis' has other accepted forms: Posterior pituitary, "
        "posterior lobe of the pituitary, pars nervosa"]


def _spelling_variants(form: str) -> st.SearchStrategy[str]:
    """Spellings Anki would tell apart but a student means the same by: case, hyphens, articles, plural."""
    @st.composite
    def variant(draw):
        words = form.replace("-", " ").split()
        words = [w.upper() if draw(st.booleans()) else w.lower() for w in words]
        if draw(st.booleans()) and not words[-1].lower().endswith("s") and len(words[-1]) > 3:
            words[-1] += "s"
        joiner = draw(st.sampled_from([" ", "-", " - "]))
        article = draw(st.sampled_from(["", "The ", "a "]))
        return article + joiner.join(words) + draw(st.sampled_from(["", ".", "?"]))
    return variant()


@hsettings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_spelling_of_a_listed_form_is_flagged(data):
    from conftest import REPO

    manifest, _ = load_manifest(REPO / "decks" / "neurobiology-of-intimacy.yaml")
    table, problems = read_synonyms(manifest)
    assert problems == [] and table
    entries = sorted({answer: forms for answer, forms in table.values()}.items())
    answer, forms = data.draw(st.sampled_from(entries))
    typed = data.draw(_spelling_variants(data.draw(st.sampled_from(forms))))
    loc = Location("x.yaml", 1, 1)
    one = Card(id=Text("t", loc), type="type-in", location=loc, subtopic="T", file_path=Path("x.yaml"),
               question=Text("Which?", loc), answer=Text(typed, loc), source=Text("S", loc))
    defaults = {c: Setting(r.severity, r.default) for c, r in RULES.items()}
    found = [p.message for p in lint_cards([one], defaults, synonyms=table) if p.message.startswith("ND111")]
    assert len(found) == 1, (typed, answer)


def test_a_type_in_answer_of_more_than_three_words(lint):
    four = _type_in_cards(["lamina one spinothalamic pathway"])
    assert lint(four) == [("cards/c.yaml:6:13", "warning", "ND112 type-in answer has 4 words; the limit is 3")]
    assert lint(_type_in_cards(["lamina one pathway"])) == []
    assert lint(four, "lint: {ND112: {limit: 4}}\n") == []
    assert lint(_type_in_cards(["lamina one spinothalamic pathway"], "basic")) == []


def test_a_bad_synonyms_table_is_an_error_at_its_place(lint):
    table = """\
    synonyms:
      Mu rhythm: mu wave
      Trust game: [investment game, [nested]]
      Cyberball: []
    """
    problems = lint(_type_in_cards(["Trust game"]), table, full=True)
    assert [(str(p.location), p.severity, p.message) for p in problems] == [
        ("cards/c.yaml:6:13", "warning", "ND111 type-in answer 'Trust game' has other accepted forms: investment game"),
        ("decks/deck.yaml:5:14", "error", "ND004 synonyms of 'Mu rhythm' must be a list of text, not text"),
        ("decks/deck.yaml:6:33", "error", "ND004 each synonym of 'Trust game' must be non-empty text, not a list"),
        ("decks/deck.yaml:7:14", "error", "ND004 synonyms of 'Cyberball' must list at least one other form"),
    ]
    assert has_errors(problems)


# ---- ND113: near-duplicate facts ------------------------------------------------------------

# The near-duplicates the issue 17 review named, on the cards as it read them (extras included), and
# the rule's properties: tests/test_lint_near_duplicates.py.

def test_near_duplicate_facts_are_off_unless_turned_on(lint):
    cards = (card("a", question="Which carrier protein travels with oxytocin down the axons?", answer="Neurophysin.",
                  source="S") +
             card("b", type="cloze", text='"Oxytocin travels down the axons with its carrier protein, {{c1::neurophysin}}."',
                  source="S"))
    assert lint(cards, "lint: {ND109: off}\n") == []
    found = lint(cards, "lint: {ND109: off, ND113: warning}\n")
    assert [(w, m.split(",")[0]) for w, _, m in found] == [
        ("cards/c.yaml:9:11", "ND113 card teaches nearly the same fact as card 'a' (cards/c.yaml:3:5)")]


_VOCABULARY = [f"{a}{b}{c}" for a in "bdfgklmnprstvz" for b in "aeiou" for c in ("lin", "rax", "mon", "tep")]


@hsettings(max_examples=40, deadline=None)
@given(data=st.data())
def test_the_same_fact_in_other_words_order_type_and_citation_is_found(data):
    """A fact restated (shuffled, as a cloze, from another paper) is found; cards sharing only the citation,
    function words or one common word are not."""
    words = data.draw(st.lists(st.sampled_from(_VOCABULARY), min_size=6, max_size=10, unique=True))
    others = [w for w in _VOCABULARY if w not in words]
    random.Random(data.draw(st.integers(0, 2**32))).shuffle(others)
    sizes = [data.draw(st.integers(5, 9)) for _ in range(8)]
    fillers = [others[sum(sizes[:k]):sum(sizes[:k + 1])] for k in range(8)]  # other facts, disjoint
    common = others[-1]  # a word every card uses, like "oxytocin"
    loc = lambda i: Location("x.yaml", i + 1, 1)  # noqa: E731

    def basic(i, question, answer, source):
        return Card(id=Text(f"c{i}", loc(i)), type="basic", location=loc(i), subtopic="T", file_path=Path("x.yaml"),
                    question=Text(question, loc(i)), answer=Text(answer, loc(i)), source=Text(source, loc(i)))

    half = len(words) // 2
    cards = [basic(0, f"What did Smith et al. (2001) find about the {' '.join(words[:half])} {common}?",
                   f"That the {' '.join(words[half:])}.", "Smith J, Jones K 2001, Journal 1:1-9")]
    for k, filler in enumerate(fillers, start=1):  # same paper, same question form, other facts
        cards.append(basic(k, f"What did Smith et al. (2001) find about the {' '.join(filler[:3])} {common}?",
                           f"That the {' '.join(filler[3:])}.", "Smith J, Jones K 2001, Journal 1:1-9"))
    shuffled = data.draw(st.permutations(words))
    n = len(cards)
    cards.append(Card(id=Text(f"c{n}", loc(n)), type="cloze", location=loc(n), subtopic="T", file_path=Path("x.yaml"),
                      text=Text(f"Brown (2010) showed {common} " + " ".join(shuffled[:-1]) + f" {{{{c1::{shuffled[-1]}}}}}.",
                                loc(n)), source=Text("Brown A 2010, Other Journal 2:3-4", loc(n))))
    defaults = {c: Setting(r.severity, r.default) for c, r in RULES.items()}
    defaults.update({c: Setting("off", None) for c in ("ND103", "ND104", "ND105", "ND106", "ND109")})
    defaults["ND113"] = Setting("warning", 0.4)
    found = [(p.location.line, p.message.split("'")[1]) for p in lint_cards(cards, defaults)]
    assert found == [(n + 1, "c0")]


def test_a_card_reported_as_a_similar_question_is_not_reported_twice():
    cards = [_card(0, "Which hypothalamic nucleus makes oxytocin for the blood?"),
             _card(1, "Which hypothalamic nucleus makes the oxytocin for the blood?")]
    defaults = {c: Setting(r.severity, r.default) for c, r in RULES.items()}
    defaults["ND113"] = Setting("warning", 0.4)
    assert [p.message.split()[0] for p in lint_cards(cards, defaults)] == ["ND105"]
