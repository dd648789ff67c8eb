"""The child's stderr in ``filter`` mode: line by line through the pipeline's text path, long lines bounded.

Servers log freely (a connection string in a stack trace, a token in a debug line), and the wrapper's stderr ends up
in editor logs. Each line is decoded as UTF-8 (invalid bytes replaced), cut into pieces of at most
:data:`MAX_LINE_BYTES`, stripped of terminal control sequences and passed through ``protect_text`` before it is
written. A private key printed over several lines is withheld as a block (:class:`PemGate`). A line that cannot be
protected (e.g. the audit log is unavailable) is withheld, with a value-free notice.

:class:`StderrFilter` puts it together. The lines form one stream (:mod:`mcpguard.detect.stream`, joined with no
separator, so a token wrapped at 64 or 76 columns reads as one): each line is held until a later line shows that no
value can still cross its end, or until the child's stderr has been quiet for :data:`HOLD_SECONDS` (the wrapper's
timer in ``session.py`` decides when the source is quiet), and a value found across lines is protected in every line
it touches. A PEM block ends the stream.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from typing import Any

from mcpguard.errors import MCPGuardError
from mcpguard.types import Context, Direction, Finding

#: Longest piece of one stderr line scanned and written at once (bytes); longer lines are cut.
MAX_LINE_BYTES = 16 * 1024

# C0 controls except tab, DEL and C1 controls: ANSI/OSC sequences could rewrite a terminal or hide text.
_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def sanitize(text: str) -> str:
    """Replace control characters (keeping tab) with visible ``\\xNN`` escapes."""
    return _CONTROLS.sub(_escape, text)


#: Where a long line without spaces may be cut (besides a space): JSON, log and query-string separators.
_DELIMITERS = (b",", b'"', b"'", b";", b"&", b"\t", b"{", b"}", b"[", b"]", b"(", b")", b"<", b">", b"|")


class LineCutter:
    """Split stderr bytes into lines on ``\\n``, emitting any run longer than ``max_bytes`` as its own piece (so a
    never-ending line is still scanned and written, with bounded memory). Long runs are cut after a space when the
    window's second half has one, so whitespace-free values (keys, tokens) are rarely cut in two."""

    __slots__ = ("_buf", "max_bytes")

    def __init__(self, max_bytes: int = MAX_LINE_BYTES) -> None:
        self._buf = bytearray()
        self.max_bytes = max_bytes

    def feed(self, chunk: bytes) -> list[bytes]:
        """Complete lines (and bounded pieces of over-long ones) found so far in the byte stream."""
        out: list[bytes] = []
        buf = self._buf
        buf += chunk
        start = 0
        n = len(buf)
        while start < n:
            nl = buf.find(b"\n", start, min(n, start + self.max_bytes + 1))
            if nl >= 0:
                out.append(bytes(buf[start:nl]))
                start = nl + 1
            elif n - start > self.max_bytes:
                # Cut after the last space (else the last delimiter, for minified JSON and query strings) of the
                # window's second half, so a token is rarely split in two: neither half of a split one is detected.
                end = start + self.max_bytes
                lo = start + self.max_bytes // 2
                cut = buf.rfind(b" ", lo, end)
                if cut < 0:
                    cut = max(buf.rfind(d, lo, end) for d in _DELIMITERS)
                if cut >= 0:
                    end = cut + 1
                out.append(bytes(buf[start:end]))
                start = end
            else:
                break
        del buf[:start]
        return out

    def finish(self) -> list[bytes]:
        """The unterminated rest at end of stream, if any."""
        rest = bytes(self._buf)
        self._buf.clear()
        return [rest] if rest else []


def decode_piece(piece: bytes) -> str:
    """Decode one piece as UTF-8 (invalid bytes replaced), drop a trailing CR, escape controls."""
    text = piece.decode("utf-8", "replace")
    if text.endswith("\r"):
        text = text[:-1]
    return sanitize(text)


_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]*-----")


class PemGate:
    """Withhold the body of a private key printed over several stderr lines.

    Line-by-line scanning sees a PEM header alone (and blocks it) but not the base64 lines after it, which are key
    material. From a ``-----BEGIN … PRIVATE KEY-----`` line until the matching ``-----END …-----`` line (or
    ``max_lines`` lines, so a missing footer cannot swallow the log forever) every line is withheld and one marker
    line is emitted instead.
    """

    __slots__ = ("_inside", "_count", "max_lines")

    MARKER = "[BLOCKED:private_key] (a private key block printed by the server was withheld)"

    def __init__(self, max_lines: int = 400) -> None:
        self._inside = False
        self._count = 0
        self.max_lines = max_lines

    def feed(self, line: str) -> str | None:
        """The line to pass on (still to be protected), the marker, or None to withhold it."""
        if self._inside:
            self._count += 1
            if _PEM_END.search(line) or self._count >= self.max_lines:
                self._inside = False
            return None
        if _PEM_BEGIN.search(line):
            if not _PEM_END.search(line):
                self._inside = True
                self._count = 0
            return self.MARKER
        return line


ProtectText = Callable[[str], str]

#: How long a stderr line may be held waiting for the next one (seconds).
HOLD_SECONDS = 0.05
_KEY = "stderr"


class StderrFilter:
    """The ``filter`` mode of the child's stderr after :class:`LineCutter`: :meth:`line` takes each piece (bytes),
    :meth:`release_due` is called by the caller's timer at :meth:`next_release`, :meth:`finish` at end of stream.

    ``pipeline`` needs ``protect_text(text, ctx, *, carried=())``; with ``stream_table`` too, lines are scanned as one
    stream (module docstring), else line by line. Protected lines are written to ``fd`` with ``\\n``; a line that
    cannot be protected is withheld and ``note(kind, text)`` gets a value-free notice. ``clock`` is monotonic
    seconds.
    """

    def __init__(self, pipeline: Any, *, server: str, fd: int = 2,
                 note: Callable[..., None] = lambda kind, text=None: None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.pipeline = pipeline
        self.ctx = Context(Direction.SERVER_TO_CLIENT, method="stderr", server=server)
        self.fd = fd
        self.note = note
        self.clock = clock
        self._pem = PemGate()
        factory = getattr(pipeline, "stream_table", None)
        self._table = factory(max_streams=1, hold_seconds=HOLD_SECONDS) if callable(factory) else None

    @property
    def holding(self) -> int:
        """Lines held back."""
        return self._table.holding if self._table is not None else 0

    def next_release(self) -> float | None:
        """When (``clock`` seconds) :meth:`release_due` has a line to let go, or None."""
        return self._table.next_due() if self._table is not None else None

    def line(self, piece: bytes) -> None:
        """One piece from :class:`LineCutter`: decoded, PEM-gated, scanned with the lines around it, written when
        released."""
        text = self._pem.feed(decode_piece(piece))
        if text is None:
            return
        if self._table is None:
            self._emit(text, [])
        elif text == PemGate.MARKER:
            self.finish()  # the withheld block breaks the stream: what follows does not continue what came before
            self._emit(text, [])
        else:
            try:
                released = self._table.push(_KEY, text, text, now=self.clock())
            except Exception as exc:  # noqa: BLE001 - fail closed: an unscanned line is not written
                self.note("stderr_withheld", f"a server stderr line was withheld ({type(exc).__name__})")
                return
            for r in released:
                self._emit(r.payload, r.findings)

    def release_due(self, now: float | None = None) -> None:
        """Write the lines held for :data:`HOLD_SECONDS` without a successor (the stream's tail is kept)."""
        if self._table is not None:
            for released in self._table.release_due(self.clock() if now is None else now):
                self._emit(released.payload, released.findings)

    def finish(self) -> None:
        """End of the stream: write what is held and forget the carried tail."""
        if self._table is not None:
            for released in self._table.end(_KEY):
                self._emit(released.payload, released.findings)

    def _emit(self, text: str, carried: list[Finding]) -> None:
        try:
            if carried:
                text, _ = self.pipeline.protect_text(text, self.ctx, carried=carried)
            else:
                text, _ = self.pipeline.protect_text(text, self.ctx)
        except Exception as exc:  # noqa: BLE001 - fail closed: withhold the line; the text may quote it
            reason = exc.reason if isinstance(exc, MCPGuardError) else "internal_error"
            self.note("stderr_withheld", f"a server stderr line was withheld ({reason})")
            return
        try:
            os.write(self.fd, (text + "\n").encode("utf-8", "replace"))
        except OSError:
            pass


__all__ = ["HOLD_SECONDS", "MAX_LINE_BYTES", "LineCutter", "PemGate", "ProtectText", "StderrFilter", "decode_piece",
           "sanitize"]
