"""A deck's own note types: notetypes/<key>.yaml files (or the manifest's `notetypes:` globs) read
into CustomNoteType values, with where each part was written (the rules are checks/notetype_rules.py).

    name: Anatomy Basic            # the name in Anki
    kind: standard                 # standard | cloze | occlusion
    id: 1607392319                 # optional: else derived from the namespace and the name
    fields: [Front, {name: Back, id: 123}]
    templates: [{name: Card 1, front: "{{Front}}", back: "{{FrontSide}}<hr id=answer>{{Back}}"}]
    css: ".card { ... }"
    sort_field: Front
    tts: {field: Front, lang: en_US}   # optional: fields Anki reads aloud (source/speech.py)
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neurodeck.apkg import templates
from neurodeck.apkg.notetypes import KINDS, CustomNoteType, FieldSpec, Template, custom_id, part_id
from neurodeck.apkg.speech import check_fields, with_speech
from neurodeck.model import Location, Manifest, Problem, Text, has_errors
from neurodeck.project import notetype_files, read_bytes
from neurodeck.source.reader import Reader, parse_mapping
from neurodeck.source.speech import read_speech
from neurodeck.source.yamlnodes import YMap, YScalar, YSeq, YValue, describe

NOTETYPE_KEYS = ("name", "kind", "id", "fields", "templates", "css", "sort_field", "latex_pre", "latex_post",
                 "latex_svg", "tts")
FIELD_KEYS = ("name", "id", "font", "size", "rtl", "sticky", "description", "plain_text", "collapsed",
              "exclude_from_search", "required")
TEMPLATE_KEYS = ("name", "id", "front", "back", "browser_front", "browser_back")
MAX_ID = 2**63 - 1  # Anki stores ids as signed 64-bit integers
_FLAGS = ("rtl", "sticky", "plain_text", "collapsed", "exclude_from_search", "required")


@dataclass
class DeclaredType:
    """A note type as declared, with where each part is (for the rules' messages)."""

    notetype: CustomNoteType
    path: Path
    location: Location  # the file's mapping
    name: Location
    id: Location | None  # the explicit id, if any
    kind: Location
    fields: list[Location] = field(default_factory=list)  # each field's name
    field_ids: list[Location | None] = field(default_factory=list)  # each explicit field id
    templates: list[Location] = field(default_factory=list)  # each template's name
    template_ids: list[Location | None] = field(default_factory=list)
    fronts: list[Location] = field(default_factory=list)
    backs: list[Location] = field(default_factory=list)
    sort_field: Location | None = None
    keys: dict[str, Location] = field(default_factory=dict)  # where each top-level key's value is


@dataclass
class LoadedTypes:
    """A deck's note types, the problems met reading them, and the files read (path -> sha256)."""

    declared: list[DeclaredType] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)

    @property
    def notetypes(self) -> tuple[CustomNoteType, ...]:
        return tuple(d.notetype for d in self.declared)


def load_notetypes(manifest: Manifest) -> LoadedTypes:
    """Read and check every note type file of a deck; ids are derived in the deck's namespace."""
    from neurodeck.checks.notetype_rules import check_declared

    loaded = LoadedTypes()
    paths, loaded.problems = notetype_files(manifest)
    for path in paths:
        try:
            loaded.inputs[str(path)] = hashlib.sha256(read_bytes(path)).hexdigest()
        except OSError:
            pass  # parse_mapping reports it
        declared, problems = load_notetype_file(path, manifest.namespace)
        loaded.problems += problems
        if declared is not None:
            loaded.declared.append(declared)
    loaded.problems += check_declared(loaded.declared, manifest.namespace)
    if has_errors(loaded.problems):
        loaded.declared = []  # cards naming them report nothing more than "unknown type"
    return loaded


def load_notetype_file(path: Path, namespace: str) -> tuple[DeclaredType | None, list[Problem]]:
    """One note type file; None when it is too broken to describe a note type."""
    value, problems = parse_mapping(path, "a note type file", "start with 'name:', 'kind:' and 'fields:'")
    if value is None:
        return None, problems
    r = _Reader(problems)
    r.check_keys(value, NOTETYPE_KEYS, "a note type")
    name = r.text(value, "name", required=True)
    kind = r.text(value, "kind")
    if kind is not None and kind.value not in KINDS:
        r.error(kind.location, f"unknown note type kind '{kind.value}'", f"one of: {', '.join(KINDS)}")
        return None, problems
    type_id = r.number(value, "id")
    fields = r.entries(value, "fields", FIELD_KEYS, "a field")
    templates = r.entries(value, "templates", TEMPLATE_KEYS, "a template")
    css = r.raw(value, "css")
    sort_field = r.text(value, "sort_field")
    latex_pre, latex_post = r.raw(value, "latex_pre"), r.raw(value, "latex_post")
    latex_svg = r.flag(value, "latex_svg") if "latex_svg" in value.items else False
    speeches = read_speech(r, value)
    if name is None or fields is None or templates is None or has_errors(problems):
        return None, problems
    tid = type_id[0] if type_id else custom_id(namespace, name.value)
    declared = DeclaredType(
        notetype=None,  # type: ignore[arg-type]  # set below, once its parts are read
        path=path, location=value.location, name=name.location, id=type_id[1] if type_id else None,
        kind=kind.location if kind else value.location,
        keys={key: entry[1].location for key, entry in value.items.items()})
    specs = []
    for index, entry in enumerate(fields):
        fname, fid = entry.name, entry.number("id", signed=True)
        options: dict[str, Any] = {key: entry.flag(key) for key in _FLAGS if key in entry.keys}
        options.setdefault("required", index == 0)  # Anki's editor refuses a note with its first field empty
        for key in ("font", "description"):
            if key in entry.keys:
                options[key] = entry.raw(key) or ""
        if "size" in entry.keys:
            size = entry.number("size")
            if size is not None:
                options["size"] = size[0]
        specs.append(FieldSpec(fname.value, fid[0] if fid else part_id(tid, "field", fname.value), **options))
        declared.fields.append(fname.location)
        declared.field_ids.append(fid[1] if fid else None)
    parts = []
    for entry in templates:
        tname, template_id = entry.name, entry.number("id", signed=True)
        front, back = entry.text("front", required=True), entry.text("back", required=True)
        parts.append(Template(tname.value, front.value if front else "", back.value if back else "",
                              template_id[0] if template_id else part_id(tid, "template", tname.value),
                              entry.raw("browser_front") or "", entry.raw("browser_back") or ""))
        declared.templates.append(tname.location)
        declared.template_ids.append(template_id[1] if template_id else None)
        declared.fronts.append(front.location if front else entry.location)
        declared.backs.append(back.location if back else entry.location)
    if has_errors(problems):
        return None, problems
    names = [s.name for s in specs]
    sort_index = 0
    if sort_field is not None:
        declared.sort_field = sort_field.location
        if sort_field.value in names:
            sort_index = names.index(sort_field.value)
        else:
            r.error(sort_field.location, f"sort field '{sort_field.value}' is not a field of this note type",
                    f"one of: {', '.join(names)}")
            return None, problems
    optional = {key: v for key, v in (("css", css), ("latex_pre", latex_pre), ("latex_post", latex_post))
                if v is not None}
    declared.notetype = CustomNoteType(
        key=path.stem, kind=kind.value if kind else "standard", id=tid, name=name.value, field_specs=tuple(specs),
        templates=tuple(parts), sort_field=sort_index, latex_svg=latex_svg, **optional)
    # Anki's {{tts}} added to the templates (apkg/speech.py): template text only. A template that
    # does not parse is reported by the rules (checks/notetype_rules.py), and gets no tts.
    if speeches and _parse(parts):
        found = check_fields(speeches, names, f"note type '{name.value}'", tuple(parts))
        if found:
            return None, problems + found
        declared.notetype = with_speech(declared.notetype, speeches)
    return declared, problems


class _Entry:
    """One field or template: a mapping, or (a field) just its name."""

    def __init__(self, r: _Reader, value: YValue, keys: tuple[str, ...], what: str):
        self.r, self.location = r, value.location
        self.map = value if isinstance(value, YMap) else YMap({}, value.location)
        self.keys = self.map.items
        if isinstance(value, YScalar):
            self.name: Text = Text(value.text or "", value.location)
        else:
            r.check_keys(self.map, keys, what)
            self.name = r.text(self.map, "name", required=True) or Text("", value.location)

    def number(self, key: str, signed: bool = False) -> tuple[int, Location] | None:
        return self.r.number(self.map, key, signed)

    def flag(self, key: str) -> bool:
        return self.r.flag(self.map, key)

    def text(self, key: str, required: bool = False) -> Text | None:
        return self.r.text(self.map, key, required)

    def raw(self, key: str) -> str | None:
        return self.r.raw(self.map, key)


class _Reader(Reader):
    def number(self, mapping: YMap, key: str, signed: bool = False) -> tuple[int, Location] | None:
        """A positive whole number (an id, a font size) and where it is written; `signed`: any
        64-bit number but 0 (Anki gives fields and templates random ids, half of them negative)."""
        entry = mapping.items.get(key)
        if entry is None:
            return None
        value = entry[1]
        text = value.text if isinstance(value, YScalar) else None
        digits = text[1:] if signed and text is not None and text.startswith("-") else text
        lowest = -MAX_ID - 1 if signed else 1
        if text is None or digits is None or not digits.isascii() or not digits.isdigit() \
                or not lowest <= int(text) <= MAX_ID or int(text) == 0:
            self.error(value.location, f"'{key}' must be a whole number {'other than' if signed else 'above'} 0, not "
                       f"{repr(text) if text is not None else describe(value)}",
                       "ids are what Anki knows the note type by: copy them exactly, or leave them out")
            return None
        return int(text), value.location

    def raw(self, mapping: YMap, key: str) -> str | None:
        """Text that may be empty (CSS, a browser template); None when the key is absent."""
        entry = mapping.items.get(key)
        if entry is None:
            return None
        value = entry[1]
        if isinstance(value, YScalar):
            return value.text or ""
        self.error(value.location, f"'{key}' must be text, not {describe(value)}")
        return None

    def entries(self, mapping: YMap, key: str, keys: tuple[str, ...], what: str) -> list[_Entry] | None:
        """The fields or templates: a non-empty list, in order."""
        entry = mapping.items.get(key)
        if entry is None:
            self.error(mapping.location, f"missing required key '{key}'",
                       f"a note type needs at least one {what.removeprefix('a ')}")
            return None
        value = entry[1]
        if not isinstance(value, YSeq) or not value.items:
            self.error(value.location, f"'{key}' must be a non-empty list" +
                       (f", not {describe(value)}" if not isinstance(value, YSeq) else ""))
            return None
        out = []
        for item in value.items:
            if isinstance(item, YSeq) or (isinstance(item, YScalar) and (key == "templates" or not item.text)):
                self.error(item.location, f"{what} must be a mapping{' or a name' if key == 'fields' else ''}, "
                           f"not {describe(item)}")
                continue
            out.append(_Entry(self, item, keys, what))
        return out



def _parse(parts: list[Template]) -> bool:
    """Whether every side of these templates parses."""
    try:
        for t in parts:
            templates.parse(t.qfmt), templates.parse(t.afmt)
    except templates.TemplateError:
        return False
    return True
