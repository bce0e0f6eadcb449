#!/bin/bash
# wsgatectl init: creates the state layout with the right modes, and a second run changes nothing.
. "$(dirname "$0")/lib.sh"
setup "$@"

expect 0 init
S=$T/state
[ "$(stat -c %a "$S")" = 700 ] || fail "state_dir mode $(stat -c %a "$S")"
for d in projects blobs staging run; do
	[ "$(stat -c %a:%U "$S/$d")" = 700:root ] || fail "$d: $(stat -c %a:%U "$S/$d")"
done
[ "$(stat -c %a:%U "$S/empty")" = 755:root ] || fail "empty: $(stat -c %a:%U "$S/empty")"
[ -z "$(ls -A "$S/empty")" ] || fail "empty/ is not empty"
[ "$(stat -c %a:%s "$S/secrets.key")" = 600:32 ] || fail "secrets.key: $(stat -c %a:%s "$S/secrets.key")"
[ "$(stat -c %a "$S/host_ed25519")" = 600 ] || fail "host key mode"
ssh-keygen -l -f "$S/host_ed25519" | grep -q ED25519 || fail "host key is not ed25519"
[ -f "$S/db/data.mdb" ] || fail "no LMDB"
[ "$(audit_count)" = 1 ] || fail "init not audited once"

# Idempotent: nothing at all changes on a second (and third) run.
sum() { (cd "$S" && find . -printf '%p %m %s\n' | sort && sha256sum secrets.key host_ed25519 db/data.mdb); }
before=$(sum)
expect 0 init
grep -q "already initialised" "$T/out" || fail "second init: $(cat "$T/out")"
expect 0 init
[ "$(sum)" = "$before" ] || fail "second init changed the state dir"
[ "$(audit_count)" = 1 ] || fail "second init wrote an audit record"

# init takes no arguments; unknown commands and missing -c are usage errors.
expect_err 2 "init" init extra
expect_err 2 "unknown command" frobnicate
"$WSGATECTL" user list >/dev/null 2>&1; [ $? = 2 ] || fail "missing -c is not exit 2"
"$WSGATECTL" -c "$CONF" >/dev/null 2>&1; [ $? = 2 ] || fail "missing command is not exit 2"

# Something dropped into empty/ (the network worker's chroot) is refused.
touch "$S/empty/x"
expect_err 1 "must be empty" init
rm "$S/empty/x"

# A state directory others can write to is refused, not silently repaired.
chmod 0777 "$S/staging"
expect_err 1 "writable by group or others" init
chmod 0700 "$S/staging"
chmod 0711 "$S/projects" # a mode another module may choose: still accepted
expect 0 init

# A config error is one line naming file and line; nothing is touched.
printf '[gateway]\nstate_dir = %s/other\nbogus_key = 1\n' "$T" >"$T/bad.conf"
"$WSGATECTL" -c "$T/bad.conf" init 2>"$T/err"; [ $? = 1 ] || fail "bad config not exit 1"
grep -q "^wsgatectl: .*bad.conf:3" "$T/err" || fail "config error: $(cat "$T/err")"
[ ! -e "$T/other" ] || fail "bad config still created a state dir"

# Commands other than init need an initialised store.
rm -rf "$S"
expect 1 user list
echo "ctl_init: ok"
