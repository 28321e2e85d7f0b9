# A tq node cut from the database (podman network disconnect from the "db"
# network; the brokers stay reachable) for 12 s, twice the task lease, then
# plugged back. Its claims and completions fail, its leases lapse and the
# leader releases its tasks to the others; its late completions are fenced
# off; its workers reconnect to the database.
SCEN=node-db-partition
. "$(dirname "$0")/../lib.sh"
RATE=150 DURATION=28 TASK_MS=20

nemesis() {
	local l n
	sleep 6
	l=$(tq_leader) || l=tq1
	n=$(other_node "$l")
	echo "$n" >"$RUN/victim"
	nemesis_do disconnect "$n" 12 db
}

extra_check() {
	local n
	n=$(cat "$RUN/victim")
	[ "$(node_events "$n" event=db_reconnected)" -ge 1 ] ||
		{ echo "nothing of $n reconnected to the database"; return 1; }
}

scenario_main
