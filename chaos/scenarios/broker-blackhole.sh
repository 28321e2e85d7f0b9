# The broker link black-holed (connections open, nothing passes) for
# longer than the AMQP heartbeat: clients must notice a dead connection
# that reports only timeouts, reconnect, consume again, lose nothing.
SCEN=broker-blackhole
export TQ_AMQP_HEARTBEAT=2
. "$(dirname "$0")/../lib.sh"
NODES=1 WORKERS=3 RATE=150 DURATION=26 TASK_MS=5

nemesis() {
	sleep 5
	fault_start "broker link black-holed 8s"
	proxy broker blackhole on
	sleep 8
	proxy broker blackhole off
	fault_end "broker link black-holed 8s"
}

extra_check() {
	[ "$(cat "$RUN"/node-*.log | grep -c 'event=broker_reconnected')" -gt 0 ] ||
		{ echo "no worker reconnected to the broker"; return 1; }
}

scenario_main
