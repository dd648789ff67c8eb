import pytest

from mcpguard.audit.store import AuditLog
from mcpguard.audit.verify import verify_file
from mcpguard.errors import AuditIntegrityError


def test_torn_last_line_is_reported(tmp_path):
    path = tmp_path / "a.jsonl"
    log = AuditLog(path)
    log.append("frame", {})
    with path.open("ab") as fh:
        fh.write(b'{"seq":1')
    res = verify_file(path)
    assert not res.ok and res.first_bad == 1


def test_missing_files_raise_integrity_error(tmp_path):
    with pytest.raises(AuditIntegrityError):
        verify_file(tmp_path / "nope")
    path = tmp_path / "a.jsonl"
    AuditLog(path).append("frame", {})
    with pytest.raises(AuditIntegrityError):
        verify_file(path, anchor_path=tmp_path / "no-anchor")


def _log(tmp_path, n=4):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, anchor_path=tmp_path / "anchor.json")
    for i in range(n):
        log.append("frame", {"n": i})
    return path


def _cli(*args):
    from typer.testing import CliRunner

    from mcpguard.cli import app

    return CliRunner().invoke(app, ["audit", "verify", *map(str, args)])


def test_cli_verify_intact_chain(tmp_path):
    path = _log(tmp_path)
    res = _cli(path, "--anchor", tmp_path / "anchor.json")
    assert res.exit_code == 0 and "ok: 4 records" in res.output


@pytest.mark.parametrize("tamper,bad", [
    (lambda ls: ls[:1] + [ls[1].replace(b'"n":1', b'"n":7')] + ls[2:], 1),  # edit
    (lambda ls: [ls[0], ls[2], ls[1], ls[3]], 1),  # reorder
    (lambda ls: ls[:2] + ls[3:], 2),  # delete in the middle
])
def test_cli_verify_names_first_bad_record(tmp_path, tamper, bad):
    path = _log(tmp_path)
    path.write_bytes(b"".join(tamper(path.read_bytes().splitlines(keepends=True))))
    res = _cli(path)
    assert res.exit_code == 1 and f"record {bad} (line {bad + 1})" in res.output


def test_cli_verify_truncated_tail_needs_the_anchor(tmp_path):
    path = _log(tmp_path)
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:2]))
    assert _cli(path).exit_code == 0  # without the anchor a clean cut is invisible
    res = _cli(path, "--anchor", tmp_path / "anchor.json")
    assert res.exit_code == 1 and "truncated" in res.output
