import io
import json

import pytest
from typer.testing import CliRunner

from mcpguard import scan
from mcpguard.config import Config, parse_config
from mcpguard.types import Direction
from tests.mcpguard.fakes import FakeEngine

EMAIL = "alice@example.com"
AKID = "AKIAABCDEFGHIJKLMNOP"


def run(tmp_path, data, **kw):
    src = tmp_path / kw.pop("name", "in.txt")
    src.write_text(data)
    out, err = io.StringIO(), io.StringIO()
    code = scan.run(str(src), config=kw.pop("config", Config()), engine=FakeEngine(), out=out, err=err, **kw)
    rows = [json.loads(l) for l in out.getvalue().splitlines()] if kw.get("fmt", "jsonl") == "jsonl" else out.getvalue()
    return code, rows, err.getvalue()


def test_text_input_reports_offsets_and_no_values(tmp_path):
    code, rows, _ = run(tmp_path, f"mail {EMAIL} key {AKID}", input_format="text")
    assert code == scan.EXIT_FINDINGS
    assert [(r["record"], r["type"], r["path"], r["start"], r["end"], r["action"]) for r in rows] == [
        (0, "email", "", 5, 22, "tokenize"), (0, "aws_access_key_id", "", 27, 47, "redact")]
    assert set(rows[0]) >= {"record", "type", "rule", "path", "start", "end", "confidence", "action"}
    assert EMAIL not in json.dumps(rows) and AKID not in json.dumps(rows)


def test_json_input_uses_pointers_and_hides_sensitive_keys(tmp_path):
    doc = {"users": [{"mail": EMAIL}], EMAIL: {"k": AKID}}
    code, rows, _ = run(tmp_path, json.dumps(doc), input_format="json")
    paths = {(r["type"], r["path"]) for r in rows}
    assert ("email", "/users/0/mail") in paths
    assert ("aws_access_key_id", "/[REDACTED:email]/k") in paths
    assert EMAIL not in json.dumps(rows)


def test_jsonl_records_are_lines_strings_as_text(tmp_path):
    data = "\n".join([json.dumps("plain " + EMAIL), "", json.dumps({"a": AKID}), json.dumps({"clean": 1})])
    code, rows, _ = run(tmp_path, data, input_format="jsonl")
    assert [(r["record"], r["path"]) for r in rows] == [(0, ""), (2, "/a")]


def test_jsonl_bad_line_is_a_data_error_but_others_are_scanned(tmp_path):
    code, rows, err = run(tmp_path, f'{{"a": "{EMAIL}"}}\nnot json {AKID}\n', input_format="jsonl")
    assert code == scan.EXIT_DATAERR and "line 2 is not JSON" in err and AKID not in err
    assert len(rows) == 1


@pytest.mark.parametrize("data,name,expected", [
    ('{"a": 1}', "x.txt", "json"),
    ('{"a": 1}\n{"b": 2}\n', "x.txt", "jsonl"),
    ('{"a": 1}', "x.jsonl", "jsonl"),
    ("just text {", "x.txt", "text"),
])
def test_auto_detects_input_format(data, name, expected):
    assert scan._sniff(data, name) == expected


def test_clean_input_and_allowed_findings_exit_zero(tmp_path):
    assert run(tmp_path, "nothing to see")[0] == scan.EXIT_CLEAN
    code, rows, _ = run(tmp_path, EMAIL, direction=Direction.CLIENT_TO_SERVER)  # pii allowed toward servers
    assert code == scan.EXIT_CLEAN and rows[0]["action"] == "allow"


def test_text_format(tmp_path):
    code, text, _ = run(tmp_path, f"x {AKID}", fmt="text", input_format="text")
    assert "aws_access_key_id" in text and "-> redact" in text and AKID not in text


def test_cli_scan_reads_stdin(monkeypatch):
    from mcpguard import runtime
    from mcpguard.cli import app

    monkeypatch.setattr(runtime, "build_engine", lambda cfg: FakeEngine())
    monkeypatch.delenv("MCPGUARD_CONFIG", raising=False)
    res = CliRunner().invoke(app, ["scan", "--input-format", "text", "-"], input=f"k={AKID}\n")
    assert res.exit_code == 1, res.output
    assert json.loads(res.stdout.splitlines()[0])["type"] == "aws_access_key_id"
    bad = CliRunner().invoke(app, ["scan", "--format", "xml", "-"], input="x")
    assert bad.exit_code == 2


def test_cli_scan_with_the_real_engine(tmp_path, monkeypatch):
    from mcpguard.cli import app

    monkeypatch.delenv("MCPGUARD_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([json.dumps("key AKIAQWERTYUIOPASDFGH"), json.dumps({"user": {"mail": "bob@corp.io"}}),
                              json.dumps({"clean": "nothing"})]) + "\n")
    res = CliRunner().invoke(app, ["scan", "--input-format", "jsonl", str(src)])
    assert res.exit_code == 1, res.output
    rows = [json.loads(l) for l in res.stdout.splitlines()]
    assert [(r["record"], r["type"], r["path"], r["start"], r["end"], r["action"]) for r in rows] == [
        (0, "aws_access_key_id", "", 4, 24, "redact"), (1, "email", "/user/mail", 0, 11, "tokenize")]
    assert "AKIAQWERTYUIOPASDFGH" not in res.stdout and "bob@corp.io" not in res.stdout
