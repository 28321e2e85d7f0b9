# Two nodes; the one that leads the reconciler is killed (supervisor and
# workers) and stays dead: the other takes over leadership, releases the
# dead node's tasks and finishes everything.
SCEN=leader-kill
. "$(dirname "$0")/../lib.sh"
NODES=2 WORKERS=2 RATE=30 DURATION=22 TASK_MS=50

nemesis() {
	local n
	sleep 5
	n=$(leader_node)
	[ -n "$n" ] || n=1
	echo "leader is node $n"
	fault_start "kill -9 leader node $n"
	node_kill_all "$n"
	sleep 8
	fault_end "kill -9 leader node $n"
	echo "$n" >"$RUN/killed-node"
}

extra_check() {
	local n other
	n=$(cat "$RUN/killed-node")
	other=$((3 - n))
	grep -q 'event=leader ' "$RUN/node-$other.log" ||
		{ echo "node $other never became leader"; return 1; }
}

scenario_main
