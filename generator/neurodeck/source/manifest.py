"""Deck manifests: which card files make which deck, under which name, namespace and output."""
from __future__ import annotations

import re
from pathlib import Path

from neurodeck.checks.names import name_problem, slug
from neurodeck.model import SLUG_PATTERN, VERSION_PATTERN, Location, Manifest, Problem
from neurodeck.project import project_root
from neurodeck.source.reader import MANIFEST_KEYS, Reader, parse_mapping
from neurodeck.source.speech import read_speech

VERSION = re.compile(VERSION_PATTERN)


def load_manifest(path: Path) -> tuple[Manifest | None, list[Problem]]:
    """Read one deck manifest."""
    value, problems = parse_mapping(path, "a manifest")
    if value is None:
        return None, problems
    r = Reader(problems)
    r.check_keys(value, MANIFEST_KEYS, "the manifest")
    name = r.text(value, "name", required=True)
    namespace = r.text(value, "namespace", required=True)
    tag = r.text(value, "tag")
    description = r.text(value, "description")
    cards = r.text_list(value, "cards", required=True)
    output = r.text(value, "output")
    glossary = r.text_list(value, "glossary")
    version = r.text(value, "version")
    if version is not None and not VERSION.fullmatch(version.value):
        r.error(version.location, f"version '{version.value}' must be numbers separated by dots, e.g. 1.2.0")
    notetypes = r.text_list(value, "notetypes") if "notetypes" in value.items else None
    tts = read_speech(r, value)
    lint = r.mapping(value, "lint")
    synonyms = r.mapping(value, "synonyms")
    keep_markup = "keep_markup" in value.items and r.flag(value, "keep_markup")
    if name is None or namespace is None:
        return None, problems
    wrong = name_problem(name.value, "deck name")
    if wrong is not None:  # surrounding spaces are check_deck_name's (what Anki would store)
        r.error(name.location, *wrong)
    if not re.fullmatch(SLUG_PATTERN, namespace.value):
        r.error(namespace.location, f"namespace '{namespace.value}' must be lowercase letters, digits and hyphens",
                "for example: my-course-deck; never change it after a release")
    tag_value = tag.value if tag else slug(name.value)
    wrong = name_problem(tag.value, "tag") if tag else None
    if tag and (wrong or "::" in tag.value):
        r.error(tag.location, wrong[0] if wrong else f"tag '{tag.value}' must be one word, without '::'",
                "the root tag is one word of letters (of any script), digits, '-' or '_'")
    output_value = output.value if output else slug(name.value) + ".apkg"
    _check_output_name(r, output_value, output.location if output else value.location)
    manifest = Manifest(
        path=path, root=project_root(path), name=name.value, namespace=namespace.value,
        tag=tag_value, description=description.value if description else "",
        cards=cards, output=output_value, location=value.location,
        lint={key: (loc, v) for key, (loc, v) in lint.items.items()} if lint else {}, glossary=glossary,
        synonyms=dict(synonyms.items) if synonyms else {}, version=version, notetypes=notetypes,
        keep_markup=keep_markup,
        tts=tts,
    )
    return manifest, problems


def _check_output_name(r: Reader, name: str, loc: Location) -> None:
    if not name.isprintable() or len(name.encode("utf-8", "surrogatepass")) > 200:
        r.error(loc, f"output {name[:60]!r} must be a short file name without control characters",
                "for example: my-deck.apkg")
    elif "/" in name or "\\" in name or name in (".", "..") or not name.endswith(".apkg"):
        r.error(loc, f"output '{name}' must be a file name ending in .apkg", "the folder is chosen with --out")
    elif name.lower() == "collection.apkg" or name.lower().startswith("backup-"):
        r.error(loc, f"output '{name}' would make Anki offer to replace the student's whole collection",
                "choose another file name")
