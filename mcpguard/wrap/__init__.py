"""``mcpguard wrap``: run a stdio MCP server behind the protection pipeline.

:func:`main` is the whole command. Start-up is ordered for latency, because editors spawn the wrapper every time they
start: read the TOML (no pydantic yet), spawn the child with a scrubbed environment (with only ``subprocess``
imported), then — while the child boots — import asyncio, validate the config and build the pipeline (detection
engine, keys, audit log, tool guard), then pump frames. Nothing here imports typer, rich or the mcp SDK.

Submodules: :mod:`.session` (the pumps and lifecycle), :mod:`.router` (what each frame becomes; pure),
:mod:`.child` (process and shutdown), :mod:`.env` (the child environment), :mod:`.inflight` (open requests),
:mod:`.stderr` (the stderr filter), :mod:`.streams` (async fds), :mod:`.settings` (the start-up config read),
:mod:`.fastpath` (argv parsing for the CLI fast path).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def main(
    argv: Sequence[str],
    *,
    config_path: str | None = None,
    stderr_mode: str | None = None,
    audit_path: str | None = None,
    name: str | None = None,
    pass_env: Sequence[str] = (),
) -> int:
    """Run ``argv`` (the server's command, no shell) wrapped; return the exit status to exit with.

    ``pass_env`` names variables copied from the wrapper's environment to the child's (``--pass-env``), on top of
    the allowlist and ``wrap.env_passthrough``; ``wrap.env`` still wins.

    The status is the child's (128 + N when signal N killed it), 127/126 when it could not be started, or the
    ``exit_code`` of the :class:`mcpguard.errors.MCPGuardError` that stopped the wrapper (2 for a bad config).
    Raises :class:`mcpguard.errors.ConfigError` before spawning anything when the config file is unreadable, is not
    TOML or has a ``[wrap]`` value of the wrong type, or a ``pass_env`` entry is not a variable name.
    """
    import os

    from mcpguard.wrap.child import spawn_failed, start
    from mcpguard.wrap.env import child_env
    from mcpguard.wrap.settings import check_against, read_raw, resolve_path, spawn_settings

    argv = list(argv)
    path = resolve_path(config_path, os.environ)
    raw = read_raw(path)
    spawn = spawn_settings(raw, stderr_override=stderr_mode, pass_env=pass_env)
    # The child starts before asyncio, pydantic and the detection engine are imported: it boots meanwhile.
    try:
        popen = start(argv, child_env(os.environ, passthrough=spawn.passthrough, extra=spawn.env),
                      stderr_mode=spawn.stderr)
    except OSError as exc:
        return spawn_failed(exc)

    from mcpguard.jsonrpc.framing import Limits
    from mcpguard.wrap.session import Prepared, Wrapper, run_loop

    def prepare() -> Prepared:
        # pydantic scans every installed distribution's entry points for plugins when it builds its first model
        # (~5-10 ms), and would run any plugin it finds inside the wrapper; mcpguard uses none. (The switch is
        # pydantic's own, see pydantic/plugin/_loader.py; an explicit setting in the environment is kept.)
        os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
        from mcpguard.config import parse_config
        from mcpguard.runtime import build_pipeline
        from mcpguard.toolguard import build_toolguard
        from mcpguard.toolguard.pins import default_server_name

        config = parse_config(raw, source=str(path) if path else "<defaults>")
        check_against(spawn, config.wrap, stderr_override=stderr_mode)
        if audit_path is not None:
            config = config.model_copy(update={"audit": config.audit.model_copy(update={"path": audit_path})})
        server = name or config.wrap.name or default_server_name(argv)
        pipeline = build_pipeline(config)
        if getattr(pipeline, "toolguard", None) is None:
            # The guard audits through the pipeline and scans with its engine, so it is attached after the build.
            pipeline.toolguard = build_toolguard(config, name=server, argv=argv,
                                                 scan_text=pipeline.engine.scan_text, audit=pipeline.record_event)
        from mcpguard.toolguard.poisoning import compile_rules

        return Prepared(
            pipeline=pipeline,
            limits=Limits(config.wrap.max_frame_bytes, config.wrap.max_depth),
            grace=config.wrap.shutdown_grace_seconds,
            server=server,
            # Compiled after the first answer instead of here: needed only for the first tools/list result.
            warm=compile_rules,
        )

    wrapper = Wrapper(argv, spawn_settings=spawn, server=name or spawn.name or "default", prepare=prepare,
                      environ=os.environ, popen=popen)
    try:
        return run_loop(wrapper.run())
    finally:
        for fd in (0, 1):
            # connect_*_pipe made the client's pipes non-blocking; leave them as we found them.
            try:
                os.set_blocking(fd, True)
            except OSError:
                pass


def __getattr__(name: str) -> Any:
    if name in ("Prepared", "Wrapper"):
        from mcpguard.wrap import session

        return getattr(session, name)
    raise AttributeError(name)


__all__ = ["Prepared", "Wrapper", "main"]
