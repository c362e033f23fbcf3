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
    assert done.returncode == 0, done.stderr
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
