# A supervisor SIGKILLed (its workers die with it) and started again with
# the same node name: its previous incarnation's tasks come back at once.
SCEN=supervisor-kill
. "$(dirname "$0")/../lib.sh"
NODES=2 WORKERS=2 RATE=60 DURATION=20 TASK_MS=50

nemesis() {
	sleep 4
	for round in 1 2; do
		fault_start "kill -9 supervisor 1 ($round)"
		node_kill 1 KILL
		sleep 2
		node_start 1
		fault_end "kill -9 supervisor 1 ($round)"
		sleep 4
	done
}

extra_check() {
	sleep 0.1
	[ "$(grep -c 'event=node_joined' "$RUN/node-1.log")" -ge 3 ] ||
		{ echo "node 1 did not come back twice"; return 1; }
}

scenario_main
