#!/bin/sh
# The airlock client against the real server end over a unix socket, run as the analyst's uid
# in a mount namespace where the area is /work, as in a session; then review with wsgatectl and
# download through the outbox. The downloaded bytes equal the snapshot although the source
# changed after submission.
. "$(dirname "$0")/lib.sh"
setup_state
UID_ALICE=200000
GID_P1=300000
SOCK=$T/airlock.sock
as_alice() {
	# $1: working directory under /work; the rest: the command
	d=$1; shift
	unshare -m sh -c 'mount --bind "$0" /work && cd "$1" && shift 2 && exec setpriv --reuid '$UID_ALICE' --regid '$GID_P1' --clear-groups env AIRLOCK_SOCKET='"$SOCK"' "$@"' "$AREA" "$d" -- "$@"
}
SERVER=
stop_server() { [ -z "$SERVER" ] || kill "$SERVER" 2>/dev/null || true; }
cleanup_hooks="stop_server"
serve() {
	rm -f "$SOCK"
	drv serve alice p1 onsite "$1" "$SOCK" "$2" > "$T/serve.out" 2>&1 &
	SERVER=$!
	for i in $(seq 100); do grep -q "^ready" "$T/serve.out" 2>/dev/null && break; sleep 0.1; done
}

# /work is covered by the area inside the namespace: the client must live elsewhere.
cp "$B/airlock" "$T/airlock"
chmod 755 "$T" "$T/airlock"
mkdir -p "$AREA/res"
printf 'sex,age_group,n\nM,40-44,12\nF,85+,15\n' > "$AREA/res/table.csv"
chown -R $UID_ALICE:$GID_P1 "$AREA/res"
WANT=$(sha256sum < "$AREA/res/table.csv" | cut -d' ' -f1)

serve $UID_ALICE 8
out=$(as_alice /work/res "$T/airlock" export table.csv --reason "for the paper") || fail "export: $out"
echo "$out" | grep -q "export request 2 pending" || fail "export reply: $out"
# the source changes after submission: the snapshot must not
printf 'sex,age_group,n\nM,40-44,3\n' > "$AREA/res/table.csv"
out=$(as_alice /work "$T/airlock" status) || fail "status"
echo "$out" | grep -q "^2 .*export .*pending .*pass .*alice .*table.csv" || fail "status list: $out"
out=$(as_alice /work "$T/airlock" status 2) || fail "status 2"
echo "$out" | grep -q "sha256:    $WANT" || fail "status shows the snapshot's hash: $out"
if out=$(as_alice /work "$T/airlock" export /etc/passwd 2>&1); then fail "export outside /work"; fi
[ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "^airlock: .*outside the work area" ||
	fail "one-line error: $out"
if out=$(as_alice /work/res "$T/airlock" export ../../etc/passwd.csv 2>&1); then fail "export .."; fi
echo "$out" | grep -q '^airlock: .*"\.\."' || fail "dotdot: $out"
out=$(as_alice /work/res "$T/airlock" export table.csv) || fail "second export"
out=$(as_alice /work "$T/airlock" withdraw 3) || fail "withdraw: $out"
if out=$(as_alice /work "$T/airlock" withdraw 3 2>&1); then fail "withdraw twice"; fi
echo "$out" | grep -q "withdrawn, not pending" || fail "withdraw twice: $out"
wait $SERVER || fail "server"

# usage errors exit 2
set +e
AIRLOCK_SOCKET=$SOCK "$B/airlock" frobnicate >/dev/null 2>"$T/usage"; [ $? = 2 ] || fail "usage exit"
[ "$(wc -l <"$T/usage")" = 1 ] && grep -q '^airlock: usage: ' "$T/usage" || fail "usage is one line: $(cat "$T/usage")"
AIRLOCK_SOCKET=$SOCK "$B/airlock" withdraw x >/dev/null 2>&1; [ $? = 2 ] || fail "usage exit id"
set -e

# a peer with another uid is not served, whatever it sends
serve $UID_ALICE 1
if out=$(AIRLOCK_SOCKET=$SOCK "$B/airlock" status 2>&1); then fail "root peer served"; fi
echo "$out" | grep -q "^airlock: no reply" || fail "wrong uid: $out"
wait $SERVER || true

# review: the requester cannot approve; an admin approves; the outbox serves the snapshot
ctl --as alice transfer approve 2 --note x >/dev/null 2>&1 && fail "non-admin --as"
ctl --as adm1 transfer show 2 | grep -q "result: pass" || fail "show has the report"
ctl --as adm1 --json transfer show 2 | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["state"]=="pending" and d["report"].startswith("result: pass"), d'
ctl --as adm1 transfer approve 2 --note "aggregate only" | grep -q "request 2 approved" || fail "approve"
GOT=$(drv fetch p1 2 table.csv | sha256sum | cut -d' ' -f1)
[ "$GOT" = "$WANT" ] || fail "outbox bytes differ from the snapshot"
ctl --json transfer list --state released | python3 -c 'import json,sys; d=json.load(sys.stdin); assert [r["id"] for r in d]==[1,2], d'
[ "$(ctl transfer list --state withdrawn | tail -n +2 | awk '{print $1}')" = 3 ] || fail "list --state"
ctl audit verify >/dev/null || fail "audit chain"
ctl audit list | grep -q "transfer.release" || fail "audit release"
# the release ledger (docs/checks.md): the released table with one count changed by 3 (15 -> 12,
# rows in another order) fails against project p1's ledger, naming request 2; without a project,
# or changed by 14, it passes
printf 'sex,age_group,n\nF,85+,12\nM,40-44,12\n' > "$T/diff.csv"
set +e
ctl check --project p1 "$T/diff.csv" > "$T/diff.out"; rc=$?
set -e
[ "$rc" = 1 ] && grep -q 'row 1, column 3 ("n", "12"): differencing_release: .*released request 2' "$T/diff.out" ||
	fail "ledger: rc $rc, $(cat "$T/diff.out")"
ctl check "$T/diff.csv" | grep -q '^result: pass$' || fail "without --project: no ledger"
printf 'sex,age_group,n\nF,85+,29\nM,40-44,12\n' > "$T/diff.csv"
ctl check --project p1 "$T/diff.csv" | grep -q '^result: pass$' || fail "ledger: a change of 14 passes"
echo PASS
