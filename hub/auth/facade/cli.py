"""``mcpguard hub facade …``: manage the facade authorization server's pre-registered clients and signing keys.

``client add NAME --redirect-uri URI`` prints a client id and secret once (what a claude.ai admin types into the
custom connector's Advanced settings: OAuth Client ID / OAuth Client Secret); ``client list``; ``client remove ID``
(revokes its grants); ``rotate-keys`` (new active signing key; old keys stay published until their tokens expire).

Every command — listing too — is first written to the hub's hash-chained audit log (the file the running hub uses,
:func:`hub.vault.admin_audit_log`; kinds in :mod:`hub.auth.facade.audit`, ``via = "cli"``, the operating-system user
as a keyed fingerprint). When that log is disabled (``[audit] path = ""``) or cannot be written, the command refuses
with exit code 74 and changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from hub.auth.config import CLAUDE_CALLBACKS

app = typer.Typer(name="facade", help="The facade authorization server (auth.mode = \"facade\").", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)
client_app = typer.Typer(name="client", help="Pre-registered OAuth clients.", no_args_is_help=True)
app.add_typer(client_app, name="client")

ConfigOpt = Annotated[Optional[str], typer.Option("--config", "-c", help="Path to hub.toml.")]


def _store(config: Optional[str]):  # type: ignore[no-untyped-def]
    from hub.auth.facade.store import FacadeStore
    from hub.settings import load_settings
    from hub.vault import make_engine

    settings = load_settings(config)
    if settings.storage.database_url is None:
        settings.storage.data_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return settings, FacadeStore(make_engine(settings.storage.url))


def _audit(settings, kind: str, **fields) -> None:  # type: ignore[no-untyped-def]
    """Record ``kind`` before acting, or exit 74 (EX_IOERR, as :class:`~mcpguard.errors.AuditUnavailable`)."""
    import asyncio
    import getpass

    from hub.auth.facade.audit import record_admin_action
    from hub.vault import admin_audit_log
    from mcpguard.errors import AuditUnavailable

    try:
        log = admin_audit_log(settings)
        if log is not None:
            fields["actor_os_user"] = log.fingerprint("os_user", getpass.getuser())
        asyncio.run(record_admin_action(log, kind, via="cli", **fields))
    except AuditUnavailable as err:
        typer.echo(f"mcpguard hub facade: {err}", err=True)
        raise typer.Exit(AuditUnavailable.exit_code) from None


@client_app.command("add", help="Register a confidential client; prints its id and secret ONCE.")
def client_add(
    name: Annotated[str, typer.Argument(help="Shown on the consent page, e.g. \"claude.ai (Acme)\".")],
    redirect_uri: Annotated[list[str], typer.Option("--redirect-uri", help="Exact redirect URI (repeatable); "
                                                    "default: the claude.ai and claude.com callbacks.")] = [],  # noqa: B006
    basic: Annotated[bool, typer.Option("--basic", help="client_secret_basic instead of client_secret_post.")] = False,
    config: ConfigOpt = None,
) -> None:
    from hub.auth.facade.clients import prepare_confidential

    settings, store = _store(config)
    uris = list(redirect_uri) or list(CLAUDE_CALLBACKS)
    method = "client_secret_basic" if basic else "client_secret_post"
    try:
        row, secret = prepare_confidential(name, uris, auth_method=method)
    except ValueError as err:
        typer.echo(f"mcpguard hub facade: {err}", err=True)
        raise typer.Exit(2) from None
    _audit(settings, "admin.facade.client.add", client_id=row.client_id, auth_method=method,
           redirect_uri_count=len(uris))
    store.put_client(row)
    client_id = row.client_id
    typer.echo(f"client_id     {client_id}")
    typer.echo(f"client_secret {secret}")
    typer.echo("Store the secret now: it is kept only as a hash and cannot be shown again.", err=True)


@client_app.command("list", help="List registered and dynamically registered clients (never secrets).")
def client_list(config: ConfigOpt = None) -> None:
    import json

    settings, store = _store(config)
    _audit(settings, "admin.facade.clients.list")
    for row in store.list_clients():
        typer.echo(f"{row.client_id}\t{row.kind}\t{row.auth_method}\t{row.name}\t{' '.join(json.loads(row.redirect_uris))}")


@client_app.command("remove", help="Delete a client and revoke every grant it holds.")
def client_remove(client_id: str, config: ConfigOpt = None) -> None:
    settings, store = _store(config)
    _audit(settings, "admin.facade.client.remove", client_id=client_id)
    if not store.delete_client(client_id):
        typer.echo(f"mcpguard hub facade: no client {client_id!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"removed {client_id}")


@app.command("rotate-keys", help="Make a new active signing key (old keys stay in the JWKS until their tokens expire).")
def rotate_keys(config: ConfigOpt = None) -> None:
    from hub.auth.facade import parse_facade, seal_key_for
    from hub.auth.facade.keys import KeyRing

    settings, store = _store(config)
    fs = parse_facade(settings.auth.facade)
    ring = KeyRing(store, seal_key_for(settings), alg=fs.signing_alg)
    old = ring.active_kid
    _audit(settings, "admin.facade.keys.rotate", previous_kid=old)
    new = ring.rotate()
    typer.echo(f"active signing key {new} (was {old}); running hubs adopt it within 5 minutes")
