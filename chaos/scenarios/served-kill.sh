# Served handlers under fire: tq.chaos is a served handler (bin/served,
# one long-lived child per worker); while tasks flow, random children are
# SIGKILLed, frozen for a moment (SIGSTOP, SIGCONT), and frozen past the
# task's time limit (the worker kills them). Each fault fails only the
# attempt that ran in that child; the task runs again on a fresh child.
SCEN=served-kill
. "$(dirname "$0")/../lib.sh"
NODES=1 WORKERS=4 RATE=200 DURATION=20 TASK_MS=5
NODE_CONF=$RUN/tq.conf
cat >"$NODE_CONF" <<CONF
[task tq.chaos]
exec = $BIN/served
serve = yes
timeout_s = 2		; a frozen child holds its task this long
kill_grace_ms = 500
CONF

served_children() {
	local w
	for w in $(all_workers); do pgrep -P "$w" 2>/dev/null || true; done
}

random_child() {
	served_children | shuf -n 1
}

nemesis() {
	local p round
	sleep 3
	fault_start "served children: kill -9, short and long SIGSTOP"
	for round in $(seq 1 24); do
		p=$(random_child)
		[ -n "$p" ] || { sleep 0.5; continue; }
		case $((round % 6)) in
		0)	# frozen past the task's time limit: the worker kills it
			kill -STOP "$p" 2>/dev/null && echo "$(ms) long stop $p"
			;;
		3)	# frozen a moment, then thawed: its task is only late
			kill -STOP "$p" 2>/dev/null && echo "$(ms) short stop $p"
			sleep 0.7
			kill -CONT "$p" 2>/dev/null || true
			;;
		*)
			kill -KILL "$p" 2>/dev/null && echo "$(ms) kill $p"
			;;
		esac
		sleep 0.5
	done
	# A kill lands mid-task only by chance (children idle most of the
	# time at this load): kill on until one has, so that the check below
	# sees the path exercised rather than skipping it by luck.
	for round in $(seq 1 40); do
		[ "$(node_logs_count 'error="served handler killed by signal 9')" -gt 0 ] && break
		p=$(random_child)
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null && echo "$(ms) kill $p (until one is mid-task)"
		sleep 0.3
	done
	fault_end "served children: kill -9, short and long SIGSTOP"
}

extra_check() {
	local kills stops starts
	kills=$(node_logs_count 'error="served handler killed by signal 9')
	stops=$(node_logs_count 'reason="timed out"')
	starts=$(node_logs_count 'event=served_ready name=tq.chaos')
	say "served children started: $starts; attempts failed by kill -9: $kills; timeouts of frozen children: $stops"
	[ "$kills" -gt 0 ] || { echo "no attempt failed by a killed child"; return 1; }
	[ "$stops" -gt 0 ] || { echo "no frozen child timed out"; return 1; }
	[ "$starts" -gt "$kills" ] || { echo "killed children were not replaced"; return 1; }
}

scenario_main
