# A tq node cut from the brokers (podman network disconnect from the
# "broker" network; the database stays reachable) for 12 s, three times the
# AMQP heartbeat, then plugged back. The victim leads the reconciler: it
# keeps its lease (the database answers) but cannot publish. Its workers
# must notice the dead connections, reconnect and consume again; the brokers
# hand its unacked deliveries to the others.
SCEN=node-broker-partition
. "$(dirname "$0")/../lib.sh"
RATE=150 DURATION=28 TASK_MS=20

nemesis() {
	local n
	sleep 6
	n=$(tq_leader) || n=tq1
	echo "$n" >"$RUN/victim"
	nemesis_do disconnect "$n" 12 broker
}

extra_check() {
	local n
	n=$(cat "$RUN/victim")
	[ "$(node_events "$n" event=broker_reconnected)" -ge 1 ] ||
		{ echo "no worker of $n reconnected to a broker"; return 1; }
}

scenario_main
