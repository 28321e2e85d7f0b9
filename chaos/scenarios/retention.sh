# Retention with 2 s windows, so finished rows are deleted while workers
# are killed with -9, the leading supervisor (the one that deletes) is
# killed and started again, and MariaDB is killed with -9: a deleted row
# must not be taken for a lost task, by the checker (it judges a task
# whose row is gone from the worker ledgers, or from the finished rows it
# saw) nor by tq wait. Fails if retention deleted no acknowledged task's
# row, or none while the faults were on, so that it cannot pass without
# deleting.
#
# RETENTION_BY=sql is a test of the checker alone, not of tq: tq keeps
# everything (windows 0) and this script deletes finished rows by SQL.
SCEN=retention
RETENTION_BY=${RETENTION_BY:-tq}
case $RETENTION_BY in
tq)	export TQ_KEEP_SUCCEEDED=2s TQ_KEEP_FAILED=2s TQ_KEEP_CANCELLED=2s ;;
sql)	export TQ_KEEP_SUCCEEDED=0 TQ_KEEP_FAILED=0 TQ_KEEP_CANCELLED=0 ;;
*)	echo "retention: RETENTION_BY is tq or sql, not \"$RETENTION_BY\"" >&2
	exit 2 ;;
esac
WATCH_ROWS=1
. "$(dirname "$0")/../lib.sh"
NODES=2 WORKERS=2 RATE=150 DURATION=26 TASK_MS=5

# Rows deleted so far, seen from outside: tasks acknowledged minus
# tq.chaos rows present (rows written but not yet or never acknowledged
# make it an undercount, never an overcount).
sample() {
	local acks rows
	acks=$(grep -c '^ack ' "$RUN/submit.ledger" 2>/dev/null || true)
	rows=$(sqlq "SELECT COUNT(*) FROM tasks WHERE name = 'tq.chaos'" \
	    2>/dev/null) || return 0
	echo "$(ms) ${acks:-0} $rows" >>"$RUN/retention.log"
}

sampler() {
	while :; do
		sample
		sleep 0.5
	done
}

# RETENTION_BY=sql only: what tq's retention does, by hand.
sql_deleter() {
	local done="('succeeded','failed','cancelled')"
	local cut="NOW(6) - INTERVAL 2 SECOND"
	while :; do
		sqlq "DELETE r FROM task_runs r JOIN tasks t ON t.id = r.task_id
		    WHERE t.state IN $done AND t.finished_at < $cut;
		    DELETE FROM tasks WHERE state IN $done AND finished_at < $cut
		    LIMIT 500" \
		    >/dev/null 2>>"$RUN/deleter.err" || true
		sleep 0.2
	done
}

# (Both run from nemesis(), a subshell: their pids go through files.)
stop_helpers() {
	local f
	for f in "$RUN/sampler.pid" "$RUN/deleter.pid"; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
		rm -f "$f"
	done
	return 0
}

scenario_cleanup() { stop_helpers; }

kill_workers() {	# COUNT: one random worker every 0.5 s
	local p
	for _ in $(seq 1 "$1"); do
		p=$(random_worker)
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null
		sleep 0.5
	done
}

nemesis() {
	local n
	sampler &
	echo $! >"$RUN/sampler.pid"
	if [ "$RETENTION_BY" = sql ]; then
		sql_deleter &
		echo $! >"$RUN/deleter.pid"
	fi
	# Rows finish and pass their window before the first fault.
	sleep 5
	sample
	echo "$(ms) faults" >>"$RUN/retention.log"
	fault_start "kill -9 workers"
	kill_workers 12
	fault_end "kill -9 workers"
	n=$(leader_node)
	[ -n "$n" ] || n=1
	echo "leader is node $n"
	fault_start "kill -9 leader node $n"
	node_kill_all "$n"
	sleep 3
	node_start "$n"
	fault_end "kill -9 leader node $n"
	sleep 2
	# Started again at once: the rows finished just before it are still
	# in their window when it is back, so a worker that retries an
	# outcome it did not see committed finds its row (or the checker its
	# row seen finished).
	fault_start "kill -9 mariadb"
	kill_db
	"$ROOT/ci/services" up db >/dev/null 2>&1
	fault_end "kill -9 mariadb"
	sleep 3
	fault_start "kill -9 workers (2)"
	kill_workers 6
	fault_end "kill -9 workers (2)"
	sample
	echo "$(ms) faults over" >>"$RUN/retention.log"
	kill "$(cat "$RUN/sampler.pid")" 2>/dev/null || true
	rm -f "$RUN/sampler.pid"
	# The deleter (sql) goes on through the drain, as retention does.
}

extra_check() {
	local ids id out
	stop_helpers
	python3 - "$RUN" "$RETENTION_BY" <<'PY' || return 1
import json, os, sys
run, by = sys.argv[1], sys.argv[2]
acked = set()
for line in open(os.path.join(run, "submit.ledger")):
    p = line.split()
    if len(p) >= 2 and p[0] == "ack":
        acked.add(p[1].replace("-", "").lower())
present = {l.split("\t")[0].lower() for l in open(os.path.join(run, "rows.tsv"))}
deleted = len(acked - present)
# Deleted while the faults were on: the outside count at the sample just
# before they began and at the one just before they were over.
before = during = None
phase = 0
for line in open(os.path.join(run, "retention.log")):
    p = line.split()
    if p[1:] == ["faults"]:
        phase = 1
    elif p[1:] == ["faults", "over"]:
        phase = 2
    elif len(p) == 3 and phase < 2:
        d = int(p[1]) - int(p[2])
        if phase == 0:
            before = d
        else:
            during = d
while_faults = during - before if None not in (before, during) else 0
res = os.path.join(run, "result.json")
r = json.load(open(res))
r.update({"retention_by": by, "rows_deleted": deleted,
          "rows_deleted_while_faults": while_faults})
json.dump(r, open(res, "w"), indent=2)
print(f"[{by}] rows deleted: {deleted} of {len(acked)} acknowledged tasks, "
      f"at least {while_faults} while faults were on; judged from the "
      f"ledgers {r['pruned'] - r['pruned_from_rows_seen']}, from rows seen "
      f"finished {r['pruned_from_rows_seen']}", file=sys.stderr)
if deleted == 0:
    print("retention deleted no acknowledged task's row")
    sys.exit(1)
if while_faults <= 0:
    print("retention deleted no row while the faults were on")
    sys.exit(1)
PY
	# tq wait on tasks whose row is gone: not found, and it says that
	# retention may have deleted them (not when tq keeps everything).
	[ "$RETENTION_BY" = tq ] || return 0
	ids=$(python3 -c 'import json, sys
for h in json.load(open(sys.argv[1]))["examples"]["pruned"]:
    print(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")' "$RUN/result.json")
	for id in $ids; do
		if out=$(TQ_MYSQL_URL=$DIRECT_MYSQL timeout 20 "$BIN/tq" wait "$id" 2>&1); then
			echo "tq wait $id succeeded on a deleted task: \"$out\""
			return 1
		fi
		case $out in
		*"deleted by retention"*) ;;
		*)	echo "tq wait $id: \"$out\""
			return 1 ;;
		esac
	done
	say "tq wait says of $(echo "$ids" | wc -w) deleted tasks that retention may have deleted them"
}

scenario_main
