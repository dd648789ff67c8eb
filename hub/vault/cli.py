"""``mcpguard hub vault …``: KEK rotation and status. Mounted by ``hub.cli`` as the ``vault`` sub-command.

- ``rotate-kek``: create a new KEK version and re-wrap every data key under it, online (the running hub keeps
  serving; new writes switch to the new version at once). ``--retire`` then retires every older version no record
  uses; ``--resume`` finishes an interrupted rotation without creating another version.
- ``retire-kek VERSION``: retire one old version (refused while current or in use). The file provider destroys the
  key file; the env provider forgets it (then remove the variable).
- ``status``: KEK versions, their state, encryption counts (NIST SP 800-38D §8.3: rotate well before 2^32) and
  record counts. Never prints key material or credential values.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated, Optional

import typer

app = typer.Typer(
    name="vault",
    help="Manage the hub's encrypted credential vault: KEK rotation, retirement and status.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOpt = Annotated[
    Optional[str],
    typer.Option("--config", "-c", help="Path to hub.toml (default: $MCPGUARD_HUB_CONFIG, ./hub.toml, "
                 "~/.config/mcpguard/hub.toml, else the embedded dev defaults)."),
]


def _open(config: str | None):  # type: ignore[no-untyped-def]
    from hub.settings import load_settings
    from hub.vault import open_vault

    return open_vault(load_settings(config)).store


def _fail(err: Exception) -> None:
    from mcpguard.errors import MCPGuardError

    if isinstance(err, MCPGuardError):
        typer.echo(f"mcpguard hub vault: {err}", err=True)
        raise typer.Exit(err.exit_code)
    raise err


@app.command("rotate-kek", help="Create a new KEK version and re-wrap every data key under it (online).")
def rotate_kek(
    config: ConfigOpt = None,
    retire: Annotated[bool, typer.Option("--retire", help="Afterwards retire every older KEK version no record "
                                         "uses (destroys local key files).")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Do not create a version; finish re-wrapping under the "
                                         "current one.")] = False,
) -> None:
    try:
        vault = _open(config)
        report = vault.rotate_kek(new_version=not resume)
        typer.echo(f"KEK version {report.version} is current; {report.rewrapped} data keys re-wrapped")
        if report.remaining:
            typer.echo(f"still wrapped under older versions: {report.remaining}; rerun with --resume", err=True)
            raise typer.Exit(1)
        if retire:
            for k in vault.status().keks:
                if k.state == "active" and k.version != report.version and k.records == 0:
                    vault.retire_kek(k.version)
                    typer.echo(f"KEK version {k.version} retired")
    except typer.Exit:
        raise
    except Exception as err:  # noqa: BLE001 - translated at this one boundary
        _fail(err)


@app.command("retire-kek", help="Retire an old KEK version once no record uses it.")
def retire_kek(version: Annotated[int, typer.Argument(min=1)], config: ConfigOpt = None) -> None:
    try:
        _open(config).retire_kek(version)
        typer.echo(f"KEK version {version} retired")
    except Exception as err:  # noqa: BLE001
        _fail(err)


@app.command("status", help="KEK versions, encryption counts and record counts.")
def status(
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    try:
        st = _open(config).status()
    except Exception as err:  # noqa: BLE001
        _fail(err)
        return
    if as_json:
        typer.echo(json.dumps({
            "current": st.current,
            "rotation_due": st.rotation_due,
            "keks": [dataclasses.asdict(k) for k in st.keks],
        }))
        return
    typer.echo(f"current KEK version: {st.current}" + ("  (rotation due)" if st.rotation_due else ""))
    for k in st.keks:
        typer.echo(f"  v{k.version}  {k.provider:<6} {k.state:<8} encryptions={k.encryptions} records={k.records}"
                   f"{'' if k.available else '  (key not available)'}")


__all__ = ["app"]
