#!/bin/sh
# Concurrent decisions on one request: three admins approve/reject request N at the same moment;
# exactly one wins, the record shows the winner's decision, and the audit log holds exactly one
# decision for it. Also: the two-person rule for an admin's own import through wsgatectl.
. "$(dirname "$0")/lib.sh"
setup_state
printf 'payload\n' > "$T/in.txt"
for round in $(seq 20); do
	id=$(ctl --as adm1 transfer import p1 onsite - --name in.txt < "$T/in.txt" | awk '{print $3}')
	# adm1 made it: adm1 may not decide it, whatever it tries
	ctl --as adm1 transfer approve "$id" --note self 2>"$T/err" && fail "self-approval"
	grep -q "two-person rule" "$T/err" || fail "two-person message: $(cat "$T/err")"
	rm -f "$T"/rc.*
	( set +e; ctl --as adm2 transfer approve "$id" --note a >/dev/null 2>&1; echo $? > "$T/rc.a" ) &
	( set +e; ctl transfer reject "$id" --note r >/dev/null 2>&1; echo $? > "$T/rc.r" ) &
	( set +e; ctl --as adm2 transfer reject "$id" --note r2 >/dev/null 2>&1; echo $? > "$T/rc.r2" ) &
	wait
	[ -f "$T/rc.a" ] && [ -f "$T/rc.r" ] && [ -f "$T/rc.r2" ] || fail "a decider did not finish"
	wins=$(cat "$T"/rc.* | grep -c '^0$' || true)
	[ "$wins" = 1 ] || fail "request $id: $wins decisions won"
	state=$(ctl --json transfer show "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
	if [ "$(cat "$T/rc.a")" = 0 ]; then [ "$state" = released ] || fail "state $state"
	else [ "$state" = rejected ] || fail "state $state"; fi
	n=$(ctl audit export | python3 -c '
import json, sys
n = 0
for line in sys.stdin:
    r = json.loads(line)
    if r["event"] in ("transfer.approve", "transfer.reject") and ("id=%s " % sys.argv[1]) in r["detail"] + " ":
        n += 1
print(n)' "$id")
	[ "$n" = 1 ] || fail "request $id: $n decisions in the audit log"
done
ctl audit verify >/dev/null || fail "audit chain"
echo PASS
