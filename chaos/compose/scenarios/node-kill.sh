# A tq node (its container: the supervisor and its four workers) killed
# with SIGKILL while tasks flow, and started again 5 s later under the same
# node name. The victim is the node that leads the reconciler: another node
# must take the lead and release the dead node's tasks; the restarted node
# joins again.
SCEN=node-kill
. "$(dirname "$0")/../lib.sh"
RATE=150 DURATION=25 TASK_MS=20

nemesis() {
	local n
	sleep 6
	n=$(tq_leader) || n=tq1
	echo "$n" >"$RUN/victim"
	nemesis_do kill "$n" 5
}

extra_check() {
	local n
	n=$(cat "$RUN/victim")
	[ "$(node_events "$n" event=node_joined)" -ge 1 ] ||
		{ echo "$n did not join again after its restart"; return 1; }
	[ "$(cat "$RUN"/logs/tq?.log | grep -c 'event=leader ')" -ge 1 ] ||
		{ echo "no node took the lead after $n died"; return 1; }
}

scenario_main
