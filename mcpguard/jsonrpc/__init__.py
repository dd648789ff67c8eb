"""JSON-RPC 2.0 plumbing shared by both front doors: ``framing`` (bytes ⇄ message, size and depth limits) and
``leaves`` (message ⇄ scannable leaves with RFC 6901 pointers). Submodules are imported explicitly, so importing the
package costs nothing."""
