/*
 * tally.h: counters and histograms of finished tasks, kept by the
 * processes that finish them (Prometheus counters: they only grow, and
 * start again at 0 with the process), and the deltas that go to tq_rollup.
 * Series are (queue, name); past TALLY_SERIES_MAX, names are summed under
 * "_other" so that a flood of names cannot grow memory without bound.
 */
#ifndef TQ_TALLY_H
#define TQ_TALLY_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "util.h"

#define TALLY_SERIES_MAX	256
#define TALLY_BUCKETS		13

/* Bounds of the histograms' buckets, seconds (le). */
extern const double tally_bounds[TALLY_BUCKETS];

struct tally_series {
	char		 queue[TASK_QUEUE_MAX + 1];
	char		 name[TASK_NAME_MAX + 1];
	uint64_t	 n[RO_COUNT];		/* by outcome */
	uint64_t	 timeouts;
	uint64_t	 run[TALLY_BUCKETS], run_count, run_sum_us;
	uint64_t	 wait[TALLY_BUCKETS], wait_count, wait_sum_us;
	/* not yet in tq_rollup */
	uint64_t	 dn[RO_COUNT], drun_us[RO_COUNT];
};

struct tally {
	struct tally_series *s;
	size_t		 n, cap;
};
#define TALLY_INIT { NULL, 0, 0 }

/* One finished run: its recorded outcome, handler time, and queue wait
 * (created -> started; < 0 when unknown). 0, or -1 out of memory. */
int	tally_add(struct tally *, const char *queue, const char *name,
	    enum rollup_outcome, int64_t run_us, int64_t wait_us,
	    int timed_out);
/* Prometheus text of every series, with the extra labels (e.g.
 * "node=\"a\","), appended to out. 0 or -1. */
int	tally_render(const struct tally *, const char *labels,
	    struct buf *out);
/* Takes the deltas not yet written to tq_rollup: *out malloc'd, rows
 * returned (0: nothing), -1 out of memory. tally_untake puts rows back
 * after a failed write. */
int	tally_take(struct tally *, struct rollup_row **out);
void	tally_untake(struct tally *, const struct rollup_row *, size_t n);
void	tally_release(struct tally *);

#endif
