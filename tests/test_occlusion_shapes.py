"""Image occlusion shapes: read with their locations, checked (inside the image, covering something,
each once), and written as the Occlusion field that Anki's own engine parses back unchanged from
a built package."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import PNG, import_package
from neurodeck.checks.occlusion import check_shapes
from neurodeck.model import Problem
from neurodeck.pipeline.build import build
from neurodeck.render.occlusion import labels_field, occlusion_field, ordinals, properties
from neurodeck.source.reader import Reader
from neurodeck.source.shapes import read_shapes
from neurodeck.source.yamlnodes import YMap, parse

PATH = "cards/brain.yaml"


def shapes_of(text: str):
    value, problems = parse(text, PATH)
    assert isinstance(value, YMap), problems
    shapes = read_shapes(Reader(problems), value)
    return shapes, problems + check_shapes(shapes)


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [p.format() for p in problems]
    return problems[0]


GOOD = """\
shapes:
  - rect: {left: 0.1, top: 0.2, width: 0.3, height: 0.10}
    label: Insula
  - ellipse: {left: .5, top: 0.5, rx: 0.2, ry: 0.1}
    label: Putamen
    group: basal ganglia
  - polygon: [[0.1, 0.1], [0.4, 0.1], [0.25, 0.3]]
    label: Caudate nucleus
    group: basal ganglia
  - rect: {left: 0, top: 0, width: 1, height: 1}
    label: Whole slice
"""


def test_shapes_are_read_in_anki_s_terms_and_groups_share_a_card_number():
    shapes, problems = shapes_of(GOOD)
    assert problems == []
    assert [s.kind for s in shapes] == ["rect", "ellipse", "polygon", "rect"]
    assert ordinals(shapes) == (1, 2, 2, 3)
    assert properties(shapes[0]) == [("left", "0.1"), ("top", "0.2"), ("width", "0.3"), ("height", "0.1")]
    # A polygon sits where Anki's reviewer puts it: left and top are its points' top-left corner.
    assert properties(shapes[2]) == [("left", "0.1"), ("top", "0.1"), ("points", "0.1,0.1 0.4,0.1 0.25,0.3")]
    assert properties(shapes[3])[:2] == [("left", "0"), ("top", "0")]
    field = occlusion_field(shapes, hide_all=True)
    assert field.startswith("{{c1::image-occlusion:rect:left=0.1:top=0.2:width=0.3:height=0.1:oi=1}}<br>")
    assert field.count(":oi=1}}") == 4
    assert ":oi=" not in occlusion_field(shapes, hide_all=False)
    assert labels_field(shapes, [s.label.value for s in shapes]) == (
        "{{c1::Insula}}<br>{{c2::Putamen}}<br>{{c2::Caudate nucleus}}<br>{{c3::Whole slice}}")


@pytest.mark.parametrize("shape, at, message", [
    # `at`: the text the error points at (the first character of the value to fix)
    ("rect: {left: 0.8, top: 0.2, width: 0.3, height: 0.1}", "0.3", "reaches past the image's right edge (left + width = 1.1)"),
    ("rect: {left: 0.1, top: 0.95, width: 0.3, height: 0.1}", "0.1}", "bottom edge (top + height = 1.05)"),
    ("ellipse: {left: 0.5, top: 0.1, rx: 0.3, ry: 0.1}", "0.3", "left + 2 × rx = 1.1"),
    ("rect: {left: -0.1, top: 0.2, width: 0.3, height: 0.1}", "-0.1", "left = -0.1 is outside the image"),
    ("polygon: [[0.1, 0.1], [1.5, 0.1], [0.2, 0.3]]", "1.5", "x = 1.5 is outside the image"),
    ("rect: {left: 0.1, top: 0.2, width: 0, height: 0.1}", "0,", "the rectangle's width is 0: it covers nothing"),
    ("ellipse: {left: 0.1, top: 0.2, rx: 0.1, ry: -0.1}", "-0.1", "the ellipse's ry is -0.1"),
    ("polygon: [[0.1, 0.1], [0.2, 0.2]]", "polygon", "at least 3 points, not 2"),
    ("polygon: [[0.1, 0.1], [0.2, 0.2], [0.3, 0.3], [0.1, 0.1]]", "polygon", "lie on one line"),
    ("rect: {left: 0.1, top: 0.2, width: 0.3, height: 0.1, depth: 2}", "depth", "unknown key 'depth' in a rect"),
    ("rect: {left: 0.1, top: 0.2, width: 0.3}", "{", "the rect has no 'height'"),
    ("rect: {left: 0.1, top: a third, width: 0.3, height: 0.1}", "a third", "'top' must be a number from 0 to 1, not 'a third'"),
    ("rect: {left: 0.1234567, top: 0.2, width: 0.3, height: 0.1}", "0.1234567", "more than 6 decimals"),
    ("circle: {left: 0.1, top: 0.2, r: 0.3}", "circle", "unknown key 'circle' in a shape"),
    ("polygon: [[0.1, 0.1, 0.3], [0.2, 0.2], [0.1, 0.3]]", "[0.1, 0.1, 0.3]", "a list of two numbers"),
])
def test_a_bad_shape_is_a_located_error_with_a_hint(shape, at, message):
    line = f"  - {shape}"
    problems = shapes_of(f"shapes:\n{line}\n    label: Insula\n")[1]
    problem = next((p for p in problems if message in p.message), None)
    assert problem is not None, [p.format() for p in problems]
    column = line.index(at) + 1
    assert (problem.location.path, problem.location.line, problem.location.column) == (PATH, 2, column)
    assert problem.hint and problem.severity == "error"


def test_an_empty_label_and_a_duplicate_shape_are_located_errors():
    text = ("shapes:\n"
            "  - rect: {left: 0.1, top: 0.2, width: 0.3, height: 0.1}\n    label: Insula\n"
            "  - rect: {left: 0.10, top: 0.2, width: 0.3, height: 0.1000}\n    label: ''\n"
            "  - polygon: [[0.1, 0.1], [0.4, 0.1], [0.25, 0.3]]\n    label: A\n"
            "  - polygon: [[0.4, 0.1], [0.1, 0.1], [0.25, 0.3]]\n    label: B\n"
            "  - polygon: [[0.4, 0.1], [0.1, 0.1], [0.25, 0.4]]\n    label: C\n")
    problems = shapes_of(text)[1]
    empty = next(p for p in problems if "'label' is empty" in p.message)
    assert empty.location.line == 5 and empty.hint
    duplicates = [p for p in problems if "same geometry" in p.message]
    # the same numbers written differently, and the same triangle started elsewhere and run backwards
    assert [p.location.line for p in duplicates] == [4, 8]
    assert "line 2 ('Insula')" in duplicates[0].message and "group" in duplicates[0].hint


def test_shapes_must_be_a_non_empty_list_of_mappings():
    assert "needs 'shapes'" in only(shapes_of("image: x.png\n")[1]).message
    assert "non-empty list" in only(shapes_of("shapes: []\n")[1]).message
    assert "must be a mapping" in only(shapes_of("shapes: [a]\n")[1]).message
    assert "needs its geometry" in only(shapes_of("shapes:\n  - label: x\n")[1]).message
    two = only(shapes_of("shapes:\n  - rect: {left: 0, top: 0, width: 1, height: 1}\n"
                         "    polygon: [[0, 0], [1, 0], [0, 1]]\n    label: x\n")[1])
    assert "exactly one of" in two.message and two.location.line == 3


# ---- the rule against Anki's own engine -------------------------------------------------------

_numbers = st.one_of(
    st.integers(1, 45).map(lambda n: Decimal(n) / 100),  # mostly shapes that fit
    st.integers(1, 45).map(lambda n: Decimal(n) / 100),
    st.integers(1, 45).map(lambda n: Decimal(n) / 100),
    st.integers(-2, 12).map(lambda n: Decimal(n) / 10),  # edges, and a little past them
    st.integers(-100, 1100).map(lambda n: Decimal(n) / 1000),
)
_rect = st.tuples(st.just("rect"), st.lists(_numbers, min_size=4, max_size=4))
_ellipse = st.tuples(st.just("ellipse"), st.lists(_numbers, min_size=4, max_size=4))
_polygon = st.tuples(st.just("polygon"), st.lists(_numbers, min_size=2, max_size=12).map(
    lambda xs: xs[: len(xs) // 2 * 2]))
_any_shape = st.tuples(st.one_of(_rect, _ellipse, _polygon), st.sampled_from(["Insula", "Putamen", "Insula", ""]),
                       st.sampled_from([None, "a", "b"]))
# Shapes that fit: positions up to 0.45, sizes up to 0.25 (an ellipse's box is twice its radii).
_position, _size = st.integers(0, 45).map(lambda n: Decimal(n) / 100), st.integers(1, 25).map(lambda n: Decimal(n) / 100)
_fitting = st.tuples(st.one_of(
    st.tuples(st.sampled_from(["rect", "ellipse"]), st.tuples(_position, _position, _size, _size).map(list)),
    st.tuples(st.just("polygon"), st.lists(st.integers(0, 100).map(lambda n: Decimal(n) / 100), min_size=6,
                                           max_size=10).map(lambda xs: xs[: len(xs) // 2 * 2]))),
    st.sampled_from(["Insula", "Putamen", "*Caudate* nucleus"]), st.sampled_from([None, "a", "b"]))
# Half the lists are mostly shapes that fit, so that many examples build.
_shape_lists = st.one_of(st.lists(_any_shape, min_size=1, max_size=6),
                         st.lists(st.one_of(_fitting, _fitting, _fitting, _any_shape), min_size=1, max_size=6))


def _yaml(shapes) -> str:
    lines = ["shapes:"]
    for (kind, values), label, group in shapes:
        written = [f"{v}" for v in values]
        if kind == "polygon":
            geometry = "[" + ", ".join(f"[{x}, {y}]" for x, y in zip(written[::2], written[1::2])) + "]"
        else:
            names = ("left", "top", "width", "height") if kind == "rect" else ("left", "top", "rx", "ry")
            geometry = "{" + ", ".join(f"{n}: {v}" for n, v in zip(names, written)) + "}"
        lines += [f"  - {kind}: {geometry}", f"    label: '{label}'"] + ([f"    group: {group}"] if group else [])
    return "\n".join(lines) + "\n"


def _expected_valid(shapes) -> bool:
    """The rule, independently: exact fractions, every shape inside, non-empty, labelled, once."""
    seen = set()
    for (kind, values), label, _ in shapes:
        v = [Fraction(x) for x in values]
        if not label or any(x < 0 or x > 1 for x in v):
            return False
        if kind == "polygon":
            points = list(zip(v[::2], v[1::2]))
            if len(points) < 3 or all((b[0] - points[0][0]) * (c[1] - points[0][1]) ==
                                      (b[1] - points[0][1]) * (c[0] - points[0][0])
                                      for b in points for c in points):
                return False
            cycles = [points[i:] + points[:i] for i in range(len(points))]
            cycles += [c[::-1] for c in cycles]  # the same cycle from any start, either way round
            if any(("polygon", *c) in seen for c in cycles):
                return False
            key = ("polygon", *points)
        else:
            times = 2 if kind == "ellipse" else 1
            if v[2] <= 0 or v[3] <= 0 or v[0] + times * v[2] > 1 or v[1] + times * v[3] > 1:
                return False
            key = (kind, *v)
        if key in seen:
            return False
        seen.add(key)
    return True


@pytest.mark.fuzz  # each package is checked here (the autouse fixture would import it again)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_shape_lists)
def test_generated_shapes_are_located_errors_or_build_packages_anki_parses_back_identical(project, tmp_path_factory,
                                                                                       shapes):
    from anki.collection import Collection

    head = ("subtopic: Atlas\ncards:\n  - id: atlas\n    type: occlusion\n    image: media/insula.png\n"
            "    source: Kandel et al. 2021\n")
    body = "".join("    " + line + "\n" for line in _yaml(shapes).splitlines())
    card_file = project / "cards" / "atlas.yaml"
    card_file.write_text(head + body)
    result = build(Path("decks/test-deck.yaml"), project / "dist")
    errors = [p for p in result.problems if p.severity == "error"]
    assert (not errors) == _expected_valid(shapes), (head + body, [p.format() for p in errors])
    event("errors" if errors else "valid")
    for problem in errors:
        assert problem.location.path == "cards/atlas.yaml" and problem.location.line >= 8, problem.format()
        assert problem.location.column >= 1 and problem.hint, problem.format()
    if errors:
        assert result.output is None
        return
    # Imported by the engine, the note reads back with the same shapes, properties and card numbers.
    read = shapes_of(_yaml(shapes))[0]
    col = Collection(str(tmp_path_factory.mktemp("student") / "collection.anki2"))
    try:
        log = import_package(col, result.output)
        assert not log.conflicting
        [note_id] = col.find_notes('"Id:atlas"')
        parsed = col.get_image_occlusion_note(note_id=note_id).note
        assert parsed.occlude_inactive and parsed.image_data == PNG
        got = sorted((o.ordinal, s.shape, [(p.name, p.value) for p in s.properties])
                     for o in parsed.occlusions for s in o.shapes)
        want = sorted((n, s.kind, properties(s) + [("oi", "1")]) for n, s in zip(ordinals(read), read))
        assert got == want
        note = col.get_note(note_id)
        assert sorted(c.ord + 1 for c in note.cards()) == sorted(set(ordinals(read)))
        for card in note.cards():
            card.question(), card.answer()  # renders
        assert col.fix_integrity() == ("Database rebuilt and optimized.", True)
        check = col.media.check()
        assert list(check.missing) == [] and list(check.unused) == []
    finally:
        col.close()


_point = st.tuples(st.sampled_from([Decimal("0"), Decimal("0.5"), Decimal("0.50"), Decimal("1")]),
                   st.sampled_from([Decimal("0.1"), Decimal("0.2"), Decimal("0.20")]))


@settings(max_examples=600, deadline=None, derandomize=True, database=None)
@given(st.lists(_point, min_size=1, max_size=9))
def test_a_polygons_geometry_key_is_its_least_turn_either_way_round(points):
    """geometry_key finds the least rotation in linear time (a 20,000-point polygon took a quarter
    of a minute when every rotation was compared); it is still the least of all of them, forwards
    and backwards. Few distinct values, so that points repeat and rotations tie."""
    from neurodeck.checks.occlusion import geometry_key
    from neurodeck.model import Location, Shape, Text

    values = tuple(v for point in points for v in point)
    where = Location(PATH, 1, 1)
    shape = Shape("polygon", values, (where,) * len(values), Text("x", where), None, where)
    normal = [(x.normalize(), y.normalize()) for x, y in points]
    turns = [normal[i:] + normal[:i] for i in range(len(normal))]
    turns += [normal[::-1][i:] + normal[::-1][:i] for i in range(len(normal))]
    assert geometry_key(shape) == ("polygon", *min(turns))
