"""Shapes -> the fields of Anki's image-occlusion note type: the Occlusion field's cloze markup
and the Labels field that tells the answer side which label each card asks for.

The Occlusion field is what Anki's own editor writes (ts/routes/image-occlusion/shapes/to-cloze.ts):
one `{{cN::image-occlusion:KIND:name=value:...}}` per shape, where N is the card the shape belongs
to, so shapes that share N are hidden and revealed together, and `oi=1` on every shape hides the
other cards' shapes too (Anki's "hide all, guess one"; without it only the asked shape is hidden).
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from neurodeck.model import Card, Problem, Shape, Text
from neurodeck.render import cloze
from neurodeck.render.plaintext import shows_nothing


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


def label_problem(label_html: str) -> str | None:
    """Why a rendered label cannot be a deletion's text in the Labels field, if it cannot."""
    for marker in ("{{", "}}", "::"):
        if marker in label_html:
            return f"'{marker}' in a label would end or split its deletion in Anki's Labels field"
    return None


def note_fields(card: Card, render: Callable[[Text | None], str], image: str,
                retired_notice: str | None) -> tuple[tuple[str, ...], list[Problem]]:
    """The image-occlusion note's first six fields (Occlusion, Image, Header, Back Extra, Comments,
    Labels) from a card whose image is stored as `image`; `render` turns Markdown into field HTML.
    A retired card keeps its masks and shows `retired_notice` as its back extra."""
    problems: list[Problem] = []
    labels = []
    for shape in card.shapes:
        label = render(shape.label) if shape.label.value else ""
        wrong = label_problem(label)
        if wrong is None and shape.label.value and shows_nothing(label):
            wrong = "this label shows nothing in Anki (only markup, comments or spaces)"
        if wrong:
            problems.append(Problem(shape.label.location, wrong, "write the name as plain text"))
        labels.append(label)
    header = render(card.header)
    back_extra = retired_notice if retired_notice is not None else render(card.back_extra)
    for value, written in ((header, card.header), (back_extra, card.back_extra)):
        for marker in cloze.markers(value):
            problems.append(Problem(written.location if written else card.location,
                                    f"deletion '{marker}' in an occlusion card",
                                    "Anki makes a card for every deletion in any field: the shapes are "
                                    "the cards of an occlusion note"))
    occlusions = occlusion_field(card.shapes, hide_all=card.mode == "hide-all")
    fields = (occlusions, f'<img src="{image}">' if image else "", header, back_extra, "",
              labels_field(card.shapes, labels))
    return fields, problems
