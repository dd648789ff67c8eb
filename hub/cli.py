"""``mcpguard hub …``: ``serve``, ``dev-token``, ``vault …`` (from :mod:`hub.vault.cli`), room for ``doctor``.

Reached through the ``mcpguard.commands`` entry point (``hub = "hub.cli:app"``); command bodies import what they need
when they run.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

app = typer.Typer(
    name="hub",
    help=(
        "The mcpguard hub: one MCP endpoint for many MCP servers, with per-user credentials and the mcpguard "
        "pipeline on every call.\n\nStart with `mcpguard hub serve` (dev mode on 127.0.0.1:8080), then "
        "`mcpguard hub dev-token --user you@example.com`."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOpt = Annotated[
    Optional[str],
    typer.Option("--config", "-c", help="Path to hub.toml (default: $MCPGUARD_HUB_CONFIG, ./hub.toml, "
                 "~/.config/mcpguard/hub.toml, else the embedded dev defaults)."),
]


def _fail(err: Exception) -> None:
    from mcpguard.errors import MCPGuardError

    if isinstance(err, MCPGuardError):
        typer.echo(f"mcpguard hub: {err}", err=True)
        raise typer.Exit(err.exit_code)
    raise err


@app.command(help="Run the hub (uvicorn). SIGTERM drains: no new connections, in-flight requests finish "
                  "(up to server.drain_seconds), then upstream children are stopped.")
def serve(
    config: ConfigOpt = None,
    host: Annotated[Optional[str], typer.Option("--host", help="Bind address (default from config: 127.0.0.1).")] = None,
    port: Annotated[Optional[int], typer.Option("--port", help="Port (default from config: 8080).")] = None,
) -> None:
    from hub.app import build_app
    from hub.logs import configure_logging
    from hub.settings import load_settings

    try:
        settings = load_settings(config)
        changes = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
        if changes:
            settings = settings.model_copy(update={"server": settings.server.model_copy(update=changes)})
        configure_logging(settings.log.level)
        app_ = build_app(settings)
        DrainingServer = _draining_server_class()  # noqa: N806
    except Exception as err:  # noqa: BLE001 - translated at this one boundary
        _fail(err)
        return
    import uvicorn

    typer.echo(f"mcpguard hub ({settings.auth.mode} mode) on {settings.server.mcp_url}", err=True)
    if settings.auth.mode == "dev" and settings.server.host not in ("127.0.0.1", "localhost", "::1"):
        # Dev tokens are minted by anyone who can read the key file on this host: fine for local use only.
        typer.echo("mcpguard hub: warning: dev auth mode on a non-loopback address; use auth.mode = \"facade\" or "
                   "\"entra\" for anything shared", err=True)
    DrainingServer(app_.state.hub, uvicorn.Config(
        app_, host=settings.server.host, port=settings.server.port, log_config=None, lifespan="on",
        timeout_graceful_shutdown=int(settings.server.drain_seconds) or None, timeout_keep_alive=5,
        proxy_headers=False, server_header=False,
    )).run()


def _draining_server_class():
    import threading
    import time

    import uvicorn

    class DrainingServer(uvicorn.Server):
        """uvicorn, with a drain before its own shutdown: on the first SIGTERM/SIGINT the hub turns not-ready and
        refuses new MCP work (503 ``draining``) while in-flight calls finish (at most ``server.drain_seconds``);
        only then does uvicorn stop (which also ends SSE streams). A second signal exits at once."""

        def __init__(self, state, config):
            super().__init__(config)
            self.hub_state = state
            self._draining = False

        def handle_exit(self, sig, frame):
            if self._draining:
                return super().handle_exit(sig, frame)
            self._draining = True
            self.hub_state.draining = True
            threading.Thread(target=self._drain, args=(sig, frame), daemon=True).start()

        def _drain(self, sig, frame):
            deadline = time.monotonic() + self.hub_state.settings.server.drain_seconds
            # A thread polling one integer: the counter lives on the event loop and has no cross-thread event.
            while self.hub_state.inflight > 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            super().handle_exit(sig, frame)

    return DrainingServer


def __getattr__(name: str):
    if name == "DrainingServer":
        return _draining_server_class()
    raise AttributeError(name)


@app.command("dev-token", help="Print a dev-mode access token (auth.mode = \"dev\" only).")
def dev_token(
    user: Annotated[str, typer.Option("--user", help="User id (an e-mail), e.g. alice@example.com.")],
    config: ConfigOpt = None,
    role: Annotated[list[str], typer.Option("--role", help="Hub role: admin, manager, user, viewer (repeatable).")] = [],  # noqa: B006
    ttl: Annotated[Optional[int], typer.Option("--ttl", help="Lifetime in seconds (default auth.dev.token_ttl_seconds).")] = None,
    host: Annotated[Optional[str], typer.Option("--host", help="As given to `serve --host` (the token's audience is the MCP URL).")] = None,
    port: Annotated[Optional[int], typer.Option("--port", help="As given to `serve --port`.")] = None,
) -> None:
    from hub.auth.dev import DevAuthenticator
    from hub.settings import load_settings
    from mcpguard.errors import ConfigError

    try:
        settings = load_settings(config)
        changes = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
        if changes:
            settings = settings.model_copy(update={"server": settings.server.model_copy(update=changes)})
        if settings.auth.mode != "dev":
            raise ConfigError(f"dev-token needs auth.mode = \"dev\" (this config uses {settings.auth.mode!r})")
        token = DevAuthenticator(settings).mint(user, roles=tuple(role or ["user"]), ttl=ttl)
    except ValueError as err:
        typer.echo(f"mcpguard hub: {err}", err=True)
        raise typer.Exit(2) from None
    except Exception as err:  # noqa: BLE001
        _fail(err)
        return
    typer.echo(token)


def _add_vault() -> None:
    try:
        from hub.vault.cli import app as vault_app
    except ImportError:  # the vault is optional until installed
        return
    app.add_typer(vault_app, name="vault")


_add_vault()
# -- Entra modes (owner: hub.auth): `mcpguard hub doctor URL` and `mcpguard hub facade …` --------------------------
def _add_entra() -> None:
    from hub.auth.facade.cli import app as facade_app
    from hub.doctor import doctor_command

    app.command("doctor", help="Check a running hub from the outside (health, RFC 9728/8414 metadata, 401 challenge "
                "and reason bodies, JWKS, Host allowlist); exits 1 when something is wrong.")(doctor_command)
    app.add_typer(facade_app, name="facade")


_add_entra()
