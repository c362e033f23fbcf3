"""One manifest and the cards of every card file its globs match, as written (not rendered)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from neurodeck.model import Card, Manifest, Problem, has_errors
from neurodeck.project import card_files
from neurodeck.source.cards import load_card_file
from neurodeck.source.manifest import load_manifest
from neurodeck.source.notetypes import load_notetypes


@dataclass
class LoadedDeck:
    """A manifest with its cards in build order, and every problem met while reading them."""

    manifest_path: Path
    manifest: Manifest | None = None
    cards: list[Card] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not has_errors(self.problems)


def load_deck(manifest_path: Path) -> LoadedDeck:
    """Read a manifest and its card files; problems are values, nothing raises for bad input."""
    deck = LoadedDeck(manifest_path)
    deck.manifest, deck.problems = load_manifest(manifest_path)
    if deck.manifest is None:
        return deck
    own = load_notetypes(deck.manifest)
    deck.problems += own.problems
    paths, problems = card_files(deck.manifest)
    deck.problems += problems
    for path in paths:
        card_file, problems = load_card_file(path, own.notetypes)
        deck.problems += problems
        if card_file is not None:
            deck.cards += card_file.cards
    return deck
