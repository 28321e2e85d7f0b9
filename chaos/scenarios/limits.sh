# Concurrency limits through faults: tasks of three keys under a prefix
# limit "lim:*" (2 each) and of one key "vip" (3) overlap on two nodes of
# three workers, while workers are SIGKILLed at random and node 2 is cut
# off from the database and the broker for longer than the cluster takes
# to declare it dead and give its tasks to node 1. The checker measures,
# from the workers' own ledgers, how many executions of each key ran at
# once: never more than its limit.
SCEN=${SCEN:-limits}
. "$(dirname "$0")/../lib.sh"
PER_KEY=${LIMITS_PER_KEY:-2}	# tasks per key per second: more than its limit takes
NODES=2 WORKERS=3 RATE=$((4 * PER_KEY)) DURATION=${LIMITS_DURATION:-24} DRAIN_S=120
LONG_MS=10000	# every 8th task: outlives the node timeout and the requeue
KEYS="lim:a lim:b lim:c vip"

# Node 2 reaches the servers through proxies of its own, so that its links
# alone can be cut.
eval "$(declare -f node_start | sed '1s/node_start/node_start_shared/')"
node_start() {	# N
	if [ "$1" != 2 ]; then
		node_start_shared "$1"
		return
	fi
	if [ -z "${N2_DB_PORT:-}" ]; then
		proxy_start db2 "${TQ_MYSQL_PORT:-23306}"
		N2_DB_PORT=$PROXY_PORT
		proxy_start broker2 "${TQ_AMQP_PORT:-21672}"
		N2_AMQP_PORT=$PROXY_PORT
	fi
	TQ_MYSQL_URL="mysql://tq:tq@127.0.0.1:$N2_DB_PORT/$DB" \
	TQ_AMQP_URL="amqp://guest:guest@127.0.0.1:$N2_AMQP_PORT/%2f" \
		node_start_shared 2
}

# The limits, and the load: every second PER_KEY tasks per key, a few
# hundred ms each and every 8th one long, each key's batch submitted under its
# key. The limits go to limits.tsv for the checker.
load_run() {
	local seq=0 end k ids batch n=0
	"$BIN/tq" limit set 'lim:*' --concurrency 2 >/dev/null
	"$BIN/tq" limit set vip --concurrency 3 >/dev/null
	printf 'lim:* 2\nvip 3\n' >"$RUN/limits.tsv"
	end=$(($(date +%s) + DURATION))
	while [ "$(date +%s)" -lt "$end" ]; do
		for k in $KEYS; do
			batch=$RUN/load/batch
			: >"$batch"
			for _ in $(seq 1 "$PER_KEY"); do
				seq=$((seq + 1))
				n=$((n + 1))
				if [ $((n % 8)) = 0 ]; then
					echo "$LONG_MS r$$-$seq" >>"$batch"
				else
					echo "$((250 + RANDOM % 200)) r$$-$seq" >>"$batch"
				fi
			done
			sed 's/^/attempt /' "$batch" >>"$RUN/submit.ledger"
			if ids=$("$BIN/tq" submit --limit-key "$k" --from "$batch" \
			    tq.chaos 2>>"$RUN/load/errors.log"); then
				paste -d' ' <(printf '%s\n' "$ids") "$batch" |
				    sed 's/^/ack /' >>"$RUN/submit.ledger"
			else
				echo "$(ms) submit failed" >>"$RUN/load/errors.log"
			fi
		done
		sleep 1
	done
}

kill_some() {	# N: SIGKILL N random workers, 0.5 s apart, times recorded
	local p t
	for _ in $(seq 1 "$1"); do
		p=$(random_worker)
		if [ -n "$p" ]; then
			# The time is read before the kill: the checker ends
			# the victim's open run 1 ms after it.
			t=$(ms)
			kill -KILL "$p" 2>/dev/null && echo "$t $p" >>"$RUN/kills.log"
		fi
		sleep 0.5
	done
}

# Waits (up to 20 s) until a worker of node 2 has just begun a long task:
# cut off then, its handler outlives the node timeout, which is the case
# that shows whether a cut-off worker goes on running a task the cluster
# gave to another node.
long_begun_on_2() {
	python3 - "$RUN" "$LONG_MS" <<'PY'
import glob, os, sys, time
run, long_ms = sys.argv[1], sys.argv[2]
end = time.time() + 20
while time.time() < end:
    longs = set()
    for line in open(os.path.join(run, "submit.ledger")):
        p = line.split()
        if len(p) >= 3 and p[0] == "ack" and p[2] == long_ms:
            longs.add(p[1].lower())
    now = int(time.time() * 1000)
    for path in glob.glob(os.path.join(run, "ledger", "worker-chaos-2-*.log")):
        for line in open(path):
            p = line.split()
            if p and p[0] == "begin" and p[1].lower() in longs and \
                    now - int(p[3]) < 500:
                print(p[1])
                sys.exit(0)
    time.sleep(0.1)
sys.exit(1)
PY
}

nemesis() {
	local t
	[ "${LIMITS_NEMESIS:-}" = none ] && return 0
	sleep 4
	t=$(long_begun_on_2) || t="none seen"
	echo "long task just begun on node 2: $t"
	fault_start "node 2 cut off 10s"
	proxy db2 blackhole on
	proxy broker2 blackhole on
	sleep 10
	proxy db2 blackhole off
	proxy broker2 blackhole off
	fault_end "node 2 cut off 10s"
	sleep 2
	fault_start "kill -9 workers"
	kill_some 16
	fault_end "kill -9 workers"
}

extra_check() {
	[ "${LIMITS_NEMESIS:-}" = none ] && return 0
	# The partition must have done what it is for: node 2 declared dead
	# and its tasks given to node 1.
	grep -q 'event=node_dead node=chaos-2' "$RUN/node-1.log" ||
		{ echo "node 2 was never declared dead"; return 1; }
}

scenario_main
