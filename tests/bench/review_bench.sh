#!/bin/sh
# Review workbench benchmarks (issue 13), run on demand, not by ctest:
#   1. `wsgatectl transfer list` over 100,000 requests (two in three pending) with
#      reviews_required = 1 and = 2 (the latter looks up the approvals of every pending one);
#   2. `wsgatectl transfer view` of a 10,000-row, 8-column CSV (to /dev/null, --width 0 and
#      --width 100) against util-linux `column -t -s,` on the same file, same run.
# Best of 5 wall-clock runs each. usage: tests/bench/review_bench.sh BINDIR
set -eu
B=$1
T=$(mktemp -d /var/tmp/wsgate-rbench-XXXXXX)
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP PIPE
CONF=$T/wsgate.conf
conf() {
	cat > "$CONF" <<EOC
[gateway]
listen = 127.0.0.1:2299
state_dir = $T/state
[zone onsite]
networks = 10.10.0.0/24
area = onsite
[airlock]
reviews_required = $1
EOC
}
ctl() { "$B/wsgatectl" -c "$CONF" "$@"; }
best() { # best of 5, seconds
	b=
	for i in 1 2 3 4 5; do
		s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N)
		b=$(echo "$s $e ${b:-999}" | awk '{d = $2 - $1; print (d < $3 ? d : $3)}')
	done
	echo "$b"
}
conf 1
ctl init > /dev/null
ctl project add p1 > /dev/null
"$B/transfer-drv" "$CONF" bulk 100000 > /dev/null
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cpus, load $(cut -d' ' -f1 /proc/loadavg)"
r1=$(best ctl transfer list)
conf 2
r2=$(best ctl transfer list)
echo "transfer list, 100000 requests: reviews_required=1 ${r1}s, =2 ${r2}s"
python3 - "$T/wide.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("region,age_group,sex,year,patients,cases,rate,note\n")
    for i in range(10000):
        f.write("地域%d,%d-%d,%s,%d,%d,%d,%.3f,row %d\n" % (i % 47, i % 80, i % 80 + 4, "FM"[i % 2], 2000 + i % 20, 10 + i % 990, i % 500, i / 7.0, i))
PY
ctl transfer import p1 onsite "$T/wide.csv" > /dev/null
id=$(ctl transfer list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
v0=$(best ctl transfer view "$id" --width 0)
v1=$(best ctl transfer view "$id" --width 100)
c=$(best column -t -s, "$T/wide.csv")
echo "view 10000x8 CSV ($(stat -c %s "$T/wide.csv") bytes): transfer view --width 0 ${v0}s, --width 100 ${v1}s; column -t -s, ${c}s"
