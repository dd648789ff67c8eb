"""Detection: finds secrets, personal data and infrastructure identifiers in JSON leaves and text.

Entry points: :func:`mcpguard.detect.engine.build_engine` (an :class:`~mcpguard.detect.engine.Engine` with
``scan_leaves`` / ``scan_text`` / ``known_types``) and :class:`mcpguard.detect.stream.StreamScanner` for values split
across chunks. Nothing is imported here so that ``import mcpguard.detect`` stays cheap.
"""
