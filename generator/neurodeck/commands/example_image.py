"""The picture of the scaffolded image occlusion example: a schematic neuron, drawn as a PNG.

Drawn here rather than shipped as a file: the shapes below are the example card's shapes, so the
masks of `neurodeck init` and `neurodeck new` cover exactly the parts they name.
"""
from __future__ import annotations

import struct
import zlib

WIDTH, HEIGHT = 200, 100
NAME = "neuron-schematic.png"  # under the card folder's media/

# Each part: (label, the card's YAML for its shape, colour, is the pixel (x, y) in it, x and y from 0 to 1).
PARTS = (
    ("Cell body (soma)", "ellipse: {left: 0.05, top: 0.2, rx: 0.1, ry: 0.3}", (244, 162, 97),
     lambda x, y: ((x - 0.15) / 0.1) ** 2 + ((y - 0.5) / 0.3) ** 2 <= 1),
    ("Axon", "rect: {left: 0.25, top: 0.45, width: 0.5, height: 0.1}", (42, 157, 143),
     lambda x, y: 0.25 <= x <= 0.75 and 0.45 <= y <= 0.55),
    ("Axon terminal", "polygon: [[0.75, 0.3], [0.95, 0.5], [0.75, 0.7]]", (231, 111, 81),
     lambda x, y: x >= 0.75 and abs(y - 0.5) <= (0.95 - x)),
)


def png() -> bytes:
    """The schematic as PNG bytes (the same bytes on every run)."""
    rows = []
    for py in range(HEIGHT):
        row = bytearray(b"\x00")  # filter: none
        y = (py + 0.5) / HEIGHT
        for px in range(WIDTH):
            x = (px + 0.5) / WIDTH
            colour = next((c for _, _, c, inside in PARTS if inside(x, y)), (250, 250, 248))
            row += bytes(colour)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + chunk(b"IEND", b""))


def card_yaml(card_id: str, image: str, indent: str = "  ") -> str:
    """The example occlusion card, for a card file's `cards:` list."""
    shapes = "".join(f"{indent}    - {shape}\n{indent}      label: {label}\n" for label, shape, _, _ in PARTS)
    return (f"{indent}- id: {card_id}\n"
            f"{indent}  type: occlusion       # one card per shape: the student names the hidden part\n"
            f"{indent}  image: {image}\n"
            f"{indent}  header: Name the hidden part of the neuron.\n"
            f"{indent}  # Shapes in fractions of the image: 0 is its left or top edge, 1 its right or bottom.\n"
            f"{indent}  shapes:\n{shapes}"
            f"{indent}  source: Purves et al. 2018, *Neuroscience*, 6th edition, Oxford University Press\n")
