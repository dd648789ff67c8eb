"""mcpguard hub: the multi-user HTTP gateway in front of MCP servers, sharing the ``mcpguard`` pipeline."""
