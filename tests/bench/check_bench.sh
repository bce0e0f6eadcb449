#!/bin/sh
# Publication-check benchmark (issue 12 point 5), run on demand, not by ctest:
# `wsgatectl check` of a 48 MB CSV table with every rule on (confined helper included: fork,
# exec, privilege drop, seccomp) against pandas.read_csv of the same file in the same run (load
# only, the import of pandas excluded: what any pandas-based checker must at least spend).
# Each is run RUNS times, alternating, file in the page cache; the medians and their ratio are
# printed. The goal is check <= 0.5 x pandas.
# usage: tests/bench/check_bench.sh BINDIR [MB] [RUNS]
# Needs python3-pandas, a bench-only dependency: installed here with apt-get if missing (the
# tests never need it).
set -eu
B=$1
MB=${2:-48}
RUNS=${3:-5}
PY=/usr/bin/python3 # Debian's, where python3-pandas installs
if ! $PY -c 'import pandas' 2>/dev/null; then
	apt-get install -y -qq --no-install-recommends python3-pandas >/dev/null
fi
T=$(mktemp -d /var/tmp/wsgate-checkbench-XXXXXX)
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP PIPE
CONF=$T/wsgate.conf
cat > "$CONF" <<EOC
[gateway]
listen = 127.0.0.1:2299
state_dir = $T/state
[zone onsite]
networks = 10.10.0.0/24
area = onsite
[airlock]
export_types = csv tsv txt pdf png
export_max_size = 1G
min_cell_count = 10
facilities = "Hospital A" H001 H002 H003
max_rows = 1000
EOC
"$B/wsgatectl" -c "$CONF" init >/dev/null

# A wide, row-level table: identifiers, codes, years, age bands, sex, a facility type, counts
# (some small, some suppressed), means and percentages, a quoted free-text column with commas:
# every rule has work on every row.
$PY - "$T/t.csv" "$MB" <<'EOP'
import random, sys
random.seed(12)
path, mb = sys.argv[1], int(sys.argv[2])
ages = ["0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49",
        "50-54", "55-59", "60-64", "65-69", "70-74", "75-79", "80-84", "85+"]
rows = ["patient_id,region_code,year,age_group,sex,facility_type,diagnosis,n,deaths,"
        "mean_cost,pct,note"]
size, i = 0, 0
while size < mb * 1000 * 1000:
	i += 1
	n = random.choice([0, 3, 12, 25, 140, "<10", "*"])
	r = "P%07d,%02d,%d,%s,%s,%s,E%02d.%d,%s,%d,%.2f,%.1f,\"seen, then %s\"" % (
	    i, random.randint(1, 47), random.randint(2015, 2024), random.choice(ages),
	    random.choice("MF"), random.choice(["hospital", "clinic"]), random.randint(0, 99),
	    random.randint(0, 9), n, random.randint(10, 500), random.uniform(100, 9999),
	    random.uniform(0, 100), random.choice(["discharged", "referred", "followed up"]))
	rows.append(r)
	size += len(r) + 1
open(path, "w").write("\n".join(rows) + "\n")
EOP
BYTES=$(stat -c %s "$T/t.csv")
cat "$T/t.csv" > /dev/null

$PY - "$B/wsgatectl" "$CONF" "$T/t.csv" "$RUNS" "$BYTES" <<'EOP'
import os, resource, statistics, subprocess, sys, time
import pandas
ctl, conf, path, runs, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
c, p, cc, pc = [], [], [], []
def children_cpu():
	u = resource.getrusage(resource.RUSAGE_CHILDREN)
	return u.ru_utime + u.ru_stime
for _ in range(runs):
	t, u = time.perf_counter(), children_cpu()
	r = subprocess.run([ctl, "-c", conf, "check", path], capture_output=True, text=True)
	c.append(time.perf_counter() - t)
	cc.append(children_cpu() - u) # wsgatectl and the confined helper it waited for
	if r.returncode not in (0, 1) or not r.stdout.startswith("result: "):
		sys.exit("check failed: %s" % r.stderr)
	t, u = time.perf_counter(), time.process_time()
	pandas.read_csv(path)
	p.append(time.perf_counter() - t)
	pc.append(time.process_time() - u)
med = statistics.median
print("file: %.1f MB, %d runs each, alternating, page cache warm, load average %.1f" %
      (size / 1e6, runs, os.getloadavg()[0]))
for name, w, cpu in (("wsgatectl check", c, cc), ("pandas.read_csv", p, pc)):
	print("%-16s wall median %.3f s (min %.3f, max %.3f), CPU median %.3f s, %.0f MB/s wall" %
	      (name + ":", med(w), min(w), max(w), med(cpu), size / 1e6 / med(w)))
print("ratio check/pandas: wall %.2f, CPU %.2f (goal <= 0.5)" % (med(c) / med(p), med(cc) / med(pc)))
print("verdict line: %s" % r.stdout.splitlines()[0])
print("last line: %s" % r.stdout.splitlines()[-1])
EOP
