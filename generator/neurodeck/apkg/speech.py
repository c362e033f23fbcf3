"""Text-to-speech in note types: Anki's `{{tts lang:Field}}` added to the side of each template
that first shows the field, so Anki reads a question when it asks it and an answer when it
reveals it.

Only template text changes: fields and templates keep their names and ids, so students' note
types update in place (a newer `mod`), never forked.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import TypeVar

from neurodeck.apkg import templates
from neurodeck.apkg.notetypes import CustomNoteType, NoteType, Template
from neurodeck.model import Note, Problem, Speech

_TYPED = {"type", "type-cloze", "type-nc"}  # the reviewer's type-in box
AnyType = TypeVar("AnyType", NoteType, CustomNoteType)


Sections = tuple[tuple[str, bool], ...]  # the {{#Key}} / {{^Key}} sections around a place, outermost first


def tts_tag(speech: Speech, filters: str = "", sections: Sections = ()) -> str:
    """`{{#Field}}{{tts en_US voices=A,B speed=1.2:Field}}{{/Field}}`, with `filters` ("cloze:")
    before the field, inside `sections` (those around the place the side shows the field)."""
    options = [speech.lang.value]
    if speech.voices:
        options.append("voices=" + ",".join(speech.voices))
    if speech.speed is not None:
        options.append(f"speed={speech.speed}")
    name = speech.field.value
    tag = f"{{{{tts {' '.join(options)}:{filters}{name}}}}}"
    # In the field's own section, so an empty field gets no play button that reads nothing; and in
    # the sections the field is shown in, so the tag never makes a front render that did not
    # (Anki makes a card for every template whose front renders: that must not change).
    if (name, False) not in sections:
        sections = sections + ((name, False),)
    for key, negated in reversed(sections):
        tag = f"{{{{{'^' if negated else '#'}{key}}}}}{tag}{{{{/{key}}}}}"
    return tag


def _shown(nodes: Iterable, front: bool, sections: Sections = ()) -> dict[str, tuple[str, Sections]]:
    """The fields a side shows, first place first: the filter prefix their tts tag needs
    ("cloze:" when the side shows it through the cloze filter, so that Anki reads the blanks as
    blanks) and the sections around that place. A type-in field is a box on the front and the
    expected answer on the back."""
    found: dict[str, tuple[str, Sections]] = {}
    for node in nodes:
        if isinstance(node, templates.Replacement):
            if node.key == "FrontSide" or (front and _TYPED & set(node.filters)) or \
                    any(f.startswith("tts ") for f in node.filters):
                continue
            if node.key not in found:
                found[node.key] = ("cloze:" if "cloze" in node.filters else "", sections)
        elif isinstance(node, templates.Section):
            for key, place in _shown(node.children, front, sections + ((node.key, node.negated),)).items():
                found.setdefault(key, place)
    return found


def speak(template: Template, speeches: Sequence[Speech]) -> Template:
    """The template with a tts tag for each spoken field: on the front if the front shows the
    field, else on the back if the back does."""
    front, back = _shown(templates.parse(template.qfmt), True), _shown(templates.parse(template.afmt), False)
    qfmt, afmt = template.qfmt, template.afmt
    for speech in speeches:
        name = speech.field.value
        if name in front:
            qfmt += tts_tag(speech, *front[name])
        elif name in back:
            afmt += tts_tag(speech, *back[name])
    return dataclasses.replace(template, qfmt=qfmt, afmt=afmt)


def with_speech(note_type: AnyType, speeches: Sequence[Speech]) -> AnyType:
    """The note type reading aloud those of `speeches` whose field it has."""
    mine = [s for s in speeches if s.field.value in note_type.fields]
    if not mine:
        return note_type
    return dataclasses.replace(note_type, templates=tuple(speak(t, mine) for t in note_type.templates))


def check_fields(speeches: Sequence[Speech], fields: Iterable[str], what: str,
                 shown: Sequence[Template] = ()) -> list[Problem]:
    """A tts entry naming a field none of the note types has, or (given their templates) that
    no side of any template shows, located."""
    known = list(dict.fromkeys(fields))
    problems = [Problem(s.field.location, f"tts field '{s.field.value}' is not a field of {what}",
                        f"one of: {', '.join(known)}") for s in speeches if s.field.value not in known]
    visible = {name for t in shown for side, front in ((t.qfmt, True), (t.afmt, False))
               for name in _shown(templates.parse(side), front)}
    if shown:
        problems += [Problem(s.field.location, f"no template of {what} shows the field '{s.field.value}'",
                             "Anki reads a field where a card shows it; show it in a template first")
                     for s in speeches if s.field.value in known and s.field.value not in visible]
    return problems


def spoken_fields(note_type: NoteType | CustomNoteType) -> frozenset[str]:
    """The fields some template of the type reads aloud with {{tts ...}}."""
    return frozenset(node.key for t in note_type.templates for side in (t.qfmt, t.afmt)
                     for node in _replacements(templates.parse(side))
                     if any(f.startswith("tts ") for f in node.filters))


def _replacements(nodes: Iterable) -> Iterable[templates.Replacement]:
    for node in nodes:
        if isinstance(node, templates.Replacement):
            yield node
        elif isinstance(node, templates.Section):
            yield from _replacements(node.children)


def check_sounds_read_aloud(notes: Iterable[Note],
                            types: Mapping[str, NoteType | CustomNoteType]) -> list[Problem]:
    """A sound in a field Anki reads aloud: the tts tag takes the field's text as it is, sound tag
    included, so Anki reads the sound's file name out."""
    spoken = {kind: [(i, name) for i, name in enumerate(nt.fields) if name in names]
              for kind, nt in types.items() if (names := spoken_fields(nt))}
    return [Problem(note.location, f"field '{name}' of card '{note.id}' holds a sound and is read aloud (tts): "
                    "Anki would read the sound's file name aloud",
                    "put the sound in another field, or read another field", severity="warning")
            for note in notes if note.type in spoken
            for i, name in spoken[note.type] if "[sound:" in note.fields[i]]
