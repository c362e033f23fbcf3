"""Deflate on every core: a drop-in for the compressor object `zlib.compressobj` returns.

Compressing the collection is the largest step of writing a package that cannot overlap
anything else; zlib releases the GIL, so threads deflate fixed-size pieces side by side.
Each piece is deflated on its own, primed with the 32 KiB before it (what a decoder's window
holds at that point) and ended on a byte boundary with a sync flush, so the pieces join into
one valid deflate stream. The output depends only on the input, never on timing or on how the
input arrives.
"""
from __future__ import annotations

import os
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

PIECE = 1 << 20
_WINDOW = 1 << 15
_FINAL_BLOCK = b"\x03\x00"  # an empty, final block with fixed codes: ends the stream


def _deflate(piece: bytes, primer: bytes, level: int) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15, zdict=primer) if primer else \
        zlib.compressobj(level, zlib.DEFLATED, -15)
    return compressor.compress(piece) + compressor.flush(zlib.Z_SYNC_FLUSH)


class ParallelDeflate:
    """Raw deflate (no zlib header), like `zlib.compressobj(level, zlib.DEFLATED, -15)`."""

    def __init__(self, level: int, threads: int | None = None):
        self.level = level
        # Past a few threads deflate outruns the disk; each holds two pieces in flight.
        self.threads = threads or min(os.cpu_count() or 1, 8)
        self._pool = ThreadPoolExecutor(self.threads)
        self._pending: deque[Future] = deque()
        self._buffer = bytearray()
        self._primer = b""

    def compress(self, data: bytes) -> bytes:
        self._buffer += data
        start = 0
        while len(self._buffer) - start >= PIECE:
            self._submit(bytes(self._buffer[start:start + PIECE]))
            start += PIECE
        del self._buffer[:start]
        # Keep every thread busy, and a bounded amount of input in memory.
        return self._collect(keep=2 * self.threads)

    def flush(self) -> bytes:
        try:
            if self._buffer:
                self._submit(bytes(self._buffer))
                self._buffer.clear()
            return self._collect(keep=0) + _FINAL_BLOCK
        finally:
            self._pool.shutdown()

    def _submit(self, piece: bytes) -> None:
        self._pending.append(self._pool.submit(_deflate, piece, self._primer, self.level))
        self._primer = piece[-_WINDOW:]

    def _collect(self, keep: int) -> bytes:
        out = []
        while self._pending and (len(self._pending) > keep or self._pending[0].done()):
            out.append(self._pending.popleft().result())
        return b"".join(out)
