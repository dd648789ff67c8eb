"""hub.upstreams.ratelimit: per user and connector, both windows."""

from hub.upstreams.manifest import Manifest
from hub.upstreams.ratelimit import RateLimits
from hub.upstreams.registry import Connector


def test_burst_per_user_and_connector():
    m = Manifest.model_validate({"name": "c", "transport": {"type": "stdio", "command": "x"},
                                 "rate": {"burst": "3/minute", "sustained": "100/hour"}})
    rl = RateLimits({"c": Connector(manifest=m, argv=("x",))})
    assert [rl.allow("alice", "c") for _ in range(4)] == [True, True, True, False]
    assert rl.allow("bob", "c")  # another user's budget is separate
    assert rl.allow("alice", "unlimited")
