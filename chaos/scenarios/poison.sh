# Poison tasks (they crash their worker) among good ones: each ends failed
# after exactly its attempts; the good ones flow; the pool is not marked
# failing.
SCEN=poison
. "$(dirname "$0")/../lib.sh"
NODES=1 WORKERS=3 RATE=150 DURATION=18 TASK_MS=5

nemesis() {
	sleep 3
	fault_start "5 poison tasks"
	for _ in 1 2 3 4 5; do
		"$BIN/tq" submit --max-attempts 3 --backoff 0.1 tq.crash x >>"$RUN/poison.ids"
		sleep 1
	done
	fault_end "5 poison tasks"
}

extra_check() {
	local id st
	for id in $(cat "$RUN/poison.ids"); do
		st=$(sqlq "SELECT CONCAT(state, ' ', attempts) FROM tasks WHERE id = UNHEX(REPLACE('$id', '-', ''))")
		[ "$st" = "failed 3" ] || { echo "poison $id: $st, want failed 3"; return 1; }
	done
	[ "$(node_logs_count event=pool_failing)" = 0 ] ||
		{ echo "the pool was marked failing"; return 1; }
}

scenario_main
