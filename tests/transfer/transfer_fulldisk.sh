#!/bin/sh
# A full disk: state_dir on a small tmpfs. An export that does not fit fails with one clean line,
# records nothing and leaves no blob or staging file behind; the queue keeps working after.
. "$(dirname "$0")/lib.sh"
mkdir -p "$STATE"
mount -t tmpfs -o size=12m,mode=0700 wsgate-full "$STATE"
umount_state() { umount "$STATE"; }
cleanup_hooks="umount_state"
setup_state
head -c 9000000 /dev/urandom | base64 -w 100 > "$AREA/big.txt"   # ~12 MB: does not fit
printf 'a,n\nx,12\n' > "$AREA/small.csv"
before=$(ctl transfer list | wc -l)
if out=$(drv export alice p1 onsite big.txt 2>&1); then fail "export of a file that does not fit"; fi
[ "$(echo "$out" | wc -l)" = 1 ] || fail "one line: $out"
echo "$out" | grep -q "No space left on device" || fail "message: $out"
[ "$(ctl transfer list | wc -l)" = "$before" ] || fail "a request was recorded"
[ -z "$(find "$STATE/staging" -mindepth 1)" ] || fail "staging not empty"
n=$(drv verify | tail -1)
[ "$n" = "requests 1 bad 0" ] || fail "verify: $n"
# the referenced blobs are all there is
blobs=$(find "$STATE/blobs" -type f | wc -l)
[ "$blobs" = 1 ] || fail "$blobs blobs on disk"
rm -f "$AREA/big.txt"
drv export alice p1 onsite small.csv >/dev/null || fail "export after the disk was freed"
drv verify | tail -1 | grep -q "requests 2 bad 0" || fail "verify after"
echo PASS
