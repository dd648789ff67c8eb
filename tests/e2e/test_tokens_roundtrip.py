"""Reversible tokens, end to end, on a real server: mcp-server-sqlite behind ``mcpguard wrap``.

The client (the mcp SDK ``Client``) reads rows holding emails and Korean RRNs and sees only tokens; it then queries
and writes with those tokens, and the server receives (and stores) the real values. Two recording shims
(``children/tee.py``) capture the client's transcript (in front of the wrapper) and the server's view (behind it).
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from pathlib import Path

import anyio
import pytest

from mcp import Client
from mcp.client.stdio import StdioServerParameters
from tests.conftest import MCPGUARD, ROOT, SERVER_SQLITE, require_server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

TOKEN = re.compile(r"\[\[([A-Z][A-Z0-9_]*):([0-9a-f]{12,32})\]\]")


def rrn(front: str, back6: str) -> str:
    """A Korean resident registration number ``YYMMDD-GNNNNNC`` with a valid check digit (weights 2..9,2..5)."""
    digits = [int(c) for c in front + back6]
    check = (11 - sum(d * w for d, w in zip(digits, [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5])) % 11) % 10
    return f"{front}-{back6}{check}"


PEOPLE = [
    ("Kim Minji", "minji.kim@acme-corp.kr", rrn("900101", "223456")),
    ("Lee Junho", "junho.lee@hanbit-soft.com", rrn("851224", "112345")),
    ("Park Sora", "sora.park@nurimedia.org", rrn("020315", "412345")),
]
RAW = [v for _, email, number in PEOPLE for v in (email, number)]


def make_db(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE people (name TEXT, email TEXT, rrn TEXT)")
    con.execute("CREATE TABLE contacted (email TEXT, note TEXT)")
    con.executemany("INSERT INTO people VALUES (?, ?, ?)", PEOPLE)
    con.commit()
    con.close()


def test_sqlite_token_round_trip(tmp_path: Path) -> None:
    require_server(SERVER_SQLITE)
    db = tmp_path / "people.db"
    make_db(db)
    cfg = tmp_path / "mcpguard.toml"
    cfg.write_text(f'[audit]\npath = "{tmp_path}/audit.jsonl"\n[keys]\ndir = "{tmp_path}/keys"\n'
                   f'[tools]\npins_path = "{tmp_path}/pins.json"\n'
                   '[policy.server_to_client]\npii = "tokenize"\n[policy.client_to_server]\npii = "allow"\n')
    client_log, server_log = tmp_path / "client.jsonl", tmp_path / "server.jsonl"
    tee = [sys.executable, "-m", "tests.e2e.children.tee"]
    params = StdioServerParameters(
        command=tee[0],
        args=[*tee[1:], str(client_log), "--", *MCPGUARD, "wrap", "--name", "sqlite", "--",
              *tee, str(server_log), "--", *SERVER_SQLITE, "--db-path", str(db)],
        env={"MCPGUARD_CONFIG": str(cfg), "HOME": str(tmp_path)}, cwd=str(ROOT))

    async def scenario() -> None:
        async with Client(params, mode="legacy") as client:
            rows = await client.call_tool("read_query", {"query": "SELECT name, email, rrn FROM people ORDER BY name"})
            text = rows.content[0].text
            assert not any(v in text for v in RAW), "raw PII reached the client"
            tokens = TOKEN.findall(text)
            assert {t for t, _ in tokens} >= {"EMAIL", "KR_RRN"}, text
            emails = re.findall(r"\[\[EMAIL:[0-9a-f]+\]\]", text)
            assert len(set(emails)) == 3
            assert all(name in text for name, _, _ in PEOPLE)  # names are not tokenized here

            # the same value gets the same token on a second read
            again = await client.call_tool("read_query", {"query": "SELECT email FROM people ORDER BY name"})
            assert re.findall(r"\[\[EMAIL:[0-9a-f]+\]\]", again.content[0].text) == emails

            # query with a token: the server receives the real email and finds the row
            kim_token = emails[0]  # rows ordered by name: Kim first
            hit = await client.call_tool("read_query", {
                "query": f"SELECT name, email FROM people WHERE email = '{kim_token}'"})
            assert "Kim Minji" in hit.content[0].text and "Lee" not in hit.content[0].text
            assert kim_token in hit.content[0].text and PEOPLE[0][1] not in hit.content[0].text

            # write with a token inside a larger string
            await client.call_tool("write_query", {
                "query": f"INSERT INTO contacted VALUES ('{emails[1]}', 'mailed {emails[1]} on Monday')"})

            # a made-up token passes through unchanged (and is audited)
            miss = await client.call_tool("read_query", {
                "query": "SELECT count(*) AS n FROM people WHERE email = '[[EMAIL:0123456789ab]]'"})
            assert "0" in miss.content[0].text

    anyio.run(scenario)

    # the server's own view: the DB holds the real value, never a token
    con = sqlite3.connect(db)
    stored = con.execute("SELECT email, note FROM contacted").fetchall()
    con.close()
    assert stored == [(PEOPLE[1][1], f"mailed {PEOPLE[1][1]} on Monday")]
    server_in = [json.loads(l)["line"] for l in server_log.read_text().splitlines() if json.loads(l)["dir"] == "in"]
    assert any(PEOPLE[0][1] in line for line in server_in)  # the WHERE clause arrived restored
    assert not any("[[EMAIL:" in line and "0123456789ab" not in line for line in server_in)

    # the client's transcript (everything the wrapper wrote to it) holds no raw value
    transcript = client_log.read_text()
    assert '"out"' in transcript and "[[EMAIL:" in transcript
    assert not any(v in transcript for v in RAW)
    # nor does the audit log
    audit = (tmp_path / "audit.jsonl").read_text()
    assert audit and not any(v in audit for v in RAW)
    records = [json.loads(line) for line in audit.splitlines()]
    token_counts = [r["tokens"] for r in records if r.get("direction") == "client_to_server" and r.get("tokens")]
    assert {"restored": 1} in token_counts and {"restored": 2} in token_counts  # the WHERE and the INSERT
    assert {"unknown": 1} in token_counts  # the made-up token, passed through and audited
