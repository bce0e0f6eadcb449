# Shared by the wsgatectl scenario scripts: a private state dir and config per test, and
# helpers that assert exit codes and messages. Usage: . lib.sh; setup "$@"
set -u

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

setup() {
	WSGATECTL=${1:?wsgatectl path}
	AUDIT_FLIP=${2:-}
	T=$(mktemp -d /tmp/wsgate-ctl-XXXXXX)
	trap 'rm -rf "$T"' EXIT
	CONF=$T/wsgate.conf
	cat >"$CONF" <<CONF
[gateway]
listen = 127.0.0.1:2999
state_dir = $T/state
host_key = $T/state/host_ed25519
lockout_failures = 5

[zone office]
networks = 127.0.0.0/8 ::1/128
area = remote

[zone onsite]
networks = 10.10.0.0/24
area = onsite
CONF
}

ctl() {
	"$WSGATECTL" -c "$CONF" "$@"
}

# expect RC CMD...: runs wsgatectl with CMD, checks the exit code; stderr in $T/err.
expect() {
	local want=$1 got
	shift
	ctl "$@" >"$T/out" 2>"$T/err" </dev/null
	got=$?
	[ "$got" = "$want" ] || fail "wsgatectl $*: exit $got, want $want; stderr: $(cat "$T/err")"
}

# expect_err RC TEXT CMD...: as expect, and stderr is one line starting "wsgatectl: " that
# contains TEXT.
expect_err() {
	local want=$1 text=$2
	shift 2
	expect "$want" "$@"
	[ "$(wc -l <"$T/err")" -ge 1 ] || fail "wsgatectl $*: no message"
	grep -q '^wsgatectl: ' "$T/err" || fail "wsgatectl $*: message lacks prefix: $(cat "$T/err")"
	grep -qF -- "$text" "$T/err" || fail "wsgatectl $*: want '$text', got: $(cat "$T/err")"
}

# Number of audit records, via audit export (one JSON object per line).
audit_count() {
	ctl audit export | wc -l
}

json_ok() {
	python3 -m json.tool >/dev/null || fail "output is not JSON"
}
