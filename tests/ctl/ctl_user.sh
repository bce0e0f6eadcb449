#!/bin/bash
# wsgatectl user and project commands, good and bad input.
. "$(dirname "$0")/lib.sh"
setup "$@"
expect 0 init

# Projects.
expect 0 project add p1 --max-accounts 2
expect 0 project add p2
expect_err 1 'project "p1" already exists' project add p1
expect_err 1 "invalid name" project add P1
expect_err 1 "invalid name" project add 1p
expect_err 1 "invalid name" project add "$(printf 'a%.0s' {1..33})"
expect 0 project add "$(printf 'a%.0s' {1..32})"
expect_err 1 "max-accounts" project add p3 --max-accounts -1
expect_err 1 "max-accounts" project add p3 --max-accounts 1x
expect_err 2 "unknown option" project add p3 --bogus
expect_err 2 "expects one NAME" project add
expect_err 2 "unknown subcommand" project remove p1
expect_err 1 'project "p9" does not exist' project show p9

# user add: good and bad.
expect 0 user add alice --role analyst --project p1 --zone office
grep -q "uid 200000" "$T/out" || fail "first uid: $(cat "$T/out")"
expect_err 1 'user "alice" already exists' user add alice --role analyst --project p1 --zone office
expect_err 1 'user "bob": project "p9" does not exist' user add bob --role analyst --project p9 --zone office
expect_err 1 'zone "nowhere" does not exist' user add bob --role analyst --project p1 --zone nowhere
expect_err 1 "unknown role" user add bob --role root --project p1
expect_err 2 "--role" user add bob --project p1
expect_err 1 "needs at least one --project" user add bob --role stats --zone office
expect_err 1 "admin belongs to no project" user add bob --role admin --project p1
expect_err 1 "reserved" user add root --role admin --zone office
expect_err 1 "invalid name" user add Bob --role analyst --project p1
expect_err 1 "invalid name" user add "b;rm -rf /" --role analyst --project p1
expect_err 1 "invalid name" user add "$(printf 'b%.0s' {1..33})" --role analyst --project p1
# Terminal control bytes in a name never reach the terminal raw (ESC, and C1 CSI 0x9b).
expect_err 1 "invalid name" user add $'\x1b[2J\x9bevil' --role analyst --project p1
grep -q $'\x1b' "$T/err" && fail "raw ESC echoed"
grep -q $'\x9b' "$T/err" && fail "raw CSI echoed"
grep -qF '\x1b[2J\x9bevil' "$T/err" || fail "escaped name not shown: $(cat -v "$T/err")"
expect_err 1 "invalid project name" user add bob --role analyst --project ../x
expect_err 1 "given twice" user add bob --role analyst --project p1 --project p1
expect_err 1 "not a date" user add bob --role analyst --project p1 --expires 2030-02-31
expect_err 1 "not a date" user add bob --role analyst --project p1 --expires tomorrow
expect_err 1 "in the past" user add bob --role analyst --project p1 --expires 2001-01-01
expect_err 2 "unknown option" user add bob --role analyst --project p1 --shell /bin/sh
expect_err 2 "expects one NAME" user add --role analyst --project p1
# None of the refusals above left anything behind.
expect 0 user list --json
[ "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <"$T/out")" = 1 ] ||
	fail "refused adds left accounts: $(cat "$T/out")"

# --max-accounts: p1 holds 2.
expect 0 user add bob --role stats --project p1 --project p2 --zone office --expires 2099-12-31
expect_err 1 'project "p1" is full (2 of 2 accounts)' user add carol --role analyst --project p1 --zone office
expect 0 user add carol --role analyst --project p2 --zone office --zone onsite
expect 0 user add root1 --role admin --zone onsite

# passwd: on stdin, one line; empty, over-long and NUL refused.
echo "correct horse" | ctl user passwd alice >/dev/null || fail "passwd"
echo "" | ctl user passwd alice 2>"$T/err" >/dev/null; [ $? = 1 ] || fail "empty password accepted"
grep -q "empty password refused" "$T/err" || fail "empty: $(cat "$T/err")"
ctl user passwd alice </dev/null 2>"$T/err" >/dev/null; [ $? = 1 ] || fail "no stdin accepted"
head -c 1025 /dev/zero | tr '\0' a | ctl user passwd alice 2>"$T/err" >/dev/null
[ $? = 1 ] && grep -q "longer than 1024" "$T/err" || fail "over-long password: $(cat "$T/err")"
head -c 1024 /dev/zero | tr '\0' a | ctl user passwd alice >/dev/null || fail "1024-byte password"
printf 'ab\0cd\n' | ctl user passwd alice 2>"$T/err" >/dev/null
[ $? = 1 ] && grep -q "NUL" "$T/err" || fail "NUL password: $(cat "$T/err")"
echo pw | ctl user passwd nobody 2>"$T/err" >/dev/null; [ $? = 1 ] || fail "passwd unknown user"
grep -q 'user "nobody" does not exist' "$T/err" || fail "unknown: $(cat "$T/err")"

# key: one valid OpenSSH public key line.
ssh-keygen -q -t ed25519 -N '' -C "alice@laptop" -f "$T/k1"
ssh-keygen -q -t rsa -b 2048 -N '' -f "$T/k2"
ctl user key alice <"$T/k1.pub" >/dev/null || fail "key"
ctl user key alice <"$T/k1.pub" 2>"$T/err" >/dev/null; [ $? = 1 ] || fail "duplicate key accepted"
ctl user key alice <"$T/k2.pub" >/dev/null || fail "rsa key"
echo "ssh-ed25519 AAAAnotbase64!!" | ctl user key alice 2>"$T/err" >/dev/null
[ $? = 1 ] && grep -q "no valid OpenSSH public key" "$T/err" || fail "bad key: $(cat "$T/err")"
echo 'command="sh" ssh-ed25519 AAAA' | ctl user key alice 2>/dev/null >/dev/null && fail "options accepted"
ctl user key alice </dev/null 2>/dev/null >/dev/null && fail "empty key accepted"
ssh-keygen -q -t ecdsa -N '' -f "$T/k3"
ctl user key alice <"$T/k3.pub" >/dev/null || fail "ecdsa key"
# A certificate is not a key here (no CA), and a key that does not fit the record is refused.
ssh-keygen -q -t ed25519 -N '' -f "$T/ca"
ssh-keygen -q -s "$T/ca" -I test -n alice "$T/k1.pub"
ctl user key alice <"$T/k1-cert.pub" 2>/dev/null >/dev/null && fail "certificate accepted"
ssh-keygen -q -t rsa -b 8192 -N '' -f "$T/k4"
ctl user key alice <"$T/k4.pub" 2>"$T/err" >/dev/null
[ $? = 1 ] && grep -q "longer than 1023 bytes" "$T/err" || fail "8192-bit key: $(cat "$T/err")"
ctl user key alice --replace <"$T/k2.pub" >/dev/null || fail "key --replace"
expect 0 user show alice --json
python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["keys"]==1 and d["password"] and not d["totp"], d' <"$T/out" ||
	fail "show after key --replace"
# The fingerprint shown is the one ssh-keygen gives for the user's key.
fp=$(ssh-keygen -l -E sha256 -f "$T/k2.pub" | awk '{print $2}')
python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["key_fingerprints"]==["ssh-rsa "+sys.argv[1]], d' "$fp" <"$T/out" ||
	fail "fingerprint: $(cat "$T/out") vs $fp"

# totp: URI first, on its own line, then a QR code; --secret given.
expect 0 user totp alice
head -1 "$T/out" | grep -Eq '^otpauth://totp/wsgate:alice\?secret=[A-Z2-7]{32}&issuer=wsgate&algorithm=SHA1&digits=6&period=30$' ||
	fail "totp uri: $(head -1 "$T/out")"
[ "$(wc -l <"$T/out")" -gt 20 ] || fail "no QR code"
grep -q '█' "$T/out" || fail "QR code has no blocks"
python3 "$(dirname "$0")/qr_check.py" "$T/out" >/dev/null || fail "QR code drawing is malformed"
expect 0 user totp bob --secret "jbsw y3dp ehpk 3pxp"
head -1 "$T/out" | grep -q 'secret=JBSWY3DPEHPK3PXP&' || fail "given secret: $(head -1 "$T/out")"
expect_err 1 "not base32" user totp bob --secret "not*base32"
expect_err 2 "not accepted" user totp bob --role admin

# show never prints secrets.
expect 0 user show alice
grep -qi "secret\|scrypt\|hash" "$T/out" && fail "show prints secret material"
grep -q "totp:     enrolled" "$T/out" || fail "show totp: $(cat "$T/out")"
expect 0 --json user show alice
json_ok <"$T/out"

# lock / unlock / del.
expect 0 user lock alice
expect 0 user show alice --json
python3 -c 'import json,sys; assert json.load(sys.stdin)["locked"] is True' <"$T/out" || fail "lock"
expect 0 user unlock alice
expect 0 user show alice --json
python3 -c 'import json,sys; assert json.load(sys.stdin)["locked"] is False' <"$T/out" || fail "unlock"
expect_err 1 'user "nobody" does not exist' user lock nobody
expect_err 1 'user "nobody" does not exist' user del nobody
expect_err 2 "unknown subcommand" user frob alice
expect_err 2 "takes no NAME" user list alice

# A deleted user's uid is never reused; the name may come back with a new uid.
uid=$(ctl user show carol --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])')
expect 0 user del carol
expect_err 1 'user "carol" does not exist' user show carol
expect 0 user add carol --role analyst --project p2 --zone office
expect 0 user add dave --role analyst --project p2 --zone office
expect 0 user list --json
python3 - "$uid" "$T/out" <<'PY' || fail "uid reused"
import json, sys
users = json.load(open(sys.argv[2]))
uids = [u["uid"] for u in users]
assert len(set(uids)) == len(uids), uids
assert int(sys.argv[1]) not in uids, (sys.argv[1], uids)
PY
# Deleting a member frees a place in a full project.
expect 0 user del bob
expect 0 user add erin --role analyst --project p1 --zone office

# Listings in both forms; --json before or after the command.
expect 0 user list
grep -q "^alice " "$T/out" || fail "user list: $(cat "$T/out")"
for cmd in "user list" "user show alice" "project list" "project show p1" "project show p2"; do
	ctl --json $cmd | json_ok
	ctl $cmd --json | json_ok
done
expect 0 project show p1 --json
python3 -c 'import json,sys; d=json.load(sys.stdin); assert sorted(m["name"] for m in d["members"])==["alice","erin"], d' <"$T/out" ||
	fail "project members: $(cat "$T/out")"

# --as is only for transfer and audit, and only names an admin.
expect_err 2 "--as" --as root1 user list
expect_err 1 "not an admin" --as alice audit verify
expect_err 1 "not an admin" --as ghost audit verify
expect 0 --as root1 audit verify
expect 0 user lock root1
expect_err 1 "locked or expired" --as root1 audit verify
expect 0 user unlock root1

# user set replaces the lists it is given and keeps the rest, with the checks of user add.
expect 0 project add p4
expect 0 user add sam --role analyst --project p2 --project p4 --zone office
expect 0 user set sam --project p4
ctl user show sam --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["projects"] == ["p4"] and d["zones"] == ["office"], d' ||
	fail "user set --project did not replace the projects"
expect_err 1 'project "p9" does not exist' user set sam --project p9
expect_err 1 'zone "nowhere" does not exist' user set sam --zone nowhere
expect_err 1 'given twice' user set sam --project p4 --project p4
expect_err 1 "not a date" user set sam --expires soon
expect_err 2 "usage: user set" user set sam
expect_err 2 "not accepted" user set sam --role admin
expect 0 user set sam --expires 2099-01-01
ctl user show sam | grep -q '^expires: *2099-01-01' || fail "user set --expires: $(ctl user show sam)"
expect 0 user set sam --expires never
ctl user show sam | grep -q '^expires: *never' || fail "user set --expires never"
ctl user show sam --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["projects"] == ["p4"], d' ||
	fail "user set --expires changed the projects"

# Every change above is in the audit log, and the chain verifies.
expect 0 audit verify
grep -q "records verified" "$T/out" || fail "verify: $(cat "$T/out")"
for ev in project.add user.add user.passwd user.key user.totp user.lock user.unlock user.del user.set; do
	ctl audit export | grep -q "\"event\":\"$ev\"" || fail "no $ev audit record"
done
ctl audit export | grep -q '"actor":"root1","event":"audit.read"' || fail "--as read not recorded"
echo "ctl_user: ok"
