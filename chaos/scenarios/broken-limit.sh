# The checker must be able to fail: workers broken on purpose admit every
# claim whatever its key's limit, so more executions of a key run at once
# than its limit allows. The limits scenario's load, without its faults;
# it passes only if the checker reports a key over its limit.
SCEN=broken-limit
export TQ_DEBUG_UNSAFE=nolimit
EXPECT_FAIL=over_limit
LIMITS_NEMESIS=none
LIMITS_DURATION=10
LIMITS_PER_KEY=4
. "$(dirname "$0")/limits.sh"
