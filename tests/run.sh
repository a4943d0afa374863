#!/usr/bin/env bash
# run.sh - the test command: installs what is missing, builds, starts the local stack, runs every
# ctest label (unit, integration, chaos), stops the stack, and exits non-zero on any failure.
#
#   tests/run.sh                 everything
#   tests/run.sh --unit          unit tests only (no services are started)
#   tests/run.sh -R <regex>      only the tests whose name matches (passed to ctest)
#   tests/run.sh --keep-stack    leave the stack running afterwards
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build"
LABELS='unit|integration|chaos'
KEEP_STACK=0
CTEST_ARGS=()

while [[ $# -gt 0 ]]; do
    case "$1" in
    --unit) LABELS='unit' ;;
    --keep-stack) KEEP_STACK=1 ;;
    -R)
        [[ $# -ge 2 ]] || { echo "run.sh: -R needs a regex" >&2; exit 2; }
        CTEST_ARGS+=(-R "$2")
        shift
        ;;
    -h | --help)
        sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "run.sh: unknown argument '$1' (see --help)" >&2
        exit 2
        ;;
    esac
    shift
done

start=$(date +%s)
echo "== install"
"$ROOT/deploy/local/install.sh"

echo "== build"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j2

stack_started=0
# shellcheck disable=SC2317  # called by the EXIT trap
stop_stack() {
    if [[ $stack_started == 1 && $KEEP_STACK == 0 ]]; then
        echo "== stack down"
        "$ROOT/deploy/local/stack.sh" down || true
    fi
}
trap stop_stack EXIT

if [[ "$LABELS" != unit ]]; then
    if "$ROOT/deploy/local/stack.sh" status >/dev/null 2>&1; then
        # Someone's stack is already running in this checkout: use it, leave it running.
        echo "== stack already up (left running afterwards)"
        "$ROOT/deploy/local/stack.sh" up
    else
        echo "== stack up"
        stack_started=1
        "$ROOT/deploy/local/stack.sh" up
    fi
fi

echo "== ctest -L '$LABELS'"
rc=0
(cd "$BUILD" && ctest --output-on-failure -L "$LABELS" "${CTEST_ARGS[@]}") || rc=$?
echo "== done in $(($(date +%s) - start)) s (exit $rc)"
exit $rc
