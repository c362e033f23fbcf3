"""Hostile card content ends up inert, proven by rendering the cards with the `anki` library."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import import_package, write
from neurodeck.pipeline.build import build, compile_deck

MANIFEST = Path("decks/test-deck.yaml")

HOSTILE = {
    "script": "<script>alert(1)</script>Plain",
    "handler": '<img src="media/insula.png" onerror="alert(1)"><b onmouseover="alert(1)">Plain</b>',
    "js-url": '[Plain](javascript:alert(1)) <a href="JaVaScRiPt:alert(1)">x</a>',
    "iframe": '<iframe src="https://evil.example/"></iframe>Plain',
    "object": '<object data="https://evil.example/x.swf"></object><embed src="x.swf">Plain',
    "style-tag": "<style>.card{background:url(https://t.example/p.gif)}</style>Plain",
    "style-attr": '<span style="background:url(https://t.example/p.gif)">Plain</span>',
    "svg": '<svg><script>alert(1)</script><image href="https://t.example/p.gif"/></svg>Plain',
    "form": '<form action="https://evil.example"><input name="x"></form>Plain',
    "meta": '<meta http-equiv="refresh" content="0;url=https://evil.example">Plain',
    "link": '<link rel="stylesheet" href="https://t.example/x.css">Plain',
    "base": '<base href="https://evil.example/">Plain',
    "template": "Plain {{Front}} {{Answer}} {{c1::not a cloze}} {{#Extra}}x{{/Extra}}",
}

FORBIDDEN = re.compile(r"<script|<iframe|<object|<embed|<style|<svg|<form|<input|<meta|<link|<base|"
                       r"\son\w+=|javascript:|url\(|evil\.example|t\.example", re.IGNORECASE)


def hostile_cards() -> str:
    lines = ["subtopic: Hostile", "cards:"]
    for name, payload in HOSTILE.items():
        escaped = payload.replace("\\", "\\\\").replace('"', '\\"')
        lines += [f"  - id: hostile-{name}", f'    question: "Q {escaped}"', f'    answer: "A {escaped}"',
                  f'    extra: "E {escaped}"', f'    source: "S {escaped}"']
    return "\n".join(lines) + "\n"


def card_body(html: str) -> str:
    """What the card's fields put on screen: Anki prefixes the note type's own CSS."""
    return html.split("</style>", 1)[1]


def test_hostile_fields_are_inert_in_anki(project, collection, tmp_path):
    write(project / "cards" / "hostile.yaml", hostile_cards())
    result = build(MANIFEST, tmp_path / "out", now=1_700_000_000)
    assert result.ok, [p.format() for p in result.problems]
    import_package(collection, result.output)
    for name in HOSTILE:
        [nid] = collection.find_notes(f'"Id:hostile-{name}"')
        card = collection.get_note(nid).cards()[0]
        for side in (card.question(), card.answer()):
            body = card_body(side)
            assert "Plain" in body, (name, body)
            assert not FORBIDDEN.search(body), (name, body)
    [nid] = collection.find_notes('"Id:hostile-template"')
    question = card_body(collection.get_note(nid).cards()[0].question())
    assert "{{Front}} {{Answer}} {{c1::not a cloze}} {{#Extra}}x{{/Extra}}" in question


@pytest.mark.parametrize("reference, message", [
    ("https://t.example/pixel.gif", "is not a file in the project"),
    ("//t.example/pixel.gif", "is not a file in the project"),
    ("/etc/passwd", "is not a file in the project"),
    ("../../../../../../etc/passwd", "is outside the project"),
    ("media/link.png", "is outside the project"),
    ("media/fake.png", "is not a PNG, JPEG, GIF or WebP image"),
    ("media/drawing.svg", "is not a PNG, JPEG, GIF or WebP image"),
])
def test_media_that_escapes_or_is_not_an_image_is_refused(project, tmp_path, reference, message):
    outside = tmp_path / "outside.png"
    outside.write_bytes((project / "cards" / "media" / "insula.png").read_bytes())
    (project / "cards" / "media" / "link.png").symlink_to(outside)
    (project / "cards" / "media" / "fake.png").write_bytes(b"GIF-not-really" + b"\x00" * 10)
    (project / "cards" / "media" / "drawing.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>')
    write(project / "cards" / "c.yaml", f'subtopic: C\ncards:\n  - id: c\n    question: "![x]({reference})"\n'
                                        "    answer: A\n")
    problems = compile_deck(MANIFEST).problems
    assert [p.location.line for p in problems if message in p.message] == [4], [p.format() for p in problems]
    assert build(MANIFEST, tmp_path / "out").output is None


def test_import_leaves_other_notes_and_stock_note_types_untouched(project, collection, tmp_path):
    basic = collection.models.by_name("Basic")
    cloze = collection.models.by_name("Cloze")
    note = collection.new_note(basic)
    note["Front"], note["Back"] = "My own front", "My own back"
    collection.add_note(note, collection.decks.id("Mine"))
    cnote = collection.new_note(cloze)
    cnote["Text"] = "My {{c1::own}} cloze"
    collection.add_note(cnote, collection.decks.id("Mine"))
    before_models = {m["id"]: (m["name"], m["mod"], m["css"], [f["name"] for f in m["flds"]])
                     for m in collection.models.all()}
    before_notes = {nid: (collection.get_note(nid).fields, collection.get_note(nid).mod)
                    for nid in collection.find_notes("")}

    log = import_package(collection, build(MANIFEST, tmp_path / "out", now=1_700_000_000).output)
    assert len(log.new) == 5 and not log.updated and not log.conflicting
    after_models = {m["id"]: (m["name"], m["mod"], m["css"], [f["name"] for f in m["flds"]])
                    for m in collection.models.all()}
    assert {k: after_models[k] for k in before_models} == before_models
    assert len(after_models) == len(before_models) + 4
    for nid, state in before_notes.items():
        assert (collection.get_note(nid).fields, collection.get_note(nid).mod) == state
