"""Build hook for the optional C extensions of the detection engine (everything else is in pyproject.toml).

- ``mcpguard.detect._numscan``: the numeric candidate pass and its cheap rejects (``mcpguard/detect/pii/numbers.py``);
- ``mcpguard.detect._textscan``: the one-byte-per-character scan buffer of a str (``mcpguard/detect/normalize.py``)
  and the base64/hex run finder of the decode layer (``mcpguard/detect/decode.py``);
- ``mcpguard.jsonrpc._jsonscan``: the member count behind the strict parser's duplicate-key check
  (``mcpguard/jsonrpc/framing.py``).

``optional=True`` lets an install without a C compiler succeed; the engine then uses its pure-Python paths
(``MCPGUARD_PURE_PYTHON=1`` forces them even when the extensions are built).
"""

import sys

from setuptools import Extension, setup

# Warnings on (gcc/clang); MSVC takes its defaults.
_WARN = [] if sys.platform == "win32" else ["-Wall", "-Wextra"]

setup(
    ext_modules=[
        Extension(
            "mcpguard.detect._numscan",
            ["mcpguard/detect/_numscan.c"],
            extra_compile_args=_WARN,
            optional=True,
        ),
        Extension(
            "mcpguard.detect._textscan",
            ["mcpguard/detect/_textscan.c"],
            extra_compile_args=_WARN,
            optional=True,
        ),
        Extension(
            "mcpguard.jsonrpc._jsonscan",
            ["mcpguard/jsonrpc/_jsonscan.c"],
            extra_compile_args=_WARN,
            optional=True,
        ),
    ]
)
