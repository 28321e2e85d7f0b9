/* store.h: MySQL, the source of truth. Every state change is a conditional
 * UPDATE whose row count is checked; every statement is prepared. */
#ifndef TQ_STORE_H
#define TQ_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "task.h"
#include "url.h"
#include "util.h"
#include "uuid.h"

#define STORE_SCHEMA_VERSION	6
/* Rows that go through one statement at most. */
#define STORE_BATCH_MAX		500

struct store;
struct pub_row;

/* Broken on purpose (chaos checker tests): finishes ignore the fence and
 * the state, so a stale holder overwrites the outcome. */
extern int store_debug_nofence;
/* Chaos checker tests only: every claim is admitted, whatever its limit. */
extern int store_debug_nolimit;

/* Connects over TCP; NULL with the reason in err. *temporary tells a
 * connection failure (retry later, exit 111) from a refusal (exit 100). */
struct store	*store_open(const struct url *, const struct tls_opts *,
		    char *err, size_t errsz,
		    int *temporary);
void		 store_close(struct store *);
/* The last error, and whether it was a lost or refused connection. */
const char	*store_errstr(const struct store *);
int		 store_err_temporary(const struct store *);
/* Drops the connection and connects again, preparing anew. 0 or -1. */
int		 store_reconnect(struct store *);
/* Counts of deadlocks (1213) and lock-wait timeouts (1205) retried. */
unsigned long	 store_deadlocks(const struct store *);

/* Creates or upgrades the schema; *from and *to get the versions. */
int	store_migrate(struct store *, int *from, int *to);
/* 0 when the schema is absent. */
int	store_schema_version(struct store *, int *version);

struct task_new {
	struct uuid	 id;		/* set by store_insert */
	const char	*queue;
	const char	*name;
	const void	*payload;
	size_t		 len;
	unsigned	 max_attempts;
	unsigned	 backoff_base_ms;
	unsigned	 backoff_cap_ms;
	unsigned	 timeout_ms;
	int64_t		 delay_ms;	/* > 0: starts scheduled */
	unsigned	 priority;	/* 0..9 */
	const char	*unique_key;	/* NULL: none */
	const char	*limit_key;	/* NULL: none (see struct limit_def) */
	const struct uuid *after;	/* parents that must succeed first */
	size_t		 nafter;
	int		 existing;	/* out: the key's live task, not new */
	int		 held;		/* out: waits for parents, or ended */
};

/* Inserts n tasks in one transaction (pending, or scheduled when delayed),
 * assigning UUIDv7 ids in order. A task with a unique_key whose key is
 * held by a live (not terminal) task of its queue is not inserted: its id
 * becomes that task's and existing is set. pending_grace_ms is how long the
 * reconciler waits before it publishes a pending row itself. */
int	store_insert(struct store *, struct task_new *, size_t n,
	    int64_t pending_grace_ms);
/* store_insert, and in the same transaction pending -> queued for marks
 * (ids whose publish was confirmed earlier; sorted here): a bulk producer
 * folds the marking of one batch into the next one's commit. */
int	store_insert_mark(struct store *, struct task_new *, size_t n,
	    int64_t pending_grace_ms, struct uuid *marks, size_t nmarks);
/* pending -> queued for ids whose publish was confirmed; only where still
 * pending (a worker may have claimed it already). Sorts ids. */
int	store_mark_queued(struct store *, struct uuid *ids, size_t n);

enum claim_result {
	CLAIM_OK,		/* ours: run it */
	CLAIM_DONE,		/* terminal already: a duplicate */
	CLAIM_BUSY,		/* running under another claim: a duplicate */
	CLAIM_NOT_DUE,		/* scheduled for later: the leader republishes */
	CLAIM_NOROW,		/* no such task */
	CLAIM_LIMITED,		/* over its limit: waits scheduled, not run */
	CLAIM_PAUSED,		/* its queue is paused: left to the broker */
};

struct claim {
	struct uuid		id;		/* in */
	enum claim_result	result;		/* out, and the rest */
	uint64_t		fence;
	unsigned		attempt;	/* this attempt, from 1 */
	unsigned		max_attempts;
	unsigned		backoff_base_ms;
	unsigned		backoff_cap_ms;
	unsigned		timeout_ms;
	enum task_state		state;		/* state seen before claiming */
	int64_t			wait_us;	/* since created, at the claim */
	char			limit_key[TASK_LIMIT_KEY_MAX + 1]; /* or "" */
	/* the store's own: the row's limit_wait and queue pause; for
	 * CLAIM_LIMITED, -1 (a slot) or the wait for its rate slot */
	unsigned		limit_wait;
	int			paused;
	int64_t			park_us;
};

/* Claims n tasks in one transaction, rows locked in key order: each
 * claimable one goes running with fence+1, attempts+1, the owner and a
 * lease; one task_runs row per claim. Sorts c by id. */
int	store_claim(struct store *, const char *owner, int64_t lease_ms,
	    struct claim *c, size_t n);

enum finish_outcome { FIN_SUCCEEDED, FIN_FAILED, FIN_CANCELLED };

struct finish {
	struct uuid		 id;
	uint64_t		 fence;
	enum finish_outcome	 outcome;
	const void		*result;	/* FIN_SUCCEEDED */
	size_t			 result_len;
	const char		*error;		/* FIN_FAILED */
	unsigned		 attempt;
	unsigned		 max_attempts;
	unsigned		 backoff_base_ms;
	unsigned		 backoff_cap_ms;
	/* out */
	int			 applied;	/* 0: a stale fence, ignored */
	enum task_state		 state;		/* the state it was given */
};

/*
 * Flow control (store_limit.c). The claim admits a task under its limit
 * or parks it scheduled without using an attempt: one over a concurrency
 * limit until a slot frees (the finish or release that frees it makes
 * the oldest waiter due), one over a rate limit until the start reserved
 * for it. A paused queue's tasks are not claimed at all.
 */
/* The ids of tasks a finish or release of this connection made due since
 * the last call (malloc'd, the caller's): publish them at once; the
 * leader would on its next turn. */
int	store_woken(struct store *, struct uuid **ids);
/* Creates or replaces a limit; the keys under it are looked at anew. */
int	store_limit_set(struct store *, const struct limit_def *);
/* 1 removed, 0 there was none. */
int	store_limit_remove(struct store *, const char *name);
struct limit_info {
	struct limit_def d;
	unsigned long	 running;	/* tasks of its keys running now */
	unsigned long	 waiting;	/* for a slot */
	unsigned long	 reserved;	/* for their rate slot */
	unsigned long	 keys;		/* keys with tasks running or waiting */
};
/* Every limit with its live figures; the count, or -1. */
int	store_limit_list(struct store *, struct limit_info **);
/* The leader forgets key rows made over an hour ago that keep nothing (no
 * waiter, no rate slot ahead): a key in use makes its row again at its
 * next claim. */
int	store_limit_gc(struct store *);
/* 1 paused now, 0 it was already. by says who asked. */
int	store_pause(struct store *, const char *queue, const char *by);
/* 1 resumed, 0 it was not paused. Its parked tasks were not parked: they
 * wait in the broker. */
int	store_resume(struct store *, const char *queue);
/* 1 paused, 0 not, -1 error. */
int	store_paused(struct store *, const char *queue);
struct paused_queue {
	char		 queue[TASK_QUEUE_MAX + 1];
	char		 by[129];
	long long	 since;		/* s since the epoch */
};
int	store_paused_list(struct store *, struct paused_queue **);

/* Records n outcomes in one transaction, each fenced. A failure with
 * attempts left becomes scheduled after a backoff; else failed. */
int	store_finish(struct store *, struct finish *, size_t n);
/* store_finish of f and store_claim of c in one transaction: a worker's
 * round commits once. Either part may be empty. Sorts f and c by id. */
int	store_finish_claim(struct store *, struct finish *f, size_t nf,
	    const char *owner, int64_t lease_ms, struct claim *c, size_t nc);

/* Records a running task's progress (0..100) and message, fenced. */
int	store_progress(struct store *, const struct uuid *, uint64_t fence,
	    unsigned pct, const char *msg);
/* Extends the leases of these (id, fence) pairs; returns how many rows
 * still belong to the caller (or -1). */
int	store_renew(struct store *, const struct uuid *ids,
	    const uint64_t *fences, size_t n, int64_t lease_ms);

/* A running task whose holder is gone: scheduled (due now) when attempts
 * are left, else failed with reason. charge: the attempt counts (the task
 * was running, or nobody knows); else the claim's attempt is given back
 * (it was claimed but never started). Fenced; 1 applied, 0 stale, -1. */
int	store_release(struct store *, const struct uuid *, uint64_t fence,
	    const char *reason, int charge, enum task_state *state);
/* Running tasks held by owner (exactly), or by every owner of node when
 * node is not NULL. Returns the count (arrays malloc'd) or -1. */
int	store_owned(struct store *, const char *owner, const char *node,
	    struct uuid **ids, uint64_t **fences);
/* Rows to publish for these ids, where scheduled and due. */
int	store_pub_rows(struct store *, const struct uuid *ids, size_t n,
	    struct pub_row **out);
/* Extends the leases of every running task of these owners. Returns rows
 * or -1. */
int	store_renew_owners(struct store *, const char *const *owners, size_t n,
	    int64_t lease_ms);

/* Node liveness. store_node_join takes the name for this instance unless
 * another live instance (seen within stale_ms, and not declared dead by
 * is_dead(info of that instance)) holds it: 1 joined, 0 held by another
 * (its info copied to held), -1. */
int	store_node_join(struct store *, const char *node, const char *instance,
	    int64_t stale_ms, int (*is_dead)(const char *info),
	    char *held, size_t heldsz);
/* tq_nodes.info: the instance, then (after a '|') what the supervisor
 * tells of its workers (supervisor/db.c says how), in this many
 * characters at most. The instance alone is the row's fence. */
#define STORE_NODE_INFO_MAX	255
/* Keeps the row fresh and its workers' text (may be ""; cut when instance
 * and text do not fit together); 0, or -1 (also when another instance
 * took the row). */
int	store_node_beat(struct store *, const char *node, const char *instance,
	    const char *workers);
int	store_node_leave(struct store *, const char *node, const char *instance);
/* Names of nodes not seen within stale_ms; returns count or -1. */
int	store_dead_nodes(struct store *, int64_t stale_ms, char (**names)[129]);
/* Forgets a dead node (only if still stale). */
int	store_node_forget(struct store *, const char *node, int64_t stale_ms);

/* A row for publishing. */
struct pub_row {
	struct uuid	id;
	char		queue[TASK_QUEUE_MAX + 1];
	char		name[TASK_NAME_MAX + 1];
	void		*payload;	/* malloc'd */
	size_t		len;
	unsigned	priority;
};
void	pub_rows_free(struct pub_row *, size_t n);

/* Rows that need a message: pending past their grace, and scheduled ones
 * that are due. Up to max rows; returns the count, or -1. */
int	store_due(struct store *, struct pub_row **out, size_t max);
/* pending|scheduled -> queued after a confirmed publish (where still so). */
int	store_mark_published(struct store *, struct uuid *ids, size_t n);
/* Cancels a task: pending, queued or scheduled ones end cancelled at once
 * (*state = cancelled); a running one is asked to stop (*state = running):
 * its holder sees the request and it ends cancelled, never retried.
 * 1 done or asked, 0 no such task, -1. *state gets the state left. */
int	store_cancel(struct store *, const struct uuid *, const char *reason,
	    enum task_state *state);
/* Running tasks of these owners whose cancellation was asked. */
int	store_cancel_asked(struct store *, const char *const *owners, size_t n,
	    struct uuid **ids, uint64_t **fences, char (**owner)[129]);
/* An operator's retry of a failed task: scheduled at once with its
 * attempts reset. 1 done, 0 not failed (or no such task), -1. */
int	store_retry(struct store *, const struct uuid *);
/* An operator's "run now" of a scheduled task (a retry waiting for its
 * backoff, or a delayed task): due at once, its attempts kept. Not a
 * child that waits for its parents. 1 done, 0 not such a task, -1. */
int	store_run_now(struct store *, const struct uuid *);
/* What tq retry does to a task: store_retry when it is failed (1), else
 * store_run_now (2); 0 when neither applies, -1. */
int	store_retry_or_run(struct store *, const struct uuid *);
/* Scheduled tasks (of queue, or all) that have a due time, soonest
 * first, up to max: ids written. */
int	store_scheduled(struct store *, const char *queue, size_t max,
	    struct uuid **ids);
/* Failed tasks (of queue, or all), newest first, up to max: ids written. */
int	store_failed(struct store *, const char *queue, size_t max,
	    struct uuid **ids);
/* The (terminal state, queue) pairs that hold rows, with the finishing
 * time of the oldest (a loose index scan: one step per pair, whatever the
 * rows); *out malloc'd; returns the count or -1. */
struct done_queue {
	enum task_state	 state;
	char		 queue[TASK_QUEUE_MAX + 1];
	int64_t		 oldest;	/* epoch ms */
};
int	store_done_queues(struct store *, struct done_queue **out);
/* Deletes up to max tasks of queue in the terminal state that finished
 * more than older_ms ago, oldest first, with their runs, dependency rows
 * and cron tick rows, in one short transaction. A parent that a child
 * still waits for is kept. Returns the count deleted or -1. */
int	store_prune(struct store *, enum task_state, const char *queue,
	    int64_t older_ms, size_t max);
/* Queues that hold queued tasks older than older_ms (of the oldest 1000
 * such rows); returns the count, names malloc'd, or -1. */
int	store_stranded_queues(struct store *, int64_t older_ms,
	    char (**names)[TASK_QUEUE_MAX + 1]);
/* Queued tasks of queue older than older_ms, to publish again; or -1. */
int	store_stranded(struct store *, const char *queue, int64_t older_ms,
	    size_t max, struct pub_row **out);
/* Restarts the clock of queued rows that were published again. */
int	store_touch_queued(struct store *, struct uuid *ids, size_t n);
/* Running rows whose lease expired: released as above. Returns count. */
int	store_expire_leases(struct store *, size_t max);

/* A failed or malformed message's task, failed at once if not started. */
int	store_reject(struct store *, const struct uuid *, const char *reason);

struct task_row {
	struct uuid	 id;
	char		 queue[TASK_QUEUE_MAX + 1];
	char		 name[TASK_NAME_MAX + 1];
	enum task_state	 state;
	unsigned	 attempts, max_attempts;
	unsigned	 progress;
	char		 progress_msg[256];
	uint64_t	 fence;
	char		 owner[129];
	char		 created_at[32], updated_at[32], started_at[32],
			 finished_at[32], due_at[32];
	void		*payload;
	size_t		 payload_len;
	void		*result;	/* NULL when none */
	size_t		 result_len;
	char		*error;		/* NULL when none */
};
void	task_row_release(struct task_row *);
/* 1 found, 0 not found, -1 error. */
int	store_get(struct store *, const struct uuid *, struct task_row *);
/* State, progress and its message: 1 found, 0 not found, -1. */
int	store_peek(struct store *, const struct uuid *, enum task_state *,
	    unsigned *pct, char *msg, size_t msgsz);
/* State only: 1 found, 0 not found, -1. */
int	store_state(struct store *, const struct uuid *, enum task_state *);

struct stat_row {
	char		queue[TASK_QUEUE_MAX + 1];
	unsigned long	count[TS_COUNT];
};
/* Tasks in each state that is not terminal, by queue, from an index range
 * over those states only; *out malloc'd. Returns rows or -1. */
int	store_live(struct store *, struct stat_row **out);

/* Finished tasks are counted as they finish, by the hour (tq_rollup).
 * Outcomes: */
enum rollup_outcome { RO_SUCCEEDED, RO_FAILED, RO_RETRIED, RO_CANCELLED,
	RO_COUNT };
const char *rollup_outcome_name(enum rollup_outcome);
struct rollup_row {
	char		queue[TASK_QUEUE_MAX + 1];
	char		name[TASK_NAME_MAX + 1];	/* "" when summed */
	enum rollup_outcome outcome;
	int64_t		hour;		/* epoch seconds, start of the hour */
	uint64_t	n;
	uint64_t	run_us;
};
/* Adds n rows to the counts of the current hour (one statement, keys in
 * order). 0 or -1. */
int	store_rollup_add(struct store *, struct rollup_row *r, size_t n);
/* Counts by hour, queue and outcome since the epoch second since (names
 * summed); *out malloc'd. Returns rows or -1. */
int	store_rollup_since(struct store *, int64_t since,
	    struct rollup_row **out);
/* Deletes counts of hours older than older_ms. 0 or -1. */
int	store_rollup_prune(struct store *, int64_t older_ms);

/* What the retention windows hold, without reading it (tq_window): per
 * queue and outcome (not retried), the sum of tq_rollup's hours after
 * `expired` up to the last hour closed. Times are epoch seconds of an
 * hour's start. Adds the hours after the last closed one up to upto and
 * marks upto closed, in one transaction; *closed gets the last hour
 * closed after it. 1 done, 0 nothing to do, -1 error. */
int	store_window_close(struct store *, int64_t upto, int64_t *closed);
/* tq_window's rows, hour = expired; *out malloc'd. Rows or -1. */
int	store_window_rows(struct store *, struct rollup_row **out);
/* Moves a row's old edge from `from` to `to` (later: the hours between
 * leave its sum; earlier: they come back), unless another did. 0 or -1. */
int	store_window_move(struct store *, const char *queue,
	    enum rollup_outcome, int64_t from, int64_t to);
/* tq stats, in one snapshot: tq_window's rows (*w, hour = expired) and by
 * hour what is not closed yet (*open, *nopen); when nothing was ever
 * closed, *w is NULL and *open holds the hours since `since`. Returns the
 * window rows (0 then) or -1. Free both. */
int	store_window_snapshot(struct store *, int64_t since,
	    struct rollup_row **w, struct rollup_row **open, int *nopen);

/* A statement that runs on a timer, for the EXPLAIN test. Parameters:
 * i an integer, s a string (a queue), S a terminal state, L a live one,
 * T a time (DATETIME text), b an id (all zero), B the highest id. */
struct store_sql {
	const char	*what;
	const char	*sql;
	const char	*params;
};
extern const struct store_sql store_timed[];
/* ANALYZE of sql (it runs) with placeholder values of the types in params:
 * one line per plan row, "table type key rows r_rows extra", into out.
 * 0 or -1. */
int	store_explain(struct store *, const char *sql, const char *params,
	    struct buf *out);

/* Periodic tasks. */
struct cron_row {
	char	name[65];
	char	spec[128];
	char	queue[TASK_QUEUE_MAX + 1];
	char	task[TASK_NAME_MAX + 1];
	void	*payload;		/* malloc'd */
	size_t	 len;
	int64_t	 next_tick;		/* epoch seconds */
};
void	cron_rows_free(struct cron_row *, size_t n);
/* Adds or replaces a schedule; next_tick is its first tick. */
int	store_cron_put(struct store *, const struct cron_row *);
/* Registers a schedule from a config file: added when new; when it exists
 * its next tick is kept unless its spec changed. */
int	store_cron_sync(struct store *, const struct cron_row *);
/* 1 removed, 0 no such schedule, -1. */
int	store_cron_del(struct store *, const char *name);
/* All schedules (due_only: those whose next tick has come). */
int	store_cron_list(struct store *, int due_only, struct cron_row **out);
/* Enqueues the task of tick for schedule r (at most once per tick, even
 * from two leaders) and moves its next tick on. 1 enqueued, 0 the tick
 * was done already, -1. t->id is set when enqueued. */
int	store_cron_fire(struct store *, const struct cron_row *r, int64_t tick,
	    int64_t next, struct task_new *t);

/* What tq doctor looks at. */
struct server_facts {
	char	version[64];
	int	flush_at_commit;	/* innodb_flush_log_at_trx_commit */
	int	sync_binlog;
	int	log_bin;
	long long max_packet;
	int	leader_live;		/* a reconciler lease is held */
	char	leader[129];
	int	nodes_live, nodes_dead;
	long long pending_old, queued_old;	/* past grace / stranded age */
};
int	store_facts(struct store *, int64_t grace_ms, int64_t stranded_ms,
	    int64_t node_timeout_ms, struct server_facts *);

/* Leadership: takes or keeps the named lease for ttl_ms. 1 leader (with
 * *token), 0 not, -1 error. */
int	store_lead(struct store *, const char *name, const char *holder,
	    int64_t ttl_ms, uint64_t *token);
/* Gives leadership up when held. */
int	store_unlead(struct store *, const char *name, const char *holder);

/* tq web's reads (store_web.c). Rows come as text cells, NULL for SQL
 * NULL, ids as their canonical text. */
struct store_table {
	unsigned	 ncol;
	size_t		 n, cap;	/* rows, and room for them */
	char		**cell;		/* row i column j: cell[i * ncol + j] */
};
#define STORE_TABLE_INIT { 0, 0, 0, NULL }
void	store_table_free(struct store_table *);
/* The cell of row i, column j, or NULL. */
const char *store_cell(const struct store_table *, size_t i, unsigned j);

/* tq_nodes: name, started_at, seen_at, age_ms, info. Rows or -1. */
int	store_web_nodes(struct store *, struct store_table *);
/* tq_leader: name, holder, token, expires_at, live (1 or 0). */
int	store_web_leader(struct store *, struct store_table *);
/* Running tasks, lease ending first: owner, id, queue, name, progress,
 * progress_msg, started_at, lease_left_ms. */
int	store_web_running(struct store *, size_t max, struct store_table *);
/* The last max succeeded tasks of queue, newest first: queue wait (us,
 * created to started), run time (us), attempts. */
int	store_web_recent(struct store *, const char *queue, size_t max,
	    struct store_table *);

/* A page of the task list, newest first. state -1: any; queue and name
 * "" for any. cursor "" starts at the newest; *next gets the cursor of
 * the page after (or "" at the end). Every statement is bounded: a page
 * reads at most STORE_WEB_WINDOW rows of an index range per queue, and a
 * filter the index cannot serve (a name among finished tasks, a queue
 * among all) is applied to that window, so a page may hold fewer than
 * limit rows while *next is not "". Columns: id, queue, name, state,
 * attempts, max_attempts, progress, created_at, finished_at, error (its
 * head), due_at, waiting (parents not finished). Rows or -1 (a bad cursor is an error of the store, EINVAL-like,
 * with store_err_temporary 0). */
#define STORE_WEB_WINDOW	2000
#define STORE_WEB_CURSOR	96
struct web_filter {
	int		 state;
	const char	*queue;
	const char	*name;
	const char	*cursor;
	size_t		 limit;		/* 1..500 */
};
int	store_web_tasks(struct store *, const struct web_filter *,
	    struct store_table *, char next[STORE_WEB_CURSOR]);
/* A task's attempts (task_runs), newest first: fence, attempt, owner,
 * outcome, error, started_at, finished_at. */
int	store_web_runs(struct store *, const struct uuid *,
	    struct store_table *);
/* Its --after parents and its children: id, state (NULL: deleted). */
int	store_web_deps(struct store *, const struct uuid *,
	    struct store_table *parents, struct store_table *children);
/* The cron schedule that enqueued it: name, tick; 0 rows when none. */
int	store_web_cron_of(struct store *, const struct uuid *,
	    struct store_table *);
/* A schedule's last ticks: tick, id, state. */
int	store_web_cron_ticks(struct store *, const char *name, size_t max,
	    struct store_table *);

#endif
