"""`neurodeck adopt`: a deck students already study, exported by Anki, as a neurodeck project whose
build is, for those students, the very deck they have.

Anki updates a note in place only when the package's GUID, note type id and schema are the ones
the student has, and only when the package's `mod` is newer (shared/notes: anki-import-facts).
So every note keeps its GUID (`guid:`), every note type its ids, fields, templates and options
(notetypes/*.yaml), every field its HTML byte for byte (`format: html`), every tag its spelling,
every media file its name, and the lock records each note's and note type's original `mod` and
counts them all as released. The first build of the project then changes nothing for students;
an edit to one card updates that note only.

The package is read with the hardened reader `diff` and `check-upgrade` use (apkg/reader.py), and
the project is written only into a new or empty folder, all or nothing.
"""
from __future__ import annotations

import errno
import os
import re
import secrets
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from neurodeck.apkg import files
from neurodeck.apkg.reader import PackageError, check_package, open_collection, read_media
from neurodeck.checks.names import anki_tag_problem, ascii_slug, name_problem, slug
from neurodeck.lockfile import MAX_MOD, Entry, Lock, NoteTypeEntry, build_time
from neurodeck.model import CARD_TYPES, GUID_PATTERN, Location, Problem, has_errors
from neurodeck.render.cloze import CLOZE
from neurodeck.render.htmlfield import media_names
from neurodeck.render.media import MEDIA_FOLDER, media_problem
from neurodeck.render.medianames import anki_media_name
from neurodeck.render.plaintext import plain_text
from neurodeck.render.sanitize import MARKUP, sanitize
from neurodeck.source.reader import MAX_FIELD_CHARS

_MOD_HINT = "a damaged or hand-made package: in Anki, edit it (which sets the time to now), then export again"
# The project's hints speak of YAML keys the educator has not got yet: the fix is in Anki.
_FIX_IN_ANKI = ("find the note in Anki's browser (search nid:...) and correct it, or run Tools > Check Database, "
                "then export the deck again")
_FILE_REFERENCE = re.compile(r" \([^()]*\.yaml(?::\d+:\d+)?\)")  # "(cards/x.yaml:6:5)": a file adopt removed
CARDS_PER_FILE = 500  # a large deck is split, so that editing one card re-renders a few hundred
_GUID = re.compile(GUID_PATTERN)
_OCCLUSION_STOCK_KIND = 6
_ID_WORDS = 8  # words of the first field a card's id keeps
_NON_WORD = re.compile("[^a-z0-9]+")  # `slug` of ASCII text, without its per-character loop


@dataclass
class AdoptReport:
    """What `adopt` wrote and what it found: markup outside the allow-list (kept, since the
    manifest then sets keep_markup) and what it removed, per card id."""

    root: Path
    manifest: Path
    notes: int = 0
    cards: int = 0
    card_files: list[Path] = field(default_factory=list)
    notetypes: list[str] = field(default_factory=list)
    media: int = 0
    markup: dict[str, list[str]] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"root": str(self.root), "manifest": str(self.manifest), "notes": self.notes, "cards": self.cards,
                "card_files": [str(p) for p in self.card_files], "notetypes": self.notetypes, "media": self.media,
                "markup": self.markup, "removed": self.removed,
                "warnings": [p.to_json() for p in self.warnings]}


def adopt(package: Path, into: Path | None = None, name: str | None = None,
          now: int | None = None) -> tuple[AdoptReport | None, list[Problem]]:
    """Write a project in `into` (default: a new folder named after the deck) from a package Anki
    exported; None with the problems when the package cannot be adopted (nothing is written)."""
    where = Location(str(package))
    if package.suffix.lower() == ".colpkg":
        return None, [Problem(where, "this is a whole-collection backup (.colpkg), not a deck",
                              "in Anki, choose File > Export, the format 'Anki Deck Package (*.apkg)' and the "
                              "deck your students study, then adopt that file")]
    problems = check_package(package, str(package))
    if problems:
        return None, problems
    try:
        with open_collection(package) as db:
            notes, settings, decks, cards = db.notes(), db.notetype_settings(), db.decks(), db.card_decks()
    except PackageError as exc:
        return None, [Problem(where, str(exc), exc.hint)]
    if not notes:
        return None, [Problem(where, "the package holds no notes", "export the deck with its cards from Anki")]
    deck_of = _note_decks(cards, decks)
    used = sorted({n.notetype for n in notes})
    missing = [t for t in used if t not in settings]
    if missing:
        return None, [Problem(where, f"notes use note type {missing[0]}, which the package does not hold",
                              "export the deck again from Anki")]
    active = [p for t in used for p in _active_content(settings[t], where)]
    if active:  # the project's own check would refuse it, at a file adopt never leaves behind
        return None, active
    wrong_mod = [t for t in used if not 0 <= settings[t]["mod"] <= MAX_MOD]
    if wrong_mod:
        return None, [Problem(where, f"note type '{settings[t]['name']}' was last changed at {settings[t]['mod']}, "
                              f"which is not a time in seconds from 0 to {MAX_MOD}", _MOD_HINT) for t in wrong_mod]
    root_name, subtopic_of, renamed = _deck_names(deck_of, notes, name, package)
    if has_errors(renamed):
        return None, renamed
    target = into if into is not None else Path(slug(root_name) or "deck")
    if os.path.lexists(target) and (not target.is_dir() or any(target.iterdir())):
        return None, [Problem(Location(str(target)), "already exists and is not empty; adopt writes nothing",
                              "name a new or empty folder with --into")]
    plan = _Plan(package, target, root_name, settings, used)
    problems = renamed + plan.notes(notes, deck_of, subtopic_of)
    if has_errors(problems):
        return None, problems
    try:
        report = plan.write(now if now is not None else build_time())
    except (OSError, PackageError) as exc:
        plan.undo()
        what = [Problem(where, str(exc), exc.hint)] if isinstance(exc, PackageError) else \
            [files.write_problem(exc, target)]
        return None, what
    if isinstance(report, list):  # the project did not compile: nothing is left behind
        plan.undo()
        return None, report
    report.warnings = problems + report.warnings
    return report, []


def _active_content(nt: dict[str, Any], where: Location) -> list[Problem]:
    """What in a note type's templates, CSS or LaTeX would run or load something (the rule every
    build applies, checks/notetype_safety.py), located at the package."""
    from neurodeck.checks.notetype_safety import latex_problem, template_problems
    from neurodeck.render.sanitize import css_problem

    hint = (f"in Anki, Tools > Manage Note Types > '{nt['name']}': remove it from the {{what}}, then export "
            "again (students keep their copy until a release changes the note type)")
    found = [Problem(where, f"note type '{nt['name']}', {side} of template '{t['name']}': {why}",
                     hint.format(what="Cards screen"))
             for t in nt["templates"] for side in ("front", "back", "browser_front", "browser_back")
             for why in template_problems(t[side])]
    css = css_problem(nt["css"], local_urls=True)
    if css is not None:
        found.append(Problem(where, f"note type '{nt['name']}': its CSS loads or runs something ({css[:60]})",
                             hint.format(what="Styling")))
    for key in ("latex_pre", "latex_post"):
        tex = latex_problem(nt[key])
        if tex is not None:
            found.append(Problem(where, f"note type '{nt['name']}': its LaTeX {key[6:]} uses {tex!r}, which reads "
                                 "or writes files or runs programs", hint.format(what="LaTeX options")))
    return found


def _note_decks(cards: list[tuple[int, int, int]], decks: dict[int, str]) -> dict[int, str]:
    """Each note's deck: the deck of its first card (its lowest template ordinal)."""
    out: dict[int, str] = {}
    for nid, _, did in cards:  # ordered by note, then ordinal
        out.setdefault(nid, decks.get(did, "Default"))
    return out


def _deck_names(deck_of: dict[int, str], notes: list, name: str | None,
                package: Path) -> tuple[str, dict[str, str], list[Problem]]:
    """The deck's name (the package's one top-level deck, unless `name` is given) and the
    subtopic of each deck the notes are in: the subdeck path below the top, or "" for the top."""
    used = sorted({deck_of.get(n.id, "Default") for n in notes})
    tops = {d.split("::")[0] for d in used}
    top = next(iter(tops)) if len(tops) == 1 else None
    root = name or top or package.stem
    where = Location("--name" if name else str(package))
    wrong = name_problem(root, "deck name")
    if wrong is not None:
        return root, {}, [Problem(where, wrong[0], wrong[1] + '; name the deck with --name "My Deck"')]
    problems = []
    if top is not None and name and name != top:
        problems.append(Problem(where, f"the deck is '{top}' in the package and '{name}' in the project",
                                "students who have it keep theirs under its old name (Anki matches decks by "
                                "name); new students get it under the new one", "warning"))
    return root, {d: d[len(top) + 2:] if top is not None else d for d in used}, problems


class _Plan:
    """The project adopt writes: every file's text, decided before anything is written."""

    def __init__(self, package: Path, root: Path, name: str, settings: dict[int, dict[str, Any]], used: list[int]):
        self.package, self.root, self.name = package, root, name
        self.slug = slug(name)[:100].strip("-") or "deck"
        self.manifest = root / "decks" / f"{self.slug}.yaml"
        self.settings = settings
        self.keys = _type_keys([settings[t]["name"] for t in used])
        self.key_of = dict(zip(used, self.keys))
        self.files: dict[Path, list[str]] = {}  # card file -> its cards' YAML
        self.ids: dict[Path, list[str]] = {}  # card file -> its cards' ids, in the same order
        self.subtopics: dict[Path, str] = {}
        self.entries: dict[str, tuple[int, str | None]] = {}  # card id -> (original mod, GUID)
        self.note_ids: dict[str, int] = {}  # card id -> the note's id in the package (Anki's search: nid:)
        self.media: dict[str, str] = {}  # file name -> "image" or "sound"
        self.markup: dict[str, list[str]] = {}
        self.removed: dict[str, list[str]] = {}
        self.cards = 0
        self.created: list[Path] = []  # every file and folder adopt made, in order: undo removes only these

    def _folder(self, folder: Path) -> None:
        """Make `folder` and those above it up to the project's root, refusing one that appeared
        meanwhile (a folder or a link someone else made: writing into it could go anywhere)."""
        if folder in self.created or (folder == self.root and folder.is_dir()):
            return
        if folder != self.root:
            self._folder(folder.parent)
        try:
            folder.mkdir()
        except FileExistsError as exc:
            raise FileExistsError(errno.EEXIST, "appeared while adopt was writing the project; adopt replaces "
                                  "nothing", str(folder)) from exc
        self.created.append(folder)

    def _create(self, path: Path, data: bytes) -> None:
        """Write a new file, never one that appeared meanwhile, nor through a link."""
        self._folder(path.parent)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
        except FileExistsError as exc:
            raise FileExistsError(errno.EEXIST, "appeared while adopt was writing the project; adopt replaces "
                                  "nothing", str(path)) from exc
        self.created.append(path)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())

    def undo(self) -> None:
        """Remove what adopt wrote, newest first; anything else (a file that appeared in one of its
        folders meanwhile) stays, and so does its folder."""
        for path in reversed(self.created):
            try:
                path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
            except OSError:
                pass
        self.created = []

    def notes(self, notes: list, deck_of: dict[int, str], subtopic_of: dict[str, str]) -> list[Problem]:
        """Each note as a card of its deck's card file; problems for what cannot be kept."""
        problems: list[Problem] = []
        where = Location(str(self.package))
        ids: set[str] = set()
        per_subtopic: Counter[str] = Counter()
        file_of: dict[tuple[str, int], Path] = {}
        names = {s: slug(s) or self.slug for s in set(subtopic_of.values())}
        taken: Counter[str] = Counter()
        seen: dict[str, int] = {}  # GUID -> the first note's id
        for note in notes:
            nt = self.settings[note.notetype]
            field_names = [f["name"] for f in nt["fields"]]
            if len(note.fields) != len(field_names):
                problems.append(Problem(where, f"note {note.guid!r} has {len(note.fields)} fields, its note type "
                                        f"'{nt['name']}' {len(field_names)}",
                                        "run Check Database in Anki, then export"))
                continue
            if not _GUID.fullmatch(note.guid):
                problems.append(Problem(where, f"note {note.guid!r} has a GUID neurodeck cannot keep",
                                        "GUIDs hold 1 to 64 of Anki's GUID characters"))
                continue
            if seen.setdefault(note.guid, note.id) != note.id:
                problems.append(Problem(where, f"notes nid:{seen[note.guid]} and nid:{note.id} share the GUID "
                                        f"{note.guid!r}", "Anki takes them for one note: a damaged or hand-made "
                                        "package; export the deck from Anki again"))
                continue
            if not 0 <= note.mod <= MAX_MOD:  # the lock could not record it: the project would never build
                problems.append(Problem(where, f"note {note.guid!r} was last changed at {note.mod}, which is not a "
                                        f"time in seconds from 0 to {MAX_MOD}", _MOD_HINT))
                continue
            cleaned = [sanitize(value, keep_markup=True) for value in note.fields]
            card_id = _unique(_id_of(tuple(c.html for c in cleaned)), ids)
            subtopic = subtopic_of[deck_of.get(note.id, "Default")]
            part = per_subtopic[subtopic] // CARDS_PER_FILE
            per_subtopic[subtopic] += 1
            path = file_of.get((subtopic, part))
            if path is None:
                base = names[subtopic]
                taken[base] += 1
                stem = base if taken[base] == 1 else f"{base}-{taken[base]}"
                path = file_of[(subtopic, part)] = self.root / "cards" / f"{stem}.yaml"
                self.files[path], self.ids[path], self.subtopics[path] = [], [], subtopic
            lines = [f"  - id: {card_id}", f"    guid: {_q(note.guid)}", f"    type: {self.key_of[note.notetype]}"]
            values = []
            for fname, clean in zip(field_names, cleaned):
                for finding in clean.findings:
                    (self.markup if finding.kind == MARKUP else self.removed).setdefault(card_id, []).append(
                        f"{fname}: {finding.what}")
                if len(clean.html) > MAX_FIELD_CHARS:
                    problems.append(Problem(where, f"field '{fname}' of note {note.guid!r} is {len(clean.html):,} "
                                            f"characters long, over neurodeck's limit of {MAX_FIELD_CHARS:,}"))
                if clean.html.strip():
                    values.append(f"      {_q(fname)}: {_q(clean.html)}")
                elif clean.html:
                    problems.append(Problem(where, f"field '{fname}' of card {card_id} holds only spaces, which "
                                            "neurodeck reads as empty", "the note updates once for students",
                                            "warning"))
                for media_name, kind in media_names(clean.html):
                    self.media.setdefault(media_name, kind)
            if values:
                lines += ["    fields:", *values]
            tags = []
            for tag in note.tags:
                wrong = anki_tag_problem(tag)
                if wrong is None:
                    tags.append(_q(tag))
                else:
                    problems.append(Problem(where, f"card {card_id}: {wrong[0]}, left out", wrong[1], "warning"))
            if tags:
                lines.append(f"    tags: [{', '.join(tags)}]")
            self.files[path].append("\n".join(lines))
            self.ids[path].append(card_id)
            self.entries[card_id] = (note.mod, note.guid)
            self.note_ids[card_id] = note.id
            self.cards += 1
        return problems

    def write(self, now: int) -> AdoptReport | list[Problem]:
        """Write every file, compile the project once for the notes' hashes, and write the lock
        with the original `mod`s; the problems if the project does not compile."""
        from neurodeck.pipeline.build import compile_deck

        texts: dict[Path, str] = {self.manifest: self._manifest_text(), self.root / ".gitignore": GITIGNORE}
        for type_id, key in self.key_of.items():
            texts[self.root / "notetypes" / f"{key}.yaml"] = _notetype_text(type_id, self.settings[type_id],
                                                                            self.package)
        header = (f"# Adopted from {self.package.name} by `neurodeck adopt`. Fields are HTML exactly as Anki\n"
                  "# stores them; guid: is each note's identity in students' collections (never change it).\n")
        spans: dict[Path, list[tuple[int, str]]] = {}  # card file -> (first line, card id) of each card
        for path, cards in self.files.items():
            subtopic = self.subtopics[path]
            head = header + (f"subtopic: {_q(subtopic)}\n" if subtopic else "") + "format: html\ncards:\n"
            line, spans[path] = head.count("\n") + 1, []
            for card_id, card in zip(self.ids[path], cards):
                spans[path].append((line, card_id))
                line += card.count("\n") + 1
            texts[path] = head + "\n".join(cards) + "\n"
        for path, text in texts.items():
            self._create(path, text.encode("utf-8"))
        report = AdoptReport(self.root, self.manifest, notes=len(self.entries), card_files=list(self.files),
                             notetypes=sorted(self.keys), markup=self.markup, removed=self.removed)
        report.media, report.warnings = self._write_media()
        compiled = compile_deck(self.manifest, now=now)
        if not compiled.ok or compiled.lock is None:
            written = {p.resolve(): p for p in (*spans, *(self.root / "notetypes" / f"{k}.yaml" for k in self.keys))}
            return [self._at_package(p, spans, written) for p in compiled.problems if p.severity == "error"]
        report.warnings += [p for p in compiled.problems if p.severity != "error"]
        report.cards = sum(len(n.ords) for n in compiled.notes)
        lock = compiled.lock
        adopted = Lock(lock.namespace, released=set(self.entries))
        for card_id, entry in lock.notes.items():
            mod, guid = self.entries[card_id]
            adopted.notes[card_id] = Entry(entry.hash, mod, entry.type, guid)
        types = {self.key_of[t]: t for t in self.key_of}
        for key, nt_entry in lock.notetypes.items():
            declared = compiled.notetypes[key]
            schema = declared.schema() if hasattr(declared, "key") else None
            adopted.notetypes[key] = NoteTypeEntry(nt_entry.hash, self.settings[types[key]]["mod"], nt_entry.schema,
                                                   schema)
        self._create(self.manifest.with_suffix(".lock"), adopted.dumps().encode())
        return report

    def _at_package(self, problem: Problem, spans: dict[Path, list[tuple[int, str]]],
                    written: dict[Path, Path]) -> Problem:
        """A problem of the project adopt wrote, located at the package by the note's GUID or the
        note type's name: adopt removes the project when it does not build, so a file:line in it
        would point at nothing. `written`: the resolved path of each file adopt wrote -> its path."""
        where = Location(str(self.package))
        path = Path(problem.location.path)
        found = written.get((path if path.is_absolute() else Path.cwd() / path).resolve())
        message = _FILE_REFERENCE.sub("", problem.message)
        if found in spans:
            before = [card_id for first, card_id in spans[found] if first <= max(problem.location.line, 1)]
            card_id = before[-1] if before else spans[found][0][1]
            what = f"note {self.entries[card_id][1]!r} (nid:{self.note_ids[card_id]}): {message}"
        elif found is not None:
            type_id = next(t for t, key in self.key_of.items() if key == found.stem)
            what = f"note type '{self.settings[type_id]['name']}': {message}"
        else:
            what = f"the project adopt would write does not build: {message}"
        return Problem(where, what, _FIX_IN_ANKI, problem.severity)

    def _manifest_text(self) -> str:
        namespace = f"{ascii_slug(self.name)[:60].strip('-') or 'deck'}-{secrets.token_hex(3)}"
        lines = [
            f"# Adopted from {self.package.name} by `neurodeck adopt`.",
            f"name: {_q(self.name)}",
            "# The identity of cards added from now on (adopted cards keep their GUIDs). Never change it.",
            f"namespace: {namespace}",
            f"tag: {_q(self.slug)}",
            "cards: [cards/*.yaml]",
            f"output: {_q(self.slug + '.apkg')}",
        ]
        if self.markup:
            lines += ["# Fields keep formatting outside the allow-list (spans, divs, fonts, styles) as Anki",
                      "# stores it: removing it would update those notes for every student.",
                      "keep_markup: true"]
        return "\n".join(lines) + "\n"

    def _write_media(self) -> tuple[int, list[Problem]]:
        """The package's media files the fields use (and the `_` files templates use), checked by
        content, written under their own names."""
        problems: list[Problem] = []
        folder = self.root / MEDIA_FOLDER
        count = 0
        written: dict[str, str] = {}  # NFC and case folded -> the name written
        for media_name, data in read_media(self.package):
            kind = self.media.get(media_name)
            if kind is None and not media_name.startswith("_"):
                continue  # Anki exported it, but no field of these notes names it
            where = Location(f"{self.package}:{media_name}")
            if data is None:
                problems.append(Problem(where, "media file left out: its name is not a plain file name, or it is "
                                        "larger than 100 MB", severity="warning"))
                continue
            folded = unicodedata.normalize("NFC", media_name).casefold()
            if anki_media_name(media_name) != media_name or folded in written:
                # Anki's importer renames such a file and rewrites the fields naming it; two names
                # that differ only in case are one file on macOS and Windows: writing both would
                # silently keep the second.
                problems.append(Problem(where, "media file left out: " + (
                    f"its name differs only in case from '{written[folded]}'" if folded in written else
                    f"Anki would store it as {anki_media_name(media_name)!r}"), severity="warning"))
                continue
            written[folded] = media_name
            if kind is not None:
                wrong = media_problem(data, kind)
                if wrong is not None:
                    problems.append(Problem(where, f"media file left out: {wrong}",
                                            "fields naming it will show it as missing", "warning"))
                    continue
            self._create(folder / media_name, data)
            count += 1
        return count, problems


GITIGNORE = "# neurodeck's build output: packages and preview pages\n/dist/\n"


def _type_keys(names: list[str]) -> list[str]:
    """File names (keys) for note types: a slug of each name, never a built-in type's, unique."""
    keys: list[str] = []
    for type_name in names:
        key = ascii_slug(type_name)[:60].strip("-") or "notetype"
        if key in CARD_TYPES:
            key = f"anki-{key}"
        base, number = key, 1
        while key in keys or key.casefold() in (n.casefold() for n in names if n != type_name):
            number += 1
            key = f"{base}-{number}"
        keys.append(key)
    return keys


def _id_of(fields: tuple[str, ...]) -> str:
    """A readable card id from the first field that has words: its first words, slugified."""
    for value in fields:
        text = plain_text(CLOZE.sub(lambda m: m.group(2), value) if "{{c" in value else value)
        head = text[:120]  # only the first words are kept: slug only those
        words = (_NON_WORD.sub("-", head.lower()) if head.isascii() else ascii_slug(head)).split("-")
        words = [w for w in words if w and not w.startswith("image-occlusion")][:_ID_WORDS]
        if words:
            return "-".join(words)[:60].strip("-")
    return "note"


def _unique(base: str, taken: set[str]) -> str:
    card_id, number = base, 1
    while card_id in taken:
        number += 1
        card_id = f"{base}-{number}"
    taken.add(card_id)
    return card_id


# Characters YAML does not allow raw in a double-quoted scalar, or reads as line breaks.
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def _q(text: str) -> str:
    """`text` as a YAML double-quoted scalar that reads back exactly (JSON's string syntax is a
    subset of YAML's, with the characters YAML treats specially escaped too)."""
    quoted = encode_basestring(text)  # json.dumps(text, ensure_ascii=False), without an encoder per call
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted) if _YAML_UNSAFE.search(quoted) else quoted


def _notetype_text(type_id: int, nt: dict[str, Any], package: Path) -> str:
    """A note type as notetypes/<key>.yaml declares it, with every id Anki matches it by."""
    kind = "occlusion" if nt["stock_kind"] == _OCCLUSION_STOCK_KIND else "cloze" if nt["kind"] == 1 else "standard"
    lines = [f"# Adopted from {package.name}: the ids, fields and templates are what students' Anki",
             "# knows this note type by. Template text and CSS may change; fields and templates may not.",
             f"name: {_q(nt['name'])}", f"kind: {kind}", f"id: {type_id}", "fields:"]
    for f in nt["fields"]:
        parts = [f"name: {_q(f['name'])}"] + ([f"id: {f['id']}"] if f["id"] else [])
        parts += [f"font: {_q(f['font'])}"] if f["font"] else []
        parts += [f"size: {f['size']}"] if f["size"] > 0 else []
        parts += [f"{key}: {'true' if f[key] else 'false'}"
                  for key in ("rtl", "sticky", "plain_text", "collapsed", "exclude_from_search")]
        parts.append(f"description: {_q(f['description'])}")
        lines.append("  - {" + ", ".join(parts) + "}")
    lines.append("templates:")
    for t in nt["templates"]:
        parts = [f"name: {_q(t['name'])}"] + ([f"id: {t['id']}"] if t["id"] else [])
        parts += [f"front: {_q(t['front'])}", f"back: {_q(t['back'])}", f"browser_front: {_q(t['browser_front'])}",
                  f"browser_back: {_q(t['browser_back'])}"]
        lines.append("  - {" + ", ".join(parts) + "}")
    sort_index = nt["sort_field"] if 0 <= nt["sort_field"] < len(nt["fields"]) else 0
    lines += [f"css: {_q(nt['css'])}", f"sort_field: {_q(nt['fields'][sort_index]['name'])}",
              f"latex_pre: {_q(nt['latex_pre'])}", f"latex_post: {_q(nt['latex_post'])}",
              f"latex_svg: {'true' if nt['latex_svg'] else 'false'}"]
    return "\n".join(lines) + "\n"
