"""Rules over an occlusion card's shapes: inside the image, covering something, each one once.

Anki's reviewer draws whatever the Occlusion field says: a mask past the edge is drawn off the
image, a zero-sized one is invisible (the card asks about nothing), and two masks with the same
geometry make two cards that ask the same thing.
"""
from __future__ import annotations

from decimal import Decimal

from neurodeck.model import Problem, Shape

_NAMES = {"rect": "rectangle", "ellipse": "ellipse", "polygon": "polygon"}
_UNIT = "coordinates are fractions of the image: 0 is its left or top edge, 1 its right or bottom edge"


def check_shapes(shapes: tuple[Shape, ...]) -> list[Problem]:
    """Problems of an occlusion card's shapes, each located where it was written."""
    problems: list[Problem] = []
    seen: dict[tuple, Shape] = {}
    for shape in shapes:
        found = _outside(shape) + _degenerate(shape)
        problems += found
        key = geometry_key(shape)
        first = seen.setdefault(key, shape)
        if first is not shape:
            problems.append(Problem(shape.location, f"this {_NAMES[shape.kind]} has the same geometry as the "
                                    f"shape at line {first.location.line} ('{first.label.value}')",
                                    "each shape makes its own card; to hide and reveal several shapes "
                                    "together give them the same 'group', and remove the copy"))
    return problems


def geometry_key(shape: Shape) -> tuple:
    """Equal for two shapes exactly when they cover the same region the same way: a polygon's
    points are a cycle, whichever point it starts from and whichever way round it goes."""
    if shape.kind != "polygon":
        return (shape.kind, *(value.normalize() for value in shape.values))
    points = [(x.normalize(), y.normalize()) for x, y in zip(shape.values[::2], shape.values[1::2])]
    return ("polygon", *min(_least_rotation(points), _least_rotation(points[::-1])))


def _least_rotation(cycle: list[tuple[Decimal, Decimal]]) -> list[tuple[Decimal, Decimal]]:
    """The rotation of `cycle` that sorts first, in linear time (Booth's algorithm): comparing
    every rotation took a quarter of a minute, and gigabytes, for a polygon of 20,000 points."""
    n = len(cycle)
    doubled = cycle + cycle
    failure = [-1] * (2 * n)
    start = 0
    for j in range(1, 2 * n):
        i = failure[j - start - 1]
        while i != -1 and doubled[j] != doubled[start + i + 1]:
            if doubled[j] < doubled[start + i + 1]:
                start = j - i - 1
            i = failure[i]
        if i == -1 and doubled[j] != doubled[start]:
            if doubled[j] < doubled[start]:
                start = j
            failure[j - start] = -1
        else:
            failure[j - start] = i + 1
    return doubled[start:start + n]


def _outside(shape: Shape) -> list[Problem]:
    values, where = shape.values, shape.locations
    out = [Problem(loc, f"{name} = {value} is outside the image", _UNIT)
           for name, value, loc in zip(_value_names(shape), values, where) if not 0 <= value <= 1
           and (shape.kind == "polygon" or name in ("left", "top"))]
    if shape.kind == "polygon" or out:
        return out
    left, top, width, height = values
    times = 2 if shape.kind == "ellipse" else 1  # an ellipse's box is twice its radii
    names = ("rx", "ry") if shape.kind == "ellipse" else ("width", "height")
    sides = ((left, width, names[0], "left", "right", where[2]), (top, height, names[1], "top", "bottom", where[3]))
    for start, size, name, start_name, edge, loc in sides:
        end = start + times * size
        if size > 0 and end > 1:
            sum_text = f"{start_name} + {'2 × ' if times == 2 else ''}{name} = {end}"
            out.append(Problem(loc, f"the {_NAMES[shape.kind]} reaches past the image's {edge} edge ({sum_text})",
                               _UNIT))
    return out


def _degenerate(shape: Shape) -> list[Problem]:
    name = _NAMES[shape.kind]
    if shape.kind != "polygon":
        return [Problem(loc, f"the {name}'s {key} is {value}: it covers nothing",
                        f"a {name}'s {key} must be greater than 0")
                for key, value, loc in list(zip(_value_names(shape), shape.values, shape.locations))[2:] if value <= 0]
    count = len(shape.values) // 2
    if count < 3:
        return [Problem(shape.location, f"a polygon needs at least 3 points, not {count}",
                        "for a box, use rect: {left, top, width, height}")]
    if _on_one_line(shape.values):
        return [Problem(shape.location, "the polygon's points lie on one line: it covers nothing",
                        "check the points; each is [x, y]")]
    return []


def _on_one_line(values: tuple[Decimal, ...]) -> bool:
    """Whether every point lies on one line (exact in decimals; a float could call a thin sliver
    empty). Not the signed area: a figure-of-eight has none and still covers two regions."""
    points = list(zip(values[::2], values[1::2]))
    x0, y0 = points[0]
    other = next(((x, y) for x, y in points if (x, y) != (x0, y0)), None)
    if other is None:
        return True
    dx, dy = other[0] - x0, other[1] - y0
    return all(dx * (y - y0) - dy * (x - x0) == 0 for x, y in points)


def _value_names(shape: Shape) -> tuple[str, ...]:
    if shape.kind == "rect":
        return ("left", "top", "width", "height")
    if shape.kind == "ellipse":
        return ("left", "top", "rx", "ry")
    return tuple(axis for _ in range(len(shape.values) // 2) for axis in ("x", "y"))
