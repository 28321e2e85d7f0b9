/* store_rollup.c: the counts of finished tasks (tq_rollup), by the hour,
 * kept as tasks finish so that nobody counts history. */
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
