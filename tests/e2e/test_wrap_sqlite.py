"""E2E: the real mcp-server-sqlite (an mcp 1.x server, from its own environment) behind `mcpguard wrap`, over rows
holding e-mails, phone numbers, Korean RRNs and card numbers; read with the mcp SDK's real client."""

from __future__ import annotations

import sqlite3

import anyio
import pytest
from mcp import Client

from mcpguard.demo import CUSTOMERS
from tests.conftest import SERVER_SQLITE, require_server
from tests.mcpguard.wrap.harness import audit_verify, texts, wrap_params, write_config

pytestmark = pytest.mark.e2e

EMAILS = ["minjun.kim@hanbit-logistics.co.kr", "seoyeon.lee@gmail.com", "jihoon.park@naver.com"]


def test_sqlite_rows_are_protected(tmp_path):
    db = tmp_path / "shop.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, rrn TEXT, phone TEXT, "
                "card TEXT, city TEXT)")
    for i, ((name, rrn, phone, card), email) in enumerate(zip(CUSTOMERS, EMAILS), 1):
        con.execute("INSERT INTO customers VALUES (?,?,?,?,?,?,?)", (i, name, email, rrn, phone, card, "Seoul"))
    con.commit()
    con.close()
    cfg = write_config(tmp_path)
    params = wrap_params(cfg, require_server(SERVER_SQLITE) + ["--db-path", str(db)], name="sqlite")
    seen = {}

    async def main():
        async with Client(params, mode="legacy") as client:
            seen["tables"] = texts(await client.call_tool("list_tables", {}))
            seen["rows"] = texts(await client.call_tool("read_query", {"query": "SELECT * FROM customers"}))

    anyio.run(main)
    assert "customers" in seen["tables"]
    rows = seen["rows"]
    assert "Seoul" in rows and "김민준" in rows  # ordinary data passes
    for value in EMAILS + [c[1] for c in CUSTOMERS] + [c[2] for c in CUSTOMERS] + [c[3] for c in CUSTOMERS]:
        assert value not in rows
    for token in ("[[EMAIL:", "[[KR_RRN:", "[[PHONE:", "[[PAYMENT_CARD:"):
        assert token in rows
    assert audit_verify(tmp_path / "audit.jsonl").returncode == 0
