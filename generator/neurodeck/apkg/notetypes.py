"""The four frozen note types: ids, fields, templates and CSS.

Anki matches note types by id and compares fields and templates by their ids; adding, removing
or renaming a field or template forks the note type in every student's collection and leaves
their notes conflicting for ever. So the schema below is pinned by tests: change template text
or CSS freely, never the fields or templates themselves.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from neurodeck.model import CARD_TYPES


def stable_id(*parts: str) -> int:
    """A positive id from a hash, below 2**52 so every JSON reader keeps it exact."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return (int.from_bytes(digest[:8], "big") % (2**52 - 2**40)) + 2**40


@dataclass(frozen=True)
class Template:
    name: str
    qfmt: str
    afmt: str


@dataclass(frozen=True)
class NoteType:
    kind: str  # one of CARD_TYPES
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
    """The note types of one identity namespace, keyed by card type."""
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
        for kind in CARD_TYPES
    }
