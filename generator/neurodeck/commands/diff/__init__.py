"""`neurodeck diff`: what changed between two releases of a deck, and what Anki will not carry over.

Each side is a built `.apkg` or a git revision of the project (that revision's sources built with
the current compiler in a temporary folder). Packages are read with zipfile and sqlite3 only, so
the command needs no Anki engine. Loading returns Problems; diffing and formatting are pure.

Anki matches notes by GUID on import, updates their fields and tags, and never deletes a note nor
moves an existing card; a note type whose fields or templates changed is imported as a copy.
Those are the warnings this module gives.
"""
from __future__ import annotations

import difflib
import html
import json
import os
import re
import sqlite3
import subprocess
import tarfile
import tempfile
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from neurodeck.model import Location, Problem

RETIRED_TAG = "retired"  # same as notes.RETIRED_TAG; not imported to keep this module light
_CONTEXT = 5  # words of unchanged text shown around a change in text and Markdown output


# ---- snapshots: what one side holds ---------------------------------------------------------

@dataclass(frozen=True)
class NoteTypeInfo:
    id: int
    name: str
    fields: tuple[tuple[str, int | None], ...]  # (name, id) in order; ids are absent in old exports
    templates: tuple[tuple[str, int | None], ...]
    cloze: bool
    css: str
    texts: tuple[tuple[str, str, str], ...]  # (template name, front, back)

    def schema(self) -> tuple:
        """What Anki compares to decide between updating the note type in place and copying it."""
        return self.fields, self.templates, self.cloze


@dataclass(frozen=True)
class NoteInfo:
    guid: str
    name: str  # the Id field (neurodeck's last field), else the first field, as plain text
    notetype: int
    fields: tuple[str, ...]  # HTML
    tags: tuple[str, ...]
    decks: tuple[str, ...]  # the decks of its cards, sorted


@dataclass
class Snapshot:
    """One deck as released: its notes by GUID and its note types by id."""

    label: str  # how the side is shown: "v1.apkg", "HEAD~1:test-deck.apkg"
    key: str  # output file name; pairs the decks of the two sides
    deck: str  # top-level deck name(s)
    notes: dict[str, NoteInfo] = field(default_factory=dict)
    notetypes: dict[int, NoteTypeInfo] = field(default_factory=dict)


# ---- the diff -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Segment:
    op: str  # "=" unchanged, "-" deleted, "+" inserted
    text: str


@dataclass
class FieldChange:
    name: str
    old: str  # plain text
    new: str
    segments: list[Segment]

    @property
    def formatting_only(self) -> bool:
        return all(s.op == "=" for s in self.segments)


@dataclass
class NoteRef:
    name: str
    guid: str
    decks: list[str]


@dataclass
class NoteChange:
    name: str
    guid: str
    decks: list[str]
    fields: list[FieldChange] = field(default_factory=list)
    tags_added: list[str] = field(default_factory=list)
    tags_removed: list[str] = field(default_factory=list)
    notetype: list[str] | None = None  # [old name, new name] when the note's type changed


@dataclass
class Move:
    name: str
    guid: str
    old: list[str]
    new: list[str]


@dataclass
class NoteTypeChange:
    id: int
    name: str
    kind: str  # "added" | "removed" | "schema" (Anki copies it) | "in-place"
    details: list[str] = field(default_factory=list)


@dataclass
class DiffWarning:
    kind: str  # "removed" | "moved" | "fork" | "notetype"
    message: str
    items: list[str] = field(default_factory=list)


@dataclass
class DeckDiff:
    key: str
    deck: str
    old: str  # side labels
    new: str
    added: list[NoteRef] = field(default_factory=list)
    changed: list[NoteChange] = field(default_factory=list)
    removed: list[NoteRef] = field(default_factory=list)
    retired: list[NoteRef] = field(default_factory=list)
    moved: list[Move] = field(default_factory=list)
    notetypes: list[NoteTypeChange] = field(default_factory=list)
    unchanged: int = 0
    warnings: list[DiffWarning] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed or self.retired or self.moved or self.notetypes)

    def to_json(self) -> dict:
        return dict(asdict(self), summary=_counts(self))


def _counts(d: DeckDiff) -> dict[str, int]:
    return {"added": len(d.added), "changed": len(d.changed), "removed": len(d.removed),
            "retired": len(d.retired), "moved": len(d.moved), "unchanged": d.unchanged,
            "notetypes": len(d.notetypes)}


def is_retired(tags) -> bool:
    return any(t == RETIRED_TAG or t.endswith("::" + RETIRED_TAG) for t in tags)


def diff_snapshots(old: Snapshot, new: Snapshot) -> DeckDiff:
    """Everything that differs between two releases of one deck, and the warnings it calls for."""
    result = DeckDiff(key=new.key or old.key, deck=new.deck or old.deck, old=old.label, new=new.label)
    for guid, note in new.notes.items():
        before = old.notes.get(guid)
        if before is None:
            result.added.append(NoteRef(note.name, guid, list(note.decks)))
        elif is_retired(note.tags) and not is_retired(before.tags):
            result.retired.append(NoteRef(note.name, guid, list(note.decks)))
        else:
            change = _note_change(before, note, old.notetypes, new.notetypes)
            if change is not None:
                result.changed.append(change)
            if before.decks != note.decks:
                result.moved.append(Move(note.name, guid, list(before.decks), list(note.decks)))
            if change is None and before.decks == note.decks:
                result.unchanged += 1
    result.removed = [NoteRef(n.name, g, list(n.decks)) for g, n in old.notes.items() if g not in new.notes]
    for items in (result.added, result.changed, result.removed, result.retired, result.moved):
        items.sort(key=lambda item: (item.name, item.guid))
    result.notetypes = _notetype_changes(old.notetypes, new.notetypes)
    result.warnings = _warnings(result)
    return result


def diff_sides(old: dict[str, Snapshot], new: dict[str, Snapshot]) -> list[DeckDiff]:
    """Pair the decks of two sides and diff each pair.

    One deck on each side is always a pair (v1.apkg against v2.apkg); otherwise decks pair by
    output file name, and a deck on one side only is diffed against nothing.
    """
    if len(old) == 1 and len(new) == 1:
        return [diff_snapshots(next(iter(old.values())), next(iter(new.values())))]
    diffs = []
    for key in sorted(set(old) | set(new)):
        present = old.get(key) or new[key]
        nothing = Snapshot(label="(absent)", key=key, deck=present.deck)
        diffs.append(diff_snapshots(old.get(key, nothing), new.get(key, nothing)))
    return diffs


def _note_change(old: NoteInfo, new: NoteInfo, old_types: dict[int, NoteTypeInfo],
                 new_types: dict[int, NoteTypeInfo]) -> NoteChange | None:
    change = NoteChange(new.name, new.guid, list(new.decks))
    new_type = new_types.get(new.notetype)
    names = [n for n, _ in new_type.fields] if new_type else []
    for i in range(max(len(old.fields), len(new.fields))):
        before = old.fields[i] if i < len(old.fields) else ""
        after = new.fields[i] if i < len(new.fields) else ""
        if before != after:
            name = names[i] if i < len(names) else f"field {i + 1}"
            a, b = plain_text(before), plain_text(after)
            change.fields.append(FieldChange(name, a, b, word_diff(a, b)))
    change.tags_added = sorted(set(new.tags) - set(old.tags))
    change.tags_removed = sorted(set(old.tags) - set(new.tags))
    if old.notetype != new.notetype:
        change.notetype = [_type_name(old.notetype, old_types), _type_name(new.notetype, new_types)]
    if change.fields or change.tags_added or change.tags_removed or change.notetype:
        return change
    return None


def _type_name(mid: int, types: dict[int, NoteTypeInfo]) -> str:
    return types[mid].name if mid in types else str(mid)


def _notetype_changes(old: dict[int, NoteTypeInfo], new: dict[int, NoteTypeInfo]) -> list[NoteTypeChange]:
    changes = []
    for mid in sorted(set(old) | set(new), key=lambda m: (new.get(m) or old[m]).name):
        a, b = old.get(mid), new.get(mid)
        if a is None:
            changes.append(NoteTypeChange(mid, b.name, "added"))
        elif b is None:
            changes.append(NoteTypeChange(mid, a.name, "removed"))
        elif a.schema() != b.schema():
            changes.append(NoteTypeChange(mid, b.name, "schema", _schema_details(a, b)))
        else:
            details = _in_place_details(a, b)
            if details:
                changes.append(NoteTypeChange(mid, b.name, "in-place", details))
    return changes


def _schema_details(old: NoteTypeInfo, new: NoteTypeInfo) -> list[str]:
    details = (_list_changes("field", old.fields, new.fields)
               + _list_changes("template", old.templates, new.templates))
    if old.cloze != new.cloze:
        details.append("changed between cloze and standard")
    return details or ["fields or templates changed"]


def _list_changes(what: str, old: tuple[tuple[str, int | None], ...],
                  new: tuple[tuple[str, int | None], ...]) -> list[str]:
    """Field or template changes in words: renamed, removed, added, id changed, reordered."""
    out = []
    old_by_id = {i: n for n, i in old if i is not None}
    new_by_id = {i: n for n, i in new if i is not None}
    renamed = {old_by_id[i]: new_by_id[i] for i in old_by_id.keys() & new_by_id.keys()
               if old_by_id[i] != new_by_id[i]}
    old_names, new_names = [n for n, _ in old], [n for n, _ in new]
    gone = [n for n in old_names if n not in new_names and n not in renamed]
    came = [n for n in new_names if n not in old_names and n not in renamed.values()]
    # Ids derived from names (as neurodeck's are) change with the name: a name replaced at the
    # same position reads better as a rename.
    for name in list(gone):
        position = old_names.index(name)
        if position < len(new_names) and new_names[position] in came:
            renamed[name] = new_names[position]
            gone.remove(name)
            came.remove(new_names[position])
    out += [f"{what} '{a}' renamed to '{b}'" for a, b in sorted(renamed.items())]
    out += [f"{what} '{n}' removed" for n in gone]
    out += [f"{what} '{n}' added" for n in came]
    old_ids, new_ids = dict(old), dict(new)
    out += [f"{what} '{n}' has a new id" for n in old_names
            if n in new_ids and old_ids[n] != new_ids[n] and n not in renamed]
    if not out and old_names != new_names:
        out.append(f"{what}s reordered: {', '.join(new_names)}")
    return out


def _in_place_details(old: NoteTypeInfo, new: NoteTypeInfo) -> list[str]:
    details = []
    if old.name != new.name:
        details.append(f"renamed from '{old.name}'")
    if old.css != new.css:
        added, removed = _line_counts(old.css, new.css)
        details.append(f"CSS changed (+{added} -{removed} lines)")
    old_texts = {name: (front, back) for name, front, back in old.texts}
    for name, front, back in new.texts:
        if name in old_texts and old_texts[name] != (front, back):
            sides = [s for s, a, b in (("front", old_texts[name][0], front), ("back", old_texts[name][1], back))
                     if a != b]
            details.append(f"template '{name}': {' and '.join(sides)} changed")
    return details


def _line_counts(old: str, new: str) -> tuple[int, int]:
    ops = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False).get_opcodes()
    return (sum(j2 - j1 for tag, _, _, j1, j2 in ops if tag in ("insert", "replace")),
            sum(i2 - i1 for tag, i1, i2, _, _ in ops if tag in ("delete", "replace")))


def _warnings(d: DeckDiff) -> list[DiffWarning]:
    out = []
    if d.removed:
        out.append(DiffWarning(
            "removed",
            f"{_n(len(d.removed), 'removed note')} will stay in students' collections: Anki never deletes "
            "notes on import. Retire a card instead ('retired: true' with a 'why') so students learn it is gone.",
            [r.name for r in d.removed]))
    if d.moved:
        out.append(DiffWarning(
            "moved",
            f"{_n(len(d.moved), 'moved note')}: students who already have them keep the cards in the old "
            "subdeck; Anki updates a note's fields and tags on import but never moves an existing card.",
            [m.name for m in d.moved]))
    for change in d.notetypes:
        if change.kind == "schema":
            out.append(DiffWarning(
                "fork",
                f"note type '{change.name}': its fields or templates changed, so Anki will import it as a "
                "copy (a fork) and leave students' existing notes of this type un-updated (conflicting).",
                change.details))
    retyped = [c.name for c in d.changed if c.notetype]
    if retyped:
        out.append(DiffWarning(
            "notetype",
            f"{_n(len(retyped), 'note')} changed note type: Anki cannot change a note's type on import, "
            "so students keep the old note unchanged. Give such a card a new id.",
            retyped))
    return out


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


# ---- plain text and word diffs --------------------------------------------------------------

_IMG = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']?([^"'\s>]+)[^>]*>""", re.IGNORECASE)
_HTML_TAG = re.compile(r"<[^>]*>")


def plain_text(field_html: str) -> str:
    """A field as words: tags stripped (images kept as "[image: name]"), entities decoded."""
    text = _IMG.sub(lambda m: f" [image: {m.group(1)}] ", field_html)
    return " ".join(html.unescape(_HTML_TAG.sub(" ", text)).split())


def word_diff(old: str, new: str) -> list[Segment]:
    """Word-level differences of two plain texts, as runs of unchanged, deleted and inserted words."""
    a, b = old.split(), new.split()
    segments = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            segments.append(Segment("=", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            segments.append(Segment("-", " ".join(a[i1:i2])))
        if j2 > j1:
            segments.append(Segment("+", " ".join(b[j1:j2])))
    return segments


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


# ---- loading a side -------------------------------------------------------------------------

def load_side(spec: str, cwd: Path) -> tuple[dict[str, Snapshot] | None, list[Problem]]:
    """An existing file is a package; anything else a git revision of the repository holding `cwd`.

    Returns the decks of that side by output file name, or None and why not.
    """
    path = Path(spec) if os.path.isabs(spec) else cwd / spec
    if path.is_file():
        snapshot, problems = read_package(path, spec)
        return ({snapshot.key: snapshot} if snapshot else None), problems
    if path.is_dir():
        return None, [Problem(Location(spec), f"'{spec}' is a folder",
                              "give a built .apkg or a git revision (a tag, branch or commit)")]
    return load_revision(spec, cwd)


def compare(old: str, new: str, cwd: Path) -> tuple[list[DeckDiff] | None, list[Problem]]:
    """Load both sides and diff them: the whole of `neurodeck diff` except printing."""
    problems: list[Problem] = []
    sides = []
    for spec in (old, new):
        snapshots, found = load_side(spec, cwd)
        problems += found
        sides.append(snapshots)
    if sides[0] is None or sides[1] is None:
        return None, problems
    return diff_sides(sides[0], sides[1]), problems


def read_package(path: Path, label: str | None = None) -> tuple[Snapshot | None, list[Problem]]:
    """Read a package's notes, cards, note types and decks (schema-11 collections)."""
    where = Location(label or str(path))
    try:
        with zipfile.ZipFile(path) as zf, tempfile.TemporaryDirectory(prefix="neurodeck-diff-") as tmp:
            names = set(zf.namelist())
            # Anki 2.1.50+ exports without "support older versions" hold a compressed collection in a
            # newer schema, and a dummy collection.anki2 that only says "please update".
            if "collection.anki21b" in names:
                return None, [Problem(where, "this package uses Anki's newer compressed format",
                                      "export it again from Anki with 'Support older Anki versions' ticked")]
            member = next((n for n in ("collection.anki21", "collection.anki2") if n in names), None)
            if member is None:
                return None, [Problem(where, "not an Anki package (no collection.anki2 inside)")]
            db = Path(tmp) / "collection.db"
            with zf.open(member) as source, open(db, "wb") as target:
                while chunk := source.read(1 << 20):
                    target.write(chunk)
            return _read_collection(db, label or path.name, path.name), []
    except (OSError, zipfile.BadZipFile, sqlite3.Error, ValueError, KeyError, TypeError, AttributeError,
            IndexError) as exc:
        return None, [Problem(where, f"not a readable Anki package: {exc}")]


def _read_collection(db: Path, label: str, key: str) -> Snapshot:
    conn = sqlite3.connect(db)
    try:
        models_json, decks_json = conn.execute("select models, decks from col").fetchone()
        notes = conn.execute("select id, guid, mid, flds, tags from notes order by id").fetchall()
        cards = conn.execute("select nid, did from cards").fetchall()
    finally:
        conn.close()
    deck_names = {int(k): v["name"] for k, v in json.loads(decks_json).items()}
    notetypes = {int(k): _notetype(v) for k, v in json.loads(models_json).items()}
    decks_of: dict[int, set[str]] = {}
    for nid, did in cards:
        decks_of.setdefault(nid, set()).add(deck_names.get(did, f"deck {did}"))
    snapshot = Snapshot(label=label, key=key, deck="")
    for nid, guid, mid, flds, tags in notes:
        fields = tuple(flds.split("\x1f"))
        name = plain_text(fields[-1]) or plain_text(fields[0])
        snapshot.notes[guid] = NoteInfo(guid, name[:80] or guid, mid, fields, tuple(sorted(tags.split())),
                                        tuple(sorted(decks_of.get(nid, ()))))
    snapshot.notetypes = notetypes
    used = {d for n in snapshot.notes.values() for d in n.decks}
    snapshot.deck = ", ".join(sorted({d.split("::")[0] for d in used})) or ", ".join(
        sorted({n.split("::")[0] for i, n in deck_names.items() if i != 1}))
    return snapshot


def _notetype(model: dict) -> NoteTypeInfo:
    return NoteTypeInfo(
        id=int(model["id"]), name=str(model["name"]),
        fields=tuple((str(f["name"]), f.get("id")) for f in sorted(model["flds"], key=lambda f: f["ord"])),
        templates=tuple((str(t["name"]), t.get("id")) for t in sorted(model["tmpls"], key=lambda t: t["ord"])),
        cloze=model.get("type") == 1, css=str(model.get("css", "")),
        texts=tuple((str(t["name"]), str(t.get("qfmt", "")), str(t.get("afmt", ""))) for t in model["tmpls"]),
    )


# ---- git revisions --------------------------------------------------------------------------

class _GitError(Exception):
    pass


def _git(cwd: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except OSError as exc:  # git not installed, or cwd gone
        raise _GitError(f"cannot run git: {exc}") from exc
    if done.returncode != 0:
        raise _GitError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"git {args[0]} failed")
    return done.stdout


def load_revision(rev: str, cwd: Path) -> tuple[dict[str, Snapshot] | None, list[Problem]]:
    """Build every deck of a git revision with the current compiler, in a temporary folder."""
    where = Location(rev)
    hint = "give a built .apkg, or a git revision (tag, branch or commit) of the project's repository"
    if rev.startswith("-") or not rev.strip():  # never let an argument become a git option
        return None, [Problem(where, f"'{rev}' is neither a file nor a git revision", hint)]
    try:
        top = Path(_git(cwd, "rev-parse", "--show-toplevel").strip())
        prefix = _git(cwd, "rev-parse", "--show-prefix").strip()
    except _GitError:
        what = "no such package" if rev.endswith(".apkg") else f"'{rev}' is not a file"
        return None, [Problem(where, f"{what}, and {cwd} is not inside a git repository", hint)]
    try:
        commit = _git(cwd, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()
    except _GitError:
        what = "no such package" if rev.endswith(".apkg") else f"'{rev}' is neither a file nor a git revision"
        return None, [Problem(where, what, hint)]
    with tempfile.TemporaryDirectory(prefix="neurodeck-diff-") as tmp:
        tree = Path(tmp) / "tree"
        try:
            _export(top, commit, prefix, tree)
        except _GitError as exc:
            return None, [Problem(where, f"cannot export revision '{rev}': {exc}")]
        return _build_all(rev, tree / prefix, Path(tmp) / "out")


def _export(top: Path, commit: str, prefix: str, into: Path) -> None:
    """`git archive COMMIT [-- PREFIX] | tar -x`, streamed, keeping only members safe to write."""
    into.mkdir(parents=True)
    command = ["git", "archive", "--format=tar", commit] + (["--", prefix] if prefix else [])
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: git can never block on it
        try:
            proc = subprocess.Popen(command, cwd=top, stdout=subprocess.PIPE, stderr=errors)
        except OSError as exc:
            raise _GitError(f"cannot run git: {exc}") from exc
        try:
            with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
                for member in archive:
                    safe = _safe_member(member, into)
                    if safe is not None:
                        archive.extract(safe, into, set_attrs=False, **_no_filter())
            # tarfile stops at the end-of-archive marker; git may still be writing the record's
            # padding, and closing the pipe under it would kill it with SIGPIPE.
            while proc.stdout.read(1 << 16):
                pass
        except tarfile.TarError as exc:
            proc.kill()
            raise _GitError(str(exc)) from exc
        finally:
            proc.stdout.close()
            code = proc.wait()
        if code != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()
            raise _GitError(message.splitlines()[-1] if message else f"git archive failed (exit status {code})")


def _no_filter() -> dict:
    # The member was already checked by _safe_member; Python 3.12+ wants the filter named.
    return {"filter": "fully_trusted"} if hasattr(tarfile, "data_filter") else {}


def _safe_member(member: tarfile.TarInfo, into: Path) -> tarfile.TarInfo | None:
    """Files and folders inside the export only (a revision is someone's commit, not trusted)."""
    if hasattr(tarfile, "data_filter"):
        try:
            return tarfile.data_filter(member, str(into))
        except tarfile.FilterError:
            return None
    parts = Path(member.name).parts
    if os.path.isabs(member.name) or ".." in parts or not (member.isfile() or member.isdir()):
        return None
    return member


def _build_all(rev: str, project: Path, out: Path) -> tuple[dict[str, Snapshot] | None, list[Problem]]:
    from neurodeck.pipeline.build import build  # the compiler is heavy; only revisions need it

    manifests = sorted((project / "decks").glob("*.yaml"))
    if not manifests:
        return None, [Problem(Location(rev), f"revision '{rev}' has no deck manifests (decks/*.yaml)",
                              "run neurodeck diff from the project folder (the one holding decks/)")]
    snapshots: dict[str, Snapshot] = {}
    problems: list[Problem] = []
    for manifest in manifests:
        result = build(manifest, out)
        # Warnings (such as "released card is gone") repeat what the diff itself reports.
        problems += [_relocated(p, project, rev) for p in result.problems if p.severity == "error"]
        if result.ok and result.output is not None:
            snapshot, found = read_package(result.output, f"{rev}:{result.output.name}")
            problems += found
            if snapshot is not None:
                snapshots[snapshot.key] = snapshot
    return (None if problems else snapshots), problems


def _relocated(problem: Problem, project: Path, rev: str) -> Problem:
    """A problem in the temporary export, located as `REV:path/in/project:line:column`."""
    try:
        relative = Path(os.path.abspath(problem.location.path)).resolve().relative_to(project.resolve())
    except (ValueError, OSError):
        return problem
    where = problem.location._replace(path=f"{rev}:{relative.as_posix()}")
    return Problem(where, problem.message, problem.hint, problem.severity)


# ---- output ---------------------------------------------------------------------------------

def _subdecks(decks: list[str], root: str) -> str:
    """Deck names without the deck's own name in front."""
    return ", ".join(d[len(root) + 2:] if d.startswith(root + "::") else d for d in decks) or "no cards"


def _summary_line(d: DeckDiff) -> str:
    c = _counts(d)
    text = ", ".join(f"{c[k]} {k}" for k in ("added", "changed", "removed", "retired", "moved", "unchanged"))
    return text + f"; {_n(c['notetypes'], 'note type change')}"


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
    for previous, s in zip([None] + f.segments, _trimmed(f.segments)):
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
