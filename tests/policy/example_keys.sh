#!/usr/bin/env bash
# Every key of policy/config.c's table appears in deploy/wsgate.conf.example (set, or commented
# out with its default), in its own section, so the example stays the operator's full reference
# as keys are added. Usage: example_keys.sh CONFIG_C EXAMPLE
set -u
cfgc=${1:?config.c} example=${2:?example}
missing=0
while read -r sect key; do
	sect=$(echo "$sect" | tr 'A-Z' 'a-z')
	# The section in which the key is written: the last [header] above it.
	found=$(awk -v k="$key" -v s="$sect" '
		/^\[/ { cur = $1; sub(/^\[/, "", cur); sub(/\]$/, "", cur) }
		$0 ~ "^;?" k " *=" && cur == s { print "yes"; exit }' "$example")
	if [ "$found" != yes ]; then
		echo "FAIL: [$sect] $key is not in $example" >&2
		missing=1
	fi
done < <(sed -n 's/^\t{SECT_\([A-Z]*\), "\([a-z_]*\)".*/\1 \2/p' "$cfgc")
n=$(sed -n 's/^\t{SECT_\([A-Z]*\), "\([a-z_]*\)".*/\1/p' "$cfgc" | wc -l)
[ "$n" -gt 20 ] || { echo "FAIL: read only $n keys from $cfgc" >&2; exit 1; }
[ "$missing" = 0 ] && echo "ok: all $n keys are in the example"
exit $missing
