"""Small sound files of every accepted format, made in memory (no tool, no network), and files
that look like sound but are not."""
from __future__ import annotations

import io
import math
import struct
import wave


def wav(seconds: float = 0.05, rate: int = 8000) -> bytes:
    """A real 440 Hz tone, 8-bit mono PCM (what `neurodeck init` writes too)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(rate)
        w.writeframes(bytes(128 + int(60 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(seconds * rate))))
    return out.getvalue()


# MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no padding: a 417-byte frame; all-zero side information
# and data decode as silence.
_MP3_FRAME = b"\xff\xfb\x90\x64" + bytes(413)


def mp3(frames: int = 3) -> bytes:
    return _MP3_FRAME * frames


def id3(payload: bytes = b"TIT2\x00\x00\x00\x06\x00\x00\x03Tone\x00", padding: int = 16) -> bytes:
    """An ID3v2.3 tag (title "Tone"), its size in the 7-bit form, then zero padding."""
    body = payload + bytes(padding)
    size = len(body)
    return b"ID3\x03\x00\x00" + bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0)) + body


def mp3_with_id3() -> bytes:
    return id3() + mp3()


def aac() -> bytes:
    """ADTS frames (AAC LC, 44.1 kHz, mono), each 7 header bytes and a tiny payload."""
    length = 7 + 6
    header = bytes([0xFF, 0xF1, 0x50, 0x40 | (length >> 11), (length >> 3) & 0xFF, ((length & 7) << 5) | 0x1F, 0xFC])
    return (header + bytes(6)) * 3


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _ogg_page(packet: bytes, sequence: int, flags: int) -> bytes:
    segments = [255] * (len(packet) // 255) + [len(packet) % 255]
    header = (b"OggS" + bytes([0, flags]) + struct.pack("<qII", 0, 0x4E44, sequence) + b"\0\0\0\0"
              + bytes([len(segments)]) + bytes(segments))
    page = header + packet
    return page[:22] + struct.pack("<I", _ogg_crc(page)) + page[26:]


def opus() -> bytes:
    head = b"OpusHead" + bytes([1, 1]) + struct.pack("<HIhB", 312, 48000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 9) + b"neurodeck" + struct.pack("<I", 0)
    return _ogg_page(head, 0, 2) + _ogg_page(tags, 1, 0)


def vorbis() -> bytes:
    ident = b"\x01vorbis" + struct.pack("<IBIiii", 0, 1, 44100, 0, 128000, 0) + bytes([0xB8, 1])
    return _ogg_page(ident, 0, 2)


def m4a() -> bytes:
    ftyp = b"ftypM4A " + struct.pack(">I", 0) + b"M4A isommp42"
    return struct.pack(">I", 8 + len(ftyp)) + ftyp + struct.pack(">I", 8) + b"free"


def webm() -> bytes:
    # EBML header: version 1, read version 1, max id length 4, max size length 8, DocType "webm".
    body = (b"\x42\x86\x81\x01" b"\x42\xf7\x81\x01" b"\x42\xf2\x81\x04" b"\x42\xf3\x81\x08"
            b"\x42\x82\x84webm" b"\x42\x87\x81\x04" b"\x42\x85\x81\x02")
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body + b"\x18\x53\x80\x67\x01" + bytes(7)


# Accepted files by the extension their content gives them in the package.
GOOD = {".wav": wav, ".mp3": mp3, ".aac": aac, ".opus": opus, ".ogg": vorbis, ".m4a": m4a, ".webm": webm}
GOOD_ID3 = mp3_with_id3

# Files a sound reference must refuse: each is cut short or another format under a sound's name.
BAD = {
    "empty": b"",
    "id3 tag only": id3(),
    "id3 then text": id3() + b"not audio at all",
    "riff without a format": b"RIFF\x04\x00\x00\x00WAVE",
    "riff avi": b"RIFF\x04\x00\x00\x00AVI LIST",
    "ogg flac": _ogg_page(b"\x7fFLAC\x01\x00\x00\x01fLaC", 0, 2),
    "ogg cut": b"OggS\x00\x02",
    "matroska": b"\x1a\x45\xdf\xa3\x93\x42\x82\x88matroska",
    "mp4 video brand": struct.pack(">I", 16) + b"ftypqt  \x00\x00\x00\x00",
    "png": b"\x89PNG\r\n\x1a\n" + bytes(20),
    "text": b"ID4 plain text pretending",
    "mpeg reserved rate": b"\xff\xfb\x9c\x64" + bytes(40),
    "mpeg reserved version": b"\xff\xeb\x90\x64" + bytes(40),
    "mpeg bad bitrate": b"\xff\xfb\xf0\x64" + bytes(40),
}
