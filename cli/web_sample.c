/*
 * web_sample.c: what tq web watches on its own, every SAMPLE_S seconds,
 * on a connection of its own (the main thread, between signals): the
 * finished counts of the hours since it started (tq_rollup, which the
 * supervisors add to every 5 s), so that the overview can draw the last
 * 5 minutes and the last hour at a finer step than tq_rollup's hour; and
 * the percentiles of queue wait and run time over each queue's latest
 * succeeded tasks. A page view reads these from memory: five open
 * dashboards cost the database what one tq web costs.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store.h"
#include "util.h"

#include "cli.h"
#include "web.h"

#define SAMPLE_S	5
#define SAMPLES		(3600 / SAMPLE_S + 2)	/* an hour and a step */
#define QUEUES_MAX	32			/* drawn; more are summed */
#define RECENT		500			/* tasks per percentile */
#define ORIGIN_MAX_S	(24 * 3600)		/* then counting starts over */

struct sample {
	int64_t		t;			/* epoch seconds */
	uint64_t	n[QUEUES_MAX + 1][2];	/* succeeded, failed; the last
						 * row: queues beyond */
};

struct latency {
	char		queue[TASK_QUEUE_MAX + 1];
	double		wait_ms[3], run_ms[3];	/* p50, p90, p99 */
	int		n;
};

static struct {
	pthread_mutex_t	 mu;
	struct client	 c;
	int64_t		 origin;		/* counted since: an hour */
	char		 queues[QUEUES_MAX][TASK_QUEUE_MAX + 1];
	int		 nq;
	struct sample	*ring;
	size_t		 head, count;		/* newest at head - 1 */
	struct latency	 lat[QUEUES_MAX];
	int		 nlat;
} P = { .mu = PTHREAD_MUTEX_INITIALIZER };

static int
queue_slot(const char *q)
{
	int i;

	for (i = 0; i < P.nq; i++)
		if (strcmp(P.queues[i], q) == 0)
			return i;
	if (P.nq == QUEUES_MAX)
		return QUEUES_MAX;
	strlcpy(P.queues[P.nq], q, sizeof(P.queues[0]));
	return P.nq++;
}

/* The cumulative counts now, into the ring. Under P.mu. */
static int
sample_counts(int64_t now)
{
	struct rollup_row *ro = NULL;
	struct sample *s;
	int i, n, k;

	if (P.origin == 0 || now - P.origin > ORIGIN_MAX_S) {
		/* Counting starts over: the samples before do not add up
		 * with the ones after. */
		P.origin = now - now % 3600;
		P.count = 0;
	}
	if ((n = store_rollup_since(P.c.store, P.origin, &ro)) == -1)
		return -1;
	s = &P.ring[P.head];
	memset(s, 0, sizeof(*s));
	s->t = now;
	for (i = 0; i < n; i++) {
		if (ro[i].outcome != RO_SUCCEEDED && ro[i].outcome != RO_FAILED)
			continue;
		k = queue_slot(ro[i].queue);
		s->n[k][ro[i].outcome == RO_FAILED] += ro[i].n;
	}
	free(ro);
	P.head = (P.head + 1) % SAMPLES;
	if (P.count < SAMPLES)
		P.count++;
	return 0;
}

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
pcts(double *v, int n, double out[3])
{
	static const double at[3] = { 0.50, 0.90, 0.99 };
	int i;

	qsort(v, (size_t)n, sizeof(*v), dbl_cmp);
	for (i = 0; i < 3; i++)
		out[i] = n ? v[(int)(at[i] * (n - 1) + 0.5)] : -1;
}

/* Percentiles of each known queue's latest succeeded tasks. Not under
 * P.mu (it reads the database); the results are swapped in after. */
static int
sample_latency(struct latency *lat, int *nlat,
    char (*queues)[TASK_QUEUE_MAX + 1], int nq)
{
	struct store_table t = STORE_TABLE_INIT;
	double wait[RECENT], run[RECENT];
	const char *w, *r, *a;
	size_t i;
	int q, nw, nr;

	*nlat = 0;
	for (q = 0; q < nq; q++) {
		if (store_web_recent(P.c.store, queues[q], RECENT, &t) == -1)
			return -1;
		for (i = 0, nw = nr = 0; i < t.n; i++) {
			w = store_cell(&t, i, 0);
			r = store_cell(&t, i, 1);
			a = store_cell(&t, i, 2);
			/* A retry's wait is its backoff, not the queue's. */
			if (w && a && strcmp(a, "1") == 0)
				wait[nw++] = strtod(w, NULL) / 1000.0;
			if (r)
				run[nr++] = strtod(r, NULL) / 1000.0;
		}
		store_table_free(&t);
		if (nr == 0)
			continue;
		strlcpy(lat[*nlat].queue, queues[q], sizeof(lat[0].queue));
		pcts(wait, nw, lat[*nlat].wait_ms);
		pcts(run, nr, lat[*nlat].run_ms);
		lat[*nlat].n = nr;
		(*nlat)++;
	}
	return 0;
}

static void
sample(void)
{
	static struct latency lat[QUEUES_MAX];
	static char queues[QUEUES_MAX][TASK_QUEUE_MAX + 1];
	int64_t now = (int64_t)time(NULL);
	int nlat, nq, r;

	if (client_store(&P.c) == -1)
		return;
	pthread_mutex_lock(&P.mu);
	r = sample_counts(now);
	nq = P.nq;
	memcpy(queues, P.queues, sizeof(queues));
	pthread_mutex_unlock(&P.mu);
	if (r == -1 || sample_latency(lat, &nlat, queues, nq) == -1) {
		log_warnx("event=web_sample_failed why=\"%s\"",
		    store_errstr(P.c.store));
		(void)client_store_failed(&P.c);
		return;
	}
	pthread_mutex_lock(&P.mu);
	memcpy(P.lat, lat, sizeof(P.lat));
	P.nlat = nlat;
	pthread_mutex_unlock(&P.mu);
}

int
web_sample_loop(const sigset_t *set)
{
	struct timespec ts = { SAMPLE_S, 0 };
	int sig;

	if (client_init(&P.c, &cfg) == -1 ||
	    (P.ring = calloc(SAMPLES, sizeof(*P.ring))) == NULL) {
		log_warnx("event=web_sample_off why=\"%s\"", P.c.err);
		while (sigwait(set, &sig) != 0)
			;
		return sig;
	}
	for (;;) {
		sample();
		if ((sig = sigtimedwait(set, NULL, &ts)) > 0)
			break;
		if (sig == -1 && errno != EAGAIN && errno != EINTR)
			break;
	}
	client_close(&P.c);
	free(P.ring);
	P.ring = NULL;
	return sig;
}

/* The sample at or before t (NULL: none). Under P.mu. */
static const struct sample *
at_or_before(int64_t t)
{
	const struct sample *s;
	size_t i;

	for (i = 1; i <= P.count; i++) {
		s = &P.ring[(P.head + SAMPLES - i) % SAMPLES];
		if (s->t <= t)
			return s;
	}
	return NULL;
}

static uint64_t
total(const struct sample *s, int q, int which)
{
	uint64_t n = 0;
	int i;

	if (q >= 0)
		return s->n[q][which];
	for (i = 0; i <= QUEUES_MAX; i++)
		n += s->n[i][which];
	return n;
}

/* Rates per second over points steps of step seconds up to now, for
 * queue q (-1: all): null where the samples do not reach. */
static json_t *
series(int64_t now, int step, int points, int q)
{
	json_t *o = json_object(), *t = json_array(), *ok = json_array(),
	    *bad = json_array();
	const struct sample *a, *b;
	int64_t end;
	int k;

	for (k = points - 1; k >= 0; k--) {
		end = now - (int64_t)k * step;
		json_array_append_new(t, json_integer(end));
		b = at_or_before(end);
		a = at_or_before(end - step);
		if (a == NULL || b == NULL || b == a || b->t <= a->t) {
			json_array_append_new(ok, json_null());
			json_array_append_new(bad, json_null());
			continue;
		}
		json_array_append_new(ok, json_real((double)(total(b, q, 0) -
		    total(a, q, 0)) / (double)(b->t - a->t)));
		json_array_append_new(bad, json_real((double)(total(b, q, 1) -
		    total(a, q, 1)) / (double)(b->t - a->t)));
	}
	json_object_set_new(o, "t", t);
	json_object_set_new(o, "succeeded", ok);
	json_object_set_new(o, "failed", bad);
	return o;
}

static json_t *
pct_json(const double v[3])
{
	return v[0] < 0 ? json_null() : json_pack("{s:f, s:f, s:f}", "p50",
	    v[0], "p90", v[1], "p99", v[2]);
}

json_t *
web_sample_json(const char *queue)
{
	json_t *o, *lat;
	int64_t now = (int64_t)time(NULL);
	int i, q = -1;

	pthread_mutex_lock(&P.mu);
	if (queue && queue[0])
		for (i = 0, q = QUEUES_MAX; i < P.nq; i++)
			if (strcmp(P.queues[i], queue) == 0)
				q = i;
	lat = json_array();
	for (i = 0; i < P.nlat; i++)
		json_array_append_new(lat, json_pack("{s:s, s:i, s:o, s:o}",
		    "queue", P.lat[i].queue, "n", P.lat[i].n, "wait_ms",
		    pct_json(P.lat[i].wait_ms), "run_ms",
		    pct_json(P.lat[i].run_ms)));
	o = json_pack("{s:i, s:o, s:o, s:o}", "sample_s", SAMPLE_S,
	    "m5", series(now - now % SAMPLE_S, SAMPLE_S, 300 / SAMPLE_S, q),
	    "h1", series(now - now % 60, 60, 60, q), "latency", lat);
	pthread_mutex_unlock(&P.mu);
	return o;
}
