"""Upstream MCP servers behind the hub.

::

    manifest.py    connectors/<name>/manifest.yaml: the model, validation, egress prefixes
    registry.py    which connectors are served: bundled + configured dirs, overrides, command resolution
    stdio.py       launching a stdio child: argv placeholders, scrubbed environment, private directory
    http.py        one httpx2 client per HTTP upstream instance: the user's headers, egress checks, no redirects
    pool.py        pooled per-(user, connector) client sessions: caps, idle reaping, offboarding, credential changes
    naming.py      {connector}__{name} namespacing
    redact.py      exact-match redaction of injected credentials in what comes back
    ratelimit.py   per-user, per-connector rate limits (manifest `rate`)
"""
