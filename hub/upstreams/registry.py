"""The connectors a hub serves: manifests loaded, overrides applied, commands resolved, enabled set decided.

:func:`load_registry` reads the bundled connectors (``<repo>/connectors``, packaged in the wheel as
``hub/_connectors``: :func:`bundled_dir`; unless ``connectors.bundled = false``) and every
directory in ``connectors.dirs`` (later wins on a name clash), applies ``[connectors.overrides.<name>]`` and keeps the
enabled ones: ``connectors.enabled`` when given, else every connector that needs neither the network nor a required
credential from the bundled set plus everything from ``dirs``.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from hub.settings import ConnectorOverride, HubSettings
from hub.upstreams.manifest import Manifest, Transport, egress_allows, load_dir
from mcpguard.errors import ConfigError

#: The connectors inside the ``hub`` package: a real directory in an installed wheel; in a source checkout a symlink
#: to ``<repo>/connectors`` (where the design card keeps them), so the two are one directory.
PACKAGED_DIR = Path(__file__).resolve().parent.parent / "_connectors"
#: ``<repo>/connectors`` of a source checkout.
REPO_DIR = Path(__file__).resolve().parent.parent.parent / "connectors"


def bundled_dir() -> Path:
    """Where the bundled connectors are: the packaged copy (``hub/_connectors``), else — a checkout whose symlink
    was not materialized (e.g. ``core.symlinks = false``) — ``<repo>/connectors``, recognised only next to the
    repository's ``pyproject.toml`` so an unrelated top-level ``connectors`` directory in site-packages is never
    read. Returns :data:`PACKAGED_DIR` when neither exists (``load_registry`` then refuses to start)."""
    if PACKAGED_DIR.is_dir():
        return PACKAGED_DIR
    root = REPO_DIR.parent
    if REPO_DIR.is_dir() and (root / "pyproject.toml").is_file() and (root / "hub" / "__init__.py").is_file():
        return REPO_DIR
    return PACKAGED_DIR


#: The connectors shipped with the hub (see :func:`bundled_dir`).
BUNDLED_DIR = bundled_dir()


@dataclass(frozen=True, slots=True)
class Connector:
    """A connector ready to start: its manifest (overrides applied) and, for stdio, the resolved ``argv``."""

    manifest: Manifest
    argv: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The manifest's connector name."""
        return self.manifest.name


def _apply_override(m: Manifest, o: ConnectorOverride) -> Manifest:
    t = m.transport
    tchanges: dict = {}
    if o.command is not None:
        tchanges.update(command=o.command, bin=None, bin_args=None)
    if o.args is not None:
        tchanges["args"] = list(o.args)
    if o.env:
        tchanges["env"] = {**t.env, **o.env}
    if o.cwd is not None:
        tchanges["cwd"] = o.cwd
    if o.url is not None:
        if not egress_allows(m.egress, o.url):
            raise ConfigError(f"connectors.overrides.{m.name}.url is outside the connector's egress list")
        tchanges["url"] = o.url
    changes: dict = {}
    if tchanges:
        changes["transport"] = Transport.model_validate({**t.model_dump(), **tchanges})
    if o.tools_allow is not None or o.tools_deny is not None:
        changes["tools"] = m.tools.model_copy(update={
            k: v for k, v in (("allow", o.tools_allow), ("deny", o.tools_deny)) if v is not None
        })
    return m.model_copy(update=changes) if changes else m


def resolve_argv(t: Transport, search_path: list[str]) -> tuple[str, ...]:
    """The stdio argv: ``bin`` from ``search_path``, the hub's own environment (``sys.executable``'s directory) or
    PATH, run with ``bin_args`` (default: no args); else ``command`` + ``args`` (e.g. ``npx -y <package>``)."""
    if t.bin:
        dirs = [*search_path, str(Path(sys.executable).parent)]
        for d in dirs:
            cand = Path(d).expanduser() / t.bin
            if cand.is_file() and os.access(cand, os.X_OK):
                return (str(cand.absolute()), *(t.bin_args or []))
        found = shutil.which(t.bin)
        if found:
            return (found, *(t.bin_args or []))
    if not t.command:
        raise ConfigError(f"executable {t.bin!r} not found and no fallback command")
    return (t.command, *t.args)


def load_registry(settings: HubSettings) -> dict[str, Connector]:
    """The enabled connectors by name. Raises :class:`ConfigError` for a bad manifest, an override or an enabled
    name that does not exist."""
    cs = settings.connectors
    if cs.bundled and not BUNDLED_DIR.is_dir():
        raise ConfigError(f"the bundled connectors are missing from this installation ({BUNDLED_DIR}); reinstall "
                          "mcpguard, or set connectors.bundled = false and list directories in connectors.dirs")
    bundled = load_dir(BUNDLED_DIR) if cs.bundled else {}
    extra: dict[str, Manifest] = {}
    for d in cs.dirs:
        extra.update(load_dir(Path(d).expanduser()))
    all_ = {**bundled, **extra}
    for name in cs.overrides:
        if name not in all_:
            raise ConfigError(f"connectors.overrides names an unknown connector {name!r}")
    for name in cs.enabled or []:
        if name not in all_:
            raise ConfigError(f"connectors.enabled names an unknown connector {name!r}")
    out: dict[str, Connector] = {}
    for name, m in all_.items():
        o = cs.overrides.get(name)
        if o is not None:
            m = _apply_override(m, o)
        if cs.enabled is not None:
            on = name in cs.enabled
        else:
            on = name in extra or (not m.network and not m.needs_credentials)
        if o is not None and o.enabled is not None:
            on = o.enabled
        if not on:
            continue
        argv = resolve_argv(m.transport, cs.search_path) if m.transport.type == "stdio" else ()
        out[name] = Connector(manifest=m, argv=argv)
    return out


__all__ = ["BUNDLED_DIR", "PACKAGED_DIR", "Connector", "bundled_dir", "load_registry", "resolve_argv"]
