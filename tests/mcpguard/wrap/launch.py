"""Run the wrapper (``mcpguard.wrap.session.Wrapper``) with a stand-in protector, as a separate process, so lifecycle
and framing tests do not depend on the detection engine.

    python tests/mcpguard/wrap/launch.py [--protector pass|fake|auditfail] [--max-frame N] [--max-depth N] [--grace S]
                                         [--stderr filter|drop|inherit] [--env-passthrough NAME]...
                                         [--warm mark|fail] -- CMD ARGS...

``pass`` forwards every frame unchanged; ``fake`` is the real :class:`mcpguard.pipeline.Pipeline` with the small
regex engine from ``tests/mcpguard/fakes.py`` and no audit log (``--audit PATH`` adds one). ``--warm mark`` gives
the session a deferred warm-up (``Prepared.warm``) that writes ``warm-up ran`` to stderr; ``--warm fail`` one that
raises.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from mcpguard.jsonrpc.framing import Limits  # noqa: E402
from mcpguard.types import Outcome  # noqa: E402
from mcpguard.wrap.session import Prepared, Wrapper, run_loop  # noqa: E402
from mcpguard.wrap.settings import SpawnSettings  # noqa: E402


class PassThrough:
    """Forwards everything unchanged."""

    def protect(self, message, ctx):
        return Outcome(kind="forward", message=message)

    def protect_text(self, text, ctx):
        return text, []


class AuditFails(PassThrough):
    """Raises AuditUnavailable for client ``tools/call`` requests, for responses to ``test/echo_params`` and for
    every stderr line; passes everything else."""

    def protect(self, message, ctx):
        from mcpguard.errors import AuditUnavailable

        if ctx.method in ("tools/call", "test/echo_params") and (ctx.method == "tools/call") == (
            ctx.direction.value == "client_to_server"
        ):
            raise AuditUnavailable("audit log unavailable; frame refused")
        return super().protect(message, ctx)

    def protect_text(self, text, ctx):
        from mcpguard.errors import AuditUnavailable

        raise AuditUnavailable("audit log unavailable; line withheld")


def fake_pipeline(audit_path: str | None, tmp: str):
    from mcpguard.config import parse_config
    from mcpguard.runtime import NO_AUDIT, build_pipeline
    from tests.mcpguard.fakes import FakeEngine

    config = parse_config({"keys": {"dir": os.path.join(tmp, "keys")}, "tokens": {"store": "memory"},
                           "audit": {"path": audit_path or ""}})
    return build_pipeline(config, engine=FakeEngine(), audit=None if audit_path else NO_AUDIT)


def mark_warm() -> None:
    """A deferred warm-up that says when it ran."""
    os.write(2, b"warm-up ran\n")


def fail_warm() -> None:
    """A deferred warm-up that fails."""
    raise RuntimeError("warm-up failed")


def main() -> int:
    args = sys.argv[1:]
    split = args.index("--")
    opts, argv = args[:split], args[split + 1 :]
    o: dict[str, list[str]] = {}
    for i in range(0, len(opts), 2):
        o.setdefault(opts[i], []).append(opts[i + 1])
    protector = o.get("--protector", ["pass"])[0]
    limits = Limits(int(o.get("--max-frame", [16 << 20])[0]), int(o.get("--max-depth", [64])[0]))
    grace = float(o.get("--grace", [2.0])[0])
    tmp = o.get("--tmp", ["/tmp"])[0]

    def prepare() -> Prepared:
        if protector == "pass":
            pipeline = PassThrough()
        elif protector == "auditfail":
            pipeline = AuditFails()
        else:
            pipeline = fake_pipeline(o.get("--audit", [None])[0], tmp)
        warm = o.get("--warm", [None])[0]
        return Prepared(pipeline=pipeline, limits=limits, grace=grace, server="test",
                        warm=None if warm is None else (mark_warm if warm == "mark" else fail_warm))

    spawn = SpawnSettings(stderr=o.get("--stderr", ["filter"])[0],
                          env_passthrough=tuple(o.get("--env-passthrough", [])))
    return run_loop(Wrapper(argv, spawn_settings=spawn, server="test", prepare=prepare,
                               environ=os.environ).run())


if __name__ == "__main__":
    sys.exit(main())
