/* tally.c: counters of finished tasks by (queue, name); see tally.h. */
#include <stdlib.h>
#include <string.h>

#include "tally.h"

const double tally_bounds[TALLY_BUCKETS] = { 0.005, 0.01, 0.025, 0.05, 0.1,
	0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };

static struct tally_series *
series(struct tally *t, const char *queue, const char *name)
{
	struct tally_series *s;
	size_t i;
	void *p;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->s[i].name, name) == 0 &&
		    strcmp(t->s[i].queue, queue) == 0)
			return &t->s[i];
	if (t->n >= TALLY_SERIES_MAX && strcmp(name, "_other") != 0)
		return series(t, queue, "_other");
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 8;
		if ((p = reallocarray(t->s, t->cap, sizeof(*t->s))) == NULL)
			return NULL;
		t->s = p;
	}
	s = &t->s[t->n++];
	memset(s, 0, sizeof(*s));
	strlcpy(s->queue, queue, sizeof(s->queue));
	strlcpy(s->name, name, sizeof(s->name));
	return s;
}

static void
observe(uint64_t *b, uint64_t *count, uint64_t *sum, int64_t us)
{
	size_t i;

	for (i = 0; i < TALLY_BUCKETS; i++)
		if ((double)us / 1e6 <= tally_bounds[i])
			b[i]++;
	(*count)++;
	*sum += (uint64_t)us;
}

int
tally_add(struct tally *t, const char *queue, const char *name,
    enum rollup_outcome o, int64_t run_us, int64_t wait_us, int timed_out)
{
	struct tally_series *s;

	if ((unsigned)o >= RO_COUNT)
		return 0;
	if ((s = series(t, queue, name)) == NULL)
		return -1;
	s->n[o]++;
	s->dn[o]++;
	if (timed_out)
		s->timeouts++;
	if (run_us >= 0) {
		observe(s->run, &s->run_count, &s->run_sum_us, run_us);
		s->drun_us[o] += (uint64_t)run_us;
	}
	if (wait_us >= 0)
		observe(s->wait, &s->wait_count, &s->wait_sum_us, wait_us);
	return 0;
}

static int
histogram(struct buf *b, const char *metric, const char *labels,
    const struct tally_series *s, const uint64_t *bk, uint64_t count,
    uint64_t sum_us)
{
	size_t i;

	for (i = 0; i < TALLY_BUCKETS; i++)
		if (buf_printf(b, "%s_bucket{%squeue=\"%s\",name=\"%s\",le=\"%g\"} "
		    "%llu\n", metric, labels, s->queue, s->name,
		    tally_bounds[i], (unsigned long long)bk[i]) == -1)
			return -1;
	return buf_printf(b, "%s_bucket{%squeue=\"%s\",name=\"%s\",le=\"+Inf\"} "
	    "%llu\n%s_sum{%squeue=\"%s\",name=\"%s\"} %.6f\n"
	    "%s_count{%squeue=\"%s\",name=\"%s\"} %llu\n", metric, labels,
	    s->queue, s->name, (unsigned long long)count, metric, labels,
	    s->queue, s->name, (double)sum_us / 1e6, metric, labels, s->queue,
	    s->name, (unsigned long long)count) == -1 ? -1 : 0;
}

int
tally_render(const struct tally *t, const char *labels, struct buf *b)
{
	size_t i;
	int o;

	/* Queue and task names are [A-Za-z0-9._:-]: nothing to escape. */
	if (buf_printf(b, "# HELP tq_tasks_finished_total Task runs whose "
	    "outcome was recorded, by outcome (retried: failed with attempts "
	    "left).\n# TYPE tq_tasks_finished_total counter\n") == -1)
		return -1;
	for (i = 0; i < t->n; i++)
		for (o = 0; o < RO_COUNT; o++)
			if (buf_printf(b, "tq_tasks_finished_total{%squeue=\"%s\","
			    "name=\"%s\",outcome=\"%s\"} %llu\n", labels,
			    t->s[i].queue, t->s[i].name,
			    rollup_outcome_name((enum rollup_outcome)o),
			    (unsigned long long)t->s[i].n[o]) == -1)
				return -1;
	if (buf_printf(b, "# HELP tq_task_timeouts_total Runs stopped at "
	    "their time limit.\n# TYPE tq_task_timeouts_total counter\n") ==
	    -1)
		return -1;
	for (i = 0; i < t->n; i++)
		if (buf_printf(b, "tq_task_timeouts_total{%squeue=\"%s\","
		    "name=\"%s\"} %llu\n", labels, t->s[i].queue, t->s[i].name,
		    (unsigned long long)t->s[i].timeouts) == -1)
			return -1;
	if (buf_printf(b, "# HELP tq_task_duration_seconds Handler run time."
	    "\n# TYPE tq_task_duration_seconds histogram\n") == -1)
		return -1;
	for (i = 0; i < t->n; i++)
		if (histogram(b, "tq_task_duration_seconds", labels, &t->s[i],
		    t->s[i].run, t->s[i].run_count, t->s[i].run_sum_us) == -1)
			return -1;
	if (buf_printf(b, "# HELP tq_task_wait_seconds Queue wait of first "
	    "attempts, created to started.\n# TYPE tq_task_wait_seconds "
	    "histogram\n") == -1)
		return -1;
	for (i = 0; i < t->n; i++)
		if (histogram(b, "tq_task_wait_seconds", labels, &t->s[i],
		    t->s[i].wait, t->s[i].wait_count, t->s[i].wait_sum_us) == -1)
			return -1;
	return 0;
}

int
tally_take(struct tally *t, struct rollup_row **out)
{
	struct rollup_row *r;
	size_t i, k = 0;
	int o;

	*out = NULL;
	for (i = 0; i < t->n; i++)
		for (o = 0; o < RO_COUNT; o++)
			k += t->s[i].dn[o] != 0;
	if (k == 0)
		return 0;
	if ((r = calloc(k, sizeof(*r))) == NULL)
		return -1;
	k = 0;
	for (i = 0; i < t->n; i++)
		for (o = 0; o < RO_COUNT; o++) {
			if (t->s[i].dn[o] == 0)
				continue;
			strlcpy(r[k].queue, t->s[i].queue, sizeof(r[k].queue));
			strlcpy(r[k].name, t->s[i].name, sizeof(r[k].name));
			r[k].outcome = (enum rollup_outcome)o;
			r[k].n = t->s[i].dn[o];
			r[k].run_us = t->s[i].drun_us[o];
			t->s[i].dn[o] = 0;
			t->s[i].drun_us[o] = 0;
			k++;
		}
	*out = r;
	return (int)k;
}

void
tally_untake(struct tally *t, const struct rollup_row *r, size_t n)
{
	struct tally_series *s;
	size_t i;

	for (i = 0; i < n; i++)
		if ((s = series(t, r[i].queue, r[i].name)) != NULL) {
			s->dn[r[i].outcome] += r[i].n;
			s->drun_us[r[i].outcome] += r[i].run_us;
		}
}

void
tally_release(struct tally *t)
{
	free(t->s);
	t->s = NULL;
	t->n = t->cap = 0;
}
