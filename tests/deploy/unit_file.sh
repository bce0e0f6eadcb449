#!/usr/bin/env bash
# deploy/wsgated.service (issue 14 point 7): systemd accepts every directive, each directive of
# [Service] has its reason in a comment right above it (or in the block it belongs to), the
# hardening that sessions need stays off and the rest stays on, and the exposure score from
# `systemd-analyze security --offline` does not get worse than the one in docs/OPERATIONS.md.
# Usage: unit_file.sh UNIT
set -u
unit=${1:?unit file}
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 0; }
T=$(mktemp -d /tmp/wsgate-unit-XXXXXX)
trap 'rm -rf "$T"' EXIT
cp "$unit" "$T/wsgated.service"

# Unknown or misspelt directives: verify says so (the binaries are not installed here).
systemd-analyze verify "$T/wsgated.service" 2>&1 | grep -v "is not executable" >"$T/verify"
[ -s "$T/verify" ] && fail "systemd-analyze verify: $(cat "$T/verify")"

# Every directive in [Service] follows a comment line, or another directive that does.
awk '/^\[Service\]/ {s = 1; next} /^\[/ {s = 0} s && /^[A-Za-z]+=/ && prev !~ /^;/ && prevdir == 0 {
	print "no comment above: " $0; bad = 1 }
	{ prevdir = (s && /^[A-Za-z]+=/ && (prev ~ /^;/ || prevdir)); prev = $0 }
	END { exit bad }' "$T/wsgated.service" || fail "a directive without its reason"

want() { grep -qx "$1" "$T/wsgated.service" || fail "missing: $1"; }
for d in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
	ProtectKernelModules=yes ProtectKernelLogs=yes ProtectClock=yes LockPersonality=yes \
	RestrictRealtime=yes SystemCallArchitectures=native UMask=0077 \
	'RestrictNamespaces=mnt pid net ipc uts cgroup' \
	'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6'; do
	want "$d"
done
# What sessions need (each explained in the unit): these must stay off.
for d in PrivateDevices=no ProtectKernelTunables=no ProtectControlGroups=no \
	ProtectHostname=no RestrictSUIDSGID=no MemoryDenyWriteExecute=no; do
	want "$d"
done
for cap in SYS_ADMIN SETUID SETGID SETPCAP SYS_CHROOT MKNOD NET_ADMIN KILL LEASE; do
	grep -q "^CapabilityBoundingSet=.*CAP_$cap\b" "$T/wsgated.service" || fail "CAP_$cap gone"
done

score=$(systemd-analyze security --offline=yes "$T/wsgated.service" 2>/dev/null |
	sed -n 's/.*Overall exposure level for wsgated.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || fail "no exposure score"
awk -v s="$score" 'BEGIN { exit !(s <= 5.0) }' || fail "exposure $score is worse than 5.0"
echo "ok: unit verified, every directive explained, exposure $score"
