"""`neurodeck new`: a card file with one example of each card type and a sound, valid as written (the
sound and the image occlusion example's picture are written into cards/media/ unless there)."""
from __future__ import annotations

import fnmatch
import io
import math
import os
import wave
from pathlib import Path

import yaml

from neurodeck.apkg import files
from neurodeck.checks.names import ascii_slug, check_subtopic, name_problem, slug
from neurodeck.commands import example_image
from neurodeck.model import Location, Problem, Text
from neurodeck.project import project_root, shown_path
from neurodeck.source.yamlnodes import read_text

TEMPLATE = '''\
subtopic: {subtopic}
tags: []                      # optional tags for every card of this file
cards:
  - id: {slug}-example-basic
    question: What does a basic card ask?
    answer: One fact, in a short answer.
    extra: Optional detail shown on the back.
    source: "Author A, Author B 2024, Journal 1:1-10"
  - id: {slug}-example-reversed
    type: reversed            # two cards: term -> definition and definition -> term
    question: Example term
    answer: The definition of the example term.
    source: "Author A 2024, *Textbook*, 2nd edition, Publisher"
  - id: {slug}-example-cloze
    type: cloze               # one card per deletion number
    text: 'A cloze hides {{{{c1::one part}}}} and then {{{{c2::another::a hint}}}}.'
    source: "Author A 2024, Journal 1:1-10"
  - id: {slug}-example-type-in
    type: type-in             # the student types the exact answer
    question: Which word does the student type here?
    answer: Answer
    source: "Author A 2024, Journal 1:1-10"
  - id: {slug}-example-sound
    # [sound:path] plays a file in Anki (MP3, Ogg, WAV, M4A or WebM; the path is relative to this
    # file); quote text that starts with [
    question: "Which tone is this? [sound:media/{tone}]"
    answer: A pure tone at 440 Hz.
    source: "Author A 2024, Journal 1:1-10"
{occlusion}'''

TONE = "tone-a440.wav"  # written beside the card files' media by `new` and `init`


def example_tone(seconds: float = 0.1, rate: int = 8000, frequency: float = 440.0) -> bytes:
    """A short pure tone as 8-bit mono WAV (about 850 bytes), made with the standard library, so
    that a new project's sound card plays something real."""
    frames = int(seconds * rate)
    ramp = rate // 100  # 10 ms fades: no click at either end

    def sample(i: int) -> int:
        gain = min(1.0, i / ramp, (frames - 1 - i) / ramp)
        return 128 + round(100 * gain * math.sin(2 * math.pi * frequency * i / rate))

    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(rate)
        w.writeframes(bytes(sample(i) for i in range(frames)))
    return out.getvalue()


MAX_NAME = 100  # characters of the file name's slug: far below every file system's limit


def new_card_file(subtopic: str, root: Path, manifest: Path | None = None) -> tuple[Path | None, list[Problem]]:
    """Create cards/<slug>.yaml under `root` (the manifest's project root when given), and
    cards/media/tone-a440.wav for its sound card unless it exists; with a manifest whose globs do
    not match the card file yet, add it to the manifest's `cards`.

    Both files are written atomically, and all or nothing: if the manifest cannot be updated,
    the new card file is removed again."""
    name = slug(subtopic)
    where = Location("SUBTOPIC")  # the command line's argument (its value is in the message)
    wrong = name_problem(subtopic, "subtopic")
    refused = [Problem(where, *wrong)] if wrong else check_subtopic(Text(subtopic, where))
    if refused:
        return None, refused
    if len(name) > MAX_NAME:
        return None, [Problem(Location("SUBTOPIC"), f"the subtopic {_clipped(subtopic)!r} makes a file name of "
                              f"{len(name)} characters; the limit is {MAX_NAME}",
                              "choose a shorter subtopic")]
    if manifest is not None:
        root = project_root(manifest)
    path = root / "cards" / f"{name}.yaml"
    shown = Location(shown_path(path))
    try:
        if path.exists() or path.is_symlink():
            return None, [Problem(shown, "file already exists", "choose another subtopic name")]
    except OSError as exc:
        return None, [Problem(shown, f"cannot use this file name: {exc.strerror or exc}")]
    edited: tuple[Path, str] | None = None
    if manifest is not None:
        text, problems = manifest_with(manifest, f"cards/{name}.yaml")
        if problems:
            return None, problems
        edited = (manifest, text) if text is not None else None
    occlusion = example_image.card_yaml(f"{ascii_slug(subtopic)}-example-occlusion", f"media/{example_image.NAME}")
    content = TEMPLATE.format(subtopic=_quoted(subtopic), slug=ascii_slug(subtopic), tone=TONE,
                              occlusion=occlusion).encode("utf-8")
    tone = path.parent / "media" / TONE
    picture = path.parent / "media" / example_image.NAME
    # An existing tone or picture (from init or an earlier `new`) is shared, never replaced.
    made: list[Path] = []
    writing = path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        files.write_atomic(path, content)
        for media, make in ((tone, example_tone), (picture, example_image.png)):
            if not os.path.lexists(media):
                writing = media
                media.parent.mkdir(exist_ok=True)
                files.write_atomic(media, make())
                made.append(media)
    except OSError as exc:
        path.unlink(missing_ok=True)
        for media in made:
            media.unlink(missing_ok=True)
        return None, [files.write_problem(exc, writing)]
    if edited is not None:
        try:
            files.write_atomic(edited[0], edited[1].encode("utf-8"))
        except OSError as exc:
            path.unlink(missing_ok=True)
            for media in made:
                media.unlink(missing_ok=True)
            return None, [files.write_problem(exc, edited[0])]
    return path, []


def _clipped(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _quoted(text: str) -> str:
    return yaml.safe_dump(text, default_style='"', width=1000, allow_unicode=True).strip()


def add_to_manifest(manifest: Path, entry: str) -> list[Problem]:
    """Append `entry` to the manifest's `cards` globs unless one of them matches it already."""
    text, problems = manifest_with(manifest, entry)
    if problems or text is None:
        return problems
    try:
        files.write_atomic(manifest, text.encode("utf-8"))
    except OSError as exc:
        return [files.write_problem(exc, manifest)]
    return []


def manifest_with(manifest: Path, entry: str) -> tuple[str | None, list[Problem]]:
    """The manifest's text with `entry` appended to its `cards` globs, or None if a glob there
    matches it already.

    The file is edited as text, so its comments and layout stay as the author wrote them.
    """
    shown = shown_path(manifest)
    text, problems = read_text(manifest, shown)
    if text is None:
        return None, problems
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        return None, [Problem(Location(shown), f"cannot read the manifest: {exc}")]
    cards = next((v for k, v in getattr(root, "value", []) if getattr(k, "value", None) == "cards"), None)
    if not isinstance(cards, yaml.SequenceNode):
        return None, [Problem(Location(shown), "the manifest has no 'cards' list to add to")]
    globs = [item.value for item in cards.value if isinstance(item, yaml.ScalarNode)]
    if any(fnmatch.fnmatch(entry, g) for g in globs):
        return None, []
    if cards.flow_style:  # [a, b]: insert before the closing bracket
        at = cards.end_mark.index - 1
        text = text[:at] + (", " if globs else "") + entry + text[at:]
    else:  # block list: a new item after the last one, indented like it
        last = cards.value[-1]
        line_end = text.find("\n", last.end_mark.index)
        line_end = len(text) if line_end < 0 else line_end
        indent = " " * (last.start_mark.column - 2)
        text = text[:line_end] + f"\n{indent}- {entry}" + text[line_end:]
    return text, []
