"""Near-duplicate facts (lint ND113): two cards that ask the same thing, whatever their wording or type.

A card asks *items*, each a cue and the answer it expects: a basic or type-in card its question and
answer, a reversed card both ways, a cloze card each deletion number with the rest of the text as its
cue. Card X repeats card Y when Y already teaches one of X's items:

- most of the item's answer (by weight, `ANSWER_SHARE`) is among the words Y shows,
- the item as a whole, cue and answer, is among them to at least the rule's `similarity` (a little
  more, `OTHER_PAPER`, when the cards cite different papers: one paper's cards restate each other
  more often than two papers' cards do), and
- Y is about that fact rather than naming X's answer in passing: Y gives the answer on its back (its
  answer, a cloze deletion, its extra), or Y's own answer is among X's words (`INVOLVED`).

Y's extra counts as shown only when the two cards are linked: they cite the same paper, or their
questions and answers already share their rarer words (`LINKED`). So a card's extra that restates
another card's answer ("Szeto et al. found unextracted values 100-fold higher") makes a pair, while an
extra that cites an unrelated study in passing does not.

Words are folded (case, accents, plurals, common suffixes), function words and the card's own
source's authors are dropped, and each word weighs by its rarity in a fixed reference corpus
(`reference_words.txt`): never by the deck being linted, so a pair's verdict depends on the two cards
alone, and adding or removing other cards cannot change it.
"""
from __future__ import annotations

import functools
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources

from neurodeck.checks.words import shown, tokens
from neurodeck.model import Card
from neurodeck.render.cloze import CLOZE

ANSWER_SHARE = 0.5  # share of an item's answer the other card must show
INVOLVED = 0.3  # share of the other card's answer this card must show, unless the other gives the answer
LINKED = 0.35  # weighted cosine of two cards' questions and answers from which their extras count
OTHER_PAPER = 0.05  # added to the similarity a pair needs when its cards cite different papers

# Words that carry no fact of their own: sharing them never makes two cards teach the same thing.
FUNCTION_WORDS = frozenset("""
    a an the of in on at to for from by with without and or but nor not no yes is are was were be been being it its
    this that these those there their they them he she his her him we our you your i me my as into onto about over
    under between among both each other such only also more most less least very much many some any all one two
    three what which who whom whose when where why how did does do done doe had has have having after before during
    than then so if while whether can could may might must should would will shall let same own just even
    find found show showed shown study studie report reported use used using give gave given make made name
    according et al besides compared compare e g i e
    s t thi thu
""".split())
_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
_VOLUME = re.compile(r"\b(\d+)\s*:\s*[A-Za-z]?\d+")  # journal volume:pages, e.g. 275:1593
_SUFFIXES = ("ations", "ation", "ating", "ated", "ates", "ate", "ings", "ing", "ions", "ion", "ences", "ence",
             "ed", "es", "e", "ly", "al")
_IMAGE_WEIGHT = 10.0  # an image a card shows is as distinctive as a word can be


def stem(word: str) -> str:
    """A crude stem, so that "predicted", "prediction" and "predicts" count as one word."""
    for suffix in _SUFFIXES:
        if len(word) - len(suffix) >= 4 and word.endswith(suffix):
            return word[:-len(suffix)]
    return word


@functools.cache
def _reference() -> tuple[int, dict[str, int]]:
    """The reference corpus: its number of documents and each stem's document frequency."""
    text = resources.files("neurodeck.checks").joinpath("reference_words.txt").read_text(encoding="utf-8")
    lines = [line.split() for line in text.splitlines() if line and not line.startswith("#")]
    documents = int(lines[0][1])
    return documents, {word: int(count) for word, count in lines[1:]}


@functools.lru_cache(maxsize=65536)
def weight(word: str) -> float:
    """Inverse document frequency in the reference corpus; a word it lacks weighs as one seen once."""
    if word.startswith("image:"):
        return _IMAGE_WEIGHT
    documents, frequency = _reference()
    return math.log((documents + 1) / (frequency.get(word, 1) + 1)) + 1


def _mass(words: frozenset[str]) -> float:
    # fsum: exactly rounded, so equal sets weigh the same whatever order a set iterates in (which
    # changes with string hashing from one process to the next); a plain sum could differ in its
    # last bit and flip a verdict at the threshold or a tie between two earlier cards.
    return math.fsum(weight(w) for w in words)


def _share(part: frozenset[str], whole: frozenset[str]) -> float:
    """The weighted share of `part` that `whole` holds."""
    total = _mass(part)
    return _mass(part & whole) / total if total else 0.0


def document_words(card: Card) -> frozenset[str]:
    """Every word a card shows (question, answer, cloze text, extra), folded as ND113 compares them:
    one document of the reference corpus."""
    text = " ".join(f.value for f in (card.question, card.answer, card.text, card.extra) if f is not None)
    return frozenset(stem(w) for w in tokens(text) if w not in FUNCTION_WORDS and not w.isdigit())


@dataclass(frozen=True)
class Fact:
    """What one card asks and shows, as folded words."""

    card: Card
    items: tuple[tuple[frozenset[str], frozenset[str]], ...]  # (cue, answer) pairs the card asks
    asked: frozenset[str]  # question and answer, or the cloze text with its deletions
    back: frozenset[str]  # what the answer side reveals: answers, cloze deletions
    extra: frozenset[str]
    paper: tuple[str, str, str | None] | None  # first author, year, volume


def paper(source: str) -> tuple[str, str, str | None] | None:
    """The paper a source names first: (first author, year, journal volume if given)."""
    year = _YEAR.search(source)
    if year is None:
        return None
    names = re.findall(r"[^\W\d_]+", source[:year.start()])
    volume = _VOLUME.search(source, year.end())
    return (names[0].casefold() if names else "", year.group(), volume.group(1) if volume else None)


def _same_paper(a: Fact, b: Fact) -> bool:
    if a.paper is None or b.paper is None or a.paper[:2] != b.paper[:2]:
        return False
    return a.paper[2] is None or b.paper[2] is None or a.paper[2] == b.paper[2]


def fact(card: Card) -> Fact | None:
    """The card's items and words, or None for a card that asks nothing ND113 can read (a custom
    note type's fields, an image occlusion)."""
    cited: frozenset[str] = frozenset()
    if card.source is not None:
        year = _YEAR.search(card.source.value)
        cited = frozenset(tokens(card.source.value[:year.end()] if year else card.source.value))

    def words(text: str) -> frozenset[str]:
        folded = (stem(w) for w in tokens(text) if w not in FUNCTION_WORDS and w not in cited and not w.isdigit())
        return frozenset(folded) | frozenset(shown(text))

    if card.type == "cloze" and card.text is not None:
        text = card.text.value
        numbers = sorted({m.group(1) for m in CLOZE.finditer(text)}, key=int)
        items: list[tuple[frozenset[str], frozenset[str]]] = []
        for n in numbers:
            deleted = " ".join(m.group(2) for m in CLOZE.finditer(text) if m.group(1) == n)
            cue = CLOZE.sub(lambda m: " " if m.group(1) == n else m.group(2), text)  # noqa: B023
            items.append((words(cue), words(deleted)))
        back = words(" ".join(m.group(2) for m in CLOZE.finditer(text)))
        asked = words(text)
    elif card.question is not None and card.answer is not None:
        front, reply = words(card.question.value), words(card.answer.value)
        items = [(front, reply), (reply, front)] if card.type == "reversed" else [(front, reply)]
        back = front | reply if card.type == "reversed" else reply
        asked = front | reply
    else:
        return None
    asks = tuple((cue, answer) for cue, answer in items if answer)
    if not asks:
        return None
    extra = words(card.extra.value) if card.extra is not None else frozenset()
    return Fact(card, asks, asked, back, extra,
                paper(card.source.value) if card.source is not None else None)


def linked(a: Fact, b: Fact) -> bool:
    """Whether each card's extra counts as shown to the other: same paper, or questions and answers
    that already share their rarer words."""
    if _same_paper(a, b):
        return True
    common = _mass(a.asked & b.asked)
    return common > 0 and common / math.sqrt(_mass(a.asked) * _mass(b.asked)) >= LINKED


def repeats(x: Fact, y: Fact, similarity: float) -> float:
    """How fully y already teaches one of x's items (0 when it does not, by the rules above)."""
    link = linked(x, y)
    if not _same_paper(x, y):
        similarity += OTHER_PAPER
    y_shows = y.asked | y.extra if link else y.asked
    y_back = y.back | y.extra if link else y.back
    x_shows = x.asked | x.extra if link else x.asked
    involved = any(_share(answer, x_shows) >= INVOLVED for _, answer in y.items)
    best = 0.0
    for cue, answer in x.items:
        if any(w.startswith("image:") and w not in y_shows for w in cue):
            continue  # the same words over another figure ask another question
        if _share(answer, y_shows) < ANSWER_SHARE:
            continue
        if not involved and _share(answer, y_back) < ANSWER_SHARE:
            continue
        score = _share(cue | answer, y_shows)
        if score >= similarity:
            best = max(best, score)
    return best


def _needed(answer: frozenset[str]) -> list[str]:
    """The heaviest words of an answer, enough that a card holding none of them cannot show
    ANSWER_SHARE of it."""
    ordered = sorted(answer, key=lambda w: (-weight(w), w))
    total, rest = _mass(answer), _mass(answer)
    needed = []
    for w in ordered:
        if rest < ANSWER_SHARE * total - 1e-9:
            break
        needed.append(w)
        rest -= weight(w)
    return needed


def near_duplicates(cards: list[Card], similarity: float) -> list[tuple[Card, Card, float]]:
    """(card, earlier card, score) for each card that repeats, or is repeated by, an earlier one: the
    earlier card with the highest score (the first on ties).

    Exact without comparing all pairs: a pair can only score if one card shows a word of the other's
    `_needed` answer words, so each card meets only the earlier cards an index of those words finds.
    """
    facts = [f for f in map(fact, cards) if f is not None]
    by_needed: dict[str, set[int]] = defaultdict(set)  # needed answer word -> cards
    by_word: dict[str, set[int]] = defaultdict(set)  # word shown (asked or extra) -> cards
    found = []
    for j, y in enumerate(facts):
        words = y.asked | y.extra
        candidates = {i for w in words for i in by_needed.get(w, ())}
        for _, answer in y.items:
            for w in _needed(answer):
                candidates.update(by_word.get(w, ()))
        best, best_score = None, 0.0
        for i in sorted(candidates):
            x = facts[i]
            score = max(repeats(x, y, similarity), repeats(y, x, similarity))
            if score > best_score + 1e-12:
                best, best_score = i, score
        if best is not None:
            found.append((y.card, facts[best].card, best_score))
        for w in words:
            by_word[w].add(j)
        for _, answer in y.items:
            for w in _needed(answer):
                by_needed[w].add(j)
    return found
