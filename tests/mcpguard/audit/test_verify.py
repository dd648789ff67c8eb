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
