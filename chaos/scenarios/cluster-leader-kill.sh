# A 3-node RabbitMQ cluster on quorum queues: the node that leads the
# task queue is killed with -9 (and later restarted); clients fail over to
# the other nodes; confirmed messages survive; nothing is lost.
SCEN=cluster-leader-kill
export TQ_QUEUE_TYPE=quorum
. "$(dirname "$0")/../lib.sh"
NODES=1 WORKERS=3 RATE=150 DURATION=24 TASK_MS=5

urls=$("$ROOT/ci/rabbit-cluster" up) || { say "cluster did not start"; exit 1; }
BROKER_URLS=$(printf '%s\n' "$urls" | sed -n 's/^export TQ_AMQP_URL=//p')
[ -n "$BROKER_URLS" ] || { say "no cluster URLs"; exit 1; }

nemesis() {
	local n
	sleep 6
	n=$("$ROOT/ci/rabbit-cluster" leader "tq.$TQ_QUEUE") || n=1
	echo "queue leader: node $n"
	echo "$n" >"$RUN/killed-broker-node"
	fault_start "kill -9 queue leader (broker node $n)"
	"$ROOT/ci/rabbit-cluster" kill "$n"
	sleep 8
	"$ROOT/ci/rabbit-cluster" start "$n" >/dev/null 2>&1 || true
	fault_end "kill -9 queue leader (broker node $n)"
}

extra_check() {
	local n new
	n=$(cat "$RUN/killed-broker-node")
	new=$("$ROOT/ci/rabbit-cluster" leader "tq.$TQ_QUEUE" 2>/dev/null || echo "?")
	echo "queue leader after the run: node $new (killed: node $n)" >&2
}

scenario_cleanup() {
	"$ROOT/ci/rabbit-cluster" down >/dev/null 2>&1 || true
}

scenario_main
