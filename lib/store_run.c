/* store_run.c: a worker's side of a task's row: the claim, the finish (in
 * one transaction with the next claim), progress and leases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "store_sql.h"

int store_debug_nofence;

/* ---- claim ---- */

struct claim_scan {
	struct claim	*c;
	size_t		 n;
	const char	*owner;
};

static int
claim_row(void *arg, struct row *r)
{
	struct claim_scan *cs = arg;
	struct claim key, *c;
	int st;

	/* id, state, fence, attempts, max_attempts, base, cap, timeout,
	 * owner, due, wait, limit_key, limit_wait, paused */
	if (r->len[0] != UUID_LEN)
		return 0;
	memset(&key, 0, sizeof(key));
	memcpy(key.id.b, r->col[0], UUID_LEN);
	c = bsearch(&key, cs->c, cs->n, sizeof(*c), id_cmp);
	if (c == NULL)
		return 0;
	st = task_state_parse(r->col[1]);
	c->state = st < 0 ? TS_SUCCEEDED : (enum task_state)st;
	(void)u64_of(r->col[2], &c->fence);
	c->attempt = uns_of(r->col[3]);
	c->max_attempts = uns_of(r->col[4]);
	c->backoff_base_ms = uns_of(r->col[5]);
	c->backoff_cap_ms = uns_of(r->col[6]);
	c->timeout_ms = uns_of(r->col[7]);
	c->wait_us = r->n > 10 && r->col[10] ? strtoll(r->col[10], NULL, 10) :
	    -1;
	copy_col(c->limit_key, sizeof(c->limit_key), r->col[11]);
	c->limit_wait = uns_of(r->col[12]);
	c->paused = r->col[13] && r->col[13][0] == '1';
	switch (c->state) {
	case TS_PENDING:
	case TS_QUEUED:
		c->result = c->paused ? CLAIM_PAUSED : CLAIM_OK;
		break;
	case TS_SCHEDULED:
		c->result = r->col[9] && r->col[9][0] == '1' ? c->paused ?
		    CLAIM_PAUSED : CLAIM_OK : CLAIM_NOT_DUE;
		break;
	case TS_RUNNING:
		/* Our own claim, committed but unseen (a lost connection
		 * during COMMIT): keep it instead of waiting for the lease. */
		if (r->col[8] && strcmp(r->col[8], cs->owner) == 0) {
			c->result = CLAIM_OK;
			c->state = TS_RUNNING;
			return 0;
		}
		c->result = CLAIM_BUSY;
		break;
	default:
		c->result = CLAIM_DONE;
		break;
	}
	return 0;
}

/* The claim's statements, in the caller's transaction; c sorted, fresh
 * has room for n ids. */
static int
claim_txn(struct store *s, const char *owner, int64_t lease_ms,
    struct claim *c, size_t n, struct uuid *fresh, struct buf *sql,
    struct params *p)
{
	struct claim_scan cs;
	size_t i, k;
	MYSQL_STMT *st;

	for (i = 0; i < n; i++)
		c[i].result = CLAIM_NOROW;
	/* Rows locked in key order: batches from several workers then
	 * cannot deadlock on each other (the producer's update too). */
	if (placeholders(sql, "SELECT id, state, fence, attempts, "
	    "max_attempts, backoff_base_ms, backoff_cap_ms, timeout_ms, owner, "
	    "due_at <= NOW(6), TIMESTAMPDIFF(MICROSECOND, created_at, NOW(6)), "
	    "limit_key, limit_wait, EXISTS (SELECT 1 FROM tq_paused p WHERE "
	    "p.queue = tasks.queue) FROM tasks WHERE id IN (", "?", bucket(n),
	    ") ORDER BY id FOR UPDATE") == -1)
		return oom(s);
	p->n = 0;
	for (i = 0; i < bucket(n); i++)
		p_id(p, &c[i < n ? i : n - 1].id);
	cs.c = c;
	cs.n = n;
	cs.owner = owner;
	if ((st = stmt_run(s, sql->data, p, NULL)) == NULL ||
	    stmt_rows(s, st, claim_row, &cs) == -1 ||
	    limit_claim(s, c, n, sql, p) == -1)
		return -1;
	/* Fresh claims (not the ones already ours). */
	k = 0;
	for (i = 0; i < n; i++)
		if (c[i].result == CLAIM_OK && c[i].state != TS_RUNNING)
			fresh[k++] = c[i].id;
	if (k == 0)
		return 0;
	p->n = 0;
	p_str(p, owner);
	p_int(p, lease_ms);
	p_ids(p, fresh, k);
	if (placeholders(sql, "UPDATE tasks SET state = 'running', "
	    "fence = fence + 1, attempts = attempts + 1, owner = ?, "
	    "limit_wait = 0, "
	    "due_at = NOW(6) + INTERVAL ? * 1000 MICROSECOND, "
	    "started_at = NOW(6), finished_at = NULL WHERE id IN (",
	    "?", bucket(k), ")") == -1)
		return oom(s);
	if (stmt_run(s, sql->data, p, NULL) == NULL)
		return -1;
	/* One run row per claim, from the rows just updated (ours, locked). */
	if (placeholders(sql, "INSERT INTO task_runs (task_id, fence, "
	    "attempt, owner, outcome, started_at) SELECT id, fence, "
	    "attempts, owner, 'running', started_at FROM tasks "
	    "WHERE id IN (", "?", bucket(k), ")") == -1)
		return oom(s);
	p->n = 0;
	p_ids(p, fresh, k);
	return stmt_run(s, sql->data, p, NULL) == NULL ? -1 : 0;
}

/* After the commit: the fresh claims' fence and attempt. */
static void
claim_done(struct claim *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i].result == CLAIM_OK && c[i].state != TS_RUNNING) {
			c[i].fence++;
			c[i].attempt++;
		}
}

int
store_claim(struct store *s, const char *owner, int64_t lease_ms,
    struct claim *c, size_t n)
{
	return store_finish_claim(s, NULL, 0, owner, lease_ms, c, n);
}

/* ---- finish ---- */

static int
fence_row(void *arg, struct row *r)
{
	struct finish *f = arg;
	uint64_t fence;
	int st;

	/* A retried finish after an unseen commit: the fence is still ours
	 * and the row has left running, so it was us. */
	if (u64_of(r->col[1], &fence) == 0 && fence == f->fence &&
	    (st = task_state_parse(r->col[0])) >= 0 && st != TS_RUNNING) {
		f->applied = 1;
		f->state = (enum task_state)st;
	}
	return 0;
}

static int
finish_one(struct store *s, struct finish *f, struct params *p)
{
	unsigned long long n;
	const char *outcome;
	int64_t delay = 0;
	MYSQL_STMT *st;

	f->applied = 0;
	p->n = 0;
	switch (f->outcome) {
	case FIN_SUCCEEDED:
		f->state = TS_SUCCEEDED;
		outcome = "succeeded";
		p_blob(p, f->result, f->result_len);
		p_id(p, &f->id);
		p_int(p, (long long)f->fence);
		st = stmt_run(s, store_debug_nofence ?
		    "UPDATE tasks SET state = 'succeeded', "
		    "result = ?, error = NULL, progress = 100, owner = NULL, "
		    "due_at = NULL, finished_at = NOW(6) "
		    "WHERE id = ? AND (fence = ? OR 1)" :
		    "UPDATE tasks SET state = 'succeeded', "
		    "result = ?, error = NULL, progress = 100, owner = NULL, "
		    "due_at = NULL, finished_at = NOW(6) "
		    "WHERE id = ? AND fence = ? AND state = 'running'", p, &n);
		break;
	case FIN_CANCELLED:
		f->state = TS_CANCELLED;
		outcome = "cancelled";
		p_str(p, f->error ? f->error : "cancelled");
		p_id(p, &f->id);
		p_int(p, (long long)f->fence);
		st = stmt_run(s, "UPDATE tasks SET state = 'cancelled', "
		    "error = ?, owner = NULL, due_at = NULL, "
		    "finished_at = NOW(6) "
		    "WHERE id = ? AND fence = ? AND state = 'running'", p, &n);
		break;
	default:
		outcome = "failed";
		if (f->attempt < f->max_attempts) {
			f->state = TS_SCHEDULED;
			delay = backoff_ms(f->backoff_base_ms,
			    f->backoff_cap_ms ? f->backoff_cap_ms :
			    f->backoff_base_ms, f->attempt - 1);
		} else
			f->state = TS_FAILED;
		p_str(p, task_state_name(f->state));
		p_str(p, f->error ? f->error : "failed");
		p_int(p, f->state == TS_FAILED);
		p_int(p, delay);
		p_id(p, &f->id);
		p_int(p, (long long)f->fence);
		st = stmt_run(s, "UPDATE tasks SET state = ?, error = ?, "
		    "owner = NULL, finished_at = IF(?, NOW(6), NULL), "
		    "due_at = NOW(6) + INTERVAL ? * 1000 MICROSECOND "
		    "WHERE id = ? AND fence = ? AND state = 'running'", p, &n);
		break;
	}
	if (st == NULL)
		return -1;
	if (n == 1)
		f->applied = 1;
	else {
		p->n = 0;
		p_id(p, &f->id);
		if ((st = stmt_run(s, "SELECT state, fence FROM tasks "
		    "WHERE id = ?", p, NULL)) == NULL ||
		    stmt_rows(s, st, fence_row, f) == -1)
			return -1;
		if (!f->applied)
			return 0;
	}
	p->n = 0;
	p_str(p, outcome);
	p_str(p, f->outcome == FIN_SUCCEEDED ? NULL : f->error);
	p_id(p, &f->id);
	p_int(p, (long long)f->fence);
	if (stmt_run(s, "UPDATE task_runs SET outcome = ?, error = ?, "
	    "finished_at = NOW(6) WHERE task_id = ? AND fence = ?", p,
	    NULL) == NULL)
		return -1;
	return 0;
}

static int
finish_cmp(const void *a, const void *b)
{
	return uuid_cmp(&((const struct finish *)a)->id,
	    &((const struct finish *)b)->id);
}

struct fin_scan {
	struct finish	*f;
	size_t		 n;
	signed char	*seen;		/* 1 still ours, 2 ours and done */
	signed char	*kids;		/* has children waiting on it */
	char		(*keys)[TASK_LIMIT_KEY_MAX + 1];	/* limit_key */
};

static int
fin_row(void *arg, struct row *r)
{
	struct fin_scan *fs = arg;
	struct finish key, *f;
	uint64_t fence;
	int st;

	if (r->len[0] != UUID_LEN)
		return 0;
	memset(&key, 0, sizeof(key));
	memcpy(key.id.b, r->col[0], UUID_LEN);
	if ((f = bsearch(&key, fs->f, fs->n, sizeof(*f), finish_cmp)) == NULL)
		return 0;
	st = r->col[1] ? task_state_parse(r->col[1]) : -1;
	if (u64_of(r->col[2], &fence) == -1 || st < 0)
		return 0;
	fs->kids[f - fs->f] = r->col[4] && r->col[4][0] == '1';
	copy_col(fs->keys[f - fs->f], sizeof(fs->keys[0]), r->col[5]);
	if (store_debug_nofence || (st == TS_RUNNING && fence == f->fence)) {
		fs->seen[f - fs->f] = 1;
		/* Asked to stop: a failure is a cancellation, not retried. */
		if (f->outcome == FIN_FAILED && r->col[3] && r->col[3][0] == '1')
			f->outcome = FIN_CANCELLED;
	}
	else if (fence == f->fence) {
		/* A retried finish after an unseen commit: the fence is
		 * still ours and the row has left running, so it was us. */
		fs->seen[f - fs->f] = 2;
		f->state = (enum task_state)st;
	}
	return 0;
}

/* All the successes of a round in three statements, whatever their
 * number: the rows are locked and checked already. */
static int
finish_successes(struct store *s, struct finish *f, size_t n,
    const signed char *seen, struct buf *sql, struct params *p)
{
	size_t i, j, k = 0, kb;

	for (i = 0; i < n; i++)
		k += seen[i] == 1 && f[i].outcome == FIN_SUCCEEDED;
	if (k == 0)
		return 0;
	/* Padded to bucket(k) with the last success repeated. */
	kb = bucket(k);
	buf_reset(sql);
	if (buf_printf(sql, "UPDATE tasks SET state = 'succeeded', "
	    "result = CASE id") == -1)
		return oom(s);
	for (i = 0; i < kb; i++)
		if (buf_printf(sql, " WHEN ? THEN ?") == -1)
			return oom(s);
	if (buf_printf(sql, " END, error = NULL, progress = 100, "
	    "owner = NULL, due_at = NULL, finished_at = NOW(6) "
	    "WHERE id IN (") == -1)
		return oom(s);
	for (i = 0; i < kb; i++)
		if (buf_printf(sql, "%s?", i ? "," : "") == -1)
			return oom(s);
	if (buf_printf(sql, ")") == -1)
		return oom(s);
	p->n = 0;
	for (i = 0, j = 0; i < n; i++)
		if (seen[i] == 1 && f[i].outcome == FIN_SUCCEEDED) {
			p_id(p, &f[i].id);
			p_blob(p, f[i].result, f[i].result_len);
			j = i;
		}
	for (i = k; i < kb; i++) {
		p_id(p, &f[j].id);
		p_blob(p, f[j].result, f[j].result_len);
	}
	for (i = 0; i < n; i++)
		if (seen[i] == 1 && f[i].outcome == FIN_SUCCEEDED)
			p_id(p, &f[i].id);
	for (i = k; i < kb; i++)
		p_id(p, &f[j].id);
	if (stmt_run(s, sql->data, p, NULL) == NULL)
		return -1;
	/* One pair as a key lookup: MariaDB 10.11 reads a one-row
	 * (task_id, fence) IN ((?,?)) as a scan of the whole index, which
	 * grows with history (two or more pairs are a range). */
	if (kb == 1) {
		buf_reset(sql);
		if (buf_printf(sql, "%s", SQL_RUNS_DONE_ONE) == -1)
			return oom(s);
	} else if (placeholders(sql, SQL_RUNS_DONE, "(?,?)", kb, ")") == -1)
		return oom(s);
	p->n = 0;
	for (i = 0; i < n; i++)
		if (seen[i] == 1 && f[i].outcome == FIN_SUCCEEDED) {
			p_id(p, &f[i].id);
			p_int(p, (long long)f[i].fence);
		}
	for (i = k; i < kb; i++) {
		p_id(p, &f[j].id);
		p_int(p, (long long)f[j].fence);
	}
	return stmt_run(s, sql->data, p, NULL) == NULL ? -1 : 0;
}

/* The slots of the finished tasks under a limit, freed. */
static int
finish_frees(struct store *s, size_t n, struct fin_scan *fs)
{
	char (*keys)[TASK_LIMIT_KEY_MAX + 1];
	size_t i, k = 0;
	int r;

	for (i = 0; i < n; i++)
		k += fs->seen[i] == 1 && fs->keys[i][0] != '\0';
	if (k == 0)
		return 0;
	if ((keys = calloc(k, sizeof(*keys))) == NULL)
		return oom(s);
	for (i = 0, k = 0; i < n; i++)
		if (fs->seen[i] == 1 && fs->keys[i][0] != '\0')
			memcpy(keys[k++], fs->keys[i], sizeof(*keys));
	r = limit_free(s, keys, k);
	free(keys);
	return r;
}

/* The finish's statements, in the caller's transaction; f sorted. */
static int
finish_txn(struct store *s, struct finish *f, size_t n, struct fin_scan *fs,
    struct buf *sql, struct params *p)
{
	MYSQL_STMT *st;
	size_t i;

	memset(fs->seen, 0, n);
	for (i = 0; i < n; i++)
		f[i].applied = 0;
	/* Lock the rows in key order and see which are still ours. */
	if (placeholders(sql, "SELECT id, state, fence, cancel_requested, "
	    "has_children, limit_key FROM tasks WHERE id IN (", "?", bucket(n),
	    ") ORDER BY id FOR UPDATE") == -1)
		return oom(s);
	p->n = 0;
	for (i = 0; i < bucket(n); i++)
		p_id(p, &f[i < n ? i : n - 1].id);
	if ((st = stmt_run(s, sql->data, p, NULL)) == NULL ||
	    stmt_rows(s, st, fin_row, fs) == -1)
		return -1;
	if (finish_successes(s, f, n, fs->seen, sql, p) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (fs->seen[i] == 1 && f[i].outcome != FIN_SUCCEEDED &&
		    finish_one(s, &f[i], p) == -1)
			return -1;
	if (finish_frees(s, n, fs) == -1)
		return -1;
	/* Children waiting on these: due, or cancelled with them. */
	for (i = 0; i < n; i++) {
		enum task_state end = f[i].outcome == FIN_SUCCEEDED ?
		    TS_SUCCEEDED : f[i].state;

		if (fs->seen[i] == 1 && fs->kids[i] &&
		    task_state_terminal(end) &&
		    deps_settle(s, &f[i].id, end, 0) == -1)
			return -1;
	}
	return 0;
}

/* After the commit: what was applied. */
static void
finish_done(struct finish *f, size_t n, const struct fin_scan *fs)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (fs->seen[i] == 1 && f[i].outcome == FIN_SUCCEEDED)
			f[i].state = TS_SUCCEEDED;
		if (fs->seen[i] == 2)
			f[i].applied = 1;
		else if (fs->seen[i] == 1 && (f[i].outcome == FIN_SUCCEEDED ||
		    f[i].applied))
			f[i].applied = 1;
	}
}

int
store_finish(struct store *s, struct finish *f, size_t n)
{
	return store_finish_claim(s, f, n, NULL, 0, NULL, 0);
}

int
store_finish_claim(struct store *s, struct finish *f, size_t nf,
    const char *owner, int64_t lease_ms, struct claim *c, size_t nc)
{
	struct buf sql = BUF_INIT;
	struct fin_scan fs;
	struct params p;
	struct uuid *fresh = NULL;
	size_t most = nf > nc ? nf : nc, woken;
	int tries = 0, ret = -1;

	memset(&fs, 0, sizeof(fs));
	if (most == 0)
		return 0;
	if (nf > STORE_BATCH_MAX || nc > STORE_BATCH_MAX) {
		snprintf(s->err, sizeof(s->err), "%s batch too large",
		    nf > STORE_BATCH_MAX ? "finish" : "claim");
		return -1;
	}
	if (nf > 0)
		qsort(f, nf, sizeof(*f), finish_cmp);
	if (nc > 0)
		qsort(c, nc, sizeof(*c), id_cmp);
	if (params_init(&p, bucket(most) * 3 + 8) == -1)
		return oom(s);
	fs.seen = calloc(nf ? nf : 1, 1);
	fs.kids = calloc(nf ? nf : 1, 1);
	fs.keys = calloc(nf ? nf : 1, sizeof(*fs.keys));
	fresh = calloc(nc ? nc : 1, sizeof(*fresh));
	if (fs.seen == NULL || fs.kids == NULL || fs.keys == NULL ||
	    fresh == NULL) {
		oom(s);
		goto done;
	}
	fs.f = f;
	fs.n = nf;
	woken = s->nwoken;
again:
	if (txn_begin(s) == -1)
		goto done;
	/* The outcomes first: the rows a worker holds are older than the
	 * ones it claims next, so the locks mostly come in key order. */
	if (nf > 0 && finish_txn(s, f, nf, &fs, &sql, &p) == -1)
		goto fail;
	if (nc > 0 && claim_txn(s, owner, lease_ms, c, nc, fresh, &sql,
	    &p) == -1)
		goto fail;
	if (txn_commit(s) == -1)
		goto fail;
	if (nf > 0)
		finish_done(f, nf, &fs);
	if (nc > 0)
		claim_done(c, nc);
	ret = 0;
	goto done;
fail:
	txn_rollback(s);
	s->nwoken = woken;	/* a rolled back wake-up woke nobody */
	if (txn_again(s, &tries))
		goto again;
done:
	params_release(&p);
	buf_release(&sql);
	free(fs.seen);
	free(fs.kids);
	free(fs.keys);
	free(fresh);
	return ret;
}

/* ---- progress ---- */

int
store_progress(struct store *s, const struct uuid *id, uint64_t fence,
    unsigned pct, const char *msg)
{
	struct params p;
	MYSQL_STMT *st;

	if (params_init(&p, 4) == -1)
		return oom(s);
	p_int(&p, pct > 100 ? 100 : pct);
	p_str(&p, msg && *msg ? msg : NULL);
	p_id(&p, id);
	p_int(&p, (long long)fence);
	st = stmt_run(s, "UPDATE tasks SET progress = ?, progress_msg = "
	    "LEFT(?, 255) WHERE id = ? AND fence = ? AND state = 'running'",
	    &p, NULL);
	params_release(&p);
	return st == NULL ? -1 : 0;
}

/* ---- leases ---- */

int
store_renew(struct store *s, const struct uuid *ids, const uint64_t *fences,
    size_t n, int64_t lease_ms)
{
	struct buf sql = BUF_INIT;
	struct params p;
	unsigned long long rows;
	size_t i;
	int tries = 0, ret = -1;

	if (n == 0)
		return 0;
	if (n > STORE_BATCH_MAX)
		n = STORE_BATCH_MAX;
	if (params_init(&p, n * 2 + 1) == -1)
		return oom(s);
	if (placeholders(&sql, SQL_RENEW, "(?,?)", n, ")") == -1) {
		oom(s);
		goto done;
	}
	p_int(&p, lease_ms);
	for (i = 0; i < n; i++) {
		p_id(&p, &ids[i]);
		p_int(&p, (long long)fences[i]);
	}
	while (stmt_run(s, sql.data, &p, &rows) == NULL)
		if (!txn_again(s, &tries))
			goto done;
	ret = (int)rows;
done:
	params_release(&p);
	buf_release(&sql);
	return ret;
}

struct release_scan {
	enum task_state	state;
	char		key[TASK_LIMIT_KEY_MAX + 1];
};

static int
release_row(void *arg, struct row *r)
{
	struct release_scan *rs = arg;

	copy_col(rs->key, sizeof(rs->key), r->col[1]);
	return state_row(&rs->state, r);
}

int
store_release(struct store *s, const struct uuid *id, uint64_t fence,
    const char *reason, int charge, enum task_state *state)
{
	struct release_scan rs;
	struct params p;
	unsigned long long n = 0;
	size_t woken = s->nwoken;
	int tries = 0, ret = -1;
	MYSQL_STMT *st;

	*state = TS_RUNNING;
	if (params_init(&p, 8) == -1)
		return oom(s);
again:
	rs.state = TS_RUNNING;
	if (txn_begin(s) == -1)
		goto done;
	/* The fence moves on: a late finish from the old holder is stale.
	 * A crash counts as an attempt (the claim counted it), so a task
	 * that keeps killing workers ends failed. A task that never started
	 * gets its attempt back. */
	p.n = 0;
	p_int(&p, !charge);
	p_int(&p, !charge);
	p_int(&p, !charge);
	p_str(&p, reason);
	p_id(&p, id);
	p_int(&p, (long long)fence);
	if (stmt_run(s, "UPDATE tasks SET "
	    "state = IF(cancel_requested, 'cancelled', "
	    "IF(attempts - ? >= max_attempts, 'failed', 'scheduled')), "
	    "finished_at = IF(cancel_requested OR attempts - ? >= max_attempts, "
	    "NOW(6), NULL), "
	    "attempts = attempts - ?, "
	    "error = ?, fence = fence + 1, owner = NULL, due_at = NOW(6) "
	    "WHERE id = ? AND fence = ? AND state = 'running'", &p,
	    &n) == NULL)
		goto fail;
	if (n == 1) {
		p.n = 0;
		p_id(&p, id);
		if ((st = stmt_run(s, "SELECT state, limit_key FROM tasks "
		    "WHERE id = ?", &p, NULL)) == NULL ||
		    stmt_rows(s, st, release_row, &rs) == -1)
			goto fail;
		*state = rs.state;
		if (rs.key[0] != '\0' && limit_free(s, &rs.key, 1) == -1)
			goto fail;
		if (task_state_terminal(*state) && (settle_if_parent(s, id,
		    *state) == -1 || rollup_one(s, id,
		    task_state_name(*state)) == -1))
			goto fail;
		p.n = 0;
		p_str(&p, reason);
		p_id(&p, id);
		p_int(&p, (long long)fence);
		if (stmt_run(s, "UPDATE task_runs SET outcome = 'lost', "
		    "error = ?, finished_at = NOW(6) "
		    "WHERE task_id = ? AND fence = ?", &p, NULL) == NULL)
			goto fail;
	}
	if (txn_commit(s) == -1)
		goto fail;
	ret = n == 1;
	goto done;
fail:
	txn_rollback(s);
	s->nwoken = woken;
	if (txn_again(s, &tries))
		goto again;
done:
	params_release(&p);
	return ret;
}

int
store_owned(struct store *s, const char *owner, const char *node,
    struct uuid **ids, uint64_t **fences)
{
	struct owned_scan os = { NULL, NULL, NULL, 0, 0, 0, 0, 0 };
	struct params p;
	char pat[300];
	MYSQL_STMT *st;
	size_t i, o = 0;

	*ids = NULL;
	*fences = NULL;
	if (params_init(&p, 1) == -1)
		return oom(s);
	if (node != NULL) {
		/* owner is "node:pid:nonce"; LIKE's wildcards escaped. */
		for (i = 0; node[i] && o < sizeof(pat) - 4; i++) {
			if (node[i] == '%' || node[i] == '_' || node[i] == '\\')
				pat[o++] = '\\';
			pat[o++] = node[i];
		}
		pat[o++] = ':';
		pat[o++] = '%';
		pat[o] = '\0';
		p_str(&p, pat);
		st = stmt_run(s, SQL_OWNED_NODE, &p, NULL);
	} else {
		p_str(&p, owner);
		st = stmt_run(s, SQL_OWNED, &p, NULL);
	}
	params_release(&p);
	if (st == NULL || stmt_rows(s, st, owned_row, &os) == -1) {
		free(os.ids);
		free(os.fences);
		return -1;
	}
	*ids = os.ids;
	*fences = os.fences;
	return (int)os.n;
}

int
store_renew_owners(struct store *s, const char *const *owners, size_t n,
    int64_t lease_ms)
{
	struct buf sql = BUF_INIT;
	struct params p;
	unsigned long long rows = 0;
	size_t i;
	int tries = 0, ret = -1;

	if (n == 0)
		return 0;
	if (params_init(&p, n + 1) == -1)
		return oom(s);
	if (placeholders(&sql, SQL_RENEW_OWNERS, "?", n, ")") == -1) {
		oom(s);
		goto done;
	}
	p_int(&p, lease_ms);
	for (i = 0; i < n; i++)
		p_str(&p, owners[i]);
	while (stmt_run(s, sql.data, &p, &rows) == NULL)
		if (!txn_again(s, &tries))
			goto done;
	ret = (int)rows;
done:
	params_release(&p);
	buf_release(&sql);
	return ret;
}
