/* web_act.c: tq web's actions, POST /api/... once web_http.c has checked
 * the write token and the CSRF value: cancel (one task, or every
 * scheduled one of a queue), retry (one task, or every failed one of a
 * queue; a scheduled task runs now), purge. Each takes the path of its tq
 * command (store_cancel, store_retry or store_run_now and a reconciler
 * pass, history_purge, store_pause and store_resume), and each is logged
 * with who asked. Pause and resume a queue too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "log.h"
#include "store.h"
#include "task.h"
#include "util.h"
#include "uuid.h"

#include "cli.h"
#include "web.h"

#define RETRY_ALL_MAX	10000	/* tasks retried (or cancelled) by one request */

/* Publishes what a retry scheduled now rather than at the leader's next
 * tick, as tq retry does; a broker away leaves it to the reconciler. */
static const char *
publish_now(void)
{
	struct reconcile_stats rs;

	if (client_reconcile(&W.c, &rs) == -1) {
		log_warnx("event=web_publish_deferred why=\"%s\"", W.c.err);
		return "deferred to the reconciler";
	}
	return "published";
}

/* store_cancel, with who asked as the task's error. */
static int
cancel_one(const struct web_req *r, const struct uuid *id,
    enum task_state *st)
{
	char reason[128];

	snprintf(reason, sizeof(reason), "cancelled by operator (tq web, %s)",
	    r->remote);
	return store_cancel(W.c.store, id, reason, st);
}

static int
act_cancel(const struct web_req *r, struct web_resp *w, const char *idtxt,
    const struct uuid *id)
{
	enum task_state st;
	int rc;

	if ((rc = cancel_one(r, id, &st)) == -1)
		return web_store_error(w);
	log_info("event=web_action action=cancel task=%s remote=%s "
	    "result=%s", idtxt, r->remote, rc == 0 ? "not_found" :
	    st == TS_RUNNING ? "stopping" : task_state_name(st));
	if (rc == 0)
		return web_error(w, 404, "task %s: not found", idtxt);
	if (st != TS_CANCELLED && st != TS_RUNNING)
		return web_error(w, 409, "task %s: already %s", idtxt,
		    task_state_name(st));
	w->json = json_pack("{s:s, s:s}", "id", idtxt, "state",
	    st == TS_RUNNING ? "stopping" : "cancelled");
	return 0;
}

static int
act_retry(const struct web_req *r, struct web_resp *w, const char *idtxt,
    const struct uuid *id)
{
	const char *pub;
	int rc;

	/* As tq retry: a failed task again, a scheduled one now. */
	if ((rc = store_retry_or_run(W.c.store, id)) == -1)
		return web_store_error(w);
	log_info("event=web_action action=retry task=%s remote=%s result=%s",
	    idtxt, r->remote, rc == 1 ? "scheduled" : rc == 2 ? "run_now" :
	    "not_failed");
	if (rc == 0)
		return web_error(w, 409, "task %s is neither failed nor "
		    "scheduled with a due time", idtxt);
	pub = publish_now();
	w->json = json_pack("{s:s, s:i, s:s}", "id", idtxt, "retried", 1,
	    "publish", pub);
	return 0;
}

/* The bulk actions: which tasks (of the queue asked, or all), and what
 * is done to each, as tq retry and tq cancel do it. */
struct bulk {
	const char	*path, *action, *done; /* "retry-failed", its log's
					   name, what its count says */
	int		(*list)(struct store *, const char *queue, size_t max,
			    struct uuid **ids);
	int		(*one)(const struct web_req *, const struct uuid *);
	int		 publish;	/* a reconciler pass after */
};

static int
bulk_retry(const struct web_req *r, const struct uuid *id)
{
	return store_retry(W.c.store, id);
}

static int
bulk_run_now(const struct web_req *r, const struct uuid *id)
{
	return store_run_now(W.c.store, id);
}

static int
bulk_cancel(const struct web_req *r, const struct uuid *id)
{
	enum task_state st;
	int rc;

	if ((rc = cancel_one(r, id, &st)) <= 0)
		return rc;
	return st == TS_CANCELLED;
}

static const struct bulk bulks[] = {
	{ "retry-failed", "retry_failed", "retried", store_failed, bulk_retry,
	    1 },
	{ "run-scheduled", "run_scheduled", "run_now", store_scheduled,
	    bulk_run_now, 1 },
	{ "cancel-scheduled", "cancel_scheduled", "cancelled", store_scheduled,
	    bulk_cancel, 0 },
	{ NULL, NULL, NULL, NULL, NULL, 0 },
};

static int
act_bulk(const struct web_req *r, struct web_resp *w, const struct bulk *b)
{
	const char *queue = web_arg(r, "queue", "");
	struct uuid *ids = NULL;
	int n, i, rc, done = 0;

	if (queue[0] && !task_name_ok(queue, TASK_QUEUE_MAX))
		return web_error(w, 400, "queue: bad queue name");
	if ((n = b->list(W.c.store, queue[0] ? queue : NULL, RETRY_ALL_MAX,
	    &ids)) == -1)
		return web_store_error(w);
	for (i = 0; i < n; i++) {
		if ((rc = b->one(r, &ids[i])) == -1) {
			free(ids);
			log_info("event=web_action action=%s queue=%s "
			    "remote=%s %s=%d result=error", b->action,
			    queue[0] ? queue : "*", r->remote, b->done, done);
			return web_store_error(w);
		}
		done += rc;
	}
	free(ids);
	log_info("event=web_action action=%s queue=%s remote=%s %s=%d",
	    b->action, queue[0] ? queue : "*", r->remote, b->done, done);
	w->json = json_pack("{s:i, s:s}", b->done, done, "publish",
	    done && b->publish ? publish_now() : "nothing");
	return 0;
}

static int
act_purge(const struct web_req *r, struct web_resp *w)
{
	const char *state = web_arg(r, "state", ""), *queue = web_arg(r,
	    "queue", ""), *older = web_arg(r, "older_than", ""), *errstr;
	long long ms;
	long n;
	int st;

	if ((st = task_state_parse(state)) == -1 ||
	    !task_state_terminal((enum task_state)st))
		return web_error(w, 400, "state: \"%s\" is not succeeded, "
		    "failed or cancelled", state);
	if (queue[0] && !task_name_ok(queue, TASK_QUEUE_MAX))
		return web_error(w, 400, "queue: bad queue name");
	if (parse_duration(older, 100LL * 365 * 86400 * 1000, &ms,
	    &errstr) == -1)
		return web_error(w, 400, "older_than: \"%s\" is %s", older,
		    errstr);
	n = history_purge(&W.c, (enum task_state)st, queue[0] ? queue : NULL,
	    ms);
	log_info("event=web_action action=purge state=%s queue=%s "
	    "older_than_ms=%lld remote=%s purged=%ld", state,
	    queue[0] ? queue : "*", ms, r->remote, n);
	if (n == -1)
		return web_error(w, W.c.err_temp ? 503 : 500, "purge: %s",
		    W.c.err);
	w->json = json_pack("{s:I}", "purged", (json_int_t)n);
	return 0;
}

/* queues/Q/pause, queues/Q/resume: as tq pause and tq resume. */
static int
act_queue(const struct web_req *r, struct web_resp *w, const char *p)
{
	char queue[TASK_QUEUE_MAX + 1], by[128];
	const char *slash = strchr(p, '/');
	int pause, rc;

	if (slash == NULL || (size_t)(slash - p) >= sizeof(queue))
		return web_error(w, 404, "no such action");
	memcpy(queue, p, (size_t)(slash - p));
	queue[slash - p] = '\0';
	if (!task_name_ok(queue, TASK_QUEUE_MAX))
		return web_error(w, 400, "bad queue name");
	if (strcmp(slash + 1, "pause") == 0)
		pause = 1;
	else if (strcmp(slash + 1, "resume") == 0)
		pause = 0;
	else
		return web_error(w, 404, "no such action");
	snprintf(by, sizeof(by), "tq web, %s", r->remote);
	rc = pause ? store_pause(W.c.store, queue, by) :
	    store_resume(W.c.store, queue);
	if (rc == -1)
		return web_store_error(w);
	log_info("event=web_action action=%s queue=%s remote=%s result=%s",
	    pause ? "pause" : "resume", queue, r->remote, rc ? "done" :
	    pause ? "already_paused" : "not_paused");
	w->json = json_pack("{s:s, s:b, s:b}", "queue", queue, "paused", pause,
	    "changed", rc);
	return 0;
}

int
web_act_post(const struct web_req *r, struct web_resp *w)
{
	char idtxt[UUID_STRLEN + 1];
	const char *p = r->path, *verb;
	struct uuid id;
	int i;

	if (client_store(&W.c) == -1)
		return web_error(w, W.c.err_temp ? 503 : 500, "%s", W.c.err);
	for (i = 0; bulks[i].path != NULL; i++)
		if (strcmp(p, bulks[i].path) == 0)
			return act_bulk(r, w, &bulks[i]);
	if (strcmp(p, "purge") == 0)
		return act_purge(r, w);
	if (strncmp(p, "queues/", 7) == 0)
		return act_queue(r, w, p + 7);
	if (strncmp(p, "tasks/", 6) != 0 || strlen(p) < 6 + UUID_STRLEN + 2 ||
	    p[6 + UUID_STRLEN] != '/')
		return web_error(w, 404, "no such action");
	memcpy(idtxt, p + 6, UUID_STRLEN);
	idtxt[UUID_STRLEN] = '\0';
	if (uuid_parse(idtxt, &id) == -1)
		return web_error(w, 400, "not a task id");
	verb = p + 6 + UUID_STRLEN + 1;
	if (strcmp(verb, "cancel") == 0)
		return act_cancel(r, w, idtxt, &id);
	if (strcmp(verb, "retry") == 0)
		return act_retry(r, w, idtxt, &id);
	return web_error(w, 404, "no such action");
}
