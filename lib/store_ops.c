/* store_ops.c: operator actions: cancel, retry, the failed list, and
 * retention (pruning finished rows). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "store_sql.h"

/* ---- operator actions ---- */

int
store_cancel(struct store *s, const struct uuid *id, const char *reason,
    enum task_state *state)
{
	struct params p;
	unsigned long long n = 0;
	MYSQL_STMT *st;
	int tries = 0, ret = -1, found;

	if (params_init(&p, 2) == -1)
		return oom(s);
again:
	if (txn_begin(s) == -1)
		goto done;
	p.n = 0;
	p_str(&p, reason);
	p_id(&p, id);
	if (stmt_run(s, "UPDATE tasks SET state = 'cancelled', error = ?, "
	    "due_at = NULL, finished_at = NOW(6) WHERE id = ? AND state IN "
	    "('pending', 'queued', 'scheduled')", &p, &n) == NULL)
		goto fail;
	if (n == 0) {
		/* Running: its holder is asked; it ends cancelled. */
		p.n = 0;
		p_id(&p, id);
		if (stmt_run(s, "UPDATE tasks SET cancel_requested = 1 "
		    "WHERE id = ? AND state = 'running'", &p, NULL) == NULL)
			goto fail;
		p.n = 0;
		p_id(&p, id);
		if ((st = stmt_run(s, "SELECT state FROM tasks WHERE id = ?",
		    &p, NULL)) == NULL || (found = stmt_rows(s, st, state_row,
		    state)) == -1)
			goto fail;
	} else {
		*state = TS_CANCELLED;
		found = 1;
		if (settle_if_parent(s, id, TS_CANCELLED) == -1 ||
		    rollup_one(s, id, "cancelled") == -1)
			goto fail;
	}
	if (txn_commit(s) == -1)
		goto fail;
	ret = found > 0;
	goto done;
fail:
	txn_rollback(s);
	if (txn_again(s, &tries))
		goto again;
done:
	params_release(&p);
	return ret;
}

int
store_cancel_asked(struct store *s, const char *const *owners, size_t n,
    struct uuid **ids, uint64_t **fences, char (**owner)[129])
{
	struct owned_scan as = { NULL, NULL, NULL, 0, 0, 1, 0, 0 };
	struct buf sql = BUF_INIT;
	struct params p;
	MYSQL_STMT *st;
	size_t i;
	int ret = -1;

	*ids = NULL;
	*fences = NULL;
	*owner = NULL;
	if (n == 0)
		return 0;
	if (params_init(&p, n) == -1)
		return oom(s);
	if (placeholders(&sql, SQL_CANCEL_ASKED, "?", n, ")") == -1) {
		oom(s);
		goto done;
	}
	for (i = 0; i < n; i++)
		p_str(&p, owners[i]);
	if ((st = stmt_run(s, sql.data, &p, NULL)) == NULL ||
	    stmt_rows(s, st, owned_row, &as) == -1) {
		free(as.ids);
		free(as.fences);
		free(as.owners);
		goto done;
	}
	*ids = as.ids;
	*fences = as.fences;
	*owner = as.owners;
	ret = (int)as.n;
done:
	params_release(&p);
	buf_release(&sql);
	return ret;
}

/* One task's conditional UPDATE (sql has its id as the one parameter):
 * 1 when it changed the row, 0 when the condition did not hold, -1. */
static int
update_task(struct store *s, const char *sql, const struct uuid *id)
{
	struct params p;
	unsigned long long n = 0;
	MYSQL_STMT *st;

	if (params_init(&p, 1) == -1)
		return oom(s);
	p_id(&p, id);
	st = stmt_run(s, sql, &p, &n);
	params_release(&p);
	if (st == NULL)
		return -1;
	return n == 1;
}

int
store_retry(struct store *s, const struct uuid *id)
{
	/* The fence moves on: nothing of the old runs can land. */
	return update_task(s, "UPDATE tasks SET state = 'scheduled', "
	    "attempts = 0, error = NULL, result = NULL, progress = 0, "
	    "progress_msg = NULL, cancel_requested = 0, fence = fence + 1, "
	    "finished_at = NULL, due_at = NOW(6) WHERE id = ? AND "
	    "state = 'failed'", id);
}

struct ids_scan {
	struct uuid	*ids;
	size_t		 n, max;
};

static int
id_row(void *arg, struct row *r)
{
	struct ids_scan *is = arg;

	if (is->n < is->max && r->len[0] == UUID_LEN)
		memcpy(is->ids[is->n++].b, r->col[0], UUID_LEN);
	return 0;
}

int
store_run_now(struct store *s, const struct uuid *id)
{
	/* Only its due time moves: the leader publishes it as any due row,
	 * and the claim fences it as ever. */
	return update_task(s, "UPDATE tasks SET due_at = NOW(6) WHERE id = ? "
	    "AND state = 'scheduled' AND waiting = 0 AND due_at IS NOT NULL",
	    id);
}

int
store_retry_or_run(struct store *s, const struct uuid *id)
{
	int rc;

	if ((rc = store_retry(s, id)) != 0)
		return rc;
	if ((rc = store_run_now(s, id)) == 1)
		return 2;
	return rc;
}

int
store_scheduled(struct store *s, const char *queue, size_t max,
    struct uuid **ids)
{
	struct ids_scan is = { NULL, 0, max };
	struct params p;
	MYSQL_STMT *st;

	*ids = NULL;
	if ((is.ids = calloc(max ? max : 1, sizeof(*is.ids))) == NULL ||
	    params_init(&p, 3) == -1) {
		free(is.ids);
		return oom(s);
	}
	p_str(&p, queue ? queue : "");
	p_str(&p, queue ? queue : "");
	p_int(&p, (long long)max);
	if ((st = stmt_run(s, SQL_SCHEDULED_IDS, &p, NULL)) == NULL ||
	    stmt_rows(s, st, id_row, &is) == -1) {
		params_release(&p);
		free(is.ids);
		return -1;
	}
	params_release(&p);
	*ids = is.ids;
	return (int)is.n;
}

struct failed_scan {
	struct uuid	*ids;
	int64_t		*at;
	size_t		 n, max;
};

static int
failed_row(void *arg, struct row *r)
{
	struct failed_scan *fs = arg;
	uint64_t v;

	if (fs->n >= fs->max || r->len[0] != UUID_LEN)
		return 0;
	memcpy(fs->ids[fs->n].b, r->col[0], UUID_LEN);
	fs->at[fs->n++] = u64_of(r->col[1], &v) == 0 ? (int64_t)v : 0;
	return 0;
}

/* The newest failures of one queue (a backward range of the index),
 * merged into fs: the newest max of all. */
static int
failed_queue(struct store *s, const char *queue, size_t max,
    struct failed_scan *fs)
{
	struct failed_scan one;
	struct params p;
	MYSQL_STMT *st;
	size_t i, k;
	int ret = -1;

	one.ids = calloc(max, sizeof(*one.ids));
	one.at = calloc(max, sizeof(*one.at));
	one.n = 0;
	one.max = max;
	if (one.ids == NULL || one.at == NULL || params_init(&p, 2) == -1) {
		free(one.ids);
		free(one.at);
		return oom(s);
	}
	p_str(&p, queue);
	p_int(&p, (long long)max);
	if ((st = stmt_run(s, SQL_FAILED_QUEUE, &p, NULL)) == NULL ||
	    stmt_rows(s, st, failed_row, &one) == -1)
		goto done;
	for (i = 0; i < one.n; i++) {
		/* Insertion into fs, newest first, at most max. */
		for (k = fs->n; k > 0 && fs->at[k - 1] < one.at[i]; k--)
			;
		if (k >= max)
			continue;
		if (fs->n == max)
			fs->n--;
		memmove(&fs->ids[k + 1], &fs->ids[k], (fs->n - k) *
		    sizeof(*fs->ids));
		memmove(&fs->at[k + 1], &fs->at[k], (fs->n - k) *
		    sizeof(*fs->at));
		fs->ids[k] = one.ids[i];
		fs->at[k] = one.at[i];
		fs->n++;
	}
	ret = 0;
done:
	params_release(&p);
	free(one.ids);
	free(one.at);
	return ret;
}

int
store_failed(struct store *s, const char *queue, size_t max,
    struct uuid **ids)
{
	struct done_queue *dq = NULL;
	struct failed_scan fs;
	int n, i, ret = -1;

	*ids = NULL;
	fs.ids = calloc(max ? max : 1, sizeof(*fs.ids));
	fs.at = calloc(max ? max : 1, sizeof(*fs.at));
	fs.n = 0;
	fs.max = max;
	if (fs.ids == NULL || fs.at == NULL) {
		free(fs.ids);
		free(fs.at);
		return oom(s);
	}
	if (max == 0) {
		ret = 0;
		goto done;
	}
	/* Per queue, so that each is a range in finishing order. */
	if (queue != NULL)
		n = failed_queue(s, queue, max, &fs);
	else if ((n = store_done_queues(s, &dq)) != -1)
		for (i = 0; i < n; i++)
			if (dq[i].state == TS_FAILED &&
			    failed_queue(s, dq[i].queue, max, &fs) == -1) {
				n = -1;
				break;
			}
	if (n == -1)
		goto done;
	ret = (int)fs.n;
done:
	free(dq);
	free(fs.at);
	if (ret == -1)
		free(fs.ids);
	else
		*ids = fs.ids;
	return ret;
}

struct done_scan {
	struct done_queue *q;
	size_t		 n, cap;
};

static int
done_row(void *arg, struct row *r)
{
	struct done_scan *ds = arg;
	struct done_queue *d;
	int st;

	if (r->col[0] == NULL || r->col[1] == NULL ||
	    (st = task_state_parse(r->col[0])) < 0)
		return 0;
	if (scan_grow(&ds->q, &ds->cap, ds->n, sizeof(*ds->q)) == -1)
		return -1;
	d = &ds->q[ds->n++];
	d->state = (enum task_state)st;
	copy_col(d->queue, sizeof(d->queue), r->col[1]);
	d->oldest = r->col[2] ? (int64_t)(strtod(r->col[2], NULL) * 1000) : 0;
	return 0;
}

int
store_done_queues(struct store *s, struct done_queue **out)
{
	struct done_scan ds = { NULL, 0, 0 };
	MYSQL_STMT *st;

	*out = NULL;
	/* Prepared afresh each time: MariaDB 10.11 runs a cached statement's
	 * loose index scan as a scan of every finished row once other
	 * statements ran on the connection (measured: 11 rows read when
	 * fresh, 300,000 of 300,000 when reused). Once a second, a prepare
	 * costs nothing. */
	stmt_forget(s, SQL_DONE_QUEUES);
	st = stmt_run(s, SQL_DONE_QUEUES, NULL, NULL);
	if (st == NULL || stmt_rows(s, st, done_row, &ds) == -1) {
		free(ds.q);
		return -1;
	}
	*out = ds.q;
	return (int)ds.n;
}

struct expired_scan {
	struct uuid	*ids;
	size_t		 n, max;
	size_t		 parents;	/* rows with has_children */
};

/* Parents first: ids[0..parents) are those with children. */
static int
expired_row(void *arg, struct row *r)
{
	struct expired_scan *es = arg;

	if (es->n >= es->max || r->len[0] != UUID_LEN)
		return 0;
	memcpy(es->ids[es->n].b, r->col[0], UUID_LEN);
	if (r->col[1] && r->col[1][0] == '1') {
		struct uuid t = es->ids[es->parents];

		es->ids[es->parents++] = es->ids[es->n];
		es->ids[es->n] = t;
	}
	es->n++;
	return 0;
}

/* Drops from es the parents that a child still waits for (kept). */
static int
keep_waited_for(struct store *s, struct expired_scan *es, struct buf *sql,
    struct params *p)
{
	struct uuid *kept;
	struct ids_scan ks;
	MYSQL_STMT *st;
	size_t i, k;

	if (es->parents == 0)
		return 0;
	if ((kept = calloc(es->parents, sizeof(*kept))) == NULL)
		return oom(s);
	ks.ids = kept;
	ks.n = 0;
	ks.max = es->parents;
	if (placeholders(sql, SQL_WAITED_FOR, "?", bucket(es->parents), ")") ==
	    -1) {
		free(kept);
		return oom(s);
	}
	p->n = 0;
	p_ids(p, es->ids, es->parents);
	if ((st = stmt_run(s, sql->data, p, NULL)) == NULL ||
	    stmt_rows(s, st, id_row, &ks) == -1) {
		free(kept);
		return -1;
	}
	for (i = 0; i < ks.n; i++)
		for (k = 0; k < es->n; k++)
			if (uuid_cmp(&es->ids[k], &kept[i]) == 0) {
				es->ids[k] = es->ids[--es->n];
				break;
			}
	free(kept);
	return 0;
}

/* The rows that go with deleted tasks, in the caller's transaction. */
static int
prune_txn(struct store *s, enum task_state state, const char *queue,
    int64_t older_ms, size_t max, struct uuid *ids, size_t *n)
{
	static const char *const heads[] = {
		"DELETE FROM task_runs WHERE task_id IN (",
		"DELETE FROM task_deps WHERE child IN (",
		"DELETE FROM task_deps WHERE parent IN (",
		"DELETE FROM tq_cron_ticks WHERE task_id IN (",
		"DELETE FROM tasks WHERE id IN (",
	};
	struct expired_scan es = { ids, 0, max, 0 };
	struct buf sql = BUF_INIT;
	struct params p;
	MYSQL_STMT *st;
	size_t h;
	int ret = -1;

	*n = 0;
	if (params_init(&p, max > 4 ? max : 4) == -1)
		return oom(s);
	/* Locked, so that an operator's retry cannot slip in between. */
	p_str(&p, task_state_name(state));
	p_str(&p, queue);
	p_int(&p, older_ms);
	p_int(&p, (long long)max);
	if ((st = stmt_run(s, SQL_EXPIRED, &p, NULL)) == NULL ||
	    stmt_rows(s, st, expired_row, &es) == -1 ||
	    keep_waited_for(s, &es, &sql, &p) == -1)
		goto done;
	*n = es.n;
	if (es.n == 0) {
		ret = 0;
		goto done;
	}
	qsort(ids, es.n, sizeof(*ids), id_cmp);
	for (h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
		if (placeholders(&sql, heads[h], "?", bucket(es.n), ")") ==
		    -1) {
			oom(s);
			goto done;
		}
		p.n = 0;
		p_ids(&p, ids, es.n);
		if (stmt_run(s, sql.data, &p, NULL) == NULL)
			goto done;
	}
	ret = 0;
done:
	params_release(&p);
	buf_release(&sql);
	return ret;
}

int
store_prune(struct store *s, enum task_state state, const char *queue,
    int64_t older_ms, size_t max)
{
	struct uuid *ids;
	size_t n = 0;
	int tries = 0, ret = -1;

	/* Only terminal states: never a task that may still run. */
	if (!task_state_terminal(state)) {
		snprintf(s->err, sizeof(s->err), "purge: \"%s\" is not a "
		    "terminal state", task_state_name(state));
		s->err_temp = 0;
		return -1;
	}
	if (max == 0)
		return 0;
	if (max > STORE_BATCH_MAX)
		max = STORE_BATCH_MAX;
	if ((ids = calloc(max, sizeof(*ids))) == NULL)
		return oom(s);
again:
	n = 0;
	if (txn_begin(s) == -1)
		goto done;
	if (prune_txn(s, state, queue, older_ms, max, ids, &n) == -1 ||
	    txn_commit(s) == -1) {
		txn_rollback(s);
		if (txn_again(s, &tries))
			goto again;
		goto done;
	}
	ret = (int)n;
done:
	free(ids);
	return ret;
}
