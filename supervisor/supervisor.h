/* supervisor.h: tq-supervisor's private structures. */
#ifndef TQ_SUPERVISOR_H
#define TQ_SUPERVISOR_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "client.h"
#include "config.h"
#include "policy.h"
#include "proto.h"
#include "store.h"
#include "uuid.h"

#define POOL_NAME_MAX	64
#define POOL_ARGV_MAX	32
#define POOLS_MAX	32
#define SLOTS_MAX	256

enum slot_state {
	SL_DOWN,	/* no process; maybe a restart pending */
	SL_UP,		/* process running */
	SL_STOPPING,	/* asked to drain; TERM, then KILL after deadlines */
};

struct pool;

struct slot {
	struct pool	*pool;
	int		 idx;
	enum slot_state	 st;
	pid_t		 pid;
	int		 fd;		/* our end of the socketpair, or -1 */
	char		 owner[PROTO_OWNER_MAX + 1];
	int		 hello;
	int64_t		 started;
	int64_t		 last_hb;	/* any frame counts */
	int64_t		 restart_at;	/* SL_DOWN: when to spawn, or -1 */
	int64_t		 term_at;	/* SL_STOPPING: TERM the group at */
	int64_t		 kill_at;	/* KILL the group at (0: not yet) */
	unsigned	 quick;		/* consecutive short lives */
	unsigned	 restarts;
	unsigned	 hang_kills;	/* of this slot's workers */
	int		 hang_killed;
	int64_t		 fence_sent;	/* SIGUSR1 sent for the current task */
	int		 fence_killed;
	int		 cur_limited;	/* its task runs under a limit */
	int		 retire;	/* drop the slot after it stops */
	/* from the last heartbeat and task frames */
	uint8_t		 wstate, progress;
	uint16_t	 inflight;
	uint32_t	 rss_kb;
	uint64_t	 succeeded, failed;
	uint32_t	 duplicates;
	int64_t		 cur_since;	/* TASK_BEGIN, microseconds */
	struct uuid	 cur;
	uint64_t	 cur_fence;
	int		 cur_set;
};

struct pool_conf {
	char		 name[POOL_NAME_MAX + 1];
	char		 queue[65];
	int		 workers;
	char		 command[1024];	/* split on blanks; no shell */
	int64_t		 heartbeat_ms;
	int64_t		 hang_ms;
	int64_t		 drain_ms;
	unsigned	 restart_max;	/* R */
	int64_t		 restart_period_ms;	/* P */
	int64_t		 cooldown_ms;
	long long	 prefetch, batch;	/* 0: the worker's default */
};

struct pool {
	struct pool_conf conf;
	struct slot	 slots[SLOTS_MAX];
	int		 nslots;
	struct intensity restarts;
	int		 failing;
	int64_t		 failing_until;
	int		 removed;	/* gone from the config: drain it */
	unsigned long	 total_restarts, hang_kills;
	/* metrics: handler runs seen through TASK_BEGIN/END frames */
	uint64_t	 tasks_ok, tasks_fail;
};

/* What the database thread must do for a dead worker. */
struct release_req {
	char		 owner[PROTO_OWNER_MAX + 1];
	struct uuid	 cur;		/* charged with the attempt */
	uint64_t	 cur_fence;
	int		 cur_set;
	char		 reason[128];
};

struct sup {
	struct config	 cfg;
	const char	*conf_file;
	char		 conf_abs[PATH_MAX];	/* for the workers */
	char		 conf_env[PATH_MAX + 16];	/* TQ_CONFIG=... */
	char		 node[129];
	char		 instance[160];	/* "nonce boot_id pid" */
	char		 boot_id[64];
	int		 name_taken;	/* exit 100: the node name is in use */
	char		 control[PATH_MAX];
	char		 worker_cmd[1024];
	struct pool	*pools[POOLS_MAX];
	int		 npools;
	int		 stopping;
	int64_t		 stop_deadline;

	/* the database thread */
	pthread_t	 dbt;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct release_req *rq;
	size_t		 nrq, caprq;
	char		 (*owners)[PROTO_OWNER_MAX + 1];	/* live */
	size_t		 nowners;
	/* the workers' text for the node row (db_node_info) */
	char		 node_info[STORE_NODE_INFO_MAX + 1];
	int		 db_quit;
	int		 db_idle;	/* no release waiting */
	int		 leader;
	/* [cron NAME] schedules of the config file, registered at join */
	struct cron_row	*crons;
	int		 ncrons;
	/* cancel requests found by the db thread, sent by the main loop */
	struct cancel_req {
		char		owner[PROTO_OWNER_MAX + 1];
		struct uuid	task;
	}		*cancels;
	size_t		 ncancels;
	volatile int	 joined;	/* node row taken: workers may start */
	/* Monotonic ms until which no task this node's workers hold can be
	 * given to another node: the last node beat and lease renewal that
	 * succeeded, from when they were sent, plus the node timeout and
	 * the lease (db thread, under mu; 0 until the join). */
	int64_t		 vouch_until;
	unsigned long	 n_released, n_republished, n_reconciled;
};

extern struct sup S;

/* pool.c */
int	pools_load(const char *file, struct pool_conf *, int *n, char *err,
	    size_t errsz);
void	pool_apply(struct pool *, const struct pool_conf *);
void	pool_tick(struct pool *, int64_t now);
void	slot_spawn(struct slot *);
void	slot_exited(struct slot *, int status);
void	slot_frame(struct slot *);
void	slot_stop(struct slot *, int64_t now);
int	pools_live(void);
struct slot *slot_by_pid(pid_t);
struct slot *slot_by_fd(int);

/* db.c */
void	db_start(void);
void	db_stop(void);
void	db_release(const struct slot *, const char *reason);
void	db_owners_update(void);
/* The workers' figures, for the node row's next beat (main loop). */
void	db_node_info(void);
void	cancels_send(void);
void	db_vouched(int64_t beat_sent, int64_t renew_sent);

/* metrics.c */
/* The HTTP daemon's epoll descriptor (watch it), -2 when off or
 * unavailable, -1 bad. */
int	metrics_start(const char *listen);
/* Serves what is ready on it, and closes idle connections. */
void	metrics_run(void);
void	metrics_stop(void);
void	metrics_render(void);
/* The leader's live counts and retention figures (none elsewhere). */
void	metrics_db(int leader, const struct stat_row *rows, int n,
	    const unsigned long *deleted);
void	metrics_flow(const struct paused_queue *, int,
	    const struct limit_info *, int);
void	metrics_observe(struct pool *, int ok);
/* A finished task's outcome, for the counters and tq_rollup. */
void	metrics_finished(const char *queue, const char *name,
	    enum rollup_outcome, int64_t run_us, int64_t wait_us,
	    int timed_out);
/* The counts not yet in tq_rollup (see tally_take / tally_untake). */
int	metrics_take(struct rollup_row **out);
void	metrics_untake(const struct rollup_row *, size_t n);

/* control.c */
int	control_open(const char *path);
void	control_accept(int lfd);
void	control_close(int lfd, const char *path);

#endif
