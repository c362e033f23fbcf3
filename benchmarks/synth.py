"""Generate a synthetic, deterministic card project of any size for benchmarks.

    python benchmarks/synth.py OUT_DIR --cards 30000 [--per-file 100] [--seed 1]

Cards have a question of about 80 characters, an answer of about 260 with inline Markdown and
three tags, like a large medical deck.
"""
from __future__ import annotations

import argparse
import random
from pathlib import Path

WORDS = (
    "neuron axon dendrite synapse receptor cortex insula cingulate striatum accumbens dopamine "
    "oxytocin vasopressin hypothalamus pituitary amygdala hippocampus thalamus cerebellum glia "
    "myelin potential channel sodium potassium calcium release binding ligand agonist antagonist "
    "pathway projection nucleus ventral dorsal medial lateral anterior posterior signal reward"
).split()
TAGS = [f"topic-{i}" for i in range(40)]


def _sentence(rng: random.Random, length: int) -> str:
    words, size = [], 0
    while size < length:
        word = rng.choice(WORDS)
        roll = rng.random()
        if roll < 0.06:
            word = f"**{word}**"
        elif roll < 0.12:
            word = f"*{word}*"
        elif roll < 0.14:
            word = f"`{word}`"
        words.append(word)
        size += len(word) + 1
    text = " ".join(words)
    return text[0].upper() + text[1:]


def card_file(rng: random.Random, file_index: int, per_file: int) -> str:
    lines = [f"subtopic: Topic {file_index:04d}", "cards:"]
    for i in range(per_file):
        question = _sentence(rng, 76).replace('"', "") + "?"
        answer = _sentence(rng, 255) + "."
        tags = ", ".join(rng.sample(TAGS, 3))
        lines += [
            f"  - id: card-{file_index:04d}-{i:03d}",
            f'    question: "{question}"',
            f'    answer: "{answer}"',
            f"    source: Synthetic source {file_index}.{i}",
            f"    tags: [{tags}]",
        ]
    return "\n".join(lines) + "\n"


def generate(out: Path, cards: int, per_file: int = 100, seed: int = 1) -> Path:
    """Write decks/bench.yaml and cards/*.yaml under `out`; returns the manifest path."""
    rng = random.Random(seed)
    (out / "cards").mkdir(parents=True, exist_ok=True)
    (out / "decks").mkdir(parents=True, exist_ok=True)
    files = (cards + per_file - 1) // per_file
    for f in range(files):
        count = min(per_file, cards - f * per_file)
        (out / "cards" / f"topic-{f:04d}.yaml").write_text(card_file(rng, f, count), encoding="utf-8")
    manifest = out / "decks" / "bench.yaml"
    manifest.write_text("name: Bench\nnamespace: bench\ncards: [cards/*.yaml]\noutput: bench.apkg\n")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--cards", type=int, default=30000)
    parser.add_argument("--per-file", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(generate(args.out, args.cards, args.per_file, args.seed))


if __name__ == "__main__":
    main()
