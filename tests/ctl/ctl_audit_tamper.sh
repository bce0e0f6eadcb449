#!/bin/bash
# Issue 11 point 5: each way an attacker with write access to state_dir (not to secrets.key, not
# to the witness) can change the audit log fails `audit verify` at the right record, and its
# control passes: a changed value, a deleted middle record, deleted newest records (with the head
# rewritten, or with an older head put back), a reorder, a wipe, a rollback of the whole state to
# an earlier copy. And a request record edited to "released" is neither listed as released nor
# decided.
. "$(dirname "$0")/lib.sh"
setup "$@"
[ -x "$AUDIT_FLIP" ] || fail "audit-flip helper missing"
mkdir -p "$T/log"
W=$T/log/audit.witness
printf '\n[audit]\nwitness = %s\n' "$W" >>"$CONF"

expect 0 init
expect 0 project add p1
for u in adm1 adm2; do expect 0 user add $u --role admin; done
expect 0 user add alice --role analyst --project p1 --zone office
expect 0 user lock alice                         # records 1..6
[ "$(wc -l <"$W")" = 6 ] || fail "one witness line per record: $(cat "$W")"
"$AUDIT_FLIP" "$T/state" head-save "$T/head6" || fail "head-save"
cp -a "$T/state" "$T/state.at6"                  # an honest copy, taken now
expect 0 user unlock alice
expect 0 user lock alice                         # records 7, 8
expect 0 audit verify
grep -qx "audit: 8 records verified, 8 witness lines match" "$T/out" || fail "control: $(cat "$T/out")"
cp -a "$T/state/db" "$T/db.good"
restore() { rm -rf "$T/state/db" && cp -a "$T/db.good" "$T/state/db"; }

"$AUDIT_FLIP" "$T/state" 3 20 || fail "flip"
expect_err 1 "audit record 3: MAC mismatch" audit verify
restore
"$AUDIT_FLIP" "$T/state" del 4 || fail "del"
expect_err 1 "audit record 4: missing" audit verify
restore
"$AUDIT_FLIP" "$T/state" swap 2 || fail "swap"
expect_err 1 "audit record 2" audit verify
restore
# The issue's attack: delete 7 and 8 and point the head at 6.
"$AUDIT_FLIP" "$T/state" truncate 6 || fail "truncate"
expect_err 1 "audit head: its tag does not verify" audit verify
expect_err 1 "audit head" audit verify --witness /dev/null   # the key alone catches it
expect_err 1 "" user unlock alice                # and the log is not extended past it
restore
# With the head saved at 6 put back, the key is fooled; the witness is not.
"$AUDIT_FLIP" "$T/state" del 8 && "$AUDIT_FLIP" "$T/state" del 7 &&
	"$AUDIT_FLIP" "$T/state" head-load "$T/head6" || fail "old head"
expect 0 audit verify --witness /dev/null
expect_err 1 "audit record 7: in the witness (line 7) but missing from the log" audit verify
restore
"$AUDIT_FLIP" "$T/state" wipe || fail "wipe"
expect_err 1 "head says 8" audit verify
"$AUDIT_FLIP" "$T/state" wipe-all || fail "wipe-all"
expect_err 1 "wiped" audit verify
restore
expect 0 audit verify

# Rollback of the whole state to the copy taken at record 6: valid by the key, not by the witness.
rm -rf "$T/state" && cp -a "$T/state.at6" "$T/state"
expect 0 audit verify --witness /dev/null
expect_err 1 "audit record 7: in the witness (line 7) but missing" audit verify
# ... and written on from there: record 7 now exists twice over.
expect 0 user unlock alice
expect_err 1 "audit record 7: " audit verify; grep -q "written again" "$T/err" || fail "rollback+rewrite: $(cat "$T/err")"
# The operator's repair: the honest state back, and a witness that starts anew (docs/audit.md).
rm -rf "$T/state" && cp -a "$T/state.at6" "$T/state" && rm -rf "$T/state/db" &&
	cp -a "$T/db.good" "$T/state/db" || fail "restore"
head -n 8 "$W" >"$T/w8" && cat "$T/w8" >"$W"
expect 0 audit verify
# A witness others may write is no evidence: refused.
chmod 0666 "$W"
expect_err 1 "only we may write" audit list
chmod 0600 "$W"
# A witness line that is not one: the file and line are named.
printf 'garbage\n' >"$T/bad.witness"
expect_err 1 "bad.witness:1" audit verify --witness "$T/bad.witness"
expect_err 1 "for local root" --as adm1 audit verify --witness "$W"

# Request records: a forged "released" is never listed as released, decided or delivered.
printf 'n\n5\n' >"$T/a.csv"
expect 0 transfer import p1 remote "$T/a.csv"    # request 1, pending
expect 0 transfer import p1 remote "$T/a.csv"    # request 2, pending (the control)
"$AUDIT_FLIP" "$T/state" req-state 1 5 || fail "req-state"
expect 0 --json transfer list --state released
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d == [], d' "$T/out" ||
	fail "forged request listed as released"
grep -q "request 1: its record does not verify" "$T/err" || fail "list names it: $(cat "$T/err")"
expect_err 1 "request 1" --as adm1 transfer approve 1 --note ok
expect_err 1 "request 1" transfer show 1
expect 0 --as adm1 transfer approve 2 --note ok
expect 0 --json transfer list --state released
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [r["id"] for r in d] == [2], d' \
	"$T/out" || fail "control: approved request 2 is released: $(cat "$T/out")"
echo "ctl_audit_tamper: ok"
