/* store_submit.c: inserting tasks (keys, dependencies on parents) and
 * marking them queued once the broker has them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* ---- submit ---- */

int
uuid_zero(const struct uuid *u)
{
	static const struct uuid z;

	return memcmp(u, &z, sizeof(z)) == 0;
}

struct key_scan {
	struct uuid	id;
	int		found;
};

static int
key_row(void *arg, struct row *r)
{
	struct key_scan *ks = arg;

	if (r->len[0] == UUID_LEN) {
		memcpy(ks->id.b, r->col[0], UUID_LEN);
		ks->found = 1;
	}
	return 0;
}

/* For keyed tasks: which task holds the key now (ours, or an older live
 * one, whose id replaces ours). In the insert's transaction. */
static int
keyed_lookup(struct store *s, struct task_new *t, size_t n)
{
	struct key_scan ks;
	struct params p;
	MYSQL_STMT *st;
	size_t i;

	for (i = 0; i < n; i++) {
		t[i].existing = 0;
		if (t[i].unique_key == NULL)
			continue;
		if (params_init(&p, 2) == -1)
			return oom(s);
		p_str(&p, t[i].queue);
		p_str(&p, t[i].unique_key);
		memset(&ks, 0, sizeof(ks));
		st = stmt_run(s, "SELECT id FROM tasks WHERE active_key = "
		    "CONCAT(?, ':', ?)", &p, NULL);
		params_release(&p);
		if (st == NULL || stmt_rows(s, st, key_row, &ks) == -1)
			return -1;
		if (ks.found && uuid_cmp(&ks.id, &t[i].id) != 0) {
			t[i].id = ks.id;
			t[i].existing = 1;
		}
	}
	return 0;
}

/* ---- dependencies ---- */

struct dep_scan {
	int	found;
	int	state;
};

static int
dep_row(void *arg, struct row *r)
{
	struct dep_scan *ds = arg;

	ds->found = 1;
	ds->state = r->col[0] ? task_state_parse(r->col[0]) : -1;
	return 0;
}

/* A task that waits for parents: after its insert, in the same
 * transaction, with each parent locked so that it cannot finish unseen. */
static int
deps_attach(struct store *s, struct task_new *t)
{
	struct dep_scan ds;
	struct params p;
	MYSQL_STMT *st;
	char ptxt[UUID_STRLEN + 1], why[128] = "";
	unsigned waiting = 0;
	size_t i;

	if (params_init(&p, 4) == -1)
		return oom(s);
	for (i = 0; i < t->nafter; i++) {
		memset(&ds, 0, sizeof(ds));
		p.n = 0;
		p_id(&p, &t->after[i]);
		if ((st = stmt_run(s, "SELECT state FROM tasks WHERE id = ? "
		    "FOR UPDATE", &p, NULL)) == NULL ||
		    stmt_rows(s, st, dep_row, &ds) == -1)
			goto fail;
		uuid_fmt(&t->after[i], ptxt);
		if (!ds.found) {
			snprintf(s->err, sizeof(s->err), "--after: task %s: "
			    "no such task", ptxt);
			s->errnum = 0;
			s->err_temp = 0;
			goto fail;
		}
		if (ds.state == TS_SUCCEEDED)
			continue;
		if (ds.state == TS_FAILED || ds.state == TS_CANCELLED) {
			snprintf(why, sizeof(why), "parent %s %s", ptxt,
			    task_state_name((enum task_state)ds.state));
			break;
		}
		waiting++;
		p.n = 0;
		p_id(&p, &t->id);
		p_id(&p, &t->after[i]);
		if (stmt_run(s, "INSERT IGNORE INTO task_deps (child, parent) "
		    "VALUES (?, ?)", &p, NULL) == NULL)
			goto fail;
		p.n = 0;
		p_id(&p, &t->after[i]);
		if (stmt_run(s, "UPDATE tasks SET has_children = 1 WHERE id = ?",
		    &p, NULL) == NULL)
			goto fail;
	}
	p.n = 0;
	if (why[0] != '\0') {
		/* A parent already failed: the child ends at once. */
		p_str(&p, why);
		p_id(&p, &t->id);
		st = stmt_run(s, "UPDATE tasks SET state = 'cancelled', error = "
		    "?, due_at = NULL, finished_at = NOW(6) WHERE id = ?", &p,
		    NULL);
		t->held = 1;
	} else if (waiting > 0) {
		/* Scheduled with no due time: the last parent to succeed
		 * makes it due. */
		p_int(&p, waiting);
		p_id(&p, &t->id);
		st = stmt_run(s, "UPDATE tasks SET state = 'scheduled', "
		    "due_at = NULL, waiting = ? WHERE id = ?", &p, NULL);
		t->held = 1;
	} else
		st = (MYSQL_STMT *)1;
	params_release(&p);
	return st == NULL ? -1 : 0;
fail:
	params_release(&p);
	return -1;
}

/* A parent reached a terminal state: its waiting children become due
 * when it was their last, or end cancelled (and theirs, down the tree)
 * when it did not succeed. In the caller's transaction. */
int
deps_settle(struct store *s, const struct uuid *parent, enum task_state st,
    int depth)
{
	struct owned_scan os = { NULL, NULL, NULL, 0, 0, 0, 0, 0 };
	char ptxt[UUID_STRLEN + 1], why[128];
	struct params p;
	MYSQL_STMT *stmt;
	size_t i;
	int ret = -1;

	if (depth > 64)
		return 0;
	if (params_init(&p, 3) == -1)
		return oom(s);
	if (st == TS_SUCCEEDED) {
		p_id(&p, parent);
		if (stmt_run(s, "UPDATE tasks t JOIN task_deps d ON d.child = "
		    "t.id SET t.waiting = t.waiting - 1 WHERE d.parent = ? AND "
		    "t.state = 'scheduled' AND t.waiting > 0", &p, NULL) == NULL)
			goto done;
		if (stmt_run(s, "UPDATE tasks t JOIN task_deps d ON d.child = "
		    "t.id SET t.due_at = NOW(6) WHERE d.parent = ? AND "
		    "t.state = 'scheduled' AND t.waiting = 0 AND t.due_at IS "
		    "NULL", &p, NULL) == NULL)
			goto done;
		ret = 0;
		goto done;
	}
	/* The children that will end here, to follow down the tree. */
	p_id(&p, parent);
	if ((stmt = stmt_run(s, "SELECT t.id, t.fence FROM tasks t JOIN "
	    "task_deps d ON d.child = t.id WHERE d.parent = ? AND t.state = "
	    "'scheduled' AND t.due_at IS NULL AND t.has_children = 1", &p,
	    NULL)) == NULL || stmt_rows(s, stmt, owned_row, &os) == -1)
		goto done;
	uuid_fmt(parent, ptxt);
	snprintf(why, sizeof(why), "parent %s %s", ptxt, task_state_name(st));
	p.n = 0;
	p_str(&p, why);
	p_id(&p, parent);
	if (stmt_run(s, "UPDATE tasks t JOIN task_deps d ON d.child = t.id SET "
	    "t.state = 'cancelled', t.error = ?, t.due_at = NULL, "
	    "t.finished_at = NOW(6) WHERE d.parent = ? AND t.state = "
	    "'scheduled' AND t.due_at IS NULL", &p, NULL) == NULL)
		goto done;
	for (i = 0; i < os.n; i++)
		if (deps_settle(s, &os.ids[i], TS_CANCELLED, depth + 1) == -1)
			goto done;
	ret = 0;
done:
	free(os.ids);
	free(os.fences);
	params_release(&p);
	return ret;
}

static int
flag_row(void *arg, struct row *r)
{
	*(int *)arg = r->col[0] && r->col[0][0] == '1';
	return 0;
}

/* deps_settle for a task that has children. */
int
settle_if_parent(struct store *s, const struct uuid *id, enum task_state st)
{
	struct params p;
	MYSQL_STMT *stmt;
	int kids = 0;

	if (params_init(&p, 1) == -1)
		return oom(s);
	p_id(&p, id);
	stmt = stmt_run(s, "SELECT has_children FROM tasks WHERE id = ?", &p,
	    NULL);
	params_release(&p);
	if (stmt == NULL || stmt_rows(s, stmt, flag_row, &kids) == -1)
		return -1;
	return kids ? deps_settle(s, id, st, 0) : 0;
}

/* One multi-row INSERT for t[0..n). */
int
insert_chunk(struct store *s, struct task_new *t, size_t n,
    int64_t grace_ms, struct buf *sql)
{
	struct params p;
	size_t i;
	MYSQL_STMT *st;

	/* A live task holding a row's unique key keeps it: that row is not
	 * inserted (ids never collide, so the key is the only conflict). */
	if (placeholders(sql, "INSERT INTO tasks (id, queue, name, state, "
	    "payload, max_attempts, backoff_base_ms, backoff_cap_ms, "
	    "timeout_ms, priority, unique_key, limit_key, due_at) VALUES ",
	    "(?,?,?,IF(?>0,'scheduled','pending'),?,?,?,?,?,?,?,?,"
	    "NOW(6) + INTERVAL IF(? > 0, ?, ?) * 1000 MICROSECOND)", n,
	    " ON DUPLICATE KEY UPDATE id = id") == -1)
		return oom(s);
	if (params_init(&p, n * 15) == -1)
		return oom(s);
	for (i = 0; i < n; i++) {
		p_id(&p, &t[i].id);
		p_str(&p, t[i].queue);
		p_str(&p, t[i].name);
		p_int(&p, t[i].delay_ms);
		p_blob(&p, t[i].payload, t[i].len);
		p_int(&p, t[i].max_attempts);
		p_int(&p, t[i].backoff_base_ms);
		p_int(&p, t[i].backoff_cap_ms);
		p_int(&p, t[i].timeout_ms);
		p_int(&p, t[i].priority);
		p_str(&p, t[i].unique_key);
		p_str(&p, t[i].limit_key);
		/* due: the delay when there is one, else the grace before
		 * the reconciler publishes a pending row itself */
		p_int(&p, t[i].delay_ms);
		p_int(&p, t[i].delay_ms);
		p_int(&p, grace_ms);
	}
	st = stmt_run(s, sql->data, &p, NULL);
	params_release(&p);
	return st == NULL ? -1 : 0;
}

/* pending -> queued for marks[0..n), sorted, in the caller's transaction
 * (a deadlock rolls the whole of it back: no retry here). */
static int
mark_in_txn(struct store *s, const struct uuid *marks, size_t n,
    struct buf *sql)
{
	struct params p;
	size_t i, chunk;
	MYSQL_STMT *st;

	if (n == 0)
		return 0;
	if (params_init(&p, STORE_BATCH_MAX) == -1)
		return oom(s);
	for (i = 0; i < n; i += chunk) {
		chunk = n - i < STORE_BATCH_MAX ? n - i : STORE_BATCH_MAX;
		if (placeholders(sql, "UPDATE tasks SET state = 'queued' "
		    "WHERE id IN (", "?", bucket(chunk),
		    ") AND state = 'pending'") == -1) {
			params_release(&p);
			return oom(s);
		}
		p.n = 0;
		p_ids(&p, &marks[i], chunk);
		st = stmt_run(s, sql->data, &p, NULL);
		if (st == NULL) {
			params_release(&p);
			return -1;
		}
	}
	params_release(&p);
	return 0;
}

int
store_insert(struct store *s, struct task_new *t, size_t n, int64_t grace_ms)
{
	return store_insert_mark(s, t, n, grace_ms, NULL, 0);
}

int
store_insert_mark(struct store *s, struct task_new *t, size_t n,
    int64_t grace_ms, struct uuid *marks, size_t nmarks)
{
	struct buf sql = BUF_INIT;
	size_t i, j, bytes;
	int tries = 0, ret = -1;

	for (i = 0; i < n; i++)
		if (uuid_zero(&t[i].id) && uuid_v7(&t[i].id) == -1) {
			snprintf(s->err, sizeof(s->err), "getrandom failed");
			return -1;
		}
	if (nmarks > 0)
		qsort(marks, nmarks, sizeof(*marks), id_cmp);
again:
	if (txn_begin(s) == -1)
		goto done;
	/* The older rows first: keys in ascending order, like the claims. */
	if (mark_in_txn(s, marks, nmarks, &sql) == -1)
		goto fail;
	for (i = 0; i < n; i = j) {
		/* Chunks bounded in rows and bytes stay under
		 * max_allowed_packet. */
		bytes = 0;
		for (j = i; j < n && j - i < STORE_BATCH_MAX / 2 &&
		    (j == i || bytes + t[j].len < 4u * 1024 * 1024); j++)
			bytes += t[j].len;
		if (insert_chunk(s, t + i, j - i, grace_ms, &sql) == -1)
			goto fail;
	}
	for (i = 0; i < n; i++) {
		t[i].held = 0;
		if (t[i].nafter > 0 && deps_attach(s, &t[i]) == -1)
			goto fail;
	}
	if (keyed_lookup(s, t, n) == -1 || txn_commit(s) == -1)
		goto fail;
	ret = 0;
	goto done;
fail:
	txn_rollback(s);
	if (txn_again(s, &tries))
		goto again;
done:
	buf_release(&sql);
	return ret;
}

/* UPDATE ... WHERE id IN (ids) with a fixed head and condition tail. */
int
update_ids(struct store *s, const char *head, const char *tail,
    struct uuid *ids, size_t n, long long *pre, size_t npre)
{
	struct buf sql = BUF_INIT;
	struct params p;
	size_t i, k, chunk;
	int tries = 0, ret = -1;
	MYSQL_STMT *st;

	if (n == 0)
		return 0;
	qsort(ids, n, sizeof(*ids), id_cmp);
	if (params_init(&p, STORE_BATCH_MAX + npre) == -1)
		return oom(s);
	for (i = 0; i < n; i += chunk) {
		chunk = n - i < STORE_BATCH_MAX ? n - i : STORE_BATCH_MAX;
		if (placeholders(&sql, head, "?", bucket(chunk), tail) == -1) {
			oom(s);
			goto done;
		}
		p.n = 0;
		for (k = 0; k < npre; k++)
			p_int(&p, pre[k]);
		p_ids(&p, &ids[i], chunk);
		tries = 0;
		while ((st = stmt_run(s, sql.data, &p, NULL)) == NULL)
			if (!txn_again(s, &tries))
				goto done;
	}
	ret = 0;
done:
	params_release(&p);
	buf_release(&sql);
	return ret;
}

int
store_mark_queued(struct store *s, struct uuid *ids, size_t n)
{
	return update_ids(s, "UPDATE tasks SET state = 'queued' WHERE id IN (",
	    ") AND state = 'pending'", ids, n, NULL, 0);
}

int
store_mark_published(struct store *s, struct uuid *ids, size_t n)
{
	return update_ids(s, "UPDATE tasks SET state = 'queued' WHERE id IN (",
	    ") AND state IN ('pending', 'scheduled') AND due_at <= NOW(6)",
	    ids, n, NULL, 0);
}
