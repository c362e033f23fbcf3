"""The oldest Anki engine we support (2.1.66) imports what neurodeck builds, and studies it.

2.1.66 runs in its own virtual environment (its wheel needs Python 3.11; .ci/run makes it), so
each test drives it through a script, as `check-upgrade --anki-python` does. Its API differs
from today's: `import_anki_package(path)` takes no options, there are no import presets, and
answering a card needs `card.start_timer()` first.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import OLD_ANKI, release
from neurodeck.pipeline.build import build

MANIFEST = Path("decks/test-deck.yaml")

STUDENT = r"""
import json, sys, tempfile
from pathlib import Path
from anki.collection import Collection
from anki.buildinfo import version
from anki.scheduler.v3 import CardAnswer

out = {"engine": version, "imports": []}
with tempfile.TemporaryDirectory() as tmp:
    col = Collection(str(Path(tmp) / "collection.anki2"))
    for package in sys.argv[1:]:
        log = col.import_anki_package(package).log
        out["imports"].append({k: len(getattr(log, k)) for k in ("new", "updated", "duplicate", "conflicting")})
        col.models._clear_cache()
        if len(out["imports"]) == 1:  # study everything once after the first import
            for cid in col.find_cards(""):
                card = col.get_card(cid)
                card.start_timer()
                states = col._backend.get_scheduling_states(card.id)
                col.sched.answer_card(col.sched.build_answer(card=card, states=states, rating=CardAnswer.GOOD))
    out["decks"] = sorted(d.name for d in col.decks.all_names_and_ids())
    out["types"] = sorted(n.name for n in col.models.all_names_and_ids())
    out["notes"] = {}
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        out["notes"][note.fields[-1]] = {"fields": list(note.fields), "tags": list(note.tags),
                                         "type": note.note_type()["name"], "cards": len(note.cards())}
    out["reviews"] = col.db.scalar("select count() from revlog")
    out["rendered"] = [col.get_card(cid).answer() != "" for cid in col.find_cards("")]
    check = col.media.check()
    out["missing"], out["unused"] = list(check.missing), list(check.unused)
    out["integrity"] = list(col.fix_integrity())
    col.close()
json.dump(out, sys.stdout)
"""


def student(python: str, *packages: Path) -> dict:
    done = subprocess.run([python, "-I", "-c", STUDENT, *map(str, packages)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0 and done.stdout, done.stderr
    return json.loads(done.stdout)


def test_the_oldest_engine_imports_every_note_type_with_media(project, old_anki):
    package = build(MANIFEST, project / "dist", now=1_700_000_000).output
    seen = student(old_anki, package)
    assert seen["engine"] == OLD_ANKI
    assert seen["imports"] == [{"new": 5, "updated": 0, "duplicate": 0, "conflicting": 0}]
    assert {"Test Deck", "Test Deck::Mirror Neurons", "Test Deck::Neuropeptides"} <= set(seen["decks"])
    cards = {name: note["cards"] for name, note in seen["notes"].items()}
    assert cards == {"mn-discovery": 1, "mn-f5-cloze": 2, "mn-term": 2, "ot-site": 1, "ot-image": 1}
    assert "td::motor-system" in seen["notes"]["mn-discovery"]["tags"]
    assert seen["reviews"] == 7 and all(seen["rendered"])
    assert seen["missing"] == [] and seen["unused"] == []
    assert seen["integrity"] == ["Database rebuilt and optimized.", True]


def test_the_oldest_engine_updates_exactly_the_edited_note_and_keeps_reviews(project, old_anki):
    v1 = release(project, "v1", 1_700_000_000)
    cards = project / "cards" / "a.yaml"
    cards.write_text(cards.read_text().replace("Single-unit recordings.", "Edited."))
    v2 = release(project, "v2", 1_700_000_100)
    seen = student(old_anki, v1, v2)
    assert seen["imports"][1] == {"new": 0, "updated": 1, "duplicate": 4, "conflicting": 0}
    assert seen["notes"]["mn-discovery"]["fields"][2] == "Edited."
    assert seen["reviews"] == 7


AV_TAGS = r"""
import json, sys, tempfile
from pathlib import Path
from anki.collection import Collection
from anki.scheduler.v3 import CardAnswer

out = {"imports": [], "av": {}}
with tempfile.TemporaryDirectory() as tmp:
    col = Collection(str(Path(tmp) / "collection.anki2"))
    for package in sys.argv[1:]:
        log = col.import_anki_package(package).log
        out["imports"].append({k: len(getattr(log, k)) for k in ("new", "updated", "conflicting")})
        col.models._clear_cache()
        if len(out["imports"]) == 1:
            for cid in col.find_cards(""):
                card = col.get_card(cid)
                card.start_timer()
                states = col._backend.get_scheduling_states(card.id)
                col.sched.answer_card(col.sched.build_answer(card=card, states=states, rating=CardAnswer.GOOD))
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        out["av"][f"{card.note().fields[-1]}/{card.ord}"] = [
            [getattr(t, "filename", None) or [t.lang, t.field_text] for t in tags]
            for tags in (card.question_av_tags(), card.answer_av_tags())]
    out["types"] = sorted(m["name"] for m in col.models.all())
    out["reviews"] = col.db.scalar("select count() from revlog")
    check = col.media.check()
    out["missing"], out["unused"] = list(check.missing), list(check.unused)
    out["integrity"] = list(col.fix_integrity())
    col.close()
json.dump(out, sys.stdout)
"""


def test_the_oldest_engine_plays_sounds_and_reads_tts_added_in_an_upgrade(project, old_anki):
    import sounds

    v1 = release(project, "v1", 1_700_000_000)
    (project / "cards" / "media" / "tone.wav").write_bytes(sounds.wav())
    (project / "cards" / "s.yaml").write_text(
        'subtopic: Sounds\ncards:\n  - id: tone\n    question: "Which tone? [sound:media/tone.wav]"\n'
        "    answer: A4\n")
    manifest = project / "decks" / "test-deck.yaml"
    manifest.write_text(manifest.read_text() + "tts: {field: Answer, lang: en_US}\n")
    v2 = release(project, "v2", 1_700_000_100)
    done = subprocess.run([old_anki, "-I", "-c", AV_TAGS, str(v1), str(v2)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["imports"] == [{"new": 5, "updated": 0, "conflicting": 0}, {"new": 1, "updated": 0, "conflicting": 0}]
    ours = [name for name in seen["types"] if name.startswith("neurodeck ")]
    assert len(ours) == 4 and not any(name.endswith("+") for name in seen["types"])  # updated in place
    [stored] = [n for n in build(MANIFEST, project / "dist").compiled.media.files if n.endswith(".wav")]
    assert seen["av"]["tone/0"] == [[stored], [stored, ["en_US", "A4"]]]  # the back shows the question again
    assert seen["av"]["mn-discovery/0"][1] == [["en_US", "In area F5 of the macaque ventral premotor cortex."]]
    assert seen["reviews"] == 7 and seen["missing"] == [] and seen["unused"] == []
    assert seen["integrity"] == ["Database rebuilt and optimized.", True]
