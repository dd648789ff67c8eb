"""The ``mcpguard`` command line: ``mcpguard wrap|scan|audit|init|status|demo|tokens|pins|mcp-json|hub …``.

Each command's body imports what it needs when it runs, so ``mcpguard wrap`` (spawned every time an editor starts)
pays only for the wrapper. ``mcpguard hub …`` is contributed by the ``hub`` package through the
``mcpguard.commands`` entry point: this package never imports ``hub``.
"""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

app = typer.Typer(
    name="mcpguard",
    help=(
        "Keep secrets and personal data out of MCP traffic.\n\n"
        "Put `mcpguard wrap -- <server command>` in front of any stdio MCP server in .mcp.json; every JSON-RPC frame "
        "in both directions is scanned for secrets, PII and infrastructure ids and allowed, redacted, masked, "
        "tokenized, encrypted or blocked by policy, with a tamper-evident audit log.\n\n"
        "Start with `mcpguard demo`, then `mcpguard init` to write a commented mcpguard.toml."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOpt = Annotated[
    Optional[str],
    typer.Option("--config", "-c", help="Path to mcpguard.toml (default: $MCPGUARD_CONFIG, ./mcpguard.toml, "
                 "~/.config/mcpguard/mcpguard.toml, else built-in defaults)."),
]


def _fail(err: Exception) -> None:
    """Print an mcpguard error (its message is value-free by contract) and exit with its code."""
    from mcpguard.errors import MCPGuardError

    if isinstance(err, MCPGuardError):
        typer.echo(f"mcpguard: {err}", err=True)
        raise typer.Exit(err.exit_code)
    raise err


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    help=(
        "Run an MCP server over stdio behind the protection pipeline.\n\n"
        "Everything after `--` is the server's argv (no shell). Example:\n\n"
        "  mcpguard wrap -- uvx mcp-server-git --repository .\n\n"
        "Only JSON-RPC frames are ever written to stdout; the child gets a scrubbed environment."
    ),
)
def wrap(
    ctx: typer.Context,
    config: ConfigOpt = None,
    stderr: Annotated[
        Optional[str],
        typer.Option("--stderr", help="Child stderr: filter (scan each line, default), drop, or inherit (raw)."),
    ] = None,
    audit: Annotated[Optional[str], typer.Option("--audit", help="Audit log path (JSONL, hash-chained).")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Server name for audit, tokens and pins.")] = None,
) -> None:
    from mcpguard import wrap as wrap_mod

    if not ctx.args:
        typer.echo("mcpguard wrap: give the server command after `--`", err=True)
        raise typer.Exit(2)
    try:
        code = wrap_mod.main(list(ctx.args), config_path=config, stderr_mode=stderr, audit_path=audit, name=name)
    except Exception as err:  # noqa: BLE001 - translated at this one boundary
        _fail(err)
    raise typer.Exit(code)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point. ``mcpguard wrap`` takes a fast path that skips building the full CLI."""
    args = sys.argv[1:] if argv is None else argv
    _add_plugin_commands()
    app(args=args, prog_name="mcpguard")


def _add_plugin_commands() -> None:
    """Attach command groups published under the ``mcpguard.commands`` entry point (e.g. ``hub``)."""
    from importlib.metadata import entry_points

    for ep in entry_points(group="mcpguard.commands"):
        try:
            sub = ep.load()
        except ImportError:
            continue
        app.add_typer(sub, name=ep.name)


if __name__ == "__main__":  # pragma: no cover
    main()
