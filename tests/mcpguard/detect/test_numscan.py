"""The C numeric candidate pass (``mcpguard.detect._numscan``) against the pure-Python path of ``numbers.py``.

Differential: on the labelled corpus, the benchmark's traffic frames and generated adversarial buffers, both backends
give identical ``scan_numbers`` output and stats; the C survivors are an ordered subset of what the Python path hands
to ``_classify``/``_iban`` (top-level runs, and the ``_split_retry`` tokens of runs C splits itself), and each one it
leaves out is rejected by ``_classify`` before any validator runs (checked one by one, validators patched to raise).

``MCPGUARD_REQUIRE_NUMSCAN=1`` (CI) turns a missing extension into a failure instead of a skip.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import random
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import orjson
import pytest

from mcpguard.detect.base import ScanContext
from mcpguard.detect.pii import numbers
from mcpguard.jsonrpc.leaves import collect_message
from tests.corpus.scoring import leaves_of, load
from tests.mcpguard.detect.conftest import engine_for

ROOT = Path(__file__).resolve().parents[3]
REQUIRED = os.environ.get("MCPGUARD_REQUIRE_NUMSCAN") == "1"


def test_extension_importable_when_required() -> None:
    """CI sets MCPGUARD_REQUIRE_NUMSCAN=1 so a build that silently fell back to pure Python fails here."""
    if not REQUIRED:
        pytest.skip("MCPGUARD_REQUIRE_NUMSCAN is not set")
    mod = importlib.import_module("mcpguard.detect._numscan")
    assert callable(mod.scan)
    assert numbers._load_c() is not None


@pytest.fixture(scope="module")
def c_mod() -> ModuleType:
    """The configured extension (skipped when not built, unless required)."""
    mod = numbers._load_c()
    if mod is None:
        if REQUIRED:
            pytest.fail("mcpguard.detect._numscan is not importable")
        pytest.skip("mcpguard.detect._numscan is not built")
    return mod


def _ctx(texts: list[str], keys: list[str] | None = None) -> ScanContext:
    """A scan context as the engine builds it for unfolded text: leaves joined by NUL, non-ASCII as ``?``."""
    text = "\x00".join(texts)
    return ScanContext(text.encode("ascii", "replace"), text, keys=keys)


class _Recorder:
    """Records what ``_scan_numbers_py`` hands to ``_classify``/``_iban`` as ``(start, end, kind)`` in call order,
    kind as in ``_numscan.scan`` (0 top-level ``_classify``, 1 ``_iban`` at the check digits, 2 a ``_split_retry``
    token), with the index of the top-level call a token came from."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int, int]] = []
        self.parent: list[int] = []
        self._classify, self._iban = numbers._classify, numbers._iban

    def classify(self, ctx: ScanContext, s: int, e: int, out: list, allow_split: bool = True) -> bool:
        if allow_split:
            self.parent.append(len(self.calls))
            self.calls.append((s, e, 0))
        else:
            self.parent.append(self.parent[-1])
            self.calls.append((s, e, 2))
        return self._classify(ctx, s, e, out, allow_split)

    def iban(self, ctx: ScanContext, s: int, e: int, out: list) -> None:
        self.parent.append(len(self.calls))
        self.calls.append((s + 2, e, 1))
        self._iban(ctx, s, e, out)


def _split_reached(*args: object) -> bool:
    return False


def check(c_mod: ModuleType, ctx: ScanContext, monkeypatch: pytest.MonkeyPatch) -> int:
    """Assert both backends agree on ``ctx``; return the number of C survivors."""
    rec = _Recorder()
    with monkeypatch.context() as m:
        m.setattr(numbers, "_classify", rec.classify)
        m.setattr(numbers, "_iban", rec.iban)
        st_py: dict[str, int] = {}
        py = numbers._scan_numbers_py(ctx, st_py)
    st_c: dict[str, int] = {}
    c = numbers._scan_numbers_c(ctx, st_c, c_mod.scan)
    assert c == py, ctx.buf
    assert st_c == st_py == {"candidates": len(numbers.candidates(ctx.buf.translate(numbers.CLASS_TABLE)))}
    count, flat = c_mod.scan(ctx.buf)
    assert count == st_py["candidates"]
    assert all(type(v) is int for v in flat)
    survivors = list(zip(flat[0::3], flat[1::3], flat[2::3]))
    # What C answers for: every top-level call, and the tokens of a top-level call C did not keep (C emits those
    # tokens itself). Its survivors are an ordered subset of that.
    kept = {i for i, call in enumerate(rec.calls) if call[2] != 2 and call in set(survivors)}
    owed = [call for i, call in enumerate(rec.calls) if call[2] != 2 or rec.parent[i] not in kept]
    assert [call for call in owed if call in set(survivors)] == survivors, ctx.buf
    # Each dropped one is rejected by _classify before any validator runs (the C screen only moves cheap checks);
    # a dropped top-level run may still reach _split_retry, whose tokens were checked on their own above.
    with monkeypatch.context() as m:
        for name in _VALIDATORS:
            m.setattr(numbers, name, _no_validator)
        m.setattr(numbers, "_split_retry", _split_reached)
        for s, e, kind in owed:
            if (s, e, kind) in set(survivors):
                continue
            assert kind != 1
            out: list = []
            assert numbers._classify(ctx, s, e, out, kind == 0) is False and out == [], (ctx.buf, s, e)
    return len(survivors)


_VALIDATORS = ("card_confidence", "rrn_confidence", "brn_confidence", "ssn_confidence", "national_id",
               "phone_confidence")


def _no_validator(*args: object, **kwargs: object) -> None:
    raise AssertionError("a candidate the C screen dropped reached a validator")


def test_corpus_records(c_mod: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    records, _ = load()
    survivors = 0
    for rec in records:
        leaves = list(leaves_of(rec["data"]))
        texts = [leaf.text for leaf in leaves]
        keys = [leaf.path[leaf.path.rfind("/") + 1 :].lower() for leaf in leaves]
        if texts:
            survivors += check(c_mod, _ctx(texts, keys), monkeypatch)
    assert survivors > 50  # the corpus has planted numbers: the comparison is not vacuous


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_bench_detect", ROOT / "bench" / "detect.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("kind", ["digit-heavy", "mixed", "chat", "secret-heavy"])
def test_bench_traffic(c_mod: ModuleType, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    bench = _bench()
    records, _ = load()
    for frame in bench.traffic_frames(records, kind, n_frames=6):
        leaves = collect_message(orjson.loads(frame))
        check(c_mod, _ctx([leaf.text for leaf in leaves], [leaf.path.rsplit("/", 1)[-1] for leaf in leaves]),
              monkeypatch)


def test_engine_findings_identical_on_traffic(c_mod: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end through the engine: same findings with the extension and with the Python path."""
    bench = _bench()
    records, _ = load()
    engine = engine_for(False)
    frames = bench.traffic_frames(records, "digit-heavy", n_frames=4) + bench.traffic_frames(records, "mixed", n_frames=3)
    total = 0
    for frame in frames:
        leaves = collect_message(orjson.loads(frame))
        monkeypatch.setattr(numbers, "_NUMSCAN", c_mod)
        with_c = engine.scan_leaves(leaves)
        monkeypatch.setattr(numbers, "_NUMSCAN", None)
        with_py = engine.scan_leaves(leaves)
        assert with_c == with_py
        total += len(with_c)
    assert total > 0


_PIECES = [
    "0", "1", "9", "12", "123", "1234", "12345", "123456", "1234567", "20", "19", "0000", "2024", "01", "13", "31",
    " ", " ", "-", "-", ".", ".", "  ", "--", "..", "-.", ":", "/", "+", "(", ")", "X", "x", "a", "Z", "_", "?", "\x00",
    "\n", "T", "GB", "DE89", "GB82 WEST ", "AA", "tel ", "phone: ", "account ", "ssn", "주민 ", "계정", "call",
    "2024-01-15", "15.03.2024", "2024-01-15 10", "10.0.0.1", "192.168.1.10", "8.8.8.8 ", "1" * 17 + "X",
    "010-1234-5678", "4111 1111 1111 1111", "900101-1234568", "123-45-6789", "1" * 41, "9" * 60, "-abc", "abc-",
    "1.5", "3.14159265", "+82 10-1234-5678", "(02) 123-4567", "12:34:56", "http://x/1234567890", "é",
    "+7 71234 5 67 89", "+7 ", "+1-", "+44.", "+\n", "4275582823574162 ", "5607884370374244", "172.17.232.173",
    "1.800.555.1234", "1.3.6.1.4.1.311", ".21", "12.",
]


def _generated(rnd: random.Random) -> str:
    if rnd.random() < 0.3:  # character soup: every class next to every other
        return "".join(rnd.choice("0123456789 -./:+(Xxa_AZ?\x00") for _ in range(rnd.randrange(0, 90)))
    return "".join(rnd.choice(_PIECES) for _ in range(rnd.randrange(1, 25)))


def test_generated_adversarial(c_mod: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    rnd = random.Random(20261122)
    fixed = ["", "1234567", "12345678", "9" * 45, "1-" * 30 + "1", "1." * 30 + "1", "1 " * 40 + "1",
             "0" * 7, "DE89370400440532013000", "GB82 WEST 1234 5698 7654 32", "phone 010-1234-5678",
             "x" * 39 + "tel" + " 1234567890", "x" * 40 + "tel" + "1234567890", "tel" + "x" * 37 + "1234567890",
             "2024-01-15", "2024-01-15 10", "2024-01-15 10:30", "10.0.0.1 2", "1.2.3.4.5.6.7.8", "2024-13-15",
             "15-13-2024", "2024-12-32", "2024-01-15.", "2024-13-15.", "2024-12-32.", "15.03.2024.", "15.13.2024.",
             "2024-01-15 10.", "2024-01-15 24.", "1999.12.31-23.", "6011-0009-9013-9424-124", "6011-0009-9013-9424-1240"]
    survivors = 0
    for text in fixed:
        survivors += check(c_mod, _ctx([text]), monkeypatch)
    # The early screen's window edge: a context word starting exactly 40 bytes before a bare run keeps it, and the
    # JSON key then supplies _classify's context (an AWS account id); one byte further out, both paths drop it.
    at_edge = _ctx(["tel" + "x" * 36 + " 123456789012"], ["account"])
    assert [sp.type for sp in numbers._scan_numbers_py(at_edge)] == ["aws_account_id"]
    check(c_mod, at_edge, monkeypatch)
    check(c_mod, _ctx(["tel" + "x" * 37 + " 123456789012"], ["account"]), monkeypatch)
    for _ in range(4000):
        texts = [_generated(rnd) for _ in range(rnd.randrange(1, 4))]
        keys = [rnd.choice(["", "phone", "id", "resident_no", "account"]) for _ in texts] if rnd.random() < 0.3 else None
        survivors += check(c_mod, _ctx(texts, keys), monkeypatch)
    assert survivors > 500


def test_buffer_edges_and_shapes(c_mod: ModuleType) -> None:
    # Offsets are buffer positions; runs at 0 and at the very end are found; short or screened ones are not.
    assert c_mod.scan(b"") == (0, [])
    assert c_mod.scan(b"010-1234-5678") == (1, [0, 13, 0])
    assert c_mod.scan(b"call 010-1234-5678") == (1, [5, 18, 0])
    assert c_mod.scan(b"123456") == (0, [])
    assert c_mod.scan(b"2024-01-15 10") == (0, [])  # date screen of CANDIDATES: not even a candidate
    assert c_mod.scan(b"id 1234567890") == (1, [])  # bare 10 digits, no context word: dropped
    assert c_mod.scan(b"tel 1234567890") == (1, [4, 14, 0])
    assert c_mod.scan(b"3.14159265") == (1, [])  # one-dot decimal
    assert c_mod.scan(b"order-1234-5678-9012-abc") == (1, [])  # hyphen-letter token
    assert c_mod.scan(b"sku-1234-5678-9012") == (1, [])
    assert c_mod.scan(b"2024-01-15 10.") == (1, [])  # a date (with hour) that the candidate screen let through
    assert c_mod.scan(b"at 12345678:") == (1, [])  # a time follows
    assert c_mod.scan(b"2024-000123") == (1, [])  # order number: a long group no family writes
    assert c_mod.scan(b"1234-5678-9012-3456-7890") == (1, [])  # 20 digits, no space: nothing to split
    assert c_mod.scan(b"GB82 WEST 1234 5698 7654 32") == (1, [2, 27, 1])
    # A run that _classify hands straight to _split_retry (a 6-digit group, a space): its dashed token, kind 2.
    assert c_mod.scan(b"id 123456 010-1234-5678") == (1, [10, 23, 2])
    assert c_mod.scan(b"id 123456-010-1234-5678") == (1, [])  # the same without a space: nothing to split
    assert c_mod.scan(bytearray(b"tel 1234567890")) == (1, [4, 14, 0])  # any bytes-like buffer


def test_bad_arguments_are_refused(c_mod: ModuleType) -> None:
    with pytest.raises(TypeError):
        c_mod.scan("010-1234-5678")
    with pytest.raises(ValueError):
        c_mod.configure([b"Tel"], 40, [13], [(6, 7)], [(4, 4, 4, 4)], 7, 19)
    with pytest.raises(ValueError):
        c_mod.configure([b""], 40, [13], [(6, 7)], [(4, 4, 4, 4)], 7, 19)
    with pytest.raises(TypeError):
        c_mod.configure(["tel"], 40, [13], [(6, 7)], [(4, 4, 4, 4)], 7, 19)
    with pytest.raises(ValueError):
        c_mod.configure([b"tel"], 40, [64], [(6, 7)], [(4, 4, 4, 4)], 7, 19)
    with pytest.raises(ValueError):
        c_mod.configure([b"tel"], 40, [13], [(6, 7)], [()], 7, 19)  # an empty shape
    with pytest.raises(TypeError):
        c_mod.configure([b"tel"], 40, [13], [(6, 7)], [4], 7, 19)  # a shape that is not a sequence
    with pytest.raises(ValueError):
        c_mod.configure([b"tel"], -1, [13], [(6, 7)], [(4, 4, 4, 4)], 7, 19)
    # A refused configuration leaves the previous one in place.
    assert c_mod.scan(b"tel 1234567890") == (1, [4, 14, 0])
    assert c_mod.scan(b"abc 1234567890") == (1, [])


def test_backend_switch() -> None:
    code = "from mcpguard.detect.pii import numbers; print(numbers.BACKEND)"
    env = {k: v for k, v in os.environ.items() if k != "MCPGUARD_PURE_PYTHON"}
    forced = subprocess.run([sys.executable, "-c", code], env={**env, "MCPGUARD_PURE_PYTHON": "1"}, cwd=ROOT,
                            capture_output=True, text=True, check=True)
    assert forced.stdout.strip() == "python"
    default = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                             check=True)
    built = importlib.util.find_spec("mcpguard.detect._numscan") is not None
    assert default.stdout.strip() == ("c" if built else "python")
    if REQUIRED:
        assert default.stdout.strip() == "c"


def test_scan_numbers_uses_active_backend(c_mod: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []

    def spy(buf: bytes) -> tuple[int, list[int]]:
        calls.append(buf)
        return c_mod.scan(buf)

    ctx = _ctx(["phone 010-1234-5678"])
    monkeypatch.setattr(numbers, "_NUMSCAN", type("M", (), {"scan": staticmethod(spy)}))
    found = numbers.scan_numbers(ctx)
    assert calls == [ctx.buf] and [(s.start, s.end, s.type) for s in found] == [(6, 19, "phone")]
    monkeypatch.setattr(numbers, "_NUMSCAN", None)
    assert numbers.scan_numbers(ctx) == found and len(calls) == 1



def test_context_words_window_and_case(c_mod: ModuleType) -> None:
    """Words come from configure(): a 1-byte word, the window edge, an upper-case buffer (compared lower-cased)."""
    long_shapes, spaced = sorted(numbers._LONG_GROUP_SHAPES), sorted(numbers._SPACED_SHAPES)
    try:
        c_mod.configure([b"q", b"tel"], 4, sorted(numbers._BARE_LENGTHS), long_shapes, spaced, 7, 19)
        assert c_mod.scan(b"q   1234567890") == (1, [4, 14, 0])  # "q" is the first byte of the window
        assert c_mod.scan(b"q    1234567890") == (1, [])  # one byte further out
        assert c_mod.scan(b"TEL 1234567890") == (1, [4, 14, 0])
        assert c_mod.scan(b"TE  1234567890") == (1, [])
        assert c_mod.scan(b"te? 1234567890") == (1, [4, 14, 0])  # "?": a folded non-ASCII character (Korean words)
    finally:
        numbers._load_c()
    assert c_mod.scan(b"q   1234567890") == (1, [])


def test_arbitrary_bytes(c_mod: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bytes the engine never produces (>= 0x80, controls) are plain "other" bytes on both paths."""
    rnd = random.Random(7)
    alphabet = bytes(range(256)) + b"0123456789" * 20 + b" -." * 10
    for _ in range(1500):
        buf = bytes(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 120)))
        check(c_mod, ScanContext(buf, buf.decode("latin-1")), monkeypatch)


#: Luhn-valid numbers that are no published test card (so they are findings with ``flag_placeholders`` off).
_CARD_A, _CARD_B = "4275582823574162", "5607884370374244"


def _found(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, type)`` of the pure-Python path's numeric findings in ``text``."""
    return [(sp.start, sp.end, sp.type) for sp in numbers._scan_numbers_py(_ctx([text]))]


def test_intl_prefix_with_a_separator_exempts_long_groups() -> None:
    # A run needs two digits to start, so in "+7 71234 5 67 89" (Kazakhstan) it starts at "71234", after "+7 ".
    assert _found("+7 71234 5 67 89") == [(0, 16, "phone")]
    assert _found("tel: +7 71234 5 67 89") == [(5, 21, "phone")]
    assert _found("+82 10-1234-5678") == [(0, 16, "phone")]  # "+" right before the run, as before
    # No "+CC": the long group still rejects the run; "$" would have matched "+" before a final newline.
    assert _found("7 71234 5 67 89") == []
    assert _found("+\n7 71234 5 67 89") == []
    assert numbers._INTL_LEFT.search(b"+\n") is None and numbers._INTL_LEFT.search(b"+") is not None
    assert numbers._INTL_LEFT.search(b"+1234 ") is None  # at most three country-code digits


def test_intl_prefix_in_c(c_mod: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    assert c_mod.scan(b"+7 71234 5 67 89") == (1, [3, 16, 0])
    assert c_mod.scan(b"+1-71234 5 67 89") == (1, [3, 16, 0])
    assert c_mod.scan(b"7 71234 5 67 89") == (1, [])
    assert c_mod.scan(b"+\n7 71234 5 67 89") == (1, [])
    assert c_mod.scan(b"+ 71234 5 67 89") == (1, [])  # a "+" without country-code digits
    for text in ["+7 71234 5 67 89", "+1-71234 5 67 89", "+82.71234 5 67 89", "a+1-71234 5 67 89", "+\n7 71234 5 67 89",
                 "+ 71234 5 67 89", "++7 71234 5 67 89"]:
        check(c_mod, _ctx([text]), monkeypatch)


def test_space_joined_cards_are_retried_token_by_token() -> None:
    assert _found(f"{_CARD_A} {_CARD_B}") == [(0, 16, "payment_card"), (17, 33, "payment_card")]
    assert _found(f"cards {_CARD_A} {_CARD_A[:4]}-{_CARD_A[4:8]}-{_CARD_A[8:12]}-{_CARD_A[12:]}") == [
        (6, 22, "payment_card"), (23, 42, "payment_card")]
    # Only lengths some family takes bare: a 12-digit token is no card and is not retried on its own.
    assert _found(f"{_CARD_A[:12]} {_CARD_B}") == [(13, 29, "payment_card")]


def test_space_joined_cards_in_c(c_mod: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    assert c_mod.scan(f"{_CARD_A} {_CARD_B}".encode()) == (1, [0, 16, 2, 17, 33, 2])
    assert c_mod.scan(f"{_CARD_A[:12]} {_CARD_B}".encode()) == (1, [13, 29, 2])
    assert c_mod.scan(f"{_CARD_A[:12]} {_CARD_B[:12]}".encode()) == (1, [])
    for text in [f"{_CARD_A} {_CARD_B}", f"x {_CARD_A} {_CARD_B}:", f"{_CARD_A} {_CARD_B}-abc",
                 "1" * 19 + " " + "2" * 20]:
        check(c_mod, _ctx([text]), monkeypatch)


def _every_form(text: bytes) -> list[list[tuple[int, int, bool]]]:
    """The candidates of ``text`` from ``CANDIDATES``, :func:`numbers.candidates` and the marked pass."""
    classes = text.translate(numbers.CLASS_TABLE)
    return [[(m.start(), m.end(), m.start(1) >= 0) for m in numbers.CANDIDATES.finditer(classes)],
            numbers.candidates(classes), numbers._marked_candidates(classes)]


def test_no_candidate_starts_inside_a_dotted_run() -> None:
    # The dotted quad is screened whole; its tail "17.232.173" used to be a candidate of its own.
    for text in [b"172.17.232.173", b"ip 10.100.200.300 up", b"oid 1.3.6.1.4.1.311.21.8.1234567",
                 b"v12.34567890", b"2.5.4.3.1234567"]:
        assert _every_form(text) == [[], [], []], text
    # A lone leading digit stays a prefix: NANP numbers written with dots, and decimals as before.
    assert _every_form(b"1.800.555.1234") == [[(2, 14, False)]] * 3
    assert _every_form(b"call +1.212.736.5000") == [[(8, 20, False)]] * 3
    assert _found("call 1.212.736.5000") == [(7, 19, "phone")]
    assert _every_form(b"x.12.3456789") == [[(2, 12, False)]] * 3  # a dot after a letter is no dotted run


def test_no_candidate_inside_a_dotted_run_in_c(c_mod: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    assert c_mod.scan(b"172.17.232.173") == (0, [])
    assert c_mod.scan(b"oid 1.3.6.1.4.1.311.21.8.1234567") == (0, [])
    assert c_mod.scan(b"call 1.212.736.5000") == (1, [7, 19, 0])
    rnd = random.Random(3)
    for _ in range(300):
        quad = ".".join(str(rnd.randrange(256)) for _ in range(rnd.randrange(3, 7)))
        text = rnd.choice(["", "ip ", "x", "1.", "+", "v"]) + quad + rnd.choice(["", " ", ".5", ":80", "-1234567"])
        check(c_mod, _ctx([text]), monkeypatch)
