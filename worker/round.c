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
static void	publish_woken(void);

/* What becomes of each delivery of a round, beside its claim. */
enum slot {
	SLOT_CLAIM = -1,	/* claimed (the row says whether it runs) */
	SLOT_REJECT = -2,	/* dead-lettered, for why[] */
	SLOT_DUP = -3,		/* its id came twice in the round */
	SLOT_DROP = -4,		/* TQ_DEBUG_UNSAFE=drop: acked, never run */
	SLOT_PAUSED = -5	/* its queue is paused: left to the broker */
};

/* A round's deliveries, the claims made of them and their jobs. */
struct round {
	struct delivery	*dl;
	size_t		 n;
	struct claim	*c;
	size_t		 nc;
	struct job	*jobs;
	size_t		 nj;
	int		*slot;		/* enum slot, per delivery */
	char		(*why)[256];	/* why a delivery is rejected */
	uint64_t	 gen;		/* W.conn_gen when they were taken */
	size_t		 npaused;
};

static int
round_alloc(struct round *r, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->n = n;
	r->jobs = calloc(n, sizeof(*r->jobs));
	r->c = calloc(n, sizeof(*r->c));
	r->slot = calloc(n, sizeof(*r->slot));
	r->dl = calloc(n, sizeof(*r->dl));
	r->why = calloc(n, sizeof(*r->why));
	if (r->jobs == NULL || r->c == NULL || r->slot == NULL ||
	    r->dl == NULL || r->why == NULL) {
		log_error("event=oom");
		return -1;
	}
	return 0;
}

static void
round_free(struct round *r)
{
	free(r->jobs);
	free(r->c);
	free(r->slot);
	free(r->dl);
	free(r->why);
}

/* The round's deliveries leave the pending list now: a lost connection
 * below frees only what is left there. */
static void
round_take(struct round *r)
{
	memcpy(r->dl, W.pend, r->n * sizeof(*r->dl));
	memmove(W.pend, W.pend + r->n, (W.npend - r->n) * sizeof(*W.pend));
	W.npend -= r->n;
	r->gen = W.conn_gen;
}

/* Decodes the deliveries into claims and jobs; a message that does not
 * decode is rejected (its row, if any, fails with the reason). -1 when
 * the database failed. */
static int
round_decode(struct round *r)
{
	struct task_msg m;
	char idtxt[UUID_STRLEN + 1];
	struct job *j;
	size_t i, k;

	for (i = 0; i < r->n; i++) {
		r->slot[i] = SLOT_CLAIM;
		if (task_msg_decode(r->dl[i].body, r->dl[i].len,
		    (size_t)W.cfg.payload_max, &m, r->why[i],
		    sizeof(r->why[i])) == -1) {
			if (m.has_id) {
				uuid_fmt(&m.id, idtxt);
				if (store_reject(W.cl.store, &m.id,
				    r->why[i]) == -1) {
					conn_db_error("reject");
					return -1;
				}
				log_warnx("event=task_rejected task=%s "
				    "error=\"%s\"", idtxt, r->why[i]);
			}
			r->slot[i] = SLOT_REJECT;
			continue;
		}
		if (W.unsafe_drop && ++W.n_seen % 10 == 0) {
			/* Broken on purpose: acked, never claimed or run. */
			uuid_fmt(&m.id, idtxt);
			log_warnx("event=debug_drop task=%s", idtxt);
			r->slot[i] = SLOT_DROP;
			continue;
		}
		/* The same id twice in one round: the second is a duplicate. */
		for (k = 0; k < r->nc; k++)
			if (uuid_cmp(&r->c[k].id, &m.id) == 0)
				break;
		if (k < r->nc) {
			r->slot[i] = SLOT_DUP;
			continue;
		}
		r->c[r->nc++].id = m.id;
		j = &r->jobs[r->nj++];
		j->c.id = m.id;
		snprintf(j->name, sizeof(j->name), "%s", m.name);
		j->payload = m.payload;
		j->len = m.payload_len;
		j->body = r->dl[i].body;
		j->tag = r->dl[i].tag;
	}
	return 0;
}

/* Claims the round's tasks and, with fin, records the batch before in
 * the same transaction. -1: nothing claimed nor recorded. */
static int
round_claim(struct round *r, struct finish *fin)
{
	size_t nfin = fin != NULL ? W.njobs : 0;
	int64_t t0 = now_ms();
	int rc;

	rc = r->nc > 0 || fin != NULL ? store_finish_claim(W.cl.store, fin,
	    nfin, W.owner, W.cfg.lease_ms, r->c, r->nc) : 0;
	slow(fin ? "finish_claim" : "claim", t0, r->nc + nfin);
	if (rc == -1) {
		conn_db_error(fin ? "finish" : "claim");
		return -1;
	}
	W.claim_sent = t0;
	return 0;
}

/* store_claim sorted the claims; match their results back by id. */
static void
round_match(struct round *r)
{
	size_t i, k;

	for (i = 0; i < r->nj; i++)
		for (k = 0; k < r->nc; k++)
			if (uuid_cmp(&r->c[k].id, &r->jobs[i].c.id) == 0) {
				r->jobs[i].c = r->c[k];
				break;
			}
}

/* Reads the claims' results: orphans (no row) are to be dead-lettered,
 * duplicates counted; only the tasks claimed stay jobs. The count of
 * rejects, and in *maxtag the highest tag of the rest. */
static int
round_sort(struct round *r, uint64_t *maxtag)
{
	char idtxt[UUID_STRLEN + 1];
	size_t i, k;
	int nrej = 0;

	for (i = 0; i < r->nj; i++) {
		uuid_fmt(&r->jobs[i].c.id, idtxt);
		switch (r->jobs[i].c.result) {
		case CLAIM_OK:
			break;
		case CLAIM_LIMITED:
			/* The row waits: the message is done with. */
			W.n_limited++;
			log_debug("event=limited task=%s key=%s", idtxt,
			    r->jobs[i].c.limit_key);
			break;
		case CLAIM_PAUSED:
			for (k = 0; k < r->n; k++)
				if (r->dl[k].tag == r->jobs[i].tag) {
					r->slot[k] = SLOT_PAUSED;
					r->npaused++;
				}
			break;
		case CLAIM_NOROW:
			log_warnx("event=orphan_message task=%s "
			    "action=dead_lettered", idtxt);
			for (k = 0; k < r->n; k++)
				if (r->dl[k].tag == r->jobs[i].tag) {
					r->slot[k] = SLOT_REJECT;
					snprintf(r->why[k], sizeof(r->why[k]),
					    "no such task");
				}
			break;
		default:
			W.n_dup++;
			log_info("event=duplicate task=%s state=%s action=dropped",
			    idtxt, task_state_name(r->jobs[i].c.state));
			break;
		}
	}
	*maxtag = 0;
	for (i = 0; i < r->n; i++) {
		if (r->slot[i] == SLOT_DUP)
			W.n_dup++;
		if (r->slot[i] == SLOT_REJECT)
			nrej++;
		else if (r->slot[i] != SLOT_PAUSED && r->dl[i].tag > *maxtag)
			*maxtag = r->dl[i].tag;
	}
	for (i = 0, k = 0; i < r->nj; i++)
		if (r->jobs[i].c.result == CLAIM_OK)
			r->jobs[k++] = r->jobs[i];
	r->nj = k;
	return nrej;
}

/* Settles every delivery of the round with the broker, if the connection
 * that delivered them still stands: rejects go to the dead-letter queue,
 * the rest are acked. If it is gone, the broker redelivers what was not
 * settled: duplicates, dropped by their rows. */
static void
round_settle(struct round *r, int nrej, uint64_t maxtag)
{
	size_t i;

	if (W.conn_gen == r->gen && nrej == 0 && r->npaused == 0 &&
	    maxtag > 0) {
		/* The common case: one multiple ack settles the round. */
		if (broker_ack(W.consumer, maxtag, 1) == -1)
			conn_broker_lost(broker_errstr(W.consumer));
	} else if (W.conn_gen == r->gen) {
		/* A multiple ack would settle the rejected ones twice (the
		 * broker closes the channel for that): one by one. */
		for (i = 0; i < r->n && W.conn_gen == r->gen; i++) {
			if (r->slot[i] == SLOT_PAUSED)
				continue;	/* back with the channel */
			if (r->slot[i] == SLOT_REJECT)
				reject(&r->dl[i], r->why[i]);
			else if (broker_ack(W.consumer, r->dl[i].tag, 0) == -1)
				conn_broker_lost(broker_errstr(W.consumer));
		}
	}
}

/* The bodies of claimed tasks now belong to their jobs; the others are
 * freed. */
static void
round_release(struct round *r)
{
	char idtxt[UUID_STRLEN + 1];
	size_t i, k;
	int owned;

	for (i = 0; i < r->nj; i++) {
		uuid_fmt(&r->jobs[i].c.id, idtxt);
		log_debug("event=claimed task=%s fence=%llu attempt=%u", idtxt,
		    (unsigned long long)r->jobs[i].c.fence,
		    r->jobs[i].c.attempt);
	}
	for (i = 0; i < r->n; i++) {
		for (owned = 0, k = 0; k < r->nj; k++)
			owned |= r->jobs[k].body == r->dl[i].body;
		if (!owned)
			delivery_release(&r->dl[i]);
	}
}

/* The claimed jobs go to the handler thread, which owns them from now. */
static void
round_hand_over(struct round *r)
{
	pthread_mutex_lock(&W.mu);
	W.jobs = r->jobs;
	W.njobs = r->nj;
	W.batch_done = 0;
	W.ledgered = 0;
	W.busy = 1;
	W.batch_seq++;
	pthread_cond_signal(&W.cv);
	pthread_mutex_unlock(&W.mu);
	r->jobs = NULL;
	W.held_at = W.claim_sent;
	W.next_renew = now_ms() + W.cfg.lease_ms / 3;
}

/* Not claimed: back to the front of the list if their connection still
 * stands; else they are void (the broker redelivers them). */
static void
round_put_back(struct round *r)
{
	size_t i;

	if (W.conn_gen == r->gen && W.npend + r->n <= PEND_MAX) {
		memmove(W.pend + r->n, W.pend, W.npend * sizeof(*W.pend));
		memcpy(W.pend, r->dl, r->n * sizeof(*r->dl));
		W.npend += r->n;
	} else
		for (i = 0; i < r->n; i++)
			delivery_release(&r->dl[i]);
}

/* A round: claims deliveries. With fin (the outcomes of the batch just
 * done), records them in the claim's transaction: one commit a round.
 * Frees fin. */
void
round_start(struct finish *fin)
{
	struct round r;
	uint64_t maxtag;
	size_t n;
	int nrej;

	n = round_size();
	if (n > W.npend)
		n = W.npend;
	if (round_alloc(&r, n) == -1)
		goto out;
	round_take(&r);
	/* On a database error, the deliveries wait for the next try, the
	 * outcomes are kept. */
	if (round_decode(&r) == -1 || round_claim(&r, fin) == -1) {
		round_put_back(&r);
		goto out;
	}
	if (fin != NULL) {
		finish_post(fin);
		fin = NULL;
	}
	round_match(&r);
	nrej = round_sort(&r, &maxtag);
	round_settle(&r, nrej, maxtag);
	round_release(&r);
	if (r.nj > 0)
		round_hand_over(&r);
	if (r.npaused > 0)
		conn_pause();
	publish_woken();
out:
	free(fin);
	round_free(&r);
}

/* The tasks this round's finish let out of a limit's wait, published at
 * once (the leader would on its next turn). */
static void
publish_woken(void)
{
	int n;

	if ((n = client_publish_woken(&W.cl)) == -1)
		log_warnx("event=republish_deferred what=woken error=\"%s\"",
		    W.cl.err);
	else if (n > 0)
		log_debug("event=woken published=%d", n);
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
	publish_woken();
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
