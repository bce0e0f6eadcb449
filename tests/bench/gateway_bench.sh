#!/bin/sh
# Gateway benchmarks against OpenSSH sshd on the same machine, in one run (docs/bench-gateway.md).
# Usage: tests/bench/gateway_bench.sh [BUILD_BIN_DIR]   (root; ports 22220 and 22290)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export WSGATE_BIN="${1:-$here/../../build/bin}"
exec /usr/bin/python3 "$here/gateway_bench.py"
