/*
 * history.h: what tq keeps of finished tasks, and how it counts them
 * without reading them: live counts come from an index range over the
 * states that are not terminal, finished counts from tq_rollup (kept as
 * tasks finish), and retention deletes what is past its window.
 */
#ifndef TQ_HISTORY_H
#define TQ_HISTORY_H

#include <stdint.h>

#include "client.h"

/* tq stats: per queue, the live states counted now and the terminal ones
 * as counted when they finished, over each queue's retention window (in
 * whole hours; forever: all counts kept). *out malloc'd; rows or -1. */
int	history_stats(struct client *, struct stat_row **out);

/* The leader's retention, paced: call it every reconciler tick. */
struct retention {
	int64_t		 next_at;	/* next pass, now_ms() */
	int64_t		 rollup_at;	/* tq_rollup pruned then */
	int64_t		 window_at;	/* tq_window's edges moved then */
	unsigned long	 deleted[3];	/* succeeded, failed, cancelled */
	int		 backlog;	/* the last pass stopped on its budget */
	unsigned	 turn;		/* where the next pass starts */
};
#define RETENTION_INIT { 0, 0, 0, { 0, 0, 0 }, 0, 0 }
/* One pass when due: deletes expired rows batch by batch until nothing is
 * left or budget_ms is spent (then the next tick goes on). Returns the
 * rows deleted, or -1 (c->err). */
long	history_retention(struct client *, struct retention *,
	    int64_t budget_ms);

/* The leader's counts of what the windows hold (tq_window): closes the
 * hours that ended, and moves each row's old edge to where its queue's
 * window is now (history_retention calls it every minute). 0 or -1. */
int	history_window(struct client *);

/* tq purge: finished tasks of state (of queue, or all) older than
 * older_ms, through retention's path. Count or -1 (c->err). */
long	history_purge(struct client *, enum task_state, const char *queue,
	    int64_t older_ms);

/* "task ID: not found", and when the id is older than the shortest
 * retention window, that it may have finished and been deleted by
 * retention: a missing row is not a lost task. Into buf. */
const char *history_not_found(const struct config *, const struct uuid *,
	    char *buf, size_t size);

#endif
