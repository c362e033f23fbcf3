"""Card-quality rules (`neurodeck lint`): the minimum information principle and friends.

Each rule has a code (ND101...), a short name, a default severity and, for some, a limit. A
manifest changes them under `lint:`; a card silences named rules on itself with
`lint: {ignore: [CODE], why: "..."}`. Checks run on loaded cards (source/cards.py), never on rendered
notes, so every problem points at the value as written.
"""
from __future__ import annotations

import difflib
import math
import re
import zlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from neurodeck.checks.near_duplicates import near_duplicates
from neurodeck.checks.words import plain, tokens, word_count
from neurodeck.checks.words import shown as _shown
from neurodeck.model import Card, Location, Manifest, Problem
from neurodeck.render.cloze import cloze_numbers
from neurodeck.source.deck import load_deck
from neurodeck.source.yamlnodes import YMap, YScalar, YSeq, describe

SEVERITIES = ("error", "warning", "off")


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str  # the default
    option: str | None = None  # the one setting besides severity, if any
    default: float | None = None
    hint: str = ""


RULES: dict[str, Rule] = {r.code: r for r in (
    Rule("ND101", "long-answer", "warning", "limit", 20,
         "keep one fact per answer; move detail to 'extra' or split the card"),
    Rule("ND102", "very-long-answer", "error", "limit", 40,
         "keep one fact per answer; move detail to 'extra' or split the card"),
    Rule("ND103", "not-a-question", "warning", hint="end the question with '?', or start it with an instruction "
         "such as 'Name ...' or 'Define ...'"),
    Rule("ND104", "answer-in-question", "warning", hint="the question gives the answer away; rephrase it"),
    Rule("ND105", "duplicate-question", "error",
         hint="merge the two cards, or make each question ask for its own answer"),
    Rule("ND106", "similar-question", "warning", "similarity", 0.85,
         "make each question unmistakable, or merge the cards"),
    Rule("ND107", "too-many-clozes", "warning", "limit", 5,
         "split the text into several cloze cards with fewer deletions each"),
    Rule("ND108", "missing-source", "warning", hint="name the paper or textbook the card is based on in 'source'"),
    Rule("ND109", "undefined-abbreviation", "warning"),
    Rule("ND110", "long-extra", "warning", "limit", 80, "shorten 'extra' or split the card"),
    Rule("ND111", "type-in-synonym", "warning",
         hint="Anki compares typed answers letter by letter and marks the other forms wrong: make it a basic "
              "card, or ask for the one form that is the answer"),
    Rule("ND112", "long-type-in-answer", "warning", "limit", 3,
         "nobody types a phrase letter-perfect: ask for a single term, or make it a basic card"),
    # Off unless a manifest turns it on: two cards on one fact are sometimes deliberate (a term and
    # its definition both ways), and its word weights come from a neuroscience reference corpus.
    Rule("ND113", "near-duplicate-fact", "off", "similarity", 0.45,
         "make each card ask one thing no other card asks, or merge the two"),
    # Once per deck: its students need a recent Anki, which only the educator can tell them.
    Rule("ND114", "occlusion-needs-anki-23.10", "warning",
         hint="tell students (in the deck's description, say) that these cards need Anki 23.10 or later, "
              "AnkiDroid 2.17 or later, or a current AnkiMobile; then set ND114: off under the manifest's lint"),
)}
# Problems with the lint settings themselves; they cannot be configured or ignored.
UNKNOWN_RULE, UNUSED_IGNORE, BAD_SETTING, BAD_SYNONYMS = "ND001", "ND002", "ND003", "ND004"


@dataclass(frozen=True)
class Setting:
    severity: str
    value: float | None  # the rule's limit or similarity


@dataclass(frozen=True)
class Finding:
    """A rule firing on one card, before settings and ignores decide its fate."""

    code: str
    card: Card
    location: Location
    message: str
    hint: str | None = None


# ---- settings -------------------------------------------------------------------------------

def read_settings(manifest: Manifest) -> tuple[dict[str, Setting], list[Problem]]:
    """The manifest's `lint:` merged over the defaults, and problems with it."""
    settings = {code: Setting(r.severity, r.default) for code, r in RULES.items()}
    problems: list[Problem] = []
    for code, (loc, raw) in manifest.lint.items():
        rule = RULES.get(code)
        if rule is None:
            problems.append(Problem(loc, f"{UNKNOWN_RULE} unknown lint rule '{code}'", _code_hint(code)))
            continue
        severity, value = settings[code].severity, settings[code].value
        if isinstance(raw, YScalar) and raw.text is not None:
            severity = _severity(raw.text, raw.location, code, problems) or severity
        elif isinstance(raw, YMap):
            allowed = ("severity",) + ((rule.option,) if rule.option else ())
            for key, (key_loc, item) in raw.items.items():
                if key not in allowed:
                    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
                    problems.append(Problem(key_loc, f"{BAD_SETTING} unknown setting '{key}' for {code}",
                                            f"did you mean '{close[0]}'?" if close else
                                            f"{code} takes: {', '.join(allowed)}"))
                elif not isinstance(item, YScalar) or item.text is None:
                    problems.append(Problem(item.location, f"{BAD_SETTING} '{key}' of {code} must be text, "
                                                           f"not {describe(item)}"))
                elif key == "severity":
                    severity = _severity(item.text, item.location, code, problems) or severity
                else:
                    parsed = _option(rule, item.text, item.location, problems)
                    value = value if parsed is None else parsed
        elif isinstance(raw, (YScalar, YSeq)):
            problems.append(Problem(raw.location, f"{BAD_SETTING} {code} must be a severity or a mapping, "
                                                  f"not {describe(raw)}",
                                    f"e.g. {code}: off, or {code}: {{severity: error}}"))
        settings[code] = Setting(severity, value)
    return settings, problems


def _code_hint(code: str) -> str:
    by_name = {r.name: c for c, r in RULES.items()}
    if code in by_name:
        return f"rules are named by code: use {by_name[code]}"
    # A code cut short ("ND11") most likely meant the first code it begins; otherwise the first of
    # the closest codes.
    typed = code.upper()
    started = [c for c in RULES if c.startswith(typed)]
    if started:
        return f"did you mean '{started[0]}'?"
    scores = [(difflib.SequenceMatcher(None, typed, c).ratio(), c) for c in RULES]
    best = max(scores, key=lambda pair: pair[0])
    return f"did you mean '{best[1]}'?" if best[0] >= 0.6 else f"known rules: {', '.join(RULES)}"


def _severity(text: str, loc: Location, code: str, problems: list[Problem]) -> str | None:
    if text in SEVERITIES:
        return text
    problems.append(Problem(loc, f"{BAD_SETTING} severity of {code} must be error, warning or off, not '{text}'"))
    return None


def _option(rule: Rule, text: str, loc: Location, problems: list[Problem]) -> float | None:
    try:
        if rule.option == "limit":
            whole = int(text)
            if whole >= 0:
                return whole
        else:
            value = float(text)
            if 0 < value <= 1:
                return value
    except ValueError:
        pass
    want = "a whole number, 0 or more" if rule.option == "limit" else "a number above 0 and at most 1"
    problems.append(Problem(loc, f"{BAD_SETTING} {rule.option} of {rule.code} must be {want}, not '{text}'"))
    return None


Synonyms = dict[tuple[str, ...], tuple[str, list[str]]]  # normalised form -> (answer, every form)


def read_synonyms(manifest: Manifest) -> tuple[Synonyms, list[Problem]]:
    """The manifest's `synonyms:` table (answer -> its other accepted forms), keyed by every form.

    Forms are compared after `tokens` normalising, so "Motor-evoked potentials" matches
    "motor evoked potential"."""
    table: Synonyms = {}
    problems: list[Problem] = []
    for answer, (loc, raw) in manifest.synonyms.items():
        others: list[str] = []
        if not isinstance(raw, YSeq) or not raw.items:
            if isinstance(raw, YSeq):
                what = "must list at least one other form"
            else:
                what = f"must be a list of text, not {describe(raw) if isinstance(raw, (YScalar, YMap)) else raw}"
            where = raw.location if isinstance(raw, (YScalar, YSeq, YMap)) else loc
            problems.append(Problem(where, f"{BAD_SYNONYMS} synonyms of '{answer}' {what}",
                                    f"e.g. {answer}: [other form, another form]"))
            continue
        for item in raw.items:
            if type(item) is YScalar and item.text and item.text.strip():
                others.append(item.text.strip())
            else:
                problems.append(Problem(item.location, f"{BAD_SYNONYMS} each synonym of '{answer}' must be "
                                                       f"non-empty text, not {describe(item)}"))
        forms = [answer] + others
        for form in forms:
            key = tuple(tokens(form))
            if key:
                table.setdefault(key, (answer, forms))
    return table, problems


# ---- rules on one card ----------------------------------------------------------------------

def _value(setting: Setting) -> float:
    """The limit or similarity of a rule that has one (always set: read_settings starts from RULES)."""
    assert setting.value is not None
    return setting.value


def _answer_length(card: Card, settings: dict[str, Setting]) -> list[Finding]:
    if card.answer is None:
        return []
    words = word_count(card.answer.value)
    for code in ("ND102", "ND101"):  # the stricter limit first: one problem per answer
        setting = settings[code]
        if setting.severity != "off" and words > _value(setting):
            return [Finding(code, card, card.answer.location,
                            f"answer has {words} words; the limit is {int(_value(setting))}", RULES[code].hint)]
    return []


_PROMPT = re.compile(r"(name|list|define|give|state|describe|explain|identify|complete|compare|contrast|"
                     r"translate|expand|spell out|fill in)\b", re.IGNORECASE)


def _question_form(card: Card) -> list[Finding]:
    if card.type not in ("basic", "type-in") or card.question is None:
        return []
    text = plain(card.question.value).strip().rstrip("*_\"')]}»” ")
    if text.endswith("?") or _PROMPT.match(text) or "___" in text:
        return []
    return [Finding("ND103", card, card.question.location, "the question does not read as a question",
                    RULES["ND103"].hint)]


def _answer_in_question(card: Card) -> list[Finding]:
    if card.type == "cloze" or card.question is None or card.answer is None:
        return []
    answer = tokens(card.answer.value)
    if not answer or max(len(w) for w in answer) < 3:  # "no", "2": too short to be given away
        return []
    question = tokens(card.question.value)
    n = len(answer)
    for i in range(len(question) - n + 1):
        if question[i:i + n] == answer:
            # An answer offered as one of the choices ("A or B?") is a fair question.
            if "or" in question[max(0, i - 1):i] or "or" in question[i + n:i + n + 1]:
                continue
            shown = plain(card.answer.value).strip()
            return [Finding("ND104", card, card.answer.location, f"answer restated in the question: '{shown}'",
                            RULES["ND104"].hint)]
    return []


def _cloze_count(card: Card, settings: dict[str, Setting]) -> list[Finding]:
    if card.type != "cloze" or card.text is None:
        return []
    numbers = cloze_numbers(card.text.value)
    limit = _value(settings["ND107"])
    if len(numbers) <= limit:
        return []
    return [Finding("ND107", card, card.text.location,
                    f"cloze has {len(numbers)} deletion numbers; the limit is {int(limit)}", RULES["ND107"].hint)]


def _source(card: Card) -> list[Finding]:
    # A deck's own note type (an adopted deck's above all) has its own fields, and no source key.
    if card.source is not None or card.named_fields is not None:
        return []
    return [Finding("ND108", card, card.id.location, f"card '{card.id.value}' has no source", RULES["ND108"].hint)]


def _extra_length(card: Card, settings: dict[str, Setting]) -> list[Finding]:
    if card.extra is None:
        return []
    words, limit = word_count(card.extra.value), _value(settings["ND110"])
    if words <= limit:
        return []
    return [Finding("ND110", card, card.extra.location, f"extra has {words} words; the limit is {int(limit)}",
                    RULES["ND110"].hint)]


def _type_in(card: Card, settings: dict[str, Setting], synonyms: Synonyms) -> list[Finding]:
    """A type-in answer must have one spelling: no listed synonyms (ND111), no long phrase (ND112)."""
    if card.type != "type-in" or card.answer is None:
        return []
    findings = []
    shown = plain(card.answer.value).strip()
    entry = synonyms.get(tuple(tokens(card.answer.value)))
    if entry is not None and settings["ND111"].severity != "off":
        others = [f for f in entry[1] if tokens(f) != tokens(card.answer.value)]
        findings.append(Finding("ND111", card, card.answer.location,
                                f"type-in answer '{shown}' has other accepted forms: {', '.join(others)}",
                                RULES["ND111"].hint))
    words, limit = word_count(card.answer.value), _value(settings["ND112"])
    if settings["ND112"].severity != "off" and words > limit:
        findings.append(Finding("ND112", card, card.answer.location,
                                f"type-in answer has {words} words; the limit is {int(limit)}", RULES["ND112"].hint))
    return findings


# ---- abbreviations --------------------------------------------------------------------------

# A word with two capitals (ACC, fMRI, vmPFC, AVPR1A) or a capital, digits and lowercase (V1a);
# an optional "5-" prefix keeps 5-HT whole.
_TOKEN = re.compile(r"(?<![\w-])(?:\d+-)?(?=[A-Za-z0-9]*(?:[A-Z][A-Za-z0-9]*[A-Z]|[A-Z]\d+[a-z]))"
                    r"[A-Za-z][A-Za-z0-9]*(?![\w])")
_ROMAN = re.compile(r"M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})")
_CAMEL = re.compile(r"(?:IJ[a-z]+|[A-Z][a-z]+)(?:[A-Z][a-z]+)*")  # McGraw, NeuroImage, DeWall, IJzendoorn
# Case reports name patients by their initials ("patient NK"): a name, not an abbreviation.
_PATIENT = re.compile(r"\bpatients?\s+$", re.IGNORECASE)
# Units and words written in capitals that are not abbreviations to expand.
_NOT_ABBREVIATIONS = frozenset((
    "mV", "mA", "Hz", "kHz", "MHz", "GHz", "kDa", "MBq", "GBq", "mM", "nM", "pM", "uM",
    "OK", "NOT", "ONLY", "AND", "OR", "NO", "YES", "ALL", "BUT", "NEVER",
))


def abbreviations(text: str) -> list[str]:
    """Abbreviation-like words of the text, in order of first use."""
    found: dict[str, None] = {}
    text = plain(text)
    for match in _TOKEN.finditer(text):
        word = match.group(0)
        if _PATIENT.search(text, 0, match.start()):
            continue
        if len(word) > 2 and word.endswith("s") and sum(c.isupper() for c in word[:-1]) >= 2 \
                and not word[-2].islower():
            word = word[:-1]  # EEGs, MEPs
        caps = sum(c.isupper() for c in word)
        if caps >= 2:
            if _ROMAN.fullmatch(word) or _CAMEL.fullmatch(word) or word in _NOT_ABBREVIATIONS:
                continue
        elif not re.fullmatch(r"[A-Z]\d+[a-z]+", word):  # V1a, but not F5 or S1 (area names)
            continue
        found.setdefault(word, None)
    return list(found)


def spelled_out(abbreviation: str, text: str) -> bool:
    """Whether the text spells the abbreviation out next to it, in one of these forms:

    "anterior cingulate cortex (ACC)", "ACC (anterior cingulate cortex)",
    "(the motor-evoked potential, MEP)", or for receptor and gene names, the ligand before the
    name: "vasopressin V1a receptor".

    Where the expansion follows the abbreviation it must have a word starting with the
    abbreviation's first letter, so that "ACC (especially its dorsal part)" does not count.
    """
    initial = next((c for c in abbreviation if c.isalpha()), "").lower()
    word = re.escape(abbreviation) + r"s?"

    def has_initial(words: str) -> bool:
        return any(w.lower().startswith(initial) for w in re.findall(r"[^\W\d_]+", words))

    if re.search(r"[\w'-]+[ ,/]+\(\s*(?:the\s+)?" + word + r"\s*[),;]", text):
        return True
    if any(has_initial(m.group(1)) for m in re.finditer(r"(?<![\w-])" + word + r"\s*\(([^)]*)\)", text)):
        return True
    if any(has_initial(m.group(1)) for m in re.finditer(r"\(([^()]*?),\s*" + word + r"\s*\)", text)):
        return True
    return any(has_initial(m.group(1)) for m in
               re.finditer(r"(\w+)\s+" + word + r"\s+(?:receptors?|genes?|subtypes?|subunits?)\b", text))


def _abbreviations(card: Card, glossary: frozenset[str]) -> list[Finding]:
    fields = [f for f in (card.question, card.answer, card.text, card.extra, card.header, card.back_extra)
              if f is not None]
    whole = "\n".join(plain(f.value) for f in fields)
    findings, seen = [], set(glossary)
    for field in fields:
        for word in abbreviations(field.value):
            if word in seen:
                continue
            seen.add(word)
            if not spelled_out(word, whole):
                findings.append(Finding(
                    "ND109", card, field.location, f"abbreviation '{word}' is not spelled out in this card",
                    f"write the full term once with the abbreviation in parentheses, e.g. 'full name ({word})', "
                    f"or add {word} to the manifest's glossary if every student knows it"))
    return findings


# ---- rules across cards ---------------------------------------------------------------------

def _duplicates(cards: list[Card], similarity: float | None) -> list[Finding]:
    """Questions identical after normalising (ND105) or nearly so (ND106: token-set Jaccard).

    Each question is reported once, against the earliest question it matches (the most similar
    one for ND106); only cards with a question are compared.
    """
    asked = [(c, c.question.location, _question_words(c.question.value)) for c in cards if c.question is not None]
    findings: list[Finding] = []
    first_exact: dict[tuple[str, ...], tuple[Card, Location]] = {}
    unique: list[tuple[Card, Location, frozenset[str]]] = []
    for card, where, words in asked:
        if not words:
            continue
        first, first_where = first_exact.setdefault(tuple(words), (card, where))
        if first is not card:
            findings.append(Finding("ND105", card, where,
                                    f"duplicate question: same as card '{first.id.value}' ({first_where})",
                                    RULES["ND105"].hint))
        else:
            unique.append((card, where, frozenset(words)))
    if similarity is None:
        return findings
    for i, j, score in _similar_pairs([bag for _, _, bag in unique], similarity):
        (card, where, _), (near, near_where, _) = unique[j], unique[i]
        findings.append(Finding("ND106", card, where,
                                f"question nearly the same as card '{near.id.value}' ({near_where}), "
                                f"{round(100 * score)}% of words shared", RULES["ND106"].hint))
    return findings


def _question_words(question: str) -> list[str]:
    """What a question asks: its words, and the images it shows ("Which region is shaded?" over two
    different figures is two questions)."""
    return tokens(question) + _shown(question)


def _similar_pairs(sets: list[frozenset[str]], t: float) -> list[tuple[int, int, float]]:
    """For each set j, the earlier set i most similar to it with Jaccard >= t, as (i, j, score).

    Exact, without comparing all pairs: two filters each keep every pair with J >= t, and each
    set is compared only with the sets the cheaper filter keeps for it.

    - Rare words (prefix filtering): with words ordered rarest first, x and y share a word among
      the first |x| - ceil(t|x|) + 1 of each. Cheap when questions use varied words.
    - Hashed groups: if |x| <= |y| the sets differ in at most k = floor((1 - t) / t * |x|) words
      (the symmetric difference is at most (1 - t) of the union, the union at most |x| / t).
      Split the words into k + 1 groups by a hash: in at least one group x and y hold the same
      words. Each set is keyed by (k + 1, group, its words there) for every k a partner's size
      can give. Cheap when every question uses the same few words.
    """
    frequency: dict[str, int] = defaultdict(int)
    for bag in sets:
        for w in bag:
            frequency[w] += 1
    hashes: dict[str, int] = {}

    def prefix(bag: frozenset[str]) -> list[str]:
        ordered = sorted(bag, key=lambda w: (frequency[w], w))
        return ordered[:len(ordered) - math.ceil(t * len(ordered) - 1e-9) + 1]

    def groups(bag: frozenset[str]) -> set[tuple]:
        n = len(bag)
        counts = {math.floor((1 - t) / t * m + 1e-9) + 1 for m in range(max(1, math.ceil(t * n - 1e-9)), n + 1)}
        keys: set[tuple] = set()
        for count in counts:
            split: list[list[str]] = [[] for _ in range(count)]
            for w in bag:
                h = hashes.get(w)
                if h is None:
                    h = hashes[w] = zlib.crc32(w.encode())
                split[h % count].append(w)
            keys.update((count, g, tuple(sorted(ws))) for g, ws in enumerate(split))
        return keys

    by_word: dict[str, list[int]] = defaultdict(list)
    by_group: dict[tuple, list[int]] = defaultdict(list)
    pairs = []
    for j, bag in enumerate(sets):
        words, keys = prefix(bag), groups(bag)
        buckets = [by_word.get(w, ()) for w in words]
        other_buckets = [by_group.get(k, ()) for k in keys]
        if sum(map(len, other_buckets)) < sum(map(len, buckets)):
            buckets = other_buckets
        best, best_score = None, t
        for i in sorted({i for bucket in buckets for i in bucket}):
            other = sets[i]
            score = len(bag & other) / len(bag | other)
            if score >= best_score and (best is None or score > best_score):
                best, best_score = i, score
        if best is not None:
            pairs.append((best, j, best_score))
        for w in words:
            by_word[w].append(j)
        for k in keys:
            by_group[k].append(j)
    return pairs


def _old_clients(cards: list[Card]) -> list[Finding]:
    """ND114, once per deck: Anki before 23.10 shows an error instead of an occlusion card."""
    occlusions = [c for c in cards if c.type == "occlusion"]
    if not occlusions:
        return []
    count = f"{len(occlusions)} image occlusion card{'s' if len(occlusions) > 1 else ''}"
    return [Finding("ND114", occlusions[0], occlusions[0].location,
                    f"the deck has {count}, which Anki before 23.10 cannot show (students see "
                    "'Error loading image occlusion')", RULES["ND114"].hint)]


# ---- near-duplicate facts (ND113) -----------------------------------------------------------

def _near_duplicate_facts(cards: list[Card], similarity: float, skip: set[int]) -> list[Finding]:
    """ND113: cards that ask what another card already teaches, whatever their wording or type
    (checks/near_duplicates.py); a card already reported as a duplicate question (ND105, ND106) is skipped."""
    findings = []
    for card, near, score in near_duplicates(cards, similarity):
        if id(card) in skip:
            continue
        field = card.text if card.type == "cloze" else card.question
        findings.append(Finding("ND113", card, (field or card.id).location,
                                f"card teaches nearly the same fact as card '{near.id.value}' ({near.location}), "
                                f"similarity {score:.2f}", RULES["ND113"].hint))
    return findings


# ---- putting it together --------------------------------------------------------------------

def lint_cards(cards: list[Card], settings: dict[str, Setting],
               glossary: frozenset[str] = frozenset(), synonyms: Synonyms | None = None) -> list[Problem]:
    """Run every rule that is not off over the cards; apply severities and the cards' ignores."""
    on = {code for code, s in settings.items() if s.severity != "off"}
    live = [c for c in cards if not c.retired]  # a retired card's answer is replaced by a notice
    findings: list[Finding] = []
    for card in live:
        findings += _answer_length(card, settings)
        if "ND103" in on:
            findings += _question_form(card)
        if "ND104" in on:
            findings += _answer_in_question(card)
        if "ND107" in on:
            findings += _cloze_count(card, settings)
        if "ND108" in on:
            findings += _source(card)
        if "ND109" in on:
            findings += _abbreviations(card, glossary)
        if "ND110" in on:
            findings += _extra_length(card, settings)
        if "ND111" in on or "ND112" in on:
            findings += _type_in(card, settings, synonyms or {})
    duplicates: list[Finding] = []
    if "ND105" in on or "ND106" in on:
        near = settings["ND106"].value if "ND106" in on else None
        duplicates = [f for f in _duplicates(live, near) if f.code in on]
        findings += duplicates
    if "ND114" in on:
        findings += _old_clients(live)
    similarity = settings["ND113"].value
    if "ND113" in on and similarity is not None:
        findings += _near_duplicate_facts(live, similarity, {id(f.card) for f in duplicates})
    return _apply_ignores(cards, findings, settings)


def _apply_ignores(cards: list[Card], findings: list[Finding], settings: dict[str, Setting]) -> list[Problem]:
    by_card: dict[int, list[Finding]] = defaultdict(list)
    for f in findings:
        by_card[id(f.card)].append(f)
    problems: list[Problem] = []
    for card in cards:
        mine = by_card.get(id(card), [])
        for text in card.lint_ignore:
            if text.value not in RULES:
                problems.append(Problem(text.location, f"{UNKNOWN_RULE} unknown lint rule '{text.value}' in ignore",
                                        _code_hint(text.value)))
        # Without a reason (the loader reports the missing 'why') an ignore silences nothing.
        ignored = {t.value: t for t in card.lint_ignore if t.value in RULES} if card.lint_why is not None else {}
        for f in mine:
            if f.code not in ignored:
                problems.append(Problem(f.location, f"{f.code} {f.message}", f.hint, settings[f.code].severity))
        fired = {f.code for f in mine}
        for code, text in ignored.items():
            if code not in fired:
                why = "it is off in the manifest" if settings[code].severity == "off" else \
                    "the card does not break it"
                problems.append(Problem(text.location, f"{UNUSED_IGNORE} ignore of {code} silences nothing: {why}",
                                        f"remove {code} from the card's lint ignore", "warning"))
    return problems


def lint_deck(manifest_path: Path) -> list[Problem]:
    """Lint every card of one manifest's deck. Load problems are returned too (as errors)."""
    deck = load_deck(manifest_path)
    if deck.manifest is None:
        return deck.problems
    settings, setting_problems = read_settings(deck.manifest)
    synonyms, synonym_problems = read_synonyms(deck.manifest)
    glossary = frozenset(t.value for t in deck.manifest.glossary)
    problems = deck.problems + setting_problems + synonym_problems + lint_cards(deck.cards, settings, glossary,
                                                                                 synonyms)
    return sorted(problems, key=lambda p: (p.location, p.message))
