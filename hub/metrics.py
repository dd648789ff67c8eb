"""Prometheus metrics for ``/metrics``.

One :class:`HubMetrics` per app, on its own ``CollectorRegistry`` (several apps in one test process must not collide).
Label values are drawn from small closed sets: route names, status codes, reason codes, connector names from the
manifests, pipeline actions. Never user ids, e-mails, tool arguments, values or raw paths.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0)


class HubMetrics:
    """The hub's collectors. ``render()`` returns ``(body, content_type)`` for the ``/metrics`` route."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "hub_http_requests_total", "HTTP requests by route and status.", ["route", "status"], registry=r
        )
        self.auth_failures = Counter(
            "hub_auth_failures_total", "Refused authentications by reason code.", ["reason"], registry=r
        )
        self.mcp_requests = Counter(
            "hub_mcp_requests_total", "MCP requests handled, by method and outcome.", ["method", "outcome"], registry=r
        )
        self.tool_calls = Counter(
            "hub_tool_calls_total", "tools/call by connector and outcome.", ["connector", "outcome"], registry=r
        )
        self.tool_call_seconds = Histogram(
            "hub_tool_call_seconds", "tools/call latency including the upstream, seconds.", ["connector"],
            buckets=_LATENCY_BUCKETS, registry=r,
        )
        self.pipeline_actions = Counter(
            "hub_pipeline_actions_total", "Pipeline decisions by connector, direction and action.",
            ["connector", "direction", "action"], registry=r,
        )
        self.upstream_instances = Gauge(
            "hub_upstream_instances", "Live upstream connections (stdio children or HTTP sessions).", ["connector"],
            registry=r,
        )
        self.upstream_starts = Counter(
            "hub_upstream_starts_total", "Upstream connections opened, by connector and result.",
            ["connector", "result"], registry=r,
        )
        self.rate_limited = Counter(
            "hub_rate_limited_total", "Calls refused by a connector's rate limit.", ["connector"], registry=r
        )
        self.egress_denied = Counter(
            "hub_egress_denied_total", "Upstream URLs refused by a connector's egress list.", ["connector"], registry=r
        )
        self.ready = Gauge("hub_ready", "1 when the start-up probe passed and the hub accepts traffic.", registry=r)

    def render(self) -> tuple[bytes, str]:
        """Prometheus text exposition of the registry: ``(body, content_type)``."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


__all__ = ["HubMetrics"]
