/*
 * periodic.c: the main loop's timed duties: progress rows, and what a
 * standalone worker does that a supervisor does otherwise (lease renewal,
 * the cancel poll, counts of finished tasks); the reconciler's turn.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "worker_int.h"

/* Standalone, the worker asks the database itself whether any of its
 * tasks is to be cancelled (supervised, the supervisor asks for all). */
void
poll_cancels(void)
{
	const char *owner = W.owner;
	char (*owners)[129] = NULL;
	uint64_t *fences = NULL;
	struct uuid *ids = NULL;
	int n, i;

	W.next_cancel_poll = now_ms() + 250;
	if ((n = store_cancel_asked(W.cl.store, &owner, 1, &ids, &fences,
	    &owners)) == -1) {
		conn_db_error("cancel poll");
		return;
	}
	for (i = 0; i < n; i++)
		runner_cancel(&ids[i]);
	free(ids);
	free(fences);
	free(owners);
}

/* Progress goes to the row at most five times a second; fenced, so a
 * stale worker's progress does not show. */
void
write_progress(void)
{
	struct uuid id;
	uint64_t fence;
	unsigned pct;
	char msg[256];
	int ok = 0;

	pthread_mutex_lock(&W.mu);
	if (W.busy && W.prog_job < W.njobs) {
		id = W.jobs[W.prog_job].c.id;
		fence = W.jobs[W.prog_job].c.fence;
		pct = W.prog_pct;
		snprintf(msg, sizeof(msg), "%s", W.prog_msg);
		ok = 1;
	}
	W.prog_dirty = 0;
	pthread_mutex_unlock(&W.mu);
	W.next_progress = now_ms() + 200;
	if (ok && store_progress(W.cl.store, &id, fence, pct, msg) == -1)
		conn_db_error("progress");
}

void
renew_leases(void)
{
	struct uuid ids[STORE_BATCH_MAX];
	uint64_t fences[STORE_BATCH_MAX];
	size_t i, n = W.njobs < STORE_BATCH_MAX ? W.njobs : STORE_BATCH_MAX;
	int64_t t0 = now_ms();

	for (i = 0; i < n; i++) {
		ids[i] = W.jobs[i].c.id;
		fences[i] = W.jobs[i].c.fence;
	}
	if (store_renew(W.cl.store, ids, fences, n, W.cfg.lease_ms) == -1)
		conn_db_error("renew");
	else
		W.held_at = t0;
	W.next_renew = now_ms() + W.cfg.lease_ms / 3;
}

void
reconcile_tick(void)
{
	struct reconcile_stats rs;
	int64_t now = now_ms();
	int r;

	if (now >= W.next_lead) {
		r = store_lead(W.cl.store, "reconciler", W.owner,
		    W.cfg.leader_ttl_ms, &W.lead_token);
		if (r == -1) {
			conn_db_error("lead");
			return;
		}
		if (r != W.leader)
			log_info("event=%s role=reconciler token=%llu",
			    r ? "leader" : "follower",
			    (unsigned long long)W.lead_token);
		W.leader = r;
		W.next_lead = now + W.cfg.leader_ttl_ms / 3;
	}
	if (W.leader && client_reconcile(&W.cl, &rs) == -1)
		client_reconcile_failed(&W.cl);
	else if (W.leader && (rs.expired || rs.published || rs.stranded || rs.cron))
		log_info("event=reconciled expired=%d due=%d published=%d "
		    "stranded=%d cron=%d", rs.expired, rs.due, rs.published,
		    rs.stranded, rs.cron);
	if (W.leader && W.cl.store != NULL && history_retention(&W.cl,
	    &W.retention, 50) == -1)
		log_warnx("event=retention_failed error=\"%s\"", W.cl.err);
	W.next_tick = now + W.cfg.reconcile_ms;
}

/* A standalone worker writes its own counts of finished tasks to
 * tq_rollup (under a supervisor, the supervisor does). */
void
rollup_flush(void)
{
	struct rollup_row *r = NULL;
	int n;

	W.next_rollup = now_ms() + 5000;
	if ((n = tally_take(&W.tally, &r)) <= 0)
		return;
	if (store_rollup_add(W.cl.store, r, (size_t)n) == -1) {
		tally_untake(&W.tally, r, (size_t)n);
		conn_db_error("rollup");
	}
	free(r);
}
