"""Text-to-speech: the manifest's `tts` option adds Anki's `{{tts ...}}` to the side of each
built-in template that first shows the field; Anki reads it aloud; changing it only changes
template text, so students' note types update in place."""
from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import CARDS_A, CARDS_B, PNG, import_package, release, study_all, write
from conftest import MANIFEST as MANIFEST_TEXT
from neurodeck.cli import main
from neurodeck.commands.preview import render_template
from neurodeck.model import Location
from neurodeck.pipeline.build import build, compile_deck

MANIFEST = Path("decks/test-deck.yaml")


def with_tts(project: Path, tts: str) -> None:
    manifest = project / "decks" / "test-deck.yaml"
    manifest.write_text(MANIFEST_TEXT + f"tts: {tts}\n")


def model_of(col, kind: str):
    return next(m for m in col.models.all() if m["name"].startswith(f"neurodeck {kind} ("))


def note(col, card_id: str):
    [nid] = col.find_notes(f"Id:{card_id}")
    return col.get_note(nid)


def spoken(tags) -> list[tuple[str, str, list[str], float]]:
    return [(t.field_text, t.lang, list(t.voices), round(t.speed, 3)) for t in tags if hasattr(t, "lang")]


def test_questions_are_read_on_the_front_and_answers_on_the_back(project, tmp_path, collection):
    with_tts(project, "[{field: Question, lang: en_US}, {field: Answer, lang: de_DE, voices: [Apple_Anna], "
                      "speed: 0.9}, {field: Text, lang: en_GB}]")
    result = build(MANIFEST, tmp_path / "out")
    assert result.ok, [p.format() for p in result.problems]
    import_package(collection, result.output)

    basic = note(collection, "mn-discovery").cards()[0]
    assert spoken(basic.question_av_tags()) == [("Where were mirror neurons first recorded?", "en_US", [], 1.0)]
    assert spoken(basic.answer_av_tags()) == [
        ("In area F5 of the macaque ventral premotor cortex.", "de_DE", ["Apple_Anna"], 0.9)]
    assert "[anki:play:q:0]" in basic.question() and "[anki:play:a:0]" in basic.answer()

    card1, card2 = note(collection, "mn-term").cards()
    term, definition = "Mirror neuron", "A neuron that fires both when acting and when watching the same action."
    assert spoken(card1.question_av_tags()) == [(term, "en_US", [], 1.0)]
    assert spoken(card1.answer_av_tags()) == [(definition, "de_DE", ["Apple_Anna"], 0.9)]
    assert spoken(card2.question_av_tags()) == [(definition, "de_DE", ["Apple_Anna"], 0.9)]  # its prompt
    assert spoken(card2.answer_av_tags()) == [(term, "en_US", [], 1.0)]

    c1, c2 = note(collection, "mn-f5-cloze").cards()
    assert spoken(c1.question_av_tags()) == [
        ("Mirror neurons were first recorded in area [a premotor area] of the macaque.", "en_GB", [], 1.0)]
    assert spoken(c2.question_av_tags())[0][0] == "Mirror neurons were first recorded in area F5 of the blank."

    typein = note(collection, "ot-site").cards()[0]
    assert spoken(typein.question_av_tags()) == [(
        "Which hypothalamic nucleus besides the paraventricular nucleus makes oxytocin?", "en_US", [], 1.0)]
    assert spoken(typein.answer_av_tags()) == [("Supraoptic nucleus", "de_DE", ["Apple_Anna"], 0.9)]

    assert model_of(collection, "Basic")["tmpls"][0]["qfmt"].endswith("{{#Question}}{{tts en_US:Question}}{{/Question}}")
    assert model_of(collection, "Basic")["tmpls"][0]["afmt"].endswith(
        "{{#Answer}}{{tts de_DE voices=Apple_Anna speed=0.9:Answer}}{{/Answer}}")
    assert model_of(collection, "Cloze")["tmpls"][0]["qfmt"].endswith("{{#Text}}{{tts en_GB:cloze:Text}}{{/Text}}")
    assert collection.fix_integrity()[1]
    check = collection.media.check()
    assert list(check.missing) == [] and list(check.unused) == []


def test_the_preview_renders_tts_as_ankis_renderer_does(project, tmp_path, collection):
    """Our template renderer gives the text Anki's renderer gives before it extracts play tags:
    the engine's own extraction of our text is `card.question()` / `card.answer()`."""
    from anki.template import av_tags_to_native

    with_tts(project, "[{field: Question, lang: en_US, voices: [A_b, C], speed: 1.25}, {field: Text, lang: fr_FR},"
                      " {field: Extra, lang: ja_JP}]")
    result = build(MANIFEST, tmp_path / "out")
    assert result.ok, [p.format() for p in result.problems]
    import_package(collection, result.output)
    notes = {n.id: n for n in result.compiled.notes}
    compared = spoken_tags = 0
    for cid in collection.find_cards(""):
        card = collection.get_card(cid)
        built = notes[card.note()["Id"]]
        note_type = result.compiled.notetypes[built.type]
        template = note_type.templates[0 if note_type.is_cloze else card.ord]
        fields = dict(zip(note_type.fields, built.fields))
        question = render_template(template.qfmt, fields, card.ord, True)
        answer = render_template(template.afmt, fields, card.ord, False, question)
        for ours, side, theirs, tags in ((question, True, card.question(), card.question_av_tags()),
                                         (answer, False, card.answer(), card.answer_av_tags())):
            out = collection._backend.extract_av_tags(text=ours, question_side=side)
            assert out.text == re.sub(r"(?s)^<style>.*?</style>", "", theirs)
            assert av_tags_to_native(out.av_tags) == list(tags)
            spoken_tags += len(tags)
        compared += 1
    assert compared == sum(len(n.ords) for n in result.compiled.notes) == 7
    assert spoken_tags == 9  # Question on 5 cards, Text on 2, Extra on the backs of the 2 that have one


# ---- located errors ----------------------------------------------------------------------------

@pytest.mark.parametrize("tts, message, hint", [
    ("{field: Question, lang: en-US}", "tts language 'en-US' is not a language and region code", "en_US"),
    ("{field: Question, lang: english}", "tts language 'english' is not", "en_US, de_DE"),
    ("{field: Question, lang: 'en_US:x'}", "tts language 'en_US:x' is not", None),
    ("{field: Front, lang: en_US}", "tts field 'Front' is not a field of the built-in note types",
     "one of: Question, Answer, Extra, Source, Id, Text"),
    ("{field: Question, lang: en_US, voices: [Apple Samantha]}", "tts voice 'Apple Samantha' is not a voice name",
     "without spaces"),
    ("{field: Question, lang: en_US, voices: 'a:b'}", "tts voice 'a:b' is not a voice name", None),
    ("{field: Question, lang: en_US, speed: fast}", "tts speed 'fast' must be a number above 0", None),
    ("{field: Question, lang: en_US, speed: 0}", "tts speed '0' must be", None),
    ("{field: Question, lang: en_US, speed: 11}", "tts speed '11' must be", None),
    ("{field: Question, lang: en_US, speed: 1e0}", "tts speed '1e0' must be", None),
    ("{field: Question}", "missing required key 'lang'", None),
    ("{lang: en_US}", "missing required key 'field'", None),
    ("{field: Question, lang: en_US, langs: x}", "unknown key 'langs' in a tts entry", "did you mean 'lang'?"),
    ("Question", "a tts entry must be a mapping", "tts: {field: Question, lang: en_US}"),
    ("[{field: Answer, lang: en_US}, {field: Answer, lang: fr_FR}]", "field 'Answer' is read aloud twice", None),
])
def test_bad_options_are_located_errors(project, tmp_path, tts, message, hint):
    with_tts(project, tts)
    result = build(MANIFEST, tmp_path / "out")
    assert result.output is None and not (tmp_path / "out").exists()
    [problem] = [p for p in result.problems if p.severity == "error"]
    assert message in problem.message and (hint is None or hint in (problem.hint or ""))
    assert problem.location.path == "decks/test-deck.yaml" and problem.location.line == 7
    assert problem.location.column > 0


# ---- generated options -------------------------------------------------------------------------

NAMES = st.sampled_from(["en_US", "de_DE", "ar_001", "en-US", "EN_us", "en", "en_USA", "e_US", "zh_CN", "x y",
                         "en_US:Extra", "en_US}}", "en_US voices=a", ""]) | st.text(max_size=6)
VOICES = st.lists(st.sampled_from(["Apple_Samantha", "Microsoft_Zira", "Apple_Eddy_(English_(UK))", "a b",
                                   "a,b", "x:y", "}}", "]", "="]) | st.text(max_size=5), max_size=3)
SPEEDS = st.none() | st.sampled_from(["1", "0.5", "1.25", "10", "0", "-1", "10.5", "1e1", "nan", "0x1", "1."]) | \
    st.decimals(min_value=0, max_value=12, places=2).map(str)


def yaml_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a YAML double-quoted string


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.sampled_from(["Question", "Answer", "Text", "Extra", "Front", "question"]), NAMES,
                          VOICES, SPEEDS), min_size=1, max_size=3))
@example([("Question", "en_US", ["Apple_Samantha"], "1.5"), ("Text", "ar_001", [], None)])
def test_generated_options_are_errors_or_spoken_by_anki(entries):
    from anki.collection import Collection

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "proj"
        items = []
        for field, lang, voices, speed in entries:
            item = f"{{field: {field}, lang: {yaml_string(lang)}"
            item += f", voices: [{', '.join(map(yaml_string, voices))}]" if voices else ""
            item += f", speed: {yaml_string(speed)}" if speed is not None else ""
            items.append(item + "}")
        write(root / "decks" / "test-deck.yaml", MANIFEST_TEXT + f"tts: [{', '.join(items)}]\n")
        write(root / "cards" / "a.yaml", CARDS_A)
        write(root / "cards" / "b.yaml", CARDS_B)
        (root / "cards" / "media").mkdir()
        (root / "cards" / "media" / "insula.png").write_bytes(PNG)
        result = build(root / "decks" / "test-deck.yaml", root / "dist")
        errors = [p for p in result.problems if p.severity == "error"]
        if errors:
            assert result.output is None
            assert all(p.location.path.endswith("test-deck.yaml") and p.location.line == 7 and p.location.column
                       for p in errors), [p.format() for p in errors]
            return
        (Path(folder) / "student").mkdir()
        col = Collection(str(Path(folder) / "student" / "collection.anki2"))
        try:
            import_package(col, result.output)
            wanted = {field: (lang, voices, pytest.approx(float(speed) if speed is not None else 1.0))
                      for field, lang, voices, speed in entries}
            order = [field for field, *_ in entries]
            card = note(col, "mn-discovery").cards()[0]
            for side, fields in ((card.question_av_tags(), ("Question",)), (card.answer_av_tags(), ("Answer", "Extra"))):
                assert [(t.lang, list(t.voices), t.speed) for t in side] == [wanted[f] for f in order if f in fields]
            assert not any("error" in side.lower() for c in col.find_cards("")
                           for side in (col.get_card(c).question(), col.get_card(c).answer()))
            assert col.fix_integrity()[1]
        finally:
            col.close()


# ---- students' note types update in place ------------------------------------------------------

def test_adding_tts_updates_the_students_note_types_in_place(project, collection):
    v1 = release(project, "v1", 1_700_000_000)
    import_package(collection, v1)
    before = {m["id"]: m["name"] for m in collection.models.all()}
    answered = study_all(collection)
    with_tts(project, "{field: Question, lang: en_US}")
    v2 = release(project, "v2", 1_700_000_100)
    log = import_package(collection, v2)
    assert not log.conflicting and not log.new
    assert {m["id"]: m["name"] for m in collection.models.all()} == before  # no "Name+" copy
    assert model_of(collection, "Basic")["tmpls"][0]["qfmt"].endswith("{{#Question}}{{tts en_US:Question}}{{/Question}}")
    assert collection.db.scalar("select count() from revlog") == answered == 7
    card = note(collection, "mn-discovery").cards()[0]
    assert spoken(card.question_av_tags())[0][1] == "en_US"
    assert card.type == 2  # still a review card, its scheduling kept

    report = json.loads(CliRunner().invoke(main, ["check-upgrade", str(v1), str(v2), "--json"]).stdout)
    assert report["ok"] and report["cloned_notetypes"] == [] and report["conflicting"] == []
    assert report["reviews_before"] == report["reviews_after"] == 7


def test_a_release_treats_tts_as_template_text_not_schema(project, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764028800")
    assert CliRunner().invoke(main, ["release", "1.0.0"]).exit_code == 0
    first = json.loads(Path("decks/test-deck.lock").read_text())["notetypes"]
    manifest = project / "decks" / "test-deck.yaml"
    manifest.write_text(manifest.read_text() + "tts: {field: Answer, lang: en_US}\n")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764115200")
    done = CliRunner().invoke(main, ["release", "1.1.0"])
    assert done.exit_code == 0, done.output
    second = json.loads(Path("decks/test-deck.lock").read_text())["notetypes"]
    assert set(first) == set(second) == {"basic", "reversed", "cloze", "type-in"}
    for kind in first:
        assert second[kind]["schema"] == first[kind]["schema"], kind  # fields and templates as they were
        changed = kind != "cloze"  # the cloze type has no Answer field
        assert (second[kind]["hash"] != first[kind]["hash"]) == changed, kind
        assert (second[kind]["mod"] > first[kind]["mod"]) == changed, kind
    assert compile_deck(MANIFEST).ok


def test_an_entry_of_a_block_list_is_located_at_its_value(project):
    """Location of a problem in a list entry: the entry's own line in a block list."""
    manifest = project / "decks" / "test-deck.yaml"
    manifest.write_text(MANIFEST_TEXT + "tts:\n  - field: Question\n    lang: en_US\n  - field: Anwser\n    lang: en_US\n")
    [problem] = compile_deck(MANIFEST).problems
    assert problem.location == Location("decks/test-deck.yaml", 10, 12)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["<b>", "</b>", "<br>", "<div>", "</div>", "<p>", "<!-- c -->", "&amp;", "&nbsp;",
                                 "&lt;", "[...]", "<span class=\"cloze\">", "</span>", " ", "a", "é", "<li>", "\n"])
                | st.text(alphabet="ab <>[]./", max_size=4), max_size=12).map("".join))  # fields never hold a bare &
def test_the_preview_reads_what_anki_reads(collection, text):
    from neurodeck.commands.preview.page import _text_for_tts

    [tag] = collection._backend.extract_av_tags(text=f"[anki:tts lang=en_US]{text}[/anki:tts]",
                                                question_side=True).av_tags
    assert _text_for_tts(text).replace("[...]", "blank") == tag.tts.field_text


def test_the_readme_tts_example_builds_and_anki_reads_it(project, tmp_path, collection):
    from conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index("```yaml\ntts:\n")
    example = readme[start + 8:readme.index("```", start + 8)]
    (project / "decks" / "test-deck.yaml").write_text(MANIFEST_TEXT + example)
    result = build(MANIFEST, tmp_path / "out")
    assert result.ok, [p.format() for p in result.problems]
    import_package(collection, result.output)
    card = note(collection, "mn-discovery").cards()[0]
    assert [(t.lang, list(t.voices), round(t.speed, 2)) for t in card.question_av_tags()] == [("en_US", [], 1.0)]
    assert [(t.lang, list(t.voices), round(t.speed, 2)) for t in card.answer_av_tags()] == [
        ("en_US", ["Apple_Samantha", "Microsoft_Zira"], 0.9)]


# ---- a deck's own note types -------------------------------------------------------------------

OWN_TYPE = """\
name: Anatomy Basic
fields: [Front, Back, Notes]
templates:
  - name: Forward
    front: "{{Front}}"
    back: "{{FrontSide}}<hr id=answer>{{Back}}{{#Notes}}<div class=notes>{{Notes}}</div>{{/Notes}}"
  - name: Backward
    front: "{{#Notes}}{{Back}}{{/Notes}}"
    back: "{{FrontSide}}<hr id=answer>{{Front}}"
"""
OWN_CLOZE = """\
name: Anatomy Cloze
kind: cloze
fields: [Text, Extra]
templates:
  - {name: Cloze, front: "{{cloze:Text}}", back: "{{cloze:Text}}<div>{{Extra}}</div>"}
"""
OWN_CARDS = """\
subtopic: Regions
cards:
  - id: one-way
    type: anatomy-basic
    fields: {Front: Where is the insula?, Back: Deep in the lateral sulcus.}
  - id: both-ways
    type: anatomy-basic
    fields: {Front: Which lobe covers the insula?, Back: The opercula, Notes: Both directions.}
  - id: own-cloze
    type: anatomy-cloze
    fields: {Text: "The {{c1::insula}} lies in the {{c2::lateral sulcus}}."}
"""


@pytest.fixture
def own(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "own"
    write(root / "decks" / "d.yaml", "name: Anatomy\nnamespace: anatomy-test\ncards: [cards/*.yaml]\n")
    write(root / "notetypes" / "anatomy-basic.yaml", OWN_TYPE)
    write(root / "notetypes" / "anatomy-cloze.yaml", OWN_CLOZE)
    write(root / "cards" / "a.yaml", OWN_CARDS)
    monkeypatch.chdir(root)
    return root


def own_release(root: Path, name: str, now: int) -> Path:
    result = build(Path("decks/d.yaml"), root / "dist", now=now)
    assert result.ok, [p.format() for p in result.problems]
    return Path(shutil.copy(result.output, root / f"{name}.apkg"))


def test_a_note_type_file_takes_tts_and_keeps_its_cards(own, collection):
    v1 = own_release(own, "v1", 1_700_000_000)
    import_package(collection, v1)
    cards_before = collection.card_count()
    models_before = {m["id"]: m["name"] for m in collection.models.all()}
    answered = study_all(collection)
    (own / "notetypes" / "anatomy-basic.yaml").write_text(
        OWN_TYPE + "tts: [{field: Back, lang: en_GB}, {field: Front, lang: en_US, speed: 1.1}]\n")
    (own / "notetypes" / "anatomy-cloze.yaml").write_text(OWN_CLOZE + "tts: {field: Text, lang: de_DE}\n")
    v2 = own_release(own, "v2", 1_700_000_100)
    log = import_package(collection, v2)
    assert not log.new and not log.conflicting
    assert {m["id"]: m["name"] for m in collection.models.all()} == models_before  # in place, no copy
    assert collection.card_count() == cards_before == 5  # the Backward card still only with Notes
    assert collection.db.scalar("select count() from revlog") == answered

    one = collection.get_note(collection.find_notes("Where")[0])
    [forward] = one.cards()
    assert spoken(forward.question_av_tags()) == [("Where is the insula?", "en_US", [], 1.1)]
    assert spoken(forward.answer_av_tags()) == [("Deep in the lateral sulcus.", "en_GB", [], 1.0)]
    both = collection.get_note(collection.find_notes("Which")[0])
    _, back = both.cards()
    assert spoken(back.question_av_tags()) == [("The opercula", "en_GB", [], 1.0)]  # the prompt of Backward
    assert spoken(back.answer_av_tags()) == [("Which lobe covers the insula?", "en_US", [], 1.1)]
    cloze = collection.get_note(collection.find_notes("insula lies")[0]).cards()
    assert [spoken(c.question_av_tags())[0][:2] for c in cloze] == [
        ("The blank lies in the lateral sulcus.", "de_DE"), ("The insula lies in the blank.", "de_DE")]
    model = next(m for m in collection.models.all() if m["name"] == "Anatomy Basic")
    assert model["tmpls"][1]["qfmt"] == ("{{#Notes}}{{Back}}{{/Notes}}"  # read only where the card shows it
                                         "{{#Notes}}{{#Back}}{{tts en_GB:Back}}{{/Back}}{{/Notes}}")
    assert collection.fix_integrity()[1]


@pytest.mark.parametrize("tts, message", [
    ("{field: Text, lang: en_US}", "tts field 'Text' is not a field of note type 'Anatomy Basic'"),
    ("{field: Front, lang: en-GB}", "tts language 'en-GB' is not a language and region code"),
])
def test_a_note_type_files_bad_tts_is_located(own, tts, message):
    (own / "notetypes" / "anatomy-basic.yaml").write_text(OWN_TYPE + f"tts: {tts}\n")
    problems = compile_deck(Path("decks/d.yaml")).problems
    assert [p.message for p in problems if p.severity == "error"][:1] == [message]
    assert problems[0].location.path == "notetypes/anatomy-basic.yaml" and problems[0].location.line == 10


def test_a_field_no_template_shows_cannot_be_read(own):
    hidden = OWN_TYPE.replace("{{#Notes}}<div class=notes>{{Notes}}</div>{{/Notes}}", "")
    (own / "notetypes" / "anatomy-basic.yaml").write_text(hidden + "tts: {field: Notes, lang: en_US}\n")
    [problem] = [p for p in compile_deck(Path("decks/d.yaml")).problems if p.severity == "error"]
    assert problem.message == "no template of note type 'Anatomy Basic' shows the field 'Notes'"
    assert problem.location.line == 10


# Fronts built from fields, sections (also negated and nested) and filters: adding tts never
# changes which fields make a front render, so Anki makes the same cards.
FIELDS = ["A", "B", "C"]
pieces = st.recursive(
    st.sampled_from(["{{A}}", "{{B}}", "{{C}}", "{{text:A}}", "{{type:B}}", "x", "{{hint:C}}", "{{FrontSide}}"]),
    lambda inner: st.tuples(st.sampled_from(FIELDS), st.booleans(), st.lists(inner, max_size=3)).map(
        lambda t: f"{{{{{'^' if t[1] else '#'}{t[0]}}}}}{''.join(t[2])}{{{{/{t[0]}}}}}"),
    max_leaves=6)


@settings(max_examples=300, deadline=None)
@given(st.lists(pieces, min_size=1, max_size=4).map("".join), st.lists(pieces, max_size=3).map("".join),
       st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3, unique=True))
def test_tts_never_changes_which_cards_a_template_makes(front, back, spoken_fields):
    from itertools import combinations

    from neurodeck.apkg import templates
    from neurodeck.apkg.notetypes import Template
    from neurodeck.apkg.speech import speak
    from neurodeck.model import Speech, Text

    speeches = [Speech(Text(f, Location("n.yaml", 1, 1)), Text("en_US", Location("n.yaml", 1, 1)))
                for f in spoken_fields]
    spoken_template = speak(Template("T", front, back, 1), speeches)
    before, after = templates.parse(front), templates.parse(spoken_template.qfmt)
    for size in range(len(FIELDS) + 1):
        for nonempty in combinations(FIELDS, size):
            assert templates.renders_with(before, set(nonempty)) == templates.renders_with(after, set(nonempty))
    assert spoken_template.qfmt.startswith(front) and spoken_template.afmt.startswith(back)


def test_the_readme_note_type_tts_example_builds(own, collection):
    from conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = re.search(r"`(tts: \{field: Structure, lang: en_US\})`", readme).group(1)
    renamed = OWN_TYPE.replace("Front,", "Structure,").replace("{{Front}}", "{{Structure}}")
    (own / "notetypes" / "anatomy-basic.yaml").write_text(renamed + example + "\n")
    (own / "cards" / "a.yaml").write_text(OWN_CARDS.replace("Front:", "Structure:"))
    result = build(Path("decks/d.yaml"), own / "dist")
    assert result.ok, [p.format() for p in result.problems]
    import_package(collection, result.output)
    [card] = collection.get_note(collection.find_notes("Where")[0]).cards()
    assert spoken(card.question_av_tags()) == [("Where is the insula?", "en_US", [], 1.0)]


def test_a_sound_in_a_field_read_aloud_is_a_warning_as_anki_would_read_its_name(project, tmp_path, collection):
    import sounds

    (project / "cards" / "media" / "tone.wav").write_bytes(sounds.wav())
    write(project / "cards" / "s.yaml", 'subtopic: Sounds\ncards:\n  - id: tone\n'
                                        '    question: "Which tone? [sound:media/tone.wav]"\n    answer: A4\n')
    with_tts(project, "[{field: Question, lang: en_US}, {field: Answer, lang: en_US}]")
    result = build(MANIFEST, tmp_path / "out")
    assert result.ok
    [warning] = result.problems
    assert warning.severity == "warning" and warning.location == Location("cards/s.yaml", 3, 5)  # the card
    assert warning.message == ("field 'Question' of card 'tone' holds a sound and is read aloud (tts): "
                               "Anki would read the sound's file name aloud")
    import_package(collection, result.output)
    [card] = note(collection, "tone").cards()
    [read] = [t for t in card.question_av_tags() if hasattr(t, "lang")]
    assert "[sound:tone-" in read.field_text  # what the warning is about
    with_tts(project, "{field: Answer, lang: en_US}")
    assert build(MANIFEST, tmp_path / "out").problems == []
