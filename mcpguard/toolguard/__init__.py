"""Tools stay honest: control-character neutralization (:mod:`.sanitize`), canonical tool hashes (:mod:`.canonical`),
the pin store (:mod:`.pins`), the poisoning scanner (:mod:`.poisoning`) and the pipeline hook that ties them together
(:mod:`.guard`)."""

from mcpguard.toolguard.guard import ToolGuard, build_toolguard
from mcpguard.toolguard.pins import PinStore, ServerIdentity, server_identity

__all__ = ["PinStore", "ServerIdentity", "ToolGuard", "build_toolguard", "server_identity"]
