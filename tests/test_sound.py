"""Sound: `[sound:path]` in any field packages the file like an image (checked by content, under a
content-hashed name), or is a located error; Anki imports the result and plays it."""
from __future__ import annotations

import hashlib
import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sounds
from conftest import MANIFEST as MANIFEST_TEXT
from conftest import import_package, write
from neurodeck.model import Location, Text
from neurodeck.pipeline.build import build, compile_deck
from neurodeck.render.audio import sniff_audio
from neurodeck.render.markdown import render_field

MANIFEST = Path("decks/test-deck.yaml")


def sound_card(project: Path, field: str, key: str = "question") -> None:
    escaped = field.replace("\\", "\\\\").replace('"', '\\"')
    other = "answer" if key == "question" else "question"
    write(project / "cards" / "s.yaml",
          f'subtopic: Sounds\ncards:\n  - id: s\n    {other}: "Plain."\n    {key}: "{escaped}"\n')


def anki_note(col, card_id: str):
    [nid] = col.find_notes(f"Id:{card_id}")
    return col.get_note(nid)


# ---- the sniffer -------------------------------------------------------------------------------

@pytest.mark.parametrize("ext", sorted(sounds.GOOD))
def test_each_format_is_recognised_by_its_content(ext):
    assert sniff_audio(sounds.GOOD[ext]()) == ext


def test_an_id3_tag_must_be_followed_by_audio():
    assert sniff_audio(sounds.mp3_with_id3()) == ".mp3"
    assert sniff_audio(sounds.id3() + sounds.aac()) == ".aac"


@pytest.mark.parametrize("name", sorted(sounds.BAD))
def test_what_only_looks_like_sound_is_refused(name):
    assert sniff_audio(sounds.BAD[name]) is None


# ---- in the official engine --------------------------------------------------------------------

FORMATS = sorted(sounds.GOOD) + ["id3"]


def _bytes(ext: str) -> bytes:
    return sounds.mp3_with_id3() if ext == "id3" else sounds.GOOD[ext]()


@pytest.mark.parametrize("ext", FORMATS)
def test_every_format_is_packaged_and_anki_plays_it(project, tmp_path, collection, ext):
    data = _bytes(ext)
    # a misleading extension: the content decides the packaged name's
    (project / "cards" / "media" / "my clip.snd").write_bytes(data)
    sound_card(project, "Which sound is this? [sound:media/my clip.snd]")
    result = build(MANIFEST, tmp_path / "out")
    assert result.ok, [p.format() for p in result.problems]
    stored = f"my-clip-{hashlib.sha256(data).hexdigest()[:16]}{sniff_audio(data)}"
    assert result.compiled.media.files[stored] == data

    import_package(collection, result.output)
    note = anki_note(collection, "s")
    assert note["Question"] == f"Which sound is this? [sound:{stored}]"
    card = note.cards()[0]
    assert "[anki:play:q:0]" in card.question() and "[anki:play:a:0]" in card.answer()
    assert [tag.filename for tag in card.question_av_tags()] == [stored]
    assert (Path(collection.media.dir()) / stored).read_bytes() == data
    check = collection.media.check()
    assert list(check.missing) == [] and list(check.unused) == []
    assert collection.fix_integrity()[1]


def test_a_sound_in_every_kind_of_field_and_card(project, tmp_path, collection):
    (project / "cards" / "media" / "tone.wav").write_bytes(sounds.wav())
    write(project / "cards" / "s.yaml", """\
        subtopic: Sounds
        cards:
          - id: s-basic
            question: "[sound:media/tone.wav]"
            answer: A tone.
            extra: "Again: [sound:media/tone.wav]"
          - id: s-reversed
            type: reversed
            question: Tone
            answer: "[sound:media/tone.wav]"
          - id: s-cloze
            type: cloze
            text: "The {{c1::tone [sound:media/tone.wav]}} is a {{c2::sine}}."
          - id: s-type-in
            type: type-in
            question: "Name the note: [sound:media/tone.wav]"
            answer: A
        """)
    result = build(MANIFEST, tmp_path / "out")
    assert result.ok, [p.format() for p in result.problems]
    [stored] = [n for n in result.compiled.media.files if n.endswith(".wav")]
    import_package(collection, result.output)
    played = {}
    for card_id in ("s-basic", "s-reversed", "s-cloze", "s-type-in"):
        for card in anki_note(collection, card_id).cards():
            played[(card_id, card.ord)] = ([t.filename for t in card.question_av_tags()],
                                           [t.filename for t in card.answer_av_tags()])
    assert played[("s-basic", 0)] == ([stored], [stored, stored])  # the extra plays it again
    assert played[("s-reversed", 0)] == ([], [stored])
    assert played[("s-reversed", 1)] == ([stored], [stored])
    assert played[("s-cloze", 0)] == ([], [stored])  # hidden in the deletion until the answer
    assert played[("s-cloze", 1)] == ([stored], [stored])
    assert played[("s-type-in", 0)] == ([stored], [stored])
    check = collection.media.check()
    assert list(check.missing) == [] and list(check.unused) == []


# ---- located errors ----------------------------------------------------------------------------

@pytest.mark.parametrize("reference, message", [
    ("media/none.mp3", "sound 'media/none.mp3' not found"),
    ("https://t.example/a.mp3", "is not a file in the project"),
    ("HTTP://t.example/a.mp3", "is not a file in the project"),
    ("//t.example/a.mp3", "is not a file in the project"),
    ("/etc/passwd", "is not a file in the project"),
    ("C:\\sounds\\a.mp3", "is not a file in the project"),
    ("file:a.mp3", "is not a file in the project"),
    ("../../../outside.mp3", "is outside the project"),
    ("", "is not a file in the project"),
    ("media/insula.png", "is not an MP3, AAC, Ogg (Vorbis or Opus), WAV, M4A or WebM sound file"),
    ("media/cut.mp3", "is not an MP3"),
])
def test_bad_references_are_located_errors(project, tmp_path, reference, message):
    (project / "cards" / "media" / "cut.mp3").write_bytes(sounds.id3())  # a tag, the audio cut off
    (tmp_path / "outside.mp3").write_bytes(sounds.mp3())
    sound_card(project, f"Listen: [sound:{reference}]")
    result = build(MANIFEST, tmp_path / "out")
    assert result.output is None and not (tmp_path / "out").exists()
    [problem] = [p for p in result.problems if p.severity == "error"]
    assert message in problem.message and problem.hint
    assert problem.location == Location("cards/s.yaml", 5, 15)


def test_an_image_used_as_a_sound_and_a_sound_as_an_image_say_which_syntax_fits(project):
    (project / "cards" / "media" / "tone.wav").write_bytes(sounds.wav())
    sound_card(project, "Listen: [sound:media/insula.png] ![tone](media/tone.wav)")
    hints = sorted(p.hint for p in compile_deck(MANIFEST).problems)
    assert hints == ["it is a sound file: play it with [sound:media/tone.wav]",
                     "it is an image: show it with ![description](media/insula.png)"]


def test_the_deck_description_plays_no_sound(project):
    (project / "cards" / "media" / "tone.wav").write_bytes(sounds.wav())
    manifest = project / "decks" / "test-deck.yaml"
    manifest.write_text(manifest.read_text().replace("A *small* deck for tests.", '"[sound:../cards/media/tone.wav]"'))
    problems = compile_deck(MANIFEST).problems
    assert [p.message for p in problems] == [
        "the deck description cannot play the sound '../cards/media/tone.wav'"]


# ---- through Markdown --------------------------------------------------------------------------

def resolve(reference: str, location: Location, kind: str = "image"):
    return f"stored-{kind}-{len(reference)}.mp3"


@pytest.mark.parametrize("written", [
    "[sound:media/a_b_c_.mp3]", "[sound:media/*x*.mp3]", "[sound:media/x.mp3](https://t.example/)",
    "[sound:media/`x`.mp3]", "[sound:media/<b>.mp3]", "[sound:media/x&amp;y.mp3]", "[sound:media/x\\_y.mp3]",
    "**[sound:media/x.mp3]**", "[sound:media/[x.mp3]", "- [sound:media/x.mp3]",
])
def test_a_sound_tag_survives_markdown_unescaped_and_is_never_a_link(written):
    out = render_field(Text(written, Location("x.yaml", 1, 1)), resolve)
    reference = written[written.index("[sound:") + 7:written.index("]", written.index("[sound:"))]
    assert f"[sound:stored-sound-{len(reference)}.mp3]" in out.html, out.html
    assert "<a" not in out.html and out.problems == []
    assert out.media == [f"stored-sound-{len(reference)}.mp3"]


def test_sound_syntax_made_another_way_is_still_refused(project):
    # cmark decodes the character reference to "[": Anki would read a sound tag neurodeck never checked
    sound_card(project, "&#91;sound:media/x.mp3]")
    [problem] = compile_deck(MANIFEST).problems
    assert "Anki's own sound syntax" in problem.message and problem.location.line == 5


def test_a_sound_the_sanitiser_removes_is_not_packaged(project, tmp_path):
    (project / "cards" / "media" / "tone.wav").write_bytes(sounds.wav())
    sound_card(project, "Text <script>[sound:media/tone.wav]</script>")
    result = build(MANIFEST, tmp_path / "out")
    assert result.ok and not [n for n in result.compiled.media.files if n.endswith(".wav")]


def test_a_changed_sound_gets_a_new_name_and_the_cache_notices(project, tmp_path):
    clip = project / "cards" / "media" / "tone.wav"
    clip.write_bytes(sounds.wav(0.05))
    sound_card(project, "[sound:media/tone.wav]")
    first = build(MANIFEST, tmp_path / "out")
    clip.write_bytes(sounds.wav(0.06))
    second = build(MANIFEST, tmp_path / "out")
    names = [sorted(n for n in r.compiled.media.files if n.endswith(".wav")) for r in (first, second)]
    assert names[0] != names[1] and all(len(n) == 1 for n in names)
    assert second.compiled.media.files[names[1][0]] == clip.read_bytes()
    again = build(MANIFEST, tmp_path / "again")  # from the cache: the sound is adopted, not lost
    assert again.sha256 == second.sha256 and again.compiled.media.files == second.compiled.media.files


# ---- generated references ----------------------------------------------------------------------

@st.composite
def references(draw):
    """A sound reference and the files the project holds: good files of every format (some
    truncated), files with other content, missing, remote and escaping paths."""
    files: dict[str, bytes] = {}
    kind = draw(st.sampled_from(["good", "good", "truncated", "bad", "missing", "remote", "escaping"]))
    name = draw(st.sampled_from(["a.mp3", "b.ogg", "c d.wav", "e_f.m4a", "g*h.webm", "i.opus", "j.aac", "k"]))
    if kind in ("good", "truncated"):
        data = _bytes(draw(st.sampled_from(FORMATS)))
        if kind == "truncated":
            data = data[:draw(st.integers(0, len(data) - 1))]
        files[name] = data
    elif kind == "bad":
        files[name] = draw(st.sampled_from(sorted(sounds.BAD.values())) | st.binary(max_size=40))
    reference = {"remote": draw(st.sampled_from(["https://t.example/a.mp3", "//t.example/a.mp3", "/tmp/a.mp3"])),
                 "escaping": "../../" + name}.get(kind, "media/" + name)
    field = draw(st.sampled_from(["question", "answer", "extra", "source"]))
    return files, reference, field


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(references(), min_size=1, max_size=3))
@example([({"a.mp3": sounds.mp3_with_id3()}, "media/a.mp3", "question"),
          ({"b.ogg": sounds.opus()}, "media/b.ogg", "extra")])
def test_generated_sound_references_are_errors_or_import_cleanly(generated):
    from anki.collection import Collection

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "proj"
        write(root / "decks" / "test-deck.yaml", MANIFEST_TEXT)
        (root / "cards" / "media").mkdir(parents=True)
        lines = ["subtopic: Sounds", "cards:"]
        for i, (files, reference, field) in enumerate(generated):
            for name, data in files.items():
                (root / "cards" / "media" / name).write_bytes(data)
            lines += [f"  - id: s{i}", "    question: Q" if field != "question" else "",
                      "    answer: A" if field != "answer" else "", f'    {field}: "x [sound:{reference}]"']
        (root / "cards" / "s.yaml").write_text("\n".join(line for line in lines if line) + "\n")
        result = build(root / "decks" / "test-deck.yaml", root / "dist")
        errors = [p for p in result.problems if p.severity == "error"]
        if errors:
            assert result.output is None
            assert all(p.location.path.endswith("s.yaml") and p.location.line > 0 and p.hint for p in errors), \
                [p.format() for p in errors]
            return
        packaged = set(result.compiled.media.files)
        assert len(packaged) == len({reference for _, reference, _ in generated})
        assert all(sniff_audio(data) for data in result.compiled.media.files.values())
        (Path(folder) / "student").mkdir()
        col = Collection(str(Path(folder) / "student" / "collection.anki2"))
        try:
            log = import_package(col, result.output)
            assert len(log.new) == len(generated) and not log.conflicting
            media = Path(col.media.dir())
            assert {p.name for p in media.iterdir()} == packaged
            assert all((media / name).read_bytes() == data for name, data in result.compiled.media.files.items())
            played = {tag.filename for cid in col.find_cards("") for card in [col.get_card(cid)]
                      for tag in [*card.question_av_tags(), *card.answer_av_tags()]}
            assert played <= packaged and played >= {n for n in packaged}
            check = col.media.check()
            assert list(check.missing) == [] and list(check.unused) == []
            assert col.fix_integrity()[1]
        finally:
            col.close()



# ---- the README ----------------------------------------------------------------------------------

def readme_example(bullet: str) -> str:
    """The YAML block of the README's card-file bullet that starts with `bullet`, unindented."""
    from conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index(f"\n- {bullet}")
    block = readme[readme.index("```yaml\n", start) + 8:readme.index("```", readme.index("```yaml\n", start) + 8)]
    return textwrap.dedent(block)


def test_the_readme_sound_example_builds_and_plays(project, tmp_path, collection):
    (project / "cards" / "media" / "a440.wav").write_bytes(sounds.wav())
    (project / "cards" / "s.yaml").write_text("subtopic: Sounds\ncards:\n" + textwrap.indent(
        readme_example("Sounds:"), "  "))
    result = build(MANIFEST, tmp_path / "out")
    assert result.ok, [p.format() for p in result.problems]
    import_package(collection, result.output)
    [card] = anki_note(collection, "tone-a4").cards()
    [tag] = card.question_av_tags()
    assert tag.filename.startswith("a440-") and tag.filename.endswith(".wav")


# ---- the scaffolds -----------------------------------------------------------------------------

def test_init_and_new_scaffold_a_sound_card_that_anki_plays_and_a_tts_line(tmp_path, monkeypatch, collection):
    import wave

    import neurodeck as nd
    from neurodeck.commands.scaffold import TONE, example_tone, new_card_file

    written, problems = nd.init_project("My Deck", tmp_path)
    assert problems == [] and written is not None
    tone = tmp_path / "cards" / "media" / TONE
    with wave.open(str(tone)) as w:  # a real tone: 0.1 s of 8 kHz mono
        assert (w.getnchannels(), w.getframerate(), w.getnframes()) == (1, 8000, 800)
    assert sniff_audio(tone.read_bytes()) == ".wav" and len(tone.read_bytes()) < 1000
    manifest = tmp_path / "decks" / "my-deck.yaml"
    path, problems = new_card_file("Pair Bonding", tmp_path, manifest)
    assert problems == [] and path is not None
    assert tone in written and tone.read_bytes() == example_tone()  # new shares it
    # the manifest's commented example, switched on as a user would
    text = manifest.read_text()
    assert "\n# tts: {field: Answer, lang: en_US}\n" in text
    manifest.write_text(text.replace("\n# tts: ", "\ntts: "))
    monkeypatch.chdir(tmp_path)
    result = build(Path("decks/my-deck.yaml"), tmp_path / "dist")
    assert result.problems == [], [p.format() for p in result.problems]
    [stored] = [name for name in result.compiled.media.files if name.endswith(".wav")]  # (and a picture)
    import_package(collection, result.output)
    for card_id in ("tone-a4-standard-pitch", "pair-bonding-example-sound"):
        [card] = anki_note(collection, card_id).cards()
        assert [t.filename for t in card.question_av_tags()] == [stored]
        assert [t.lang for t in card.answer_av_tags() if hasattr(t, "lang")] == ["en_US"]  # the answer read aloud
    assert (Path(collection.media.dir()) / stored).read_bytes() == tone.read_bytes()
    check = collection.media.check()
    assert list(check.missing) == [] and list(check.unused) == []
    assert collection.fix_integrity()[1]


def test_new_keeps_an_existing_tone_and_writes_nothing_when_it_cannot(tmp_path, monkeypatch):
    from neurodeck.apkg import files
    from neurodeck.commands.scaffold import TONE, new_card_file

    mine = tmp_path / "cards" / "media" / TONE
    mine.parent.mkdir(parents=True)
    mine.write_bytes(sounds.mp3())  # the author's own file under that name: never replaced
    path, problems = new_card_file("One", tmp_path)
    assert problems == [] and mine.read_bytes() == sounds.mp3()
    mine.unlink()
    real = files.write_atomic

    def failing(target, data):
        if Path(target).name == TONE:
            raise OSError(28, "No space left on device")
        return real(target, data)

    monkeypatch.setattr(files, "write_atomic", failing)
    path, problems = new_card_file("Two", tmp_path)
    assert path is None and "No space left" in problems[0].message
    assert not (tmp_path / "cards" / "two.yaml").exists() and not mine.exists()
