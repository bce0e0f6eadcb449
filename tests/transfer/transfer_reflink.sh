#!/bin/sh
# Snapshots on file systems that clone (XFS and btrfs, each in a loop image): the blob shares the
# source's blocks, hashes to its record, and keeps the submitted bytes when the source changes.
# A writer hammering the source during exports never makes a record's hash differ from its
# blob, whether it held the file open for writing first (no read lease: the clone is hashed) or
# keeps reopening it (read lease: its opens wait until the hash is done), even when the lease
# break times out (lease-break-time 1 s and, in test builds, a 1.5 s pause after the clone: the
# writer goes ahead before the hash, and the broken lease must send the export back to hashing
# the clone). usage: transfer_reflink.sh BINDIR [HOOKS: ON|OFF]
. "$(dirname "$0")/lib.sh"
if [ ! -e /dev/loop-control ]; then
	echo "SKIP: no loop devices"
	exit 77
fi
IMG=$T.img
BREAK_TIME=$(cat /proc/sys/fs/lease-break-time)
umount_state() {
	echo "$BREAK_TIME" > /proc/sys/fs/lease-break-time
	umount "$STATE" 2>/dev/null
	rm -f "$IMG"
}
cleanup_hooks="umount_state"
EXPORT_MAX=1G

# A writer at random offsets until killed; mode "held" keeps one fd, "reopen" opens each time.
start_writer() {
	python3 - "$1" "$2" <<'EOP' &
import os, random, sys, time
path, mode = sys.argv[1], sys.argv[2]
size = os.path.getsize(path)
fd = os.open(path, os.O_WRONLY) if mode == "held" else -1
while True:
    f = fd if fd >= 0 else os.open(path, os.O_WRONLY)
    os.pwrite(f, os.urandom(4096), random.randrange(0, size - 4096))
    if fd < 0:
        os.close(f)  # closed most of the time: an export can take its lease, this breaks it
        time.sleep(0.002)
EOP
	WRITER=$!
}

for fs in xfs btrfs; do
	if ! command -v "mkfs.$fs" >/dev/null; then
		fail "mkfs.$fs missing (deploy/install-deps.sh installs it)"
	fi
	rm -rf "$STATE" && mkdir -p "$STATE"
	rm -f "$IMG"
	truncate -s 1G "$IMG"
	"mkfs.$fs" -q "$IMG" >/dev/null
	mount -o loop "$IMG" "$STATE"
	setup_state
	drv scan | grep -qx "snapshots clone" || fail "$fs: the store does not report clones"
	head -c 64M /dev/urandom | base64 -w 100 > "$AREA/t.txt"
	want=$(sha256sum < "$AREA/t.txt" | cut -d' ' -f1)
	id=$(drv export alice p1 onsite t.txt | awk '{print $2}')
	blob=$(find "$STATE/blobs" -type f -name "$want")
	[ -n "$blob" ] || fail "$fs: no blob named $want"
	filefrag -v "$blob" | grep -q shared || fail "$fs: the blob shares no blocks with the source"
	ctl transfer show "$id" | grep -q "$want" || fail "$fs: record hash is not the file's"
	printf 'changed after submission\n' >> "$AREA/t.txt"
	[ "$(sha256sum < "$blob" | cut -d' ' -f1)" = "$want" ] || fail "$fs: blob changed with the source"
	n=2 # the seed import and the export above
	modes="held reopen"
	[ "${2:-OFF}" = ON ] && modes="$modes reopen-timeout"
	for mode in $modes; do
		if [ "$mode" = reopen-timeout ]; then
			echo 1 > /proc/sys/fs/lease-break-time
			export WSGATE_PAUSE_AT=copyhash.cloned WSGATE_PAUSE_MS=1500
		fi
		start_writer "$AREA/t.txt" "${mode%-timeout}"
		sleep 0.2
		for i in 1 2 3; do drv export alice p1 onsite t.txt >/dev/null; done
		n=$((n + 3))
		kill "$WRITER"
		wait "$WRITER" 2>/dev/null || true
		echo "$BREAK_TIME" > /proc/sys/fs/lease-break-time
		unset WSGATE_PAUSE_AT WSGATE_PAUSE_MS
		out=$(drv verify | tail -1)
		[ "$out" = "requests $n bad 0" ] || fail "$fs, writer $mode: verify: $out"
	done
	# The analyst's own write lease on the source: the export fails at once with one line
	# (the gateway opens with O_NONBLOCK), it does not wait out the lease break.
	python3 -c '
import fcntl, os, signal, sys, time
signal.signal(signal.SIGIO, signal.SIG_IGN)
fd = os.open(sys.argv[1], os.O_WRONLY)
fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
print("held", flush=True)
time.sleep(60)' "$AREA/t.txt" > "$T/lease" &
	HOLDER=$!
	for _ in $(seq 100); do grep -q held "$T/lease" && break; sleep 0.05; done
	start=$(date +%s)
	if out=$(drv export alice p1 onsite t.txt 2>&1); then fail "$fs: export through a write lease"; fi
	[ $(($(date +%s) - start)) -lt 5 ] || fail "$fs: the export waited for the analyst's lease"
	[ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "file lease" ||
		fail "$fs: one line naming the lease: $out"
	kill "$HOLDER"
	wait "$HOLDER" 2>/dev/null || true
	umount "$STATE"
done
echo PASS
