"""Property: any note type declaration (names, fields, templates, kind) and card using it either
gives located errors, or builds a package the official engine imports exactly as declared: no
renamed note type, field or template, no card added or missing, nothing Check Database repairs,
every card rendering a question and an answer (`neurodeck verify`)."""
from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import import_package, write
from neurodeck.commands.verify import verify
from neurodeck.pipeline.build import build, compile_deck

# Names Anki keeps, and names it would change (':', braces, quotes, leading '#', spaces around,
# decomposed Unicode, control characters), and names that differ only in case.
NAMES = st.one_of(
    st.sampled_from(["Front", "Back", "front", "Notes", "Extra", "Zoë", "Tags", "Field: x", "{x}", "#Hash",
                     "/Slash", " Lead", "Trail ", 'Q"uote', "e\u0301", "Tab\there", "日本語", "Front2"]),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=6),
)
VALUES = st.sampled_from(["plain text", "{{c1::hidden}} shown", "{{c2::two}} and {{c1::one}}", "", "**bold**",
                          "<div></div>", "x {{c1::}}"])


SAFE = ["Front", "Back", "Notes", "Extra", "Zoë", "日本語", "Image 1"]


@st.composite
def declarations(draw):
    """Half of them sane (distinct names Anki keeps, known fields), so that both outcomes occur often."""
    sane = draw(st.booleans())
    kind = draw(st.sampled_from(["standard", "cloze"]))
    if sane:
        fields = draw(st.lists(st.sampled_from(SAFE), min_size=1, max_size=4, unique=True))
        referable = fields + ["Tags"]
    else:
        fields = draw(st.lists(NAMES, min_size=1, max_size=4))
        referable = fields + ["Missing", "FrontSide", "Tags", "Card"]

    def side() -> str:
        pieces = []
        for _ in range(draw(st.integers(1, 4))):
            name = draw(st.sampled_from(referable))
            pieces.append(draw(st.sampled_from([
                "text ", f"{{{{{name}}}}}", f"{{{{#{name}}}}}{{{{{fields[0]}}}}}{{{{/{name}}}}}",
                f"{{{{^{name}}}}}x{{{{/{name}}}}}", f"{{{{cloze:{name}}}}}", f"{{{{text:{name}}}}}", "<!-- c -->",
                f"{{{{#{name}}}}}", f"{{{{hint:{name}}}}}"])))
        return "".join(pieces)

    def sane_side(cloze: str | None) -> str:
        pieces = [f"{{{{cloze:{cloze}}}}}"] if cloze else []
        for _ in range(draw(st.integers(0 if cloze else 1, 3))):
            name, other = draw(st.sampled_from(fields)), draw(st.sampled_from(referable))
            pieces.append(draw(st.sampled_from([
                f"<b>{{{{{name}}}}}</b>", f"{{{{#{other}}}}}{{{{{name}}}}}{{{{/{other}}}}}",
                f"{{{{^{other}}}}}({{{{{name}}}}}){{{{/{other}}}}}", f"{{{{text:{name}}}}}", "<!-- c -->"])))
        return " ".join(pieces)

    count = 1 if sane and kind == "cloze" else draw(st.integers(1, 3))
    if sane:
        cloze = fields[0] if kind == "cloze" else None
        templates = [{"name": f"Card {i + 1}", "front": sane_side(cloze),
                      "back": "{{FrontSide}}<hr id=answer>" + sane_side(cloze)} for i in range(count)]
    else:
        templates = [{"name": draw(st.sampled_from(["Card 1", "Card 2", "card 1", "Reverse", 'A"B'])),
                      "front": side(), "back": "{{FrontSide}}<hr id=answer>" + side()} for _ in range(count)]
    names = ["Anatomy", "Ünïcode type"] if sane else ["Anatomy", "Cloze", "Other: x", "Ünïcode type", "basic"]
    declaration = {"name": draw(st.sampled_from(names)), "kind": kind, "fields": fields, "templates": templates}
    if draw(st.booleans()):
        declaration["sort_field"] = draw(st.sampled_from(fields + ["Nope"]))
    values = {name: draw(VALUES) for name in fields if draw(st.booleans()) or name == fields[0]}
    if sane and kind == "cloze":
        values = {name: value for name, value in values.items() if "{{c" not in value or name == fields[0]}
        values[fields[0]] = draw(st.sampled_from(["{{c1::hidden}} shown", "{{c2::two}} and {{c1::one}}"]))
    return declaration, values


def _yaml(value: object) -> str:
    """JSON, which is YAML, with characters beyond the BMP as YAML's \\U escapes (JSON writes
    them as surrogate pairs, which YAML refuses)."""
    return re.sub(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})",
                  lambda m: "\\U%08x" % (0x10000 + ((int(m[1], 16) - 0xD800) << 10) + int(m[2], 16) - 0xDC00),
                  json.dumps(value))


@pytest.mark.fuzz  # each example is checked with the engine here (verify), not by the every-package fixture
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(({"name": "Anatomy", "kind": "standard", "fields": ["Front", "Back"], "templates": [
    {"name": "Card 1", "front": "{{Front}}", "back": "{{FrontSide}}<hr id=answer>{{Back}}"},
    {"name": "Card 2", "front": "{{#Back}}{{Back}}{{/Back}}", "back": "{{FrontSide}}<hr id=answer>{{Front}}"}]},
    {"Front": "a", "Back": "b"}))  # always reaches the engine, whatever is generated
@example(({"name": "Anatomy", "kind": "cloze", "fields": ["Front"], "templates": [
    {"name": "Card 1", "front": "{{Front}}", "back": "{{Front}}"}]}, {"Front": "a"}))  # always an error
@given(declarations())
def test_a_declaration_gives_located_errors_or_a_package_anki_imports_as_declared(example):
    declaration, values = example
    folder = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write(root / "decks" / "d.yaml", "name: Props\nnamespace: props\ncards: [cards/*.yaml]\n")
        # JSON is YAML: every generated name reaches the loader exactly, escapes and all.
        write(root / "notetypes" / "generated.yaml", _yaml(declaration))
        write(root / "cards" / "a.yaml", _yaml({"subtopic": "S", "cards": [
            {"id": "card", "type": "generated", "fields": values}]}))
        os.chdir(root)
        try:
            compiled = compile_deck(Path("decks/d.yaml"))
            errors = [p for p in compiled.problems if p.severity == "error"]
            if errors:
                for p in errors:  # every error names the file, line and column it is about
                    assert p.location.path.endswith(".yaml") and p.location.line >= 1, p.format()
                return
            result = build(Path("decks/d.yaml"), root / "dist", now=1_700_000_000)
            assert result.ok, [p.format() for p in result.problems]
            assert [p.format() for p in verify([result.output])] == []
            _assert_stored_as_declared(root, result.output, declaration)
        finally:
            os.chdir(folder)


def _assert_stored_as_declared(root: Path, package: Path, declaration: dict) -> None:
    from anki.collection import Collection

    col = Collection(str(root / "student.anki2"))
    try:
        import_package(col, package)
        [model] = [m for m in col.models.all() if m["name"] == declaration["name"]]
        assert [f["name"] for f in model["flds"]] == declaration["fields"]
        assert [t["name"] for t in model["tmpls"]] == [t["name"] for t in declaration["templates"]]
        assert model["type"] == (1 if declaration["kind"] == "cloze" else 0)
    finally:
        col.close()
