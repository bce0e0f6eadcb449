#!/bin/sh
# Audit and recording benchmarks (issue 11 point 6; docs/BENCHMARKS.md "Audit log and
# recordings"), each against its peer in the same run:
#   (a) 100,000 audit appends then a verify with the witness, vs plain LMDB puts (bench_audit)
#   (b) cat of 100 MB through a recorded pty vs an unrecorded one (two wsgated, ports 22302/22303)
# Usage: tests/bench/audit_bench.sh [BUILD_DIR]   (root; builds bench_audit if needed)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
cmake --build "$build" --target bench_audit >/dev/null
tmp=$(mktemp -d /tmp/wsgate-audit-bench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
echo "== (a) audit appends and verify (N=${N:-100000}, batch ${BATCH:-1000})"
"$build/bin/bench_audit" "$tmp" "${N:-100000}" "${BATCH:-1000}"
echo "== (b) cat of ${MB:-100} MB through a pty, recorded vs not"
WSGATE_BIN="$build/bin" MB="${MB:-100}" exec /usr/bin/python3 "$here/audit_bench.py"
