"""`neurodeck new`: a card file with one example of each card type, valid as written."""
from __future__ import annotations

import fnmatch
from pathlib import Path

import yaml

from neurodeck.project import project_root, shown_path
from neurodeck.checks.names import slug
from neurodeck.model import Location, Problem

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
    text: "A cloze hides {{{{c1::one part}}}} and then {{{{c2::another::a hint}}}}."
    source: "Author A 2024, Journal 1:1-10"
  - id: {slug}-example-type-in
    type: type-in             # the student types the exact answer
    question: Which word does the student type here?
    answer: Answer
    source: "Author A 2024, Journal 1:1-10"
'''


def new_card_file(subtopic: str, root: Path, manifest: Path | None = None) -> tuple[Path | None, list[Problem]]:
    """Create cards/<slug>.yaml under `root` (the manifest's project root when given) and, with a
    manifest whose globs do not match it yet, add it to the manifest's `cards`."""
    name = slug(subtopic)
    if not name or "::" in subtopic:
        return None, [Problem(Location(subtopic), "the subtopic needs letters or digits and no '::'")]
    if manifest is not None:
        root = project_root(manifest)
    path = root / "cards" / f"{name}.yaml"
    if path.exists():
        return None, [Problem(Location(shown_path(path)), "file already exists", "choose another subtopic name")]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(TEMPLATE.format(subtopic=_quoted(subtopic), slug=name), encoding="utf-8")
    except OSError as exc:
        return None, [Problem(Location(shown_path(path)), f"cannot write: {exc.strerror or exc}")]
    if manifest is not None:
        problems = add_to_manifest(manifest, f"cards/{name}.yaml")
        if problems:
            return path, problems
    return path, []


def _quoted(text: str) -> str:
    return yaml.safe_dump(text, default_style='"', width=1000).strip()


def add_to_manifest(manifest: Path, entry: str) -> list[Problem]:
    """Append `entry` to the manifest's `cards` globs unless one of them matches it already.

    The file is edited as text, so its comments and layout stay as the author wrote them.
    """
    shown = shown_path(manifest)
    try:
        text = manifest.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        return [Problem(Location(shown), f"cannot read the manifest: {exc}")]
    cards = next((v for k, v in getattr(root, "value", []) if getattr(k, "value", None) == "cards"), None)
    if not isinstance(cards, yaml.SequenceNode):
        return [Problem(Location(shown), "the manifest has no 'cards' list to add to")]
    globs = [item.value for item in cards.value if isinstance(item, yaml.ScalarNode)]
    if any(fnmatch.fnmatch(entry, g) for g in globs):
        return []
    if cards.flow_style:  # [a, b]: insert before the closing bracket
        at = cards.end_mark.index - 1
        text = text[:at] + (", " if globs else "") + entry + text[at:]
    else:  # block list: a new item after the last one, indented like it
        last = cards.value[-1]
        line_end = text.find("\n", last.end_mark.index)
        line_end = len(text) if line_end < 0 else line_end
        indent = " " * (last.start_mark.column - 2)
        text = text[:line_end] + f"\n{indent}- {entry}" + text[line_end:]
    try:
        manifest.write_text(text, encoding="utf-8")
    except OSError as exc:
        return [Problem(Location(shown), f"cannot write: {exc.strerror or exc}")]
    return []
