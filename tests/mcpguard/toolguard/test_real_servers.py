"""False-positive check: the live tool, prompt and resource-template lists and server instructions of real MCP servers
(server-everything, server-filesystem, mcp-server-git, mcp-server-time, mcp-server-sqlite) raise no poisoning
finding, are not rewritten by the guard, and pin stably across two listings."""

from __future__ import annotations

import copy
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mcpguard.config import ToolsConfig
from mcpguard.toolguard.guard import ToolGuard
from mcpguard.toolguard.pins import server_identity
from mcpguard.toolguard.poisoning import scan_definition
from mcpguard.types import Context, Direction
from tests.conftest import (SERVER_EVERYTHING, SERVER_FILESYSTEM, SERVER_GIT, SERVER_SQLITE, SERVER_TIME,
                            require_server)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]
LISTS = [("tools", "tools/list"), ("prompts", "prompts/list"), ("resources", "resources/templates/list")]


def capture(argv: list[str], cwd: Path) -> list[tuple[str, dict]]:
    """``[(method answered, raw JSON-RPC response)]`` for initialize and each list the server supports, read from
    the server's own stdout (raw JSON, before any SDK model drops fields)."""
    proc = subprocess.Popen(require_server(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, cwd=cwd, text=True)
    assert proc.stdin and proc.stdout

    def ask(rid: int, method: str, params: dict) -> dict:
        proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}) + "\n")
        proc.stdin.flush()
        while True:
            line = proc.stdout.readline()
            assert line, f"{argv[0]} closed stdout"
            msg = json.loads(line)
            if msg.get("id") == rid:
                return msg

    try:
        out = [("initialize", ask(1, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                                    "clientInfo": {"name": "test", "version": "1"}}))]
        proc.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
        caps = out[0][1]["result"].get("capabilities", {})
        for i, (cap, method) in enumerate(LISTS, start=2):
            if cap in caps:
                out.append((method, ask(i, method, {})))
        return out
    finally:
        proc.stdin.close()
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> dict[str, list[tuple[str, dict]]]:
    work = tmp_path_factory.mktemp("servers")
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    (work / "README.md").write_text("hello\n")
    argvs = {
        "everything": SERVER_EVERYTHING,
        "filesystem": [*SERVER_FILESYSTEM, str(work)],
        "git": [*SERVER_GIT, "--repository", str(work)],
        "time": SERVER_TIME,
        "sqlite": [*SERVER_SQLITE, "--db-path", str(work / "x.db")],
    }
    with ThreadPoolExecutor(max_workers=len(argvs)) as pool:  # start-up dominates; start them together
        futures = {name: pool.submit(capture, argv, work) for name, argv in argvs.items()}
        return {name: f.result(timeout=60) for name, f in futures.items()}


def engine_scan():
    try:
        from mcpguard.config import DetectionConfig
        from mcpguard.detect.engine import build_engine
    except ImportError:  # the engine is optional for this check; the rule scan runs regardless
        return None
    return build_engine(DetectionConfig()).scan_text


def test_real_servers_capture_is_meaningful(live) -> None:
    tools = {name: len(r["result"]["tools"]) for name, caps in live.items() for m, r in caps if m == "tools/list"}
    assert tools["everything"] >= 10 and tools["filesystem"] >= 10 and tools["git"] >= 10
    assert tools["time"] == 2 and tools["sqlite"] >= 5
    assert any(m == "prompts/list" for m, _ in live["everything"])
    assert any(m == "resources/templates/list" for m, _ in live["everything"])
    assert live["everything"][0][1]["result"].get("instructions")


def test_no_poisoning_findings_on_real_servers(live) -> None:
    scan = engine_scan()
    flagged = []
    for server, caps in live.items():
        for method, resp in caps:
            result = resp.get("result") or {}
            items = ([result["instructions"]] if method == "initialize" and result.get("instructions") else
                     result.get({"tools/list": "tools", "prompts/list": "prompts",
                                 "resources/templates/list": "resourceTemplates"}.get(method, ""), []))
            for item in items:
                verdict = scan_definition(item, scan_text=scan)
                if verdict.findings:
                    flagged.append((server, method, item.get("name") if isinstance(item, dict) else "instructions",
                                    verdict.rules))
    assert flagged == []


def test_guard_leaves_real_lists_alone_and_pins_stably(live, tmp_path) -> None:
    events: list = []
    for server, caps in live.items():
        guard = ToolGuard(ToolsConfig(pins_path=str(tmp_path / "pins.json")), identity=server_identity(server, [server]),
                          audit=lambda kind, fields: events.append(dict(fields)))
        for _ in range(2):  # second round: same definitions, nothing drifts
            for method, resp in caps:
                out = guard.on_server_message(copy.deepcopy(resp), Context(Direction.SERVER_TO_CLIENT, method=method,
                                                                           server=server))
                assert out is None, (server, method)
    kinds = {e["event"] for e in events}
    assert kinds == {"tools_pinned"}, [e for e in events if e["event"] != "tools_pinned"]
