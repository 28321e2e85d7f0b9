# The broker killed with -9 while tasks are being published and consumed,
# then started again on the same data.
SCEN=broker-kill
. "$(dirname "$0")/../lib.sh"
NODES=1 WORKERS=3 RATE=200 DURATION=26 TASK_MS=5

nemesis() {
	sleep 5
	fault_start "kill -9 broker"
	kill_broker
	sleep 2
	"$ROOT/ci/services" up broker >/dev/null 2>&1
	fault_end "kill -9 broker"
	sleep 6
	fault_start "kill -9 broker (2)"
	kill_broker
	sleep 1
	"$ROOT/ci/services" up broker >/dev/null 2>&1
	fault_end "kill -9 broker (2)"
}

scenario_main
