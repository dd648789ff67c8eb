"""The child's stderr in ``filter`` mode: line by line through the pipeline's text path, long lines bounded.

Servers log freely (a connection string in a stack trace, a token in a debug line), and the wrapper's stderr ends up
in editor logs. Each line is decoded as UTF-8 (invalid bytes replaced), cut into pieces of at most
:data:`MAX_LINE_BYTES`, stripped of terminal control sequences and passed through ``protect_text`` before it is
written. A private key printed over several lines is withheld as a block (:class:`PemGate`). A line that cannot be
protected (e.g. the audit log is unavailable) is withheld, with a value-free notice.
"""

from __future__ import annotations

import re
from collections.abc import Callable

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

__all__ = ["MAX_LINE_BYTES", "LineCutter", "PemGate", "ProtectText", "decode_piece", "sanitize"]
