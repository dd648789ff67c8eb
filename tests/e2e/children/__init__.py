"""Small MCP servers (mcp 2.x, stdio) that misbehave on purpose, spawned by the e2e tests as separate processes."""
