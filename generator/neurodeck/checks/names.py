"""Names derived from what authors write."""
from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from itertools import chain
from operator import attrgetter
from typing import TYPE_CHECKING, Literal

from neurodeck.model import RETIRED_TAG, Location, Problem, Text

if TYPE_CHECKING:
    from neurodeck.model import Note


def slug(text: str) -> str:
    """Letters (of any script, NFC, lowercase) and digits, runs of anything else as one '-': for
    file names, subtopic tags and preview anchors. ASCII text gives what it always gave.
    Lowercase rather than case-folded, so that "Straße" stays "straße" and a Greek final sigma
    stays final; names that fold alike are checked with `folded` (check_merged_names)."""
    lower = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).lower())
    kept = "".join(ch if _is_word(ch) else "-" for ch in lower)
    return _HYPHENS.sub("-", kept).strip("-")


def ascii_slug(text: str) -> str:
    """`slug` in ASCII letters, digits and '-', for card ids and namespaces: the slug itself when
    it is ASCII, else its Punycode (as in internationalised domain names: "émotions" gives
    "motions-9xa"), which keeps the ASCII letters and is the same for the same text."""
    name = slug(text)
    if name.isascii():
        return name
    return _HYPHENS.sub("-", re.sub(r"[^a-z0-9]", "-", name.encode("punycode").decode("ascii"))).strip("-")


def _is_word(ch: str) -> bool:
    # Letters, combining marks (the vowel signs of Devanagari, Thai...) and digits of any script;
    # '_' is a separator in slugs.
    return ch.isascii() and ch.isalnum() or not ch.isascii() and unicodedata.category(ch)[0] in "LMN"


_HYPHENS = re.compile("-+")


# ---- what a tag, a subtopic and a deck name may hold ----------------------------------------------
# One rule for the three: letters of any script, combining marks and digits are allowed
# everywhere; tags add '-' and '_' (and '::' to nest), subtopics and deck names any other
# printable character but '::' (each is one deck name). What Anki would store otherwise
# (spaces or ':' around a name, Unicode not in NFC) is checked by check_subtopic and check_deck_name.

NameKind = Literal["tag", "subtopic", "deck name"]


@functools.lru_cache(maxsize=4096)
def name_problem(value: str, kind: NameKind) -> tuple[str, str] | None:
    """What is wrong with a tag, a subtopic or a deck name, as (message, hint); None if nothing.

    Remembered: a large deck names the same few tags on every card, and the checks go through
    them character by character (a fifth of the time spent compiling a card)."""
    what = f"{kind} {value!r}" if kind != "tag" else f"tag '{value}'"
    # (ASCII control characters in a deck name are check_subtopic's and check_deck_name's:
    # Anki deletes them, and those checks name the deck Anki would make.)
    control = next((ch for ch in value if unicodedata.category(ch) in ("Cc", "Cs", "Cn", "Co")
                    and (kind == "tag" or not ch.isascii())), None)
    if control is not None:
        return (f"{what} contains the invisible character U+{ord(control):04X}",
                "delete it (in YAML it usually comes from an escape in double quotes)")
    if not any(_is_word(ch) for ch in value):
        return f"{what} has no letter or digit", "use letters (of any script) or digits"
    if kind == "tag":
        if " " in value.strip():
            return f"{what} is not a valid tag", "use hyphens instead of spaces"
        if any(not part for part in value.split("::")):
            return f"{what} is not a valid tag: it has an empty part", "'::' nests tags: write a name on both sides"
        bad = next((ch for ch in value.replace("::", "") if not (_is_word(ch) or ch in "-_")), None)
        if bad is not None:
            return (f"{what} is not a valid tag: {_named(bad)} is not a letter, digit, '-' or '_'",
                    "tags hold letters of any script, digits, '-' and '_'; '::' nests them")
        return None
    if "::" in value:
        return (f"{what} contains '::', which Anki reads as a subdeck",
                "subdecks come from the card files' subtopics" if kind == "deck name"
                else "a subtopic is one subdeck: write it without '::'")
    return None


_SPACE = re.compile(r"\s")


def anki_tag_problem(value: str) -> tuple[str, str] | None:
    """What Anki would change in a tag written in its own terms (an HTML card file's, kept as
    written): rslib's normalize_tag_name removes spaces and control characters, names an empty
    part 'blank' and stores Unicode in NFC. None if Anki keeps it as it is."""
    if value.isprintable() and not _SPACE.search(value):  # the usual tag: only an empty part can be wrong
        return None if "" not in value.split("::") else (
            f"tag {value!r} has an empty part", "Anki would name it 'blank': '::' needs a name on both sides")
    bad = next((ch for ch in value if ch in " \u3000" or unicodedata.category(ch) == "Cc"), None)
    if bad is not None:
        return (f"tag {value!r} holds {_named(bad)}, which Anki removes from tags",
                "tags are separated by spaces in Anki: write the tag without it")
    if any(not part.strip() for part in value.split("::")):
        return f"tag {value!r} has an empty part", "Anki would name it 'blank': '::' needs a name on both sides"
    if any(part != part.strip() for part in value.split("::")):
        return f"tag {value!r} has spaces around a part", "Anki trims them: write the tag without them"
    return None


def _named(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"'{ch}' ({name.lower()})" if name and not ch.isspace() else f"U+{ord(ch):04X}"


# ---- names as Anki stores them ------------------------------------------------------------------
# Anki normalises deck names and tags when it stores them, and compares them ignoring case
# (rslib/src/decks/name.rs normalized_deck_name_component, rslib/src/tags/register.rs
# normalized_tag_name_component; decks and tags are looked up with UniCase). A name it would
# change, or two names it would merge, is an error here rather than a surprise in Anki.


def anki_deck_component(name: str) -> str:
    """One '::'-separated part of a deck name as Anki stores it: NFC, ASCII control characters
    removed, whitespace and ':' trimmed, 'blank' if nothing is left."""
    out = unicodedata.normalize("NFC", name)
    out = _ASCII_CONTROL.sub("", out)
    out = out.strip(_WHITESPACE + ":")
    return out or "blank"


def folded(name: str) -> str:
    """The form under which Anki takes two names for the same deck or tag."""
    return unicodedata.normalize("NFC", name).casefold()


_ASCII_CONTROL = re.compile("[\x00-\x1f\x7f]")
# Rust's char::is_whitespace (the Unicode White_Space property), which Anki's trim uses.
_WHITESPACE = ("\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
               "\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def check_subtopic(subtopic: Text) -> list[Problem]:
    """A subtopic Anki would store under another deck name (when `name_problem` allows it)."""
    if name_problem(subtopic.value, "subtopic"):
        return []  # reported where the card file is read
    if folded(slug(subtopic.value)) == RETIRED_TAG:  # its cards would be tagged <root>::retired
        return [Problem(subtopic.location, f"subtopic {subtopic.value!r} is reserved for retired cards: its "
                        f"tag would be '…::{RETIRED_TAG}', and students delete the cards it tags",
                        "name the subtopic otherwise")]
    stored = anki_deck_component(subtopic.value)
    if stored == subtopic.value:
        return []
    return [Problem(subtopic.location, f"Anki would name the subtopic's deck {stored!r}, not {subtopic.value!r}",
                    "subtopics become deck names: no surrounding spaces or ':', no control characters, "
                    "Unicode in NFC")]


def check_deck_name(name: str, location: Location) -> list[Problem]:
    """A deck name Anki would store otherwise (when `name_problem` allows it)."""
    if name_problem(name, "deck name"):
        return []  # reported where the manifest is read
    stored = "::".join(map(anki_deck_component, name.split("::")))
    if stored == name:
        return []
    return [Problem(location, f"Anki would name the deck {stored!r}, not {name!r}",
                    "no surrounding spaces or ':', no control characters, Unicode in NFC")]


def check_tag_forms(tags: list[Text], live: bool) -> list[Problem]:
    """Tags Anki would store otherwise, and the reserved tag on a card that is not retired."""
    problems = []
    for tag in tags:
        value = tag.value
        not_nfc, reserved = _tag_form(value)
        if not_nfc:
            problems.append(Problem(tag.location, f"Anki would store tag {value!r} in another form (NFC)",
                                    "retype the tag's accented letters"))
        if live and reserved:
            problems.append(Problem(tag.location, f"tag '{value}' is reserved for retired cards",
                                    "students delete cards tagged '…::retired'; use 'retired: true' to retire a "
                                    "card, or another tag"))
    return problems


def _any_merged(subtopics: Iterable[str], tags: Iterable[str]) -> bool:
    """Whether `check_merged_names` finds anything among these spellings (each given once, in
    the order the notes first use them): two that fold alike but differ."""
    decks: dict[str, str] = {}
    subtopic_tags: dict[str, str] = {}
    prefixes: dict[str, str] = {}
    for subtopic in subtopics:
        if (decks.setdefault(folded(anki_deck_component(subtopic)), subtopic) != subtopic
                or subtopic_tags.setdefault(folded(slug(subtopic)), subtopic) != subtopic):
            return True
    for tag in tags:
        parts = tag.split("::")
        for end in range(1, len(parts) + 1):
            prefix = "::".join(parts[:end])
            if prefixes.setdefault(folded(prefix), prefix) != prefix:
                return True
    return False


@functools.lru_cache(maxsize=4096)
def _tag_form(value: str) -> tuple[bool, bool]:
    """(not in NFC, the reserved retired tag): remembered, as a deck repeats its few tags on every card."""
    return unicodedata.normalize("NFC", value) != value, folded(value.rsplit("::", 1)[-1]) == RETIRED_TAG


def check_merged_names(notes: Iterable[Note]) -> list[Problem]:
    """Subtopics and tags that Anki would merge although they are written differently, naming
    where each spelling is first used."""
    notes = list(notes)
    if not _any_merged(dict.fromkeys(map(attrgetter("subtopic"), notes)),
                       dict.fromkeys(chain.from_iterable(map(attrgetter("tags"), notes)))):
        return []  # the usual case: each spelling once, in C; the notes are only looked at to name places
    problems: list[Problem] = []
    subtopics: dict[str, tuple[str, Note]] = {}
    subtopic_tags: dict[str, tuple[str, Note]] = {}
    tags: dict[str, tuple[str, Note]] = {}
    seen_tags: set[str] = set()
    seen_subtopics: set[str] = set()
    for note in notes:
        if note.subtopic not in seen_subtopics:
            seen_subtopics.add(note.subtopic)
            for table, key, what in ((subtopics, folded(anki_deck_component(note.subtopic)), "the same deck"),
                                     (subtopic_tags, folded(slug(note.subtopic)), "the same tag")):
                first = table.setdefault(key, (note.subtopic, note))
                if first[0] != note.subtopic:
                    problems.append(Problem(
                        note.location, f"subtopic {note.subtopic!r} and {first[0]!r} (at {first[1].location}) "
                                       f"become {what} in Anki", "give the two subtopics distinct names"))
                    break  # one problem per pair of subtopics
        for tag in note.tags:
            if tag in seen_tags:
                continue
            seen_tags.add(tag)
            parts = tag.split("::")
            for end in range(1, len(parts) + 1):
                prefix = "::".join(parts[:end])
                first = tags.setdefault(folded(prefix), (prefix, note))
                if first[0] != prefix:
                    problems.append(Problem(
                        note.location, f"tag '{prefix}' differs from '{first[0]}' (at {first[1].location}) only "
                                       "in case, and Anki keeps one spelling for both", "spell the tag the same way"))
                    break
    return problems
