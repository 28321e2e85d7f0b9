/*
 * worker_int.h: the state tq-worker's main loop shares between its files
 * (worker.c the loop and main, conn.c the broker and database links,
 * round.c a claim round and its outcomes, runner.c the handler thread,
 * link.c the supervisor link, periodic.c the loop's timed duties,
 * ledger.c the checker's ledger), and what they call across.
 */
#ifndef TQ_WORKER_INT_H
#define TQ_WORKER_INT_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "client.h"
#include "config.h"
#include "history.h"
#include "proto.h"
#include "store.h"
#include "tally.h"
#include "task.h"
#include "util.h"
#include "worker.h"

#define PEND_MAX	1000
#define ROUND_TARGET_US	5000.0	/* a claim round should last about this */

#define STOP_TIMEOUT	1
#define STOP_CANCEL	2
#define STOP_FENCED	3	/* the node can no longer vouch for the lease */
#define STOP_GRACE_MS	1000	/* soft stop, then the process goes */
#define FENCE_GRACE_MS	500	/* the same for a fenced stop: the supervisor
				 * kills us soon after */
#define PAUSE_POLL_MS	250	/* a paused queue: resumed yet? */

struct job {
	struct claim	 c;
	int		 skip;		/* cancelled before it started */
	int		 started;	/* its handler began (under mu) */
	int		 fenced;	/* stopped or skipped: lease not vouched for */
	char		 name[TASK_NAME_MAX + 1];
	const void	*payload;
	size_t		 len;
	void		*body;		/* the delivery body payload points into */
	uint64_t	 tag;
	/* outcome, written by the handler thread */
	int		 ok;
	int		 permanent;	/* fail without retry (unknown name) */
	int		 timed_out;
	struct buf	 result;
	char		 error[1024];
	int64_t		 us;
};

struct worker {
	struct config	 cfg;
	struct client	 cl;		/* store + publishing connection */
	struct broker	*consumer;
	char		 owner[PROTO_OWNER_MAX + 1];
	int		 reconcile;

	struct delivery	*pend;
	size_t		 npend;

	/* the batch, shared with the handler thread under mu */
	pthread_t	 th;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 efd;		/* handler -> main: a batch is done */
	struct job	*jobs;
	size_t		 njobs;
	uint64_t	 batch_seq;	/* bumped when a batch is handed over */
	int		 batch_done;
	int		 ledgered;	/* "run" lines written for the batch */
	int		 busy;
	int		 quit;
	volatile sig_atomic_t cancel;
	unsigned	 prog_pct;
	char		 prog_msg[256];
	int		 prog_dirty;
	size_t		 prog_job;
	int64_t		 next_progress;

	double		 avg_us;
	int		 ledger;
	unsigned long	 n_done, n_failed, n_dup, n_bad, n_stale, n_limited;
	int		 paused;	/* the queue is: not consuming */
	int64_t		 pause_poll;
	int64_t		 next_renew, next_tick, next_lead;
	/* standalone: when the claim or the last lease renewal that
	 * succeeded for the batch was sent; the leases hold until then plus
	 * lease_ms at the least (runner_fence before) */
	int64_t		 claim_sent, held_at;
	int		 leader;
	uint64_t	 lead_token;
	int64_t		 broker_at, db_at;
	unsigned	 broker_fails, db_fails;
	uint64_t	 conn_gen;	/* bumped when the consumer is lost */
	atomic_int	 stopping;
	int64_t		 stop_at;	/* standalone: give up stopping then */

	/* supervisor link (TQ_SUPERVISOR_FD), served by its own thread so
	 * heartbeats flow whatever the main loop waits on */
	int		 sup;
	int64_t		 hb_ms;
	/* TQ_DEBUG_UNSAFE: deliberately broken modes that let the chaos
	 * checker prove it can fail. Never for production. */
	int		 unsafe_drop;
	unsigned long	 n_seen;
	pthread_t	 link;
	atomic_llong	 loop_at;	/* main loop's last turn, now_ms() */
	struct uuid	 cur;		/* the task in the handler, under mu */
	uint64_t	 cur_fence;
	int		 cur_set;
	size_t		 cur_idx;
	int64_t		 cur_started;
	unsigned	 cur_timeout_ms;
	int		 stop_why;	/* STOP_TIMEOUT, _CANCEL, _FENCED or 0 */
	int64_t		 hard_at;	/* the handler did not stop: exit then */
	int64_t		 next_cancel_poll;
	/* standalone: counts of finished tasks, written to tq_rollup by
	 * the worker itself; and retention when it leads */
	struct tally	 tally;
	int64_t		 next_rollup;
	struct retention retention;
};

extern struct worker W;

/* ledger.c: executions as this process saw them, for the checker. */
void	ledger_open(void);
void	ledger(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	ledger_batch(void);
void	ledger_begin(const struct job *);
void	ledger_end(const struct job *);

/* runner.c: the handler thread, time limits and cancels. */
void	*runner_main(void *);
void	runner_cancel(const struct uuid *);
void	runner_fence(void);
void	runner_self_fence(void);
void	runner_watch(void);

/* link.c: the supervisor link (TQ_SUPERVISOR_FD), when there is one. */
void	link_start(void);

/* conn.c: the consumer and the store connection, and their reconnects. */
void	conn_broker_lost(const char *why);
void	conn_broker_open(void);
void	conn_pause(void);
void	conn_pause_poll(void);
int	conn_db_ready(void);
void	conn_db_error(const char *op);

/* round.c: claim, ack, hand over; record the outcomes. */
void	round_start(struct finish *);
struct finish *round_outcomes(void);
void	round_finish(void);

/* periodic.c: the loop's timed duties. */
void	poll_cancels(void);
void	write_progress(void);
void	renew_leases(void);
void	reconcile_tick(void);
void	rollup_flush(void);

#endif
