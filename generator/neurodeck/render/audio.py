"""Sound files recognised by their first bytes: MP3 (with or without an ID3 tag), AAC (ADTS),
Ogg Vorbis and Ogg Opus, WAV, M4A and WebM: what Anki plays from a `[sound:...]` tag.

Written by hand rather than with a file-type library: `filetype` takes any "OggS" file for
audio, knows M4A only by the "M4A " brand (iTunes' .m4a files are often "isom" or "mp42") and
MP3 by three of its frame headers or an "ID3" prefix alone; here an ID3 tag must be followed by
an MPEG frame, an Ogg stream must open with a Vorbis or Opus header and a WAV file must have its
format chunk, which is what tells a truncated or mislabelled file from a sound file.
"""
from __future__ import annotations

# ISO base media brands that audio-only MPEG-4 files (.m4a, .m4b) carry as their major brand.
_M4A_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"isom", b"iso2", b"iso5", b"iso6", b"mp41", b"mp42", b"dash"}
EXTENSIONS = (".mp3", ".aac", ".ogg", ".opus", ".wav", ".m4a", ".webm")
MIME = {".mp3": "audio/mpeg", ".aac": "audio/aac", ".ogg": "audio/ogg", ".opus": "audio/ogg",
        ".wav": "audio/wav", ".m4a": "audio/mp4", ".webm": "audio/webm"}


def sniff_audio(data: bytes) -> str | None:
    """The extension matching the sound's content, or None if it is not an accepted sound file."""
    if data[:3] == b"ID3":
        return _after_id3(data)
    if data[:4] == b"OggS":
        return _ogg(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return ".wav" if _has_wav_format(data) else None
    if data[4:8] == b"ftyp":
        return ".m4a" if data[8:12] in _M4A_BRANDS else None
    if data[:4] == b"\x1a\x45\xdf\xa3":  # EBML; the DocType says WebM rather than Matroska
        return ".webm" if b"\x42\x82\x84webm" in data[:64] else None
    return _frame(data, 0)


def _frame(data: bytes, at: int) -> str | None:
    """".mp3" for an MPEG audio frame header at `at`, ".aac" for an ADTS one, else None."""
    header = data[at:at + 4]
    if len(header) < 4 or header[0] != 0xFF:
        return None
    if header[1] & 0xF6 == 0xF0:  # ADTS: 12 sync bits, layer 0
        return ".aac" if (header[2] >> 2) & 0xF < 13 else None
    version, layer = (header[1] >> 3) & 3, (header[1] >> 1) & 3
    bitrate, rate = header[2] >> 4, (header[2] >> 2) & 3
    if header[1] & 0xE0 != 0xE0 or version == 1 or layer == 0 or bitrate == 15 or rate == 3:
        return None
    return ".mp3"


def _after_id3(data: bytes) -> str | None:
    # ID3v2: "ID3", version, revision, flags, then the tag's size in four 7-bit bytes; the audio
    # follows the tag (after a footer if flagged, and possibly zero padding).
    size_bytes = data[6:10]
    if len(size_bytes) < 4 or data[3] not in (2, 3, 4) or any(b & 0x80 for b in size_bytes):
        return None
    end = 10 + sum(b << (7 * (3 - i)) for i, b in enumerate(size_bytes))
    if data[5] & 0x10:
        end += 10
    while end < len(data) and data[end] == 0:
        end += 1
    return _frame(data, end)


def _ogg(data: bytes) -> str | None:
    # The first page must begin a stream (flag 2) and its first packet be a codec's header.
    if len(data) < 28 or data[4] != 0 or not data[5] & 0x02:
        return None
    packet = data[27 + data[26]:]
    if packet.startswith(b"\x01vorbis"):
        return ".ogg"
    if packet.startswith(b"OpusHead"):
        return ".opus"
    return None


def _has_wav_format(data: bytes) -> bool:
    pos = 12
    for _ in range(16):  # a few chunks (JUNK, LIST, bext) may come before "fmt "
        chunk, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        if len(chunk) < 4:
            return False
        if chunk == b"fmt ":
            return size >= 16 and len(data) >= pos + 8 + 16
        pos += 8 + size + (size & 1)
    return False
