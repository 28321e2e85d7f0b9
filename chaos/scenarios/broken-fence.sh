# The checker must be able to fail: workers broken on purpose record their
# outcome without the fence, so a thawed stale worker completes a task a
# second time. This scenario passes only if the checker sees it.
SCEN=broken-fence
export TQ_DEBUG_UNSAFE=nofence
EXPECT_FAIL=completed_twice
. "$(dirname "$0")/../lib.sh"
NODES=1 WORKERS=2 RATE=2 DURATION=18 TASK_MS=1000

nemesis() {
	local p
	p=$(standalone_start stale-worker TQ_LEASE_MS=2000 TQ_PREFETCH=4 TQ_BATCH=1)
	sleep 3
	for round in 1 2; do
		fault_start "SIGSTOP worker $round"
		kill -STOP "$p"
		sleep 5
		kill -CONT "$p"
		fault_end "SIGSTOP worker $round"
		sleep 1
	done
}

scenario_main
