/* store_reconcile.c: what the leader reads and mends on a timer (due rows,
 * stranded and expired ones), leadership itself, and the node rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_int.h"
#include "store_sql.h"

/* ---- reconciler ---- */

void
pub_rows_free(struct pub_row *r, size_t n)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < n; i++)
		free(r[i].payload);
	free(r);
}

struct pub_scan {
	struct pub_row	*rows;
	size_t		 n, max;
};

static int
pub_row(void *arg, struct row *r)
{
	struct pub_scan *ps = arg;
	struct pub_row *pr;

	if (ps->n >= ps->max || r->len[0] != UUID_LEN || r->col[1] == NULL ||
	    r->col[2] == NULL || r->col[3] == NULL)
		return 0;
	pr = &ps->rows[ps->n];
	memcpy(pr->id.b, r->col[0], UUID_LEN);
	strlcpy(pr->queue, r->col[1], sizeof(pr->queue));
	strlcpy(pr->name, r->col[2], sizeof(pr->name));
	pr->payload = r->col[3];
	pr->len = r->len[3];
	r->col[3] = NULL;	/* taken */
	pr->priority = r->n > 4 ? uns_of(r->col[4]) : 0;
	ps->n++;
	return 0;
}

int
store_due(struct store *s, struct pub_row **out, size_t max)
{
	struct pub_scan ps;
	struct params p;
	MYSQL_STMT *st;
	int ret = -1;

	*out = NULL;
	if (max == 0)
		return 0;
	if ((ps.rows = calloc(max, sizeof(*ps.rows))) == NULL)
		return oom(s);
	ps.n = 0;
	ps.max = max;
	if (params_init(&p, 2) == -1) {
		free(ps.rows);
		return oom(s);
	}
	p_int(&p, (long long)max);
	p_int(&p, (long long)max);
	/* Two index range scans on (state, due_at). */
	st = stmt_run(s, SQL_DUE, &p, NULL);
	if (st != NULL && stmt_rows(s, st, pub_row, &ps) != -1) {
		*out = ps.rows;
		ret = (int)ps.n;
	} else
		pub_rows_free(ps.rows, ps.n);
	params_release(&p);
	return ret;
}

struct qname_scan {
	char	(*names)[TASK_QUEUE_MAX + 1];
	size_t	 n, cap;
};

static int
qname_row(void *arg, struct row *r)
{
	struct qname_scan *qs = arg;
	size_t i;

	if (r->col[0] == NULL)
		return 0;
	for (i = 0; i < qs->n; i++)
		if (strcmp(qs->names[i], r->col[0]) == 0)
			return 0;
	if (scan_grow(&qs->names, &qs->cap, qs->n, sizeof(*qs->names)) == -1)
		return -1;
	strlcpy(qs->names[qs->n++], r->col[0], sizeof(qs->names[0]));
	return 0;
}

int
store_stranded_queues(struct store *s, int64_t older_ms,
    char (**names)[TASK_QUEUE_MAX + 1])
{
	struct qname_scan qs = { NULL, 0, 0 };
	struct params p;
	MYSQL_STMT *st;

	*names = NULL;
	if (params_init(&p, 1) == -1)
		return oom(s);
	p_int(&p, older_ms);
	st = stmt_run(s, SQL_STRANDED_QUEUES, &p, NULL);
	params_release(&p);
	if (st == NULL || stmt_rows(s, st, qname_row, &qs) == -1) {
		free(qs.names);
		return -1;
	}
	*names = qs.names;
	return (int)qs.n;
}

int
store_stranded(struct store *s, const char *queue, int64_t older_ms,
    size_t max, struct pub_row **out)
{
	struct pub_scan ps;
	struct params p;
	MYSQL_STMT *st;
	int ret = -1;

	*out = NULL;
	if ((ps.rows = calloc(max ? max : 1, sizeof(*ps.rows))) == NULL)
		return oom(s);
	ps.n = 0;
	ps.max = max;
	if (params_init(&p, 3) == -1) {
		free(ps.rows);
		return oom(s);
	}
	p_int(&p, older_ms);
	p_str(&p, queue);
	p_int(&p, (long long)max);
	st = stmt_run(s, SQL_STRANDED, &p, NULL);
	if (st != NULL && stmt_rows(s, st, pub_row, &ps) != -1) {
		*out = ps.rows;
		ret = (int)ps.n;
	} else
		pub_rows_free(ps.rows, ps.n);
	params_release(&p);
	return ret;
}

int
store_touch_queued(struct store *s, struct uuid *ids, size_t n)
{
	return update_ids(s, "UPDATE tasks SET due_at = NOW(6) WHERE id IN (",
	    ") AND state = 'queued'", ids, n, NULL, 0);
}

struct lease_scan {
	struct uuid	*ids;
	uint64_t	*fences;
	size_t		 n, max;
};

static int
lease_row(void *arg, struct row *r)
{
	struct lease_scan *ls = arg;

	if (ls->n >= ls->max || r->len[0] != UUID_LEN)
		return 0;
	memcpy(ls->ids[ls->n].b, r->col[0], UUID_LEN);
	if (u64_of(r->col[1], &ls->fences[ls->n]) == 0)
		ls->n++;
	return 0;
}

int
store_expire_leases(struct store *s, size_t max)
{
	struct lease_scan ls;
	struct params p;
	enum task_state st;
	MYSQL_STMT *stmt;
	size_t i;
	int n = 0, r;

	ls.ids = calloc(max, sizeof(*ls.ids));
	ls.fences = calloc(max, sizeof(*ls.fences));
	ls.n = 0;
	ls.max = max;
	if (ls.ids == NULL || ls.fences == NULL || params_init(&p, 1) == -1) {
		free(ls.ids);
		free(ls.fences);
		return oom(s);
	}
	p_int(&p, (long long)max);
	if ((stmt = stmt_run(s, SQL_EXPIRED_LEASES, &p, NULL)) == NULL ||
	    stmt_rows(s, stmt, lease_row, &ls) == -1) {
		n = -1;
		goto done;
	}
	for (i = 0; i < ls.n; i++) {
		r = store_release(s, &ls.ids[i], ls.fences[i],
		    "worker lost: lease expired", 1, &st);
		if (r == -1) {
			n = -1;
			goto done;
		}
		if (r == 1) {
			char idtxt[UUID_STRLEN + 1];

			uuid_fmt(&ls.ids[i], idtxt);
			log_info("event=lease_expired task=%s fence=%llu "
			    "state=%s", idtxt, (unsigned long long)ls.fences[i],
			    task_state_name(st));
			n++;
		}
	}
done:
	params_release(&p);
	free(ls.ids);
	free(ls.fences);
	return n;
}

int
store_reject(struct store *s, const struct uuid *id, const char *reason)
{
	struct params p;
	unsigned long long n = 0;
	int tries = 0;

	if (params_init(&p, 2) == -1)
		return oom(s);
	p_str(&p, reason);
	p_id(&p, id);
	while (stmt_run(s, "UPDATE tasks SET state = 'failed', error = ?, "
	    "due_at = NULL, finished_at = NOW(6) WHERE id = ? "
	    "AND state IN ('pending', 'queued', 'scheduled')", &p, &n) == NULL)
		if (!txn_again(s, &tries)) {
			params_release(&p);
			return -1;
		}
	params_release(&p);
	/* Counted apart: a lost count is no reason to reject again. */
	if (n == 1 && rollup_one(s, id, "failed") == -1)
		log_warnx("event=count_failed task_state=failed error=\"%s\"",
		    s->err);
	return (int)n;
}

/* ---- leadership ---- */

static int
u64_row(void *arg, struct row *r)
{
	(void)u64_of(r->col[0], arg);
	return 0;
}

int
store_lead(struct store *s, const char *name, const char *holder,
    int64_t ttl_ms, uint64_t *token)
{
	struct params p;
	unsigned long long n = 0;
	MYSQL_STMT *st;
	int tries = 0, ret = -1;

	if (params_init(&p, 5) == -1)
		return oom(s);
	/* token first: it must see the old holder. A lease row, not
	 * GET_LOCK, which a dropped connection frees without a word. */
	p_str(&p, holder);
	p_str(&p, holder);
	p_int(&p, ttl_ms);
	p_str(&p, name);
	p_str(&p, holder);
	while ((st = stmt_run(s, "UPDATE tq_leader SET "
	    "token = IF(holder <=> ?, token, token + 1), holder = ?, "
	    "expires_at = NOW(6) + INTERVAL ? * 1000 MICROSECOND "
	    "WHERE name = ? AND (holder <=> ? OR expires_at IS NULL OR "
	    "expires_at < NOW(6))", &p, &n)) == NULL)
		if (!txn_again(s, &tries))
			goto done;
	if (n == 0) {
		ret = 0;
		goto done;
	}
	p.n = 0;
	p_str(&p, name);
	if ((st = stmt_run(s, "SELECT token FROM tq_leader WHERE name = ?", &p,
	    NULL)) == NULL || stmt_rows(s, st, u64_row, token) == -1)
		goto done;
	ret = 1;
done:
	params_release(&p);
	return ret;
}

int
store_unlead(struct store *s, const char *name, const char *holder)
{
	struct params p;

	if (params_init(&p, 2) == -1)
		return oom(s);
	p_str(&p, name);
	p_str(&p, holder);
	if (stmt_run(s, "UPDATE tq_leader SET expires_at = NULL "
	    "WHERE name = ? AND holder = ?", &p, NULL) == NULL) {
		params_release(&p);
		return -1;
	}
	params_release(&p);
	return 0;
}

int
store_pub_rows(struct store *s, const struct uuid *ids, size_t n,
    struct pub_row **out)
{
	struct buf sql = BUF_INIT;
	struct pub_scan ps;
	struct params p;
	MYSQL_STMT *st;
	size_t i;
	int ret = -1;

	*out = NULL;
	if (n == 0)
		return 0;
	if (n > STORE_BATCH_MAX)
		n = STORE_BATCH_MAX;
	if ((ps.rows = calloc(n, sizeof(*ps.rows))) == NULL)
		return oom(s);
	ps.n = 0;
	ps.max = n;
	if (params_init(&p, n) == -1 || placeholders(&sql, "SELECT id, queue, "
	    "name, payload, priority FROM tasks WHERE id IN (", "?", n,
	    ") AND state = 'scheduled' AND due_at <= NOW(6)") == -1) {
		free(ps.rows);
		params_release(&p);
		buf_release(&sql);
		return oom(s);
	}
	for (i = 0; i < n; i++)
		p_id(&p, &ids[i]);
	st = stmt_run(s, sql.data, &p, NULL);
	if (st != NULL && stmt_rows(s, st, pub_row, &ps) != -1) {
		*out = ps.rows;
		ret = (int)ps.n;
	} else
		pub_rows_free(ps.rows, ps.n);
	params_release(&p);
	buf_release(&sql);
	return ret;
}

/* ---- nodes ---- */

struct node_seen {
	int	found, live;
	char	info[256];
};

static int
node_row(void *arg, struct row *r)
{
	struct node_seen *ns = arg;

	ns->found = 1;
	ns->live = r->col[0] && r->col[0][0] == '1';
	copy_col(ns->info, sizeof(ns->info), r->col[1]);
	return 0;
}

int
store_node_join(struct store *s, const char *node, const char *instance,
    int64_t stale_ms, int (*is_dead)(const char *), char *held, size_t heldsz)
{
	struct node_seen ns;
	struct params p;
	MYSQL_STMT *st;
	int tries = 0, ret = -1;

	if (params_init(&p, 3) == -1)
		return oom(s);
again:
	memset(&ns, 0, sizeof(ns));
	if (txn_begin(s) == -1)
		goto done;
	p.n = 0;
	p_int(&p, stale_ms);
	p_str(&p, node);
	if ((st = stmt_run(s, "SELECT seen_at >= NOW(6) - INTERVAL ? * 1000 "
	    "MICROSECOND, info FROM tq_nodes WHERE name = ? FOR UPDATE", &p,
	    NULL)) == NULL || stmt_rows(s, st, node_row, &ns) == -1)
		goto fail;
	/* The instance is info up to a '|' (the workers' text follows). */
	ns.info[strcspn(ns.info, "|")] = '\0';
	if (ns.found && ns.live && strcmp(ns.info, instance) != 0 &&
	    (is_dead == NULL || !is_dead(ns.info))) {
		txn_rollback(s);
		snprintf(held, heldsz, "%s", ns.info);
		ret = 0;
		goto done;
	}
	p.n = 0;
	p_str(&p, node);
	p_str(&p, instance);
	if (stmt_run(s, "REPLACE INTO tq_nodes (name, started_at, seen_at, "
	    "info) VALUES (?, NOW(6), NOW(6), ?)", &p, NULL) == NULL ||
	    txn_commit(s) == -1)
		goto fail;
	ret = 1;
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
store_node_beat(struct store *s, const char *node, const char *instance,
    const char *workers)
{
	char info[STORE_NODE_INFO_MAX + 1];
	struct params p;
	unsigned long long n = 0;
	int len;

	/* A text that does not fit is left out whole: a cut one would
	 * mislead, and a row too long for the column fails the beat. */
	len = snprintf(info, sizeof(info), "%s%s%s", instance,
	    workers[0] ? "|" : "", workers);
	if (len < 0 || (size_t)len >= sizeof(info))
		snprintf(info, sizeof(info), "%s", instance);
	if (params_init(&p, 3) == -1)
		return oom(s);
	p_str(&p, info);
	p_str(&p, node);
	p_str(&p, instance);
	if (stmt_run(s, SQL_NODE_BEAT, &p, &n) == NULL) {
		params_release(&p);
		return -1;
	}
	params_release(&p);
	if (n == 0) {
		snprintf(s->err, sizeof(s->err), "node \"%s\": the node row "
		    "was taken over or forgotten", node);
		s->errnum = 0;
		s->err_temp = 0;
		return -1;
	}
	return 0;
}

int
store_node_leave(struct store *s, const char *node, const char *instance)
{
	struct params p;
	MYSQL_STMT *st;

	if (params_init(&p, 2) == -1)
		return oom(s);
	p_str(&p, node);
	p_str(&p, instance);
	st = stmt_run(s, SQL_NODE_LEAVE, &p, NULL);
	params_release(&p);
	return st == NULL ? -1 : 0;
}

struct names_scan {
	char	(*names)[129];
	size_t	 n, cap;
};

static int
name_row(void *arg, struct row *r)
{
	struct names_scan *ns = arg;

	if (scan_grow(&ns->names, &ns->cap, ns->n, sizeof(*ns->names)) == -1)
		return -1;
	copy_col(ns->names[ns->n++], sizeof(ns->names[0]), r->col[0]);
	return 0;
}

int
store_dead_nodes(struct store *s, int64_t stale_ms, char (**names)[129])
{
	struct names_scan ns = { NULL, 0, 0 };
	struct params p;
	MYSQL_STMT *st;

	*names = NULL;
	if (params_init(&p, 1) == -1)
		return oom(s);
	p_int(&p, stale_ms);
	st = stmt_run(s, SQL_DEAD_NODES, &p, NULL);
	params_release(&p);
	if (st == NULL || stmt_rows(s, st, name_row, &ns) == -1) {
		free(ns.names);
		return -1;
	}
	*names = ns.names;
	return (int)ns.n;
}

int
store_node_forget(struct store *s, const char *node, int64_t stale_ms)
{
	struct params p;
	MYSQL_STMT *st;

	if (params_init(&p, 2) == -1)
		return oom(s);
	p_str(&p, node);
	p_int(&p, stale_ms);
	st = stmt_run(s, "DELETE FROM tq_nodes WHERE name = ? AND seen_at < "
	    "NOW(6) - INTERVAL ? * 1000 MICROSECOND", &p, NULL);
	params_release(&p);
	return st == NULL ? -1 : 0;
}
