# Database connections reset again and again while commits are in flight:
# some resets fall between COMMIT and its answer (ambiguous commits).
SCEN=db-reset
. "$(dirname "$0")/../lib.sh"
NODES=1 WORKERS=3 RATE=200 DURATION=22 TASK_MS=5

nemesis() {
	sleep 4
	fault_start "db links reset x25"
	for _ in $(seq 1 25); do
		proxy db reset >/dev/null
		sleep "0.$((RANDOM % 5 + 2))"
	done
	fault_end "db links reset x25"
	sleep 1
	fault_start "db links cut after 20 KB"
	proxy db close-after 20000 >/dev/null
	sleep 4
	proxy db close-after 0 >/dev/null
	fault_end "db links cut after 20 KB"
}

scenario_main
