"""Tests of mcpguard.toolguard."""
