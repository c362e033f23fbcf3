"""Write lint ND113's reference corpus: generator/neurodeck/checks/reference_words.txt.

    python scripts/reference_words.py decks/neurobiology-of-intimacy.yaml

ND113 weighs a word by how few documents of a fixed corpus use it (inverse document frequency).
The corpus is a frozen snapshot: one document per card of the manifest's deck (question, answer,
cloze text and extra), the words folded as ND113 folds them. Lint never recomputes it from the deck
it checks, so adding cards to a deck cannot change the verdict on a pair of other cards. Rerun this
only to refresh the vocabulary on purpose, and commit the table with the reason.
"""
from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from neurodeck.checks.near_duplicates import document_words
from neurodeck.source.deck import load_deck

TABLE = Path(__file__).resolve().parent.parent / "generator" / "neurodeck" / "checks" / "reference_words.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    args = parser.parse_args()
    deck = load_deck(args.manifest)
    documents = [document_words(c) for c in deck.cards if not c.retired]
    frequency = Counter(w for words in documents for w in words)
    lines = ["# ND113 reference corpus (scripts/reference_words.py): word, number of documents using it.",
             "# Words used by one document or none are left out; lint weighs them as used once.",
             f"documents {len(documents)}"]
    lines += [f"{word} {count}" for word, count in sorted(frequency.items()) if count > 1]
    TABLE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{TABLE}: {len(documents)} documents, {len(lines) - 3} words")


if __name__ == "__main__":
    main()
