/* store_schema.c: the schema, one list of statements per version, and the
 * migrations that apply them in order under a lock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_int.h"

/* ---- schema ---- */

static const char *const schema_v1[] = {
	"CREATE TABLE IF NOT EXISTS tasks ("
	" id BINARY(16) NOT NULL PRIMARY KEY,"
	" queue VARCHAR(64) NOT NULL,"
	" name VARCHAR(255) NOT NULL,"
	" state ENUM('pending','queued','scheduled','running','succeeded',"
	"  'failed','cancelled') NOT NULL,"
	" priority TINYINT UNSIGNED NOT NULL DEFAULT 0,"
	" payload MEDIUMBLOB NOT NULL,"
	" result MEDIUMBLOB NULL,"
	" error TEXT NULL,"
	" attempts INT UNSIGNED NOT NULL DEFAULT 0,"
	" max_attempts INT UNSIGNED NOT NULL,"
	" backoff_base_ms INT UNSIGNED NOT NULL,"
	" backoff_cap_ms INT UNSIGNED NOT NULL,"
	" timeout_ms INT UNSIGNED NOT NULL DEFAULT 0,"
	" progress TINYINT UNSIGNED NOT NULL DEFAULT 0,"
	" progress_msg VARCHAR(255) NULL,"
	" fence BIGINT UNSIGNED NOT NULL DEFAULT 0,"
	" owner VARCHAR(128) NULL,"
	/* pending: publish again after; scheduled: run at; running: lease */
	" due_at DATETIME(6) NULL,"
	" created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
	" updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
	"  ON UPDATE CURRENT_TIMESTAMP(6),"
	" started_at DATETIME(6) NULL,"
	" finished_at DATETIME(6) NULL,"
	" KEY tasks_state_due (state, due_at)"
	") ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS task_runs ("
	" task_id BINARY(16) NOT NULL,"
	" fence BIGINT UNSIGNED NOT NULL,"
	" attempt INT UNSIGNED NOT NULL,"
	" owner VARCHAR(128) NOT NULL,"
	" outcome ENUM('running','succeeded','failed','lost','cancelled')"
	"  NOT NULL,"
	" error TEXT NULL,"
	" started_at DATETIME(6) NOT NULL,"
	" finished_at DATETIME(6) NULL,"
	" PRIMARY KEY (task_id, fence)"
	") ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS tq_leader ("
	" name VARCHAR(32) NOT NULL PRIMARY KEY,"
	" holder VARCHAR(128) NULL,"
	" token BIGINT UNSIGNED NOT NULL DEFAULT 0,"
	" expires_at DATETIME(6) NULL"
	") ENGINE=InnoDB",

	"INSERT IGNORE INTO tq_leader (name) VALUES ('reconciler')",

	"CREATE TABLE IF NOT EXISTS tq_nodes ("
	" name VARCHAR(128) NOT NULL PRIMARY KEY,"
	" started_at DATETIME(6) NOT NULL,"
	" seen_at DATETIME(6) NOT NULL,"
	" info VARCHAR(255) NULL"
	") ENGINE=InnoDB",
	NULL
};

/* v2: cancellation requests and unique keys. A key holds only while its
 * task is not terminal: the generated column is NULL afterwards. */
static const char *const schema_v2[] = {
	"ALTER TABLE tasks"
	" ADD COLUMN IF NOT EXISTS cancel_requested TINYINT UNSIGNED NOT NULL"
	"  DEFAULT 0,"
	" ADD COLUMN IF NOT EXISTS unique_key VARCHAR(255) NULL,"
	" ADD COLUMN IF NOT EXISTS active_key VARCHAR(330) AS"
	"  (IF(state IN ('succeeded','failed','cancelled') OR unique_key IS NULL,"
	"  NULL, CONCAT(queue, ':', unique_key))) PERSISTENT",
	"ALTER TABLE tasks ADD UNIQUE KEY IF NOT EXISTS tasks_active_key"
	" (active_key)",
	NULL
};

/* v3: periodic tasks (one row per schedule; one row per tick that was
 * enqueued, whose key makes a tick happen once) and dependencies. */
static const char *const schema_v3[] = {
	"CREATE TABLE IF NOT EXISTS tq_cron ("
	" name VARCHAR(64) NOT NULL PRIMARY KEY,"
	" spec VARCHAR(128) NOT NULL,"
	" queue VARCHAR(64) NOT NULL,"
	" task VARCHAR(255) NOT NULL,"
	" payload MEDIUMBLOB NOT NULL,"
	" next_tick DATETIME(6) NOT NULL,"
	" updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
	"  ON UPDATE CURRENT_TIMESTAMP(6),"
	" KEY tq_cron_next (next_tick)"
	") ENGINE=InnoDB",
	"CREATE TABLE IF NOT EXISTS tq_cron_ticks ("
	" name VARCHAR(64) NOT NULL,"
	" tick DATETIME NOT NULL,"
	" task_id BINARY(16) NOT NULL,"
	" PRIMARY KEY (name, tick)"
	") ENGINE=InnoDB",
	"CREATE TABLE IF NOT EXISTS task_deps ("
	" child BINARY(16) NOT NULL,"
	" parent BINARY(16) NOT NULL,"
	" PRIMARY KEY (child, parent),"
	" KEY task_deps_parent (parent)"
	") ENGINE=InnoDB",
	"ALTER TABLE tasks"
	" ADD COLUMN IF NOT EXISTS waiting INT UNSIGNED NOT NULL DEFAULT 0,"
	" ADD COLUMN IF NOT EXISTS has_children TINYINT UNSIGNED NOT NULL"
	"  DEFAULT 0",
	NULL
};

/* v4: history costs nothing on a timer. (state, queue, finished_at) gives
 * live counts by queue as an index-only range, and retention and the
 * failed list a range per queue in finishing order; tq_rollup counts
 * finished tasks by the hour, as they finish, so that nobody counts
 * history; a cron tick row is found by its task when that is deleted. */
static const char *const schema_v4[] = {
	"ALTER TABLE tasks ADD KEY IF NOT EXISTS tasks_state_queue"
	" (state, queue, finished_at)",
	"ALTER TABLE tq_cron_ticks ADD KEY IF NOT EXISTS tq_cron_ticks_task"
	" (task_id)",
	"CREATE TABLE IF NOT EXISTS tq_rollup ("
	" hour DATETIME NOT NULL,"
	" queue VARCHAR(64) NOT NULL,"
	" name VARCHAR(255) NOT NULL,"
	" outcome ENUM('succeeded','failed','retried','cancelled') NOT NULL,"
	" n BIGINT UNSIGNED NOT NULL DEFAULT 0,"
	" run_us BIGINT UNSIGNED NOT NULL DEFAULT 0,"
	" PRIMARY KEY (hour, queue, name, outcome)"
	") ENGINE=InnoDB",
	NULL
};

/* v5: what the retention windows hold, counted without reading them:
 * tq_window sums tq_rollup's closed hours per queue and outcome, less the
 * hours that left the window (up to and including `expired`); the leader
 * moves both edges (store_window_close, store_window_move). */
static const char *const schema_v5[] = {
	"CREATE TABLE IF NOT EXISTS tq_window ("
	" queue VARCHAR(64) NOT NULL,"
	" outcome ENUM('succeeded','failed','retried','cancelled') NOT NULL,"
	" n BIGINT NOT NULL DEFAULT 0,"
	" expired DATETIME NOT NULL,"
	" PRIMARY KEY (queue, outcome)"
	") ENGINE=InnoDB",
	"CREATE TABLE IF NOT EXISTS tq_window_closed ("
	" id TINYINT UNSIGNED NOT NULL PRIMARY KEY,"
	" closed DATETIME NULL"
	") ENGINE=InnoDB",
	"INSERT IGNORE INTO tq_window_closed (id, closed) VALUES (1, NULL)",
	NULL
};

/* v6: flow control. A task under a limit carries its key; limit_state is
 * its state while it has one (NULL otherwise, so that the index below
 * costs nothing to tasks without a key), and the index gives what the
 * claim and the finish ask, each a range over live rows: the running
 * tasks of a key, its waiters in order, the live ones of every limit.
 * limit_wait: 1 waits for a slot, 2 holds a rate slot at due_at.
 * tq_limit_keys has a row per key in use: the claims and frees of a key
 * serialise on it, and it keeps the key's rate state: the theoretical
 * arrival times of GCRA, in microseconds since the epoch, of the start
 * slots handed out (tat) and of the starts themselves (start_tat). */
static const char *const schema_v6[] = {
	"ALTER TABLE tasks"
	" ADD COLUMN IF NOT EXISTS limit_key VARCHAR(255) NULL,"
	" ADD COLUMN IF NOT EXISTS limit_wait TINYINT UNSIGNED NOT NULL"
	"  DEFAULT 0,"
	" ADD COLUMN IF NOT EXISTS limit_state ENUM('pending','queued',"
	"  'scheduled','running','succeeded','failed','cancelled') AS"
	"  (IF(limit_key IS NULL, NULL, state)) PERSISTENT",
	"ALTER TABLE tasks ADD KEY IF NOT EXISTS tasks_limit"
	" (limit_state, limit_key, limit_wait)",
	"CREATE TABLE IF NOT EXISTS tq_limits ("
	" name VARCHAR(255) NOT NULL PRIMARY KEY,"
	" concurrency INT UNSIGNED NOT NULL DEFAULT 0,"
	" rate_n INT UNSIGNED NOT NULL DEFAULT 0,"
	" rate_ms BIGINT UNSIGNED NOT NULL DEFAULT 0,"
	" burst INT UNSIGNED NOT NULL DEFAULT 1,"
	" updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
	"  ON UPDATE CURRENT_TIMESTAMP(6)"
	") ENGINE=InnoDB",
	"CREATE TABLE IF NOT EXISTS tq_limit_keys ("
	" lkey VARCHAR(255) NOT NULL PRIMARY KEY,"
	" tat BIGINT NOT NULL DEFAULT 0,"
	" start_tat BIGINT NOT NULL DEFAULT 0,"
	" blocked TINYINT UNSIGNED NOT NULL DEFAULT 0,"
	" touched DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
	") ENGINE=InnoDB",
	"CREATE TABLE IF NOT EXISTS tq_paused ("
	" queue VARCHAR(64) NOT NULL PRIMARY KEY,"
	" paused_by VARCHAR(128) NULL,"
	" paused_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
	") ENGINE=InnoDB",
	NULL
};

static const char *const *const migrations[] = { NULL, schema_v1,
	schema_v2, schema_v3, schema_v4, schema_v5, schema_v6 };

static int
version_row(void *arg, struct row *r)
{
	*(int *)arg = (int)uns_of(r->col[0]);
	return 0;
}

int
store_schema_version(struct store *s, int *version)
{
	MYSQL_STMT *st;

	*version = 0;
	st = stmt_run(s, "SELECT COUNT(*) FROM information_schema.tables "
	    "WHERE table_schema = DATABASE() AND table_name = 'tq_schema'",
	    NULL, NULL);
	if (st == NULL || stmt_rows(s, st, version_row, version) == -1)
		return -1;
	if (*version == 0)
		return 0;
	if ((st = stmt_run(s, "SELECT MAX(version) FROM tq_schema", NULL,
	    NULL)) == NULL || stmt_rows(s, st, version_row, version) == -1)
		return -1;
	return 0;
}

int
store_migrate(struct store *s, int *from, int *to)
{
	struct params p;
	const char *const *stmt;
	int v, got = 0, ret = -1;
	MYSQL_STMT *st;

	/* GET_LOCK only serialises concurrent migrators; the statements are
	 * idempotent, so losing the lock with the connection is harmless. */
	if ((st = stmt_run(s, "SELECT GET_LOCK('tq_migrate', 30)", NULL,
	    NULL)) == NULL || stmt_rows(s, st, version_row, &got) == -1)
		return -1;
	if (got != 1) {
		snprintf(s->err, sizeof(s->err), "migrate: another migration "
		    "holds the lock");
		s->err_temp = 1;
		return -1;
	}
	if (store_schema_version(s, &v) == -1)
		goto done;
	*from = v;
	if (v > STORE_SCHEMA_VERSION) {
		snprintf(s->err, sizeof(s->err), "schema version %d is newer "
		    "than this program's %d: upgrade tq", v,
		    STORE_SCHEMA_VERSION);
		s->err_temp = 0;
		goto done;
	}
	if (q(s, "CREATE TABLE IF NOT EXISTS tq_schema ("
	    " version INT NOT NULL PRIMARY KEY,"
	    " applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
	    ") ENGINE=InnoDB") == -1)
		goto done;
	for (v = v + 1; v <= STORE_SCHEMA_VERSION; v++) {
		for (stmt = migrations[v]; stmt != NULL && *stmt; stmt++)
			if (q(s, *stmt) == -1)
				goto done;
		if (params_init(&p, 1) == -1) {
			oom(s);
			goto done;
		}
		p_int(&p, v);
		st = stmt_run(s, "INSERT IGNORE INTO tq_schema (version) "
		    "VALUES (?)", &p, NULL);
		params_release(&p);
		if (st == NULL)
			goto done;
		log_info("event=migrated version=%d", v);
	}
	*to = STORE_SCHEMA_VERSION;
	ret = 0;
done:
	if ((st = stmt_run(s, "SELECT RELEASE_LOCK('tq_migrate')", NULL,
	    NULL)) != NULL)
		(void)stmt_rows(s, st, version_row, &got);
	return ret;
}
