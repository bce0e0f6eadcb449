#!/usr/bin/env bash
# Installs what is missing, builds wsgate, and starts a demo gateway on 127.0.0.1:2222 with a demo
# project, accounts and TOTP secrets, which it prints. Run again to start afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

bash deploy/install-deps.sh
# A build of its own, without the test builds' fault-injection hooks.
cmake -S . -B build-demo -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWSGATE_TEST_HOOKS=OFF >/dev/null
cmake --build build-demo -j"$(nproc)" --target wsgated wsgatectl airlock wsgate-init >/dev/null

demo=${WSGATE_DEMO_DIR:-/var/lib/wsgate-demo}
port=${WSGATE_DEMO_PORT:-2222}
conf="$demo/wsgate.conf"
bin="$top/build-demo/bin"

if [ -f "$demo/wsgated.pid" ]; then
	kill "$(cat "$demo/wsgated.pid")" 2>/dev/null || true
	sleep 1
fi
rm -rf "$demo"
mkdir -p "$demo"
chmod 0700 "$demo"

cat >"$conf" <<CONF
[gateway]
listen = 127.0.0.1:$port [::1]:$port
state_dir = $demo/state
host_key = $demo/state/host_ed25519
idle_timeout = 30m
max_sessions = 50

; The demo treats IPv4 loopback as the onsite centre and IPv6 loopback as an office network.
[zone onsite]
networks = 127.0.0.1/32
area = onsite

[zone office]
networks = ::1/128
area = remote

[sandbox]
memory_max = 2G
pids_max = 256
file_size_max = 1G
cpu_time_max = 1h

[airlock]
export_types = csv tsv txt pdf png
export_max_size = 50M
min_cell_count = 10
facilities = "Hospital A" H001
export_block_on_fail = no
import_require_checksum = yes
CONF

ctl() { "$bin/wsgatectl" -c "$conf" "$@"; }

ctl init >/dev/null
ctl project add demo --max-accounts 10 >/dev/null

secret_of() { sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' | head -n 1; }

declare -A role=([alice]=analyst [bob]=stats [carol]=admin [dave]=admin)
declare -A secret
for u in alice bob carol dave; do
	args=(user add "$u" --role "${role[$u]}" --zone onsite --zone office)
	[ "${role[$u]}" = admin ] || args+=(--project demo)
	ctl "${args[@]}" >/dev/null
	printf '%s-demo-pass\n' "$u" | ctl user passwd "$u" >/dev/null
	# The enrolment as an operator hands it over: the otpauth:// URI and its QR code, kept
	# (root only: it is the second factor) and shown below for an authenticator app to scan.
	ctl user totp "$u" >"$demo/enrol-$u.txt"
	chmod 0600 "$demo/enrol-$u.txt"
	secret[$u]=$(secret_of <"$demo/enrol-$u.txt")
done

"$bin/wsgated" -c "$conf" -f >"$demo/wsgated.log" 2>&1 &
echo $! >"$demo/wsgated.pid"
sleep 1
if ! kill -0 "$(cat "$demo/wsgated.pid")" 2>/dev/null; then
	echo "demo: wsgated did not start; see $demo/wsgated.log" >&2
	cat "$demo/wsgated.log" >&2
	exit 1
fi

cat <<EOT

wsgate demo gateway running on 127.0.0.1:$port and [::1]:$port (pid $(cat "$demo/wsgated.pid"))
  config:   $conf
  log:      $demo/wsgated.log
  stop:     kill \$(cat $demo/wsgated.pid)

Project "demo". Accounts (password, TOTP secret for an authenticator app or oathtool):
EOT
for u in alice bob carol dave; do
	printf '  %-6s %-8s password %-16s totp %s\n' "$u" "${role[$u]}" "$u-demo-pass" "${secret[$u]}"
done
echo
echo "Enrolment QR codes (scan with an authenticator app; also in $demo/enrol-NAME.txt):"
for u in alice bob carol dave; do
	echo
	echo "== $u (${role[$u]})"
	cat "$demo/enrol-$u.txt"
done
cat <<EOT

Try (the code changes every 30 s; each code is accepted once):
  oathtool --totp -b ${secret[alice]}
  ssh -p $port alice@127.0.0.1                 # onsite area shell, sandboxed
  ssh -p $port alice@::1 'airlock status'       # office (remote) area
  sftp -P $port bob@127.0.0.1                  # stats user: /outbox only
  sha256sum in.csv > in.csv.sha256              # imports declare their SHA-256 first:
  scp -P $port in.csv.sha256 in.csv alice@127.0.0.1:/inbox/
  ssh -p $port carol@127.0.0.1 transfer list    # admin review
  $bin/wsgatectl -c $conf transfer list
EOT
