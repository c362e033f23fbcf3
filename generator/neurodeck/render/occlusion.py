"""Shapes -> the fields of Anki's image-occlusion note type: the Occlusion field's cloze markup
and the Labels field that tells the answer side which label each card asks for.

The Occlusion field is what Anki's own editor writes (ts/routes/image-occlusion/shapes/to-cloze.ts):
one `{{cN::image-occlusion:KIND:name=value:...}}` per shape, where N is the card the shape belongs
to, so shapes that share N are hidden and revealed together, and `oi=1` on every shape hides the
other cards' shapes too (Anki's "hide all, guess one"; without it only the asked shape is hidden).
"""
from __future__ import annotations

from decimal import Decimal

from neurodeck.model import Shape


def ordinals(shapes: tuple[Shape, ...]) -> tuple[int, ...]:
    """Each shape's card number (its cloze number, from 1) in the order shapes and groups first
    appear: a shape without a group is a card of its own, shapes of one group are one card."""
    groups: dict[str, int] = {}
    out: list[int] = []
    count = 0
    for shape in shapes:
        if shape.group is None or shape.group.value not in groups:
            count += 1
            if shape.group is not None:
                groups[shape.group.value] = count
            out.append(count)
        else:
            out.append(groups[shape.group.value])
    return tuple(out)


def number(value: Decimal) -> str:
    """A coordinate as written to the field: plain decimal notation, no trailing zeros."""
    if value == 0:
        return "0"  # also for -0, which the range check lets through
    return format(value.normalize(), "f")


def properties(shape: Shape) -> list[tuple[str, str]]:
    """The shape's properties in Anki's names and order (a polygon's left and top are the top-left
    corner of its points, where Anki's reviewer places them)."""
    values = shape.values
    if shape.kind == "rect":
        names: tuple[str, ...] = ("left", "top", "width", "height")
        return [(name, number(value)) for name, value in zip(names, values)]
    if shape.kind == "ellipse":
        return [(name, number(value)) for name, value in zip(("left", "top", "rx", "ry"), values)]
    xs, ys = values[::2], values[1::2]
    points = " ".join(f"{number(x)},{number(y)}" for x, y in zip(xs, ys))
    return [("left", number(min(xs))), ("top", number(min(ys))), ("points", points)]


def occlusion_field(shapes: tuple[Shape, ...], hide_all: bool) -> str:
    """The Occlusion field: each shape as Anki's editor writes it."""
    out = []
    for shape, ordinal in zip(shapes, ordinals(shapes)):
        props = "".join(f":{name}={value}" for name, value in properties(shape))
        out.append(f"{{{{c{ordinal}::image-occlusion:{shape.kind}{props}{':oi=1' if hide_all else ''}}}}}<br>")
    return "".join(out)


def labels_field(shapes: tuple[Shape, ...], labels: list[str]) -> str:
    """The Labels field: each card's labels (rendered HTML, each once) as a cloze of its number,
    which the answer side shows with Anki's `cloze-only` filter (only the asked card's)."""
    seen: set[tuple[int, str]] = set()
    out = []
    for ordinal, label in zip(ordinals(shapes), labels):
        if (ordinal, label) not in seen:
            seen.add((ordinal, label))
            out.append(f"{{{{c{ordinal}::{label}}}}}")
    return "<br>".join(out)
