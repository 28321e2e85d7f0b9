# MariaDB killed with -9 during commits, then started again.
SCEN=db-kill
. "$(dirname "$0")/../lib.sh"
NODES=1 WORKERS=3 RATE=200 DURATION=24 TASK_MS=5

nemesis() {
	sleep 5
	fault_start "kill -9 mariadb"
	kill_db
	sleep 2
	"$ROOT/ci/services" up db >/dev/null 2>&1
	fault_end "kill -9 mariadb"
	sleep 6
	fault_start "kill -9 mariadb (2)"
	kill_db
	"$ROOT/ci/services" up db >/dev/null 2>&1
	fault_end "kill -9 mariadb (2)"
}

scenario_main
