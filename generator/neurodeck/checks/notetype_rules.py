"""Rules for a deck's own note types: what Anki would refuse, rename or render as an error.

Anki imports a package's note type without checking its templates (rslib's prepare_for_update
with skip_checks), renames fields and templates it finds invalid or duplicated, and then shows
errors in place of cards. So every rule it applies when a note type is saved in its editor is
checked here, with where the declaration says it.
"""
from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable

from neurodeck.apkg import templates
from neurodeck.apkg.notetypes import builtin_names
from neurodeck.checks import notetype_safety
from neurodeck.model import CARD_TYPES, Location, Problem
from neurodeck.render.sanitize import css_problem
from neurodeck.source.notetypes import DeclaredType

# Names of the note types a new Anki collection holds: an incoming type with one of them is renamed.
STOCK_NAMES = ("Basic", "Basic (and reversed card)", "Basic (optional reversed card)", "Basic (type in the answer)",
               "Cloze", "Image Occlusion")
_BAD_IN_FIELD = ':{}"'  # rslib NoteField::fix_name removes these
_OCCLUSION_FIELDS = 4  # rslib io_notetype_if_valid


def check_declared(declared: list[DeclaredType], namespace: str) -> list[Problem]:
    """Every rule over one deck's note types, alone and together."""
    problems: list[Problem] = []
    for d in declared:
        problems += check_notetype(d)
    problems += _check_together(declared, namespace)
    return problems


def check_notetype(d: DeclaredType) -> list[Problem]:
    """The rules over one note type: names, fields, templates and its kind."""
    nt = d.notetype
    problems = _name_problems(nt.name, "note type name", d.name, '"')
    problems += _unique(((f.name, loc) for f, loc in zip(nt.field_specs, d.fields)), "field")
    problems += _unique(((t.name, loc) for t, loc in zip(nt.templates, d.templates)), "template")
    problems += _unique_ids(((f.id, f.name, loc or fl) for f, loc, fl in zip(nt.field_specs, d.field_ids, d.fields)),
                            "field")
    problems += _unique_ids(((t.id, t.name, loc or tl) for t, loc, tl in zip(nt.templates, d.template_ids,
                                                                              d.templates)), "template")
    for f, loc in zip(nt.field_specs, d.fields):
        problems += _field_name_problems(f.name, loc)
    for t, loc in zip(nt.templates, d.templates):
        problems += _name_problems(t.name, "template name", loc, '"')
    problems += _template_problems(d)
    problems += _active_content(d)
    return problems


_ACTIVE_HINT = ("templates, CSS and LaTeX reach every student's Anki as written: nothing in them may run a "
                "script, load a remote address or read files; fields go between tags, as text")


def _active_content(d: DeclaredType) -> list[Problem]:
    """Scripts, handlers, remote addresses and file access in templates, CSS and LaTeX
    (checks/notetype_safety.py)."""
    nt = d.notetype
    problems = []
    for t, front, back, name in zip(nt.templates, d.fronts, d.backs, d.templates):
        for side, text, loc in (("front", t.qfmt, front), ("back", t.afmt, back),
                                ("browser front", t.bqfmt, name), ("browser back", t.bafmt, name)):
            problems += [Problem(loc, f"the {side} of template '{t.name}' {why}", _ACTIVE_HINT)
                         for why in notetype_safety.template_problems(text)]
    css = css_problem(nt.css, local_urls=True)
    if css is not None:
        problems.append(Problem(d.keys.get("css", d.location), f"the CSS of note type '{nt.name}' loads or runs "
                                f"something ({css[:60]})", _ACTIVE_HINT))
    for key in ("latex_pre", "latex_post"):
        tex = notetype_safety.latex_problem(getattr(nt, key))
        if tex is not None:
            problems.append(Problem(d.keys.get(key, d.location), f"the LaTeX {key.replace('latex_', '')} of note "
                                    f"type '{nt.name}' uses {tex!r}, which reads or writes files or runs programs "
                                    "when Anki renders LaTeX", _ACTIVE_HINT))
    return problems


def _name_problems(name: str, what: str, loc: Location, bad: str) -> list[Problem]:
    if not name.strip():
        return [Problem(loc, f"{what} is empty")]
    found = next((ch for ch in name if ch in bad or unicodedata.category(ch) in ("Cc", "Cs", "Cn")), None)
    if found is not None:
        return [Problem(loc, f"{what} {name!r} contains {found!r}, which Anki removes", "leave it out")]
    if unicodedata.normalize("NFC", name) != name:
        return [Problem(loc, f"{what} {name!r} is not in Unicode NFC, and Anki would store it changed",
                        "retype it, or save the file with composed characters (NFC)")]
    return []


def _field_name_problems(name: str, loc: Location) -> list[Problem]:
    problems = _name_problems(name, "field name", loc, _BAD_IN_FIELD)
    if not problems and (name[0] in "#/^" or name != name.strip()):
        problems.append(Problem(loc, f"field name {name!r} starts with '#', '/' or '^' or has surrounding spaces, "
                                "which Anki removes", "start it with a letter or digit"))
    return problems


def _unique(names: Iterable[tuple[str, Location]], what: str) -> list[Problem]:
    """Names Anki would tell apart from no other (it compares them without case)."""
    seen: dict[str, tuple[str, Location]] = {}
    problems = []
    for name, loc in names:
        first = seen.setdefault(name.casefold(), (name, loc))
        if first[1] is not loc:
            problems.append(Problem(loc, f"duplicate {what} name '{name}' (first '{first[0]}' at {first[1]})",
                                    f"Anki would rename this one '{name}+'; give each {what} its own name"))
    return problems


def _unique_ids(ids: Iterable[tuple[int | None, str, Location]], what: str) -> list[Problem]:
    seen: dict[int | None, str] = {}
    problems = []
    for value, name, loc in ids:
        first = seen.setdefault(value, name)
        if first != name:
            problems.append(Problem(loc, f"{what} '{name}' has the id {value} of {what} '{first}'",
                                    f"each {what} needs its own id: leave the id out to derive one from the name"))
    return problems


def _template_problems(d: DeclaredType) -> list[Problem]:
    nt = d.notetype
    problems: list[Problem] = []
    known = set(nt.fields) | templates.SPECIAL_FIELDS | {""}
    parsed: list[list[tuple | None]] = []
    for t, front_loc, back_loc in zip(nt.templates, d.fronts, d.backs):
        sides: list[tuple | None] = []
        for side, text, loc in (("front", t.qfmt, front_loc), ("back", t.afmt, back_loc)):
            try:
                nodes = templates.parse(text)
            except templates.TemplateError as exc:
                problems.append(Problem(loc, f"the {side} of template '{t.name}' cannot be read: {exc}",
                                        "every {{#Field}} or {{^Field}} needs its {{/Field}}"))
                sides.append(None)
                continue
            sides.append(nodes)
            problems += _filter_problems(nodes, nt.kind, f"the {side} of template '{t.name}'", loc)
            for name in sorted(templates.referenced_fields(nodes) - known):
                close = difflib.get_close_matches(name, nt.fields, n=1, cutoff=0.6)
                problems.append(Problem(
                    loc, f"the {side} of template '{t.name}' uses {{{{{name}}}}}, which is not a field of "
                    f"note type '{nt.name}'",
                    f"did you mean '{close[0]}'?" if close else f"its fields are: {', '.join(nt.fields)}"))
        if sides[0] is not None and not templates.referenced_fields(sides[0]):
            problems.append(Problem(front_loc, f"the front of template '{t.name}' uses no field, so Anki "
                                    "would never make its card", "put a field on it, e.g. {{" + nt.fields[0] + "}}"))
        parsed.append(sides)
    fronts: dict[str, str] = {}
    for t, loc in zip(nt.templates, d.fronts):
        first = fronts.setdefault(t.qfmt, t.name)
        if first != t.name and "{{Card}}" not in t.qfmt.replace(" ", ""):
            problems.append(Problem(loc, f"template '{t.name}' has the same front as '{first}'",
                                    "Anki refuses two templates with one front: make them differ"))
    if nt.is_cloze:
        problems += _cloze_problems(d, parsed)
    return problems


# The filters rslib applies itself (template_filters.rs); others come from add-ons.
_FILTERS = {"", "text", "furigana", "kanji", "kana", "type", "nc", "hint", "cloze", "cloze-only"}


def _filter_problems(nodes: tuple, kind: str, what: str, loc: Location) -> list[Problem]:
    problems = []
    for node in _replacements(nodes):
        for name in node.filters:
            if name == "cloze" and kind == "standard":
                problems.append(Problem(loc, f"{what} uses {{{{cloze:{node.key}}}}} on a standard note type, where "
                                        "it shows nothing (Anki makes no deletion cards for it)",
                                        "declare the type with kind: cloze"))
            elif name not in _FILTERS and not name.startswith("tts "):
                problems.append(Problem(loc, f"{what} uses the filter '{name}', which Anki does not have",
                                        "an add-on's filter shows an error wherever the add-on is not installed; "
                                        f"known filters: {', '.join(sorted(_FILTERS - {''}))}, tts", "warning"))
    return problems


def _replacements(nodes: tuple) -> list[templates.Replacement]:
    found = []
    for node in nodes:
        if isinstance(node, templates.Replacement):
            found.append(node)
        elif isinstance(node, templates.Section):
            found += _replacements(node.children)
    return found


def _cloze_problems(d: DeclaredType, parsed: list[list[tuple | None]]) -> list[Problem]:
    nt = d.notetype
    problems = []
    if len(nt.templates) != 1:
        problems.append(Problem(d.templates[1], f"a {nt.kind} note type has one template, not {len(nt.templates)}",
                                "Anki makes one card per deletion from the first template only"))
    for (side, loc), nodes in zip((("front", d.fronts[0]), ("back", d.backs[0])), parsed[0]):
        if nodes is not None and not templates.referenced_fields(nodes, cloze_only=True) & set(nt.fields):
            problems.append(Problem(loc, f"the {side} of a {nt.kind} note type's template has no {{{{cloze:Field}}}}",
                                    f"show the deletions with {{{{cloze:{nt.fields[0]}}}}}; Anki shows an "
                                    "error on every card of a cloze type without it"))
    if nt.kind == "occlusion":
        if len(nt.fields) < _OCCLUSION_FIELDS:
            problems.append(Problem(d.location, f"an occlusion note type needs at least {_OCCLUSION_FIELDS} fields "
                                    f"(occlusions, image, header, back extra), not {len(nt.fields)}",
                                    "Anki reads the fields of image occlusion notes by their position"))
        elif nt.fields[0] not in nt.cloze_fields:
            problems.append(Problem(d.fields[0], f"the first field of an occlusion note type, '{nt.fields[0]}', "
                                    "holds the occlusions: the template must show it with {{cloze:"
                                    + nt.fields[0] + "}}", "Anki reads the occlusions from the first field"))
    return problems


def _check_together(declared: list[DeclaredType], namespace: str) -> list[Problem]:
    """Names, keys and ids that two note types share, or that a built-in type has."""
    problems = []
    builtin = builtin_names(namespace)
    builtin_ids = set(builtin.values())
    names: dict[str, DeclaredType] = {}
    ids: dict[int, DeclaredType] = {}
    keys = {d.notetype.key.casefold(): d for d in declared}
    for d in declared:
        nt = d.notetype
        # Cards name types as written: `type: basic` is always the built-in one, `type: Basic` may be a deck's.
        if nt.key in CARD_TYPES or nt.name in CARD_TYPES or nt.name in builtin:
            what = f"file name '{nt.key}'" if nt.key in CARD_TYPES else f"name '{nt.name}'"
            problems.append(Problem(d.location if what.startswith("file") else d.name,
                                    f"note type {what} is the name of a built-in note type",
                                    "cards name a type by its name or file name: choose one the built-in "
                                    f"types ({', '.join(CARD_TYPES)}) do not use"))
        elif nt.name in STOCK_NAMES and d.id is None:
            # An adopted type (its id written out) keeps the name its students know it by.
            problems.append(Problem(d.name, f"note type name '{nt.name}' is the name of one of Anki's own note types",
                                    f"a student's Anki already has a '{nt.name}' and would show this one renamed: "
                                    "give it a name of its own"))
        first = names.setdefault(nt.name.casefold(), d)
        if first is not d:
            problems.append(Problem(d.name, f"two note types are named '{nt.name}' (also {_shown(first)})",
                                    "give each note type its own name: Anki would rename one of them"))
        other = keys.get(nt.name.casefold())
        if other is not None and other is not d:
            problems.append(Problem(d.name, f"note type name '{nt.name}' is the file name of {_shown(other)}",
                                    "a card's `type:` would name both: rename one of them"))
        first = ids.setdefault(nt.id, d)
        if first is not d or nt.id in builtin_ids:
            problems.append(Problem(d.id or d.name, f"note type '{nt.name}' has the id {nt.id} of "
                                    f"{_shown(first) if first is not d else 'a built-in note type'}",
                                    "each note type needs its own id: Anki would merge them"))
    return problems


def _shown(d: DeclaredType) -> str:
    return f"'{d.notetype.name}' in {d.location.path}"

