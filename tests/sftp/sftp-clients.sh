#!/bin/bash
# The real OpenSSH sftp and scp (SFTP mode) against the SFTP engine, through sftp-harness over
# pipes: listings, downloads (checksummed), uploads, every refused operation, and uploads that
# never reached CLOSE. Usage: sftp-clients.sh /path/to/sftp-harness
set -u

HARNESS=$1
T=$(mktemp -d /tmp/wsgate-sftp.XXXXXX)
SRV=$T/srv
FAILS=0
BG=

cleanup() {
	if [ -n "$BG" ]; then kill "$BG" 2>/dev/null; wait "$BG" 2>/dev/null; fi
	rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }

# sftp_run [env...] -- batch: runs one sftp batch; output in $T/out, exit status returned.
sftp_run() {
	printf '%s\n' "$1" | env $SFTP_ENV sftp -b - -D "$HARNESS $SRV" >"$T/out" 2>&1
}

expect_ok() {
	if sftp_run "$2"; then pass "$1"; else fail "$1: $(cat "$T/out")"; fi
}

# The client must fail, and say why.
expect_refused() {
	if sftp_run "$2"; then
		fail "$1: was allowed"
	elif ! grep -q "$3" "$T/out"; then
		fail "$1: no \"$3\" in: $(cat "$T/out")"
	else
		pass "$1"
	fi
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

mkdir -p "$SRV/outbox/7" "$SRV/outbox/12" "$SRV/staging" "$SRV/queued" "$T/local"
head -c 10485760 /dev/urandom >"$SRV/outbox/7/big.bin"
echo "hello from the outbox" >"$SRV/outbox/12/notes.txt"
head -c 300000 /dev/urandom >"$T/local/result.bin"
echo "needed for the quarterly review" >"$T/local/result.bin.reason"
cp "$T/local/result.bin" "$T/local/scp-up.bin"
SFTP_ENV=

# --- listing and stat ---
expect_ok "ls /" "ls -1 /"
grep -qx "/inbox" "$T/out" && grep -qx "/outbox" "$T/out" || fail "root lists inbox and outbox: $(cat "$T/out")"
expect_ok "ls /outbox" "ls -1 /outbox"
grep -qx "/outbox/7" "$T/out" && grep -qx "/outbox/12" "$T/out" || fail "outbox lists 7 and 12: $(cat "$T/out")"
expect_ok "stat of an export" "ls -l /outbox/7/big.bin"
grep -q -- "-r--r--r-- .* 10485760 .*big.bin" "$T/out" || fail "export attrs: $(cat "$T/out")"
expect_ok "cd into inbox" "cd inbox
pwd"
grep -q "Remote working directory: /inbox" "$T/out" || fail "pwd after cd inbox: $(cat "$T/out")"

# --- download ---
expect_ok "get 10 MiB export" "get /outbox/7/big.bin $T/local/got.bin"
[ "$(sha "$T/local/got.bin")" = "$(sha "$SRV/outbox/7/big.bin")" ] && pass "download sha256 equal" ||
	fail "downloaded file differs"

# --- upload, with a reason sent first ---
expect_ok "put reason then file" "put $T/local/result.bin.reason /inbox/
put -p $T/local/result.bin /inbox/"
[ -f "$SRV/queued/result.bin" ] && [ "$(sha "$SRV/queued/result.bin")" = "$(sha "$T/local/result.bin")" ] &&
	pass "upload queued intact" || fail "upload not queued intact"
[ ! -e "$SRV/queued/result.bin.reason" ] && pass "reason not queued as a file" || fail "reason file was queued"
grep -q "^1 result.bin 300000 needed for the quarterly review$" "$SRV/queued.log" &&
	pass "reason attached" || fail "queued.log: $(cat "$SRV/queued.log")"

# --- refused operations ---
expect_refused "rm in outbox" "rm /outbox/7/big.bin" "Permission denied"
expect_refused "rm in inbox" "rm /inbox/result.bin" "Permission denied"
expect_refused "mkdir in inbox" "mkdir /inbox/sub" "Permission denied"
expect_refused "mkdir at root" "mkdir /x" "Permission denied"
expect_refused "rename" "rename /outbox/7/big.bin /inbox/b" "Permission denied"
expect_refused "get from inbox" "get /inbox/result.bin $T/local/back.bin" "not found"
expect_refused "put into outbox" "put $T/local/result.bin /outbox/7/" "Permission denied"
expect_refused "put at root" "put $T/local/result.bin /" "Permission denied"
expect_refused "traversal get" "get /outbox/7/../../etc/passwd $T/local/p" "not found"
expect_refused "symlink" "ln -s /outbox/7/big.bin /inbox/l" "Permission denied\|not supported\|Operation unsupported"
[ "$(sha "$SRV/outbox/7/big.bin")" = "$(sha "$T/local/got.bin")" ] && [ ! -e "$SRV/outbox/7/result.bin" ] &&
	pass "outbox unchanged" || fail "outbox changed"
[ ! -e "$T/local/back.bin" ] && [ ! -e "$T/local/p" ] && pass "nothing downloaded from refusals" ||
	fail "a refused get wrote a file"

# --- a commit the backend refuses ---
cp "$T/local/result.bin" "$T/local/refuse-me.bin"
expect_refused "refused commit reported" "put $T/local/refuse-me.bin /inbox/" "Failure\|refused"
[ ! -e "$SRV/queued/refuse-me.bin" ] && pass "refused commit not queued" || fail "refused commit queued"

# --- stats user: no inbox ---
SFTP_ENV=SFTP_HARNESS_NOINBOX=1
expect_ok "stats ls /" "ls -1 /"
grep -qx "/outbox" "$T/out" && ! grep -q "inbox" "$T/out" && pass "stats user has no inbox" || fail "stats user sees inbox: $(cat "$T/out")"
expect_refused "stats put" "put $T/local/result.bin /inbox/x" "Permission denied\|No such file"
SFTP_ENV=

# --- scp in SFTP mode, through a fake ssh that runs the harness ---
cat >"$T/fake-ssh" <<EOF
#!/bin/sh
exec "$HARNESS" "\$SFTP_HARNESS_DIR"
EOF
chmod +x "$T/fake-ssh"
export SFTP_HARNESS_DIR=$SRV
if scp -q -s -S "$T/fake-ssh" "$T/local/scp-up.bin" gw:/inbox/ 2>"$T/out"; then pass "scp upload"; else
	fail "scp upload: $(cat "$T/out")"; fi
[ -f "$SRV/queued/scp-up.bin" ] && [ "$(sha "$SRV/queued/scp-up.bin")" = "$(sha "$T/local/scp-up.bin")" ] &&
	pass "scp upload queued intact" || fail "scp upload not queued"
echo "scp reason" >"$T/local/scp-up2.bin.reason"
echo "x,y" >"$T/local/scp-up2.bin"
if scp -q -s -S "$T/fake-ssh" "$T/local/scp-up2.bin.reason" "$T/local/scp-up2.bin" gw:/inbox/ 2>"$T/out"; then
	pass "scp upload with reason"; else fail "scp upload with reason: $(cat "$T/out")"; fi
grep -q "^[0-9]* scp-up2.bin 4 scp reason$" "$SRV/queued.log" && pass "scp reason attached" ||
	fail "scp reason: $(cat "$SRV/queued.log")"
if scp -q -s -S "$T/fake-ssh" gw:/outbox/7/big.bin "$T/local/scp-got.bin" 2>"$T/out"; then
	pass "scp download"; else fail "scp download: $(cat "$T/out")"; fi
[ "$(sha "$T/local/scp-got.bin" 2>/dev/null)" = "$(sha "$SRV/outbox/7/big.bin")" ] &&
	pass "scp download sha256 equal" || fail "scp download differs"
if scp -q -s -S "$T/fake-ssh" "$T/local/scp-up.bin" gw:/outbox/7/ 2>"$T/out"; then
	fail "scp into outbox allowed"; else pass "scp into outbox refused"; fi

# --- lftp uploading the way WinSCP does: to NAME.filepart, then RENAME to NAME ---
cat >"$T/lftp-ssh" <<EOF
#!/bin/sh
exec env \$HARNESS_ENV "$HARNESS" "\$SFTP_HARNESS_DIR"
EOF
chmod +x "$T/lftp-ssh"
lftp_put() { # lftp_put ENV FILE... : uploads FILEs into /inbox in one lftp session
	local env=$1 cmds
	shift
	cmds="set sftp:connect-program $T/lftp-ssh; set xfer:use-temp-file yes"
	cmds="$cmds; set xfer:temp-file-name *.filepart; set net:max-retries 1"
	cmds="$cmds; open sftp://u:p@gw; cd /inbox"
	for f in "$@"; do cmds="$cmds; put $f"; done
	HARNESS_ENV=$env timeout 60 lftp -c "debug 9; $cmds" >"$T/out" 2>&1
}
head -c 300000 /dev/urandom >"$T/local/win.bin"
lftp_put "X=1" "$T/local/win.bin"
grep -q "RENAME" "$T/out" && grep -q "win.bin.filepart" "$T/out" ||
	fail "lftp did not upload through a temporary name: $(grep -i 'type=' "$T/out" | head -5)"
[ -f "$SRV/queued/win.bin" ] && [ "$(sha "$SRV/queued/win.bin")" = "$(sha "$T/local/win.bin")" ] &&
	! ls "$SRV/queued" | grep -q filepart && pass "WinSCP-style upload (NAME.filepart, rename) queued as NAME" ||
	fail "WinSCP-style upload: $(ls "$SRV/queued"; tail -3 "$T/out")"
head -c 200000 /dev/urandom >"$T/local/win2.bin"
lftp_put "SFTP_HARNESS_REQUIRE_CHECKSUM=1" "$T/local/win2.bin"
[ ! -f "$SRV/queued/win2.bin" ] && grep -q "declare its SHA-256 first" "$T/out" &&
	pass "WinSCP-style upload without a declared SHA-256 refused (required)" ||
	fail "WinSCP-style upload without checksum: $(ls "$SRV/queued")"
(cd "$T/local" && sha256sum win2.bin >win2.bin.sha256)
lftp_put "SFTP_HARNESS_REQUIRE_CHECKSUM=1" "$T/local/win2.bin.sha256" "$T/local/win2.bin"
[ "$(sha "$SRV/queued/win2.bin" 2>/dev/null)" = "$(sha "$T/local/win2.bin")" ] &&
	pass "WinSCP-style upload after its NAME.sha256 queued (required)" ||
	fail "WinSCP-style upload with checksum: $(ls "$SRV/queued"; grep -i status "$T/out" | tail -3)"

# --- an upload whose pipe closes before CLOSE: aborted, never queued ---
python3 - "$HARNESS" "$SRV" <<'EOF' || fail "raw pipe close: harness did not exit cleanly"
import struct, subprocess, sys
def pkt(t, body): return struct.pack(">IB", len(body) + 1, t) + body
def s(x): return struct.pack(">I", len(x)) + x
p = subprocess.Popen([sys.argv[1], sys.argv[2]], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
msg = pkt(1, struct.pack(">I", 3))
msg += pkt(3, struct.pack(">I", 1) + s(b"/inbox/cut.bin") + struct.pack(">II", 0x1a, 0))
h = struct.pack(">II", 0, 1)
msg += pkt(6, struct.pack(">I", 2) + s(h) + struct.pack(">Q", 0) + s(b"x" * 1000))
p.stdin.write(msg)
p.stdin.close()
p.stdout.read()
sys.exit(p.wait())
EOF
grep -q " cut.bin$" "$SRV/aborted.log" 2>/dev/null && pass "pipe close aborts" || fail "pipe close not aborted"
[ ! -e "$SRV/queued/cut.bin" ] && pass "pipe close not queued" || fail "pipe close queued"

# --- a real sftp killed mid-transfer of 200 MiB (rate-limited so it is still running) ---
head -c 209715200 /dev/zero >"$T/local/huge.bin"
printf 'put %s /inbox/\n' "$T/local/huge.bin" |
	sftp -l 16000 -b - -D "$HARNESS $SRV" >"$T/out" 2>&1 &
BG=$!
for _ in $(seq 300); do
	sz=$(find "$SRV/staging" -type f -size +1M 2>/dev/null | head -1)
	[ -n "$sz" ] && break
	sleep 0.1
done
[ -n "$sz" ] && pass "upload in progress" || fail "upload never started"
kill -9 "$BG"
wait "$BG" 2>/dev/null
BG=
# The harness sees EOF on its stdin and frees the engine; wait for it to log the abort.
for _ in $(seq 300); do grep -q " huge.bin$" "$SRV/aborted.log" 2>/dev/null && break; sleep 0.1; done
grep -q " huge.bin$" "$SRV/aborted.log" && pass "killed client aborts" || fail "killed client not aborted"
[ ! -e "$SRV/queued/huge.bin" ] && pass "killed client not queued" || fail "killed client queued"
[ -z "$(ls -A "$SRV/staging")" ] && pass "staging empty" || fail "staging left: $(ls "$SRV/staging")"
grep -q "huge" "$SRV/queued.log" && fail "huge in queued.log"

echo "$FAILS failure(s)"
[ "$FAILS" -eq 0 ]
