#!/usr/bin/env bash
# Stale LMDB reader slots (issue 14 point 2): processes killed with -9 while holding read
# transactions leave their slots in db/lock.mdb for as long as any other process keeps the
# environment open (as the daemon's connection processes do; the first process to open a
# closed environment resets the table itself). The next wsgatectl clears them and says so once,
# and the slots are gone (mdb_stat -r); the live holder's slot stays. Usage: ctl_readers.sh WSGATECTL AUDIT_FLIP AUTH_TRY READER_HOLD
. "$(dirname "$0")/lib.sh"
setup "$@"
HOLD=${4:?reader-hold path}
expect 0 init
slots() { mdb_stat -r "$T/state/db" | grep -cE '^ +[0-9]+ +[0-9a-f]+ +[0-9]+' || true; }
start_holder() {
	"$HOLD" "$T/state" >"$T/hold.$1" &
	eval "H$1=\$!"
	for _ in $(seq 200); do grep -q reading "$T/hold.$1" && return; sleep 0.02; done
	fail "reader-hold $1 did not start"
}
start_holder 1
start_holder 2
start_holder 3 # stays alive: the environment is never closed by everyone
trap 'kill "$H3" 2>/dev/null; rm -rf "$T"' EXIT
[ "$(slots)" -ge 3 ] || fail "the holders' slots are not in the reader table: $(mdb_stat -r "$T/state/db")"
expect 0 project list
grep -q "cleared" "$T/err" && fail "cleared slots of live readers: $(cat "$T/err")"
kill -9 "$H1" "$H2"; wait "$H1" "$H2" 2>/dev/null
[ "$(slots)" -ge 3 ] || fail "the dead holders' slots vanished by themselves"
expect 0 project list
grep -q "cleared 2 reader slot(s) left by killed processes" "$T/err" ||
	fail "no message about the cleared slots: $(cat "$T/err")"
[ "$(slots)" = 1 ] || fail "want only the live holder's slot: $(mdb_stat -r "$T/state/db")"
expect 0 project list
grep -q cleared "$T/err" && fail "cleared again"
kill "$H3"
echo "ok: stale reader slots cleared once, the live one kept"
