"""The straightforward pipeline the performance targets are measured against (issue 7), exactly:
PyYAML `load` with libyaml, markdown-it-py per question and answer, genanki notes on one basic
model, one genanki deck, `Package(deck).write_to_file(path)`.

    python benchmarks/reference.py PROJECT_DIR OUT.apkg
"""
from __future__ import annotations

import glob
import sys
from pathlib import Path

import genanki
import yaml
from markdown_it import MarkdownIt

MODEL = genanki.Model(
    1607392319, "Reference Basic",
    fields=[{"name": "Question"}, {"name": "Answer"}],
    templates=[{"name": "Card 1", "qfmt": "{{Question}}", "afmt": "{{FrontSide}}<hr id=answer>{{Answer}}"}],
)


def build(project: Path, out: Path) -> None:
    md = MarkdownIt("commonmark")
    deck = genanki.Deck(2059400110, "Reference")
    for path in sorted(glob.glob(str(project / "cards" / "*.yaml"))):
        with open(path, encoding="utf-8") as f:
            data = yaml.load(f.read(), Loader=yaml.CSafeLoader)
        for card in data["cards"]:
            deck.add_note(genanki.Note(
                model=MODEL,
                fields=[md.render(card["question"]), md.render(card["answer"])],
                guid=genanki.guid_for(card["id"]),
                tags=card.get("tags", []),
            ))
    genanki.Package(deck).write_to_file(str(out))


if __name__ == "__main__":
    build(Path(sys.argv[1]), Path(sys.argv[2]))
