/* store_cron.c: periodic tasks: the schedules and their ticks, each tick
 * enqueued once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "store_sql.h"

/* ---- periodic tasks ---- */

void
cron_rows_free(struct cron_row *r, size_t n)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < n; i++)
		free(r[i].payload);
	free(r);
}

int
store_cron_put(struct store *s, const struct cron_row *r)
{
	struct params p;
	MYSQL_STMT *st;

	if (params_init(&p, 6) == -1)
		return oom(s);
	p_str(&p, r->name);
	p_str(&p, r->spec);
	p_str(&p, r->queue);
	p_str(&p, r->task);
	p_blob(&p, r->payload, r->len);
	p_int(&p, r->next_tick);
	st = stmt_run(s, "REPLACE INTO tq_cron (name, spec, queue, task, "
	    "payload, next_tick) VALUES (?, ?, ?, ?, ?, FROM_UNIXTIME(?))", &p,
	    NULL);
	params_release(&p);
	return st == NULL ? -1 : 0;
}

int
store_cron_sync(struct store *s, const struct cron_row *r)
{
	struct params p;
	MYSQL_STMT *st;

	if (params_init(&p, 6) == -1)
		return oom(s);
	p_str(&p, r->name);
	p_str(&p, r->spec);
	p_str(&p, r->queue);
	p_str(&p, r->task);
	p_blob(&p, r->payload, r->len);
	p_int(&p, r->next_tick);
	/* next_tick first: it must compare against the old spec. */
	st = stmt_run(s, "INSERT INTO tq_cron (name, spec, queue, task, "
	    "payload, next_tick) VALUES (?, ?, ?, ?, ?, FROM_UNIXTIME(?)) "
	    "ON DUPLICATE KEY UPDATE next_tick = IF(spec <=> VALUES(spec), "
	    "next_tick, VALUES(next_tick)), spec = VALUES(spec), "
	    "queue = VALUES(queue), task = VALUES(task), "
	    "payload = VALUES(payload)", &p, NULL);
	params_release(&p);
	return st == NULL ? -1 : 0;
}

int
store_cron_del(struct store *s, const char *name)
{
	struct params p;
	unsigned long long n = 0;
	MYSQL_STMT *st;

	if (params_init(&p, 1) == -1)
		return oom(s);
	p_str(&p, name);
	st = stmt_run(s, "DELETE FROM tq_cron WHERE name = ?", &p, &n);
	params_release(&p);
	return st == NULL ? -1 : n > 0;
}

struct cron_scan {
	struct cron_row	*rows;
	size_t		 n, cap;
};

static int
cron_row_fill(void *arg, struct row *r)
{
	struct cron_scan *cs = arg;
	struct cron_row *c;
	uint64_t v;

	if (scan_grow(&cs->rows, &cs->cap, cs->n, sizeof(*cs->rows)) == -1)
		return -1;
	c = &cs->rows[cs->n];
	memset(c, 0, sizeof(*c));
	copy_col(c->name, sizeof(c->name), r->col[0]);
	copy_col(c->spec, sizeof(c->spec), r->col[1]);
	copy_col(c->queue, sizeof(c->queue), r->col[2]);
	copy_col(c->task, sizeof(c->task), r->col[3]);
	c->payload = r->col[4];
	c->len = r->col[4] ? r->len[4] : 0;
	r->col[4] = NULL;
	c->next_tick = u64_of(r->col[5], &v) == 0 ? (int64_t)v : 0;
	cs->n++;
	return 0;
}

int
store_cron_list(struct store *s, int due_only, struct cron_row **out)
{
	struct cron_scan cs = { NULL, 0, 0 };
	MYSQL_STMT *st;

	*out = NULL;
	st = stmt_run(s, due_only ? SQL_CRON_DUE :
	    "SELECT name, spec, queue, task, payload, "
	    "UNIX_TIMESTAMP(next_tick) DIV 1 FROM tq_cron ORDER BY name", NULL,
	    NULL);
	if (st == NULL || stmt_rows(s, st, cron_row_fill, &cs) == -1) {
		cron_rows_free(cs.rows, cs.n);
		return -1;
	}
	*out = cs.rows;
	return (int)cs.n;
}

int
store_cron_fire(struct store *s, const struct cron_row *r, int64_t tick,
    int64_t next, struct task_new *t)
{
	struct buf sql = BUF_INIT;
	struct params p;
	unsigned long long n = 0;
	int tries = 0, ret = -1;

	if (uuid_zero(&t->id) && uuid_v7(&t->id) == -1)
		return -1;
	if (params_init(&p, 4) == -1)
		return oom(s);
again:
	if (txn_begin(s) == -1)
		goto done;
	/* The tick's row is the idempotency key: a second leader, or a
	 * retry after an unseen commit, inserts nothing. */
	p.n = 0;
	p_str(&p, r->name);
	p_int(&p, tick);
	p_id(&p, &t->id);
	if (stmt_run(s, "INSERT IGNORE INTO tq_cron_ticks (name, tick, "
	    "task_id) VALUES (?, FROM_UNIXTIME(?), ?)", &p, &n) == NULL)
		goto fail;
	if (n == 1 && insert_chunk(s, t, 1, 0, &sql) == -1)
		goto fail;
	p.n = 0;
	p_int(&p, next);
	p_str(&p, r->name);
	p_int(&p, next);
	if (stmt_run(s, "UPDATE tq_cron SET next_tick = FROM_UNIXTIME(?) "
	    "WHERE name = ? AND next_tick < FROM_UNIXTIME(?)", &p, NULL) ==
	    NULL)
		goto fail;
	if (txn_commit(s) == -1)
		goto fail;
	ret = n == 1;
	goto done;
fail:
	txn_rollback(s);
	if (txn_again(s, &tries))
		goto again;
done:
	params_release(&p);
	buf_release(&sql);
	return ret;
}
