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
    with_source = sum(1 for n in notes if n.fields[-2].strip())  # Source is the second-last field
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
