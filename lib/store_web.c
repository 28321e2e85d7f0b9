/* store_web.c: what tq web reads: nodes, the leader, running tasks, pages
 * of the task list, a task's attempts and dependencies, cron ticks. Every
 * statement is a key lookup, a small table, an index range over the states
 * that are not terminal, or an index range cut by LIMIT (see the SQL_WEB_
 * texts in store_sql.h, each checked by tests/tools/explain). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "store_sql.h"

void
store_table_free(struct store_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n * t->ncol; i++)
		free(t->cell[i]);
	free(t->cell);
	t->cell = NULL;
	t->n = t->cap = 0;
}

const char *
store_cell(const struct store_table *t, size_t i, unsigned j)
{
	if (i >= t->n || j >= t->ncol)
		return NULL;
	return t->cell[i * t->ncol + j];
}

/* A row scanner into a store_table: columns whose bit is set in ids hold
 * a 16-byte id, kept as its text. */
struct table_scan {
	struct store_table	*t;
	unsigned		 ids;
};

static int
table_row(void *arg, struct row *r)
{
	struct table_scan *ts = arg;
	struct store_table *t = ts->t;
	size_t i;
	unsigned j;
	char **c;

	if (t->ncol == 0)
		t->ncol = r->n;
	if (r->n != t->ncol)
		return 0;
	if (scan_grow(&t->cell, &t->cap, t->n, t->ncol * sizeof(*t->cell)) ==
	    -1)
		return -1;
	c = &t->cell[t->n * t->ncol];
	for (j = 0; j < t->ncol; j++) {
		c[j] = NULL;
		if (r->col[j] == NULL)
			continue;
		if ((ts->ids & (1u << j)) && r->len[j] == UUID_LEN) {
			struct uuid id;

			memcpy(id.b, r->col[j], UUID_LEN);
			if ((c[j] = malloc(UUID_STRLEN + 1)) != NULL)
				uuid_fmt(&id, c[j]);
		} else {
			/* A column is its text, NUL-terminated by stmt_rows:
			 * take it over. */
			c[j] = r->col[j];
			r->col[j] = NULL;
		}
		if (c[j] == NULL) {
			for (i = 0; i < j; i++)
				free(c[i]);
			return -1;
		}
	}
	t->n++;
	return 0;
}

/* Runs sql with p (may be NULL) into t. Rows or -1. */
static int
table_run(struct store *s, const char *sql, struct params *p, unsigned ids,
    struct store_table *t)
{
	struct table_scan ts = { t, ids };
	MYSQL_STMT *st;

	if ((st = stmt_run(s, sql, p, NULL)) == NULL)
		return -1;
	if (stmt_rows(s, st, table_row, &ts) == -1) {
		store_table_free(t);
		return -1;
	}
	return (int)t->n;
}

int
store_web_nodes(struct store *s, struct store_table *t)
{
	return table_run(s, SQL_WEB_NODES, NULL, 0, t);
}

int
store_web_leader(struct store *s, struct store_table *t)
{
	return table_run(s, SQL_WEB_LEADER, NULL, 0, t);
}

int
store_web_running(struct store *s, size_t max, struct store_table *t)
{
	struct params p;
	int n;

	if (params_init(&p, 1) == -1)
		return oom(s);
	p_int(&p, (long long)max);
	n = table_run(s, SQL_WEB_RUNNING, &p, 1u << 1, t);
	params_release(&p);
	return n;
}

int
store_web_recent(struct store *s, const char *queue, size_t max,
    struct store_table *t)
{
	struct params p;
	int n;

	if (params_init(&p, 2) == -1)
		return oom(s);
	p_str(&p, queue);
	p_int(&p, (long long)max);
	n = table_run(s, SQL_WEB_RECENT, &p, 0, t);
	params_release(&p);
	return n;
}

/* One id's rows of sql (a key lookup), the columns in ids as ids. */
static int
table_by_id(struct store *s, const char *sql, const struct uuid *id,
    unsigned ids, struct store_table *t)
{
	struct params p;
	int n;

	if (params_init(&p, 1) == -1)
		return oom(s);
	p_id(&p, id);
	n = table_run(s, sql, &p, ids, t);
	params_release(&p);
	return n;
}

int
store_web_runs(struct store *s, const struct uuid *id, struct store_table *t)
{
	return table_by_id(s, SQL_WEB_RUNS, id, 0, t);
}

int
store_web_deps(struct store *s, const struct uuid *id,
    struct store_table *parents, struct store_table *children)
{
	if (table_by_id(s, SQL_WEB_PARENTS, id, 1u, parents) == -1)
		return -1;
	if (table_by_id(s, SQL_WEB_CHILDREN, id, 1u, children) == -1) {
		store_table_free(parents);
		return -1;
	}
	return 0;
}

int
store_web_cron_of(struct store *s, const struct uuid *id,
    struct store_table *t)
{
	return table_by_id(s, SQL_WEB_CRON_OF, id, 0, t);
}

int
store_web_cron_ticks(struct store *s, const char *name, size_t max,
    struct store_table *t)
{
	struct params p;
	int n;

	if (params_init(&p, 2) == -1)
		return oom(s);
	p_str(&p, name);
	p_int(&p, (long long)max);
	n = table_run(s, SQL_WEB_CRON_TICKS, &p, 1u << 1, t);
	params_release(&p);
	return n;
}

/* ---- the task list ---- */

/* Column numbers of WEB_TASK_COLS. */
enum { TC_ID, TC_QUEUE, TC_NAME, TC_STATE, TC_AT = 12, TC_NCOL };

/* A place in the list: newest first by (at, id) where at is a finishing
 * time (one terminal state), else by id alone (at ""). */
struct wkey {
	char		at[27];		/* "YYYY-mm-dd HH:MM:SS.ffffff" */
	struct uuid	id;
};

static const char key_top_at[] = "9999-12-31 23:59:59.999999";

/* The cursor "ID" or "AT/ID"; "" is the top. 0, or -1 when malformed. */
static int
wkey_parse(const char *c, int by_at, struct wkey *k)
{
	const char *slash;
	size_t n;

	memset(k, 0, sizeof(*k));
	if (c == NULL || *c == '\0') {
		memset(k->id.b, 0xff, UUID_LEN);
		if (by_at)
			strlcpy(k->at, key_top_at, sizeof(k->at));
		return 0;
	}
	if ((slash = strchr(c, '/')) != NULL) {
		n = (size_t)(slash - c);
		if (!by_at || n != sizeof(k->at) - 1)
			return -1;
		memcpy(k->at, c, n);
		k->at[n] = '\0';
		/* digits and separators only: it goes in as a parameter, but
		 * a wrong one must not page silently from somewhere else */
		if (strspn(k->at, "0123456789-:. ") != n)
			return -1;
		c = slash + 1;
	} else if (by_at)
		return -1;
	return uuid_parse(c, &k->id);
}

static void
wkey_fmt(const struct wkey *k, char out[STORE_WEB_CURSOR])
{
	char id[UUID_STRLEN + 1];

	uuid_fmt(&k->id, id);
	if (k->at[0])
		snprintf(out, STORE_WEB_CURSOR, "%s/%s", k->at, id);
	else
		snprintf(out, STORE_WEB_CURSOR, "%s", id);
}

/* Newer first: > 0 when a comes after b in the list. */
static int
wkey_cmp(const struct wkey *a, const struct wkey *b)
{
	int c = strcmp(b->at, a->at);

	return c ? c : memcmp(b->id.b, a->id.b, UUID_LEN);
}

static int
row_key(const struct store_table *t, size_t i, int by_at, struct wkey *k)
{
	const char *id = store_cell(t, i, TC_ID), *at = store_cell(t, i, TC_AT);

	memset(k, 0, sizeof(*k));
	if (by_at)
		strlcpy(k->at, at ? at : "", sizeof(k->at));
	return id ? uuid_parse(id, &k->id) : -1;
}

static int
bad_cursor(struct store *s)
{
	s->errnum = 0;
	s->err_temp = 0;
	snprintf(s->err, sizeof(s->err), "bad cursor");
	return -1;
}

/* The rows of one range, up to max, appended to all. *last gets the key
 * of the last row read when max rows came (the range goes on), and *full
 * says so. */
static int
tasks_range(struct store *s, const struct web_filter *f, const char *queue,
    const struct wkey *from, size_t max, struct store_table *all,
    struct wkey *last, int *full)
{
	struct store_table t = STORE_TABLE_INIT;
	struct params p;
	const char *sql;
	char **c;
	size_t i;
	int n;

	*full = 0;
	if (params_init(&p, 8) == -1)
		return oom(s);
	if (f->state < 0) {
		sql = SQL_WEB_TASKS_ANY;
		p_id(&p, &from->id);
	} else if (!task_state_terminal((enum task_state)f->state)) {
		sql = SQL_WEB_TASKS_LIVE;
		p_str(&p, task_state_name((enum task_state)f->state));
		p_id(&p, &from->id);
		p_str(&p, f->queue);
		p_str(&p, f->queue);
		p_str(&p, f->name);
		p_str(&p, f->name);
	} else {
		sql = SQL_WEB_TASKS_DONE;
		p_str(&p, task_state_name((enum task_state)f->state));
		p_str(&p, queue);
		p_str(&p, from->at);
		p_str(&p, from->at);
		p_id(&p, &from->id);
	}
	p_int(&p, (long long)max);
	n = table_run(s, sql, &p, 1u << TC_ID, &t);
	params_release(&p);
	if (n == -1)
		return -1;
	*full = (size_t)n == max;
	if (*full && row_key(&t, t.n - 1, f->state >= 0 &&
	    task_state_terminal((enum task_state)f->state), last) == -1)
		*full = 0;
	/* Append the rows that pass what the index could not filter. */
	if (all->ncol == 0)
		all->ncol = TC_NCOL;
	for (i = 0; i < t.n; i++) {
		const char *q = store_cell(&t, i, TC_QUEUE),
		    *nm = store_cell(&t, i, TC_NAME);

		c = &t.cell[i * TC_NCOL];
		if ((f->queue[0] && (q == NULL || strcmp(q, f->queue))) ||
		    (f->name[0] && (nm == NULL || strcmp(nm, f->name))))
			continue;
		if (scan_grow(&all->cell, &all->cap, all->n,
		    TC_NCOL * sizeof(*all->cell)) == -1) {
			store_table_free(&t);
			return oom(s);
		}
		memcpy(&all->cell[all->n * TC_NCOL], c, TC_NCOL * sizeof(*c));
		memset(c, 0, TC_NCOL * sizeof(*c));
		all->n++;
	}
	store_table_free(&t);
	return 0;
}

/* Sorting the merged rows of several queues: newest first. */
static int sort_by_at;

static int
row_cmp(const void *a, const void *b)
{
	char *const *ra = a, *const *rb = b;
	int c = 0;

	if (sort_by_at)
		c = strcmp(rb[TC_AT] ? rb[TC_AT] : "", ra[TC_AT] ? ra[TC_AT] : "");
	return c ? c : strcmp(rb[TC_ID] ? rb[TC_ID] : "",
	    ra[TC_ID] ? ra[TC_ID] : "");
}

int
store_web_tasks(struct store *s, const struct web_filter *f,
    struct store_table *out, char next[STORE_WEB_CURSOR])
{
	struct done_queue *dq = NULL;
	struct wkey from, last, bound;
	int by_at, full = 0, have_bound = 0, nq = 1, i, ret = -1;
	size_t max, keep, j;

	next[0] = '\0';
	memset(out, 0, sizeof(*out));
	by_at = f->state >= 0 && task_state_terminal((enum task_state)f->state);
	if (wkey_parse(f->cursor, by_at, &from) == -1)
		return bad_cursor(s);
	/* Where the index serves every filter, a page is limit rows; else
	 * a window of the range is read and filtered. */
	if (f->state < 0)
		max = f->queue[0] || f->name[0] ? STORE_WEB_WINDOW : f->limit;
	else if (!by_at)
		max = f->limit;
	else
		max = f->name[0] ? STORE_WEB_WINDOW : f->limit;
	/* A terminal state over every queue: one range per queue (the
	 * queues from a loose index scan), merged. */
	if (by_at && !f->queue[0] && (nq = store_done_queues(s, &dq)) == -1)
		return -1;
	for (i = 0; i < nq; i++) {
		const char *q = f->queue;

		if (dq != NULL) {
			if ((int)dq[i].state != f->state)
				continue;
			q = dq[i].queue;
		}
		if (tasks_range(s, f, q, &from, max, out, &last, &full) == -1)
			goto done;
		/* Past the last row of a range that goes on, the merge does
		 * not know that range's rows: the page ends there. */
		if (full && (!have_bound || wkey_cmp(&last, &bound) < 0)) {
			bound = last;
			have_bound = 1;
		}
	}
	sort_by_at = by_at;
	if (out->n > 1)
		qsort(out->cell, out->n, TC_NCOL * sizeof(*out->cell), row_cmp);
	keep = 0;
	for (j = 0; j < out->n && keep < f->limit; j++) {
		struct wkey k;

		if (row_key(out, j, by_at, &k) == -1)
			continue;
		if (have_bound && wkey_cmp(&k, &bound) > 0)
			break;
		keep = j + 1;
		last = k;
	}
	if (keep == f->limit && keep > 0)
		wkey_fmt(&last, next);
	else if (have_bound)
		wkey_fmt(&bound, next);
	for (j = keep * TC_NCOL; j < out->n * TC_NCOL; j++) {
		free(out->cell[j]);
		out->cell[j] = NULL;
	}
	out->n = keep;
	ret = (int)keep;
done:
	free(dq);
	if (ret == -1)
		store_table_free(out);
	return ret;
}
