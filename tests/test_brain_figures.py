"""The bundled deck's brain figures (drawn by scripts/brain_figures.py; README: Brain figures).

The script needs the optional `figures` extra and is not run here: these tests check what it left
committed. The PNGs in cards/figures/ are those figures.json lists, and the cards show every region
figure;
every card showing one credits, in its `source`, the template, the atlas and their licences that
figures.json names for it; the files are small and carry no time or text that would change their
bytes from one run to the next."""
from __future__ import annotations

import json
import re
import struct
from pathlib import Path

from conftest import REPO
from neurodeck.model import Card, has_errors
from neurodeck.source.deck import load_deck

FIGURES = REPO / "cards" / "figures"
MANIFEST = json.loads((FIGURES / "figures.json").read_text())
ENTRIES = {entry["file"]: entry for entry in MANIFEST["figures"] + MANIFEST["bases"]}
_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*([^)\s]+)")


def bundled_cards() -> list[Card]:
    deck = load_deck(REPO / "decks" / "neurobiology-of-intimacy.yaml")
    assert not has_errors(deck.problems), deck.problems
    return deck.cards


def shown(card: Card) -> set[Path]:
    """The files a card shows: Markdown images in any text field, and an occlusion card's image."""
    fields = (card.question, card.answer, card.text, card.extra, card.header, card.back_extra)
    paths = [m.group(1) for f in fields if f is not None for m in _IMAGE.finditer(f.value)]
    if card.image is not None:
        paths.append(card.image.value)
    return {(card.file_path.parent / p).resolve() for p in paths}


def test_the_committed_figures_are_exactly_those_the_cards_show_and_the_manifest_lists():
    committed = {p.resolve() for p in FIGURES.glob("*.png")}
    in_cards = {p for card in bundled_cards() for p in shown(card) if p.parent == FIGURES.resolve()}
    assert {FIGURES.resolve() / name for name in ENTRIES} == committed
    assert sorted(p.name for p in in_cards - committed) == [], "figures cards show that are not committed"
    # The unlabelled base images wait for the occlusion cards (issue 15's card type).
    regions = {FIGURES.resolve() / e["file"] for e in MANIFEST["figures"]}
    assert sorted(p.name for p in regions - in_cards) == [], "committed region figures no card shows"
    assert len(MANIFEST["figures"]) >= 20 and len({e["region"] for e in MANIFEST["figures"]}) >= 8


def test_every_card_showing_a_figure_credits_its_template_atlas_and_licences():
    checked = 0
    for card in bundled_cards():
        for path in shown(card):
            if path.parent != FIGURES.resolve():
                continue
            source = card.source.value if card.source is not None else ""
            missing = [credit for credit in ENTRIES[path.name]["credits"] if credit not in source]
            assert missing == [], f"{card.id.value} shows {path.name} but its source does not name {missing}"
            checked += 1
    assert checked >= len(MANIFEST["figures"])


def png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    kinds, at = [], 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        kinds.append(kind)
        at += 12 + length
    assert at == len(data) and kinds[-1] == b"IEND"
    return kinds


def test_figures_are_small_pngs_whose_bytes_carry_no_time_or_text():
    sizes = {}
    for name in ENTRIES:
        data = (FIGURES / name).read_bytes()
        kinds = png_chunks(data)
        assert not {b"tIME", b"tEXt", b"zTXt", b"iTXt"} & set(kinds), (name, kinds)
        sizes[name] = len(data)
    assert max(sizes.values()) <= 40_000, max(sizes.items(), key=lambda item: item[1])
    assert sum(sizes.values()) <= 1_000_000
