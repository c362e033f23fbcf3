"""SVG images a deck may carry: parsed as XML (expat, no DTD, so no entity is ever expanded) and
accepted only without scripts, event handlers, foreign objects or references outside the file.

Anki shows an `<img>` SVG in its web view; a browser runs no script in an SVG loaded as an image,
but Anki's media folder is also opened directly by students and by add-ons, so a deck ships only
SVG that is inert wherever it is opened.
"""
from __future__ import annotations

import re
import xml.parsers.expat

_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_NS = "http://www.w3.org/1999/xlink"
_FORBIDDEN = {"script", "foreignObject", "iframe", "object", "embed", "handler", "listener"}
_CSS_REFERENCE = re.compile(r"url\s*\(\s*(?![\s'\"]*#)|@import|expression\s*\(|javascript:", re.IGNORECASE)
_SEP = "\x1f"  # expat joins a namespace and a local name with this


class _Refused(Exception):
    pass


def svg_problem(data: bytes) -> str | None:
    """Why this SVG cannot be shipped, or None if it is an inert SVG image."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator=_SEP)
    depth = [0]

    def refuse(why: str) -> None:
        raise _Refused(why)

    def doctype(name: str, *rest: object) -> None:
        refuse("it declares a DOCTYPE (entities could expand or load other files)")

    def entity(*args: object) -> None:
        refuse("it declares an entity")

    def start(tag: str, attrs: dict[str, str]) -> None:
        namespace, _, local = tag.rpartition(_SEP)
        if depth[0] == 0 and (namespace != _SVG_NS or local != "svg"):
            refuse("its root element is not <svg> in the SVG namespace")
        depth[0] += 1
        if local in _FORBIDDEN:
            refuse(f"it contains <{local}>")
        if namespace not in (_SVG_NS, ""):
            refuse(f"it contains an element of another namespace ({namespace})")
        for name, value in attrs.items():
            attr_ns, _, attr = name.rpartition(_SEP)
            if attr.lower().startswith("on"):
                refuse(f"<{local}> has an event handler ({attr})")
            if attr == "href" and attr_ns in ("", _XLINK_NS) and not value.strip().startswith("#"):
                refuse(f"<{local}> refers to something outside the file ({value[:60]})")
            if attr in ("style", "src", "filter", "fill", "stroke", "mask", "clip-path", "marker-start",
                        "marker-mid", "marker-end", "cursor") and _CSS_REFERENCE.search(value):
                refuse(f"<{local}> refers to something outside the file in {attr} ({value[:60]})")

    def text(data: str) -> None:
        if _CSS_REFERENCE.search(data):  # a <style> element's CSS
            refuse("its CSS refers to something outside the file")

    def processing(target: str, data: str) -> None:
        refuse(f"it has a processing instruction <?{target}?> (a stylesheet?)")

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.ExternalEntityRefHandler = lambda *args: refuse("it refers to an external entity")  # type: ignore[assignment]
    parser.StartElementHandler = start
    parser.CharacterDataHandler = text
    parser.ProcessingInstructionHandler = processing
    try:
        parser.Parse(data, True)
    except _Refused as exc:
        return str(exc)
    except xml.parsers.expat.ExpatError as exc:
        return f"it is not well-formed XML ({xml.parsers.expat.errors.messages.get(exc.code, exc)})"
    except (RecursionError, ValueError) as exc:
        return f"it cannot be read as XML ({exc})"
    if depth[0] == 0:
        return "it holds no <svg> element"
    return None


def looks_like_svg(data: bytes) -> bool:
    """Whether the bytes start like an SVG document (after an XML declaration or comments)."""
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype svg"))
