#!/usr/bin/env bash
# Conformance suite: drive `pgssl emulator` through Tencent's official Python SDK.
#
#   tests/conformance/run.sh                 # from the repo root (or anywhere)
#   tests/conformance/run.sh -k TaskLifecycle  # extra arguments go to the unittest runner (-k, -f, ...)
#
# Environment:
#   PGSSL_VENV  venv holding the SDK (default: <repo>/.venv); created and filled when missing
#   PGSSL_BIN   prebuilt pgssl binary; default: `cargo build -q`, then target/debug/pgssl
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
VENV="${PGSSL_VENV:-$repo/.venv}"

sdk_ok() {
    [ -x "$VENV/bin/python" ] &&
        "$VENV/bin/python" -c 'import tencentcloud.postgres.v20170312.postgres_client, tencentcloud.common.abstract_client, tencentcloud.sts.v20180813.sts_client' \
            >/dev/null 2>&1
}

if ! sdk_ok; then
    echo "conformance: preparing the SDK venv in $VENV" >&2
    if [ ! -x "$VENV/bin/python" ]; then
        python3 -m venv "$VENV"
    fi
    "$VENV/bin/pip" install -q "tencentcloud-sdk-python-common>=3.1.194,<4" "tencentcloud-sdk-python-postgres>=3.1.194,<4"
    # STS models and errorcodes (the package stops at 3.0.x; its models need only the common base).
    "$VENV/bin/pip" install -q --no-deps "tencentcloud-sdk-python-sts==3.0.1459"
    sdk_ok || { echo "conformance: the SDK is still not importable from $VENV" >&2; exit 1; }
fi

if [ -n "${PGSSL_BIN:-}" ]; then
    case "$PGSSL_BIN" in
        /*) ;;
        */*) PGSSL_BIN="$PWD/$PGSSL_BIN" ;;              # relative to where run.sh was started
        *) PGSSL_BIN="$(command -v "$PGSSL_BIN" || echo "$PGSSL_BIN")" ;;
    esac
else
    echo "conformance: building pgssl (cargo build -q)" >&2
    (cd "$repo" && cargo build -q)
    PGSSL_BIN="${CARGO_TARGET_DIR:-$repo/target}/debug/pgssl"
    case "$PGSSL_BIN" in /*) ;; *) PGSSL_BIN="$repo/$PGSSL_BIN" ;; esac
fi
if [ ! -x "$PGSSL_BIN" ]; then
    echo "conformance: no pgssl binary at $PGSSL_BIN" >&2
    exit 1
fi
export PGSSL_BIN

# Loopback only: no proxy between the SDK and the emulator.
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

cd "$repo"
# `python -m unittest discover -s tests/conformance -v`, plus a closing "N passed, N failed" line.
exec "$VENV/bin/python" - "$here" "$@" <<'EOF'
import sys
import time
import unittest

start_dir = sys.argv[1]
argv = ["run.sh", "discover", "-s", start_dir, "-t", start_dir, "-v"] + sys.argv[2:]
started = time.monotonic()
program = unittest.main(module=None, argv=argv, exit=False)
result = program.result
failed = {getattr(t, "test_case", t).id() for t, _ in result.failures + result.errors}
failed |= {t.id() for t in result.unexpectedSuccesses}
skipped = len(result.skipped) + len(result.expectedFailures)
passed = result.testsRun - len(failed) - skipped
print("conformance: %d passed, %d failed, %d skipped" % (passed, len(failed), skipped))
print("conformance: %.1f s (expected failures = request forms the emulator does not emulate)"
      % (time.monotonic() - started), file=sys.stderr)
sys.exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)
EOF
