#!/bin/sh
# wsgatectl transfer/check as a script sees them: exit codes (0 done, 1 refused with one line
# "wsgatectl: ...", 2 usage), --json, move between areas, import over --as only from stdin.
. "$(dirname "$0")/lib.sh"
setup_state
expect() {
	want=$1; shift
	set +e
	"$@" > "$T/out" 2> "$T/err"
	rc=$?
	set -e
	[ "$rc" = "$want" ] || fail "$* exited $rc, want $want: $(cat "$T/err")"
	if [ "$want" != 0 ]; then
		[ "$(wc -l < "$T/err")" = 1 ] || fail "$*: not one line: $(cat "$T/err")"
		grep -q '^wsgatectl: ' "$T/err" || fail "$*: no prefix: $(cat "$T/err")"
	fi
}
expect 2 ctl transfer
expect 2 ctl transfer frob
expect 2 ctl transfer show
expect 2 ctl transfer show abc
expect 2 ctl transfer approve 1
expect 2 ctl transfer list --state nonsense
expect 2 ctl transfer move p1 onsite
expect 2 ctl check
expect 1 ctl transfer show 999
expect 1 ctl transfer approve 999 --note x
expect 1 ctl transfer approve 1 --note again            # released already
expect 1 ctl transfer import p1 onsite /nonexistent
expect 1 ctl transfer import nope onsite "$T/seed.txt"
expect 1 ctl transfer import p1 nowhere "$T/seed.txt"       # no zone has that area
expect 1 ctl transfer import p1 onsite /dev/null         # not a regular file
# an admin over SSH never names host files: stdin only
expect 1 ctl --as adm1 transfer import p1 onsite /etc/passwd
printf 'from stdin\n' | ctl --as adm1 transfer import p1 onsite - --name s.txt --reason r >/dev/null
# move: snapshot in onsite, delivered to the same path in remote after a second admin approves
mkdir -p "$AREA/out/deep"
printf 'result\n' > "$AREA/out/deep/r.txt"
id=$(ctl --as adm1 --json transfer move p1 onsite remote /work/out/deep/r.txt --reason share |
	python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["kind"]=="move"; print(d["id"])')
printf 'changed\n' > "$AREA/out/deep/r.txt"
expect 1 ctl --as adm1 transfer approve "$id" --note self
expect 0 ctl --as adm2 transfer approve "$id" --note ok
[ "$(cat "$STATE/projects/p1/remote/out/deep/r.txt")" = result ] || fail "move delivered other bytes"
expect 1 ctl --as adm1 transfer move p1 onsite remote ../../etc/passwd
expect 1 ctl --as adm1 transfer move p1 onsite onsite out/deep/r.txt
ln -s /etc/passwd "$AREA/out/pw.txt"
expect 1 ctl --as adm1 transfer move p1 onsite remote out/pw.txt
grep -q "symbolic links" "$T/err" || fail "symlink message: $(cat "$T/err")"
# check FILE, text and JSON
printf 'hospital,n\nH001,4\n' > "$T/t.csv"
ctl check "$T/t.csv" | head -1 | grep -q '^result: fail$' || fail "check text"
set +e; ctl check "$T/t.csv" >/dev/null 2>&1; rc=$?; set -e
[ "$rc" = 1 ] || fail "check of a failing table exits $rc, want 1"
ctl check "$T/t.csv" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["result"]=="fail" and d["nfindings"]==3 and [(f["rule"],f["row"],f["column"]) for f in d["findings"]]==[("facility",0,1),("facility",1,1),("small_count",1,2)] and d["findings"][2]["value"]=="4" and d["findings"][2]["header"]=="n", d'
printf 'group,n\na,12\n' > "$T/ok.csv"
expect 0 ctl check "$T/ok.csv"
expect 2 ctl check
# list filters and show --json
ctl --json transfer list --project p1 --state released | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d)==2 and all(r["state"]=="released" for r in d), d'
ctl --json transfer show "$id" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["to_area"]=="remote" and d["reviewer"]=="adm2" and d["path"]=="out/deep/r.txt", d'
# a requester's file name with an 8-bit CSI (C1) and invalid UTF-8 never reaches the terminal raw
evil=$(printf 'x\302\233[2Jy\377.txt')
printf 'e\n' | ctl --as adm1 transfer import p1 onsite - --name "$evil" >/dev/null
ctl transfer list > "$T/list"
grep -q 'x?\[2Jy?\.txt' "$T/list" || fail "name not shown safely"
LC_ALL=C grep -q "$(printf '\302\233')" "$T/list" && fail "raw C1 in the listing"
ctl --json transfer list | python3 -c 'import json,sys; json.load(sys.stdin)' || fail "JSON not valid UTF-8"
ctl audit verify >/dev/null || fail "audit chain"
echo PASS
