import json
import os
import threading

import pytest

from mcpguard.audit.store import AuditLog
from mcpguard.audit.verify import verify_file
from mcpguard.errors import AuditUnavailable


def test_append_creates_private_file_and_chains(tmp_path):
    path = tmp_path / "sub" / "audit.jsonl"
    log = AuditLog(path, clock=lambda: 0.0)
    r0 = log.append("frame", {"direction": "server_to_client"})
    r1 = log.record_event("token_reveal", {"token": "[[EMAIL:0123456789ab]]"})
    assert (r0["seq"], r1["seq"], r1["prev"]) == (0, 1, r0["hash"])
    assert r0["ts"] == "1970-01-01T00:00:00.000Z"
    assert (path.stat().st_mode & 0o077) == 0 and (path.parent.stat().st_mode & 0o077) == 0
    assert verify_file(path).ok


def test_resumes_the_chain_after_restart(tmp_path):
    path = tmp_path / "a.jsonl"
    AuditLog(path).append("frame", {"n": 1})
    log = AuditLog(path)
    rec = log.append("frame", {"n": 2})
    assert rec["seq"] == 1
    assert verify_file(path).ok


def test_two_writers_on_one_file_keep_one_chain(tmp_path):
    path = tmp_path / "a.jsonl"
    a, b = AuditLog(path), AuditLog(path)
    for i in range(5):
        a.append("frame", {"n": i})
        b.append("frame", {"n": i})
    res = verify_file(path)
    assert res.ok and res.records == 10


def test_concurrent_threads(tmp_path):
    path = tmp_path / "a.jsonl"
    log = AuditLog(path)
    start = threading.Barrier(8)

    def work():
        start.wait()
        for i in range(25):
            log.append("frame", {"n": i})

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    res = verify_file(path)
    assert res.ok and res.records == 200


@pytest.mark.parametrize("tail", [b'{"seq": 1, "trunc', b'{"seq":1,"hash":"00"}\n'])
def test_corrupt_tail_fails_closed(tmp_path, tail):
    path = tmp_path / "a.jsonl"
    AuditLog(path).append("frame", {"n": 1})
    with path.open("ab") as fh:
        fh.write(tail)
    with pytest.raises(AuditUnavailable, match="audit verify"):
        AuditLog(path).append("frame", {"n": 2})


def test_unwritable_path_raises_audit_unavailable(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(AuditUnavailable):
        AuditLog(blocker / "audit.jsonl").append("frame", {})


def test_anchor_tracks_the_last_record(tmp_path):
    path, anchor = tmp_path / "a.jsonl", tmp_path / "anchor.json"
    log = AuditLog(path, anchor_path=anchor, fsync=True)
    log.append("frame", {})
    last = log.append("frame", {})
    data = json.loads(anchor.read_text())
    assert (data["seq"], data["hash"]) == (1, last["hash"])
    assert verify_file(path, anchor_path=anchor).ok
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0])
    res = verify_file(path, anchor_path=anchor)
    assert not res.ok and res.first_bad == 1


def test_fingerprints_are_keyed_and_stable(tmp_path):
    key = os.urandom(32)
    a = AuditLog(tmp_path / "a", fingerprint_key=key)
    b = AuditLog(tmp_path / "b", fingerprint_key=key)
    c = AuditLog(tmp_path / "c", fingerprint_key=os.urandom(32))
    assert a.fingerprint("email", "x@y.io") == b.fingerprint("email", "x@y.io") != c.fingerprint("email", "x@y.io")
    assert a.fingerprint("email", "x@y.io") != a.fingerprint("email", "z@y.io")


def test_two_processes_appending_concurrently_keep_one_chain(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "a.jsonl"
    code = ("import sys; from mcpguard.audit.store import AuditLog; log = AuditLog(sys.argv[1]); "
            "[log.append('frame', {'n': i}) for i in range(100)]")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path)]) for _ in range(2)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    res = verify_file(path)
    assert res.ok and res.records == 200


def test_moving_the_log_aside_starts_a_new_chain_at_the_path(tmp_path):
    path = tmp_path / "a.jsonl"
    log = AuditLog(path)
    log.append("frame", {"n": 1})
    path.rename(tmp_path / "old.jsonl")
    rec = log.append("frame", {"n": 2})
    assert rec["seq"] == 0 and verify_file(path).ok and verify_file(tmp_path / "old.jsonl").records == 1


def test_new_chain_after_an_anchored_one_names_the_old_head(tmp_path):
    path, anchor = tmp_path / "a.jsonl", tmp_path / "anchor.json"
    log = AuditLog(path, anchor_path=anchor)
    log.append("frame", {})
    head = log.append("frame", {})
    path.unlink()
    first = AuditLog(path, anchor_path=anchor).append("frame", {})
    assert first["seq"] == 0 and first["previous_chain"] == {"seq": 1, "hash": head["hash"]}
    assert verify_file(path, anchor_path=anchor).ok
