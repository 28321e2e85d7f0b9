# chaos/compose/lib.sh: what every container-level scenario
# (chaos/compose/scenarios/NAME.sh) shares. The cluster is compose.yaml's,
# already up (chaos/compose/run brings it up); the workload, its ledger, the
# drain and chaos/checker run in the chaos runner container
# (tq-chaos-runner: chaos/lib.sh's load, tagged per run); the faults come
# from here, the host, through ci/containers/nemesis (podman kill, pause,
# network disconnect), marked in the run's faults.log. A scenario sets knobs,
# defines nemesis() (and optionally extra_check()), and calls scenario_main.
# shellcheck shell=bash
set -eu

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
SCEN=${SCEN:-$(basename "$0" .sh)}
OUT=${TQ_COMPOSE_CHAOS_OUT:-$ROOT/var/compose-chaos}
RUN=$OUT/$SCEN
rm -rf "$RUN"
mkdir -p "$RUN/logs"

# knobs a scenario may change before scenario_main (the cluster's own
# timings, lease 6 s, node timeout 3 s, AMQP heartbeat 4 s, are
# compose.yaml's, the same as chaos/lib.sh's)
RATE=${RATE:-150}		# tasks per second submitted
DURATION=${DURATION:-25}	# seconds of load
TASK_MS=${TASK_MS:-5}		# how long each task sleeps
DRAIN_S=${DRAIN_S:-120}		# how long the drain may take
ALLOW_FAILED=${ALLOW_FAILED:-0}
READY_S=${READY_S:-240}		# how long the cluster may take to be whole

PROJECT=${TQ_COMPOSE_PROJECT:-tq}
ENGINE=${TQ_ENGINE:-podman}
export TQ_COMPOSE_PROJECT=$PROJECT TQ_ENGINE=$ENGINE
[ "$ENGINE" = podman ] && export CONTAINERS_CONF=$ROOT/ci/containers/containers.conf
NEMESIS=$ROOT/ci/containers/nemesis
RUNS=/var/lib/tq-chaos/runs	# in the chaos container (compose.yaml)

ms() { date +%s%3N; }
say() { printf '[%s %s] %s\n' "$(date +%T)" "$SCEN" "$*" >&2; }

ctr() { # SERVICE: the id of its container (running or not), or nothing
	"$ENGINE" ps -aq --filter "label=com.docker.compose.project=$PROJECT" \
		--filter "label=com.docker.compose.service=$1" | head -n1
}

nemesis_do() { # NEMESIS-ARGS...: one fault (marked in the run by nemesis)
	"$NEMESIS" "$@" 2>&1 | tee -a "$RUN/nemesis.log" >&2
	return "${PIPESTATUS[0]}"
}

tq_leader() { "$NEMESIS" tq-leader 2>>"$RUN/nemesis.log"; }
broker_leader() { "$NEMESIS" broker-leader "tq.${TQ_QUEUE:-default}" 2>>"$RUN/nemesis.log"; }

# a tq node other than $1
other_node() {
	local n
	for n in tq1 tq2 tq3; do
		[ "$n" != "$1" ] && { echo "$n"; return 0; }
	done
}

# ---- readiness: every service up and whole ----

rabbit_members_running() { # SERVICE: how many cluster members it sees running
	local id out
	id=$(ctr "$1")
	[ -n "$id" ] || { echo 0; return; }
	out=$("$ENGINE" exec -u rabbitmq -w /var/lib/rabbitmq -e HOME=/var/lib/rabbitmq "$id" \
		rabbitmqctl -q cluster_status --formatter json 2>/dev/null) || { echo 0; return; }
	printf '%s' "$out" | tr -d '\n' | sed -n 's/.*"running_nodes":\[\([^]]*\)\].*/\1/p' |
		tr ',' '\n' | grep -c rabbit@ || true
}

timed() { # WHAT CMD...: CMD, saying so when it takes more than 5 s
	local t0=$SECONDS rc=0
	"${@:2}" || rc=$?
	[ $((SECONDS - t0)) -le 5 ] || say "slow: $1 took $((SECONDS - t0)) s"
	return "$rc"
}

not_ready() { # prints what is not ready yet; nothing when all is
	local s id
	for s in rabbit1 rabbit2 rabbit3; do
		[ "$(timed "$s cluster_status" rabbit_members_running "$s")" = 3 ] ||
			{ echo "$s (cluster of 3)"; return; }
	done
	id=$(ctr mariadb)
	timed "mariadb health" "$ENGINE" exec "$id" tq-mariadb-health >/dev/null 2>&1 ||
		{ echo mariadb; return; }
	for s in tq1 tq2 tq3; do
		id=$(ctr "$s")
		timed "$s tq workers" "$ENGINE" exec "$id" tq workers >/dev/null 2>&1 ||
			{ echo "$s"; return; }
	done
	id=$(ctr chaos)
	[ -n "$id" ] && "$ENGINE" exec "$id" true >/dev/null 2>&1 || { echo "chaos runner"; return; }
}

wait_ready() { # SECONDS: until every service is up and whole
	local end=$((SECONDS + $1)) what said=""
	while what=$(not_ready) && [ -n "$what" ]; do
		[ "$SECONDS" -lt "$end" ] || {
			say "the cluster is not whole after $1 s: $what"
			return 1
		}
		[ "$what" = "$said" ] || say "waiting for $what"
		said=$what
		sleep 2
	done
}

# ---- the run ----

node_events() { # SERVICE PATTERN: how many log lines of SERVICE match, this run
	cat "$RUN/logs/$1.log" 2>/dev/null | grep -c -- "$2" || true
}

result_fail() { # REASON: marks result.json failed
	python3 - "$RUN/result.json" "$1" <<'PY'
import json, sys
p, why = sys.argv[1], sys.argv[2]
try:
    r = json.load(open(p))
except (OSError, ValueError):
    r = {"scenario": p.split("/")[-2]}
r["ok"] = False
r["why"] = (r.get("why") + ", " if r.get("why") else "") + why
json.dump(r, open(p, "w"), indent=2)
PY
}

scenario_main() {
	local ch runner rc=0 since end why s id
	say "waiting for the cluster to be whole"
	wait_ready "$READY_S" || { result_fail "cluster not whole before the run"; return 1; }
	ch=$(ctr chaos)
	since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	say "load: $RATE/s for ${DURATION}s, tasks of ${TASK_MS} ms, on tq1..tq3 (4 workers each)"
	# TQ_CHAOS_FORCE: a scenario that failed to drain does not stop the next
	"$ENGINE" exec -e SCEN="$SCEN" -e RATE="$RATE" -e DURATION="$DURATION" \
		-e TASK_MS="$TASK_MS" -e DRAIN_S="$DRAIN_S" -e ALLOW_FAILED="$ALLOW_FAILED" \
		-e TQ_CHAOS_FORCE=1 -e TQ_CHAOS_QUIESCE_S=20 \
		"$ch" tq-chaos-runner >"$RUN/runner.log" 2>&1 &
	runner=$!
	# the faults begin once the load does
	end=$((SECONDS + 120))
	until "$ENGINE" exec "$ch" test -d "$RUNS/current" 2>/dev/null; do
		if ! kill -0 "$runner" 2>/dev/null || [ "$SECONDS" -ge "$end" ]; then
			say "the chaos runner did not start a run:"
			tail -n 5 "$RUN/runner.log" >&2
			wait "$runner" || true
			result_fail "the chaos runner did not start"
			return 1
		fi
		sleep 0.5
	done
	nemesis || { say "nemesis failed"; why="nemesis failed"; }
	say "faults over; waiting for the drain and the checker"
	wait "$runner" || rc=$?
	grep -E 'drain|result|PASS|FAIL' "$RUN/runner.log" | sed 's/^/  /' >&2 || true
	# the run's files (result.json, ledgers, rows, faults.log, throughput.svg)
	"$ENGINE" exec "$ch" sh -c "cd $RUNS/latest && tar -cf - ." | tar -xf - -C "$RUN" ||
		say "could not copy the run's files"
	for s in tq1 tq2 tq3 rabbit1 rabbit2 rabbit3 mariadb; do
		id=$(ctr "$s")
		[ -n "$id" ] && "$ENGINE" logs --since "$since" "$id" >"$RUN/logs/$s.log" 2>&1 || true
	done
	[ -f "$RUN/result.json" ] || result_fail "no result (the runner exited $rc)"
	[ -n "${why:-}" ] && { result_fail "$why"; rc=1; }
	# A scenario's own assertions add to the checker's verdict.
	if declare -F extra_check >/dev/null; then
		if ! why=$(extra_check); then
			say "extra check failed: $why"
			result_fail "$why"
			rc=1
		fi
	fi
	return "$rc"
}
