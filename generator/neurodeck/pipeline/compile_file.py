"""One card file -> the notes it yields, with every problem found in that file alone.

The result depends only on the file's bytes, the images it references and the deck identity
(`DeckContext`), which is what makes it cacheable per file (see cache.py).
"""
from __future__ import annotations

import functools
import hashlib
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from sys import intern

from neurodeck import lockfile
from neurodeck.apkg import templates
from neurodeck.apkg.notetypes import CustomNoteType
from neurodeck.checks.names import check_subtopic, check_tag_forms, slug
from neurodeck.checks.occlusion import check_shapes
from neurodeck.checks.rules import check_anki_syntax, check_card, check_cloze_fields, check_field_characters, check_tags
from neurodeck.model import RETIRED_TAG, Card, DeckContext, Note, Problem, Text, has_errors
from neurodeck.render import cloze, occlusion
from neurodeck.render.htmlfield import render_html_field
from neurodeck.render.markdown import MediaResolver, render_field
from neurodeck.render.media import MediaStore
from neurodeck.render.plaintext import plain_text, shows_nothing
from neurodeck.source.cards import load_card_file


@dataclass
class FileResult:
    path: Path
    notes: list[Note] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    media: dict[str, str] = field(default_factory=dict)  # package name -> source path


def process_file(path: Path, deck: DeckContext, media: MediaStore) -> FileResult:
    """Load, check and render one card file; images are added to `media`."""
    result = FileResult(path)
    card_file, problems = load_card_file(path, deck.notetypes)
    result.problems += problems
    if card_file is None:
        return result
    result.problems += check_tags(card_file.tags, card_file.format)
    subtopic = card_file.subtopic
    as_html = card_file.format == "html"  # its subtopic may nest (A::B), or be empty: the deck itself
    for part in (subtopic.value.split("::") if subtopic.value else []) if as_html else [subtopic.value]:
        result.problems += check_subtopic(Text(part, subtopic.location))
    result.problems += check_tag_forms(card_file.tags, live=any(not card.retired for card in card_file.cards))
    file_tags = [t.value for t in card_file.tags]
    resolve = media.resolver(path)
    original = media.original_resolver() if as_html else None
    for card in card_file.cards:
        result.problems += check_card(card)
        result.problems += check_tag_forms(card.tags, live=not card.retired)
        note, problems = render_note(card, deck, file_tags, resolve, original)
        result.problems += problems
        result.notes.append(note)
    for note in result.notes:
        for name in note.media:
            result.media[name] = str(media.sources[name])
    return result


def retirement_notice(card: Card, render: Callable[[Text], str]) -> str:
    """What a retired card shows instead of its answer (Anki never deletes a note on import)."""
    reason = f" {render(card.why)}" if card.why else ""
    return (f'<div class="nd-retired"><b>This card has been retired.</b>{reason} '
            f"You can delete it: search for <code>tag:*::{RETIRED_TAG}</code> in the browser.</div>")


def render_note(card: Card, deck: DeckContext, file_tags: list[str], resolve: MediaResolver,
                original: MediaResolver | None = None) -> tuple[Note, list[Problem]]:
    """Render one card's fields and tags, and compute what identifies the note; `resolve`
    finds the images the card's file refers to (`MediaStore.resolver`), `original` the media
    folder's files that HTML fields name (`MediaStore.original_resolver`)."""
    problems: list[Problem] = []
    used_media: list[str] = []
    as_html = card.format == "html"

    def render(text: Text | None, is_cloze: bool = False) -> str:
        if text is None:
            return ""
        if as_html:
            assert original is not None, "HTML fields need the media folder's resolver"
            out = render_html_field(text, original, deck.keep_markup)
        else:
            out = render_field(text, resolve, cloze=is_cloze)
        if not out.controls_ruled_out and not out.html.isprintable():
            out.problems.extend(check_field_characters(out.html, text.location))
        if "[" in out.html and not as_html:  # Anki's own sound and LaTeX tags: adopted fields keep theirs
            out.problems.extend(check_anki_syntax(out.html, text.location, out.media))
        if out.problems:
            problems.extend(out.problems)
        if out.media:
            used_media.extend(out.media)
        return out.html

    custom = deck.notetype(card.type) if card.named_fields is not None else None
    if custom is not None:
        fields, ords = _custom_fields(card, custom, render, problems)
        return _note(card, deck, file_tags, fields, ords, used_media, custom.sort_field), problems
    if card.type == "occlusion":
        return _occlusion_note(card, deck, file_tags, resolve, render, problems, used_media)
    extra = render(card.extra)
    if card.type == "cloze":
        first: tuple[str, ...] = (render(card.text, is_cloze=True),)
        if card.retired:
            extra = retirement_notice(card, render)
    else:
        answer = retirement_notice(card, render) if card.retired else render(card.answer)
        first = (render(card.question), answer)
        # A front Anki finds empty (markup, comments or spaces only) makes a card it lists under
        # Empty Cards: the question always is a front, and a reversed card's answer too.
        fronts = [(first[0], card.question)] + ([(first[1], card.answer)] if card.type == "reversed" else [])
        for shown, written in fronts:
            if written is not None and not card.retired and shows_nothing(shown):
                problems.append(Problem(written.location, "this field shows nothing in Anki (only markup, "
                                        "comments or spaces), so Anki would make an empty card",
                                        "write the text the card should show"))
    source = render(card.source)
    if card.type == "cloze":
        # Anki reads deletions from the stored HTML of every field (rslib's cloze_number_in_fields).
        extra_from = card.why if card.retired else card.extra
        problems += check_cloze_fields(first[0], (card.text or card.id).location, [
            (extra, extra_from.location if extra_from else card.location),
            (source, card.source.location if card.source else card.location)])
        ords = cloze.card_ordinals(first)
    else:
        ords = (0, 1) if card.type == "reversed" else (0,)
    fields = first + (extra, source, html.escape(card.id.value, quote=False))
    return _note(card, deck, file_tags, fields, ords, used_media), problems


def _occlusion_note(card: Card, deck: DeckContext, file_tags: list[str], resolve: MediaResolver,
                    render: Callable[[Text | None], str], problems: list[Problem],
                    used_media: list[str]) -> tuple[Note, list[Problem]]:
    """An occlusion card's note (apkg/occlusion_type.py): its image, the masks, one card per shape
    or group of shapes."""
    image = ""
    if card.image is not None:
        stored = resolve(card.image.value, card.image.location)
        if isinstance(stored, Problem):
            problems.append(stored)
        else:
            image = stored
            used_media.append(stored)
    notice = retirement_notice(card, render) if card.retired else None
    first, found = occlusion.note_fields(card, render, image, notice)
    problems += check_shapes(card.shapes) + found
    source = render(card.source)
    problems += [Problem(card.source.location, f"deletion '{marker}' in the source",
                         "Anki makes a card for every deletion in any field; remove it")
                 for marker in cloze.markers(source) if card.source is not None]
    fields = first + (source, html.escape(card.id.value, quote=False))
    ords = cloze.card_ordinals(fields)
    # The browser's sort field is the header (the note type's sortf).
    return _note(card, deck, file_tags, fields, ords, used_media, sort_index=2), problems


def _note(card: Card, deck: DeckContext, file_tags: list[str], fields: tuple[str, ...], ords: tuple[int, ...],
          used_media: list[str], sort_index: int = 0) -> Note:
    """The note of a card whose fields are rendered: its tags, deck, GUID and hashes."""
    root = deck.tag
    # Interned: a file's notes then share each tag and deck name, which a large deck pickles,
    # sends and keeps in memory once per file instead of once per note.
    if card.format == "html":  # Anki's own tags, as written: an adopted note keeps the ones students have
        tags = {*map(intern, file_tags), *[intern(t.value) for t in card.tags]}
    else:
        tags = {intern(f"{root}::{_slug(card.subtopic)}"), *[intern(f"{root}::{t}") for t in file_tags],
                *[intern(f"{root}::{t.value}") for t in card.tags]}
    if card.retired:
        tags.add(f"{root}::{RETIRED_TAG}")
    sorted_tags = tuple(sorted(tags))
    note_media = tuple(sorted(set(used_media))) if used_media else ()
    first = plain_text(fields[0])  # Anki's checksum is the first field's, whichever field sorts
    sort_field = first if sort_index == 0 else plain_text(fields[sort_index])
    # In Note's field order, made with tuple.__new__: its generated constructor is a Python
    # function, and keyword arguments cost more again (once per card).
    return _new(Note, (
        card.id.value, card.id.location, card.type, card.location, card.subtopic, fields, sorted_tags,
        intern(f"{deck.name}::{card.subtopic}" if card.subtopic else deck.name), ords, note_media,
        card.guid.value if card.guid is not None else lockfile.note_guid(deck.namespace, card.id.value),
        sort_field, int(hashlib.sha1(first.encode()).hexdigest()[:8], 16),
        lockfile.note_hash(card.type, fields, sorted_tags, note_media), card.retired, card.guid is not None))


def _custom_fields(card: Card, nt: CustomNoteType, render: Callable[..., str],
                   problems: list[Problem]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The fields of a card of the deck's own note type, in its order, and the cards Anki makes
    of them: one per deletion number (cloze kinds) or per template whose front renders."""
    given = card.named_fields or {}
    values = [render(given.get(name), is_cloze=name in nt.cloze_fields) for name in nt.fields]
    if card.retired:
        _retire(card, nt, values, render)
    where = [given[name].location if name in given else card.location for name in nt.fields]
    if nt.is_cloze:
        deletions = [(v, loc) for name, v, loc in zip(nt.fields, values, where) if name in nt.cloze_fields]
        found = []
        for index, (value, loc) in enumerate(deletions):
            occlusions = nt.kind == "occlusion" and index == 0  # the first field, checked to be a cloze field
            found += [Problem(loc, message, hint or None, severity)
                      for message, hint, severity in cloze.problems(value, occlusions)]
        if not any(cloze.numbers(v) for v, _ in deletions) and not has_errors(found):
            found.append(Problem(deletions[0][1], "cloze card has no deletion",
                                 "mark what to hide as {{c1::text}} (optionally {{c1::text::hint}})"))
        for name, value, loc in zip(nt.fields, values, where):
            if name not in nt.cloze_fields:
                found += [Problem(loc, f"deletion '{marker}' outside the cloze fields",
                                  "Anki makes a card for every deletion in any field of the note; put deletions in "
                                  + ", ".join(sorted(nt.cloze_fields))) for marker in cloze.markers(value)]
        problems += found
        return tuple(values), cloze.card_ordinals(values)
    ords = templates.card_templates(list(nt.fronts), dict(zip(nt.fields, values)), has_tags=True)
    if not ords:
        problems.append(Problem(card.location, f"this card's fields make no card of note type '{nt.name}': "
                                "the front of every template would be empty",
                                "fill a field that a template's front shows"))
    return tuple(values), ords


def _retire(card: Card, nt: CustomNoteType, values: list[str], render: Callable[..., str]) -> None:
    """The retirement notice in place of every filled field but the first, the deletions and an
    occlusion's image; after the first field when there is none (so no card appears or goes)."""
    notice = retirement_notice(card, render)
    kept = {0, 1} if nt.kind == "occlusion" else {0}
    replaced = False
    for i, name in enumerate(nt.fields):
        if i not in kept and name not in nt.cloze_fields and not templates.field_is_empty(values[i]):
            values[i], replaced = notice, True
    if not replaced:
        values[0] += notice


_slug = functools.lru_cache(maxsize=256)(slug)  # every card of a file has the same subtopic
_new = tuple.__new__
