"""SSN and other national ids."""

from mcpguard.detect.pii.ids import national_id, ssn_confidence

NO_CONTEXT = lambda: ""  # noqa: E731


def test_ssn():
    assert ssn_confidence("536904399", (3, 2, 4), b"--", NO_CONTEXT, False) == 0.9
    assert ssn_confidence("536904399", (9,), b"", NO_CONTEXT, False) is None
    assert ssn_confidence("536904399", (9,), b"", lambda: "ssn:", False) == 0.85
    assert ssn_confidence("666904399", (3, 2, 4), b"--", NO_CONTEXT, False) is None
    assert ssn_confidence("078051120", (3, 2, 4), b"--", NO_CONTEXT, False) is None


def test_national_ids():
    assert national_id("11144477735", (3, 3, 3, 2), b"111.444.777-35", NO_CONTEXT) == ("national_id.br_cpf", 0.9)
    assert national_id("11144477735", (11,), b"11144477735", NO_CONTEXT) is None
    assert national_id("11144477735", (11,), b"11144477735", lambda: "cpf") == ("national_id.br_cpf", 0.9)
