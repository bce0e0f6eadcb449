#!/bin/bash
# Two wsgatectl processes adding users at the same time: every add is recorded, with its own uid
# and its own audit record, and the project limit holds across both.
. "$(dirname "$0")/lib.sh"
setup "$@"
expect 0 init
expect 0 project add big
expect 0 project add small --max-accounts 5

adder() {
	for i in $(seq 1 15); do
		ctl user add "$1$i" --role analyst --project big --zone office >/dev/null 2>&1 ||
			echo "add $1$i failed" >>"$T/errors"
		ctl user add "$1s$i" --role analyst --project small --zone office >/dev/null 2>&1
	done
}
adder a &
p1=$!
adder b &
p2=$!
wait $p1 $p2
[ ! -s "$T/errors" ] || fail "$(cat "$T/errors")"
expect 0 user list --json
python3 - "$T/out" <<'PY' || fail "concurrent adds lost or duplicated"
import json, sys
users = json.load(open(sys.argv[1]))
names = {u["name"] for u in users}
for p in "ab":
    for i in range(1, 16):
        assert f"{p}{i}" in names, f"{p}{i} missing"
uids = [u["uid"] for u in users]
assert len(uids) == len(set(uids)), "duplicate uid"
small = [u for u in users if "small" in u["projects"]]
assert len(small) == 5, f"small has {len(small)} members, limit 5"
PY
n=$(ctl audit export | grep -c '"event":"user.add"')
[ "$n" = 35 ] || fail "$n user.add records, want 35"
expect 0 audit verify
echo "ctl_concurrent: ok"
