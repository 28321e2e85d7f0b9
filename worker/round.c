/*
 * round.c: a round of the main loop: claim the deliveries (fenced, with
 * the outcomes of the batch before in the same transaction), settle them
 * with the broker, hand the claimed ones to the handler thread; and record
 * a finished batch's outcomes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "worker_int.h"

/* A call that held the main loop for long says so: the loop is what
 * keeps deliveries, leases and outcomes moving. */
static void
slow(const char *op, int64_t t0, size_t n)
{
	int64_t ms = now_ms() - t0;

	if (ms >= 1000)
		log_warnx("event=slow op=%s ms=%lld tasks=%zu", op,
		    (long long)ms, n);
}

static size_t
round_size(void)
{
	double n = ROUND_TARGET_US / (W.avg_us > 1 ? W.avg_us : 1);

	if (n < 1)
		n = 1;
	if (n > (double)W.cfg.batch)
		n = (double)W.cfg.batch;
	return (size_t)n;
}

static void
reject(struct delivery *d, const char *why)
{
	W.n_bad++;
	log_warnx("event=bad_message tag=%llu message_id=\"%s\" error=\"%s\" "
	    "action=dead_lettered", (unsigned long long)d->tag, d->message_id,
	    why);
	if (W.consumer && broker_reject(W.consumer, d->tag) == -1)
		conn_broker_lost(broker_errstr(W.consumer));
}

static void	finish_post(struct finish *);

/* A round: claims deliveries. With fin (the outcomes of the batch just
 * done), records them in the claim's transaction: one commit a round. */
void
round_start(struct finish *fin)
{
	struct claim *c = NULL;
	struct job *jobs = NULL;
	struct delivery *dl = NULL;
	struct task_msg m;
	char (*why)[256] = NULL, idtxt[UUID_STRLEN + 1];
	size_t i, k, n, nj = 0, nc = 0;
	uint64_t maxtag = 0, gen;
	int *slot = NULL, owned, r, nrej;
	int64_t t0;

	n = round_size();
	if (n > W.npend)
		n = W.npend;

	jobs = calloc(n, sizeof(*jobs));
	c = calloc(n, sizeof(*c));
	slot = calloc(n, sizeof(*slot));
	dl = calloc(n, sizeof(*dl));
	why = calloc(n, sizeof(*why));
	if (jobs == NULL || c == NULL || slot == NULL || dl == NULL ||
	    why == NULL) {
		log_error("event=oom");
		goto out;
	}
	/* The round's deliveries leave the pending list now: a lost
	 * connection below frees only what is left there. */
	memcpy(dl, W.pend, n * sizeof(*dl));
	memmove(W.pend, W.pend + n, (W.npend - n) * sizeof(*W.pend));
	W.npend -= n;
	gen = W.conn_gen;
	for (i = 0; i < n; i++) {
		slot[i] = -1;
		if (task_msg_decode(dl[i].body, dl[i].len,
		    (size_t)W.cfg.payload_max, &m, why[i],
		    sizeof(why[i])) == -1) {
			if (m.has_id) {
				/* Its row, if any, fails with the reason. */
				uuid_fmt(&m.id, idtxt);
				if (store_reject(W.cl.store, &m.id, why[i]) ==
				    -1) {
					conn_db_error("reject");
					goto putback;
				}
				log_warnx("event=task_rejected task=%s "
				    "error=\"%s\"", idtxt, why[i]);
			}
			slot[i] = -2;
			continue;
		}
		if (W.unsafe_drop && ++W.n_seen % 10 == 0) {
			/* Broken on purpose: acked, never claimed or run. */
			uuid_fmt(&m.id, idtxt);
			log_warnx("event=debug_drop task=%s", idtxt);
			slot[i] = -4;
			continue;
		}
		/* The same id twice in one round: the second is a duplicate. */
		for (k = 0; k < nc; k++)
			if (uuid_cmp(&c[k].id, &m.id) == 0)
				break;
		if (k < nc) {
			slot[i] = -3;
			continue;
		}
		c[nc++].id = m.id;
		jobs[nj].c.id = m.id;
		snprintf(jobs[nj].name, sizeof(jobs[nj].name), "%s", m.name);
		jobs[nj].payload = m.payload;
		jobs[nj].len = m.payload_len;
		jobs[nj].body = dl[i].body;
		jobs[nj].tag = dl[i].tag;
		nj++;
	}
	t0 = now_ms();
	r = nc > 0 || fin != NULL ? store_finish_claim(W.cl.store, fin,
	    fin ? W.njobs : 0, W.owner, W.cfg.lease_ms, c, nc) : 0;
	slow(fin ? "finish_claim" : "claim", t0, nc + (fin ? W.njobs : 0));
	if (r == -1) {
		/* Nothing claimed (nor recorded): the deliveries wait for the
		 * next try, the outcomes are kept. */
		conn_db_error(fin ? "finish" : "claim");
		goto putback;
	}
	if (fin != NULL) {
		finish_post(fin);
		fin = NULL;
	}
	/* store_claim sorted c; match results back by id. */
	for (i = 0; i < nj; i++)
		for (k = 0; k < nc; k++)
			if (uuid_cmp(&c[k].id, &jobs[i].c.id) == 0) {
				jobs[i].c = c[k];
				break;
			}
	/* Settle every delivery of the round with the broker (if the
	 * connection that delivered them still stands): rejects go to the
	 * dead-letter queue, the rest are acked. */
	nrej = 0;
	for (i = 0; i < nj; i++) {
		uuid_fmt(&jobs[i].c.id, idtxt);
		switch (jobs[i].c.result) {
		case CLAIM_OK:
			break;
		case CLAIM_NOROW:
			log_warnx("event=orphan_message task=%s "
			    "action=dead_lettered", idtxt);
			for (k = 0; k < n; k++)
				if (dl[k].tag == jobs[i].tag) {
					slot[k] = -2;
					snprintf(why[k], sizeof(why[k]),
					    "no such task");
				}
			break;
		default:
			W.n_dup++;
			log_info("event=duplicate task=%s state=%s action=dropped",
			    idtxt, task_state_name(jobs[i].c.state));
			break;
		}
	}
	for (i = 0; i < n; i++) {
		if (slot[i] == -3)
			W.n_dup++;
		if (slot[i] == -2)
			nrej++;
		else if (dl[i].tag > maxtag)
			maxtag = dl[i].tag;
	}
	for (i = 0, k = 0; i < nj; i++)
		if (jobs[i].c.result == CLAIM_OK)
			jobs[k++] = jobs[i];
	nj = k;
	if (W.conn_gen == gen && nrej == 0 && maxtag > 0) {
		/* The common case: one multiple ack settles the round. */
		if (broker_ack(W.consumer, maxtag, 1) == -1)
			conn_broker_lost(broker_errstr(W.consumer));
	} else if (W.conn_gen == gen) {
		/* A multiple ack would settle the rejected ones twice (the
		 * broker closes the channel for that): one by one. */
		for (i = 0; i < n && W.conn_gen == gen; i++) {
			if (slot[i] == -2)
				reject(&dl[i], why[i]);
			else if (broker_ack(W.consumer, dl[i].tag, 0) == -1)
				conn_broker_lost(broker_errstr(W.consumer));
		}
	}
	/* If the connection is gone, the broker redelivers what was not
	 * settled: duplicates, dropped by their rows. */
	for (i = 0; i < nj; i++) {
		uuid_fmt(&jobs[i].c.id, idtxt);
		log_debug("event=claimed task=%s fence=%llu attempt=%u", idtxt,
		    (unsigned long long)jobs[i].c.fence, jobs[i].c.attempt);
	}
	/* The bodies of claimed tasks now belong to their jobs. */
	for (i = 0; i < n; i++) {
		for (owned = 0, k = 0; k < nj; k++)
			owned |= jobs[k].body == dl[i].body;
		if (!owned)
			delivery_release(&dl[i]);
	}
	if (nj == 0)
		goto out;
	pthread_mutex_lock(&W.mu);
	W.jobs = jobs;
	W.njobs = nj;
	W.batch_done = 0;
	W.ledgered = 0;
	W.busy = 1;
	W.batch_seq++;
	pthread_cond_signal(&W.cv);
	pthread_mutex_unlock(&W.mu);
	jobs = NULL;
	W.next_renew = now_ms() + W.cfg.lease_ms / 3;
	goto out;
putback:
	/* Back to the front of the list if their connection still stands;
	 * else they are void (the broker redelivers them). */
	if (W.conn_gen == gen && W.npend + n <= PEND_MAX) {
		memmove(W.pend + n, W.pend, W.npend * sizeof(*W.pend));
		memcpy(W.pend, dl, n * sizeof(*dl));
		W.npend += n;
	} else
		for (i = 0; i < n; i++)
			delivery_release(&dl[i]);
out:
	free(fin);
	free(jobs);
	free(c);
	free(slot);
	free(dl);
	free(why);
}

/* The outcomes of the finished batch, to record (NULL: out of memory). */
struct finish *
round_outcomes(void)
{
	struct finish *f;
	size_t i;

	if ((f = calloc(W.njobs, sizeof(*f))) == NULL) {
		log_error("event=oom");
		return NULL;
	}
	for (i = 0; i < W.njobs; i++) {
		struct job *j = &W.jobs[i];

		f[i].id = j->c.id;
		f[i].fence = j->c.fence;
		f[i].attempt = j->c.attempt;
		f[i].max_attempts = j->permanent ? j->c.attempt :
		    j->c.max_attempts;
		f[i].backoff_base_ms = j->c.backoff_base_ms;
		f[i].backoff_cap_ms = j->c.backoff_cap_ms;
		if (j->ok && j->result.len > (size_t)W.cfg.result_max) {
			j->ok = 0;
			j->permanent = 1;
			f[i].max_attempts = j->c.attempt;
			snprintf(j->error, sizeof(j->error), "result of %zu "
			    "bytes exceeds result_max (%lld)", j->result.len,
			    W.cfg.result_max);
		}
		if (j->ok) {
			f[i].outcome = FIN_SUCCEEDED;
			f[i].result = j->result.data ? j->result.data : "";
			f[i].result_len = j->result.len;
		} else {
			f[i].outcome = FIN_FAILED;
			f[i].error = j->error;
		}
	}
	return f;
}

/* Records the finished batch; keeps it (and retries) while the database
 * is away. */
void
round_finish(void)
{
	struct finish *f;
	int64_t t0;
	int r;

	if ((f = round_outcomes()) == NULL)
		return;
	t0 = now_ms();
	r = store_finish(W.cl.store, f, W.njobs);
	slow("finish", t0, W.njobs);
	if (r == -1) {
		free(f);
		conn_db_error("finish");
		return;
	}
	finish_post(f);
}

/* Tells the supervisor a recorded outcome, for its counters of finished
 * tasks. */
static void
done_frame(const struct finish *f)
{
	struct frame fr;
	const struct job *j = NULL;
	size_t i;

	for (i = 0; i < W.njobs; i++)
		if (uuid_cmp(&W.jobs[i].c.id, &f->id) == 0)
			j = &W.jobs[i];
	if (j == NULL || j->name[0] == '\0')
		return;
	memset(&fr, 0, sizeof(fr));
	fr.type = P_TASK_DONE;
	switch (f->state) {
	case TS_SUCCEEDED:
		fr.u.done.outcome = RO_SUCCEEDED;
		break;
	case TS_SCHEDULED:
		fr.u.done.outcome = RO_RETRIED;
		break;
	case TS_CANCELLED:
		fr.u.done.outcome = RO_CANCELLED;
		break;
	default:
		fr.u.done.outcome = RO_FAILED;
		break;
	}
	fr.u.done.timed_out = (uint8_t)j->timed_out;
	fr.u.done.run_us = j->us >= 0 ? (uint64_t)j->us : UINT64_MAX;
	/* The queue wait of a first attempt; a retry waited for its
	 * backoff. */
	fr.u.done.wait_us = j->c.attempt == 1 && j->c.wait_us >= 0 ?
	    (uint64_t)j->c.wait_us : UINT64_MAX;
	snprintf(fr.u.done.name, sizeof(fr.u.done.name), "%s", j->name);
	if (W.sup == -1) {
		if (tally_add(&W.tally, W.cfg.queue, j->name,
		    (enum rollup_outcome)fr.u.done.outcome, j->us,
		    fr.u.done.wait_us == UINT64_MAX ? -1 :
		    (int64_t)fr.u.done.wait_us, j->timed_out) == -1)
			log_warnx("event=oom what=\"task counters\"");
		return;
	}
	if (proto_send(W.sup, &fr) == -1 && errno != EAGAIN)
		log_warn("event=supervisor_send_failed frame=%d",
		    (int)P_TASK_DONE);
}

/* The batch's outcomes are recorded: ledger, counts, and the batch is
 * released. Frees f. */
static void
finish_post(struct finish *f)
{
	char idtxt[UUID_STRLEN + 1];
	size_t i;
	double us;

	/* store_finish sorted f by id; report in its order. */
	for (i = 0; i < W.njobs; i++) {
		uuid_fmt(&f[i].id, idtxt);
		if (!f[i].applied) {
			W.n_stale++;
			log_warnx("event=stale_finish task=%s fence=%llu "
			    "action=discarded", idtxt,
			    (unsigned long long)f[i].fence);
			continue;
		}
		ledger("done %s %llu %s %lld\n", idtxt,
		    (unsigned long long)f[i].fence, task_state_name(f[i].state),
		    (long long)wall_ms());
		done_frame(&f[i]);
		if (f[i].state == TS_SUCCEEDED)
			W.n_done++;
		else {
			W.n_failed++;
			log_info("event=task_failed task=%s attempt=%u/%u "
			    "state=%s error=\"%s\"", idtxt, f[i].attempt,
			    f[i].max_attempts, task_state_name(f[i].state),
			    f[i].error);
		}
	}
	for (i = 0; i < W.njobs; i++) {
		us = (double)W.jobs[i].us;
		W.avg_us = W.avg_us * 0.8 + us * 0.2;
		buf_release(&W.jobs[i].result);
		free(W.jobs[i].body);
	}
	free(f);
	pthread_mutex_lock(&W.mu);
	free(W.jobs);
	W.jobs = NULL;
	W.njobs = 0;
	W.busy = 0;
	W.batch_done = 0;
	W.prog_dirty = 0;
	pthread_mutex_unlock(&W.mu);
}
