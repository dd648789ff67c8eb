"""Scanning one logical text stream that arrives in chunks (stderr lines, progress/log notifications, streamed bodies).

A value split across chunks (``"…AKIAQYLP"`` then ``"MN5HHHFPZAM2 …"``) is invisible to per-chunk scanning. The
:class:`StreamScanner` keeps the last ``window`` characters of the stream and scans ``tail + chunk`` on each
:meth:`~StreamScanner.feed`, so the cost per chunk is ``O(window + len(chunk))`` however long the stream runs, never a
rescan of everything pending.

Guarantees and limits:

- Every value of at most ``window`` characters is found, wherever the chunk boundaries fall; longer values (a PEM key
  streamed line by line beyond the window) are found only in the part that is inside one window, and a PEM header
  with no end line already spans to the end of the scanned text, so the key is still reported.
- Findings are reported as soon as they are seen, with *absolute* offsets in the logical stream (the first character
  ever fed is offset 0). A value completed by a later chunk is reported when it becomes recognisable; if a reported
  value grows (``john@mail.co`` then ``m``), it is reported again with the longer span. Nothing is reported twice
  with the same span.
- The scanner holds no raw value beyond the ``window`` characters of tail text.
"""

from __future__ import annotations

from dataclasses import replace

from mcpguard.detect.engine import Engine
from mcpguard.types import Finding

#: Default carried tail in characters: longer than every fixed-format credential and typical JWTs.
DEFAULT_WINDOW = 2048


class StreamScanner:
    """Incremental scanner over one logical stream. ``window`` defaults to ``[detection] stream_window`` of the
    engine's config; ``path`` is reported as each finding's path (``""`` for plain text). Not thread-safe: one
    scanner per stream."""

    def __init__(self, engine: Engine, window: int | None = None, path: str = "") -> None:
        if window is None:
            window = getattr(engine.config, "stream_window", DEFAULT_WINDOW)
        if window < 64:
            raise ValueError("window must be at least 64 characters")
        self.engine = engine
        self.window = window
        self.path = path
        self._tail = ""
        self._base = 0  # absolute offset of self._tail[0]
        self._reported: dict[tuple[int, str], int] = {}  # (abs start, type) -> largest end reported

    @property
    def offset(self) -> int:
        """Absolute offset just past the last character fed."""
        return self._base + len(self._tail)

    def feed(self, chunk: str) -> list[Finding]:
        """Scan ``chunk`` in the context of the carried tail; returns new findings with absolute offsets, sorted."""
        if not chunk:
            return []
        text = self._tail + chunk
        base = self._base
        out: list[Finding] = []
        for f in self.engine.scan_text(text, self.path):
            start, end = base + f.start, base + f.end
            key = (start, f.type)
            if self._reported.get(key, -1) >= end:
                continue
            self._reported[key] = end
            out.append(replace(f, start=start, end=end))
        # Carry the tail; forget reports that can no longer be seen again.
        if len(text) > self.window:
            cut = len(text) - self.window
            self._tail = text[cut:]
            self._base = base + cut
            self._reported = {k: v for k, v in self._reported.items() if v > self._base}
        else:
            self._tail = text
        return out

    def flush(self) -> list[Finding]:
        """End of stream: returns findings not yet reported (none: :meth:`feed` reports eagerly) and resets the
        carried state so no text is retained."""
        self._tail = ""
        self._base = self.offset
        self._reported.clear()
        return []


__all__ = ["DEFAULT_WINDOW", "StreamScanner"]
