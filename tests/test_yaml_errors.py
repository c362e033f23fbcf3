"""YAML syntax errors are reported where the author must edit, with a hint written for the case,
whichever YAML parser (libyaml or PyYAML's own) reads the file."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurodeck.source.yamlerrors import syntax_problem
from neurodeck.source.yamlnodes import parse

ROOT = Path(__file__).resolve().parents[1]
LOADERS = [yaml.SafeLoader] + ([yaml.CSafeLoader] if hasattr(yaml, "CSafeLoader") else [])

CARD = "subtopic: X\ncards:\n  - id: a\n    question: {q}\n    answer: A\n"

# (file text, line, column, words of the message, words of the hint)
CASES = {
    "indented too far": ("subtopic: X\ncards:\n  - id: a\n    question: Q\n     answer: A\n",
                         5, 6, "'answer' is indented more", "move 'answer' to column 5"),
    "indented too little": ("subtopic: X\ncards:\n  - id: a\n    question: Q\n   answer: A\n",
                            5, 4, "'answer' is not indented like", "same column"),
    "missing colon": ("subtopic: X\ncards:\n  - id: a\n    question Q\n    answer: A\n",
                      4, 5, "no ':' after 'question'", "'question: ...'"),
    "missing colon on the last key": ("subtopic: X\ncards:\n  - id: a\n    question: Q\n    answer A\n",
                                      5, 5, "no ':' after 'answer'", "'answer: ...'"),
    "missing colon at the top": ("subtopic X\ncards:\n  - id: a\n", 1, 1, "no ':' after 'subtopic'",
                                 "'subtopic: ...'"),
    "tab": ("subtopic: X\ncards:\n  - id: a\n\tquestion: Q\n", 4, 1, "tab character", "spaces, not tabs"),
    "unclosed double quote": (CARD.format(q='"Q'), 4, 15, 'quote " opened here is never closed', 'end the text with "'),
    "unclosed single quote": (CARD.format(q="'Q"), 4, 15, "quote ' opened here is never closed", "end the text with '"),
    "unclosed bracket": ("subtopic: X\ntags: [a, b\ncards:\n  - id: a\n", 2, 7, "'[' opened here is never closed",
                         "close it with ']'"),
    "unclosed brace": ("subtopic: X\ncards:\n  - {id: a, question: Q\n", 3, 5, "'{' opened here is never closed",
                       "close it with '}'"),
    "MathJax in double quotes": (CARD.format(q='"What is \\(E\\)?"'), 4, 24, "unknown escape '\\('",
                                 "single quotes"),
    "': ' in a value": (CARD.format(q="Ratio: 2"), 4, 20, "': ' inside a value", "in double quotes"),
}


@pytest.mark.parametrize("loader", LOADERS, ids=lambda loader: loader.__name__)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_each_syntax_error_is_placed_and_explained(case, loader):
    text, line, column, message, hint = CASES[case]
    with pytest.raises(yaml.MarkedYAMLError) as raised:
        yaml.compose(text, Loader=loader)
    problem = syntax_problem(raised.value, text, "cards/a.yaml")
    assert (problem.location.line, problem.location.column) == (line, column), problem.format()
    assert message in problem.message and problem.message.startswith("YAML syntax error: ")
    assert problem.hint and hint in problem.hint, problem.format()


def test_parse_reports_the_same_problem():
    text, line, column, message, hint = CASES["missing colon"]
    value, problems = parse(text, "cards/a.yaml")
    assert value is None and [p.format() for p in problems] == [
        f"cards/a.yaml:{line}:{column}: error: YAML syntax error: no ':' after 'question'\n"
        "  hint: write the key, a colon and a space before the value, e.g. 'question: ...'"]


def test_the_old_misleading_hints_are_gone():
    # Bad indentation used to get the hint about ': ' in values; a missing colon had no hint.
    _, problems = parse(CASES["indented too far"][0], "a.yaml")
    assert "': '" not in (problems[0].hint or "")
    _, problems = parse(CASES["missing colon"][0], "a.yaml")
    assert problems[0].location.line == 4 and problems[0].hint


VALID = [p.read_text("utf-8") for p in sorted((ROOT / "cards").glob("*.yaml"))] + [
    CARD.format(q="'Single \\(E\\) quoted'"),
    "subtopic: X\ntags: [a, b]\ncards:\n  - {id: a, question: Q, answer: A}\n",
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(VALID))
    lines = text.splitlines(keepends=True)
    row = draw(st.integers(0, len(lines) - 1))
    line = lines[row]
    kind = draw(st.sampled_from(["delete colon", "insert tab", "quote", "bracket", "indent", "dedent",
                                 "backslash"]))
    at = draw(st.integers(0, max(len(line) - 1, 0)))
    if kind == "delete colon" and ":" in line:
        colons = [i for i, c in enumerate(line) if c == ":"]
        at = draw(st.sampled_from(colons))
        line = line[:at] + line[at + 1:]
    elif kind == "insert tab":
        line = line[:at] + "\t" + line[at:]
    elif kind == "quote":
        line = line[:at] + draw(st.sampled_from(['"', "'"])) + line[at:]
    elif kind == "bracket":
        line = line[:at] + draw(st.sampled_from(list("[]{}"))) + line[at:]
    elif kind == "indent":
        line = " " * draw(st.integers(1, 3)) + line
    elif kind == "dedent":
        line = line[min(draw(st.integers(1, 3)), len(line) - len(line.lstrip(" "))):]
    elif kind == "backslash":
        line = line[:at] + "\\" + draw(st.sampled_from(list("(q[ )x"))) + line[at:]
    lines[row] = line
    return "".join(lines)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
          database=None)
@given(mutated())
def test_a_mutated_card_file_is_valid_or_a_located_problem_with_a_hint(text):
    value, problems = parse(text, "cards/a.yaml")
    if value is not None:
        return  # still valid YAML (the card reader judges its content)
    assert len(problems) == 1
    problem = problems[0]
    assert problem.location.line >= 1 and problem.location.column >= 1, problem.format()
    assert problem.location.line <= text.count("\n") + 1
    assert problem.hint, problem.format()
