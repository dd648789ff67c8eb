"""End-to-end tests: real MCP servers behind `mcpguard wrap`, driven by the mcp SDK client."""
