/*
 * history.c: counts and retention of finished tasks (see history.h). Every
 * statement here is an index range bounded by live work, by one queue's
 * expired rows, or by the hours of tq_rollup in a window.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "history.h"
#include "log.h"
#include "store.h"
#include "util.h"

static struct stat_row *
stat_find(struct stat_row **rows, int *n, const char *queue)
{
	struct stat_row *r;
	int i;

	for (i = 0; i < *n; i++)
		if (strcmp((*rows)[i].queue, queue) == 0)
			return &(*rows)[i];
	if ((r = reallocarray(*rows, (size_t)*n + 1, sizeof(*r))) == NULL)
		return NULL;
	*rows = r;
	r = &r[(*n)++];
	memset(r, 0, sizeof(*r));
	snprintf(r->queue, sizeof(r->queue), "%s", queue);
	return r;
}

static int
queue_cmp(const void *a, const void *b)
{
	return strcmp(((const struct stat_row *)a)->queue,
	    ((const struct stat_row *)b)->queue);
}

static const enum task_state of[RO_COUNT] = { TS_SUCCEEDED, TS_FAILED,
	TS_COUNT, TS_CANCELLED };

/* Adds n finished tasks of outcome o to queue's row. 0, or -1 (c->err). */
static int
stat_add(struct client *c, struct stat_row **rows, int *n, const char *queue,
    enum rollup_outcome o, uint64_t k)
{
	struct stat_row *r;

	if (of[o] == TS_COUNT)
		return 0;	/* retried: not an end */
	if ((r = stat_find(rows, n, queue)) == NULL) {
		snprintf(c->err, sizeof(c->err), "out of memory");
		c->err_temp = 1;
		return -1;
	}
	r->count[of[o]] += (unsigned long)k;
	return 0;
}

int
history_stats(struct client *c, struct stat_row **out)
{
	struct rollup_row *ro = NULL, *w = NULL;
	struct stat_row *rows = NULL;
	int64_t now = (int64_t)time(NULL), max, keep, since;
	int n, nr, nw, i;

	*out = NULL;
	if (client_store(c) == -1)
		return -1;
	if ((n = store_live(c->store, &rows)) == -1)
		return client_store_failed(c);
	/* The hours the leader closed are summed in tq_window, its edges
	 * where the leader's windows are; the open hours (or all of them
	 * when no leader ever closed one) come from tq_rollup. */
	max = config_keep_max_ms(&c->cfg);
	since = max == 0 ? 0 : now - max / 1000 - 3600;
	if ((nw = store_window_snapshot(c->store, since, &w, &ro, &nr)) ==
	    -1) {
		free(rows);
		return client_store_failed(c);
	}
	for (i = 0; i < nw; i++)
		if (stat_add(c, &rows, &n, w[i].queue, w[i].outcome,
		    w[i].n) == -1)
			goto fail;
	for (i = 0; i < nr; i++) {
		keep = config_keep_ms(&c->cfg, ro[i].queue,
		    (int)of[ro[i].outcome]);
		/* An hour counts when any of it is inside the window. */
		if (keep > 0 && ro[i].hour + 3600 <= now - keep / 1000)
			continue;
		if (stat_add(c, &rows, &n, ro[i].queue, ro[i].outcome,
		    ro[i].n) == -1)
			goto fail;
	}
	free(w);
	free(ro);
	if (n > 1)
		qsort(rows, (size_t)n, sizeof(*rows), queue_cmp);
	*out = rows;
	return n;
fail:
	free(w);
	free(ro);
	free(rows);
	return -1;
}

/* The last hour wholly before queue's window for outcome o (0: nothing
 * is, the window is forever), never past the last hour closed. */
static int64_t
window_edge(const struct config *cfg, const char *queue,
    enum rollup_outcome o, int64_t now, int64_t closed)
{
	int64_t keep, edge;

	if (of[o] == TS_COUNT)
		return 0;
	if ((keep = config_keep_ms(cfg, queue, (int)of[o])) <= 0)
		return 0;
	edge = (now - keep / 1000) / 3600 * 3600 - 3600;
	if (edge > closed)
		edge = closed;
	return edge < 0 ? 0 : edge;
}

int
history_window(struct client *c)
{
	struct rollup_row *w = NULL;
	int64_t now = wall_ms() / 1000, closed, edge;
	int i, n;

	if (client_store(c) == -1)
		return -1;
	/* The hours that ended a minute ago or more: a flush that began in
	 * one has committed by then. */
	if (store_window_close(c->store, (now - 60) / 3600 * 3600 - 3600,
	    &closed) == -1 || (n = store_window_rows(c->store, &w)) == -1)
		return client_store_failed(c);
	for (i = 0; i < n; i++) {
		edge = window_edge(&c->cfg, w[i].queue, w[i].outcome, now,
		    closed);
		if (edge != w[i].hour && store_window_move(c->store,
		    w[i].queue, w[i].outcome, w[i].hour, edge) == -1) {
			free(w);
			return client_store_failed(c);
		}
	}
	free(w);
	return 0;
}

static int
state_index(enum task_state st)
{
	return st == TS_SUCCEEDED ? 0 : st == TS_FAILED ? 1 : 2;
}

long
history_retention(struct client *c, struct retention *rt, int64_t budget_ms)
{
	struct done_queue *dq = NULL;
	int64_t t0 = now_ms(), wall = wall_ms(), keep, max;
	long total = 0;
	int i, k, n, nq, spent = 0;

	if (t0 < rt->next_at)
		return 0;
	if (client_store(c) == -1)
		return -1;
	/* Each (state, queue) with its oldest row: only those past their
	 * window cost a statement more. */
	if ((nq = store_done_queues(c->store, &dq)) == -1)
		return client_store_failed(c);
	for (k = 0; k < nq && !spent; k++) {
		/* Round robin: a queue with a backlog does not starve the
		 * others across passes. */
		i = (int)((rt->turn + (unsigned)k) % (unsigned)nq);
		keep = config_keep_ms(&c->cfg, dq[i].queue, (int)dq[i].state);
		if (keep <= 0 || dq[i].oldest >= wall - keep)
			continue;
		do {
			n = store_prune(c->store, dq[i].state, dq[i].queue, keep,
			    (size_t)c->cfg.retention_batch);
			if (n == -1) {
				free(dq);
				return client_store_failed(c);
			}
			rt->deleted[state_index(dq[i].state)] += (unsigned long)n;
			total += n;
			spent = now_ms() - t0 >= budget_ms;
		} while (n == c->cfg.retention_batch && !spent);
	}
	rt->turn += (unsigned)k;
	free(dq);
	/* A backlog goes on at the next tick; else look again in a second. */
	rt->backlog = spent;
	rt->next_at = spent ? 0 : now_ms() + 1000;
	if (now_ms() - rt->window_at >= 60000) {
		if (history_window(c) == -1)
			return -1;
		/* And the limit keys nobody used for an hour. */
		if (store_limit_gc(c->store) == -1)
			return client_store_failed(c);
		rt->window_at = now_ms();
	}
	if (now_ms() - rt->rollup_at >= 3600000) {
		/* Counts outlive the rows they count by a day; kept forever
		 * when any rows are. */
		max = config_keep_max_ms(&c->cfg);
		if (max > 0 && store_rollup_prune(c->store, max + 86400000) ==
		    -1)
			return client_store_failed(c);
		rt->rollup_at = now_ms();
	}
	return total;
}

const char *
history_not_found(const struct config *cfg, const struct uuid *id,
    char *buf, size_t size)
{
	long long k[3] = { cfg->keep_succeeded, cfg->keep_failed,
	    cfg->keep_cancelled }, min = 0;
	char idtxt[UUID_STRLEN + 1], when[32];
	time_t t = (time_t)(uuid_v7_ms(id) / 1000);
	struct tm tm;
	int i;

	uuid_fmt(id, idtxt);
	for (i = 0; i < 3; i++)
		if (k[i] > 0 && (min == 0 || k[i] < min))
			min = k[i];
	if (min == 0 || uuid_v7_ms(id) > wall_ms() - min ||
	    gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, size, "task %s: not found", idtxt);
		return buf;
	}
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, size, "task %s: not found: created %s UTC, it may have "
	    "finished and been deleted by retention (keep_succeeded, "
	    "keep_failed, keep_cancelled)", idtxt, when);
	return buf;
}

long
history_purge(struct client *c, enum task_state state, const char *queue,
    int64_t older_ms)
{
	struct done_queue *dq = NULL, one;
	long total = 0;
	int n, i, k;

	if (client_store(c) == -1)
		return -1;
	if (queue != NULL) {
		memset(&one, 0, sizeof(one));
		one.state = state;
		snprintf(one.queue, sizeof(one.queue), "%s", queue);
		n = 1;
	} else if ((n = store_done_queues(c->store, &dq)) == -1)
		return client_store_failed(c);
	for (i = 0; i < n; i++) {
		if (dq != NULL && dq[i].state != state)
			continue;
		do {
			k = store_prune(c->store, state, dq ? dq[i].queue :
			    one.queue, older_ms, STORE_BATCH_MAX);
			if (k == -1) {
				free(dq);
				return client_store_failed(c);
			}
			total += k;
		} while (k == STORE_BATCH_MAX);
	}
	free(dq);
	return total;
}
