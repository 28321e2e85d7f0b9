# The checker must be able to fail: a worker broken on purpose acks every
# tenth delivery without running it (as acks-early queues lose tasks).
# This scenario passes only if the checker reports those tasks lost.
SCEN=broken-drop
export TQ_DEBUG_UNSAFE=drop
EXPECT_FAIL=lost
. "$(dirname "$0")/../lib.sh"
NODES=1 WORKERS=2 RATE=100 DURATION=6 TASK_MS=5 DRAIN_S=15
TQ_PENDING_GRACE_MS=600000

nemesis() { :; }

scenario_main
