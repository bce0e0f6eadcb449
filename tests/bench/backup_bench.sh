#!/usr/bin/env bash
# Issue 14: what `wsgatectl backup` and `restore` cost against the plain tools doing the same
# copy in the same run (mdb_copy -c for the database, cp -a for the quarantine), and how many
# database writes the preallocated reserve (common/store.h, STORE_RESERVE) holds.
# Usage: tests/bench/backup_bench.sh [BUILD_BIN] [N_REQUESTS] [MIB_EACH] [ROUNDS]
# Figures go to stdout; docs/BENCHMARKS.md quotes a run. Run as root (wsgatectl needs it).
set -euo pipefail
BIN=${1:-build/bin}
N=${2:-300}
MIB=${3:-1}
ROUNDS=${4:-3}
T=$(mktemp -d /tmp/wsgate-bench-backup-XXXXXX)
trap 'rm -rf "$T"' EXIT
cat >"$T/c.conf" <<EOF
[gateway]
listen = 127.0.0.1:22399
state_dir = $T/state
host_key = $T/state/host_ed25519

[zone office]
networks = 127.0.0.0/8
area = remote
EOF
ctl() { "$BIN/wsgatectl" -c "$T/c.conf" "$@"; }
now() { date +%s.%N; }
calc() { awk "BEGIN { print $* }"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

ctl init >/dev/null
ctl project add p1 >/dev/null
ctl user add u1 --role analyst --project p1 --zone office >/dev/null
for i in $(seq 1 "$N"); do
	head -c $((MIB << 20)) /dev/urandom >"$T/f$i.bin"
	ctl transfer import p1 remote "$T/f$i.bin" >/dev/null
	rm "$T/f$i.bin"
done
echo "state: $N requests of $MIB MiB, $(du -sm "$T/state/blobs" | cut -f1) MiB of blobs," \
	"$(ctl audit export | wc -l) audit records"

: >"$T/ours" ; : >"$T/peer"; : >"$T/rours"; : >"$T/rpeer"; : >"$T/peerv"; : >"$T/rpeerv"
for r in $(seq 1 "$ROUNDS"); do
	sync; t0=$(now); ctl backup "$T/bk$r" >/dev/null; t1=$(now)
	calc "$t1 - $t0" >>"$T/ours"
	sync; t0=$(now)
	mkdir -p "$T/peer$r/db"; mdb_copy -c "$T/state/db" "$T/peer$r/db"
	cp -a "$T/state/blobs" "$T/state/secrets.key" "$T/peer$r/"; sync -f "$T/peer$r/db"
	t1=$(now)
	calc "$t1 - $t0" >>"$T/peer"
	# The same copy checked as ours is: every blob's SHA-256 against its name.
	t0=$(now)
	find "$T/peer$r/blobs" -type f -exec sha256sum {} + >/dev/null
	t2=$(now)
	echo "$(calc "$t2 - $t0") $(tail -n 1 "$T/peer")" | awk '{print $1 + $2}' >>"$T/peerv"
	mv "$T/state" "$T/state.live"
	sync; t0=$(now); ctl restore "$T/bk$r" >/dev/null; t1=$(now)
	calc "$t1 - $t0" >>"$T/rours"
	rm -rf "$T/state"
	sync; t0=$(now); cp -a "$T/peer$r" "$T/state"; sync -f "$T/state/db"; t1=$(now)
	calc "$t1 - $t0" >>"$T/rpeer"
	t0=$(now); find "$T/state/blobs" -type f -exec sha256sum {} + >/dev/null; t2=$(now)
	echo "$(calc "$t2 - $t0") $(tail -n 1 "$T/rpeer")" | awk '{print $1 + $2}' >>"$T/rpeerv"
	rm -rf "$T/state" "$T/bk$r" "$T/peer$r"
	mv "$T/state.live" "$T/state"
done
o=$(median <"$T/ours"); p=$(median <"$T/peer"); ro=$(median <"$T/rours"); rp=$(median <"$T/rpeer")
pv=$(median <"$T/peerv"); rpv=$(median <"$T/rpeerv")
printf 'backup:  wsgatectl %.2f s; mdb_copy -c + cp -a %.2f s (ratio %.2f); + sha256sum of the blobs %.2f s (ratio %.2f); median of %d\n' \
	"$o" "$p" "$(calc "$o / $p")" "$pv" "$(calc "$o / $pv")" "$ROUNDS"
printf 'restore: wsgatectl %.2f s; cp -a %.2f s (ratio %.2f); + sha256sum of the blobs %.2f s (ratio %.2f); median of %d\n' \
	"$ro" "$rp" "$(calc "$ro / $rp")" "$rpv" "$(calc "$ro / $rpv")" "$ROUNDS"

# The reserve: database pages used per write (a user lock and unlock, each with its audit
# record), so how many such writes 64 MiB holds once the file system is full.
pages() { mdb_stat -e "$T/state/db" | awk '/Number of pages used/ {print $5}'; }
psize=$(mdb_stat -e "$T/state/db" | awk '/Page size/ {print $3}')
p0=$(pages)
W=500
for i in $(seq 1 $W); do ctl user lock u1 >/dev/null; ctl user unlock u1 >/dev/null; done
p1=$(pages)
per=$(calc "($p1 - $p0) * $psize / (2 * $W)")
printf 'reserve: %d writes used %d pages of %d bytes: %.0f bytes per write; 64 MiB holds about %.0f writes\n' \
	$((2 * W)) $((p1 - p0)) "$psize" "$per" "$(calc "64 * 1048576 / $per")"
