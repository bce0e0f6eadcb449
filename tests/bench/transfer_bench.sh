#!/bin/sh
# Airlock benchmarks (issue 5 point 7), run on demand, not by ctest:
#   1. export submit of a 1 GiB file (copy + SHA-256 + fsync into the quarantine store, checks,
#      record) against `openssl dgst -sha256` of the same file, same run, file in page cache;
#   2. `wsgatectl transfer list` (and --json, --project) over 100,000 requests.
# usage: tests/bench/transfer_bench.sh BINDIR [SIZE_MIB] [disk|xfs|btrfs|tmpfs]
#   disk (default): state_dir on /var/tmp's file system as it is (ext4 here): snapshots are
#     copies, bounded by the disk's durable write speed;
#   xfs, btrfs: state_dir on a fresh file system of that type in a loop-mounted image under
#     /var/tmp (the same disk underneath): snapshots are reflink clones (docs/transfer.md);
#   tmpfs: state_dir in memory, to show the CPU cost of copy + hash without a disk.
set -eu
B=$1
MIB=${2:-1024}
WHERE=${3:-disk}
T=$(mktemp -d /var/tmp/wsgate-bench-XXXXXX)
if [ "$WHERE" = tmpfs ]; then
	mount -t tmpfs -o size=$((MIB * 3 + 512))m wsgate-bench "$T"
	trap 'umount "$T"; rm -rf "$T"' EXIT
elif [ "$WHERE" = xfs ] || [ "$WHERE" = btrfs ]; then
	truncate -s $((MIB * 3 + 1024))M "$T.img"
	"mkfs.$WHERE" -q "$T.img" >/dev/null
	mount -o loop "$T.img" "$T"
	trap 'umount "$T"; rm -rf "$T" "$T.img"' EXIT
else
	trap 'rm -rf "$T"' EXIT
fi
# A signal (even SIGPIPE from `| head`) still runs the clean-up above.
trap 'exit 1' INT TERM HUP PIPE
STATE=$T/state
CONF=$T/wsgate.conf
cat > "$CONF" <<EOC
[gateway]
listen = 127.0.0.1:2299
state_dir = $STATE
[zone onsite]
networks = 10.10.0.0/24
area = onsite
[airlock]
export_types = csv tsv txt pdf png
export_max_size = 4G
EOC
ctl() { "$B/wsgatectl" -c "$CONF" "$@"; }
now() { date +%s.%N; }
ctl init >/dev/null
ctl project add p1 >/dev/null
ctl user add alice --role analyst --project p1 --zone onsite >/dev/null
printf 'x\n' > "$T/seed.txt"
ctl transfer import p1 onsite "$T/seed.txt" >/dev/null
ctl transfer reject 1 --note x >/dev/null 2>&1 || true
"$B/transfer-drv" "$CONF" scan >/dev/null # creates nothing; makes sure the store is sane
mkdir -p "$STATE/projects/p1/onsite" 2>/dev/null || true
A=$STATE/projects/p1/onsite
head -c $((MIB * 1048576)) /dev/urandom > "$A/big.txt"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cpus"
echo "file system: $(df -T "$T" | awk 'NR==2 {print $2}')"
# The source is at rest, as an analyst's finished table is: written out, in the page cache.
sync
if [ "$WHERE" != tmpfs ]; then
	for how in "conv=fsync" "oflag=direct conv=fsync"; do
		t0=$(now); dd if="$A/big.txt" of="$T/dd.out" bs=4M $how status=none; t1=$(now)
		rm -f "$T/dd.out"
		awk -v a="$t0" -v b="$t1" -v m="$MIB" -v how="$how" 'BEGIN {
			printf "disk: dd %s of the same file %.3f s (%.0f MiB/s)\n", how, b - a, m / (b - a) }'
	done
fi
for run in 1 2 3; do
	cat "$A/big.txt" > /dev/null
	t0=$(now); openssl dgst -sha256 "$A/big.txt" > /dev/null; t1=$(now)
	"$B/transfer-drv" "$CONF" export alice p1 onsite big.txt "bench $run" > /dev/null; t2=$(now)
	# the next run writes a new blob: change one byte; drop this run's blob (memory, space)
	printf "$run" | dd of="$A/big.txt" bs=1 seek=0 conv=notrunc status=none
	ctl transfer reject $((run + 1)) --note bench >/dev/null
	find "$STATE/blobs" -type f -size +1M -delete
	awk -v a="$t0" -v b="$t1" -v c="$t2" -v m="$MIB" 'BEGIN {
		o = b - a; e = c - b;
		printf "run %d: openssl dgst -sha256 %.3f s, airlock export %.3f s (%.0f MiB/s), ratio %.2f\n",
			'"$run"', o, e, m / e, e / o }'
done
"$B/transfer-drv" "$CONF" bulk 100000 > /dev/null
for args in "transfer list" "--json transfer list" "transfer list --project p1" \
	    "transfer list --state released"; do
	best=99999
	for run in 1 2 3 4 5; do
		t0=$(now); ctl $args > "$T/out"; t1=$(now)
		best=$(awk -v a="$t0" -v b="$t1" -v best="$best" 'BEGIN { d = (b - a) * 1000; print (d < best ? d : best) }')
	done
	printf "wsgatectl %s over 100,000 requests: best of 5 %.1f ms (%d lines)\n" "$args" "$best" "$(wc -l < "$T/out")"
done
