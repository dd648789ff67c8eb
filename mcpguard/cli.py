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
    pass_env: Annotated[
        Optional[list[str]],
        typer.Option("--pass-env", metavar="NAME",
                     help="Pass this variable from the wrapper's environment to the server, which otherwise gets only "
                          "a safe base environment plus wrap.env_passthrough (repeatable; the name only, never "
                          "NAME=VALUE: e.g. a token the .mcp.json entry sets in \"env\")."),
    ] = None,
) -> None:
    from mcpguard import wrap as wrap_mod

    if not ctx.args:
        typer.echo("mcpguard wrap: give the server command after `--`", err=True)
        raise typer.Exit(2)
    try:
        code = wrap_mod.main(list(ctx.args), config_path=config, stderr_mode=stderr, audit_path=audit, name=name,
                             pass_env=pass_env or ())
    except Exception as err:  # noqa: BLE001 - translated at this one boundary
        _fail(err)
    raise typer.Exit(code)


# --- pins and mcp-json (owned by the toolguard area; bodies live in mcpguard.toolguard.commands) -------------------
pins_app = typer.Typer(
    help=(
        "Tool pins: the approved version of each server's tools.\n\n"
        "On first sight every tool definition is pinned (a canonical hash). When a server later changes a tool, calls "
        "to it are blocked (tools.pinning = \"block\") until you review and approve the change:\n\n"
        "  mcpguard pins list\n\n  mcpguard pins diff SERVER\n\n  mcpguard pins approve SERVER [TOOL ...]"
    ),
    no_args_is_help=True,
)
mcp_json_app = typer.Typer(
    help=(
        "Put the servers of an .mcp.json (Claude Code), claude_desktop_config.json, .cursor/mcp.json or "
        ".vscode/mcp.json behind `mcpguard wrap`, or take them out again. A backup (<file>.bak) is written first."
    ),
    no_args_is_help=True,
)
app.add_typer(pins_app, name="pins")
app.add_typer(mcp_json_app, name="mcp-json")
PinsOpt = Annotated[Optional[str], typer.Option("--pins", help="Pin file (default: tools.pins_path of the config).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@pins_app.command("list", help="List pinned servers and tools; tools with an unapproved change are marked.")
def pins_list(config: ConfigOpt = None, pins: PinsOpt = None, as_json: JsonOpt = False) -> None:
    from mcpguard.toolguard import commands

    try:
        typer.echo(commands.pins_list(commands.open_store(config, pins), as_json=as_json))
    except Exception as err:  # noqa: BLE001
        _fail(err)


@pins_app.command("diff", help="Show which fields of which tools changed since they were approved.")
def pins_diff(server: Annotated[Optional[str], typer.Argument(help="Server name or name#hash (default: all).")] = None,
              config: ConfigOpt = None, pins: PinsOpt = None, as_json: JsonOpt = False) -> None:
    from mcpguard.toolguard import commands

    try:
        typer.echo(commands.pins_diff(commands.open_store(config, pins), server, as_json=as_json)[0])
    except Exception as err:  # noqa: BLE001
        _fail(err)


@pins_app.command("approve", help="Approve the changed version of TOOLs (all changed tools of SERVER if none named).")
def pins_approve(server: Annotated[str, typer.Argument(help="Server name or name#hash.")],
                 tools: Annotated[Optional[list[str]], typer.Argument(help="Tool names.")] = None,
                 config: ConfigOpt = None, pins: PinsOpt = None) -> None:
    from mcpguard.toolguard import commands

    try:
        typer.echo(commands.pins_approve(commands.open_store(config, pins), server, tools or []))
    except Exception as err:  # noqa: BLE001
        _fail(err)


@pins_app.command("reset", help="Forget every pin of SERVER; its tools are pinned afresh on next sight.")
def pins_reset(server: Annotated[str, typer.Argument(help="Server name or name#hash.")],
               config: ConfigOpt = None, pins: PinsOpt = None) -> None:
    from mcpguard.toolguard import commands

    try:
        typer.echo(commands.pins_reset(commands.open_store(config, pins), server))
    except Exception as err:  # noqa: BLE001
        _fail(err)


FileOpt = Annotated[Optional[str], typer.Option("--file", "-f", help="The JSON config (default: ./.mcp.json, "
                                                "./.cursor/mcp.json or ./.vscode/mcp.json).")]


@mcp_json_app.command("wrap", help="Run the named stdio servers (or --all) through `mcpguard wrap --name NAME -- …`.")
def mcp_json_wrap(names: Annotated[Optional[list[str]], typer.Argument(help="Server names.")] = None,
                  file: FileOpt = None,
                  all_: Annotated[bool, typer.Option("--all", help="Every stdio server in the file.")] = False,
                  dry_run: Annotated[bool, typer.Option("--dry-run", help="Report, write nothing.")] = False,
                  command: Annotated[Optional[str], typer.Option("--mcpguard", help="Command to run mcpguard "
                                     "(default: `mcpguard` if on PATH, else this executable's path).")] = None) -> None:
    from mcpguard.toolguard import commands

    try:
        typer.echo(commands.mcp_json(file, names or [], all_servers=all_, unwrap=False, dry_run=dry_run,
                                     command=command))
    except Exception as err:  # noqa: BLE001
        _fail(err)


@mcp_json_app.command("unwrap", help="Restore the original command of wrapped servers (all of them if none named).")
def mcp_json_unwrap(names: Annotated[Optional[list[str]], typer.Argument(help="Server names.")] = None,
                    file: FileOpt = None,
                    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report, write nothing.")] = False) -> None:
    from mcpguard.toolguard import commands

    try:
        typer.echo(commands.mcp_json(file, names or [], all_servers=not names, unwrap=True, dry_run=dry_run))
    except Exception as err:  # noqa: BLE001
        _fail(err)
# --- end pins and mcp-json --------------------------------------------------------------------------------------


# --- scan, audit, init, status, tokens (owned by the pipeline area; bodies live in their modules) ----------------
@app.command(
    help=(
        "Scan files or stdin for secrets, personal data and infrastructure ids; print findings, never values.\n\n"
        "Examples:\n\n"
        "  mcpguard scan notes.txt\n\n"
        "  git log -p | mcpguard scan --format text -\n\n"
        "  mcpguard scan --input-format jsonl transcript.jsonl\n\n"
        "Each finding is one JSON object (--format jsonl) with record, type, rule, path (JSON pointer, \"\" for text), "
        "start, end (character offsets in that string), confidence and action (what the policy would do to it "
        "travelling --direction). With --input-format jsonl every line is one record: a JSON string is scanned as "
        "text, any other JSON value by its strings and keys.\n\n"
        "Exit status: 0 nothing the policy would act on, 1 findings the policy would act on, 2 bad usage or config, "
        "65 unreadable or unparseable input."
    ),
)
def scan(
    source: Annotated[Optional[str], typer.Argument(metavar="[PATH|-]", help="File to scan; - or nothing for stdin.")] = None,
    config: ConfigOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="Output: jsonl (one object per finding) or text.")] = "jsonl",
    input_format: Annotated[str, typer.Option("--input-format", help="auto, json, text or jsonl (see above).")] = "auto",
    direction: Annotated[str, typer.Option("--direction", help="Policy direction for the action column: "
                                           "server_to_client (what a client would see) or client_to_server.")] = "server_to_client",
) -> None:
    from mcpguard import scan as scan_mod
    from mcpguard.config import load_config
    from mcpguard.types import Direction

    try:
        cfg = load_config(config)
        try:
            dirn = Direction(direction)
        except ValueError:
            typer.echo("mcpguard scan: --direction is server_to_client or client_to_server", err=True)
            raise typer.Exit(2) from None
        from mcpguard.runtime import build_engine

        code = scan_mod.run(source, config=cfg, engine=build_engine(cfg), fmt=fmt, input_format=input_format,
                            direction=dirn)
    except typer.Exit:
        raise
    except Exception as err:  # noqa: BLE001
        _fail(err)
    raise typer.Exit(code)


audit_app = typer.Typer(
    help=(
        "The hash-chained audit log. Every protected frame with findings gets one JSONL record (types, rule ids, JSON "
        "paths, actions, keyed fingerprints; never values), each holding the SHA-256 of the previous one.\n\n"
        "  mcpguard audit verify ~/.local/share/mcpguard/audit.jsonl"
    ),
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")


@audit_app.command(
    "verify",
    help=(
        "Check an audit log's hash chain. Exit 0 when intact; 1 naming the first bad record (0-based, = line - 1) "
        "after any edit, reorder, insertion or deletion. With --anchor (audit.anchor_path, kept on other storage), a "
        "log cut short at the end is detected too."
    ),
)
def audit_verify(
    path: Annotated[str, typer.Argument(help="The audit log (JSONL).")],
    anchor: Annotated[Optional[str], typer.Option("--anchor", help="Anchor file written beside the log.")] = None,
) -> None:
    from mcpguard.audit.verify import verify_file

    try:
        res = verify_file(path, anchor_path=anchor)
    except Exception as err:  # noqa: BLE001
        _fail(err)
    if res.ok:
        typer.echo(f"ok: {res.records} records, chain intact" + (", anchor matches" if anchor else "")
                   + f"; last hash {res.last_hash}")
        raise typer.Exit(0)
    typer.echo(f"TAMPERED: record {res.first_bad} (line {(res.first_bad or 0) + 1}): {res.reason}", err=True)
    raise typer.Exit(1)


@app.command(
    help=(
        "Write a commented mcpguard.toml with every setting at its default, each explained. Edit what you need and "
        "check the result with `mcpguard status`."
    ),
)
def init(
    path: Annotated[str, typer.Argument(help="Where to write the file.")] = "mcpguard.toml",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    from mcpguard import initcmd

    try:
        written = initcmd.write(path, force=force)
    except FileExistsError:
        typer.echo(f"mcpguard init: {path} exists; use --force to overwrite it", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {written}; check it with `mcpguard status --config {written}`")


@app.command(
    help=(
        "Show the effective configuration: the policy per direction, where keys, the audit log and tokens live, and "
        "what is and is not protected. Never prints keys or allowlisted values."
    ),
)
def status(
    config: ConfigOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    import json as _json

    from mcpguard import status as status_mod
    from mcpguard.config import load_config

    try:
        cfg = load_config(config)
    except Exception as err:  # noqa: BLE001
        _fail(err)
    if fmt == "json":
        typer.echo(_json.dumps({"config": status_mod.config_source(config), **status_mod.summary(cfg),
                                "not_protected": status_mod.gaps(cfg)}, indent=2))
    else:
        typer.echo(status_mod.render(cfg, status_mod.config_source(config)), nl=False)


tokens_app = typer.Typer(
    help=(
        "Reversible tokens such as [[EMAIL:7f3a2c9d41b0]]: what the model sees instead of a value, restored only in "
        "requests to the server that produced it. Mappings are stored AES-256-GCM sealed (tokens.store = sqlite keeps "
        "them across restarts) and expire after tokens.ttl_seconds."
    ),
    no_args_is_help=True,
)
app.add_typer(tokens_app, name="tokens")


@tokens_app.command("purge", help="Delete token mappings from the sqlite store: all, or only expired ones.")
def tokens_purge(
    config: ConfigOpt = None,
    expired: Annotated[bool, typer.Option("--expired", help="Only mappings past their expiry.")] = False,
) -> None:
    from mcpguard import tokencmd
    from mcpguard.config import load_config

    try:
        _, message = tokencmd.purge(load_config(config), expired_only=expired)
    except Exception as err:  # noqa: BLE001
        _fail(err)
    typer.echo(message)


@tokens_app.command(
    "reveal",
    help=(
        "Print the value behind TOKEN (local development only: needs tokens.allow_reveal = true and the sqlite store). "
        "Every attempt is audited. Exit 77 when reveal is disabled, 65 for an unknown or expired token."
    ),
)
def tokens_reveal(
    token: Annotated[str, typer.Argument(help="The token, e.g. '[[EMAIL:7f3a2c9d41b0]]'.")],
    server: Annotated[str, typer.Option("--server", help="Server the token was issued for (wrap --name).")] = "default",
    user: Annotated[str, typer.Option("--user", help="User the token was issued to.")] = "local",
    config: ConfigOpt = None,
) -> None:
    from mcpguard import tokencmd
    from mcpguard.config import load_config

    try:
        value = tokencmd.reveal(load_config(config), token, user=user, server=server)
    except Exception as err:  # noqa: BLE001
        _fail(err)
    typer.echo(value)
# --- end scan, audit, init, status, tokens ----------------------------------------------------------------------


# --- demo (owned by the wrapper area; body in mcpguard.demo) -----------------------------------------------------


@app.command(
    help=(
        "Wrap the real mcp-server-git over a throw-away repository seeded with realistic secrets and personal data "
        "(author e-mails, an AWS key, a database password, Korean RRNs, phones and cards), drive it with the mcp SDK "
        "client directly and through `mcpguard wrap`, and show side by side what the server sent and what the client "
        "received; then verify the audit chain. Local only; exit 0 when nothing seeded reached the client."
    ),
)
def demo(
    keep: Annotated[bool, typer.Option("--keep", help="Keep the temporary repository, config and audit log.")] = False,
) -> None:
    from mcpguard import demo as demo_mod

    try:
        code = demo_mod.run(keep=keep)
    except Exception as err:  # noqa: BLE001 - translated at this one boundary
        _fail(err)
    raise typer.Exit(code)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point. ``mcpguard wrap`` takes a fast path that skips building the full CLI."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["wrap"]:
        # Fast path: spawned with every editor start; no typer app build, no plugin loading (--help still goes
        # through typer).
        from mcpguard.wrap.fastpath import run as run_wrap

        code = run_wrap(args[1:])
        if code is not None:
            sys.exit(code)
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
