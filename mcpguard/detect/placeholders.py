"""Documentation placeholders and published test vectors.

Values everybody copies from documentation (AWS's ``AKIAIOSFODNN7EXAMPLE``, Stripe's ``4242 4242 4242 4242``) are not
credentials or personal data: flagging them trains users to ignore findings. With ``flag_placeholders = false`` (the
default) the engine drops them; ``true`` reports them like any other finding. Only exact published values and a few
unmistakable shapes are listed, so a real value can never be mistaken for one.
"""

from __future__ import annotations

import re

#: Published test card numbers (Stripe, Adyen, PayPal/Braintree, Visa/Mastercard/Amex docs), digits only.
TEST_CARDS = frozenset(
    {
        "4242424242424242", "4000056655665556", "5555555555554444", "2223003122003222", "5200828282828210",
        "5105105105105100", "378282246310005", "371449635398431", "6011111111111117", "6011000990139424",
        "3056930009020004", "36227206271667", "6555900000604105", "3566002020360505", "6200000000000005",
        "4111111111111111", "4012888888881881", "4222222222222", "5431111111111111", "30569309025904",
        "38520000023237", "3530111333300000", "3566111111111113", "4000000000000002", "4000000000009995",
        "4000000000000077", "4000002500003155", "4000000000003220", "5500000000000004", "340000000000009",
        "6011000000000004", "4917610000000000", "4988438843884305",
    }
)

#: Example IBANs from the ISO 13616 registry and bank documentation, compact.
TEST_IBANS = frozenset({"DE89370400440532013000", "GB82WEST12345698765432", "GB29NWBK60161331926819",
                        "FR1420041010050500013M02606", "NL91ABNA0417164300", "CH9300762011623852957"})

#: Well-known example SSNs (the Woolworth wallet card and the SSA advertising number).
TEST_SSNS = frozenset({"078051120", "219099999", "123456789"})

#: Exact secret test vectors from vendor documentation.
TEST_SECRETS = frozenset(
    {
        b"AKIAIOSFODNN7EXAMPLE",
        b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        b"ASIAIOSFODNN7EXAMPLE",
    }
)

# Shapes that only ever occur in documentation and templates: AWS's EXAMPLE suffix, template variables, masks,
# ``your_…`` and ``fake…`` stand-ins (``fakesecret``, ``fake-token``), ``…_here`` (wp-config-sample.php's
# ``password_here``).
# Anchored at the start (``match``), so a check costs one attempt, not a scan.
_SECRET_SHAPES = re.compile(
    rb"(?:\$\{[^}]*\}$|\{\{[^}]*\}\}$|<[^>]*>$|%(?:\(\w+\))?s$|\$[A-Z_][A-Z0-9_]*$"
    rb"|(?:x+|X+|\*+|\.+|#+|0+|-+|_+)$|your[_-]|fake|\w*_here$|(?:changeme|password|secret|example|redacted|placeholder|"
    rb"dummy|sample|test|null|none|undefined|true|false|string|str|bytes|int)$)",
    re.IGNORECASE,
)
_EXAMPLE_SUFFIXES = (b"EXAMPLE", b"EXAMPLEKEY", b"example", b"EXAMPLE_KEY")

#: Reserved documentation domains (RFC 2606 §2–3, RFC 6761): addresses there are examples by definition.
_EXAMPLE_DOMAINS = re.compile(rb"(?:^|\.)(?:example\.(?:com|net|org)|example|test|invalid|localhost)$", re.IGNORECASE)


#: A masked tail: a vendor prefix followed by a mask (``AKIAXXXXXXXXXXXXXXXX``, ``sk_live_********``). Eight equal mask
#: characters end a random token with probability < 32^-8, so a real credential is never taken for one.
_MASK_TAILS = frozenset(c * 8 for c in (b"x", b"X", b"*", b"#", b".", b"_"))


def secret_placeholder(value: bytes) -> bool:
    """True for a documentation/template stand-in rather than a credential (exact test vectors, ``…EXAMPLE``,
    ``${VAR}``, ``<password>``, ``****``, ``changeme``, a prefix followed by eight or more mask characters)."""
    return (value in TEST_SECRETS or value.endswith(_EXAMPLE_SUFFIXES) or value[-8:] in _MASK_TAILS
            or _SECRET_SHAPES.match(value) is not None)


def email_placeholder(domain: bytes) -> bool:
    """True when ``domain`` is reserved for documentation (``example.com``, ``*.test``, ``*.invalid``, …)."""
    return bool(_EXAMPLE_DOMAINS.search(domain))


__all__ = ["TEST_CARDS", "TEST_IBANS", "TEST_SECRETS", "TEST_SSNS", "email_placeholder", "secret_placeholder"]
