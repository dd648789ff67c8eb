"""The decode layer (mcpguard.detect.decode): values hidden in percent-encoded, escaped, HTML-entity, base64 and hex
text are found, reported on the encoded characters, and removed by protect; binary-looking ids are not findings."""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import json
import re
import uuid
import zlib
from urllib.parse import quote, unquote

import pytest

from mcpguard.config import Config
from mcpguard.crypto import MemoryKeyProvider
from mcpguard.detect import decode
from mcpguard.detect.decode import Piece, find_pieces
from mcpguard.runtime import NO_AUDIT, build_pipeline
from mcpguard.types import Context, Direction, Leaf

EMAIL = "minsu.kim@acme-corp.co.kr"
AKID = "AKIAQYLPMN5HHHFPZAM2"
RRN = "900101-1234568"
PHONE = "010-2345-6789"


def _gh_token() -> str:
    b62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    body = "aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0"
    n, check = zlib.crc32(body.encode()), ""
    for _ in range(6):
        n, r = divmod(n, 62)
        check = b62[r] + check
    return "ghp_" + body + check


GH = _gh_token()
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MjQyIiwibmFtZSI6Ik1pbnN1In0."
       "c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2ln")
ENV = f"# prod\nNODE_ENV=production\nDB_PASSWORD=Xk29vLq8mZt4\nAWS_ACCESS_KEY_ID={AKID}\nGITHUB_TOKEN={GH}\n"

# What each value looks like in each encoding, and the plain text it is embedded in.
CASES = {
    "email": (EMAIL, "email"),
    "aws": (AKID, "aws_access_key_id"),
    "github": (GH, "github_token"),
    "rrn": (f"주민등록번호 {RRN}", "kr_rrn"),
    "phone": (f"phone: {PHONE}", "phone"),
}


def _enc(s: str, one) -> str:
    # Every third character and every non-alphanumeric one, so all-alphanumeric tokens are encoded too.
    return "".join(one(c) if i % 3 == 1 or not c.isalnum() or ord(c) > 127 else c for i, c in enumerate(s))


def _percent(s: str) -> str:
    return _enc(s, lambda c: quote(c, safe="") if ord(c) > 127 else f"%{ord(c):02X}")


def _escape(s: str) -> str:
    return _enc(s, lambda c: f"\\u{ord(c):04x}")


def _html(s: str) -> str:
    return _enc(s, lambda c: f"&#{ord(c)};")


def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def _hex(s: str) -> str:
    return s.encode().hex()


ENCODERS = {"percent": _percent, "escape": _escape, "html": _html, "base64": _b64, "hex": _hex}
DECODERS = {
    "percent": unquote,
    "escape": lambda s: json.loads('"' + s + '"'),
    "html": html.unescape,
    "base64": lambda s: base64.b64decode(s + "=" * (-len(s) % 4)).decode("utf-8", "replace"),
    "hex": lambda s: binascii.unhexlify(s[: len(s) // 2 * 2]).decode("utf-8", "replace"),
}


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_encoded_values_are_found_on_the_encoded_span(engine, encoding, case):
    plain, typ = CASES[case]
    encoded = ENCODERS[encoding](plain)
    text = f"result: {encoded} (end)"
    found = [f for f in engine.scan_text(text) if f.type == typ]
    assert len(found) == 1, (encoding, case, engine.scan_text(text))
    f = found[0]
    assert f.rule.endswith(f".decoded:{encoding}")
    assert f.value == text[f.start : f.end]
    assert text.index(encoded) <= f.start and f.end <= text.index(encoded) + len(encoded)
    # The encoded span decodes to something containing the value (base64 rounds out to whole 4-character groups).
    value = plain.split(" ")[-1]
    assert value in DECODERS[encoding](f.value)


def test_confidence_is_the_inner_confidence_and_plain_text_is_untouched(engine):
    inner = {f.type: f.confidence for f in engine.scan_text(f"x {AKID} y")}
    got = engine.scan_text(f"x {_b64(AKID)} y")
    assert [(f.type, f.confidence) for f in got] == [("aws_access_key_id", inner["aws_access_key_id"])]
    # A plain value next to an escape is reported by the plain scan, not again as "decoded".
    plain = engine.scan_text(f"mail {EMAIL} and 50%25 off")
    assert [(f.type, f.rule) for f in plain] == [("email", "email.address")]


def test_base64_spans_round_to_whole_groups_inside_an_env_file(engine):
    blob = _b64(ENV)
    text = f"data: {blob}"
    found = {f.type: f for f in engine.scan_text(text)}
    assert {"generic_secret", "aws_access_key_id", "github_token"} <= set(found)
    base = text.index(blob)
    for typ, value in (("aws_access_key_id", AKID), ("github_token", GH), ("generic_secret", "Xk29vLq8mZt4")):
        f = found[typ]
        assert (f.start - base) % 4 == 0 and ((f.end - base) % 4 == 0 or f.end == len(text))
        bs, be = ENV.index(value), ENV.index(value) + len(value)
        assert f.start - base == 4 * (bs // 3) and f.end - base == min(len(blob), 4 * -(-be // 3))
        assert f.rule.endswith(".decoded:base64")


def test_kubernetes_secret_and_jwt_inside_base64(engine):
    text = f"apiVersion: v1\nkind: Secret\ndata:\n  session: {_b64('jwt=' + JWT)}\n  mail: {_b64(EMAIL)}\n"
    types = {f.type for f in engine.scan_text(text)}
    assert {"jwt", "email"} <= types
    # Under a secret-announcing key the whole encoded value is a finding already (and is not decoded again).
    k8s = "data:\n  password: cGFzc3dvcmQxMjM0NQ==\n"
    [f] = engine.scan_text(k8s)
    assert f.value == "cGFzc3dvcmQxMjM0NQ==" and f.type == "generic_secret"


def test_two_levels_are_decoded_and_no_more():
    from mcpguard.detect.engine import build_engine

    eng = build_engine()
    two = _b64(_percent(f"mail={EMAIL}"))
    assert [f.type for f in eng.scan_text(f"x {two} y")] == ["email"]
    assert eng.scan_text(f"x {two} y")[0].rule == "email.address.decoded:percent.decoded:base64"
    three = _b64(_b64(_percent(EMAIL)))
    assert eng.scan_text(f"x {three} y") == []
    assert decode.MAX_DEPTH == 2


def test_urlsafe_base64_and_unpadded_and_0x_hex(engine):
    raw = f"token {GH} owner {EMAIL}??>>"
    urlsafe = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    assert "-" in urlsafe or "_" in urlsafe
    assert {"github_token", "email"} <= {f.type for f in engine.scan_text(f"v={urlsafe}")}
    assert [f.type for f in engine.scan_text(f"blob 0x{_hex(EMAIL)}")] == ["email"]


@pytest.mark.parametrize("text", [
    "sha256 " + hashlib.sha256(b"x").hexdigest(),
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 Merge branch 'main'",
    "ids " + " ".join(uuid.UUID(int=i * 7919 + 1).hex for i in range(20)),
    "uuids " + " ".join(str(uuid.UUID(int=i * 104729 + 3)) for i in range(20)),
    "integrity sha512-" + base64.b64encode(hashlib.sha512(b"pkg").digest()).decode(),
    "png " + base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4).decode(),
    "key " + base64.b64encode(hashlib.sha256(b"k").digest() * 2).decode(),
    "path /usr/local/lib/python3/site-packages/requests/adapters and internationalization",
    "snowflake 1234567890123456789 and 20242024202420242024",
    "50% off & free shipping &amp; returns, C:\\x\\users",
])
def test_hard_negatives(engine, text):
    assert engine.scan_text(text) == []


def test_binary_runs_are_rejected_by_the_text_check():
    assert decode._decode_run(hashlib.sha256(b"x").hexdigest().encode()) is None
    assert decode._decode_run(base64.b64encode(bytes(range(200))).rstrip(b"=")) is None
    assert decode._is_text(b"plain ascii text") == "plain ascii text"
    assert decode._is_text("한국어 텍스트".encode()) == "한국어 텍스트"
    assert decode._is_text(b"\xff\xfe\x00\x01garbage") is None


def test_image_and_audio_data_are_decoded_like_any_text(engine):
    # A hostile server can label anything "image": its data is probed like every run (real media fail at once).
    hidden = _b64(f"contact {EMAIL} key {AKID}")
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4).decode()
    leaves = [Leaf("/content/0/type", "value", "image"), Leaf("/content/0/data", "value", hidden),
              Leaf("/content/1/type", "value", "audio"), Leaf("/content/1/data", "value", png)]
    found = engine.scan_leaves(leaves)
    assert {(f.path, f.type) for f in found} == {("/content/0/data", "email"), ("/content/0/data", "aws_access_key_id")}


def test_a_5mb_blob_is_decoded_once_and_whole(monkeypatch):
    # Every encoded character is decoded at most once per level (plus the probe): linear, and nothing is left unscanned.
    calls: list[int] = []
    real = base64.b64decode

    def counting(data, *a, **kw):
        calls.append(len(data))
        return real(data, *a, **kw)

    monkeypatch.setattr(decode.base64, "b64decode", counting)
    blob = _b64(("lorem ipsum dolor sit amet " * 200_000)[:3_750_000])
    assert len(blob) >= 5_000_000
    pieces = find_pieces(blob, blob.encode(), [0])
    assert sum(calls) <= len(blob) + decode.PROBE + 4
    assert len(pieces) == 1 and (pieces[0].start, pieces[0].end) == (0, len(blob))


@pytest.mark.parametrize("junk", ["QUJD" * 65536, "%41" * 87382, "&amp;" * 52429])
def test_junk_before_the_value_does_not_switch_decoding_off(engine, junk):
    """No budget for an attacker to spend: 256 KiB of decodable junk, then the real value, in the same frame."""
    secret = f"key {AKID} mail {EMAIL} ok"
    leaves = [Leaf("/content/0/text", "value", junk), Leaf("/content/1/text", "value", "x " + _b64(secret))]
    found = engine.scan_leaves(leaves)
    assert {f.type for f in found if f.path == "/content/1/text"} == {"aws_access_key_id", "email"}


def test_piece_span_mapping_for_escape_windows():
    text = "a=kim%40acme.io"
    [piece] = find_pieces(text, text.encode(), [0])
    assert piece.text == "a=kim@acme.io" and piece.encoding == "percent"
    assert piece.encoded_span(2, 13) == (2, 15)  # kim@acme.io -> kim%40acme.io
    assert piece.encoded_span(0, 2) == (0, 2)  # literal text maps onto itself
    assert Piece(0, 0, 8, "ab", "hex", (), 0).encoded_span(1, 2) == (2, 4)


def test_malformed_encodings_never_raise(engine):
    for text in ["%zz%4", "\\u12\\uD800 x", "&#99999999; &#x110000; &bogus;", "QUtJQVFZ" * 3 + "=====",
                 "abcd" * 4 + "a", "\\uD83D\\uDE00 ok"]:
        engine.scan_text(text)


def _protect(text: str) -> str:
    p = build_pipeline(Config(), keys=MemoryKeyProvider(), audit=NO_AUDIT)
    msg = {"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": text}], "isError": False}}
    out = p.protect(msg, Context(Direction.SERVER_TO_CLIENT, method="tools/call", server="t"))
    assert out.kind == "forward"
    return out.message["result"]["content"][0]["text"]


def _decodable(text: str) -> str:
    """Everything a reader could recover from ``text`` by the five decodings (runs decoded where they decode)."""
    out = [text, unquote(text), html.unescape(text)]
    try:
        out.append(json.loads('"' + text.replace('"', '\\"').replace("\n", "\\n") + '"'))
    except ValueError:
        pass
    for m in re.finditer(r"[A-Za-z0-9+/_-]{8,}={0,2}", text):
        run = m.group().replace("-", "+").replace("_", "/")
        for k in range(4):  # every group alignment
            part = run[k:].rstrip("=")
            part = part[: len(part) // 4 * 4]
            try:
                out.append(base64.b64decode(part).decode("utf-8", "replace"))
            except ValueError:
                pass
        for k in range(2):
            try:
                out.append(binascii.unhexlify(m.group()[k:][: (len(m.group()) - k) // 2 * 2]).decode("utf-8", "replace"))
            except ValueError:
                pass
    return "\n".join(out)


@pytest.mark.parametrize("encoding", sorted(ENCODERS))
def test_protect_leaves_neither_the_value_nor_a_decodable_form(encoding):
    payload = f"owner {EMAIL} key {AKID} token {GH}"
    encoded = ENCODERS[encoding](payload)
    out = _protect(f"export: {encoded} done")
    assert encoded not in out
    recovered = _decodable(out)
    for value in (EMAIL, AKID, GH):
        assert value not in recovered, (encoding, out)


def test_protect_base64_env_file():
    out = _protect(f"file .env (base64): {_b64(ENV)}")
    recovered = _decodable(out)
    for value in ("Xk29vLq8mZt4", AKID, GH):
        assert value not in recovered
    assert "[REDACTED" in out or "tok_" in out or out != f"file .env (base64): {_b64(ENV)}"


def test_stdlib_run_finder_matches_the_hyperscan_screen(monkeypatch):
    text = (f"a {_b64(EMAIL)} b {_hex(AKID)} c {hashlib.sha1(b'x').hexdigest()} d "
            f"{base64.urlsafe_b64encode(ENV.encode()).decode()} e short QUJD")
    with_screen = find_pieces(text, text.encode(), [0])
    monkeypatch.setattr(decode, "_screen", False)
    without = find_pieces(text, text.encode(), [0])
    assert with_screen == without and len(without) == 3


def test_run_finder_is_linear_in_memory_on_many_runs():
    """A git log holds a 40-hex commit id every ~150 bytes: finding the runs must not copy the buffer's prefix per
    run (that made an 8 MiB result take seconds). Transient allocation stays near the one mark buffer, not ~2."""
    import tracemalloc

    line = (b"commit 9fceb02d0ae598e95dc970b74767f19372d61af8\nDate:   Tue Nov 3 14:22:09 2026 +0900\n\n"
            b"    Fix it: " + base64.b64encode(b"see the runbook, section 3") + b"\n\n")
    buf = line * (4 * 1024 * 1024 // len(line))
    tracemalloc.start()
    try:
        runs = decode._runs_py(buf)
        kept, peak = tracemalloc.get_traced_memory()  # kept: the returned list itself
    finally:
        tracemalloc.stop()
    assert len(runs) == buf.count(b"commit ")  # the base64 run of each entry; the commit ids are pre-rejected
    assert peak - kept < 1.5 * len(buf), (peak, kept)


@pytest.mark.parametrize("run, plausible", [
    (b"9fceb02d0ae598e95dc970b74767f19372d61af8", False),  # a SHA-1: neither view starts like text
    (base64.b64encode(b"password=hunter2!").rstrip(b"="), True),
    (b"6b696d406d61696c2e636f2e6b72", True),  # hex of "kim@mail.co.kr"
    (b"0x" + "비밀번호".encode().hex().encode(), True),  # UTF-8 lead and continuation bytes
    (base64.urlsafe_b64encode("토큰 값".encode()), True),
    (b"/usr/local/lib/python3/site-packages", False),
    (base64.b64encode(b"\x00\x01\x02binary header"), False),
])
def test_plausible_start_rejects_hashes_and_binary_before_decoding(run, plausible):
    assert decode._plausible_start(run) is plausible


def test_c_run_finder_matches_the_python_one():
    from mcpguard.detect import _textscan

    if decode._encoded_runs is None:
        pytest.skip("the _textscan extension is not built (or MCPGUARD_PURE_PYTHON=1)")
    import os
    import random

    rnd = random.Random(5)
    pieces = [b"-", b"_", b"+", b"/", b"=", b" ", b"0x", b"a" * 8, b"QUtJQUlPU0ZPRE5ON0VYQU1QTEU", b"\n", b"AAAA",
              b"9fceb02d0ae598e95dc970b74767f19372d61af8", b"kim@mail", b"zz", b"---", "é".encode(),
              b"6b696d406d61696c2e636f2e6b72", base64.b64encode(b"hello world secret"),
              base64.urlsafe_b64encode(os.urandom(20)), os.urandom(8).hex().encode()]
    for t in range(5000):
        if t % 2:
            buf = b"".join(rnd.choice(pieces) for _ in range(rnd.randrange(1, 30)))
        else:
            buf = bytes(rnd.choice(b"ab01-_+/= xQ9") for _ in range(rnd.randrange(1, 120)))
        assert _textscan.encoded_runs(buf, decode.MIN_RUN) == decode._runs_py(buf), buf
    with pytest.raises(ValueError):
        _textscan.encoded_runs(b"abc", 3)
    with pytest.raises(TypeError):
        _textscan.encoded_runs("text", 16)


_S = f"key {AKID} mail {EMAIL} ok"


@pytest.mark.parametrize("name, text", [
    ("dash prefix", "id v1-" + _b64(_S)),
    ("url path", "https://h.io/api/v1/" + base64.urlsafe_b64encode(_S.encode()).decode()),
    ("path prefix", "tmp/" + _b64(_S)),
    ("plus prefix", "a+" + _b64(_S)),
    ("stray trailing character", _b64(_S).rstrip("=") + "x" * (1 if len(_b64(_S).rstrip("=")) % 4 == 0 else 0)),
    ("stray trailing hex digit", _hex(_S) + "0"),
    ("percent of base64 of non-ASCII", "d=" + quote(_b64("aOé " + _S), safe="")),
    ("64-byte base64 (reads as a weak Azure key)", "blob " + _b64(_S.ljust(64, "."))),
    ("percent run with a bad byte", "q=" + "".join(f"%{c:02X}" for c in _S.encode()) + "%FF"),
    ("escape run with a lone surrogate", "".join(f"\\u{ord(c):04x}" for c in _S) + "\\ud800"),
    ("percent run with controls", "q=" + "".join(f"%{c:02X}" for c in _S.encode()) + "%00%01%02"),
])
def test_common_wrappings_of_an_encoded_value_are_still_found(name, text):
    """Prefixes glued to a run, a stray trailing character, one bad escape or a low-confidence guess over the run
    must not hide the value (review findings of Dec 7)."""
    out = _protect(text)
    assert AKID not in _decodable(out), name
    assert EMAIL not in _decodable(out), name


@pytest.mark.parametrize("text, secret", [
    ("password%3A hunter2Secret99", "hunter2Secret99"),  # the context is encoded, the value is not
    ("password&#58; hunter2Secret99", "hunter2Secret99"),
    ("password%3D" + "Zk9vYmFy" * 25, "Zk9vYmFy" * 25),  # a value longer than the 96-character window
    (quote(json.dumps({"password": "Q" + "x9Zk" * 30}), safe=""), "x9Zk" * 30),
])
def test_values_whose_context_or_length_crosses_the_window_are_redacted_whole(text, secret):
    out = _protect(text)
    assert secret not in _decodable(out) and secret[:12] not in out


def test_two_values_in_one_fully_encoded_run_stay_two_findings(engine):
    text = "q=" + "".join(f"%{c:02X}" for c in _S.encode())
    found = engine.scan_text(text)
    assert [f.type for f in found] == ["aws_access_key_id", "email"]
    assert found[0].end <= found[1].start  # each maps onto its own escapes, not onto the whole run


def test_span_mapping_tables_are_built_once_per_piece():
    # A window can hold 10^5 findings: the segment keys are computed once, not per finding (that was quadratic).
    text = "a%40b.co " * 2000
    [piece] = [p for p in find_pieces(text, text.encode(), [0]) if p.encoding == "percent"]
    piece.encoded_span(0, 3)
    keys = piece._keys
    for k in range(0, len(piece.text) - 5, 97):
        piece.encoded_span(k, k + 5)
    assert piece._keys is keys and len(keys) == len(piece.segs)


@pytest.mark.parametrize("width, newline", [(76, "\n"), (64, "\n"), (76, "\r\n")])
def test_base64_wrapped_over_lines_is_decoded_as_one_block(width, newline):
    """`base64` wraps at 76 columns, PEM/MIME at 64: a value straddling a line break is found and redacted on both
    lines (review finding of Dec 7: each line was decoded alone and the key went through)."""
    blob = _b64("x" * 34 + f" key: {AKID} mail {EMAIL} " + "tail " * 20)
    wrapped = newline.join(blob[i : i + width] for i in range(0, len(blob), width))
    out = _protect(f"$ base64 notes.txt{newline}{wrapped}{newline}$ ")
    joined = re.sub(r"\s+", "", out)
    assert AKID not in _decodable(joined) and EMAIL not in _decodable(joined)
    assert out.count(newline) >= 2  # lines around the values are left in place


def test_lines_that_are_not_one_block_are_decoded_alone(engine):
    # Two unrelated runs on consecutive lines: the first is not a whole number of groups, so no joining.
    first, second = _b64("hello there friend!"), _b64(f"key {AKID}")
    assert len(first.rstrip("=")) % 4 != 0 or first.endswith("=")
    found = engine.scan_text(f"{first}\n{second}")
    assert [f.type for f in found] == ["aws_access_key_id"]


def test_utf16le_base64_powershell_encoded_command_is_decoded():
    """PowerShell's -EncodedCommand is base64 of UTF-16LE: the values inside are found and redacted in place."""
    cmd = f'$env:AWS_ACCESS_KEY_ID="{AKID}"; Send-MailMessage -To {EMAIL}'
    enc = base64.b64encode(cmd.encode("utf-16-le")).decode()
    out = _protect(f"powershell.exe -NoProfile -EncodedCommand {enc}")
    recovered = [out]
    for m in re.finditer(r"[A-Za-z0-9+/]{8,}={0,2}", out):
        for k in range(4):
            part = m.group()[k:].rstrip("=")
            part = part[: len(part) // 4 * 4]
            try:
                recovered.append(base64.b64decode(part).decode("utf-16-le", "replace"))
            except ValueError:
                pass
    assert not any(AKID in r or EMAIL in r for r in recovered)
    assert "powershell.exe -NoProfile -EncodedCommand" in out


def test_utf16le_hex_is_decoded(engine):
    text = "blob " + f"key {AKID} ok".encode("utf-16-le").hex()
    assert [f.type for f in engine.scan_text(text)] == ["aws_access_key_id"]


def test_c_and_python_run_finders_agree_on_utf16_runs():
    if decode._encoded_runs is None:
        pytest.skip("the _textscan extension is not built (or MCPGUARD_PURE_PYTHON=1)")
    from mcpguard.detect import _textscan

    for s in (f"key {AKID}", "hello world, plain", "비밀번호 1234"):
        for enc in (base64.b64encode(s.encode("utf-16-le")), s.encode("utf-16-le").hex().encode()):
            buf = b"x " + enc + b" y"
            assert _textscan.encoded_runs(buf, decode.MIN_RUN) == decode._runs_py(buf)


def test_every_line_of_a_group_that_is_not_one_block_is_decoded(engine):
    """Lines that look wrapped but do not decode as one base64 block (a hex dump, a binary line above text) are each
    decoded on their own, not just the first (review finding of Dec 8)."""
    secret = f"aws_access_key_id={AKID} and more text here"
    # xxd -p: 60 hex digits (30 bytes) per line; the key wholly inside line 2
    dump = ("log line one, plain text here.".encode() + f" {AKID}         ".encode()
            + b"third line of the dump, text..").hex()
    xxd = "\n".join(dump[i : i + 60] for i in range(0, len(dump), 60))
    assert xxd.count("\n") == 2
    assert [f.type for f in engine.scan_text(xxd)] == ["aws_access_key_id"]
    binary_line = base64.b64encode(b"id:v1;" + bytes(range(200, 254))).decode()
    assert len(binary_line) % 4 == 0 and not binary_line.endswith("=")
    text = binary_line + "\n" + _b64(secret)
    assert "aws_access_key_id" in {f.type for f in engine.scan_text(text)}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le"])
def test_wrapped_base64_of_non_ascii_text_is_one_block(engine, encoding):
    """At 76 columns a line of base64 of Korean or UTF-16 text starts mid-character: the line still joins the block
    (review of Dec 8)."""
    if encoding == "utf-8":
        secret = "메모: 운영 서버 접속 정보입니다. " * 3 + f"key {AKID} 끝"
    else:  # UTF-16LE of mostly ASCII (PowerShell): 57 bytes per line, so line 2 starts on a zero byte
        secret = "Write-Host 'deploying the service now'; " * 2 + f"$k = '{AKID}'"
    blob = base64.b64encode(secret.encode(encoding)).decode()
    wrapped = "\n".join(blob[i : i + 76] for i in range(0, len(blob), 76))
    assert "aws_access_key_id" in {f.type for f in engine.scan_text(wrapped)}
