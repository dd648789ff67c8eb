#!/usr/bin/env bash
# Memory-safety check of the C extensions: builds them with AddressSanitizer + UBSan into a scratch copy of the
# package and runs the tests that drive them (random differential tests included) with the sanitizer runtimes
# preloaded. Needs gcc; not part of scripts/test.sh (about a minute, and RSS-bound tests do not hold under ASan).
#   bash scripts/asan.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r mcpguard tests bench setup.py pyproject.toml "$work"/
find "$work/mcpguard" -name '*.so' -delete
(cd "$work" && CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -g -O1" \
  LDFLAGS="-fsanitize=address,undefined" "$root/.venv/bin/python" setup.py -q build_ext --inplace 2>/dev/null)
cd "$work"
LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)" \
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
MCPGUARD_REQUIRE_NUMSCAN=1 PYTHONPATH="$work" \
  "$root/.venv/bin/python" -m pytest -q -p no:cacheprovider tests/mcpguard/detect tests/mcpguard/test_framing.py \
  tests/mcpguard/test_corpus_gate.py tests/mcpguard/test_external_gate.py "$@"
