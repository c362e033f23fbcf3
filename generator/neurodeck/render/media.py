"""Images and sounds referenced by cards: resolved inside the project, checked by content,
named by hash.

A content-hashed name means a changed file gets a new name, so Anki never keeps a stale copy
under the old one, and an unchanged file is never re-sent.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from neurodeck.model import Location, Problem
from neurodeck.render.audio import EXTENSIONS as SOUND_EXTENSIONS
from neurodeck.render.audio import sniff_audio
from neurodeck.render.medianames import anki_media_name

if TYPE_CHECKING:
    from collections.abc import Iterable

    from neurodeck.render.markdown import MediaResolver

MEDIA_FOLDER = "media"  # an HTML card file's media: <project>/media/<the name the field uses>
# Fonts a note type's CSS loads from Anki's media folder (an "_" file: Anki's importer keeps those).
_FONT_NAME = re.compile(r"(?<![\w.-])(_[\w.-]+\.(?:woff2?|ttf|otf))", re.IGNORECASE)
_FONT_SIGNATURES = (b"wOFF", b"wOF2", b"\x00\x01\x00\x00", b"OTTO", b"true")

MAX_MEDIA_BYTES = 50 * 1024 * 1024

# What Anki's web view displays, recognised by the file's first bytes. SVG is refused: it can
# carry scripts and remote references.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"\xff\xd8\xff", ".jpg"),
    (b"GIF87a", ".gif"),
    (b"GIF89a", ".gif"),
)


def sniff(data: bytes) -> str | None:
    """The extension matching the image's content, or None if it is not an accepted image."""
    for magic, ext in _SIGNATURES:
        if data.startswith(magic):
            return ext
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return None


# What each kind of reference accepts, and how its errors name it.
_KINDS = {
    "image": (sniff, "is not a PNG, JPEG, GIF or WebP image",
              "the file's content is checked, not only its extension; SVG is not accepted"),
    "sound": (sniff_audio, "is not an MP3, AAC, Ogg (Vorbis or Opus), WAV, M4A or WebM sound file",
              "the file's content is checked, not only its extension; a truncated file or one "
              "renamed from another format is refused"),
}


def kind_of(name: str) -> str:
    """Whether a packaged media name is a sound or an image (names end in the sniffed extension)."""
    return "sound" if name.endswith(SOUND_EXTENSIONS) else "image"


@dataclass
class MediaStore:
    """Collects the images and sounds of one deck: package name -> bytes."""

    root: Path
    files: dict[str, bytes] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)
    _by_path: dict[Path, str] = field(default_factory=dict)
    _kinds: dict[str, str] = field(default_factory=dict)  # media folder file -> what its reference uses it as
    _folded: dict[str, str] = field(default_factory=dict)  # a media folder name without case -> the name

    def resolver(self, card_file: Path) -> MediaResolver:
        """A resolver for references written in `card_file` (see render.MediaResolver)."""
        base = card_file.parent

        def resolve(reference: str, location: Location, kind: str = "image") -> str | Problem:
            return self.add(base / reference, reference, location, kind)

        return resolve

    def add(self, path: Path, reference: str, location: Location, kind: str = "image") -> str | Problem:
        """The package name of the image or sound at `path` (`reference` as the author wrote it)."""
        try:
            real = path.resolve()
            if not real.is_relative_to(self.root.resolve()):
                return Problem(location, f"{kind} '{reference}' is outside the project",
                               f"keep {kind}s inside the project folder (links out are not followed)")
            if real in self._by_path and kind_of(self._by_path[real]) == kind:
                return self._by_path[real]
            if not real.is_file():
                return Problem(location, f"{kind} '{reference}' not found",
                               f"paths are relative to the card file; looked for {path}")
            if real.stat().st_size > MAX_MEDIA_BYTES:
                return Problem(location, f"{kind} '{reference}' is larger than {MAX_MEDIA_BYTES} bytes")
            data = real.read_bytes()
        except (OSError, ValueError, RuntimeError) as exc:  # ValueError: a NUL; RuntimeError: a link loop
            return Problem(location, f"cannot read {kind} {reference[:80]!r}: {getattr(exc, 'strerror', None) or exc}")
        sniffer, wrong, hint = _KINDS[kind]
        ext = sniffer(data)
        if ext is None:
            if kind == "image" and sniff_audio(data):
                hint = f"it is a sound file: play it with [sound:{reference}]"
            elif kind == "sound" and sniff(data):
                hint = f"it is an image: show it with ![description]({reference})"
            return Problem(location, f"'{reference}' {wrong}", hint)
        stem = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or kind
        name = f"{stem}-{hashlib.sha256(data).hexdigest()[:16]}{ext}"
        self.files[name] = data
        self.sources[name] = real
        self._by_path[real] = name
        return name

    def adopt(self, name: str, source: str) -> bool:
        """Take a file a cached note refers to, if it still has the content its name says (or,
        for a file of the media folder, is still acceptable under its own name)."""
        path = Path(source)
        if path.parent == self.root / MEDIA_FOLDER and path.name == name:
            return self.add_original(name, Location(source), self._kinds.get(name, "image")) == name
        result = self.add(path, source, Location(source), kind_of(name))
        return result == name

    def add_fonts(self, texts: Iterable[str]) -> None:
        """The fonts of the media folder that note type templates and CSS name (Anki's `_` files,
        `url(_font.woff2)`), checked by content and packaged under their names; others are left."""
        folder = self.root / MEDIA_FOLDER
        for text in texts:
            if "_" not in text:
                continue
            for name in _FONT_NAME.findall(text):
                path = folder / name
                if name in self.files or not path.is_file():
                    continue
                try:
                    data = path.read_bytes() if path.stat().st_size <= MAX_MEDIA_BYTES else b""
                except OSError:
                    continue
                if data.startswith(_FONT_SIGNATURES):
                    self.files[name], self.sources[name] = data, path

    def original_resolver(self) -> MediaResolver:
        """A resolver for the file names HTML fields use: files of the media folder, packaged under
        the same name, since the field refers to them by it and is packaged byte for byte."""
        def resolve(reference: str, location: Location, kind: str = "image") -> str | Problem:
            return self.add_original(reference, location, kind)

        return resolve

    def add_original(self, name: str, location: Location, kind: str = "image") -> str | Problem:
        """The media file `name` (an image an <img> shows, or a sound Anki plays) of the media
        folder, checked by content and kept under its name."""
        if name in self.files:
            return name
        folder = self.root / MEDIA_FOLDER
        path = folder / name
        try:
            if "/" in name or "\\" in name or name in (".", "..") or not name or \
                    path.resolve().parent != folder.resolve():
                return Problem(location, f"{kind} '{name}' is not a file name of the {MEDIA_FOLDER}/ folder",
                               f"HTML fields refer to media by file name only; put the file in {MEDIA_FOLDER}/")
            if not path.is_file():
                return Problem(location, f"{kind} '{name}' is not in {MEDIA_FOLDER}/",
                               f"Anki would show it as missing: add the file to {MEDIA_FOLDER}/ under this name",
                               severity="warning")
            if path.stat().st_size > MAX_MEDIA_BYTES:
                return Problem(location, f"{kind} '{name}' is larger than {MAX_MEDIA_BYTES} bytes")
            data = path.read_bytes()
        except (OSError, ValueError, RuntimeError) as exc:
            return Problem(location, f"cannot read {kind} {name[:80]!r}: {getattr(exc, 'strerror', None) or exc}")
        wrong = media_problem(data, kind)
        if wrong is not None:
            return Problem(location, f"{MEDIA_FOLDER}/{name}: {wrong}", "replace the file, or remove the reference")
        stored = anki_media_name(name)
        if stored != name:
            return Problem(location, f"{kind} '{name}': Anki would store this file as {stored!r} and rewrite the "
                           "field, so the note would change for every student who imports it",
                           f"rename the file in {MEDIA_FOLDER}/ and the references to it, e.g. to {stored!r}")
        same = self._folded.setdefault(unicodedata.normalize("NFC", name).casefold(), name)
        if same != name:
            return Problem(location, f"{kind} '{name}' and '{same}' differ only in case: on macOS and Windows "
                           "(and in students' Anki there) they are one file",
                           "give the two files names that differ in more than case")
        self.files[name] = data
        self.sources[name] = path
        self._kinds[name] = kind
        return name


def media_problem(data: bytes, kind: str) -> str | None:
    """Why a media folder file cannot be shipped as what its reference uses it for ("image" or
    "sound"), or None."""
    from neurodeck.render.svg import looks_like_svg, svg_problem

    if kind == "sound":
        return None if sniff_audio(data) else f"not a sound Anki plays ({_KINDS['sound'][1][7:]})"
    if sniff(data) is not None:
        return None
    if looks_like_svg(data):
        why = svg_problem(data)
        return None if why is None else f"this SVG image cannot be shipped: {why}"
    return "not a PNG, JPEG, GIF, WebP or SVG image (the content is checked, not the name)"
