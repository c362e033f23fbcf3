"""Make a large deck the way an educator's Anki holds one, and export it as Anki does.

    python benchmarks/anki_package.py OUT.apkg --notes 30000 [--legacy]

Notes of a basic note type of the deck's own and a cloze type in 20 subdecks, with the markup
Anki's editor writes (divs, bold, line breaks, styled spans), three tags each and an image in one
note of a hundred; exported with the official `anki` library (the test extra), in the current
format (collection.anki21b, zstd) unless --legacy.
"""
from __future__ import annotations

import argparse
import base64
import random
import tempfile
from pathlib import Path

WORDS = (
    "neuron axon dendrite synapse receptor cortex insula cingulate striatum accumbens dopamine "
    "oxytocin vasopressin hypothalamus pituitary amygdala hippocampus thalamus cerebellum glia "
    "myelin potential channel sodium potassium calcium release binding ligand agonist antagonist"
).split()
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def make(out: Path, notes: int, legacy: bool = False, seed: int = 1) -> Path:
    from anki.collection import AddNoteRequest, Collection, DeckIdLimit, ExportAnkiPackageOptions

    rng = random.Random(seed)

    def words(count: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(count))

    with tempfile.TemporaryDirectory(prefix="neurodeck-anki-") as tmp:
        col = Collection(str(Path(tmp) / "collection.anki2"))
        try:
            mm = col.models
            basic = mm.copy(mm.by_name("Basic"), add=False)
            basic["name"] = "Neuro Basic"
            mm.add(basic)
            cloze = mm.copy(mm.by_name("Cloze"), add=False)
            cloze["name"] = "Neuro Cloze"
            mm.add(cloze)
            basic, cloze = mm.by_name("Neuro Basic"), mm.by_name("Neuro Cloze")
            decks = [col.decks.id(f"Neuroscience::Part {i:02d}") for i in range(20)]
            for i in range(30):
                col.media.write_data(f"figure {i}.png", PNG)
            requests = []
            for i in range(notes):
                if i % 5 == 4:
                    note = col.new_note(cloze)
                    note["Text"] = f"<div>The {{{{c1::{words(2)}}}}} {words(8)} ({i})</div>"
                    note["Back Extra"] = f"<i>{words(6)}</i>"
                else:
                    note = col.new_note(basic)
                    note["Front"] = f"<div>{words(9).capitalize()} ({i})?</div>"
                    back = f'<b>{words(3)}</b> {words(20)}<br><span style="color: rgb(0, 0, 255);">{words(4)}</span>'
                    note["Back"] = back + (f' <img src="figure {i % 30}.png">' if i % 100 == 0 else "")
                note.tags = [f"topic{rng.randrange(40)}" for _ in range(3)]
                requests.append(AddNoteRequest(note=note, deck_id=decks[i % 20]))
            col.add_notes(requests)
            col.export_anki_package(out_path=str(out), limit=DeckIdLimit(col.decks.id("Neuroscience")),
                                    options=ExportAnkiPackageOptions(with_scheduling=False, with_deck_configs=False,
                                                                     with_media=True, legacy=legacy))
        finally:
            col.close()
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--notes", type=int, default=30000)
    parser.add_argument("--legacy", action="store_true")
    args = parser.parse_args()
    make(args.out, args.notes, args.legacy)
