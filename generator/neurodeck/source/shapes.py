"""An occlusion card's `shapes:` list, read into located Shape values.

Coordinates stay exact decimals as written (never floats): two shapes are duplicates only when
they say the same numbers, and the Occlusion field carries the author's numbers, not a binary
approximation. Rules about what the geometry means live in checks/occlusion.py.
"""
from __future__ import annotations

import re
from decimal import Decimal

from neurodeck.model import SHAPE_KINDS, Location, Shape, Text
from neurodeck.source.reader import Reader
from neurodeck.source.yamlnodes import YMap, YScalar, YSeq, YValue, describe

SHAPE_KEYS = (*SHAPE_KINDS, "label", "group")
# Anki's own property names (rslib/src/image_occlusion/imageocclusion.rs).
BOX_KEYS = {"rect": ("left", "top", "width", "height"), "ellipse": ("left", "top", "rx", "ry")}
MAX_DECIMALS = 6  # a millionth of the image: finer than any pixel Anki can draw
MAX_SHAPES = 500  # Anki puts every cloze number above 500 on one card
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_EXAMPLE = "e.g. - rect: {left: 0.1, top: 0.2, width: 0.3, height: 0.1}\n      label: Insula"


def read_shapes(r: Reader, card: YMap) -> tuple[Shape, ...]:
    """The card's shapes (problems go to `r`); a shape whose geometry cannot be read is left out."""
    entry = card.items.get("shapes")
    if entry is None:
        r.error(card.location, "an occlusion card needs 'shapes'", _EXAMPLE)
        return ()
    key_loc, value = entry
    if not isinstance(value, YSeq) or not value.items:
        r.error(value.location if value else key_loc, "'shapes' must be a non-empty list of shapes", _EXAMPLE)
        return ()
    if len(value.items) > MAX_SHAPES:
        r.error(key_loc, f"{len(value.items)} shapes; the limit is {MAX_SHAPES}",
                "Anki puts every card past the 500th on one card: split the image into several cards")
    shapes = [_read_shape(r, item) for item in value.items[:MAX_SHAPES]]
    return tuple(shape for shape in shapes if shape is not None)


def _read_shape(r: Reader, item: YValue) -> Shape | None:
    if not isinstance(item, YMap):
        r.error(item.location, f"a shape must be a mapping, not {describe(item)}", _EXAMPLE)
        return None
    r.check_keys(item, SHAPE_KEYS, "a shape")
    kinds = [key for key in SHAPE_KINDS if key in item.items]
    if len(kinds) != 1:
        where = item.items[kinds[1]][0] if kinds else item.location
        r.error(where, "a shape is exactly one of rect, ellipse or polygon" if kinds else
                "a shape needs its geometry: rect, ellipse or polygon", "write one shape per list entry")
    label = _label(r, item)
    group = r.text(item, "group") if "group" in item.items else None
    if "group" in item.items and group is None and isinstance(item.items["group"][1], YScalar):
        r.error(item.items["group"][0], "'group' is empty", "name the group, or remove 'group'")
    geometry = _geometry(r, kinds[0], item.items[kinds[0]][1]) if len(kinds) == 1 else None
    if geometry is None:
        return None
    values, locations = geometry
    # Kept with a missing label (already reported), so that its geometry is checked too.
    return Shape(kinds[0], values, locations, label or Text("", item.location), group, item.location)


def _label(r: Reader, item: YMap) -> Text | None:
    hint = "write what the student must name, e.g. label: Insula"
    if "label" not in item.items:
        r.error(item.location, "the shape has no 'label'", hint)
        return None
    before = len(r.problems)
    label = r.text(item, "label")
    if label is None and len(r.problems) == before:
        r.error(item.items["label"][1].location, "the shape's 'label' is empty", hint)
    return label


def _geometry(r: Reader, kind: str, value: YValue) -> tuple[tuple[Decimal, ...], tuple[Location, ...]] | None:
    numbers: list[tuple[Decimal, Location] | None] = []
    if kind == "polygon":
        if not isinstance(value, YSeq):
            r.error(value.location, f"'polygon' must be a list of [x, y] points, not {describe(value)}",
                    "e.g. polygon: [[0.1, 0.1], [0.4, 0.1], [0.25, 0.3]]")
            return None
        for point in value.items:
            if not isinstance(point, YSeq) or len(point.items) != 2:
                r.error(point.location, "a polygon point is a list of two numbers, [x, y]",
                        "e.g. [0.25, 0.3]: x from the image's left edge, y from its top edge")
                numbers.append(None)
                continue
            numbers += [_number(r, coordinate, name) for coordinate, name in zip(point.items, "xy")]
    else:
        keys = BOX_KEYS[kind]
        if not isinstance(value, YMap):
            r.error(value.location, f"'{kind}' must be a mapping of {', '.join(keys)}, not {describe(value)}",
                    f"e.g. {kind}: {{{', '.join(f'{k}: 0.1' for k in keys)}}}")
            return None
        r.check_keys(value, keys, f"a {kind}")
        for key in keys:
            if key not in value.items:
                r.error(value.location, f"the {kind} has no '{key}'", f"a {kind} has {', '.join(keys)}")
                numbers.append(None)
            else:
                numbers.append(_number(r, value.items[key][1], key))
    if any(n is None for n in numbers):
        return None
    return tuple(n[0] for n in numbers if n), tuple(n[1] for n in numbers if n)


def _number(r: Reader, value: YValue, name: str) -> tuple[Decimal, Location] | None:
    text = value.text if isinstance(value, YScalar) else None
    if text is None or not _NUMBER.fullmatch(text.strip()):
        shown = describe(value) if text is None else f"'{text}'"
        r.error(value.location, f"'{name}' must be a number from 0 to 1, not {shown}",
                "coordinates are fractions of the image's width (x, left, width, rx) or height "
                "(y, top, height, ry), e.g. 0.25")
        return None
    number = Decimal(text.strip())
    if -number.as_tuple().exponent > MAX_DECIMALS:  # type: ignore[operator]  # finite: the pattern says so
        r.error(value.location, f"'{name}' has more than {MAX_DECIMALS} decimals",
                f"round it; {MAX_DECIMALS} decimals are finer than any pixel")
        return None
    return number, value.location
