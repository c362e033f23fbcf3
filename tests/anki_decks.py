"""Decks made the way an educator makes them: in Anki itself (the official `anki` library), with
note types of their own, subdecks, media and Anki's own editor markup, then exported with
`export_anki_package` in the legacy (collection.anki21) or the current (collection.anki21b) format."""
from __future__ import annotations

from pathlib import Path

from conftest import PNG
from sounds import mp3

SVG = (b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
       b'<rect width="40" height="20" fill="#36c"/><text x="4" y="14">C1</text></svg>')
CSS = ('@font-face { font-family: Anatomy; src: url("_anatomy.woff2"); }\n'
       ".card { font-family: Anatomy, Georgia; font-size: 22px; text-align: left; color: #222; }\n"
       ".hint { color: gray; }\n")
FONT = b"wOF2\x00\x01\x00\x00" + bytes(40)  # a font file's signature is all Anki and neurodeck look at


def _standard(col, name: str, fields: list[str], templates: list[tuple[str, str, str]]):
    mm = col.models
    nt = mm.new(name)
    for field in fields:
        mm.add_field(nt, mm.new_field(field))
    for tname, front, back in templates:
        t = mm.new_template(tname)
        t["qfmt"], t["afmt"] = front, back
        mm.add_template(nt, t)
    nt["css"] = CSS
    mm.add(nt)
    return mm.by_name(name)


def make_package(folder: Path, legacy: bool, notes_per_deck: int = 2) -> Path:
    """An "Anatomy" deck with subdecks, a basic type, a three-template type, a cloze type and media
    (a PNG, an SVG, an MP3 and a font the CSS loads); returns the exported .apkg."""
    from anki.collection import Collection, DeckIdLimit, ExportAnkiPackageOptions

    folder.mkdir(parents=True, exist_ok=True)
    col = Collection(str(folder / "collection.anki2"))
    try:
        basic = _standard(col, "Anatomy Basic", ["Front", "Back", "Notes"], [
            ("Card 1", "{{Front}}", '{{FrontSide}}<hr id=answer>{{Back}}{{#Notes}}<div class="hint">{{Notes}}</div>'
                                    "{{/Notes}}")])
        three = _standard(col, "Term Triple", ["Term", "Definition", "Example"], [
            ("Term to definition", "{{Term}}", "{{FrontSide}}<hr id=answer>{{Definition}}"),
            ("Definition to term", "{{Definition}}", "{{FrontSide}}<hr id=answer>{{Term}}"),
            ("Example to term", "{{#Example}}{{Example}}{{/Example}}", "{{FrontSide}}<hr id=answer>{{Term}}")])
        cloze = col.models.by_name("Cloze")
        cloze["name"] = "Anatomy Cloze"
        col.models.update_dict(cloze)
        cloze = col.models.by_name("Anatomy Cloze")
        root = col.decks.id("Anatomy")
        decks = {path: col.decks.id(path) for path in ("Anatomy", "Anatomy::Bones", "Anatomy::Bones::Skull",
                                                       "Anatomy::Muscles")}
        col.media.write_data("femur scan.png", PNG)
        col.media.write_data("skull.svg", SVG)
        col.media.write_data("femur.mp3", mp3())
        col.media.write_data("_anatomy.woff2", FONT)
        for index, did in enumerate(decks.values()):
            for i in range(notes_per_deck):
                n = col.new_note(basic)
                n["Front"] = f'<div>Which bone is number {index}.{i}?</div><div><br></div>'
                n["Back"] = (f'<span style="color: rgb(0, 0, 255);">Femur {index}.{i}</span> '
                             f'<img src="femur scan.png"> [sound:femur.mp3]')
                n["Notes"] = "Longest bone &amp; strongest" if i == 0 else ""
                n.tags = ["anatomy::bones", f"chapter{index}"]
                col.add_note(n, did)
                t = col.new_note(three)
                t["Term"], t["Definition"] = f"Term {index}.{i}", f"Definition <b>{index}.{i}</b>"
                t["Example"] = f'Example <img src="skull.svg"> {index}.{i}' if i == 0 else ""
                col.add_note(t, did)
                c = col.new_note(cloze)
                c["Text"] = f"The {{{{c1::femur}}}} meets the {{{{c2::tibia}}}} at joint {index}.{i}"
                c["Back Extra"] = "<i>knee</i>"
                c.tags = ["joints"]
                col.add_note(c, did)
        out = folder / ("anatomy-legacy.apkg" if legacy else "anatomy.apkg")
        col.export_anki_package(out_path=str(out), limit=DeckIdLimit(root), options=ExportAnkiPackageOptions(
            with_scheduling=False, with_deck_configs=False, with_media=True, legacy=legacy))
        return out
    finally:
        col.close()
