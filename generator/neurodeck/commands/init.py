"""`neurodeck init`: a new project that validates, lints clean and builds as written."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import yaml

from neurodeck.apkg import files
from neurodeck.checks.names import ascii_slug, name_problem, slug
from neurodeck.commands import example_image
from neurodeck.commands.scaffold import TONE, example_tone
from neurodeck.model import Location, Problem
from neurodeck.project import shown_path

MAX_NAME = 100  # characters of the deck's slug, which names the manifest and the package

MANIFEST = '''\
# A deck: its name in Anki, its identity and the card files it is made of.
# Every neurodeck command finds this project from any folder inside it.
name: {name}
# The deck's identity. Every card's Anki id is made from it and the card's own id, so that a
# new version of the deck updates the cards students already have.
# NEVER CHANGE IT after a release: every student would get every card a second time.
# (The random suffix keeps two decks of the same name apart.)
namespace: {namespace}
# The root of every tag the deck adds, e.g. {tag}::basic-cards.
tag: {tag}
description: |
  Shown in Anki's deck overview. Markdown: *emphasis*, lists and links work.

  The image occlusion cards need Anki 23.10 or later (AnkiDroid 2.17 or later).
cards: [cards/*.yaml]
output: {tag}.apkg
lint:
  # ND114 warns that Anki before 23.10 cannot show image occlusion cards; the description says so.
  ND114: off
# Text-to-speech: Anki reads fields aloud with the student's system voices, e.g. every answer
# in US English when it is revealed (a list reads several fields; voices and speed are optional):
# tts: {{field: Answer, lang: en_US}}
'''

_HEAD = '''\
# One card file per subtopic: it becomes a subdeck and a tag. Add more with `neurodeck new "Subtopic"`.
# Write text with a backslash (MathJax such as \\(K_d\\)) in 'single quotes': in "double quotes"
# YAML reads backslashes as escapes. Inside single quotes, write an apostrophe twice: ''.
# A card's id is a draft until `neurodeck release` ships it: rename or delete it freely until then.
'''

CARD_FILES = {
    "basic": ("Basic cards", '''\
cards:
  - id: receptor-low-kd-meaning
    question: 'What does a low \\(K_d\\) say about how a ligand binds its receptor?'
    answer: It binds tightly (high affinity).
    extra: 'A ligand at a concentration of \\(K_d\\) occupies half of the receptors.'
    source: Alberts et al. 2022, *Molecular Biology of the Cell*, 7th edition, Norton
'''),
    "reversed": ("Reversed cards", '''\
cards:
  - id: term-resting-membrane-potential
    type: reversed            # two cards: term -> definition and definition -> term
    question: Resting membrane potential
    answer: 'The voltage across a neuron''s membrane at rest, about \\(-70\\,\\text{mV}\\).'
    source: Purves et al. 2018, *Neuroscience*, 6th edition, Oxford University Press
'''),
    "cloze": ("Cloze cards", '''\
cards:
  - id: receptor-kd-definition
    type: cloze               # one card per deletion number
    text: 'The \\(K_d\\) of a receptor is the ligand concentration that {{c1::occupies half of the receptors}}.'
    source: Alberts et al. 2022, *Molecular Biology of the Cell*, 7th edition, Norton
'''),
    "type-in": ("Type-in cards", '''\
cards:
  - id: excitatory-transmitter-glutamate
    type: type-in             # the student types the answer; keep it to a word or two
    question: Which neurotransmitter do most excitatory synapses of the brain release?
    answer: Glutamate
    source: Purves et al. 2018, *Neuroscience*, 6th edition, Oxford University Press
'''),
    "sound": ("Sound cards", f'''\
cards:
  - id: tone-a4-standard-pitch
    # [sound:path] plays a file in Anki (MP3, Ogg, WAV, M4A or WebM), relative to this file;
    # quote text that holds [ or starts with it
    question: "Which note is this pure tone, the standard tuning pitch? [sound:media/{TONE}]"
    answer: A4, at 440 Hz
    source: ISO 16:1975, *Acoustics, Standard tuning frequency (Standard musical pitch)*
'''),
    "occlusion": ("Image occlusion cards", "cards:\n" + example_image.card_yaml(
        "neuron-parts", f"media/{example_image.NAME}")),
}

GITIGNORE = "# neurodeck's build output: packages and preview pages\n/dist/\n"


def init_project(name: str, root: Path) -> tuple[list[Path] | None, list[Problem]]:
    """Write a new project's manifest, example card files (with a sound file) and .gitignore
    under `root`, all or nothing: if any of them exists, or `root` already holds a deck, nothing is written."""
    where = Location("--name")
    name_slug = slug(name)[:MAX_NAME].strip("-") or "deck"
    wrong = name_problem(name, "deck name")
    if wrong is not None:
        return None, [Problem(where, wrong[0], wrong[1] + '; for example: --name "Neurobiology of Intimacy"')]
    if not name.isprintable() or name != name.strip():
        return None, [Problem(where, f"the deck name '{name[:60]}' must be text without control characters "
                                     "or surrounding spaces", 'for example: --name "Neurobiology of Intimacy"')]
    manifest = root / "decks" / f"{name_slug}.yaml"
    namespace = f"{ascii_slug(name)[:MAX_NAME].strip('-') or 'deck'}-{secrets.token_hex(3)}"
    texts: dict[Path, str] = {manifest: MANIFEST.format(name=_quoted(name), namespace=namespace, tag=name_slug)}
    for subtopic, body in CARD_FILES.values():
        texts[root / "cards" / f"{slug(subtopic)}.yaml"] = f"{_HEAD}subtopic: {subtopic}\n{body}"
    texts[root / ".gitignore"] = GITIGNORE
    data = {path: text.encode("utf-8") for path, text in texts.items()}
    existing = [path for path in data if os.path.lexists(path)]
    tone = root / "cards" / "media" / TONE  # the sound card's; one `new` wrote is shared, as `new` does
    if not os.path.lexists(tone):
        data[tone] = example_tone()
    picture = root / "cards" / "media" / example_image.NAME  # the occlusion card's, shared likewise
    if not os.path.lexists(picture):
        data[picture] = example_image.png()
    existing += [path for path in sorted((root / "decks").glob("*.yaml")) if path not in existing]
    if existing:
        return None, [Problem(Location(shown_path(path)), "already exists; init writes nothing",
                              "run init in a new or empty folder; add cards to an existing project "
                              'with `neurodeck new "Subtopic"`') for path in existing]
    written: list[Path] = []
    try:
        for path, content in data.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            files.write_atomic(path, content)
            written.append(path)
    except OSError as exc:
        for path in written:  # all or nothing
            path.unlink(missing_ok=True)
        return None, [files.write_problem(exc, path)]
    return written, []


def _quoted(text: str) -> str:
    return yaml.safe_dump(text, default_style='"', width=1000, allow_unicode=True).strip()
