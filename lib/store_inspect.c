/* store_inspect.c: reading tasks (tq show, live counts), what tq doctor
 * looks at, and the plans of the statements that run on a timer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "store_sql.h"

/* ---- inspection ---- */

void
task_row_release(struct task_row *t)
{
	free(t->payload);
	free(t->result);
	free(t->error);
	t->payload = t->result = NULL;
	t->error = NULL;
}

static int
task_row_fill(void *arg, struct row *r)
{
	struct task_row *t = arg;
	int st;

	if (r->len[0] != UUID_LEN)
		return 0;
	memcpy(t->id.b, r->col[0], UUID_LEN);
	copy_col(t->queue, sizeof(t->queue), r->col[1]);
	copy_col(t->name, sizeof(t->name), r->col[2]);
	st = r->col[3] ? task_state_parse(r->col[3]) : -1;
	t->state = st < 0 ? TS_FAILED : (enum task_state)st;
	t->attempts = uns_of(r->col[4]);
	t->max_attempts = uns_of(r->col[5]);
	t->progress = uns_of(r->col[6]);
	copy_col(t->progress_msg, sizeof(t->progress_msg), r->col[7]);
	(void)u64_of(r->col[8], &t->fence);
	copy_col(t->owner, sizeof(t->owner), r->col[9]);
	copy_col(t->created_at, sizeof(t->created_at), r->col[10]);
	copy_col(t->updated_at, sizeof(t->updated_at), r->col[11]);
	copy_col(t->started_at, sizeof(t->started_at), r->col[12]);
	copy_col(t->finished_at, sizeof(t->finished_at), r->col[13]);
	copy_col(t->due_at, sizeof(t->due_at), r->col[14]);
	t->payload = r->col[15];
	t->payload_len = r->len[15];
	r->col[15] = NULL;
	t->result = r->col[16];
	t->result_len = t->result ? r->len[16] : 0;
	r->col[16] = NULL;
	t->error = r->col[17];
	r->col[17] = NULL;
	return 0;
}

#define TS_FMT(c) "DATE_FORMAT(" c ", '%Y-%m-%dT%H:%i:%s.%fZ')"

int
store_get(struct store *s, const struct uuid *id, struct task_row *t)
{
	struct params p;
	MYSQL_STMT *st;
	int n;

	memset(t, 0, sizeof(*t));
	if (params_init(&p, 1) == -1)
		return oom(s);
	p_id(&p, id);
	st = stmt_run(s, "SELECT id, queue, name, state, attempts, "
	    "max_attempts, progress, progress_msg, fence, owner, "
	    TS_FMT("created_at") ", " TS_FMT("updated_at") ", "
	    TS_FMT("started_at") ", " TS_FMT("finished_at") ", "
	    TS_FMT("due_at") ", payload, result, error "
	    "FROM tasks WHERE id = ?", &p, NULL);
	params_release(&p);
	if (st == NULL || (n = stmt_rows(s, st, task_row_fill, t)) == -1) {
		task_row_release(t);
		return -1;
	}
	return n > 0;
}

struct peek {
	enum task_state	*state;
	unsigned	*pct;
	char		*msg;
	size_t		 msgsz;
};

static int
peek_row(void *arg, struct row *r)
{
	struct peek *pk = arg;
	int st = r->col[0] ? task_state_parse(r->col[0]) : -1;

	if (st >= 0)
		*pk->state = (enum task_state)st;
	*pk->pct = uns_of(r->col[1]);
	copy_col(pk->msg, pk->msgsz, r->col[2]);
	return 0;
}

int
store_peek(struct store *s, const struct uuid *id, enum task_state *state,
    unsigned *pct, char *msg, size_t msgsz)
{
	struct peek pk = { state, pct, msg, msgsz };
	struct params p;
	MYSQL_STMT *st;
	int n;

	if (params_init(&p, 1) == -1)
		return oom(s);
	p_id(&p, id);
	st = stmt_run(s, "SELECT state, progress, progress_msg FROM tasks "
	    "WHERE id = ?", &p, NULL);
	params_release(&p);
	if (st == NULL || (n = stmt_rows(s, st, peek_row, &pk)) == -1)
		return -1;
	return n > 0;
}

int
store_state(struct store *s, const struct uuid *id, enum task_state *state)
{
	struct params p;
	MYSQL_STMT *st;
	int n;

	if (params_init(&p, 1) == -1)
		return oom(s);
	p_id(&p, id);
	st = stmt_run(s, "SELECT state FROM tasks WHERE id = ?", &p, NULL);
	params_release(&p);
	if (st == NULL || (n = stmt_rows(s, st, state_row, state)) == -1)
		return -1;
	return n > 0;
}

struct stat_scan {
	struct stat_row	*rows;
	size_t		 n, cap;
};

static int
stat_row(void *arg, struct row *r)
{
	struct stat_scan *ss = arg;
	struct stat_row *sr = NULL;
	size_t i;
	int st;

	if (r->col[0] == NULL || r->col[1] == NULL)
		return 0;
	for (i = 0; i < ss->n; i++)
		if (strcmp(ss->rows[i].queue, r->col[0]) == 0)
			sr = &ss->rows[i];
	if (sr == NULL) {
		if (scan_grow(&ss->rows, &ss->cap, ss->n,
		    sizeof(*ss->rows)) == -1)
			return -1;
		sr = &ss->rows[ss->n++];
		memset(sr, 0, sizeof(*sr));
		strlcpy(sr->queue, r->col[0], sizeof(sr->queue));
	}
	if ((st = task_state_parse(r->col[1])) >= 0)
		sr->count[st] = uns_of(r->col[2]);
	return 0;
}

int
store_live(struct store *s, struct stat_row **out)
{
	struct stat_scan ss = { NULL, 0, 0 };
	MYSQL_STMT *st;

	*out = NULL;
	st = stmt_run(s, SQL_LIVE, NULL, NULL);
	if (st == NULL || stmt_rows(s, st, stat_row, &ss) == -1) {
		free(ss.rows);
		return -1;
	}
	*out = ss.rows;
	return (int)ss.n;
}

/* ---- doctor ---- */

static int
facts_vars(void *arg, struct row *r)
{
	struct server_facts *f = arg;
	uint64_t v;

	copy_col(f->version, sizeof(f->version), r->col[0]);
	f->flush_at_commit = (int)uns_of(r->col[1]);
	f->sync_binlog = (int)uns_of(r->col[2]);
	f->log_bin = r->col[3] && r->col[3][0] == '1';
	f->max_packet = u64_of(r->col[4], &v) == 0 ? (long long)v : 0;
	return 0;
}

static int
facts_tq(void *arg, struct row *r)
{
	struct server_facts *f = arg;
	uint64_t v;

	f->leader_live = r->col[0] && r->col[0][0] == '1';
	copy_col(f->leader, sizeof(f->leader), r->col[1]);
	f->nodes_live = (int)uns_of(r->col[2]);
	f->nodes_dead = (int)uns_of(r->col[3]);
	f->pending_old = u64_of(r->col[4], &v) == 0 ? (long long)v : 0;
	f->queued_old = u64_of(r->col[5], &v) == 0 ? (long long)v : 0;
	return 0;
}

int
store_facts(struct store *s, int64_t grace_ms, int64_t stranded_ms,
    int64_t node_timeout_ms, struct server_facts *f)
{
	struct params p;
	MYSQL_STMT *st;

	memset(f, 0, sizeof(*f));
	if ((st = stmt_run(s, "SELECT @@version, "
	    "@@innodb_flush_log_at_trx_commit, @@sync_binlog, @@log_bin, "
	    "@@max_allowed_packet", NULL, NULL)) == NULL ||
	    stmt_rows(s, st, facts_vars, f) == -1)
		return -1;
	if (params_init(&p, 4) == -1)
		return oom(s);
	p_int(&p, node_timeout_ms);
	p_int(&p, node_timeout_ms);
	p_int(&p, grace_ms);
	p_int(&p, stranded_ms);
	st = stmt_run(s, "SELECT "
	    "(SELECT COUNT(*) FROM tq_leader WHERE name = 'reconciler' AND "
	    " expires_at > NOW(6)), "
	    "(SELECT holder FROM tq_leader WHERE name = 'reconciler'), "
	    "(SELECT COUNT(*) FROM tq_nodes WHERE seen_at >= NOW(6) - "
	    " INTERVAL ? * 1000 MICROSECOND), "
	    "(SELECT COUNT(*) FROM tq_nodes WHERE seen_at < NOW(6) - "
	    " INTERVAL ? * 1000 MICROSECOND), "
	    "(SELECT COUNT(*) FROM tasks WHERE state = 'pending' AND "
	    " due_at < NOW(6) - INTERVAL ? * 1000 MICROSECOND), "
	    "(SELECT COUNT(*) FROM tasks WHERE state = 'queued' AND "
	    " due_at < NOW(6) - INTERVAL ? * 1000 MICROSECOND)", &p, NULL);
	params_release(&p);
	if (st == NULL || stmt_rows(s, st, facts_tq, f) == -1)
		return -1;
	return 0;
}

/* ---- plans ---- */

const struct store_sql store_timed[] = {
	{ "reconciler: due", SQL_DUE, "ii" },
	{ "reconciler: stranded queues", SQL_STRANDED_QUEUES, "i" },
	{ "reconciler: stranded", SQL_STRANDED, "isi" },
	{ "reconciler: expired leases", SQL_EXPIRED_LEASES, "i" },
	{ "reconciler: dead node's tasks", SQL_OWNED_NODE, "s" },
	{ "supervisor: dead worker's tasks", SQL_OWNED, "s" },
	{ "supervisor: renew leases", SQL_RENEW_OWNERS "?)", "is" },
	{ "worker: renew leases", SQL_RENEW "(?,?))", "ibi" },
	{ "supervisor: cancel requests", SQL_CANCEL_ASKED "?)", "s" },
	{ "reconciler: dead nodes", SQL_DEAD_NODES, "i" },
	{ "supervisor: node beat", SQL_NODE_BEAT, "sss" },
	{ "reconciler: cron", SQL_CRON_DUE, "" },
	{ "leader, tq stats, tq top: live counts", SQL_LIVE, "" },
	{ "tq stats, tq top: finished counts", SQL_ROLLUP_SINCE, "i" },
	{ "tq stats, leader: windows closed", SQL_WINDOW_CLOSED, "" },
	{ "tq stats, leader: windows", SQL_WINDOW_ROWS, "" },
	{ "leader: a window's old edge", SQL_WINDOW_MOVE,
	    "iiisiisii" },
	{ "leader: hours closed", SQL_WINDOW_ADD, "iii" },
	{ "retention: queues", SQL_DONE_QUEUES, "" },
	{ "retention: expired", SQL_EXPIRED, "Ssii" },
	{ "retention: parents waited for", SQL_WAITED_FOR "?)", "b" },
	{ "tq top: latest failures", SQL_FAILED_QUEUE, "si" },
	{ "claim: a limit key's running tasks", SQL_LIMIT_RUNNING "?"
	    SQL_LIMIT_RUNNING_TAIL, "s" },
	{ "finish: a limit key's oldest waiters", SQL_LIMIT_WAITERS, "si" },
	{ "claim: a limit key's row, locked", SQL_LIMIT_KEYS_LOCK "?"
	    SQL_LIMIT_KEYS_LOCK_TAIL, "s" },
	{ "tq stats, tq limit list, metrics: limits' live tasks",
	    SQL_LIMIT_LIVE, "" },
	{ "tq stats, metrics: paused queues", SQL_PAUSED_LIST, "" },
	{ "tq web: scheduled tasks, soonest", SQL_SCHEDULED_IDS, "ssi" },
	{ "worker: a lone task's run finished", SQL_RUNS_DONE_ONE, "bi" },
	{ "worker: runs finished", SQL_RUNS_DONE "(?,?),(?,?))", "bibi" },
	{ "tq web: tasks, newest", SQL_WEB_TASKS_ANY, "Bi" },
	{ "tq web: tasks of a live state", SQL_WEB_TASKS_LIVE, "LBssssi" },
	{ "tq web: tasks of a state and queue", SQL_WEB_TASKS_DONE,
	    "SsTTBi" },
	{ "tq web: nodes", SQL_WEB_NODES, "" },
	{ "tq web: a queue's latest finished", SQL_WEB_RECENT, "si" },
	{ "tq web: leader", SQL_WEB_LEADER, "" },
	{ "tq web: running tasks", SQL_WEB_RUNNING, "i" },
	{ "tq web: a task's runs", SQL_WEB_RUNS, "b" },
	{ "tq web: a task's parents", SQL_WEB_PARENTS, "b" },
	{ "tq web: a task's children", SQL_WEB_CHILDREN, "b" },
	{ "tq web: a task's cron tick", SQL_WEB_CRON_OF, "b" },
	{ "tq web: a schedule's ticks", SQL_WEB_CRON_TICKS, "si" },
	{ NULL, NULL, NULL },
};

static int
plan_row(void *arg, struct row *r)
{
	struct buf *b = arg;

	/* id select_type table type possible_keys key key_len ref rows
	 * r_rows filtered r_filtered Extra */
	if (r->n < 13)
		return 0;
	return buf_printf(b, "%s %s %s %s %s %s\n", r->col[2] ? r->col[2] :
	    "-", r->col[3] ? r->col[3] : "-", r->col[5] ? r->col[5] : "-",
	    r->col[8] ? r->col[8] : "-", r->col[9] ? r->col[9] : "-",
	    r->col[12] ? r->col[12] : "-") == -1 ? -1 : 0;
}

int
store_explain(struct store *s, const char *sql, const char *params,
    struct buf *out)
{
	static const struct uuid zero;
	struct uuid top;
	struct buf q = BUF_INIT;
	struct params p;
	MYSQL_STMT *st;
	size_t i;
	int ret = -1;

	if (params_init(&p, strlen(params)) == -1)
		return oom(s);
	memset(top.b, 0xff, sizeof(top.b));
	/* ANALYZE runs it: r_rows are the rows each step really read. */
	if (buf_printf(&q, "ANALYZE %s", sql) == -1) {
		oom(s);
		goto done;
	}
	for (i = 0; params[i]; i++)
		switch (params[i]) {
		case 'i':
			p_int(&p, 1000);
			break;
		case 'b':
			p_id(&p, &zero);
			break;
		case 'B':	/* the top of a list paged down by id */
			p_id(&p, &top);
			break;
		case 'S':
			p_str(&p, "succeeded");
			break;
		case 'L':
			p_str(&p, "queued");
			break;
		case 'T':
			p_str(&p, "9999-12-31 23:59:59.999999");
			break;
		default:
			p_str(&p, "default");
			break;
		}
	/* What store_done_queues prepares afresh, explained afresh. */
	if (strcmp(sql, SQL_DONE_QUEUES) == 0)
		stmt_forget(s, q.data);
	if ((st = stmt_run(s, q.data, &p, NULL)) == NULL ||
	    stmt_rows(s, st, plan_row, out) == -1)
		goto done;
	ret = 0;
done:
	params_release(&p);
	buf_release(&q);
	return ret;
}
