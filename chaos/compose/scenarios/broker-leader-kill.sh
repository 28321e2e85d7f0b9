# The RabbitMQ node that leads the task queue (a quorum queue replicated on
# the three members) killed with SIGKILL while tasks flow, and started again
# 10 s later on its data. A new leader is elected among the two left;
# clients fail over to them (TQ_AMQP_URL lists the three); confirmed
# messages survive; acked ones may come back (fenced as duplicates).
SCEN=broker-leader-kill
. "$(dirname "$0")/../lib.sh"
RATE=150 DURATION=28 TASK_MS=5

nemesis() {
	local b
	sleep 6
	b=$(broker_leader) || b=rabbit1
	echo "$b" >"$RUN/victim"
	nemesis_do kill "$b" 10
}

extra_check() {
	local b now
	b=$(cat "$RUN/victim")
	now=$(broker_leader 2>/dev/null || echo "?")
	say "queue leader: $b before, $now after"
	[ "$(cat "$RUN"/logs/tq?.log | grep -c -E 'event=(broker_lost|broker_reconnected)')" -ge 1 ] ||
		{ echo "no client lost its broker: the kill did not reach the clients"; return 1; }
}

scenario_main
