"""Nothing in a deck's own note type may run or load anything: its templates, CSS and LaTeX
header and footer reach every student's Anki as written (issue 12, rule 4).

Fields are cleaned by the sanitizer (render/sanitize.py); a template is the HTML around them, so
it is read the same way, with one more rule: Anki pastes field text into the template before the
browser parses it, so a field (or a section marker, which removes text) may stand only where its
text stays text. Inside a tag, comment, script or style it could become an attribute, an event
handler or a stylesheet (`<img src="{{Picture}}">` with the field `http://host/pixel`).
Anki also acts on text after rendering: `[sound:]` plays a file, `[latex]` runs LaTeX on the
student's computer with the note type's header, which Anki itself never checks.
"""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from neurodeck.apkg import templates
from neurodeck.render.sanitize import REMOVED, attribute_verdict, css_problem

_MARK = "\ue000"  # stands for a {{...}} in a template while it is read as HTML
_MARKED = re.compile("x" + _MARK + r"(\d+)" + _MARK)
# Elements a template may not hold: they run code, load documents, or change how the text after
# them is parsed (so that a field there would not be text).
_REFUSED = frozenset({
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "portal", "base", "meta", "link", "form",
    "svg", "math", "template", "noscript", "noembed", "noframes", "xmp", "plaintext", "title", "textarea", "param",
})
# The one script a template may hold: Anki's own image occlusion set-up (rslib's notetype.rs writes
# it into every image occlusion type), with or without its error message.
_OCCLUSION_SETUP = re.compile(
    r"\s*try\s*\{\s*anki\.imageOcclusion\.setup\(\s*\)\s*;?\s*\}\s*catch\s*\(\s*(\w+)\s*\)\s*\{\s*"
    r"(?:document\.getElementById\(\s*([\"'])[\w-]+\2\s*\)\.innerHTML\s*=\s*"
    r"(?:`(?:[^`$\\<]|<br\s*/?>|\$\{\1\})*`|\"[^\"\\<]*\"|'[^'\\<]*'|\1)\s*;?\s*)?\}\s*")
# What Anki reads in a rendered card besides HTML (rslib's text.rs and latex.rs).
_ANKI_TAGS = re.compile(r"\[(?:sound:|anki:|latex\]|\$\$?\])", re.IGNORECASE)
# The sanitizer's verdicts on attributes that apply to templates too (not its allow-list of names).
_ACTIVE_FINDINGS = ("event handler", "script address", "remote address", "address ", "style of")
# Fields a class or id attribute may name: their values never hold a quote.
_QUOTE_FREE = frozenset({"Card", "CardFlag", "Type"})

# TeX that reads or writes files, runs programs, or builds the names of commands that do
# (\csname, ^^5c for a backslash, \catcode). Anki checks a [latex] field for a few of them; the
# header and footer it trusts.
_TEX_BAD = re.compile(
    r"\\(?:write18|immediate|write|input|include|openin|openout|read|readline|closein|closeout|newwrite|newread|"
    r"catcode|csname|scantokens|detokenize|string|meaning|lowercase|uppercase|expandafter|def|edef|gdef|xdef|let|"
    r"loop|shipout|directlua|latelua|luaexec|\w*file\w*|special(?!\{papersize=[\d.]+in,[\d.]+in\}))(?![a-zA-Z])"
    r"|\^\^|\\(?:usepackage|RequirePackage|documentclass|LoadClass)\s*(?:\[[^\]]*\])?\s*\{[^}]*[/.:~\\]")


def latex_problem(tex: str) -> str | None:
    """What in a LaTeX header or footer reads or writes files or runs programs; None when nothing."""
    found = _TEX_BAD.search(tex)
    return None if found is None else found.group()


def template_problems(template: str) -> list[str]:
    """Why a template side could run or load something, each as a phrase ("holds <script>")."""
    handles: list[str] = []
    parts: list[str] = []
    plain: list[str] = []  # the text with every {{...}} removed, as an empty field leaves it
    for kind, text in templates._tokens(template):
        if kind == "handle":
            parts.append(f"x{_MARK}{len(handles)}{_MARK}")
            handles.append(text.strip())
        else:
            parts.append(f"<!--{text}-->" if kind == "comment" else text)
            plain.append(parts[-1])
    scan = _TemplateScan("".join(parts), handles)
    problems = scan.problems
    if scan.unfinished:
        problems.append(f"ends inside a tag or comment ({scan.unfinished[:40]!r})")
    special = _ANKI_TAGS.search("".join(plain)) or _ANKI_TAGS.search("".join(parts))
    if special:
        problems.append(f"holds '{special.group()}', which Anki acts on (plays, reads aloud or runs LaTeX)")
    # Every field in a run of fields right after '[' can start the tag (the ones before it may be
    # empty), and {{FrontSide}} carries the front's field text.
    for run in re.finditer(r"\[((?:\s*x" + _MARK + r"\d+" + _MARK + r")+)", "".join(parts)):
        for index in _MARKED.findall(run.group(1)):
            handle = handles[int(index)]
            name = handle.split(":")[-1].strip()
            if name not in templates.SPECIAL_FIELDS or name == "FrontSide":  # [{{Tags}}] is fine
                problems.append(f"puts {{{{{handle}}}}} right after '[', where its text could make [sound:...] "
                                "or [latex]")
    return list(dict.fromkeys(problems))


class _TemplateScan(HTMLParser):
    def __init__(self, text: str, handles: list[str]):
        super().__init__(convert_charrefs=True)
        self.handles, self.problems = handles, []
        self.script: list[str] = []
        self.feed(text)
        self.unfinished = self.rawdata if "<" in self.rawdata else ""
        if self.cdata_elem is not None:
            self.problems.append(f"leaves <{self.cdata_elem}> open")
        self.close()

    def _field(self, text: str) -> str | None:
        found = _MARKED.search(text)
        return None if found is None else "{{" + self.handles[int(found.group(1))] + "}}"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        field = self._field(tag)
        if field is not None:
            self.problems.append(f"puts {field} in a tag name")
            return
        if tag in _REFUSED and tag != "script":
            self.problems.append(f"holds <{tag}>, which templates may not use")
        raw = self.get_starttag_text() or ""
        for name, value in attrs:
            value = value or ""
            field = self._field(name) or self._field(value)
            if field is not None:
                if not self._harmless(name, value, raw):
                    self.problems.append(f"puts {field} inside the tag <{tag}> (attribute {_MARKED.sub('', name)}), "
                                         "where a field's text could become markup")
                continue
            verdict = attribute_verdict(tag, name, value, keep_markup=True)
            if verdict is not None and verdict.kind == REMOVED and verdict.what.startswith(_ACTIVE_FINDINGS):
                self.problems.append(f"holds {verdict.what}")
            elif why := _address(name, value):
                self.problems.append(f"holds {why} in {name} of <{tag}>")

    handle_startendtag = handle_starttag

    def _harmless(self, name: str, value: str, raw: str) -> bool:
        """A quote-free special field ({{Card}}...) in a double-quoted class or id."""
        names = {self.handles[int(m.group(1))] for m in _MARKED.finditer(value)}
        quoted = re.search(re.escape(name) + r'\s*=\s*"[^"]*' + _MARK, raw, re.IGNORECASE)
        return name in ("class", "id") and names <= _QUOTE_FREE and quoted is not None

    def handle_endtag(self, tag: str) -> None:
        field = self._field(tag)
        if field is not None:
            self.problems.append(f"puts {field} in a tag name")
        if tag == "script":
            script = "".join(self.script)
            self.script = []
            if not _OCCLUSION_SETUP.fullmatch(script):
                self.problems.append(f"holds a <script> ({' '.join(script.split())[:60]!r}); only Anki's own "
                                     "image occlusion set-up is allowed")

    def handle_data(self, data: str) -> None:
        where = self.cdata_elem  # "script" or "style" inside those
        if where is None:
            return
        field = self._field(data)
        if field is not None:
            self.problems.append(f"puts {field} inside <{where}>, where its text would be code")
        if where == "script":
            self.script.append(data)
        elif where == "style" and (why := css_problem(data, local_urls=True)):
            self.problems.append(f"holds a <style> that loads or runs something ({why})")

    def _in_markup(self, data: str) -> None:
        field = self._field(data)
        if field is not None:
            self.problems.append(f"puts {field} inside a comment or declaration, where its text could end it")

    def handle_comment(self, data: str) -> None:
        self._in_markup(data)

    def handle_decl(self, decl: str) -> None:
        self._in_markup(decl)

    def handle_pi(self, data: str) -> None:
        self._in_markup(data)

    def unknown_decl(self, data: str) -> None:
        self._in_markup(data)


def _address(name: str, value: str) -> str | None:
    """A script or remote address in an attribute the sanitizer's verdict does not cover."""
    plain = re.sub(r"[\x00-\x20\x7f]+", "", html.unescape(value)).lower()
    if name.startswith("on"):
        return "an event handler"
    if re.search(r"(?:java|vb)script:|data:text|data:application", plain):
        return "a script address"
    if re.search(r"[a-z][a-z0-9+.-]*:[/\\]{2}|(?:^|[,'\"(=])[/\\]{2}", plain):
        return "a remote address"
    return None
