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

:meth:`StreamScanner.feed_across` is the cheaper variant a front door uses next to its per-chunk scan: it reports
only values that *cross* the boundary between the carried tail and the new chunk, scanning only the boundary's
neighbourhood (the run of non-space characters crossing it, plus :data:`NEAR` characters each side).

Finding a split value is half the job: the part already forwarded in an earlier chunk has leaked. :class:`HeldStream`
therefore holds each chunk back (its payload is opaque: a notification, a stderr line) until its successor has been
scanned and no whitespace-free value of at most ``window`` characters can still cross its end — the stream has moved
on past whitespace, or ``window`` characters later — and then releases it with the findings that overlap it, clipped
to its text. (A value *with* spaces that spans three or more chunks can have its first part released early.) :class:`StreamTable` keeps many
such streams by key with least-recently-used eviction, and releases held chunks after an idle delay. The caller
decides what a released chunk becomes (policy, transform, audit: :meth:`mcpguard.pipeline.Pipeline.protect` with
``carried=``).

Chunks are joined with no separator: a value wrapped over two stderr lines or streamed in pieces reads as one. Two
unrelated chunks may therefore join into a match across their boundary (``…user`` + ``jane@x.com``); that errs on
the side of redacting a few extra characters.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NamedTuple

from mcpguard.types import Finding

if TYPE_CHECKING:  # the engine module is heavy to import; only its type is needed here
    from mcpguard.detect.engine import Engine

#: Default carried tail in characters: longer than every fixed-format credential and typical JWTs.
DEFAULT_WINDOW = 2048
#: Characters of context :meth:`StreamScanner.feed_across` scans beyond the run of non-space characters that crosses
#: a boundary, on each side: values containing spaces (cards, phone numbers, IBANs) and keyword-introduced values are
#: found across a boundary when they lie within this reach.
NEAR = 64

_SPACE = re.compile(r"\s")


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

    def feed_across(self, chunk: str) -> list[Finding]:
        """Findings that cross the boundary between the carried tail and ``chunk`` (``start < boundary < end``), or
        that are found only with both sides present (a keyword in the tail, its value in ``chunk``: rules that need
        the keyword report the value alone), with absolute offsets, sorted; carries the tail on. Values found in one
        chunk alone are the caller's per-chunk scan's job, so only the neighbourhood of the boundary is scanned: the
        run of non-space characters that crosses it (up to ``window`` characters on each side) plus :data:`NEAR`
        characters beyond the run on each side (for values with spaces, such as a card number, and for a keyword
        before a token); when it holds a finding wholly after the boundary, the new side is scanned alone too, to
        tell the two kinds apart. Nothing is scanned while no tail is carried. Does not take part in :meth:`feed`'s "report
        once" bookkeeping, so use one of the two per scanner."""
        if not chunk:
            return []
        tail, base, window = self._tail, self._base, self.window
        out: list[Finding] = []
        if tail:
            run = _last_space(tail)
            left = max(0, (run if run >= 0 else 0) - NEAR)
            head = chunk[:window]
            m = _SPACE.search(head)
            right = (m.start() if m else len(head)) + NEAR
            cut = len(tail) - left
            after = head[:right]
            found = self.engine.scan_text(tail[left:] + after, self.path)
            # Besides values crossing the boundary, keep those that exist only because the other side is there: a
            # keyword before the boundary and its value after it ("password=" | "hunter2…") report only the value.
            # Values wholly before the boundary were the previous chunk's to find (keywords come before values), so
            # only values wholly after it are checked against a scan of the new side alone: one extra scan, of the
            # new side only, and only when such a value exists.
            found = [f for f in found if f.end > cut]
            if any(f.start >= cut for f in found):
                alone = {(cut + f.start, cut + f.end, f.type) for f in self.engine.scan_text(after, self.path)}
                found = [f for f in found if f.start < cut or (f.start, f.end, f.type) not in alone]
            out = [replace(f, start=base + left + f.start, end=base + left + f.end) for f in found]
        end = base + len(tail) + len(chunk)
        keep = (tail + chunk)[-window:] if len(chunk) < window else chunk[-window:]
        self._tail = keep
        self._base = end - len(keep)
        return out

    def flush(self) -> list[Finding]:
        """End of stream: returns findings not yet reported (none: :meth:`feed` reports eagerly) and resets the
        carried state so no text is retained."""
        self._tail = ""
        self._base = self.offset
        self._reported.clear()
        return []


class Released(NamedTuple):
    """A chunk let go by :class:`HeldStream`: the caller's ``payload`` and the cross-chunk ``findings`` that overlap
    its text. Each finding names the chunk's ``path`` with ``str`` offsets clipped to the chunk's text; ``value`` stays
    the whole value (so fingerprints match across the parts), hence ``len(value) > end - start`` marks a part."""

    payload: Any
    findings: list[Finding]


@dataclass(slots=True)
class _Held:
    payload: Any
    path: str
    start: int  # absolute offsets of the chunk's text in the stream
    end: int
    size: int
    findings: dict[tuple[int, str], Finding] = field(default_factory=dict)  # (abs start, type) -> longest


def _last_space(text: str) -> int:
    """Index just past the last whitespace character of ``text``, or -1 when it has none."""
    if not text:
        return -1
    if text[-1].isspace():
        return len(text)
    last = text.rsplit(None, 1)[-1]  # C-speed scan from the right
    return len(text) - len(last) if len(last) < len(text) else -1


class HeldStream:
    """One logical stream's carried state: a :class:`StreamScanner` tail and the chunks not yet released.

    :meth:`push` scans a chunk across its boundary with the tail, attaches what it finds to every held chunk the
    value overlaps, and releases, in order, the held chunks no value can still cross: a chunk is let go once text
    after its end contains whitespace (the run of non-space characters that reaches its end is closed; every
    whitespace-free value crossing it has been seen whole) or ``window`` characters have followed it. The newest
    chunk is always held (its continuation has not arrived), unless its text is empty. At most ``max_held`` chunks
    are held; beyond that the oldest is released as it is.

    Bounded: the scanner's tail (``window`` characters) plus the held payloads, whose total ``size`` (the caller's
    unit: frame bytes, say; the text length by default) is :attr:`held_size`. Not thread-safe.
    """

    __slots__ = ("scanner", "max_held", "last_push", "_held", "_run_start", "_held_size")

    def __init__(self, scanner: StreamScanner, max_held: int = 64) -> None:
        if max_held < 1:
            raise ValueError("max_held must be at least 1")
        self.scanner = scanner
        self.max_held = max_held
        #: Clock reading (caller's units, e.g. monotonic seconds) of the last :meth:`push`.
        self.last_push = 0.0
        self._held: list[_Held] = []
        self._run_start = 0  # absolute offset where the stream's trailing run of non-space characters begins
        self._held_size = 0

    @property
    def holding(self) -> int:
        """Number of chunks held back."""
        return len(self._held)

    @property
    def held_size(self) -> int:
        """Total ``size`` of the held chunks (see :meth:`push`)."""
        return self._held_size

    def push(self, payload: Any, text: str, *, path: str = "", now: float = 0.0,
             size: int | None = None) -> list[Released]:
        """Add the next chunk of the stream (``text``, reported under ``path``); returns the chunks released, in
        stream order, with their findings. ``now`` is recorded as :attr:`last_push`; ``size`` is what holding the
        chunk costs, in the caller's unit (default: ``len(text)``)."""
        self.last_push = now
        scanner = self.scanner
        start = scanner.offset
        found = scanner.feed_across(text)
        end = scanner.offset
        chunk = _Held(payload, path, start, end, len(text) if size is None else size)
        self._held.append(chunk)
        self._held_size += chunk.size
        for f in found:
            for h in reversed(self._held):
                if h.end <= f.start:
                    break
                if h.start < f.end and h.start < h.end:
                    key = (f.start, f.type)
                    old = h.findings.get(key)
                    if old is None or old.end < f.end:
                        h.findings[key] = f
        cut = _last_space(text)
        if cut >= 0:
            self._run_start = start + cut
        out: list[Released] = []
        held = self._held
        while held:
            h = held[0]
            newest = h is chunk
            if h.start == h.end or (not newest and (h.end <= self._run_start or end - h.end >= scanner.window)) \
                    or len(held) > self.max_held:
                out.append(self._release(held.pop(0)))
            else:
                break
        return out

    def release(self, *, end: bool = False) -> list[Released]:
        """Release every held chunk, in order. ``end=True`` also forgets the carried tail (end of stream: nothing
        of it is retained); otherwise the tail is kept, so the rest of a value whose first part is released now is
        still found in the next chunk."""
        out = [self._release(h) for h in self._held]
        self._held = []
        self._held_size = 0
        if end:
            self.scanner.flush()
            self._run_start = self.scanner.offset
        return out

    def _release(self, h: _Held) -> Released:
        self._held_size -= h.size
        clipped = [replace(f, path=h.path, kind="value", start=max(f.start, h.start) - h.start,
                           end=min(f.end, h.end) - h.start) for f in h.findings.values()]
        clipped.sort(key=lambda f: (f.start, f.end))
        return Released(h.payload, clipped)


class StreamTable:
    """Many :class:`HeldStream` s by key (e.g. ``("progress", token)``), bounded: at most ``max_streams`` open
    streams (the least recently pushed is ended and released to make room) and at most ``max_held_size`` held over
    all streams (in the unit of :meth:`push`'s ``size``; the least recently pushed streams are released, keeping
    their tails, until under). ``engine``/``window`` build each stream's :class:`StreamScanner`; ``max_held`` is per
    stream. Memory: ``max_streams × window`` characters of tails plus ``max_held_size`` of held payloads.

    Idle streams are released by :meth:`release_due` after ``hold_seconds`` without a push (the caller's timer,
    using the same clock as the ``now`` it passes to :meth:`push`). Not thread-safe.
    """

    def __init__(self, engine: Engine, *, window: int | None = None, max_streams: int = 256,
                 max_held: int = 64, max_held_size: int = 8 << 20, hold_seconds: float = 0.05) -> None:
        if max_streams < 1:
            raise ValueError("max_streams must be at least 1")
        if hold_seconds < 0:
            raise ValueError("hold_seconds must not be negative")
        self.engine = engine
        self.window = window
        self.max_streams = max_streams
        self.max_held = max_held
        self.max_held_size = max_held_size
        self.hold_seconds = hold_seconds
        self._streams: OrderedDict[Hashable, HeldStream] = OrderedDict()
        self._held_size = 0

    def __len__(self) -> int:
        return len(self._streams)

    @property
    def holding(self) -> int:
        """Chunks held over all streams."""
        return sum(s.holding for s in self._streams.values())

    @property
    def held_size(self) -> int:
        """Total ``size`` held over all streams."""
        return self._held_size

    def push(self, key: Hashable, payload: Any, text: str, *, path: str = "", now: float = 0.0,
             size: int | None = None) -> list[Released]:
        """Push a chunk to the stream ``key`` (opened on first use; see :meth:`HeldStream.push`); returns what is
        released, possibly including chunks of other streams released to stay within bounds."""
        streams = self._streams
        stream = streams.get(key)
        new = stream is None
        if stream is None:
            stream = HeldStream(StreamScanner(self.engine, self.window), self.max_held)
            streams[key] = stream
        else:
            streams.move_to_end(key)
        before = stream.held_size
        # Pushed before anything else is released: if the scan raises, no other stream's released chunks are lost
        # with the exception (they stay held and go out with a later push or at end).
        try:
            out = stream.push(payload, text, path=path, now=now, size=size)
        except BaseException:
            if new:
                streams.pop(key, None)
            raise
        self._held_size += stream.held_size - before
        while len(streams) > self.max_streams:  # the least recently used; never the one just pushed (it is last)
            _, old = streams.popitem(last=False)
            out += self._release(old, end=True)
        if self._held_size > self.max_held_size:
            for other in list(streams.values()):
                if self._held_size <= self.max_held_size:
                    break
                out += self._release(other)
        return out

    def end(self, key: Hashable) -> list[Released]:
        """End the stream ``key``: release its held chunks and drop its state (nothing if it is not open)."""
        stream = self._streams.pop(key, None)
        return self._release(stream, end=True) if stream is not None else []

    def end_all(self) -> list[Released]:
        """End every stream (e.g. the peer went away)."""
        out: list[Released] = []
        for key in list(self._streams):
            out += self.end(key)
        return out

    def next_due(self) -> float | None:
        """When the earliest held chunk is due for release (same clock as ``now``), or None when nothing is held."""
        due = [s.last_push for s in self._streams.values() if s.holding]
        return min(due) + self.hold_seconds if due else None

    def release_due(self, now: float) -> list[Released]:
        """Release the held chunks of every stream idle for ``hold_seconds`` or more; their tails are kept."""
        out: list[Released] = []
        limit = now - self.hold_seconds
        for stream in self._streams.values():
            if stream.holding and stream.last_push <= limit:
                out += self._release(stream)
        return out

    def _release(self, stream: HeldStream, *, end: bool = False) -> list[Released]:
        self._held_size -= stream.held_size  # a release lets go of everything the stream holds
        return stream.release(end=end)


__all__ = ["DEFAULT_WINDOW", "NEAR", "HeldStream", "Released", "StreamScanner", "StreamTable"]
