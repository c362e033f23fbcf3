"""PyYAML's syntax errors -> a Problem at the place the author must edit, with a hint for that case.

PyYAML (and libyaml) report where the parser gave up, which is often not where the mistake is: a
missing ':' is noticed on the next line, a key indented too far is read as the continuation of
the value above and reported as "mapping values are not allowed", an unclosed quote at the end
of the file. Each case is recognised from the error and the text around it.
"""
from __future__ import annotations

import re

import yaml

from neurodeck.model import Location, Problem

_KEY = re.compile(r"(\s*(?:-\s+)*)([^\s#'\"\[\]{}:,][^:#]*?):(?:\s|$)")  # a line's key, after any '- '
_ITEM_ONLY = re.compile(r"\s*-(?:\s|$)")
_FALLBACK = ("check this line and the one above it: keys need ': ' after them, keys of one card start "
             "in the same column, and quotes and brackets must be closed")
_BLOCK_END = ("did not find expected key", "did not find expected '-' indicator", "expected <block end>",
              "expected a block end")


def syntax_problem(exc: yaml.MarkedYAMLError, text: str, shown: str) -> Problem:
    """The Problem for a YAML syntax error in `text` (the file shown as `shown`)."""
    lines = text.splitlines()
    problem, context = exc.problem or exc.context or "invalid YAML", exc.context or ""
    mark = exc.problem_mark or exc.context_mark
    opened = exc.context_mark

    def line(index: int) -> str:
        return lines[index] if 0 <= index < len(lines) else ""

    def at(index: int, column: int) -> Location:
        return Location(shown, index + 1, column + 1)

    def error(where: Location, message: str, hint: str) -> Problem:
        return Problem(where, f"YAML syntax error: {message}", hint)

    if mark is None:
        return error(Location(shown), problem, _FALLBACK)
    row, column = mark.line, mark.column
    here = line(row)
    indent = here[: len(here) - len(here.lstrip(" \t"))]

    if "\t" in indent or "tab" in problem or "'\\t'" in problem:
        tab = here.find("\t")
        return error(at(row, tab if tab >= 0 else column), "a tab character in the indentation",
                     "indent with spaces, not tabs (YAML does not allow tabs there)")
    if "escape" in problem:
        if column > 0 and here[column: column + 1] != "\\" and here[column - 1: column] == "\\":
            column -= 1  # PyYAML marks the character after the backslash, libyaml the backslash
        escape = here[column: column + 2] or "\\"
        return error(at(row, column), f"unknown escape '{escape}' in double-quoted text",
                     "in double quotes a backslash starts an escape such as \\n; for MathJax like \\(E\\) "
                     "write the text in single quotes ('...', with '' for a quote) or as a block scalar "
                     "(a line with only |, then the text indented below it)")
    if "quoted scalar" in context and opened is not None:
        quote = line(opened.line)[opened.column: opened.column + 1] or '"'
        return error(at(opened.line, opened.column), f"the quote {quote} opened here is never closed",
                     f"end the text with {quote} on the same value; inside "
                     + ("'...' write a quote as ''" if quote == "'" else '"..." write a quote as \\"'))
    if ("flow sequence" in context or "flow mapping" in context) and opened is not None:
        bracket = line(opened.line)[opened.column: opened.column + 1] or "["
        close = "]" if bracket == "[" else "}"
        return error(at(opened.line, opened.column), f"the '{bracket}' opened here is never closed",
                     f"close it with '{close}' (items separated by ', '), or put text that starts with "
                     f"'{bracket}' in quotes")
    if "could not find expected ':'" in problem and opened is not None:
        return _missing_colon(at(opened.line, opened.column), line(opened.line))
    if "mapping values are not allowed" in problem:
        key = _KEY.match(here)
        if key is None or key.end(2) != column:
            return error(at(row, column), "': ' inside a value",
                         "put text containing ': ' in double quotes, or single quotes when it has a backslash")
        previous = row - 1
        while previous >= 0 and (not line(previous).strip() or line(previous).lstrip().startswith("#")):
            previous -= 1
        above = line(previous)
        if previous >= 0 and not _KEY.match(above) and not _ITEM_ONLY.match(above):
            start = len(above) - len(above.lstrip(" -"))
            return _missing_colon(at(previous, start), above)
        above_key = _KEY.match(above)
        expected = above_key.end(1) if above_key else 0
        return error(at(row, key.end(1)), f"'{key.group(2)}' is indented more than the key above it",
                     f"keys of one mapping start in the same column: move '{key.group(2)}' to column "
                     f"{expected + 1}, like '{above_key.group(2) if above_key else ''}' on line {previous + 1}")
    if any(part in problem for part in _BLOCK_END):
        first = len(here) - len(here.lstrip(" "))
        if column <= first and here.strip():
            word = here.strip().split(":")[0][:30]
            return error(at(row, first), f"'{word}' is not indented like the lines above it",
                         "keys of one card start in the same column (under 'id'), and every card "
                         "starts with '- ' in the same column")
        return error(at(row, column), f"unexpected text after a value ({problem})",
                     "a value that starts with a quote or bracket must end with it; put the whole "
                     "value in quotes instead")
    return error(at(row, column), problem, _FALLBACK)


def _missing_colon(where: Location, text: str) -> Problem:
    words = text.strip().lstrip("- ").split()
    key = words[0] if words else "key"
    return Problem(where, f"YAML syntax error: no ':' after '{key}'",
                   f"write the key, a colon and a space before the value, e.g. '{key}: ...'")
