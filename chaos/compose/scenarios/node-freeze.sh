# A tq node frozen (podman pause: every process of its container stopped by
# the freezer) for 12 s, twice the task lease (6 s), while its workers hold
# claimed tasks; then thawed. The others see it silent: the leader releases
# its tasks (and takes the lead, if tq3 held it) and they run them again.
# tq3's supervisor waits 30 s before it calls a silent worker hung
# (compose.yaml), so the thawed workers live on and finish their stale
# copies: the fence must turn every one of those completions away (none
# completed twice; the count of those turned away is printed).
SCEN=node-freeze
. "$(dirname "$0")/../lib.sh"
# more than the 12 workers can run (12/s): every worker always holds tasks
RATE=20 DURATION=28 TASK_MS=1000

nemesis() {
	sleep 6
	nemesis_do pause tq3 12
}

extra_check() {
	local released stale
	# released by the leader (tq1 or tq2; tq3 itself when it led and
	# nobody took over), or expired by tq3's own reconciler on thawing
	released=$(cat "$RUN"/logs/tq?.log | grep -c -E 'event=(node_dead|lease_expired|task_released)' || true)
	stale=$(cat "$RUN"/logs/tq?.log | grep -c 'event=stale_finish' || true)
	say "tq3 frozen 12 s: $released release event(s), $stale stale completion(s) fenced off"
	[ "$released" -gt 0 ] ||
		{ echo "nothing was released: the freeze did not outlast the lease"; return 1; }
}

scenario_main
