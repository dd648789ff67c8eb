"""Hub benchmark: added latency per tools/call vs. calling the upstream directly, throughput with pooled upstreams,
memory per idle session and per user child.

    .venv/bin/python bench/hub.py                       # real mcpguard pipeline when available, else pass-through
    .venv/bin/python bench/hub.py --pipeline pass --calls 500 --seconds 10 --concurrency 16 --json out.json

Method (results go to docs/benchmarks.md, "## Hub"):

- Upstream: server-everything's ``echo`` over stdio (the test install in tests/servers), one pooled child per user.
- *direct*: the mcp SDK client talking to its own stdio child, sequential calls.
- *hub*: the hub in a separate process (uvicorn, 127.0.0.1, dev auth, JSON logs to /dev/null) and the SDK client
  over Streamable HTTP, sequential calls, in each protocol era. Added latency = hub − direct, per percentile.
- *floor*: a bare low-level ``mcp.server.Server`` whose tool returns at once, served the same way: the SDK's own
  HTTP transport cost, which the hub cannot go below.
- *throughput*: raw HTTP POSTs of 2026-07-28 ``tools/call`` requests (stateless, JSON responses; no SDK client in
  the load generator, which would be the bottleneck), N concurrent workers for T seconds, one user (one pooled child)
  and several users (one child each).
- *memory*: hub RSS before and after opening idle 2025-11-25 sessions (initialize only); RSS of user children.
- *loop* (``--loop-lag``): in process, one user's big PII-dense result (``--emails`` e-mail addresses, ~36 bytes
  each) is protected back to back through ``Gateway.protect`` while another user makes ``--small-calls`` sequential
  small ``tools/call`` s (25 times as many when offloaded) through ``Gateway.call_tool`` and a ticker sleeps 1 ms at a
  time. Reported: small-call latency (p50/p99/max, ms) and event-loop lag (ticker overshoot, p50/p99/max, ms), with
  detection *inline* (every frame on the event loop: the hub before detection moved to worker threads) and
  *offload* (the hub's default); and the CPU time of one big protect, cold (every token new) and warm. Latencies are
  wall-clock: run on an idle machine and report the load average printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NODE_BIN = ROOT / "tests" / "servers" / "node_modules" / ".bin"
EVERYTHING = str(NODE_BIN / "mcp-server-everything")


class _Pass:
    """A protector that forwards every frame unchanged (the hub's own cost without detection)."""

    def protect(self, message, ctx):
        from mcpguard.types import Outcome

        return Outcome("forward", message)


class _NoCreds:
    """A credential resolver that injects nothing."""

    async def resolve(self, principal, connector, credential):
        return None


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (/proc/<pid>/stat fields 14, 15), seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                stat = (p / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(p.name))
    return out


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000


def hub_settings(data: Path, port: int):
    """The bench hub: only the bundled ``everything`` manifest, copied without its rate limit (the bench would hit
    it: measuring the limiter is not the point)."""
    import yaml

    from hub.settings import HubSettings
    from hub.upstreams.registry import BUNDLED_DIR

    manifest = yaml.safe_load((BUNDLED_DIR / "everything" / "manifest.yaml").read_text())
    manifest.pop("rate", None)
    cdir = data / "connectors" / "everything"
    cdir.mkdir(parents=True, exist_ok=True)
    (cdir / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    return HubSettings.model_validate({
        "server": {"port": port},
        "storage": {"data_dir": str(data)},
        "connectors": {"bundled": False, "dirs": [str(data / "connectors")], "enabled": ["everything"],
                       "search_path": [str(NODE_BIN)]},
        "limits": {"max_children_per_user": 4, "max_children_total": 256},
        "log": {"level": "WARNING"},
    })


# -- server processes ----------------------------------------------------------------------------------------------
def serve_hub(data: Path, port: int, pipeline: str, loop: str = "auto") -> None:
    import uvicorn

    from hub.app import create_app
    from hub.auth.dev import DevAuthenticator
    from hub.logs import configure_logging

    s = hub_settings(data, port)
    configure_logging("WARNING", stream=open(os.devnull, "w"))  # noqa: SIM115
    kw = {"pipeline_factory": (lambda _s: _Pass())} if pipeline == "pass" else {}
    app = create_app(s, authenticator=DevAuthenticator(s), credential_sources={"secret": _NoCreds()}, **kw)
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False, loop=loop,
                http="h11" if loop == "asyncio" else "auto")


def serve_floor(port: int, loop: str = "auto") -> None:
    import mcp_types as types
    import uvicorn
    from mcp.server import Server

    async def lt(ctx, p):
        return types.ListToolsResult(tools=[types.Tool(name="echo", input_schema={"type": "object"})])

    async def ct(ctx, p):
        return types.CallToolResult(content=[types.TextContent(type="text", text="Echo: x")])

    app = Server("floor", on_list_tools=lt, on_call_tool=ct).streamable_http_app()
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False, log_level="warning", loop=loop,
                http="h11" if loop == "asyncio" else "auto")


def spawn(args: list[str], port: int) -> subprocess.Popen:
    import httpx2

    proc = subprocess.Popen([sys.executable, __file__, *args, "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code in (200, 404):
                return proc
        except Exception:  # noqa: BLE001
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server {args} did not start")


# -- measurements --------------------------------------------------------------------------------------------------
async def sequential(client, tool: str, n: int) -> list[float]:
    for _ in range(20):
        await client.call_tool(tool, {"message": "x"})
    xs = []
    for _ in range(n):
        t = time.perf_counter()
        await client.call_tool(tool, {"message": "x"})
        xs.append(time.perf_counter() - t)
    return xs


async def latency(url: str, token: str | None, tool: str, mode: str, n: int) -> list[float]:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as hc:
        async with Client(streamable_http_client(url, http_client=hc), mode=mode) as c:
            return await sequential(c, tool, n)


async def direct(n: int) -> list[float]:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    devnull = open(os.devnull, "w")  # noqa: SIM115
    from mcp.client.stdio import stdio_client

    async with Client(stdio_client(StdioServerParameters(command=EVERYTHING, args=["stdio"]), errlog=devnull),
                      mode="legacy") as c:
        return await sequential(c, "echo", n)


async def throughput(url: str, tokens: list[str], tool: str, workers: int, seconds: float) -> tuple[float, int]:
    import anyio
    import httpx2

    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": tool, "arguments": {"message": "x"}, "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": {}}}}
    base = {"accept": "application/json, text/event-stream", "content-type": "application/json",
            "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": tool}
    payload = json.dumps(body).encode()
    done = 0
    errors = 0
    limits = httpx2.Limits(max_connections=workers, max_keepalive_connections=workers)
    async with httpx2.AsyncClient(timeout=30, limits=limits) as hc:
        async def warm(tok: str) -> None:
            await hc.post(url, content=payload, headers={**base, "authorization": f"Bearer {tok}"})

        for tok in tokens:
            await warm(tok)
        end = time.perf_counter() + seconds

        async def worker(i: int) -> None:
            nonlocal done, errors
            headers = {**base, "authorization": f"Bearer {tokens[i % len(tokens)]}"}
            while time.perf_counter() < end:
                r = await hc.post(url, content=payload, headers=headers)
                if r.status_code == 200 and b'"Echo: x"' in r.content:
                    done += 1
                else:
                    errors += 1
                    if errors <= 3:
                        print(f"error sample: {r.status_code} {r.content[:200]!r}", file=sys.stderr)

        t0 = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for i in range(workers):
                tg.start_soon(worker, i)
        elapsed = time.perf_counter() - t0
    return done / elapsed, errors


async def idle_sessions(url: str, token: str, n: int) -> list:
    import httpx2

    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}}
    headers = {"accept": "application/json, text/event-stream", "content-type": "application/json",
               "authorization": f"Bearer {token}"}
    sids = []
    async with httpx2.AsyncClient(timeout=30) as hc:
        for _ in range(n):
            r = await hc.post(url, json=init, headers=headers)
            sids.append(r.headers.get("mcp-session-id"))
    return sids


async def inproc(n: int, pipeline: str) -> dict:
    """The gateway's own cost, without HTTP: the same pooled upstream session called directly vs. through
    ``Gateway.call_tool`` (auth already done; pipeline twice, redaction, routing, model validation)."""
    from types import SimpleNamespace

    import mcp_types as types

    from hub.app import create_app
    from hub.auth.base import Principal
    from hub.auth.dev import DevAuthenticator

    s = hub_settings(Path(tempfile.mkdtemp()), 0)
    kw = {"pipeline_factory": (lambda _s: _Pass())} if pipeline == "pass" else {}
    app = create_app(s, authenticator=DevAuthenticator(s), credential_sources={"secret": _NoCreds()}, **kw)
    principal = Principal(user_id="bench@example.com", email="bench@example.com", tenant="dev")
    ctx = SimpleNamespace(request=SimpleNamespace(scope={"hub.principal": principal}, headers={}),
                          request_id=1, session=None)
    params = types.CallToolRequestParams(name="everything__echo", arguments={"message": "x"})
    out = {}
    async with app.router.lifespan_context(app):
        gw, pool = app.state.hub.gateway, app.state.hub.pool
        async with pool.session(principal, "everything") as inst:
            await gw._fetch_all(inst, "tools/list")
            client = inst.client
        # Interleaved, so both series see the same machine load (this host is shared).
        d, g = [], []
        for i in range(n + 20):
            t = time.perf_counter()
            await client.call_tool("echo", {"message": "x"})
            t1 = time.perf_counter()
            r = await gw.call_tool(ctx, params)
            t2 = time.perf_counter()
            if r.is_error:
                raise RuntimeError(f"gateway call failed: {r.content[0].text}")
            if i >= 20:
                d.append(t1 - t)
                g.append(t2 - t1)
    out["upstream_p50_ms"], out["upstream_p99_ms"] = pct(d, .5), pct(d, .99)
    out["gateway_p50_ms"], out["gateway_p99_ms"] = pct(g, .5), pct(g, .99)
    out["added_p50_ms"], out["added_p99_ms"] = pct(g, .5) - pct(d, .5), pct(g, .99) - pct(d, .99)
    return out


def big_frame(emails: int) -> dict:
    """A ``tools/call`` result of ``emails`` distinct e-mail addresses in one text block (~25 bytes each)."""
    text = "\n".join(f"row {i}: kim.{i}@acmecorp.co.kr" for i in range(emails))
    return {"jsonrpc": "2.0", "id": 7, "result": {"content": [{"type": "text", "text": text}]}}


async def loop_lag(emails: int, small_calls: int, pipeline: str) -> dict:
    """See the module docstring (*loop*). Each mode gets a fresh hub data dir (token store, audit log); the big frame
    is protected twice before measuring (the first time issues and stores every token: reported as cold)."""
    from types import SimpleNamespace

    import anyio
    import mcp_types as types

    from hub.app import create_app
    from hub.auth.base import Principal
    from hub.auth.dev import DevAuthenticator
    from mcpguard.types import Direction

    frame = big_frame(emails)
    out: dict = {"emails": emails, "frame_bytes": len(json.dumps(frame))}
    for mode, n_small in (("inline", small_calls), ("offload", small_calls * 25)):
        s = hub_settings(Path(tempfile.mkdtemp()), 0)
        kw = {"pipeline_factory": (lambda _s: _Pass())} if pipeline == "pass" else {}
        app = create_app(s, authenticator=DevAuthenticator(s), credential_sources={"secret": _NoCreds()}, **kw)
        big_user = Principal(user_id="big@example.com", email="big@example.com", tenant="dev")
        small_user = Principal(user_id="small@example.com", email="small@example.com", tenant="dev")
        ctx = SimpleNamespace(request=SimpleNamespace(scope={"hub.principal": small_user}, headers={}),
                              request_id=1, session=None)
        params = types.CallToolRequestParams(name="everything__echo", arguments={"message": "x"})
        async with app.router.lifespan_context(app):
            gw, pool = app.state.hub.gateway, app.state.hub.pool
            if mode == "inline":
                gw.inline_bytes = 1 << 62  # every frame on the event loop, as before the change
            async with pool.session(small_user, "everything") as inst:
                await gw._fetch_all(inst, "tools/list")
            for _ in range(20):
                await gw.call_tool(ctx, params)

            async def big() -> None:
                o = await gw.protect(frame, direction=Direction.SERVER_TO_CLIENT, method="tools/call",
                                     connector="everything", principal=big_user)
                assert o.kind == "forward"

            warm = []
            for _ in range(2):
                c0 = time.process_time()
                await big()
                warm.append(time.process_time() - c0)
            small: list[float] = []
            lag: list[float] = []
            done = anyio.Event()
            bigs = 0

            async def big_loop() -> None:
                nonlocal bigs
                while not done.is_set():
                    await big()
                    bigs += 1
                    await anyio.sleep(0)  # a real call yields between results (upstream I/O)

            async def small_loop() -> None:
                await anyio.sleep(0.05)  # let the first big protect start
                while len(small) < n_small or bigs == 0:
                    t = time.perf_counter()
                    r = await gw.call_tool(ctx, params)
                    small.append(time.perf_counter() - t)
                    if r.is_error:
                        raise RuntimeError("small call failed")
                done.set()

            async def ticker() -> None:
                while not done.is_set():
                    t = time.perf_counter()
                    await anyio.sleep(0.001)
                    lag.append(time.perf_counter() - t - 0.001)

            cpu0, t0 = time.process_time(), time.perf_counter()
            async with anyio.create_task_group() as tg:
                tg.start_soon(big_loop)
                tg.start_soon(small_loop)
                tg.start_soon(ticker)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
        out[mode] = {
            "big_protect_cold_cpu_s": round(warm[0], 2), "big_protect_warm_cpu_s": round(warm[1], 2),
            "big_protects": bigs, "small_calls": len(small),
            "small_p50_ms": round(pct(small, .5), 2), "small_p99_ms": round(pct(small, .99), 2),
            "small_max_ms": round(max(small) * 1000, 2),
            "lag_samples": len(lag), "lag_p50_ms": round(pct(lag, .5), 2), "lag_p99_ms": round(pct(lag, .99), 2),
            "lag_max_ms": round(max(lag) * 1000, 2),
            "wall_s": round(wall, 2), "process_cpu_s": round(cpu, 2),
        }
    out["loadavg"] = os.getloadavg()[0]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--serve-hub")
    ap.add_argument("--serve-floor", action="store_true")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--pipeline", choices=["real", "pass", "auto"], default="auto")
    ap.add_argument("--calls", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--users", type=int, default=4)
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--json")
    ap.add_argument("--loop-lag", action="store_true", help="only the event-loop measurement (*loop*)")
    ap.add_argument("--emails", type=int, default=50_000, help="e-mail addresses in the big result (--loop-lag)")
    ap.add_argument("--switch-interval", type=float, default=None,
                    help="sys.setswitchinterval() for the --loop-lag run, seconds (Python's default: 0.005)")
    ap.add_argument("--small-calls", type=int, default=8,
                    help="small calls measured with detection inline; 25 times as many offloaded (--loop-lag)")
    ap.add_argument("--loop", choices=["auto", "asyncio"], default="auto",
                    help="uvicorn event loop for both servers: auto (uvloop + httptools when installed) or plain "
                         "asyncio + h11")
    a = ap.parse_args()
    if a.serve_hub:
        serve_hub(Path(a.serve_hub), a.port, a.pipeline, a.loop)
        return
    if a.serve_floor:
        serve_floor(a.port, a.loop)
        return

    import anyio

    from hub.auth.dev import DevAuthenticator
    from tests.hub.harness import free_port

    pipeline = a.pipeline
    if pipeline == "auto":
        try:
            from hub.app import default_pipeline

            default_pipeline(hub_settings(Path(tempfile.mkdtemp()), 0))
            pipeline = "real"
        except Exception:  # noqa: BLE001 - the detection engine is not installed yet
            pipeline = "pass"
    if a.loop_lag:
        if a.switch_interval is not None:
            sys.setswitchinterval(a.switch_interval)
        res = anyio.run(loop_lag, a.emails, a.small_calls, pipeline)
        res["pipeline"] = pipeline
        res["switch_interval_s"] = sys.getswitchinterval()
        print(json.dumps(res, indent=2))
        if a.json:
            Path(a.json).write_text(json.dumps(res, indent=2))
        return
    data = Path(tempfile.mkdtemp(prefix="hub-bench-"))
    hport, fport = free_port(), free_port()
    auth = DevAuthenticator(hub_settings(data, hport))
    hub = spawn(["--serve-hub", str(data), "--pipeline", pipeline, "--loop", a.loop], hport)
    floor = spawn(["--serve-floor", "--loop", a.loop], fport)
    results: dict = {"loop": a.loop, "pipeline": pipeline, "calls": a.calls, "loadavg_before": os.getloadavg()[0]}
    try:
        hub_url, floor_url = f"http://127.0.0.1:{hport}/mcp", f"http://127.0.0.1:{fport}/mcp"
        tok = auth.mint("bench0@example.com", ttl=3600)
        d = anyio.run(direct, a.calls)
        results["direct"] = {"p50_ms": pct(d, .5), "p99_ms": pct(d, .99)}
        results["inproc_gateway"] = anyio.run(inproc, a.calls, pipeline)
        for mode in ("legacy", "2026-07-28"):
            # CPU time per call of the server process: robust on a shared host, where wall-clock latency mostly
            # measures how long the scheduler keeps each process (client, hub, child) waiting.
            c0 = cpu_seconds(floor.pid)
            f = anyio.run(latency, floor_url, None, "echo", mode, a.calls)
            c1 = cpu_seconds(floor.pid)
            h0 = cpu_seconds(hub.pid)
            h = anyio.run(latency, hub_url, tok, "everything__echo", mode, a.calls)
            h1 = cpu_seconds(hub.pid)
            n_calls = a.calls + 20
            results[f"floor_{mode}"] = {"p50_ms": pct(f, .5), "p99_ms": pct(f, .99),
                                        "server_cpu_ms_per_call": round((c1 - c0) * 1000 / n_calls, 2)}
            results[f"hub_{mode}"] = {"p50_ms": pct(h, .5), "p99_ms": pct(h, .99),
                                      "server_cpu_ms_per_call": round((h1 - h0) * 1000 / n_calls, 2),
                                      "added_p50_ms": pct(h, .5) - pct(d, .5),
                                      "added_p99_ms": pct(h, .99) - pct(d, .99),
                                      "over_floor_p50_ms": pct(h, .5) - pct(f, .5)}
        rate, err = anyio.run(throughput, floor_url, ["-"], "echo", a.concurrency, a.seconds)
        results["floor_throughput_cps"] = round(rate)
        rate, err = anyio.run(throughput, hub_url, [tok], "everything__echo", a.concurrency, a.seconds)
        results["throughput_1_user_cps"] = round(rate)
        results["throughput_errors"] = err
        toks = [auth.mint(f"bench{i}@example.com", ttl=3600) for i in range(a.users)]
        rss0, kids0 = rss_kb(hub.pid), set(children(hub.pid))
        rate, err = anyio.run(throughput, hub_url, toks, "everything__echo", a.concurrency, a.seconds)
        results[f"throughput_{a.users}_users_cps"] = round(rate)
        results["throughput_errors"] += err
        new = [p for p in children(hub.pid) if p not in kids0]
        results["child_rss_mb_each"] = round(statistics.mean(rss_kb(p) for p in new) / 1024, 1) if new else None
        results["hub_rss_mb_per_user_child"] = round((rss_kb(hub.pid) - rss0) / 1024 / max(1, len(new)), 2)
        before = rss_kb(hub.pid)
        sids = anyio.run(idle_sessions, hub_url, tok, a.sessions)
        results["idle_session_kb_each"] = round((rss_kb(hub.pid) - before) / max(1, len([s for s in sids if s])), 1)
        results["hub_rss_mb"] = round(rss_kb(hub.pid) / 1024, 1)
        results["loadavg_after"] = os.getloadavg()[0]
    finally:
        for p in (hub, floor):
            p.terminate()
            p.wait(timeout=20)
    print(json.dumps(results, indent=2))
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
