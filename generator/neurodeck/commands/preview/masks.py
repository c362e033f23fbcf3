"""Image occlusion in the preview: what Anki's reviewer script (ts/routes/image-occlusion/review.ts)
draws on its canvas, drawn once as an SVG over the image.

The rendered side holds one div per shape, as Anki renders them (render/cloze.py): `cloze` for the
asked shapes on the question, `cloze-highlight` for them on the answer, `cloze-inactive` for the
others, which are drawn only when `data-occludeInactive="1"` (hide all, guess one). Coordinates are
fractions of the image, so the SVG's box is the unit square stretched over the image.
"""
from __future__ import annotations

import html
import re
from decimal import Decimal

from neurodeck.render.occlusion import number

_SHAPE_DIV = re.compile(r'<div class="(cloze|cloze-inactive|cloze-highlight)" data-ordinal="[^"]*" ([^>]*)></div>')
_DATA = re.compile(r'data-([\w-]+)="([^"]*)"')
_SCRIPT = re.compile(r"<script>.*?</script>\n?", re.DOTALL)
# Anki's defaults (rslib/src/image_occlusion/notetype.css): fill, border.
_STYLES = {
    "cloze": ("nd-io-active", "#ff8e8e", "#212121"),
    "cloze-inactive": ("nd-io-inactive", "#ffeba2", "#212121"),
    "cloze-highlight": ("nd-io-highlight", "none", "#ff8e8e"),
}


def draw_masks(side: str) -> str:
    """A rendered occlusion side with its masks drawn over the image, the card's script (which
    needs Anki's reviewer) removed, and its ids made classes (the page shows many cards)."""
    shapes = []
    for match in _SHAPE_DIV.finditer(side):
        state, data = match.group(1), dict(_DATA.findall(match.group(2)))
        if state == "cloze-inactive" and data.get("occludeInactive") != "1":
            continue  # hide one, guess one: the other shapes stay visible
        svg = _shape(state, data)
        if svg:
            shapes.append(svg)
    masks = ('<svg class="nd-io-masks" viewBox="0 0 1 1" preserveAspectRatio="none" aria-hidden="true">'
             + "".join(shapes) + "</svg>")
    side = _SCRIPT.sub("", side)
    side = side.replace('<canvas id="image-occlusion-canvas"></canvas>', masks)
    side = side.replace('<div id="image-occlusion-container">', '<div class="nd-io-container">')
    side = side.replace('<div id="err"></div>\n', "")
    return side.replace('<div><button id="toggle">Toggle Masks</button></div>\n', "")


def _shape(state: str, data: dict[str, str]) -> str | None:
    css_class, fill, stroke = _STYLES[state]
    style = f'class="{css_class}" fill="{fill}" stroke="{stroke}" vector-effect="non-scaling-stroke"'
    try:  # decimals, so that the SVG says the card's numbers (0.55 + 0.1 is 0.65, not 0.6500000000000001)
        left, top = Decimal(data.get("left") or 0), Decimal(data.get("top") or 0)
        kind = data.get("shape")
        if kind == "rect":
            return (f'<rect x="{number(left)}" y="{number(top)}" width="{number(Decimal(data["width"]))}" '
                    f'height="{number(Decimal(data["height"]))}" {style}/>')
        if kind == "ellipse":
            rx, ry = Decimal(data["rx"]), Decimal(data["ry"])
            return (f'<ellipse cx="{number(left + rx)}" cy="{number(top + ry)}" rx="{number(rx)}" ry="{number(ry)}" '
                    f"{style}/>")
        if kind == "polygon":
            points = [tuple(Decimal(v) for v in p.split(",", 1)) for p in html.unescape(data["points"]).split()]
            # Anki moves the points so that their top-left corner is at (left, top).
            dx, dy = left - min(x for x, _ in points), top - min(y for _, y in points)
            drawn = " ".join(f"{number(x + dx)},{number(y + dy)}" for x, y in points)
            return f'<polygon points="{drawn}" {style}/>'
    except (KeyError, ValueError, ArithmeticError):  # decimal.InvalidOperation is an ArithmeticError
        return None  # Anki's script draws nothing sensible either
    return None
