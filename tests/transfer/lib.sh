# Shared set-up for the transfer scenario tests. Usage: . lib.sh BINDIR
# Gives: $T (temp dir), $CONF, $STATE, $B (bin dir), ctl, drv, fail, and a project p1 with
# analysts alice and bob (zone onsite) and admins adm1, adm2.
set -eu
B=$1
T=$(mktemp -d /tmp/wsgate-transfer-XXXXXX)
STATE=$T/state
CONF=$T/wsgate.conf
cleanup_hooks=""
cleanup() {
	for h in $cleanup_hooks; do $h || true; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE
fail() { echo "FAIL: $*" >&2; exit 1; }
ctl() { "$B/wsgatectl" -c "$CONF" "$@"; }
drv() { "$B/transfer-drv" "$CONF" "$@"; }
write_conf() {
	cat > "$CONF" <<EOC
[gateway]
listen = 127.0.0.1:2299
state_dir = $STATE
[zone onsite]
networks = 10.10.0.0/24
area = onsite
[zone office]
networks = 203.0.113.0/28
area = remote
[airlock]
export_types = csv tsv txt pdf png
export_max_size = ${EXPORT_MAX:-50M}
min_cell_count = 10
facilities = "Hospital A" H001
export_block_on_fail = ${BLOCK_ON_FAIL:-no}
EOC
}
setup_state() {
	write_conf
	ctl init >/dev/null
	ctl project add p1 >/dev/null
	ctl user add alice --role analyst --project p1 --zone onsite >/dev/null
	ctl user add bob --role analyst --project p1 --zone onsite >/dev/null
	ctl user add adm1 --role admin --zone onsite >/dev/null 2>&1
	ctl user add adm2 --role admin --zone onsite >/dev/null 2>&1
	AREA=$STATE/projects/p1/onsite
	mkdir -p "$STATE/projects/p1"
	# The gateway creates the area at session start (area_ensure); a test import does it here.
	printf 'x\n' > "$T/seed.txt"
	ctl transfer import p1 onsite "$T/seed.txt" >/dev/null
	ctl --as adm1 transfer approve 1 --note seed >/dev/null
}
