# A worker frozen (SIGSTOP) past its lease, its task taken over and
# finished by another, then thawed (SIGCONT): the stale worker's late
# outcome must be fenced off. The frozen one is a standalone worker (no
# supervisor would let it live frozen); the supervisor's leader expires
# its leases.
SCEN=worker-stop
. "$(dirname "$0")/../lib.sh"
NODES=1 WORKERS=2 RATE=2 DURATION=24 TASK_MS=1000

nemesis() {
	local p
	p=$(standalone_start stale-worker TQ_LEASE_MS=2000 TQ_PREFETCH=4 TQ_BATCH=1)
	sleep 4
	for round in 1 2 3; do
		fault_start "SIGSTOP worker $round"
		kill -STOP "$p"
		sleep 5
		kill -CONT "$p"
		fault_end "SIGSTOP worker $round"
		sleep 1
	done
}

extra_check() {
	local stale
	stale=$(grep -c 'event=stale_finish' "$RUN/stale-worker.log" || true)
	say "stale finishes discarded: $stale"
	[ "$(node_logs_count event=lease_expired)" -gt 0 ] ||
		{ echo "no lease expired: the freeze did not outlast the lease"; return 1; }
}

scenario_main
