"""A deck's image-occlusion note type: Anki's own (rslib/src/image_occlusion/notetype.rs), so
students get Anki's occlusion reviewer, under the deck's name and ids.

It is a cloze note type with `originalStockKind` 6 whose first five fields carry Anki's roles
(Occlusion, Image, Header, Back Extra, Comments); the engine finds them by role, so the fields
after them are ours: Labels (what each card asks for, shown on the answer through `cloze-only`),
Source and Id, as on the other note types. A new collection already holds a stock "Image
Occlusion" type; a package's type of that name would arrive renamed "Image Occlusion+", hence a
name of the deck's own. The id and field ids depend only on the namespace, so the name may follow
the deck's; the fields and the template are frozen like the other note types'.
"""
from __future__ import annotations

from neurodeck.apkg.notetypes import CSS, CustomNoteType, FieldSpec, Template, part_id, stable_id

# The first five are Anki's, in the order of their roles (CustomNoteType.to_anki tags them).
FIELDS = ("Occlusion", "Image", "Header", "Back Extra", "Comments", "Labels", "Source", "Id")
_SORT_FIELD = 2  # the header: the browser's Sort Field column shows what the card asks

# Anki's own front, as its editor makes it (shown when setup fails: a client before 23.10).
_FRONT = """\
{{#Header}}<div class="nd-io-header">{{Header}}</div>{{/Header}}
<div style="display: none">{{cloze:Occlusion}}</div>
<div id="err"></div>
<div id="image-occlusion-container">
    {{Image}}
    <canvas id="image-occlusion-canvas"></canvas>
</div>
<script>
try {
    anki.imageOcclusion.setup();
} catch (exc) {
    document.getElementById("err").innerHTML =
        `Error loading image occlusion: this card needs Anki 23.10 or later.<br><br>${exc}`;
}
</script>
"""
_BACK = _FRONT + """\
<div class="nd-io-answer">{{cloze-only:Labels}}</div>
<div><button id="toggle">Toggle Masks</button></div>
{{#Back Extra}}<div class="nd-extra">{{Back Extra}}</div>{{/Back Extra}}
{{#Source}}<div class="nd-source"><span class="nd-label">Source:</span> {{Source}}</div>{{/Source}}
<div class="nd-id">{{Id}}</div>
"""

# Anki's mask colours (rslib/src/image_occlusion/notetype.css), read by its reviewer.
OCCLUSION_CSS = CSS + """\
#image-occlusion-canvas {
  --inactive-shape-color: #ffeba2;
  --active-shape-color: #ff8e8e;
  --inactive-shape-border: 1px #212121;
  --active-shape-border: 1px #212121;
  --highlight-shape-color: #ff8e8e00;
  --highlight-shape-border: 1px #ff8e8e;
}
.nd-io-header { margin-bottom: 0.5em; }
.nd-io-answer { font-weight: 600; margin: 0.6em 0; }
"""


def occlusion_id(namespace: str) -> int:
    """The id of a namespace's image occlusion note type."""
    return stable_id(namespace, "notetype", "occlusion")


def occlusion_note_type(namespace: str, deck_name: str) -> CustomNoteType:
    """The image occlusion note type of one identity namespace, named after its deck. Cards of
    `type: occlusion` use it; it is written like a deck's own note types (kind occlusion)."""
    type_id = occlusion_id(namespace)
    return CustomNoteType(
        key="occlusion",
        kind="occlusion",
        id=type_id,
        name=f"{deck_name} Image Occlusion",
        field_specs=tuple(FieldSpec(name, part_id(type_id, "field", name)) for name in FIELDS),
        templates=(Template("Image Occlusion", _FRONT, _BACK, part_id(type_id, "template", "Image Occlusion")),),
        css=OCCLUSION_CSS,
        sort_field=_SORT_FIELD,
    )
