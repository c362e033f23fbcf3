"""A list of DeckDiffs as text for a terminal, Markdown for release notes, or JSON."""
from __future__ import annotations

import json
import re

from neurodeck.commands.diff.model import DeckDiff, FieldChange, NoteRef, Segment, counts, plural

_CONTEXT = 5  # words of unchanged text shown around a change in text and Markdown output


def _trimmed(segments: list[Segment]) -> list[Segment]:
    """Long unchanged runs shortened to a few words of context around each change."""
    out = []
    for i, s in enumerate(segments):
        words = s.text.split()
        if s.op != "=" or len(words) <= 2 * _CONTEXT:
            out.append(s)
            continue
        first, last = i == 0, i == len(segments) - 1
        head = [] if first else words[:_CONTEXT]
        tail = [] if last else words[-_CONTEXT:]
        out.append(Segment("=", " ".join(head + ["..."] + tail)))
    return out


def _subdecks(decks: list[str], root: str) -> str:
    """Deck names without the deck's own name in front."""
    return ", ".join(d[len(root) + 2:] if d.startswith(root + "::") else d for d in decks) or "no cards"


def _summary_line(d: DeckDiff) -> str:
    c = counts(d)
    text = ", ".join(f"{c[k]} {k}" for k in ("added", "changed", "removed", "retired", "moved", "unchanged"))
    return text + f"; {plural(c['notetypes'], 'note type change')}"


def format_text(diffs: list[DeckDiff]) -> str:
    """For a terminal: [-deleted-]{+inserted+} words, as `git diff --word-diff` shows them."""
    lines: list[str] = []
    for d in diffs:
        if lines:
            lines.append("")
        lines += [f"{d.deck} ({d.key}): {d.old} -> {d.new}", f"  {_summary_line(d)}"]
        if d.empty:
            lines.append("  no changes")
            continue
        if d.added:
            lines.append("Added:")
            lines += [f"  + {r.name}  ({_subdecks(r.decks, d.deck)})" for r in d.added]
        if d.changed:
            lines.append("Changed:")
            for c in d.changed:
                lines.append(f"  ~ {c.name}  ({_subdecks(c.decks, d.deck)})")
                for f in c.fields:
                    lines.append(f"      {f.name}: {_text_segments(f)}")
                if c.tags_added or c.tags_removed:
                    lines.append("      tags: " + " ".join([f"+{t}" for t in c.tags_added]
                                                           + [f"-{t}" for t in c.tags_removed]))
                if c.notetype:
                    lines.append(f"      note type: {c.notetype[0]} -> {c.notetype[1]}")
        if d.removed:
            lines.append("Removed:")
            lines += [f"  - {r.name}  ({_subdecks(r.decks, d.deck)})" for r in d.removed]
        if d.retired:
            lines.append("Retired:")
            lines += [f"  x {r.name}  ({_subdecks(r.decks, d.deck)})" for r in d.retired]
        if d.moved:
            lines.append("Moved:")
            lines += [f"  > {m.name}: {_subdecks(m.old, d.deck)} -> {_subdecks(m.new, d.deck)}" for m in d.moved]
        if d.notetypes:
            lines.append("Note types:")
            for t in d.notetypes:
                what = {"schema": "fields/templates changed", "in-place": "updated in place",
                        "removed": "no longer in the package"}.get(t.kind, t.kind)
                mark = {"schema": "!", "added": "+", "removed": "-"}.get(t.kind, "~")
                lines.append(f"  {mark} {t.name}: {what}"
                             + (f": {'; '.join(t.details)}" if t.details else ""))
        if d.warnings:
            lines.append("Warnings (what Anki will not carry to existing users):")
            for w in d.warnings:
                lines.append(f"  ! {w.message}")
                if w.items and w.kind != "fork":
                    lines.append(f"      {', '.join(w.items)}")
    return "\n".join(lines) + "\n"


def _text_segments(f: FieldChange) -> str:
    if f.formatting_only:
        return "(formatting only)"
    marks = {"=": "{}", "-": "[-{}-]", "+": "{{+{}+}}"}
    out = ""
    for previous, s in zip([None, *f.segments], _trimmed(f.segments)):
        # a replacement reads as one unit: [-old-]{+new+}
        glue = "" if previous is None or (previous.op == "-" and s.op == "+") else " "
        out += glue + marks[s.op].format(s.text)
    return out


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>~|#])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_name(name: str) -> str:
    return f"`{name}`" if "`" not in name else _md(name)


def format_markdown(diffs: list[DeckDiff]) -> str:
    """For release notes: deletions ~~struck~~, insertions **bold**, warnings first."""
    return "\n\n".join("\n".join(_md_deck(d)).rstrip("\n") for d in diffs) + "\n"


def _md_deck(d: DeckDiff) -> list[str]:
    lines = [f"## {_md(d.deck)}", "", f"{_md_name(d.old)} → {_md_name(d.new)}: {_md(_summary_line(d))}", ""]
    if d.empty:
        return lines + ["No changes."]
    if d.warnings:
        lines += ["> **What Anki will not carry to existing users**", ">"]
        for w in d.warnings:
            items = f" ({', '.join(_md_name(i) for i in w.items)})" if w.items and w.kind != "fork" else ""
            lines.append(f"> - {_md(w.message)}{items}")
        lines.append("")

    def ref(r: NoteRef) -> str:
        return f"- {_md_name(r.name)} ({_md(_subdecks(r.decks, d.deck))})"

    changed = []
    for c in d.changed:
        changed.append(f"- {_md_name(c.name)} ({_md(_subdecks(c.decks, d.deck))})")
        changed += [f"  - **{_md(f.name)}**: {_md_segments(f)}" for f in c.fields]
        if c.tags_added or c.tags_removed:
            tags = [f"+{_md_name(t)}" for t in c.tags_added] + [f"-{_md_name(t)}" for t in c.tags_removed]
            changed.append(f"  - tags: {' '.join(tags)}")
        if c.notetype:
            changed.append(f"  - note type: {_md(c.notetype[0])} → {_md(c.notetype[1])}")
    kinds = {"schema": "fields or templates changed (Anki forks it)", "in-place": "updated in place",
             "removed": "no longer in the package"}
    sections = (
        ("Added", len(d.added), [ref(r) for r in d.added]),
        ("Changed", len(d.changed), changed),
        ("Removed", len(d.removed), [ref(r) for r in d.removed]),
        ("Retired", len(d.retired), [ref(r) for r in d.retired]),
        ("Moved", len(d.moved), [f"- {_md_name(m.name)}: {_md(_subdecks(m.old, d.deck))} → "
                                 f"{_md(_subdecks(m.new, d.deck))}" for m in d.moved]),
        ("Note types", len(d.notetypes),
         [f"- {_md(t.name)}: {kinds.get(t.kind, t.kind)}" + (f": {_md('; '.join(t.details))}" if t.details else "")
          for t in d.notetypes]),
    )
    for title, count, rows in sections:
        if rows:
            lines += [f"### {title} ({count})", ""] + rows + [""]
    return lines


def _md_segments(f: FieldChange) -> str:
    if f.formatting_only:
        return "*(formatting only)*"
    marks = {"=": "{}", "-": "~~{}~~", "+": "**{}**"}
    return " ".join(marks[s.op].format(_md(s.text)) for s in _trimmed(f.segments))


def format_json(diffs: list[DeckDiff]) -> str:
    """Everything, untrimmed: full plain texts and every diff segment of each changed field."""
    return json.dumps({"decks": [d.to_json() for d in diffs]}, indent=2, sort_keys=True) + "\n"
