#!/bin/bash
# wsgatectl audit list|verify|export, and verify catching a record changed or deleted in LMDB.
. "$(dirname "$0")/lib.sh"
setup "$@"
[ -x "$AUDIT_FLIP" ] || fail "audit-flip helper missing"
expect 0 init
expect 0 project add p1
expect 0 user add alice --role analyst --project p1 --zone office
expect 0 user lock alice

expect 0 audit list
[ "$(wc -l <"$T/out")" = 4 ] || fail "audit list: $(cat "$T/out")"
grep -q " root user.lock user=alice" "$T/out" || fail "audit list format: $(cat "$T/out")"
expect 0 audit list --json
json_ok <"$T/out"
expect 0 audit export
while read -r line; do echo "$line" | json_ok; done <"$T/out"
[ "$(wc -l <"$T/out")" = 4 ] || fail "export lines"

# --since: epoch seconds, a day, a duration ago; all are in the last hour here.
expect 0 audit list --since 1h
[ "$(wc -l <"$T/out")" = 4 ] || fail "--since 1h"
expect 0 audit list --since "$(($(date +%s) + 3600))"
[ "$(wc -l <"$T/out")" = 0 ] || fail "--since future"
expect 0 audit list --since "$(date -u +%Y-%m-%d)"
[ "$(wc -l <"$T/out")" = 4 ] || fail "--since today"
expect 0 audit list --since 2099-01-01
[ "$(wc -l <"$T/out")" = 0 ] || fail "--since 2099"
expect_err 1 "--since" audit list --since yesterday
expect_err 1 "--since" audit list --since 1y
expect_err 2 "unknown subcommand" audit delete
expect_err 2 "unexpected argument" audit verify now

expect 0 audit verify
grep -qx "audit: 4 records verified" "$T/out" || fail "verify: $(cat "$T/out")"

# Change one bit of record 2's actor: verify fails, naming the record.
cp -a "$T/state/db" "$T/db.good"
"$AUDIT_FLIP" "$T/state" 2 12 || fail "flip"
expect_err 1 "audit record 2" audit verify
# A bit of record 4's time.
rm -rf "$T/state/db" && cp -a "$T/db.good" "$T/state/db"
"$AUDIT_FLIP" "$T/state" 4 7 || fail "flip"
expect_err 1 "audit record 4" audit verify
# Deleting the last record breaks the head.
rm -rf "$T/state/db" && cp -a "$T/db.good" "$T/state/db"
"$AUDIT_FLIP" "$T/state" 0 || fail "delete"
expect_err 1 "head" audit verify
rm -rf "$T/state/db" && cp -a "$T/db.good" "$T/state/db"
expect 0 audit verify
echo "ctl_audit: ok"
