"""Rules over loaded cards that go beyond shape: identity, cloze deletions, tags, the lock."""
from __future__ import annotations

import re
from collections.abc import Collection
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING

from neurodeck.checks.names import anki_tag_problem, name_problem
from neurodeck.lockfile import Lock
from neurodeck.model import GUID_PATTERN, SLUG_PATTERN, Card, Location, Problem, Text, has_errors
from neurodeck.project import shown_path
from neurodeck.render import cloze

if TYPE_CHECKING:
    from neurodeck.model import Note

_ID = re.compile(SLUG_PATTERN)
_GUID = re.compile(GUID_PATTERN)


def check_card(card: Card) -> list[Problem]:
    """Problems of a single card beyond its shape."""
    problems: list[Problem] = []
    card_id = card.id.value
    if not _ID.fullmatch(card_id):
        problems.append(Problem(card.id.location, f"card id '{card_id}' is not a lowercase slug",
                                "use lowercase letters, digits and hyphens, e.g. oxytocin-synthesis-site"))
    if card.guid is not None and not _GUID.fullmatch(card.guid.value):
        problems.append(Problem(card.guid.location, f"guid {card.guid.value[:80]!r} is not an Anki GUID",
                                "1 to 64 of Anki's GUID characters (letters, digits and "
                                "!#$%&()*+,-./:;<=>?@[]^_`{|}~); keep the GUID the note was adopted with, "
                                "or remove the key"))
    problems.extend(check_tags(card.tags, card.format))
    return problems


def check_cloze_fields(text: str, location: Location, others: list[tuple[str, Location]]) -> list[Problem]:
    """Deletions as Anki will read them from a cloze note's stored fields: `text` is the Text
    field's HTML, `others` the other fields' HTML with where each was written."""
    problems = [Problem(location, message, hint or None, severity) for message, hint, severity in cloze.problems(text)]
    if not cloze.numbers(text) and not has_errors(problems):
        problems.append(Problem(location, "cloze card has no deletion",
                                "mark what to hide as {{c1::text}} (optionally {{c1::text::hint}})"))
    for value, where in others:
        for marker in cloze.markers(value):
            problems.append(Problem(where, f"deletion '{marker}' outside the cloze text",
                                    "Anki makes a card for every deletion in any field of the note; "
                                    "put deletions in 'text' only"))
    return problems


# Characters Anki deletes from every field it stores (rslib/src/notes/mod.rs, invalid_char_for_field).
_INVALID_IN_FIELD = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def check_field_characters(html: str, location: Location) -> list[Problem]:
    """Characters Anki would silently remove from the stored field."""
    found = _INVALID_IN_FIELD.search(html)
    if found is None:
        return []
    return [Problem(location, f"control character U+{ord(found.group()):04X} in the text, which Anki removes",
                    "delete it (in YAML it usually comes from an escape such as \\x01 or \\r "
                    "in a double-quoted string)")]


# Text Anki itself interprets in any field: sound, video and text-to-speech tags (rslib/src/text.rs,
# AV_TAGS; card_rendering/parser.rs), the reviewer's play buttons (pylib/anki/sound.py, AV_REF_RE)
# and LaTeX images (rslib/src/latex.rs, LATEX). Sound tags the renderer wrote (their files checked
# and packaged) are the supported kind; LaTeX is not: MathJax, \\( \\) and \\[ \\], is the
# supported way to write maths.
_ANKI_SYNTAX = re.compile(r"\[sound:(.+?)\]|\[anki:tts[^\]]*\].+?\[/anki:tts\]|\[anki:play:.:\d+\]"
                          r"|(?i:\[latex\].+?\[/latex\]|\[\$\].+?\[/\$\]|\[\$\$\].+?\[/\$\$\])", re.DOTALL)


def check_anki_syntax(html: str, location: Location, sounds: Collection[str] = ()) -> list[Problem]:
    """Text-to-speech, play-button and LaTeX tags, which Anki would act on, refused with where
    they are; and sound tags, unless they name one of `sounds` (files the renderer packaged)."""
    problems = []
    for found in _ANKI_SYNTAX.finditer(html):
        text = found.group()
        if found.group(1) is not None:
            if found.group(1) in sounds:
                continue
            kind = "sound"
        else:
            kind = ("text-to-speech" if text.startswith("[anki:tts") else
                    "play button" if text.startswith("[anki:play") else "LaTeX")
        problems.append(Problem(location, f"'{text[:40]}' is Anki's own {kind} syntax, which decks do not "
                                "support written this way",
                                "write maths as \\(...\\) or \\[...\\] (MathJax), sounds as "
                                "[sound:media/file.mp3] and text-to-speech with the manifest's 'tts' option"))
    return problems


def check_duplicates(notes: list[Note]) -> list[Problem]:
    """Ids used twice in the deck, naming both places."""
    if len(set(map(attrgetter("id"), notes))) == len(notes):  # the usual case, settled in C
        return []
    problems = []
    seen: dict[str, Location] = {}
    for note in notes:
        first = seen.setdefault(note.id, note.id_location)
        if first is not note.id_location:
            problems.append(Problem(note.id_location, f"duplicate card id '{note.id}', first used at {first}",
                                    "ids are unique across the project; give this card its own id"))
    return problems


def check_duplicate_guids(notes: list[Note]) -> list[Problem]:
    """Notes of the deck with the same GUID (given with `guid:`, or made from the namespace and
    id): Anki would take them for one note, naming both places."""
    if len(set(map(attrgetter("guid"), notes))) == len(notes):  # the usual case, settled in C
        return []
    problems = []
    seen: dict[str, Note] = {}
    for note in notes:
        first = seen.setdefault(note.guid, note)
        if first is not note:
            problems.append(Problem(note.location, f"card '{note.id}' has the GUID of card '{first.id}' "
                                    f"({first.location}): {note.guid!r}",
                                    "GUIDs are unique across the deck, or Anki takes the two notes for one; "
                                    "remove or correct the guid: key"))
    return problems


def check_tags(tags: list[Text], file_format: str = "markdown") -> list[Problem]:
    """Tags the shared name rule refuses (checks/names.py), each with what is wrong; an HTML card
    file's tags are Anki's own, kept as written, and only what Anki would change is refused."""
    rule = anki_tag_problem if file_format == "html" else lambda value: name_problem(value, "tag")
    return [Problem(tag.location, *wrong) for tag in tags for wrong in [rule(tag.value)] if wrong is not None]


def check_against_lock(notes: list[Note], lock: Lock | None, lock_shown: str) -> list[Problem]:
    """Changes that can never reach students who already imported a release (drafts, ids no
    release shipped, may change freely)."""
    if lock is None or not lock.released and not lock.removed:  # every id a draft: nothing to check
        return []
    problems = []
    removed = set(lock.removed)
    for note in notes:
        card_id = note.id
        entry = lock.notes.get(card_id)
        if entry is not None and entry.type != note.type and card_id in lock.released:
            problems.append(Problem(
                note.location, f"card '{card_id}' changed type from {entry.type} to {note.type}",
                "Anki cannot change a released note's type in students' collections; "
                "give the card a new id (the old one is then retired)"))
        if entry is not None and entry.guid != (note.guid if note.given_guid else None) \
                and card_id in lock.released:
            before, now = entry.guid or "made from its id", note.guid if note.given_guid else "made from its id"
            problems.append(Problem(
                note.location, f"card '{card_id}' changed its GUID since it was released ({before} -> {now})",
                "students would get a second copy of the note; restore the guid: key the lock records"))
        if card_id in removed:
            problems.append(Problem(
                note.id_location, f"card id '{card_id}' was removed in an earlier release",
                "students who imported that release keep the old card as it was; "
                "give this card a new id"))
    return problems


def check_gone(notes: list[Note], lock: Lock | None, lock_shown: str) -> list[Problem]:
    """Released cards deleted instead of retired (only meaningful when every file loaded).
    The next release makes the deletion permanent; until then the card may come back."""
    present = {note.id for note in notes}
    return [Problem(Location(lock_shown), f"released card '{card_id}' is gone from the cards",
                    "Anki never deletes notes on import, so students keep it for ever; put it back with "
                    "'retired: true' and a 'why' so that they learn it is retired", severity="warning")
            for card_id in (lock.gone(present) if lock else ())]


def check_lock_namespace(lock: Lock | None, namespace: str, lock_path: Path) -> list[Problem]:
    if lock is not None and lock.namespace != namespace:
        return [Problem(Location(shown_path(lock_path)),
                        f"lock was made for namespace '{lock.namespace}', the manifest says '{namespace}'",
                        "the namespace is the deck's identity: changing it duplicates every student's cards")]
    return []
