#!/usr/bin/env bash
# wsgatectl backup/restore without a daemon (issue 14 point 4; e2e_backup runs them under load):
# a round trip keeps every request, blob and audit record; restore refuses a running daemon
# (its run lock, held here by a stand-in), a non-empty state_dir, an unfinished backup, and a
# backup whose database, key or blob was changed, leaving state_dir empty each time.
. "$(dirname "$0")/lib.sh"
setup "$@"
S=$T/state
expect 0 init
expect 0 project add p1
expect 0 user add adm --role admin
printf 'age,n\n20-24,12\n' >"$T/a.csv"
printf 'hello\n' >"$T/b.txt"
expect 0 transfer import p1 remote "$T/a.csv"
expect 0 transfer import p1 onsite "$T/b.txt"
expect 0 --as adm transfer approve 1 --note ok
# Session recordings (another module writes them under state_dir/recordings/): taken as they
# are, folders and files, symlinks never.
mkdir -p "$S/recordings/2026/12"
printf '{"version": 2}\n[0.1, "o", "hi"]\n' >"$S/recordings/2026/12/7.cast"
printf '{"version": 2}\n' >"$S/recordings/8.cast"
ln -s /etc/shadow "$S/recordings/2026/evil.cast"
# An admin's commands over SSH run as `wsgatectl --as ADMIN`: backup and restore (root writing
# and replacing files anywhere) must never be reachable that way.
expect_err 2 "accepted only with transfer and audit" --as adm backup "$T/bk-as"
expect_err 2 "accepted only with transfer and audit" --as adm restore "$T/bk-as"
[ -e "$T/bk-as" ] && fail "--as backup wrote something"
expect 0 backup "$T/bk"
grep -q '2 requests, 2 blobs' "$T/out" || fail "backup summary: $(cat "$T/out")"
[ "$(stat -c %a "$T/bk")" = 700 ] || fail "backup dir mode $(stat -c %a "$T/bk")"
[ "$(stat -c %a "$T/bk/secrets.key")" = 600 ] || fail "the key's copy is not 0600"
expect_err 1 "not empty" backup "$T/bk"
ctl audit export >"$T/before.jsonl"
ctl transfer list --json >"$T/before.json"

expect_err 1 "is not empty" restore "$T/bk"
mv "$S" "$T/old"

# A daemon's run lock (common/runlock.h) held by a stand-in: restore must refuse.
mkdir -p "$S/run"
python3 -c '
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_CREAT, 0o600)
fcntl.lockf(fd, fcntl.LOCK_SH)
print("locked", flush=True)
time.sleep(60)' "$S/run/wsgated.lock" >"$T/lock.out" &
LOCKER=$!
for _ in $(seq 100); do grep -q locked "$T/lock.out" && break; sleep 0.05; done
expect_err 1 "is running on" restore "$T/bk"
kill "$LOCKER"; wait "$LOCKER" 2>/dev/null
rm -rf "$S"

# Damaged or unfinished backups: refused, state_dir left empty.
damaged() { # NAME: copies the backup, lets the caller change it, restores, expects a refusal
	rm -rf "$T/bad" "$S"; cp -a "$T/bk" "$T/bad"
}
nonempty() { [ -d "$S" ] && [ -n "$(ls -A "$S")" ]; }
damaged; rm "$T/bad/MANIFEST"
expect_err 1 "unfinished backup" restore "$T/bad"; nonempty && fail "state left behind (manifest)"
damaged; printf 'x' | dd of="$T/bad/db/data.mdb" bs=1 seek=5000 conv=notrunc 2>/dev/null
expect_err 1 "does not match MANIFEST" restore "$T/bad"; nonempty && fail "state left (db)"
damaged; blob=$(find "$T/bad/blobs" -type f | head -1); chmod u+w "$blob"; printf 'X' >>"$blob"
expect_err 1 "do not match its name" restore "$T/bad"; nonempty && fail "state left (blob)"
damaged; rm "$(find "$T/bad/blobs" -type f | head -1)"
expect_err 1 "quarantined bytes" restore "$T/bad"; nonempty && fail "state left (no blob)"
damaged; ln -sf /etc/passwd "$T/bad/host_key"
expect_err 1 "host_key" restore "$T/bad"; nonempty && fail "state left (symlink)"
damaged; sed -i 's#secrets.key$#../../etc/passwd#' "$T/bad/MANIFEST"
expect_err 1 "unsafe path" restore "$T/bad"; nonempty && fail "state left (path)"
damaged; echo x >"$T/bad/extra"; echo "file $(sha256sum <"$T/bad/extra" | cut -c1-64) 2 extra" \
	>>"$T/bad/MANIFEST"
expect_err 1 "not part of a state backup" restore "$T/bad"; nonempty && fail "state left (extra)"
damaged; b=$(find "$T/bad/blobs" -type f | head -1); rm -f "$b"; mkfifo "$b"
timeout 20 "$WSGATECTL" -c "$CONF" restore "$T/bad" >"$T/out" 2>"$T/err"
rc=$?; [ "$rc" = 1 ] && grep -q "cannot copy" "$T/err" ||
	fail "a FIFO in place of a blob: rc $rc (124 = hung), $(cat "$T/err")"
nonempty && fail "state left (fifo)"
damaged; printf 'x' >>"$T/bad/recordings/8.cast"
expect_err 1 "recordings/8.cast does not match MANIFEST" restore "$T/bad"
nonempty && fail "state left (recording)"
damaged; sed -i '/secrets.key$/d' "$T/bad/MANIFEST"
expect_err 1 "lacks the database or the secrets key" restore "$T/bad"
nonempty && fail "state left (no key)"

# Control: the untouched backup restores, and everything is as it was (plus the restore's own
# audit record, which extends the chain).
rm -rf "$S"
expect 0 restore "$T/bk"
grep -q 'restored .* 2 requests, ' "$T/out" || fail "restore summary: $(cat "$T/out")"
expect 0 audit verify
ctl audit export >"$T/after.jsonl"
head -n "$(wc -l <"$T/before.jsonl")" "$T/after.jsonl" | cmp -s - "$T/before.jsonl" ||
	fail "the audit records before the backup differ after restore"
tail -n 1 "$T/after.jsonl" | grep -q ctl.restore || fail "no ctl.restore record"
ctl transfer list --json | cmp -s - "$T/before.json" || fail "transfer list differs"
for f in "$T"/old/blobs/sha256/*/*; do
	cmp -s "$f" "$S/blobs/sha256/${f#"$T"/old/blobs/sha256/}" || fail "blob $f differs"
done
cmp -s "$T/old/host_ed25519" "$S/host_ed25519" || fail "host key differs"
cmp -s "$T/old/recordings/2026/12/7.cast" "$S/recordings/2026/12/7.cast" &&
	cmp -s "$T/old/recordings/8.cast" "$S/recordings/8.cast" || fail "recordings not restored"
[ -e "$S/recordings/2026/evil.cast" ] || [ -e "$T/bk/recordings/2026/evil.cast" ] &&
	fail "a symlink in recordings/ was followed or copied"
cmp -s "$T/old/secrets.key" "$S/secrets.key" || fail "secrets key differs"
for d in projects staging run empty; do [ -d "$S/$d" ] || fail "no $d/ after restore"; done
expect 0 --as adm transfer approve 2 --note ok

# A host key configured outside state_dir (/etc/wsgate) is put back there, by copy.
mv "$S" "$T/restored"
sed -i "s#^host_key = .*#host_key = $T/etc/host_ed25519#" "$CONF"
expect 0 restore "$T/bk"
cmp -s "$T/old/host_ed25519" "$T/etc/host_ed25519" || fail "host key not put back outside"
[ "$(stat -c %a "$T/etc/host_ed25519")" = 600 ] || fail "host key mode"
[ -e "$S/host_key" ] || [ -e "$S/.restore" ] && fail "staging leftovers in state_dir"
expect 0 audit verify
echo "ok: backup and restore round trip; damaged backups refused"
