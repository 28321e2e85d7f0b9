# A degraded network: latency with jitter to both servers and a bandwidth
# cap on the broker link. Work slows down; no worker is killed as hung.
SCEN=slow-network
. "$(dirname "$0")/../lib.sh"
NODES=1 WORKERS=3 RATE=100 DURATION=24 TASK_MS=20

nemesis() {
	sleep 4
	fault_start "latency 80±40 ms, broker 100 KB/s"
	proxy db latency 80 40 >/dev/null
	proxy broker latency 80 40 >/dev/null
	proxy broker bandwidth 100000 >/dev/null
	sleep 12
	proxy db clear >/dev/null
	proxy broker clear >/dev/null
	fault_end "latency 80±40 ms, broker 100 KB/s"
}

extra_check() {
	local hung
	hung=$(node_logs_count event=worker_hung)
	[ "$hung" = 0 ] || { echo "$hung false hang kills"; return 1; }
}

scenario_main
