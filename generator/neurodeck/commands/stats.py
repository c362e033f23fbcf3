"""Counts that describe a compiled deck: per subtopic, note type and tag, cards, sources, retired."""
from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neurodeck.pipeline.build import CompiledDeck


def deck_stats(compiled: CompiledDeck) -> dict[str, Any]:
    """Statistics of a compiled deck (one without errors), as plain data."""
    notes, manifest = compiled.notes, compiled.manifest
    assert manifest is not None
    root = manifest.tag + "::"
    sources = {key: _source_index(nt.fields) for key, nt in compiled.notetypes.items()}
    with_source = sum(1 for n in notes if _has_source(n.fields, sources.get(n.type, -2)))
    return {
        "deck": manifest.name,
        "notes": len(notes),
        "cards": sum(len(n.ords) for n in notes),
        "subtopics": {s: {"notes": c, "cards": sum(len(n.ords) for n in notes if n.subtopic == s)}
                      for s, c in sorted(Counter(n.subtopic for n in notes).items())},
        "types": {t: {"notes": c, "cards": sum(len(n.ords) for n in notes if n.type == t)}
                  for t, c in sorted(Counter(n.type for n in notes).items())},
        "tags": dict(sorted(Counter(t.removeprefix(root) for n in notes for t in n.tags).items())),
        "with_source": with_source,
        "source_share": round(with_source / len(notes), 4) if notes else 0.0,
        "retired": sorted(n.id for n in notes if n.retired),
    }


def _source_index(fields: tuple[str, ...]) -> int | None:
    """Where a note type keeps its source: the field named Source (the built-in types' second-last)."""
    return next((i for i, name in enumerate(fields) if name.casefold() == "source"), None)


def _has_source(fields: tuple[str, ...], index: int | None) -> bool:
    return index is not None and bool(fields[index].strip())
