# MariaDB killed with SIGKILL during commits and started again 3 s later
# on its data, twice. Commits in flight are lost or ambiguous; tq's writes
# are conditional and retried, so nothing is lost or completed twice.
# The load goes on well past the second kill: clients whose connections the
# kill left half-open notice only by their read timeout (TQ_TIMEOUT_MS),
# and the recovery from it is measured only while tasks are submitted.
SCEN=db-kill
. "$(dirname "$0")/../lib.sh"
RATE=150 DURATION=40 TASK_MS=5

nemesis() {
	sleep 5
	nemesis_do kill mariadb 3
	sleep 7
	nemesis_do kill mariadb 3
}

extra_check() {
	[ "$(cat "$RUN"/logs/tq?.log | grep -c 'event=db_reconnected')" -ge 1 ] ||
		{ echo "no tq process reconnected to the database"; return 1; }
}

scenario_main
