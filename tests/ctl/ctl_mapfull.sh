#!/usr/bin/env bash
# A full LMDB map reaches the operator by name: with a tiny map (WSGATE_STORE_MAP_SIZE, test
# builds only), wsgatectl adds projects until a write fails; the one-line message names
# MDB_MAP_FULL, the failed change left nothing behind, and reads still work.
. "$(dirname "$0")/lib.sh"
setup "$@"
export WSGATE_STORE_MAP_SIZE=$((256 * 1024))
expect 0 init
full=
for i in $(seq 1 3000); do
	if ! ctl project add "p$i" >"$T/out" 2>"$T/err"; then
		full=$i
		break
	fi
done
[ -n "$full" ] || { echo "SKIP: the map never filled (a build without WSGATE_TEST_HOOKS?)"; exit 0; }
grep -q '^wsgatectl: ' "$T/err" || fail "no wsgatectl: line: $(cat "$T/err")"
grep -q 'MDB_MAP_FULL' "$T/err" || fail "the message does not name MDB_MAP_FULL: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" = 1 ] || fail "more than one line: $(cat "$T/err")"
msg=$(cat "$T/err")
# The failed add changed nothing; what was added before is all there and readable.
ctl project show "p$full" >/dev/null 2>&1 && fail "p$full exists after its add failed"
expect 0 project show "p$((full - 1))"
n=$(ctl project list | tail -n +2 | wc -l)
[ "$n" = $((full - 1)) ] || fail "project list shows $n projects, want $((full - 1))"
echo "ok: project $full refused with: $msg"
