/*
 * store_limit.c: flow control, decided where the claim is made and in its
 * transaction, so that it holds across nodes and through every fault:
 * concurrency and rate limits per key, paused queues; the wake-up of the
 * waiters when a slot frees; and their administration.
 *
 * The claims and the frees of a key serialise on its tq_limit_keys row.
 * Holding it, a claim counts the key's running tasks (READ COMMITTED: the
 * last committed count, and no other claim of the key can be between its
 * count and its commit); a free takes it after its own row left running,
 * so that either the claim sees the slot free, or the free sees the claim's
 * waiter and wakes it.
 *
 * A rate is GCRA twice. Each task gets a start slot in claim order: the
 * key's tat moves on by the emission interval T = period / n per slot,
 * a slot is at tat - (burst - 1) * T, and a task whose slot is ahead
 * waits for it (limit_wait 2). Slots are used late, and several at once,
 * when their tasks come back through the broker behind others or on the
 * same leader tick; so the starts pass a gate of their own (start_tat,
 * moved on by T per start): a task starts while start_tat - now <=
 * max((burst - 1) * T, GATE_US), else it waits until then, keeping its
 * slot. In any t seconds at most max(burst, 1 + GATE_US / T) + t * n /
 * period tasks start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "store_sql.h"

#define PARK_US		(900LL * 1000000)	/* a waiter is looked at again
						 * then, should its wake-up
						 * be lost */
#define PREFIXES_MAX	4	/* "a:b:*", "a:*", ... a key may match */
#define GATE_US		500000	/* the leader's tick (200 ms), twice, and some */

typedef char lkey_t[TASK_LIMIT_KEY_MAX + 1];

int store_debug_nolimit;

/* A key of the round and what holds for it. */
struct lkey {
	const char		*key;
	const struct limit_def	*lim;		/* NULL: no limit */
	unsigned long		 running;
	long long		 tat, start_tat, now;
	int			 dirty, blocked, found;
};

struct lim_scan {
	struct limit_def	*d;
	size_t			 n, cap;
};

static int
lim_row(void *arg, struct row *r)
{
	struct lim_scan *ls = arg;
	struct limit_def *d;

	if (scan_grow(&ls->d, &ls->cap, ls->n, sizeof(*ls->d)) == -1)
		return -1;
	d = &ls->d[ls->n++];
	memset(d, 0, sizeof(*d));
	copy_col(d->name, sizeof(d->name), r->col[0]);
	d->concurrency = uns_of(r->col[1]);
	d->rate_n = uns_of(r->col[2]);
	d->rate_ms = r->col[3] ? strtoll(r->col[3], NULL, 10) : 0;
	d->burst = uns_of(r->col[4]);
	if (d->burst == 0)
		d->burst = 1;
	return 0;
}

/* The names that may hold for key: itself, then its prefixes that end at
 * a ':' with a '*', longest first. */
static size_t
key_names(const char *key, lkey_t *out)
{
	size_t n = 0, i = strlen(key);

	strlcpy(out[n++], key, sizeof(*out));
	while (i > 0 && n <= PREFIXES_MAX) {
		if (key[--i] != ':' || i + 2 >= sizeof(*out))
			continue;
		memcpy(out[n], key, i + 1);
		out[n][i + 1] = '*';
		out[n][i + 2] = '\0';
		n++;
	}
	return n;
}

/* The limit that holds for key, of ls (sorted by name). */
static const struct limit_def *
key_limit(const struct lim_scan *ls, const char *key)
{
	lkey_t names[PREFIXES_MAX + 1];
	size_t i, k, n = key_names(key, names);

	for (i = 0; i < n; i++)
		for (k = 0; k < ls->n; k++)
			if (strcmp(ls->d[k].name, names[i]) == 0)
				return &ls->d[k];
	return NULL;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lkey *)a)->key,
	    ((const struct lkey *)b)->key);
}

/* The rows of tq_limits named for keys k[0..n). */
static int
limits_load(struct store *s, struct lkey *k, size_t n, struct lim_scan *ls,
    struct buf *sql, struct params *p)
{
	lkey_t *names;
	const char **v;
	size_t i, j, nn = 0, nv = 0;
	MYSQL_STMT *st;
	int ret = -1;

	names = calloc(n * (PREFIXES_MAX + 1), sizeof(*names));
	v = calloc(n * (PREFIXES_MAX + 1), sizeof(*v));
	if (names == NULL || v == NULL) {
		oom(s);
		goto done;
	}
	for (i = 0; i < n; i++)
		nn += key_names(k[i].key, names + nn);
	for (i = 0; i < nn; i++)
		v[i] = names[i];
	qsort(v, nn, sizeof(*v), str_cmp);
	for (i = 0; i < nn; i++)
		if (nv == 0 || strcmp(v[nv - 1], v[i]) != 0)
			v[nv++] = v[i];
	for (i = 0; i < nv; i += STORE_BATCH_MAX) {
		size_t m = nv - i < STORE_BATCH_MAX ? nv - i : STORE_BATCH_MAX;

		if (placeholders(sql, "SELECT name, concurrency, rate_n, "
		    "rate_ms, burst FROM tq_limits WHERE name IN (", "?",
		    bucket(m), ")") == -1) {
			oom(s);
			goto done;
		}
		p->n = 0;
		for (j = 0; j < bucket(m); j++)
			p_str(p, v[i + (j < m ? j : m - 1)]);
		if ((st = stmt_run(s, sql->data, p, NULL)) == NULL ||
		    stmt_rows(s, st, lim_row, ls) == -1)
			goto done;
	}
	for (i = 0; i < n; i++)
		k[i].lim = key_limit(ls, k[i].key);
	ret = 0;
done:
	free(names);
	free(v);
	return ret;
}

struct lk_scan {
	struct lkey	*k;
	size_t		 n;
	int		 what;		/* 0 tat and now, 1 running */
};

static int
lk_row(void *arg, struct row *r)
{
	struct lk_scan *ks = arg;
	struct lkey key, *k;

	if (r->col[0] == NULL)
		return 0;
	memset(&key, 0, sizeof(key));
	key.key = r->col[0];
	if ((k = bsearch(&key, ks->k, ks->n, sizeof(*k), key_cmp)) == NULL)
		return 0;
	if (ks->what == 1)
		k->running = uns_of(r->col[1]);
	else {
		k->tat = r->col[1] ? strtoll(r->col[1], NULL, 10) : 0;
		k->now = r->col[2] ? strtoll(r->col[2], NULL, 10) : 0;
		k->start_tat = r->n > 3 && r->col[3] ? strtoll(r->col[3], NULL,
		    10) : 0;
		k->found = 1;
	}
	return 0;
}

/* Statement head, one "?" per key of k[0..n) (padded), tail; run. */
static int
keys_run(struct store *s, const char *head, const char *one, const char *tail,
    struct lkey *k, size_t n, struct buf *sql, struct params *p,
    struct lk_scan *ks)
{
	MYSQL_STMT *st;
	size_t i;

	if (placeholders(sql, head, one, bucket(n), tail) == -1)
		return oom(s);
	p->n = 0;
	for (i = 0; i < bucket(n); i++)
		p_str(p, k[i < n ? i : n - 1].key);
	if ((st = stmt_run(s, sql->data, p, NULL)) == NULL)
		return -1;
	return ks == NULL ? 0 : stmt_rows(s, st, lk_row, ks);
}

/* Whether c may start under k's limit now; else parks it (park_us). */
static int
admit(struct lkey *k, struct claim *c)
{
	const struct limit_def *l = k->lim;
	long long t, tau, gtau, tat, st, burst;

	if (l->concurrency > 0 && k->running >= l->concurrency) {
		c->park_us = -1;
		k->blocked = 1;
		return 0;
	}
	if (l->rate_n > 0 && l->rate_ms > 0) {
		t = l->rate_ms * 1000 / l->rate_n;
		if (t < 1)
			t = 1;
		burst = l->burst > 0 ? l->burst : 1;
		tau = (burst - 1) * t;
		gtau = tau > GATE_US ? tau : GATE_US;
		/* A task that holds a slot (limit_wait 2) has reached it:
		 * it is due. Else it gets the next one. */
		if (c->limit_wait != 2) {
			tat = k->tat > k->now ? k->tat : k->now;
			k->tat = tat + t;
			k->dirty = 1;
			if (tat - tau > k->now) {
				c->park_us = tat - tau - k->now;
				return 0;
			}
		}
		st = k->start_tat > k->now ? k->start_tat : k->now;
		if (st - gtau > k->now) {
			/* Starts ran ahead: it waits, its slot kept. */
			c->park_us = st - gtau - k->now;
			return 0;
		}
		k->start_tat = st + t;
		k->dirty = 1;
	}
	k->running++;
	return 1;
}

/* The parked tasks wait scheduled: for a slot, or for their rate slot. */
static int
park(struct store *s, struct claim *c, size_t n, struct params *p)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (c[i].result != CLAIM_LIMITED)
			continue;
		p->n = 0;
		p_int(p, c[i].park_us < 0 ? 1 : 2);
		p_int(p, c[i].park_us < 0 ? PARK_US : c[i].park_us);
		p_id(p, &c[i].id);
		if (stmt_run(s, "UPDATE tasks SET state = 'scheduled', "
		    "limit_wait = ?, due_at = NOW(6) + INTERVAL ? MICROSECOND "
		    "WHERE id = ?", p, NULL) == NULL)
			return -1;
	}
	return 0;
}

int
limit_claim(struct store *s, struct claim *c, size_t n, struct buf *sql,
    struct params *p)
{
	struct lim_scan ls = { NULL, 0, 0 };
	struct lk_scan ks;
	struct lkey *k, key, *kp;
	size_t i, nk = 0, nl = 0, missing;
	int conc = 0, ret = -1;

	if (store_debug_nolimit)
		return 0;
	if ((k = calloc(n, sizeof(*k))) == NULL)
		return oom(s);
	for (i = 0; i < n; i++)
		if (c[i].result == CLAIM_OK && c[i].state != TS_RUNNING &&
		    c[i].limit_key[0] != '\0')
			k[nk++].key = c[i].limit_key;
	if (nk == 0) {
		ret = 0;
		goto done;
	}
	qsort(k, nk, sizeof(*k), key_cmp);
	for (i = 0; i < nk; i++)
		if (nl == 0 || strcmp(k[nl - 1].key, k[i].key) != 0)
			k[nl++] = k[i];
	nk = nl;
	if (limits_load(s, k, nk, &ls, sql, p) == -1)
		goto done;
	/* The keys under a limit, still sorted: their rows locked in that
	 * order (claims of several keys cannot deadlock on each other). */
	for (i = 0, nl = 0; i < nk; i++)
		if (k[i].lim != NULL) {
			k[nl++] = k[i];
			conc |= k[i].lim->concurrency > 0;
		}
	if (nl == 0) {
		ret = 0;
		goto done;
	}
	/* The keys' rows, locked in key order; a key's first claim makes
	 * its row (a lost race for it is a duplicate, ignored). */
	ks.k = k;
	ks.n = nl;
	ks.what = 0;
	if (keys_run(s, SQL_LIMIT_KEYS_LOCK, "?", SQL_LIMIT_KEYS_LOCK_TAIL, k,
	    nl, sql, p, &ks) == -1)
		goto done;
	for (i = 0, missing = 0; i < nl; i++)
		missing += !k[i].found;
	if (missing > 0 && (keys_run(s, "INSERT IGNORE INTO tq_limit_keys "
	    "(lkey) VALUES ", "(?)", "", k, nl, sql, p, NULL) == -1 ||
	    keys_run(s, SQL_LIMIT_KEYS_LOCK, "?", SQL_LIMIT_KEYS_LOCK_TAIL, k,
	    nl, sql, p, &ks) == -1))
		goto done;
	ks.what = 1;
	if (conc && keys_run(s, SQL_LIMIT_RUNNING, "?", SQL_LIMIT_RUNNING_TAIL,
	    k, nl, sql, p, &ks) == -1)
		goto done;
	/* In id order: the oldest first. */
	for (i = 0; i < n; i++) {
		if (c[i].result != CLAIM_OK || c[i].state == TS_RUNNING ||
		    c[i].limit_key[0] == '\0')
			continue;
		memset(&key, 0, sizeof(key));
		key.key = c[i].limit_key;
		if ((kp = bsearch(&key, k, nl, sizeof(*k), key_cmp)) == NULL)
			continue;
		if (!admit(kp, &c[i]))
			c[i].result = CLAIM_LIMITED;
	}
	for (i = 0; i < nl; i++) {
		if (!k[i].dirty && !k[i].blocked)
			continue;
		p->n = 0;
		p_int(p, k[i].tat);
		p_int(p, k[i].start_tat);
		p_int(p, k[i].blocked);
		p_str(p, k[i].key);
		if (stmt_run(s, "UPDATE tq_limit_keys SET tat = ?, start_tat = ?, "
		    "blocked = blocked | ? WHERE lkey = ?", p, NULL) == NULL)
			goto done;
	}
	ret = park(s, c, n, p);
done:
	free(ls.d);
	free(k);
	return ret;
}

/* ---- frees and wake-ups ---- */

/* Bounded: beyond it, the leader's next turn publishes them (due rows). */
#define WOKEN_MAX	4096

static int
woken_add(struct store *s, const struct uuid *id)
{
	if (s->nwoken >= WOKEN_MAX)
		return 0;
	if (scan_grow(&s->woken, &s->woken_cap, s->nwoken,
	    sizeof(*s->woken)) == -1)
		return oom(s);
	s->woken[s->nwoken++] = *id;
	return 0;
}

struct blocked_scan {
	lkey_t	*keys;
	int	*blocked;
	size_t	 n;
};

static int
blocked_row(void *arg, struct row *r)
{
	struct blocked_scan *bs = arg;
	size_t i;

	for (i = 0; i < bs->n && r->col[0]; i++)
		if (strcmp(bs->keys[i], r->col[0]) == 0)
			bs->blocked[i] = r->col[1] && r->col[1][0] == '1';
	return 0;
}

/* Up to want of key's oldest waiters made due; *got how many. */
static int
wake(struct store *s, const char *key, size_t want, size_t *got,
    struct params *p)
{
	struct owned_scan os = { NULL, NULL, NULL, 0, 0, 0, 0, 0 };
	MYSQL_STMT *st;
	size_t i;
	int ret = -1;

	*got = 0;
	p->n = 0;
	p_str(p, key);
	p_int(p, (long long)want);
	if ((st = stmt_run(s, SQL_LIMIT_WAITERS, p, NULL)) == NULL ||
	    stmt_rows(s, st, owned_row, &os) == -1)
		goto done;
	for (i = 0; i < os.n; i++) {
		p->n = 0;
		p_id(p, &os.ids[i]);
		if (stmt_run(s, "UPDATE tasks SET limit_wait = 0, due_at = "
		    "NOW(6) WHERE id = ? AND limit_wait = 1", p, NULL) == NULL ||
		    woken_add(s, &os.ids[i]) == -1)
			goto done;
	}
	*got = os.n;
	ret = 0;
done:
	free(os.ids);
	free(os.fences);
	return ret;
}

static int
lkey_cmp(const void *a, const void *b)
{
	return strcmp(*(const lkey_t *)a, *(const lkey_t *)b);
}

int
limit_free(struct store *s, lkey_t *keys, size_t n)
{
	struct blocked_scan bs = { NULL, NULL, 0 };
	struct buf sql = BUF_INIT;
	struct params p;
	size_t i, j, nu = 0, *freed = NULL, got;
	MYSQL_STMT *st;
	int ret = -1;

	if (n == 0)
		return 0;
	qsort(keys, n, sizeof(*keys), lkey_cmp);
	freed = calloc(n, sizeof(*freed));
	bs.blocked = calloc(n, sizeof(*bs.blocked));
	if (freed == NULL || bs.blocked == NULL ||
	    params_init(&p, bucket(n) + 2) == -1) {
		free(freed);
		free(bs.blocked);
		return oom(s);
	}
	for (i = 0; i < n; i++) {
		if (nu == 0 || strcmp(keys[nu - 1], keys[i]) != 0)
			memmove(keys[nu++], keys[i], sizeof(*keys));
		freed[nu - 1]++;
	}
	bs.keys = keys;
	bs.n = nu;
	/* Locked in key order, as the claims do. */
	if (placeholders(&sql, "SELECT lkey, blocked FROM tq_limit_keys WHERE "
	    "lkey IN (", "?", bucket(nu), ") ORDER BY lkey FOR UPDATE") == -1) {
		oom(s);
		goto done;
	}
	for (j = 0; j < bucket(nu); j++)
		p_str(&p, keys[j < nu ? j : nu - 1]);
	if ((st = stmt_run(s, sql.data, &p, NULL)) == NULL ||
	    stmt_rows(s, st, blocked_row, &bs) == -1)
		goto done;
	for (i = 0; i < nu; i++) {
		if (!bs.blocked[i])
			continue;
		if (wake(s, keys[i], freed[i], &got, &p) == -1)
			goto done;
		if (got < freed[i]) {
			p.n = 0;
			p_str(&p, keys[i]);
			if (stmt_run(s, "UPDATE tq_limit_keys SET blocked = 0 "
			    "WHERE lkey = ?", &p, NULL) == NULL)
				goto done;
		}
	}
	ret = 0;
done:
	params_release(&p);
	buf_release(&sql);
	free(freed);
	free(bs.blocked);
	return ret;
}

int
store_woken(struct store *s, struct uuid **ids)
{
	int n = (int)s->nwoken;

	*ids = s->woken;
	s->woken = NULL;
	s->nwoken = s->woken_cap = 0;
	return n;
}

/* ---- administration ---- */

/* name as a LIKE pattern ('!' escapes): the key, or the prefix's keys. */
static void
name_like(const char *name, char *out, size_t outsz)
{
	size_t i, o = 0, n = strlen(name);
	int prefix = n >= 2 && name[n - 1] == '*';

	for (i = 0; i < n - (size_t)prefix && o + 3 < outsz; i++) {
		if (name[i] == '_' || name[i] == '%' || name[i] == '!')
			out[o++] = '!';
		out[o++] = name[i];
	}
	if (prefix)
		out[o++] = '%';
	out[o] = '\0';
}

/* The keys under name start afresh: rate slots given back, waiters due
 * (each is claimed again, under the limit as it is now). */
static int
limit_rekey(struct store *s, const char *name)
{
	char like[2 * TASK_LIMIT_KEY_MAX + 2];
	struct params p;
	int ret = -1;

	name_like(name, like, sizeof(like));
	if (params_init(&p, 1) == -1)
		return oom(s);
	p_str(&p, like);
	if (stmt_run(s, "UPDATE tq_limit_keys SET tat = 0, start_tat = 0 "
	    "WHERE lkey LIKE ? ESCAPE '!'", &p, NULL) != NULL &&
	    stmt_run(s, "UPDATE tasks SET limit_wait = 0, due_at = NOW(6) "
	    "WHERE limit_state = 'scheduled' AND limit_key LIKE ? ESCAPE '!' "
	    "AND limit_wait IN (1, 2)", &p, NULL) != NULL)
		ret = 0;
	params_release(&p);
	return ret;
}

int
store_limit_set(struct store *s, const struct limit_def *d)
{
	struct params p;
	int tries = 0, ret = -1;

	if (!limit_name_ok(d->name)) {
		snprintf(s->err, sizeof(s->err), "bad limit name \"%s\"",
		    d->name);
		s->err_temp = 0;
		return -1;
	}
	if (params_init(&p, 5) == -1)
		return oom(s);
again:
	if (txn_begin(s) == -1)
		goto done;
	p.n = 0;
	p_str(&p, d->name);
	p_int(&p, d->concurrency);
	p_int(&p, d->rate_n);
	p_int(&p, d->rate_ms);
	p_int(&p, d->burst > 0 ? d->burst : 1);
	if (stmt_run(s, "INSERT INTO tq_limits (name, concurrency, rate_n, "
	    "rate_ms, burst) VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE "
	    "concurrency = VALUES(concurrency), rate_n = VALUES(rate_n), "
	    "rate_ms = VALUES(rate_ms), burst = VALUES(burst)", &p,
	    NULL) == NULL || limit_rekey(s, d->name) == -1 ||
	    txn_commit(s) == -1)
		goto fail;
	ret = 0;
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
store_limit_remove(struct store *s, const char *name)
{
	unsigned long long n = 0;
	struct params p;
	int tries = 0, ret = -1;

	if (params_init(&p, 1) == -1)
		return oom(s);
again:
	if (txn_begin(s) == -1)
		goto done;
	p.n = 0;
	p_str(&p, name);
	if (stmt_run(s, "DELETE FROM tq_limits WHERE name = ?", &p,
	    &n) == NULL || (n > 0 && limit_rekey(s, name) == -1) ||
	    txn_commit(s) == -1)
		goto fail;
	ret = n > 0;
	goto done;
fail:
	txn_rollback(s);
	if (txn_again(s, &tries))
		goto again;
done:
	params_release(&p);
	return ret;
}

struct live_scan {
	struct lim_scan		*ls;
	struct limit_info	*li;
	const struct limit_def	*last;		/* of the key before */
	char			 key[TASK_LIMIT_KEY_MAX + 1];
};

static int
live_row(void *arg, struct row *r)
{
	struct live_scan *lv = arg;
	const struct limit_def *d;
	struct limit_info *li;
	unsigned long n;

	/* limit_state, limit_key, limit_wait, count */
	if (r->col[0] == NULL || r->col[1] == NULL)
		return 0;
	if ((d = key_limit(lv->ls, r->col[1])) == NULL)
		return 0;
	li = &lv->li[d - lv->ls->d];
	n = uns_of(r->col[3]);
	if (strcmp(r->col[0], "running") == 0)
		li->running += n;
	else if (r->col[2] && r->col[2][0] == '1')
		li->waiting += n;
	else
		li->reserved += n;
	/* A key's rows come together (ORDER BY limit_key). */
	if (lv->last != d || strcmp(lv->key, r->col[1]) != 0)
		li->keys++;
	lv->last = d;
	strlcpy(lv->key, r->col[1], sizeof(lv->key));
	return 0;
}

int
store_limit_list(struct store *s, struct limit_info **out)
{
	struct lim_scan ls = { NULL, 0, 0 };
	struct live_scan lv;
	MYSQL_STMT *st;
	size_t i;

	*out = NULL;
	if ((st = stmt_run(s, "SELECT name, concurrency, rate_n, rate_ms, "
	    "burst FROM tq_limits ORDER BY name", NULL, NULL)) == NULL ||
	    stmt_rows(s, st, lim_row, &ls) == -1)
		goto fail;
	memset(&lv, 0, sizeof(lv));
	lv.ls = &ls;
	if ((lv.li = calloc(ls.n ? ls.n : 1, sizeof(*lv.li))) == NULL) {
		oom(s);
		goto fail;
	}
	for (i = 0; i < ls.n; i++)
		lv.li[i].d = ls.d[i];
	/* The live rows of every key: two ranges of the index. */
	if (ls.n > 0 && ((st = stmt_run(s, SQL_LIMIT_LIVE, NULL,
	    NULL)) == NULL ||
	    stmt_rows(s, st, live_row, &lv) == -1)) {
		free(lv.li);
		goto fail;
	}
	*out = lv.li;
	free(ls.d);
	return (int)ls.n;
fail:
	free(ls.d);
	return -1;
}

int
store_limit_gc(struct store *s)
{
	unsigned long long n = 0;

	if (stmt_run(s, "DELETE FROM tq_limit_keys WHERE blocked = 0 AND "
	    "touched < NOW(6) - INTERVAL 1 HOUR AND GREATEST(tat, start_tat) < "
	    "CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED) LIMIT 1000",
	    NULL, &n) == NULL)
		return -1;
	return (int)n;
}

/* ---- pause ---- */

int
store_pause(struct store *s, const char *queue, const char *by)
{
	unsigned long long n = 0;
	struct params p;
	MYSQL_STMT *st;

	if (params_init(&p, 2) == -1)
		return oom(s);
	p_str(&p, queue);
	p_str(&p, by);
	st = stmt_run(s, "INSERT IGNORE INTO tq_paused (queue, paused_by) "
	    "VALUES (?, LEFT(?, 128))", &p, &n);
	params_release(&p);
	return st == NULL ? -1 : n > 0;
}

int
store_resume(struct store *s, const char *queue)
{
	unsigned long long n = 0;
	struct params p;
	MYSQL_STMT *st;

	if (params_init(&p, 1) == -1)
		return oom(s);
	p_str(&p, queue);
	st = stmt_run(s, "DELETE FROM tq_paused WHERE queue = ?", &p, &n);
	params_release(&p);
	return st == NULL ? -1 : n > 0;
}

static int
one_row(void *arg, struct row *r)
{
	(void)r;
	*(int *)arg = 1;
	return 0;
}

int
store_paused(struct store *s, const char *queue)
{
	struct params p;
	MYSQL_STMT *st;
	int found = 0;

	if (params_init(&p, 1) == -1)
		return oom(s);
	p_str(&p, queue);
	st = stmt_run(s, "SELECT 1 FROM tq_paused WHERE queue = ?", &p, NULL);
	params_release(&p);
	if (st == NULL || stmt_rows(s, st, one_row, &found) == -1)
		return -1;
	return found;
}

struct paused_scan {
	struct paused_queue	*q;
	size_t			 n, cap;
};

static int
paused_row(void *arg, struct row *r)
{
	struct paused_scan *ps = arg;
	struct paused_queue *q;

	if (scan_grow(&ps->q, &ps->cap, ps->n, sizeof(*ps->q)) == -1)
		return -1;
	q = &ps->q[ps->n++];
	copy_col(q->queue, sizeof(q->queue), r->col[0]);
	copy_col(q->by, sizeof(q->by), r->col[1]);
	q->since = r->col[2] ? strtoll(r->col[2], NULL, 10) : 0;
	return 0;
}

int
store_paused_list(struct store *s, struct paused_queue **out)
{
	struct paused_scan ps = { NULL, 0, 0 };
	MYSQL_STMT *st;

	*out = NULL;
	if ((st = stmt_run(s, SQL_PAUSED_LIST, NULL, NULL)) == NULL ||
	    stmt_rows(s, st, paused_row, &ps) == -1) {
		free(ps.q);
		return -1;
	}
	*out = ps.q;
	return (int)ps.n;
}
