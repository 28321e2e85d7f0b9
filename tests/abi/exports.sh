#!/usr/bin/env bash
# libtq.so exports exactly the producer functions that lib/tq.h declares,
# under its soname, and tq-worker the handler side (tq_job_*) that plugins
# call. Usage: tests/abi/exports.sh BUILD_DIR BIN_DIR
set -eu
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
O=${1:-build} BIN=${2:-bin}
T=$(mktemp -d "${TMPDIR:-/tmp}/tq-abi.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() {
	printf 'FAIL abi: %s\n' "$*" >&2
	exit 1
}

# The functions tq.h declares (preprocessed: comments and macros gone).
${CC:-cc} -E -P -Ilib lib/tq.h | grep -oE '\btq_[a-z0-9_]+[[:space:]]*\(' |
	tr -d ' \t(' | sort -u >"$T/declared"
[ -s "$T/declared" ] || fail "no function found in lib/tq.h"
# The handler side is the worker's (tq_job_*), or a plugin's own
# (tq_plugin_init); the rest is libtq's.
grep -E '^(tq_job_|tq_plugin_init$)' "$T/declared" >"$T/handler" || true
grep -vxF -f "$T/handler" "$T/declared" >"$T/producer"

so=$O/libtq.so.1
[ -f "$so" ] || fail "$so: not built"
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libtq.so.1 ] || fail "$so: soname \"$soname\", want libtq.so.1"
nm -D --defined-only --format=posix "$so" | awk '{ sub(/@.*/, "", $1); print $1 }' |
	sort -u >"$T/exported"
if ! cmp -s "$T/producer" "$T/exported"; then
	diff "$T/producer" "$T/exported" | sed 's/^</  declared, not exported:/; s/^>/  exported, not declared:/' | grep '^ ' >&2
	fail "$so exports other symbols than lib/tq.h's producer functions"
fi
nm -D --defined-only --format=posix "$BIN/tq-worker" | awk '{ print $1 }' |
	sort -u >"$T/worker"
missing=$(grep -vx tq_plugin_init "$T/handler" | comm -23 - "$T/worker")
[ -z "$missing" ] || fail "$BIN/tq-worker does not export: $missing"
echo "abi: libtq.so.1 exports the $(wc -l <"$T/producer") producer functions of tq.h, tq-worker the $(grep -vxc tq_plugin_init "$T/handler") handler ones"
