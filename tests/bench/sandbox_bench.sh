#!/bin/bash
# Sandbox benchmark (run on demand, as root; not part of ctest):
#   tests/bench/sandbox_bench.sh [BUILD_DIR]
# 1. hyperfine, in one run: sandbox-run (start + `true` + exit, including its once-per-daemon
#    sandbox_init) against bwrap --unshare-all with a read-only /usr; prints the ratio.
# 2. the same interleaved (A B C C B A ...), also with the rlimits-only backend, to separate
#    the cost of the per-sandbox cgroup from the rest.
# 3. per-session cost inside one process (sandbox_init not counted): sandbox-run --bench.
# 4. memory with 100 sandboxes open: cgroup memory.usage per sandbox, the PSS sum of the
#    sandboxes' processes, and the host's MemAvailable drop (kernel objects included).
set -eu
BUILD=${1:-$(dirname "$0")/../../build}
RUN=$(realpath "$BUILD/bin/sandbox-run")
RUNS=${RUNS:-200}
N=${N:-100}
T=$(mktemp -d /tmp/wsgate-sbbench.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/area" && chown root:300123 "$T/area" && chmod 2770 "$T/area" && chmod 755 "$T"
SB="$RUN --work $T/area --uid 200123 --gid 300123 -- true"
BW="bwrap --unshare-all --ro-bind /usr /usr --symlink usr/lib /lib --symlink usr/lib64 /lib64 --symlink usr/bin /bin --proc /proc --dev /dev true"

echo "== start + true + exit (hyperfine, $RUNS runs each, same run)"
hyperfine -N -w 20 -r "$RUNS" --export-json "$T/h.json" "$SB" "$BW"
python3 - "$T/h.json" <<'PY'
import json, statistics as st, sys
r = json.load(open(sys.argv[1]))["results"]
m = [st.mean(x["times"]) * 1e3 for x in r]
md = [st.median(x["times"]) * 1e3 for x in r]
print("sandbox-run: mean %.2f ms, median %.2f ms" % (m[0], md[0]))
print("bwrap:       mean %.2f ms, median %.2f ms" % (m[1], md[1]))
print("ratio sandbox/bwrap: mean %.2fx, median %.2fx" % (m[0] / m[1], md[0] / md[1]))
PY

echo "== interleaved (A B B A ...), $RUNS rounds: robust against load changes on a shared host"
python3 - "$RUNS" "$SB" "${SB/--work/--rlimits-only --work}" "$BW" <<'PY'
import subprocess, sys, time, statistics as st
n = int(sys.argv[1]); cmds = sys.argv[2:]
t = [[] for _ in cmds]
for i in range(n):
    for k in (range(len(cmds)) if i % 2 == 0 else reversed(range(len(cmds)))):
        a = time.perf_counter()
        subprocess.run(cmds[k].split(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)
        t[k].append((time.perf_counter() - a) * 1e3)
names = ["sandbox-run (cgroup backend)", "sandbox-run --rlimits-only", "bwrap"]
for name, x in zip(names, t):
    print("%-30s median %6.2f ms  mean %6.2f ms" % (name, st.median(x), st.mean(x)))
print("ratio to bwrap (median): cgroup backend %.2fx, rlimits only %.2fx"
      % (st.median(t[0]) / st.median(t[2]), st.median(t[1]) / st.median(t[2])))
PY

echo "== per session in one process (sandbox_init once), 200 sandboxes"
$RUN --bench 200 --work "$T/area" --uid 200123 --gid 300123 -- true

echo "== memory with $N sandboxes open (each: init + sh + sleep)"
avail() { awk '/^MemAvailable:/ { print $2 }' /proc/meminfo; }
sync; echo 1 >/proc/sys/vm/drop_caches 2>/dev/null || true
A0=$(avail)
SANDBOX_RUN_HOLD_PAUSE=8 $RUN --hold "$N" --work "$T/area" --uid 200123 --gid 300123 \
	-- 'echo up; exec sleep 1000' >"$T/hold.out" &
HP=$!
for _ in $(seq 300); do grep -q '^total' "$T/hold.out" && break; sleep 0.1; done
A1=$(avail)
PSS=0
for d in /sys/fs/cgroup/memory/wsgate/sb-* /sys/fs/cgroup/wsgate/sb-*; do
	[ -e "$d/cgroup.procs" ] || continue
	for p in $(cat "$d/cgroup.procs"); do
		k=$(awk '/^Pss:/ { print $2 }' /proc/$p/smaps_rollup 2>/dev/null || echo 0)
		PSS=$((PSS + ${k:-0}))
	done
done
grep '^total' "$T/hold.out"
echo "PSS of all sandbox processes: $PSS kB, $((PSS / N)) kB per sandbox"
echo "MemAvailable drop: $((A0 - A1)) kB, $(((A0 - A1) / N)) kB per sandbox (includes kernel objects: namespaces, tmpfs, page tables)"
wait $HP
