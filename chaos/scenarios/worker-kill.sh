# Worker SIGKILL storm: a random worker killed every 0.5 s for 10 s.
SCEN=worker-kill
. "$(dirname "$0")/../lib.sh"
NODES=1 WORKERS=4 RATE=200 DURATION=16

nemesis() {
	sleep 3
	fault_start "kill -9 workers"
	for _ in $(seq 1 20); do
		p=$(random_worker)
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null
		sleep 0.5
	done
	fault_end "kill -9 workers"
}

scenario_main
