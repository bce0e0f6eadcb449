#!/usr/bin/env bash
# check_deps.py must catch what it exists for: a planted direct include, one reached through
# another header, and a file framing monitor messages itself; and pass a tree without them.
set -euo pipefail
check=$(dirname "$0")/check_deps.py
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir -p "$t"/{common,policy,sandbox,gateway,transfer}
echo '#include "common/codec.h"' >"$t/policy/role.h"
echo '#include <stdint.h>' >"$t/common/codec.h"
echo '#include "policy/role.h"' >"$t/gateway/worker.c"
python3 "$check" "$t" || { echo "selftest: a clean tree failed"; exit 1; }

echo '#include "gateway/worker.h"' >"$t/sandbox/evil.c"
echo '#include "common/store.h"' >"$t/policy/role.h"
echo 'int f(void) { return mon_send(3, 0, 0, 0); }' >"$t/gateway/session.c"
echo '#include "transfer/ledger.h"' >"$t/transfer/check_rules.c"
if out=$(python3 "$check" "$t"); then
	echo "selftest: violations were not caught"
	exit 1
fi
echo "$out"
grep -q '^sandbox/evil.c:1: includes gateway/worker.h' <<<"$out"
grep -q '^gateway/worker.c:1: includes common/store.h (through policy/role.h)' <<<"$out"
grep -q '^gateway/session.c:1: frames a monitor message' <<<"$out"
grep -q '^transfer/check_rules.c:1: includes transfer/ledger.h' <<<"$out"
echo "selftest: ok"
