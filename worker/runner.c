/*
 * runner.c: the handler thread, which runs a batch's tasks one after the
 * other (a [task NAME] program, served or not, a plugin's handler or a
 * built-in), and how the main thread stops it: time limits, cancels and
 * fences, soft first, then the process goes.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "worker_int.h"

static void
report_progress(struct hctx *h, unsigned pct, const char *msg)
{
	pthread_mutex_lock(&W.mu);
	W.prog_pct = pct > 100 ? 100 : pct;
	snprintf(W.prog_msg, sizeof(W.prog_msg), "%s", msg ? msg : "");
	W.prog_dirty = 1;
	W.prog_job = (size_t)(uintptr_t)h->priv;
	pthread_mutex_unlock(&W.mu);
}

static void
run_job(struct job *j, size_t idx)
{
	const struct task_conf *tc;
	int found;
	struct hctx h;
	handler_fn fn;
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	ledger_begin(j);
	memset(&h, 0, sizeof(h));
	h.name = j->name;
	h.queue = W.cfg.queue;
	h.payload = j->payload;
	h.len = j->len;
	h.attempt = j->c.attempt;
	h.max_attempts = j->c.max_attempts;
	h.timeout_ms = j->c.timeout_ms;
	uuid_fmt(&j->c.id, h.id);
	h.result = &j->result;
	h.cancel = &W.cancel;
	h.progress = report_progress;
	h.priv = (void *)(uintptr_t)idx;
	if (j->skip) {
		j->ok = 0;
		snprintf(j->error, sizeof(j->error), j->fenced ? "not run: "
		    "lease not vouched for" : "cancelled");
	} else if ((tc = exec_find(j->name)) != NULL) {
		j->ok = (tc->serve ? serve_run(tc, &h) : exec_run(tc, &h)) == 0;
		if (!j->ok)
			snprintf(j->error, sizeof(j->error), "%s", h.error[0] ?
			    h.error : "program failed");
	} else if ((j->ok = plugin_run(j->name, &h, &found) == 0), found) {
		if (!j->ok)
			snprintf(j->error, sizeof(j->error), "%s", h.error[0] ?
			    h.error : "handler failed");
	} else if ((fn = handler_find(j->name)) == NULL) {
		snprintf(j->error, sizeof(j->error), "unknown task name \"%s\"",
		    j->name);
		j->ok = 0;
		j->permanent = 1;
	} else if (fn(&h) == 0) {
		j->ok = 1;
	} else {
		j->ok = 0;
		snprintf(j->error, sizeof(j->error), "%s", h.error[0] ?
		    h.error : "handler failed");
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	pthread_mutex_lock(&W.mu);
	if (W.stop_why == STOP_FENCED) {
		j->ok = 0;
		j->fenced = 1;
		snprintf(j->error, sizeof(j->error), "stopped: lease not "
		    "vouched for (node cut off)");
	} else if (W.stop_why == STOP_TIMEOUT) {
		j->ok = 0;
		j->timed_out = 1;
		snprintf(j->error, sizeof(j->error), "timed out after %u ms",
		    j->c.timeout_ms);
	} else if (W.stop_why == STOP_CANCEL && !j->ok)
		snprintf(j->error, sizeof(j->error), "cancelled");
	pthread_mutex_unlock(&W.mu);
	ledger_end(j);
	j->us = (int64_t)(b.tv_sec - a.tv_sec) * 1000000 +
	    (b.tv_nsec - a.tv_nsec) / 1000;
}

/* Tells the supervisor which task the handler holds: if the process dies
 * now, that task is the one charged with the attempt. */
/* Whether a lapse of the node's hold stops j: a task under a limit
 * (two runs at once would break it), or any with fence_all. */
static int
fence_scope(const struct job *j)
{
	return W.cfg.fence_all || j->c.limit_key[0] != '\0';
}

static void
task_frame(enum proto_type type, struct job *j)
{
	struct frame f;

	pthread_mutex_lock(&W.mu);
	W.cur_set = type == P_TASK_BEGIN;
	W.cur = j->c.id;
	W.cur_fence = j->c.fence;
	if (type == P_TASK_BEGIN) {
		W.prog_pct = 0;
		W.cur_idx = (size_t)(j - W.jobs);
		j->started = 1;
		W.cur_started = now_ms();
		W.cur_timeout_ms = j->c.timeout_ms;
		W.stop_why = 0;
		W.hard_at = 0;
		W.cancel = 0;
	}
	pthread_mutex_unlock(&W.mu);
	if (W.sup == -1)
		return;
	memset(&f, 0, sizeof(f));
	f.type = type;
	f.u.task.task = j->c.id;
	f.u.task.fence = j->c.fence;
	f.u.task.attempt = j->c.attempt;
	f.u.task.ok = (uint8_t)(type == P_TASK_BEGIN ? fence_scope(j) : j->ok);
	/* Blocking is fine here: the supervisor reads at once. */
	if (proto_send(W.sup, &f) == -1 && errno != EAGAIN)
		log_warn("event=supervisor_send_failed frame=%d", (int)type);
}

void *
runner_main(void *arg)
{
	uint64_t seen = 0, one = 1;
	sigset_t all;
	size_t i;

	(void)arg;
	/* Signals belong to the main thread's signalfd. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&W.mu);
	for (;;) {
		while (!W.quit && W.batch_seq == seen)
			pthread_cond_wait(&W.cv, &W.mu);
		if (W.quit)
			break;
		seen = W.batch_seq;
		pthread_mutex_unlock(&W.mu);
		for (i = 0; i < W.njobs; i++) {
			task_frame(P_TASK_BEGIN, &W.jobs[i]);
			run_job(&W.jobs[i], i);
			task_frame(P_TASK_END, &W.jobs[i]);
		}
		pthread_mutex_lock(&W.mu);
		W.batch_done = 1;
		if (write(W.efd, &one, sizeof(one)) != sizeof(one))
			log_warn("eventfd write");
	}
	pthread_mutex_unlock(&W.mu);
	/* Served children go before this thread: they would die with it
	 * (PR_SET_PDEATHSIG), but they are told and reaped. */
	serve_shutdown();
	return NULL;
}

/* A cancel request for one of our tasks: the running one is told (soft:
 * the handler sees the flag, an exec child gets SIGTERM), one not yet
 * started is skipped. */
void
runner_cancel(const struct uuid *id)
{
	char idtxt[UUID_STRLEN + 1];
	size_t i;

	pthread_mutex_lock(&W.mu);
	if (W.cur_set && uuid_cmp(&W.cur, id) == 0) {
		if (W.stop_why == 0) {
			W.stop_why = STOP_CANCEL;
			W.cancel = 1;
			W.hard_at = now_ms() + STOP_GRACE_MS;
			uuid_fmt(id, idtxt);
			log_info("event=cancel task=%s action=stop", idtxt);
		}
	} else if (W.busy)
		for (i = 0; i < W.njobs; i++)
			if (uuid_cmp(&W.jobs[i].c.id, id) == 0)
				W.jobs[i].skip = 1;
	pthread_mutex_unlock(&W.mu);
}

/* The supervisor could not renew this node's hold on its tasks
 * (SIGUSR1): soon the cluster may give them to another node, so the
 * running handler is stopped and the rest of the batch is not started,
 * before that can happen: those under a limit (fence_scope), whose two
 * runs at once would exceed it; every one with fence_all. Their runs are lost; the outcomes recorded
 * (fenced: a failure to retry, or stale) once the database answers. */
void
runner_fence(void)
{
	char idtxt[UUID_STRLEN + 1];
	size_t i, skipped = 0;

	pthread_mutex_lock(&W.mu);
	if (W.busy)
		for (i = 0; i < W.njobs; i++)
			if (!W.jobs[i].started && !W.jobs[i].skip &&
			    fence_scope(&W.jobs[i])) {
				W.jobs[i].skip = 1;
				W.jobs[i].fenced = 1;
				skipped++;
			}
	if (W.cur_set && W.stop_why != STOP_FENCED && W.busy &&
	    W.cur_idx < W.njobs && fence_scope(&W.jobs[W.cur_idx])) {
		/* Whatever stop was under way, this one is shorter. */
		W.stop_why = STOP_FENCED;
		W.cancel = 1;
		W.hard_at = now_ms() + FENCE_GRACE_MS;
		uuid_fmt(&W.cur, idtxt);
		log_warnx("event=fenced task=%s skipped=%zu action=stop "
		    "reason=\"lease not vouched for\"", idtxt, skipped);
	} else if (skipped > 0)
		log_warnx("event=fenced skipped=%zu reason=\"lease not vouched "
		    "for\"", skipped);
	pthread_mutex_unlock(&W.mu);
}

/* Standalone, the worker renews its own leases: if it could not for
 * nearly a lease, the leader may requeue the batch, so it fences itself
 * a third of the lease (at most 1 s) before. Not with
 * TQ_DEBUG_UNSAFE=nofence, whose stale workers must be able to finish.
 * (A frozen process cannot fence itself: the store's fence covers it.) */
void
runner_self_fence(void)
{
	int64_t m = W.cfg.lease_ms / 3;

	if (m > 1000)
		m = 1000;
	if (W.sup != -1 || !W.busy || store_debug_nofence ||
	    now_ms() < W.held_at + W.cfg.lease_ms - m)
		return;
	runner_fence();
}

/* Time limits, and handlers that ignore a stop: past the grace period the
 * outcome is written for them, and the process goes (a thread cannot be
 * killed; the supervisor restarts us and gives back the rest). */
void
runner_watch(void)
{
	struct finish f;
	char idtxt[UUID_STRLEN + 1];
	int64_t now = now_ms();
	int hard = 0, why = 0;
	struct job j;

	pthread_mutex_lock(&W.mu);
	if (W.cur_set && W.stop_why == 0 && W.cur_timeout_ms > 0 &&
	    now - W.cur_started >= W.cur_timeout_ms) {
		W.stop_why = STOP_TIMEOUT;
		W.cancel = 1;
		W.hard_at = now + STOP_GRACE_MS;
		uuid_fmt(&W.cur, idtxt);
		log_info("event=timeout task=%s timeout_ms=%u action=stop",
		    idtxt, W.cur_timeout_ms);
	}
	if (W.cur_set && W.hard_at != 0 && now >= W.hard_at) {
		hard = 1;
		j = W.jobs[W.cur_idx];
		why = W.stop_why;
	}
	pthread_mutex_unlock(&W.mu);
	if (!hard)
		return;
	uuid_fmt(&j.c.id, idtxt);
	log_warnx("event=stop_ignored task=%s action=exit", idtxt);
	/* Fenced, the database is likely out of reach, and the task is
	 * given back by the supervisor or the cluster. */
	if (why == STOP_FENCED)
		_exit(EXIT_TEMP);
	memset(&f, 0, sizeof(f));
	f.id = j.c.id;
	f.fence = j.c.fence;
	f.attempt = j.c.attempt;
	f.max_attempts = j.c.max_attempts;
	f.backoff_base_ms = j.c.backoff_base_ms;
	f.backoff_cap_ms = j.c.backoff_cap_ms;
	f.outcome = why == STOP_CANCEL ? FIN_CANCELLED : FIN_FAILED;
	snprintf(j.error, sizeof(j.error), why == STOP_TIMEOUT ?
	    "timed out after %u ms (killed)" : "cancelled (killed)",
	    j.c.timeout_ms);
	f.error = j.error;
	if (W.cl.store == NULL || store_finish(W.cl.store, &f, 1) == -1)
		log_warnx("event=stop_record_failed task=%s", idtxt);
	_exit(EXIT_TEMP);
}
