"""Note types as Anki's legacy JSON: the four built-in ones, frozen, and a deck's own
(`CustomNoteType`, declared in notetypes/*.yaml and read by source/notetypes.py).

Anki matches note types by id and compares fields and templates by their ids; adding, removing
or renaming a field or template forks the note type in every student's collection and leaves
their notes conflicting for ever. So the built-in schema below is pinned by tests, and a deck's
own types are frozen by the lock once released (checks/frozen_types.py): change template text or
CSS freely, never the fields or templates themselves.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass

from neurodeck.apkg import templates


def stable_id(*parts: str) -> int:
    """A positive id from a hash, below 2**52 so every JSON reader keeps it exact."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return (int.from_bytes(digest[:8], "big") % (2**52 - 2**40)) + 2**40


@dataclass(frozen=True)
class Template:
    name: str
    qfmt: str
    afmt: str
    id: int | None = None  # a custom type's (the built-in ones derive theirs)
    bqfmt: str = ""  # the browser's question and answer columns
    bafmt: str = ""


@dataclass(frozen=True)
class NoteType:
    kind: str  # one of model.CARD_TYPES
    id: int
    name: str
    fields: tuple[str, ...]
    templates: tuple[Template, ...]
    css: str
    namespace: str

    @property
    def is_cloze(self) -> bool:
        return self.kind == "cloze"

    def field_id(self, name: str) -> int:
        return stable_id(self.namespace, self.kind, "field", name)

    def template_id(self, name: str) -> int:
        return stable_id(self.namespace, self.kind, "template", name)

    def schema(self) -> dict:
        """What must never change under this id: field and template names and ids."""
        return {
            "fields": [[name, self.field_id(name)] for name in self.fields],
            "templates": [[t.name, self.template_id(t.name)] for t in self.templates],
            "cloze": self.is_cloze,
        }

    def to_anki(self, mod: int, deck_id: int) -> dict:
        """The note type as Anki's schema-11 JSON (the `col.models` entry)."""
        return {
            "css": self.css,
            "did": deck_id,
            "flds": [
                {"name": name, "ord": i, "font": "Arial", "size": 20, "media": [], "rtl": False,
                 "sticky": False, "id": self.field_id(name), "plainText": False,
                 "collapsed": False, "excludeFromSearch": False, "description": "", "tag": None,
                 "preventDeletion": False}
                for i, name in enumerate(self.fields)
            ],
            "id": self.id,
            "latexPost": "\\end{document}",
            "latexPre": _LATEX_PRE,
            "latexsvg": False,
            "mod": mod,
            "name": self.name,
            "req": [[i, "any", [i if self.kind == "reversed" else 0]] for i in range(len(self.templates))],
            "sortf": 0,
            "tags": [],
            "tmpls": [
                {"name": t.name, "ord": i, "qfmt": t.qfmt, "afmt": t.afmt, "bqfmt": "", "bafmt": "",
                 "did": None, "bfont": "", "bsize": 0, "id": self.template_id(t.name)}
                for i, t in enumerate(self.templates)
            ],
            "type": 1 if self.is_cloze else 0,
            "usn": -1,
            "vers": [],
        }

    def content_hash(self) -> str:
        """Changes whenever anything a student sees of the note type changes."""
        payload = json.dumps(self.to_anki(0, 0), sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()


_LATEX_PRE = (
    "\\documentclass[12pt]{article}\n\\special{papersize=3in,5in}\n\\usepackage[utf8]{inputenc}\n"
    "\\usepackage{amssymb,amsmath}\n\\pagestyle{empty}\n\\setlength{\\parindent}{0in}\n"
    "\\begin{document}\n"
)

CSS = """\
.card {
  font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 20px;
  line-height: 1.45;
  text-align: center;
  color: #1d1d1f;
  background-color: #fbfbfa;
  padding: 0 12px;
}
.nd-side { max-width: 38em; margin: 0 auto; }
.nd-prompt { font-size: 1.05em; }
.nd-answer { font-weight: 600; }
.nd-extra, .nd-source, .nd-id { text-align: left; margin: 1.1em auto 0; max-width: 38em; }
.nd-extra { font-size: 0.85em; color: #3a3a3c; border-left: 3px solid #c7c7cc; padding-left: 0.7em; }
.nd-source { font-size: 0.72em; color: #6e6e73; }
.nd-id { font-size: 0.62em; color: #8e8e93; font-family: ui-monospace, Menlo, Consolas, monospace; }
.nd-label { font-variant: small-caps; letter-spacing: 0.04em; }
.cloze { font-weight: 700; color: #0a58ca; }
.nd-side img { max-width: 100%; height: auto; }
.nd-side ul, .nd-side ol { display: inline-block; text-align: left; margin: 0.3em 0; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.9em; }
hr#answer { border: none; border-top: 1px solid #d1d1d6; margin: 1em 0; }
@media (max-width: 480px) {
  .card { font-size: 18px; padding: 0 6px; }
}
.nightMode.card, .night_mode .card, .nightMode .card { color: #e5e5e7; background-color: #1e1e20; }
.nightMode .nd-extra, .night_mode .nd-extra { color: #c7c7cc; border-left-color: #48484a; }
.nightMode .nd-source, .night_mode .nd-source { color: #a1a1a6; }
.nightMode .nd-id, .night_mode .nd-id { color: #8e8e93; }
.nightMode .cloze, .night_mode .cloze { color: #6cb4ff; }
.nightMode hr#answer, .night_mode hr#answer { border-top-color: #48484a; }
"""

_BACK_MATTER = (
    '{{#Extra}}<div class="nd-extra">{{Extra}}</div>{{/Extra}}'
    '{{#Source}}<div class="nd-source"><span class="nd-label">Source:</span> {{Source}}</div>{{/Source}}'
    '<div class="nd-id">{{Id}}</div>'
)


def _side(body: str) -> str:
    return f'<div class="nd-side">{body}</div>'


def _front_back(prompt: str, answer: str) -> Template:
    return Template(
        "",
        _side(f'<div class="nd-prompt">{{{{{prompt}}}}}</div>'),
        _side(f'<div class="nd-prompt">{{{{{prompt}}}}}</div><hr id=answer>'
              f'<div class="nd-answer">{{{{{answer}}}}}</div>') + _BACK_MATTER,
    )


def _named(template: Template, name: str) -> Template:
    return Template(name, template.qfmt, template.afmt)


_QA_FIELDS = ("Question", "Answer", "Extra", "Source", "Id")
_CLOZE_FIELDS = ("Text", "Extra", "Source", "Id")

_TEMPLATES: dict[str, tuple[Template, ...]] = {
    "basic": (_named(_front_back("Question", "Answer"), "Card 1"),),
    "reversed": (
        _named(_front_back("Question", "Answer"), "Card 1"),
        _named(_front_back("Answer", "Question"), "Card 2"),
    ),
    "type-in": (
        Template(
            "Card 1",
            _side('<div class="nd-prompt">{{Question}}</div>{{type:Answer}}'),
            _side('<div class="nd-prompt">{{Question}}</div><hr id=answer>{{type:Answer}}') + _BACK_MATTER,
        ),
    ),
    "cloze": (
        Template(
            "Cloze",
            _side('<div class="nd-prompt">{{cloze:Text}}</div>'),
            _side('<div class="nd-prompt">{{cloze:Text}}</div>') + _BACK_MATTER,
        ),
    ),
}

_TITLES = {"basic": "Basic", "reversed": "Basic (and reversed card)", "type-in": "Basic (type in the answer)",
           "cloze": "Cloze"}


def note_types(namespace: str) -> dict[str, NoteType]:
    """The four built-in note types of one identity namespace, keyed by card type."""
    return {
        kind: NoteType(
            kind=kind,
            id=stable_id(namespace, "notetype", kind),
            name=f"neurodeck {_TITLES[kind]} ({namespace})",
            fields=_CLOZE_FIELDS if kind == "cloze" else _QA_FIELDS,
            templates=_TEMPLATES[kind],
            css=CSS,
            namespace=namespace,
        )
        for kind in _TITLES  # the four; type: occlusion has a type of its deck's (occlusion_type.py)
    }


# ---- a deck's own note types ---------------------------------------------------------------------

KINDS = ("standard", "cloze", "occlusion")
_OCCLUSION_STOCK_KIND = 6  # anki_proto StockNotetype.OriginalStockKind.IMAGE_OCCLUSION
_OCCLUSION_ROLES = 5  # Occlusion, Image, Header, Back Extra, Comments: rslib's ImageOcclusionField
ANKI_CSS = """.card {
    font-family: arial;
    font-size: 20px;
    line-height: 1.5;
    text-align: center;
    color: black;
    background-color: white;
}
"""  # rslib/src/notetype/styling.css: what a note type made in Anki starts with


@dataclass(frozen=True)
class FieldSpec:
    """One field of a custom note type, with the editor options Anki stores for it."""

    name: str
    id: int
    font: str = "Arial"
    size: int = 20
    rtl: bool = False
    sticky: bool = False
    description: str = ""
    plain_text: bool = False
    collapsed: bool = False
    exclude_from_search: bool = False
    required: bool = False  # a card of this type must fill it (not an Anki setting)


@dataclass(frozen=True)
class CustomNoteType:
    """A note type declared in notetypes/<key>.yaml, with every id decided (see `custom_ids`).

    `key`, the file stem, is what cards name in `type:` (they may also use `name`) and what the
    lock records for the type and its notes."""

    key: str
    kind: str  # one of KINDS
    id: int
    name: str
    field_specs: tuple[FieldSpec, ...]
    templates: tuple[Template, ...]  # each with its id
    css: str = ANKI_CSS
    sort_field: int = 0
    latex_pre: str = _LATEX_PRE
    latex_post: str = "\\end{document}"
    latex_svg: bool = False

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.field_specs)

    @property
    def is_cloze(self) -> bool:
        return self.kind != "standard"

    @functools.cached_property
    def fronts(self) -> tuple[tuple, ...]:
        """Each template's front, parsed (templates.py); the declaration was checked to parse."""
        return tuple(templates.parse(t.qfmt) for t in self.templates)

    @functools.cached_property
    def cloze_fields(self) -> frozenset[str]:
        """The fields some template reads through the cloze filter."""
        return frozenset(name for t in self.templates for side in (t.qfmt, t.afmt)
                         for name in templates.referenced_fields(templates.parse(side), cloze_only=True)
                         if name in self.fields)

    def schema(self) -> dict:
        """What Anki compares to decide that a package's note type is the one a student has: its
        id, its fields and templates in order (by id), and its kind."""
        return {
            "kind": self.kind,
            "id": self.id,
            "fields": [[f.name, f.id] for f in self.field_specs],
            "templates": [[t.name, t.id] for t in self.templates],
        }

    def to_anki(self, mod: int, deck_id: int) -> dict:
        """The note type as Anki's schema-11 JSON (the `col.models` entry)."""
        occlusion = self.kind == "occlusion"
        ords = {name: i for i, name in enumerate(self.fields)}
        model = {
            "css": self.css,
            "did": deck_id,
            "flds": [
                {"name": f.name, "ord": i, "font": f.font, "size": f.size, "media": [], "rtl": f.rtl,
                 "sticky": f.sticky, "id": f.id, "plainText": f.plain_text, "collapsed": f.collapsed,
                 "excludeFromSearch": f.exclude_from_search, "description": f.description,
                 # rslib's check database gives an occlusion type's first five fields their roles
                 "tag": i if occlusion and i < _OCCLUSION_ROLES else None,
                 "preventDeletion": occlusion and i < _OCCLUSION_ROLES - 1}
                for i, f in enumerate(self.field_specs)
            ],
            "id": self.id,
            "latexPost": self.latex_post,
            "latexPre": self.latex_pre,
            "latexsvg": self.latex_svg,
            "mod": mod,
            "name": self.name,
            "req": [[i, *templates.requirements(nodes, ords)] for i, nodes in enumerate(self.fronts)],
            "sortf": self.sort_field,
            "tags": [],
            "tmpls": [
                {"name": t.name, "ord": i, "qfmt": t.qfmt, "afmt": t.afmt, "bqfmt": t.bqfmt, "bafmt": t.bafmt,
                 "did": None, "bfont": "", "bsize": 0, "id": t.id}
                for i, t in enumerate(self.templates)
            ],
            "type": 1 if self.is_cloze else 0,
            "usn": -1,
            "vers": [],
        }
        if occlusion:
            model["originalStockKind"] = _OCCLUSION_STOCK_KIND
        return model

    def content_hash(self) -> str:
        """Changes whenever anything a student sees of the note type changes."""
        payload = json.dumps(self.to_anki(0, 0), sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()


def custom_id(namespace: str, name: str) -> int:
    """The id of a deck's note type declared without one: from the namespace and its name."""
    return stable_id(namespace, "custom notetype", name)


def part_id(type_id: int, part: str, name: str) -> int:
    """The id of a field or template declared without one: from its note type's id and its name."""
    return stable_id(str(type_id), part, name)


def builtin_names(namespace: str) -> dict[str, int]:
    """The built-in note types' names in Anki, with their ids (a deck's own may use neither)."""
    return {nt.name: nt.id for nt in note_types(namespace).values()}
