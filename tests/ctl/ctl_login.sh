#!/bin/bash
# Accounts made with wsgatectl, logged in through auth_decide (auth-try helper) with codes from
# oathtool: the two halves agree, and wsgatectl's lock/unlock/del take effect on logins.
. "$(dirname "$0")/lib.sh"
setup "$@"
AUTH_TRY=${3:?auth-try path}
try() { "$AUTH_TRY" "$CONF" "$@"; }
expect 0 init
expect 0 project add p1
expect 0 project add p2
expect 0 user add alice --role analyst --project p1 --project p2 --zone office
echo "s3cret pass" | ctl user passwd alice >/dev/null || fail passwd
ctl user totp alice >"$T/totp" || fail totp
secret=$(head -1 "$T/totp" | sed -n 's/.*[?&]secret=\([A-Z2-7]*\)&.*/\1/p')
[ -n "$secret" ] || fail "no secret in $(head -1 "$T/totp")"

try password alice+p1 127.0.0.1 "s3cret pass" >"$T/r" || fail "password: $(cat "$T/r")"
grep -q "ok project=p1 zone=office area=remote uid=200000" "$T/r" || fail "$(cat "$T/r")"
try password alice+p1 127.0.0.1 "s3cret pas" >"$T/r" && fail "wrong password accepted"
grep -qx "wrong password" "$T/r" || fail "$(cat "$T/r")"
try password alice 127.0.0.1 "s3cret pass" >"$T/r" && fail "two projects, none named"
try password alice+p1 10.10.0.1 "s3cret pass" >"$T/r" && fail "onsite zone accepted"
grep -q "zone onsite not allowed" "$T/r" || fail "$(cat "$T/r")"

# TOTP with the code oathtool computes from the printed secret; a replay is refused.
now=$(date +%s)
code=$(oathtool --totp -b "$secret" --now="@$now")
try totp alice+p1 127.0.0.1 "$code" "$now" >"$T/r" || fail "totp: $(cat "$T/r")"
try totp alice+p2 127.0.0.1 "$code" "$now" >"$T/r" && fail "totp replay accepted"
grep -q "replayed" "$T/r" || fail "$(cat "$T/r")"
next=$(oathtool --totp -b "$secret" --now="@$((now + 30))")
try totp alice+p2 127.0.0.1 "$next" "$((now + 30))" >/dev/null || fail "next step refused"
ctl audit export | grep -q '"event":"login.ok".*project=p2' || fail "login.ok not audited"

# Five failures lock the account (lockout_failures = 5); show reports it; unlock ends it.
for i in 1 2 3 4 5; do try password alice+p1 127.0.0.2 nope >/dev/null; done
try password alice+p1 127.0.0.3 "s3cret pass" >"$T/r" && fail "locked-out account accepted"
grep -q "locked out" "$T/r" || fail "$(cat "$T/r")"
expect 0 user show alice --json
python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["locked_out"], d' <"$T/out" || fail "show: no lockout"
expect 0 user unlock alice
try password alice+p1 127.0.0.3 "s3cret pass" >/dev/null || fail "unlock did not end lockout"

# Admin lock, then delete: the account is gone for auth too.
expect 0 user lock alice
try password alice+p1 127.0.0.1 "s3cret pass" >"$T/r" && fail "locked account accepted"
grep -q "locked by an administrator" "$T/r" || fail "$(cat "$T/r")"
expect 0 user del alice
try password alice+p1 127.0.0.1 "s3cret pass" >"$T/r" && fail "deleted account accepted"
grep -qx "unknown account" "$T/r" || fail "$(cat "$T/r")"
# Re-created under the same name: a new uid, the old one's TOTP state does not carry over.
expect 0 user add alice --role analyst --project p1 --zone office
grep -q "uid 200001" "$T/out" || fail "re-created uid: $(cat "$T/out")"
# Hostile bytes in a login name reach the audit log; reading it stays safe: no raw C1 control
# or invalid UTF-8 on the terminal, and export stays valid JSON (jansson refuses bad UTF-8).
try password $'\xff\x9b[2Jx\xe6\x97\xa5' 127.0.0.1 pw >/dev/null && fail "odd login accepted"
expect 0 audit list
grep -q $'\x9b' "$T/out" && fail "raw CSI in audit list"
grep -q $'\xff' "$T/out" && fail "invalid UTF-8 in audit list"
grep -qF '\xff\x9b' "$T/out" || fail "escaped login missing: $(tail -2 "$T/out" | cat -v)"
grep -q $'x\xe6\x97\xa5' "$T/out" || fail "valid UTF-8 was mangled"
expect 0 audit export
while read -r line; do echo "$line" | json_ok; done <"$T/out"
expect 0 audit list --json
json_ok <"$T/out"
expect 0 audit verify
echo "ctl_login: ok"
