# Helpers for integration tests: sourced by each t_*.sh. Every test gets
# its own database and queue on the real servers that ci/services runs.
# shellcheck shell=bash
set -eu

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
BIN=$ROOT/bin
TEST=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/tq-$TEST.XXXXXX")
PIDS=()

eval "$("$ROOT/ci/services" env)"
DB=tq_${TEST//-/_}
export TQ_MYSQL_URL="mysql://tq:tq@127.0.0.1:${TQ_MYSQL_PORT:-33306}/$DB"
export TQ_QUEUE="$TEST.$$"
export TQ_LOG_LEVEL=${TQ_LOG_LEVEL:-info}
# Tests do not wait for production-sized grace periods.
export TQ_PENDING_GRACE_MS=${TQ_PENDING_GRACE_MS:-1000}
export TQ_BACKOFF_BASE_MS=${TQ_BACKOFF_BASE_MS:-100}
export TQ_BACKOFF_CAP_MS=${TQ_BACKOFF_CAP_MS:-1000}

sql() {
	mariadb --no-defaults -h127.0.0.1 -P"${TQ_MYSQL_PORT:-33306}" -utq -ptq \
		-N -B "$DB" -e "$1"
}

fail() {
	printf 'FAIL %s: %s\n' "$TEST" "$*" >&2
	exit 1
}

note() {
	printf '  %s: %s\n' "$TEST" "$*" >&2
}

cleanup() {
	local rc=$? p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		kill -0 "$p" 2>/dev/null && sleep 0.5
		kill -KILL "$p" 2>/dev/null || true
	done
	if [ "$rc" -ne 0 ]; then
		printf '  logs kept in %s\n' "$T" >&2
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			printf '  --- %s (tail)\n' "$f" >&2
			tail -n 15 "$f" >&2
		done
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT

# A fresh database with the schema.
fresh_db() {
	mariadb --no-defaults -h127.0.0.1 -P"${TQ_MYSQL_PORT:-33306}" -utq -ptq \
		-e "DROP DATABASE IF EXISTS $DB; CREATE DATABASE $DB"
	"$BIN/tq" migrate >/dev/null
}

# start_worker NAME [ARGS...]: a tq-worker in the background, log in $T.
start_worker() {
	local name=$1
	shift
	"$BIN/tq-worker" "$@" >"$T/$name.log" 2>&1 &
	PIDS+=($!)
	echo $!
}

# wait_for SECS COMMAND...: polls until COMMAND succeeds.
wait_for() {
	local secs=$1 end
	shift
	end=$(($(date +%s) + secs))
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

count_state() {
	sql "SELECT COUNT(*) FROM tasks WHERE state = '$1'"
}
