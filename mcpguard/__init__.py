"""mcpguard: keeps secrets and PII out of MCP traffic; the shared detect/transform/audit pipeline and the stdio
wrapper."""
