/* store_rollup.c: the counts of finished tasks (tq_rollup), by the hour,
 * kept as tasks finish so that nobody counts history, and what the
 * retention windows hold of them (tq_window). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "store_sql.h"

/* ---- counts of finished tasks ---- */

/* Counts one task that ended off the workers' path (cancelled, rejected,
 * released as failed) in tq_rollup, in the caller's transaction. */
int
rollup_one(struct store *s, const struct uuid *id, const char *outcome)
{
	struct params p;
	MYSQL_STMT *st;

	if (params_init(&p, 2) == -1)
		return oom(s);
	p_str(&p, outcome);
	p_id(&p, id);
	st = stmt_run(s, "INSERT INTO tq_rollup (hour, queue, name, outcome, "
	    "n, run_us) SELECT DATE_FORMAT(NOW(), '%Y-%m-%d %H:00:00'), queue, "
	    "name, ?, 1, 0 FROM tasks WHERE id = ? "
	    "ON DUPLICATE KEY UPDATE n = n + 1", &p, NULL);
	params_release(&p);
	return st == NULL ? -1 : 0;
}

static const char *const rollup_names[RO_COUNT] = { "succeeded", "failed",
	"retried", "cancelled" };

const char *
rollup_outcome_name(enum rollup_outcome o)
{
	return (unsigned)o < RO_COUNT ? rollup_names[o] : "?";
}

static int
rollup_cmp(const void *a, const void *b)
{
	const struct rollup_row *x = a, *y = b;
	int c;

	if ((c = strcmp(x->queue, y->queue)) != 0)
		return c;
	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return (int)x->outcome - (int)y->outcome;
}

int
store_rollup_add(struct store *s, struct rollup_row *r, size_t n)
{
	struct buf sql = BUF_INIT;
	struct params p;
	size_t i;
	int tries = 0, ret = -1;

	if (n == 0)
		return 0;
	if (n > STORE_BATCH_MAX)
		n = STORE_BATCH_MAX;
	/* Keys in one order: two nodes' flushes cannot deadlock. */
	qsort(r, n, sizeof(*r), rollup_cmp);
	if (params_init(&p, n * 5) == -1)
		return oom(s);
	if (placeholders(&sql, "INSERT INTO tq_rollup (hour, queue, name, "
	    "outcome, n, run_us) VALUES ", "(DATE_FORMAT(NOW(), "
	    "'%Y-%m-%d %H:00:00'),?,?,?,?,?)", n, " ON DUPLICATE KEY UPDATE "
	    "n = n + VALUES(n), run_us = run_us + VALUES(run_us)") == -1) {
		oom(s);
		goto done;
	}
	for (i = 0; i < n; i++) {
		p_str(&p, r[i].queue);
		p_str(&p, r[i].name);
		p_str(&p, rollup_outcome_name(r[i].outcome));
		p_int(&p, (long long)r[i].n);
		p_int(&p, (long long)r[i].run_us);
	}
	while (stmt_run(s, sql.data, &p, NULL) == NULL)
		if (!txn_again(s, &tries))
			goto done;
	ret = 0;
done:
	params_release(&p);
	buf_release(&sql);
	return ret;
}

struct rollup_scan {
	struct rollup_row *rows;
	size_t		 n, cap;
};

static int
rollup_row(void *arg, struct row *r)
{
	struct rollup_scan *rs = arg;
	struct rollup_row *x;
	uint64_t v;
	int o;

	if (r->col[0] == NULL || r->col[1] == NULL)
		return 0;
	for (o = 0; o < RO_COUNT; o++)
		if (strcmp(r->col[1], rollup_names[o]) == 0)
			break;
	if (o == RO_COUNT)
		return 0;
	if (scan_grow(&rs->rows, &rs->cap, rs->n, sizeof(*rs->rows)) == -1)
		return -1;
	x = &rs->rows[rs->n++];
	memset(x, 0, sizeof(*x));
	copy_col(x->queue, sizeof(x->queue), r->col[0]);
	x->outcome = (enum rollup_outcome)o;
	x->hour = u64_of(r->col[2], &v) == 0 ? (int64_t)v : 0;
	x->n = u64_of(r->col[3], &v) == 0 ? v : 0;
	return 0;
}

int
store_rollup_since(struct store *s, int64_t since, struct rollup_row **out)
{
	struct rollup_scan rs = { NULL, 0, 0 };
	struct params p;
	MYSQL_STMT *st;

	*out = NULL;
	if (params_init(&p, 1) == -1)
		return oom(s);
	p_int(&p, since < 0 ? 0 : since);
	st = stmt_run(s, SQL_ROLLUP_SINCE, &p, NULL);
	params_release(&p);
	if (st == NULL || stmt_rows(s, st, rollup_row, &rs) == -1) {
		free(rs.rows);
		return -1;
	}
	*out = rs.rows;
	return (int)rs.n;
}

int
store_rollup_prune(struct store *s, int64_t older_ms)
{
	struct params p;
	MYSQL_STMT *st;

	if (params_init(&p, 1) == -1)
		return oom(s);
	p_int(&p, older_ms);
	st = stmt_run(s, "DELETE FROM tq_rollup WHERE hour < NOW() - "
	    "INTERVAL ? * 1000 MICROSECOND LIMIT 5000", &p, NULL);
	params_release(&p);
	return st == NULL ? -1 : 0;
}

/* ---- retention windows' counts ---- */

struct mark {
	int	set;
	int64_t	v;
};

static int
mark_row(void *arg, struct row *r)
{
	struct mark *m = arg;
	uint64_t v;

	if (u64_of(r->col[0], &v) == 0) {
		m->set = 1;
		m->v = (int64_t)v;
	}
	return 0;
}

static int
window_closed(struct store *s, const char *sql, struct mark *m)
{
	MYSQL_STMT *st;

	m->set = 0;
	m->v = 0;
	if ((st = stmt_run(s, sql, NULL, NULL)) == NULL ||
	    stmt_rows(s, st, mark_row, m) == -1)
		return -1;
	return 0;
}

int
store_window_close(struct store *s, int64_t upto, int64_t *closed)
{
	struct params p;
	struct mark m;
	int tries = 0, ret;

again:
	if (params_init(&p, 3) == -1)
		return oom(s);
	/* The mark's row lock makes two leaders' closings one after the
	 * other: the second finds nothing to do. */
	if (txn_begin(s) == -1 ||
	    window_closed(s, SQL_WINDOW_CLOSED " FOR UPDATE", &m) == -1)
		goto fail;
	if (m.set && m.v >= upto) {
		*closed = m.v;
		ret = 0;
		txn_rollback(s);
		goto done;
	}
	/* A row new to tq_window holds these hours only: its old edge is
	 * the last mark. */
	p_int(&p, m.v);
	p_int(&p, m.v);
	p_int(&p, upto);
	if (stmt_run(s, SQL_WINDOW_ADD, &p, NULL) == NULL)
		goto fail;
	params_release(&p);
	if (params_init(&p, 1) == -1) {
		txn_rollback(s);
		return oom(s);
	}
	p_int(&p, upto);
	if (stmt_run(s, "UPDATE tq_window_closed SET closed = FROM_UNIXTIME(?) "
	    "WHERE id = 1", &p, NULL) == NULL || txn_commit(s) == -1)
		goto fail;
	*closed = upto;
	ret = 1;
done:
	params_release(&p);
	return ret;
fail:
	params_release(&p);
	txn_rollback(s);
	if (txn_again(s, &tries))
		goto again;
	return -1;
}

int
store_window_rows(struct store *s, struct rollup_row **out)
{
	struct rollup_scan rs = { NULL, 0, 0 };
	MYSQL_STMT *st;

	*out = NULL;
	st = stmt_run(s, SQL_WINDOW_ROWS, NULL, NULL);
	if (st == NULL || stmt_rows(s, st, rollup_row, &rs) == -1) {
		free(rs.rows);
		return -1;
	}
	*out = rs.rows;
	return (int)rs.n;
}

int
store_window_move(struct store *s, const char *queue, enum rollup_outcome o,
    int64_t from, int64_t to)
{
	struct params p;
	MYSQL_STMT *st;

	if (from == to)
		return 0;
	if (params_init(&p, 9) == -1)
		return oom(s);
	/* Forward: the hours that left the window go; back (a window grew):
	 * those that are in it again come back. */
	p_int(&p, to > from ? -1 : 1);
	p_int(&p, to > from ? from : to);
	p_int(&p, to > from ? to : from);
	p_str(&p, queue);
	p_str(&p, rollup_outcome_name(o));
	p_int(&p, to);
	p_str(&p, queue);
	p_str(&p, rollup_outcome_name(o));
	p_int(&p, from);
	st = stmt_run(s, SQL_WINDOW_MOVE, &p, NULL);
	params_release(&p);
	return st == NULL ? -1 : 0;
}

int
store_window_snapshot(struct store *s, int64_t since, struct rollup_row **w,
    struct rollup_row **open, int *nopen)
{
	struct rollup_scan ws = { NULL, 0, 0 }, os = { NULL, 0, 0 };
	struct params p;
	struct mark m;
	MYSQL_STMT *st;

	*w = *open = NULL;
	*nopen = 0;
	/* One snapshot: a closing between the reads would count its hours
	 * twice or not at all. */
	if (q(s, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY") ==
	    -1 || window_closed(s, SQL_WINDOW_CLOSED, &m) == -1)
		goto fail;
	if (m.set) {
		st = stmt_run(s, SQL_WINDOW_ROWS, NULL, NULL);
		if (st == NULL || stmt_rows(s, st, rollup_row, &ws) == -1)
			goto fail;
		since = m.v + 3600;
	}
	if (params_init(&p, 1) == -1) {
		oom(s);
		goto fail;
	}
	p_int(&p, since < 0 ? 0 : since);
	st = stmt_run(s, SQL_ROLLUP_SINCE, &p, NULL);
	params_release(&p);
	if (st == NULL || stmt_rows(s, st, rollup_row, &os) == -1 ||
	    txn_commit(s) == -1)
		goto fail;
	*w = ws.rows;
	*open = os.rows;
	*nopen = (int)os.n;
	return (int)ws.n;
fail:
	txn_rollback(s);
	free(ws.rows);
	free(os.rows);
	return -1;
}
