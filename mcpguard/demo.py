"""``mcpguard demo``: a real MCP server, real sensitive data, the real client, side by side.

The demo builds a throw-away git repository that looks like a small company's: commits by authors with e-mail
addresses, a committed ``config/prod.env`` holding an AWS access key id and secret key and a PostgreSQL URL with its
password, and ``data/customers.csv`` with Korean names, resident registration numbers, phone numbers and card
numbers. It then starts the real ``mcp-server-git`` twice with the mcp SDK's real client (``mcp.Client`` over
``StdioServerParameters``): once directly, to show what the server sends, and once behind
``mcpguard wrap --config <temp> -- python -m mcp_server_git …``, to show what a client (and so the model) receives.
It prints the lines that differ, checks that none of the seeded values reached the wrapped client, and verifies the
hash chain of the temporary audit log. Everything is local (no network) and removed afterwards unless ``--keep``.

Exit status: 0 when every seeded value was kept from the client and the audit chain verifies, 1 otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Seeded values (fake but valid-looking: the RRNs and cards pass their checksums). The demo fails if the wrapped
#: client sees any of them.
AWS_KEY_ID = "AKIAQYLPMN5HHHFPZAM2"
AWS_SECRET = "k3Xq9vT7pL2mN8rB5wZ1yC4hF6jD0sGaE7uYiOpQ"
PG_PASSWORD = "Tr0ub4dor-prod-2026"
PG_URL = f"postgres://orders_admin:{PG_PASSWORD}@db-prod.hanbit-logistics.internal:5432/orders"
AUTHORS = [
    ("Kim Minjun", "minjun.kim@hanbit-logistics.co.kr"),
    ("Lee Seoyeon", "seoyeon.lee@hanbit-logistics.co.kr"),
    ("Park Jihoon", "jihoon.park@hanbit-logistics.co.kr"),
]
CUSTOMERS = [
    ("김민준", "850315-1234566", "010-2345-6789", "4539 1488 0343 6467"),
    ("이서연", "920708-2543213", "010-8765-4321", "5412 7534 5678 9010"),
    ("박지훈", "010101-3123458", "+82 10-5555-0142", "4539-1488-0343-6467"),
]
SEEDED = [AWS_KEY_ID, AWS_SECRET, PG_PASSWORD] + [e for _, e in AUTHORS] + [c[1] for c in CUSTOMERS] + [
    c[2] for c in CUSTOMERS
]


def _git(repo: Path, *args: str, author: tuple[str, str] | None = None, when: str | None = None) -> str:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(repo.parent), "GIT_CONFIG_NOSYSTEM": "1",
           "LANG": "C.UTF-8"}
    if author:
        env.update(GIT_AUTHOR_NAME=author[0], GIT_AUTHOR_EMAIL=author[1], GIT_COMMITTER_NAME=author[0],
                   GIT_COMMITTER_EMAIL=author[1])
    if when:
        env.update(GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
    return subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True,
                          text=True).stdout


def seed_repo(repo: Path) -> Path:
    """Create the demo repository at ``repo`` (three commits). Raises ``subprocess.CalledProcessError`` when git
    fails and ``FileNotFoundError`` when git is not installed."""
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# orders-service\n\nShipping orders API for Hanbit Logistics.\n")
    _git(repo, "add", "README.md")
    _git(repo, "commit", "-q", "-m", "Initial commit", author=AUTHORS[0], when="2026-09-01T09:12:00+09:00")
    (repo / "config").mkdir()
    (repo / "config" / "prod.env").write_text(
        "# production settings -- TODO move to the secret manager\n"
        f"AWS_ACCESS_KEY_ID={AWS_KEY_ID}\n"
        f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}\n"
        "AWS_REGION=ap-northeast-2\n"
        f"DATABASE_URL={PG_URL}\n"
    )
    _git(repo, "add", "config/prod.env")
    _git(repo, "commit", "-q", "-m", "Add production config", author=AUTHORS[1], when="2026-09-14T18:40:00+09:00")
    (repo / "data").mkdir()
    rows = ["name,rrn,phone,card"] + [",".join(f'"{v}"' if "," in v else v for v in c) for c in CUSTOMERS]
    (repo / "data" / "customers.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    _git(repo, "add", "data/customers.csv")
    _git(repo, "commit", "-q", "-m", "Add customer export for the billing migration", author=AUTHORS[2],
         when="2026-10-02T11:05:00+09:00")
    return repo


def calls(repo: Path) -> list[tuple[str, dict[str, Any]]]:
    """The tool calls the demo makes (the same for both connections)."""
    r = str(repo)
    return [
        ("git_show", {"repo_path": r, "revision": "HEAD~1"}),
        ("git_show", {"repo_path": r, "revision": "HEAD"}),
        ("git_log", {"repo_path": r, "max_count": 3}),
    ]


@dataclass
class Run:
    """What one connection saw: the text of each call's result, and the wall time in seconds."""

    texts: list[str] = field(default_factory=list)
    seconds: float = 0.0


async def _drive(command: str, args: list[str], todo: list[tuple[str, dict[str, Any]]]) -> Run:
    from mcp import Client, StdioServerParameters

    run = Run()
    t0 = time.perf_counter()
    params = StdioServerParameters(command=command, args=args)
    async with Client(params, mode="legacy") as client:
        for name, arguments in todo:
            result = await client.call_tool(name, arguments)
            run.texts.append("\n".join(getattr(c, "text", "") for c in result.content))
    run.seconds = time.perf_counter() - t0
    return run


def _write_config(tmp: Path) -> Path:
    cfg = tmp / "mcpguard.toml"
    cfg.write_text(
        "# mcpguard demo configuration (temporary)\n"
        f'[keys]\ndir = "{tmp / "keys"}"\n'
        f'[tokens]\nstore = "memory"\n'
        f'[audit]\npath = "{tmp / "audit.jsonl"}"\n'
        f'[tools]\npins_path = "{tmp / "pins.json"}"\n'
    )
    return cfg


def _differing(sent: str, received: str, limit: int) -> list[tuple[str, str]]:
    """Pairs of (sent line, received line) that differ, in order, at most ``limit``."""
    import difflib

    a, b = sent.splitlines(), received.splitlines()
    pairs: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        left, right = a[i1:i2], b[j1:j2]
        for k in range(max(len(left), len(right))):
            pairs.append((left[k] if k < len(left) else "", right[k] if k < len(right) else ""))
    return pairs[:limit]


def run(*, keep: bool = False, lines_per_call: int = 12) -> int:
    """Run the demo, print the comparison to stdout, return the exit status (see the module docstring)."""
    import anyio
    from rich.console import Console
    from rich.table import Table

    from mcpguard.audit.verify import verify_file

    width = shutil.get_terminal_size((120, 40)).columns if sys.stdout.isatty() else 120
    console = Console(highlight=False, width=max(100, min(width, 160)))
    tmp = Path(tempfile.mkdtemp(prefix="mcpguard-demo-"))
    try:
        if shutil.which("git") is None:
            console.print("mcpguard demo needs git on PATH (mcp-server-git drives it); install git and run it again.")
            return 1
        repo = seed_repo(tmp / "orders-service")
        cfg = _write_config(tmp)
        todo = calls(repo)
        server = [sys.executable, "-m", "mcp_server_git", "--repository", str(repo)]
        mcpguard = shutil.which("mcpguard", path=str(Path(sys.executable).parent)) or "mcpguard"
        wrapped_args = ["wrap", "--config", str(cfg), "--name", "git-demo", "--", *server]
        console.print(f"[bold]mcpguard demo[/bold]: mcp-server-git over a seeded repository at {repo}")
        console.print(f"  direct:  {' '.join(server[:3])} --repository …")
        console.print(f"  wrapped: mcpguard {' '.join(wrapped_args[:5])} -- {' '.join(server[:3])} --repository …\n")

        results: dict[str, Run] = {}

        async def both() -> None:
            async with anyio.create_task_group() as tg:
                async def one(key: str, command: str, args: list[str]) -> None:
                    results[key] = await _drive(command, args, todo)

                tg.start_soon(one, "direct", server[0], server[1:])
                tg.start_soon(one, "wrapped", mcpguard, wrapped_args)

        anyio.run(both)
        direct, wrapped = results["direct"], results["wrapped"]

        table = Table(title="What the server sent vs what the client received", show_lines=True, expand=True)
        table.add_column("call", style="bold", min_width=8, ratio=1)
        table.add_column("server sent (direct connection)", style="red", ratio=4, overflow="fold")
        table.add_column("client received (through mcpguard wrap)", style="green", ratio=4, overflow="fold")
        for (name, arguments), sent, received in zip(todo, direct.texts, wrapped.texts):
            label = name + (f"\n{arguments['revision']}" if "revision" in arguments else "")
            pairs = _differing(sent, received, lines_per_call)
            if not pairs:
                table.add_row(label, "(no sensitive data)", "(unchanged)")
                continue
            table.add_row(label, "\n".join(p[0] for p in pairs), "\n".join(p[1] for p in pairs))
        console.print(table)

        leaked = [v for v in SEEDED if any(v in t for t in wrapped.texts)]
        shown = [v for v in SEEDED if any(v in t for t in direct.texts)]
        audit = tmp / "audit.jsonl"
        verdict = verify_file(audit)
        counts: dict[str, int] = {}
        if audit.exists():
            import json

            for line in audit.read_text(encoding="utf-8").splitlines():
                for t, n in (json.loads(line).get("counts") or {}).items():
                    counts[t] = counts.get(t, 0) + n
        console.print(f"\nseeded sensitive values in what the server sent: {len(shown)}; in what the client received: "
                      + (f"[red]{len(leaked)}[/red]" if leaked else "[green]0[/green]"))
        if counts:
            console.print("protected by type: " + ", ".join(f"{t} ×{n}" for t, n in sorted(counts.items())))
        console.print(f"audit log {audit.name}: {verdict.records} records, chain "
                      + ("[green]intact[/green]" if verdict.ok else f"[red]BROKEN at record {verdict.first_bad}[/red]")
                      + " (`mcpguard audit verify` would say the same)")
        console.print(f"time: direct {direct.seconds:.1f} s, wrapped {wrapped.seconds:.1f} s (both include the "
                      "server's own start-up)")
        if keep:
            console.print(f"kept: {tmp}")
        return 0 if (not leaked and verdict.ok and verdict.records > 0) else 1
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


__all__ = ["SEEDED", "calls", "run", "seed_repo"]
