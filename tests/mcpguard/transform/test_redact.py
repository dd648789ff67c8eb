from mcpguard.transform.redact import redact


def test_redact_names_the_type_only():
    assert redact("email") == "[REDACTED:email]"
