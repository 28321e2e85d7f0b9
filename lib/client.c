/* client.c: row before message, always. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "cron.h"
#include "log.h"
#include "task.h"
#include "util.h"

#define PUBLISH_CHUNK	1000

int
client_init(struct client *c, const struct config *cfg)
{
	struct broker_opts def = BROKER_OPTS_DEFAULT;

	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	c->bopts = def;
	c->bopts.heartbeat_s = (int)cfg->heartbeat_s;
	c->bopts.timeout_ms = (int)cfg->timeout_ms;
	c->bopts.quorum = strcmp(cfg->queue_type, "quorum") == 0;
	c->bopts.window = (int)cfg->publish_window;
	c->bopts.tls.ca = c->cfg.amqp_tls_ca;
	c->bopts.tls.cert = c->cfg.amqp_tls_cert;
	c->bopts.tls.key = c->cfg.amqp_tls_key;
	c->bopts.tls.verify = cfg->amqp_tls_verify != 0;
	c->dbtls.on = cfg->mysql_tls != 0;
	c->dbtls.ca = c->cfg.mysql_tls_ca;
	c->dbtls.cert = c->cfg.mysql_tls_cert;
	c->dbtls.key = c->cfg.mysql_tls_key;
	c->dbtls.verify = cfg->mysql_tls_verify != 0;
	if (config_urls(cfg, NULL, &c->mysql, c->err, sizeof(c->err)) == -1)
		return -1;
	if ((c->namqp = config_amqp_urls(cfg, c->amqp, CLIENT_AMQP_MAX,
	    c->err, sizeof(c->err))) == -1)
		return -1;
	return 0;
}

struct broker *
client_broker_open(struct client *c, char *err, size_t errsz, int *temporary)
{
	struct broker *b;
	int i, k;

	*temporary = 1;
	for (i = 0; i < c->namqp; i++) {
		k = (c->amqp_cur + i) % c->namqp;
		b = broker_open(&c->amqp[k], &c->bopts, err, errsz, temporary);
		if (b != NULL) {
			c->amqp_cur = k;
			return b;
		}
		if (!*temporary)
			return NULL;
	}
	/* Next time, start with the next one. */
	c->amqp_cur = (c->amqp_cur + 1) % (c->namqp ? c->namqp : 1);
	return NULL;
}

int
client_store(struct client *c)
{
	int v;

	if (c->store != NULL)
		return 0;
	c->store = store_open(&c->mysql, &c->dbtls, c->err, sizeof(c->err), &c->err_temp);
	if (c->store == NULL)
		return -1;
	/* Once per client: an old schema gives one clear line, not an
	 * unknown column in the middle of the work. */
	if (!c->schema_checked && !c->no_schema_check) {
		if (store_schema_version(c->store, &v) == -1) {
			snprintf(c->err, sizeof(c->err), "%s",
			    store_errstr(c->store));
			c->err_temp = store_err_temporary(c->store);
			store_close(c->store);
			c->store = NULL;
			return -1;
		}
		if (v != STORE_SCHEMA_VERSION) {
			snprintf(c->err, sizeof(c->err), "database schema is at "
			    "version %d, this program needs %d: %s", v,
			    STORE_SCHEMA_VERSION, v < STORE_SCHEMA_VERSION ?
			    "run `tq migrate`" : "upgrade tq");
			c->err_temp = 0;
			store_close(c->store);
			c->store = NULL;
			return -1;
		}
		c->schema_checked = 1;
	}
	return 0;
}

int
client_broker(struct client *c)
{
	if (c->broker != NULL)
		return 0;
	c->broker = client_broker_open(c, c->err, sizeof(c->err),
	    &c->err_temp);
	return c->broker ? 0 : -1;
}

void
client_keepalive(struct client *c)
{
	if (c->broker != NULL && broker_keepalive(c->broker) == -1) {
		log_info("event=publisher_reconnect reason=\"%s\"",
		    broker_errstr(c->broker));
		broker_close(c->broker);
		c->broker = NULL;
	}
}

void
client_close(struct client *c)
{
	store_close(c->store);
	broker_close(c->broker);
	c->store = NULL;
	c->broker = NULL;
	for (int i = 0; i < c->namqp; i++)
		url_clear(&c->amqp[i]);
	url_clear(&c->mysql);
}

/* Drops a failed broker connection so the next call reconnects. */
static void
broker_lost(struct client *c)
{
	snprintf(c->err, sizeof(c->err), "%s", broker_errstr(c->broker));
	c->err_temp = 1;
	broker_close(c->broker);
	c->broker = NULL;
}

/* Publishes msgs[0..n) (declaring their queues); marks confirmed rows with
 * mark(). Returns the confirmed count, or -1. */
static int
publish_mark(struct client *c, struct broker_msg *m, size_t n,
    int (*mark)(struct store *, struct uuid *, size_t))
{
	struct uuid *ids;
	size_t i, k = 0;
	int got;

	if (client_broker(c) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if ((i == 0 || strcmp(m[i].queue, m[i - 1].queue) != 0) &&
		    broker_declare(c->broker, m[i].queue) == -1) {
			broker_lost(c);
			return -1;
		}
	got = broker_publish(c->broker, m, n);
	if ((ids = calloc(n, sizeof(*ids))) == NULL) {
		snprintf(c->err, sizeof(c->err), "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++)
		if (m[i].confirmed)
			ids[k++] = m[i].id;
	if (got == -1)
		broker_lost(c);
	/* Confirmed rows become queued; if this fails they stay pending and
	 * are published again later: a duplicate, never a loss. */
	if (k > 0 && mark(c->store, ids, k) == -1) {
		log_warnx("event=mark_queued_failed count=%zu error=\"%s\"", k,
		    store_errstr(c->store));
	}
	free(ids);
	return got == -1 ? -1 : (int)k;
}

/* One message for one task: 1 filled, 0 skipped (a field out of the
 * codec's bounds: the row waits for the reconciler, which says why), -1
 * out of memory. */
static int
msg_fill(struct broker_msg *m, uint8_t **body, const struct uuid *id,
    const char *queue, const char *name, const void *payload, size_t plen,
    unsigned priority)
{
	size_t sz = TASK_MSG_OVERHEAD + strlen(name) + plen;
	long len;

	if ((*body = malloc(sz)) == NULL)
		return -1;
	if ((len = task_msg_encode(id, name, payload, plen, *body, sz)) < 0) {
		free(*body);
		*body = NULL;
		return 0;
	}
	m->queue = queue;
	m->body = *body;
	m->len = (size_t)len;
	m->id = *id;
	m->priority = priority;
	return 1;
}

int
client_submit(struct client *c, struct task_new *t, size_t n,
    size_t *published)
{
	struct broker_msg *m = NULL;
	uint8_t **bodies = NULL;
	size_t i, j, chunk;
	int got, r, ret = -1;

	*published = 0;
	if (client_store(c) == -1)
		return -1;
	if (store_insert(c->store, t, n, c->cfg.pending_grace_ms) == -1) {
		snprintf(c->err, sizeof(c->err), "%s", store_errstr(c->store));
		c->err_temp = store_err_temporary(c->store);
		return -1;
	}
	/* Durable from here on: what follows only saves the reconciler work. */
	ret = 0;
	m = calloc(n, sizeof(*m));
	bodies = calloc(n, sizeof(*bodies));
	if (m == NULL || bodies == NULL)
		goto done;
	for (i = j = 0; i < n; i++) {
		/* Scheduled: the leader publishes it when due. Existing: the
		 * live task that holds the key is the answer. */
		if (t[i].delay_ms > 0 || t[i].existing || t[i].held) {
			(*published)++;
			continue;
		}
		if ((r = msg_fill(&m[j], &bodies[j], &t[i].id, t[i].queue,
		    t[i].name, t[i].payload, t[i].len, t[i].priority)) == -1)
			goto done;
		j += r;
	}
	for (i = 0; i < j; i += chunk) {
		chunk = j - i < PUBLISH_CHUNK ? j - i : PUBLISH_CHUNK;
		got = publish_mark(c, m + i, chunk, store_mark_queued);
		if (got == -1) {
			log_warnx("event=publish_deferred count=%zu "
			    "error=\"%s\"", j - i, c->err);
			break;
		}
		*published += (size_t)got;
	}
done:
	if (bodies != NULL)
		for (i = 0; i < n; i++)
			free(bodies[i]);
	free(bodies);
	free(m);
	return ret;
}

/* ---- bulk submission, pipelined ---- */

/* Batches waiting for the publisher at most: the producer runs ahead of
 * the broker by that much, no more. */
#define BULK_AHEAD	2

struct bulk_batch {
	struct broker_msg	*m;
	uint8_t			**bodies;
	size_t			 n;
	struct bulk_batch	*next;
};

struct client_bulk {
	struct client		*c;
	pthread_t		 th;
	int			 running;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	/* under mu */
	struct bulk_batch	*head, *tail;
	size_t			 nwait;
	int			 closing;
	struct uuid		*ok;		/* confirmed, not yet marked */
	int64_t			*okat;		/* when each was confirmed */
	size_t			 nok, capok;
	size_t			 published;	/* need nothing more */
	size_t			 deferred;	/* durable, not published */
	char			 err[TQ_ERRSZ];	/* the publisher's last */
};

static void
bulk_batch_free(struct bulk_batch *bb)
{
	size_t i;

	if (bb == NULL)
		return;
	if (bb->bodies != NULL)
		for (i = 0; i < bb->n; i++)
			free(bb->bodies[i]);
	free(bb->bodies);
	free(bb->m);
	free(bb);
}

/* Room for cap confirmed ids (under mu); on failure, as it was. */
static void
bulk_grow(struct client_bulk *b, size_t cap)
{
	struct uuid *ok;
	int64_t *at;

	if ((ok = reallocarray(b->ok, cap, sizeof(*ok))) == NULL)
		return;
	b->ok = ok;
	if ((at = reallocarray(b->okat, cap, sizeof(*at))) == NULL)
		return;
	b->okat = at;
	b->capok = cap;
}

/* The publisher thread's half of publish_mark: the marking is left to the
 * producer's next transaction. Owns c->broker while the bulk runs. */
static void
bulk_publish(struct client_bulk *b, struct bulk_batch *bb)
{
	struct client *c = b->c;
	struct uuid *ids;
	char err[TQ_ERRSZ];
	size_t i = 0, j, k, chunk;
	int got, temp;

	if ((ids = calloc(bb->n ? bb->n : 1, sizeof(*ids))) == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto deferred;
	}
	for (i = 0; i < bb->n; i += chunk) {
		chunk = bb->n - i < PUBLISH_CHUNK ? bb->n - i : PUBLISH_CHUNK;
		if (c->broker == NULL && (c->broker = client_broker_open(c, err,
		    sizeof(err), &temp)) == NULL)
			goto deferred;
		/* (broker_declare declares once per connection.) */
		for (j = i; j < i + chunk; j++)
			if (broker_declare(c->broker, bb->m[j].queue) == -1)
				goto lost;
		got = broker_publish(c->broker, bb->m + i, chunk);
		for (j = i, k = 0; j < i + chunk; j++)
			if (bb->m[j].confirmed)
				ids[k++] = bb->m[j].id;
		pthread_mutex_lock(&b->mu);
		if (b->nok + k > b->capok)
			bulk_grow(b, (b->nok + k) * 2);
		if (b->nok + k <= b->capok) {
			int64_t now = now_ms();

			memcpy(b->ok + b->nok, ids, k * sizeof(*ids));
			for (j = 0; j < k; j++)
				b->okat[b->nok + j] = now;
			b->nok += k;
		}
		/* (Without room they stay pending: the reconciler's.) */
		b->published += k;
		b->deferred += chunk - k;
		pthread_mutex_unlock(&b->mu);
		if (got == -1)
			goto lost;
	}
	free(ids);
	return;
lost:
	snprintf(err, sizeof(err), "%s", broker_errstr(c->broker));
	broker_close(c->broker);
	c->broker = NULL;
deferred:
	free(ids);
	log_warnx("event=publish_deferred count=%zu error=\"%s\"", bb->n - i,
	    err);
	pthread_mutex_lock(&b->mu);
	snprintf(b->err, sizeof(b->err), "%s", err);
	b->deferred += bb->n - i;
	pthread_mutex_unlock(&b->mu);
}

static void *
bulk_main(void *arg)
{
	struct client_bulk *b = arg;
	struct bulk_batch *bb;

	for (;;) {
		pthread_mutex_lock(&b->mu);
		while (b->head == NULL && !b->closing)
			pthread_cond_wait(&b->cv, &b->mu);
		if ((bb = b->head) == NULL) {
			pthread_mutex_unlock(&b->mu);
			break;
		}
		if ((b->head = bb->next) == NULL)
			b->tail = NULL;
		b->nwait--;
		pthread_cond_broadcast(&b->cv);
		pthread_mutex_unlock(&b->mu);
		bulk_publish(b, bb);
		bulk_batch_free(bb);
	}
	return NULL;
}

struct client_bulk *
client_bulk_start(struct client *c)
{
	struct client_bulk *b;

	if ((b = calloc(1, sizeof(*b))) == NULL) {
		snprintf(c->err, sizeof(c->err), "out of memory");
		c->err_temp = 1;
		return NULL;
	}
	b->c = c;
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	if (pthread_create(&b->th, NULL, bulk_main, b) != 0) {
		snprintf(c->err, sizeof(c->err), "pthread_create failed");
		c->err_temp = 1;
		pthread_mutex_destroy(&b->mu);
		pthread_cond_destroy(&b->cv);
		free(b);
		return NULL;
	}
	b->running = 1;
	return b;
}

/* The confirmed ids not yet marked that were confirmed at least age_ms
 * ago, taken out of b (caller frees; NULL when none). Waiting a little
 * lets the workers claim most rows first: the marking then finds them
 * running or done and writes nothing. */
static struct uuid *
bulk_take(struct client_bulk *b, size_t *n, int64_t age_ms)
{
	struct uuid *ids = NULL;
	int64_t cut = now_ms() - age_ms;
	size_t i, k = 0, m = 0;

	pthread_mutex_lock(&b->mu);
	for (i = 0; i < b->nok; i++)
		m += b->okat[i] <= cut;
	if (m > 0 && (ids = calloc(m, sizeof(*ids))) != NULL)
		for (i = 0; i < b->nok; i++) {
			if (b->okat[i] <= cut)
				ids[k++] = b->ok[i];
			else {
				b->ok[i - k] = b->ok[i];
				b->okat[i - k] = b->okat[i];
			}
		}
	b->nok -= k;
	pthread_mutex_unlock(&b->mu);
	*n = k;
	return ids;
}

/* Gives ids back (their marking failed with the transaction): due at
 * once. */
static void
bulk_give_back(struct client_bulk *b, struct uuid *ids, size_t n)
{
	size_t i;

	pthread_mutex_lock(&b->mu);
	if (b->nok + n > b->capok)
		bulk_grow(b, b->nok + n);
	if (b->nok + n <= b->capok) {
		for (i = 0; i < n; i++) {
			b->ok[b->nok + i] = ids[i];
			b->okat[b->nok + i] = 0;
		}
		b->nok += n;
	}
	pthread_mutex_unlock(&b->mu);
	free(ids);
}

/* How long a confirmed row may wait to be marked: well inside the grace
 * after which the reconciler would publish it again. */
static int64_t
bulk_mark_age(const struct client *c)
{
	int64_t age = c->cfg.pending_grace_ms / 4;

	return age < 1000 ? age : 1000;
}

int
client_bulk_submit(struct client_bulk *b, struct task_new *t, size_t n)
{
	struct client *c = b->c;
	struct bulk_batch *bb = NULL;
	struct uuid *marks;
	size_t i, nmarks, done = 0;
	int r;

	if (client_store(c) == -1)
		return -1;
	marks = bulk_take(b, &nmarks, bulk_mark_age(c));
	if (store_insert_mark(c->store, t, n, c->cfg.pending_grace_ms, marks,
	    nmarks) == -1) {
		snprintf(c->err, sizeof(c->err), "%s", store_errstr(c->store));
		c->err_temp = store_err_temporary(c->store);
		bulk_give_back(b, marks, nmarks);
		return -1;
	}
	free(marks);
	/* Durable from here on: what follows only saves the reconciler work. */
	if ((bb = calloc(1, sizeof(*bb))) == NULL ||
	    (bb->m = calloc(n ? n : 1, sizeof(*bb->m))) == NULL ||
	    (bb->bodies = calloc(n ? n : 1, sizeof(*bb->bodies))) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		/* As client_submit: scheduled, existing and held rows need no
		 * message now. */
		if (t[i].delay_ms > 0 || t[i].existing || t[i].held) {
			done++;
			continue;
		}
		if ((r = msg_fill(&bb->m[bb->n], &bb->bodies[bb->n], &t[i].id,
		    t[i].queue, t[i].name, t[i].payload, t[i].len,
		    t[i].priority)) == -1)
			goto oom;
		bb->n += (size_t)r;
	}
	pthread_mutex_lock(&b->mu);
	b->published += done;
	b->deferred += n - done - bb->n;
	while (b->nwait >= BULK_AHEAD)
		pthread_cond_wait(&b->cv, &b->mu);
	if (b->tail)
		b->tail->next = bb;
	else
		b->head = bb;
	b->tail = bb;
	b->nwait++;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
	return 0;
oom:
	/* Stored all the same: the reconciler publishes them. */
	pthread_mutex_lock(&b->mu);
	b->published += done;
	b->deferred += n - done;
	snprintf(b->err, sizeof(b->err), "out of memory");
	pthread_mutex_unlock(&b->mu);
	bulk_batch_free(bb);
	return 0;
}

int
client_bulk_end(struct client_bulk *b, size_t *published)
{
	struct client *c;
	struct uuid *marks;
	size_t nmarks;
	int ret = 0;

	if (b == NULL)
		return 0;
	c = b->c;
	pthread_mutex_lock(&b->mu);
	b->closing = 1;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
	if (b->running)
		pthread_join(b->th, NULL);
	marks = bulk_take(b, &nmarks, 0);
	/* The last batch's confirmed rows, in a statement of their own. */
	if (nmarks > 0 && (client_store(c) == -1 ||
	    store_mark_queued(c->store, marks, nmarks) == -1)) {
		log_warnx("event=mark_queued_failed count=%zu error=\"%s\"",
		    nmarks, c->store ? store_errstr(c->store) : c->err);
		ret = -1;
	}
	free(marks);
	if (published)
		*published = b->published;
	if (b->deferred > 0 && b->err[0])
		snprintf(c->err, sizeof(c->err), "%s", b->err);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	free(b->ok);
	free(b->okat);
	free(b);
	return ret;
}

int
client_publish_rows(struct client *c, struct pub_row *rows, size_t n)
{
	struct broker_msg *m;
	uint8_t **bodies;
	size_t i, j = 0;
	int got = -1, r;

	if (n == 0)
		return 0;
	m = calloc(n, sizeof(*m));
	bodies = calloc(n, sizeof(*bodies));
	if (m == NULL || bodies == NULL) {
		snprintf(c->err, sizeof(c->err), "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		if ((r = msg_fill(&m[j], &bodies[j], &rows[i].id,
		    rows[i].queue, rows[i].name, rows[i].payload, rows[i].len,
		    rows[i].priority)) == -1) {
			snprintf(c->err, sizeof(c->err), "out of memory");
			goto done;
		}
		j += r;
	}
	got = publish_mark(c, m, j, store_mark_published);
done:
	if (bodies != NULL)
		for (i = 0; i < n; i++)
			free(bodies[i]);
	free(bodies);
	free(m);
	return got;
}

static void
free_woken(struct client *c)
{
	struct uuid *ids;

	(void)store_woken(c->store, &ids);
	free(ids);
}

int
client_publish_woken(struct client *c)
{
	struct pub_row *rows = NULL;
	struct uuid *ids;
	int n, np, r = 0;

	if (c->store == NULL || (n = store_woken(c->store, &ids)) == 0)
		return 0;
	if ((np = store_pub_rows(c->store, ids, (size_t)n, &rows)) == -1) {
		free(ids);
		return client_store_failed(c);
	}
	if (np > 0)
		r = client_publish_rows(c, rows, (size_t)np);
	pub_rows_free(rows, (size_t)(np > 0 ? np : 0));
	free(ids);
	return r;
}

/*
 * Queued rows whose message the broker lost (a broker that dies can lose a
 * confirmed message: seen with single-node quorum queues after kill -9)
 * would wait forever. The row is the truth: when the broker says a queue
 * is empty yet the database has old queued tasks for it, they are
 * published again. Duplicates are dropped by the claim.
 */
static int
republish_stranded(struct client *c)
{
	char (*queues)[TASK_QUEUE_MAX + 1] = NULL;
	struct pub_row *rows = NULL;
	struct uuid *ids;
	int nq, i, n, k, total = 0;
	long depth;

	if ((nq = store_stranded_queues(c->store, c->cfg.stranded_after_ms,
	    &queues)) <= 0) {
		if (nq == -1)
			snprintf(c->err, sizeof(c->err), "%s",
			    store_errstr(c->store));
		return nq;
	}
	if (client_broker(c) == -1) {
		free(queues);
		return -1;
	}
	for (i = 0; i < nq; i++) {
		if (broker_declare(c->broker, queues[i]) == -1 ||
		    (depth = broker_depth(c->broker, queues[i])) == -1) {
			broker_lost(c);
			free(queues);
			return -1;
		}
		if (depth > 0)
			continue;	/* a backlog is moving; not stranded */
		if ((n = store_stranded(c->store, queues[i],
		    c->cfg.stranded_after_ms, 500, &rows)) <= 0)
			continue;
		log_warnx("event=stranded queue=%s count=%d action=republish "
		    "reason=\"queued in the database, absent from the broker\"",
		    queues[i], n);
		k = client_publish_rows(c, rows, (size_t)n);
		if ((ids = calloc((size_t)n, sizeof(*ids))) != NULL) {
			for (int j = 0; j < n; j++)
				ids[j] = rows[j].id;
			if (k > 0 && store_touch_queued(c->store, ids,
			    (size_t)n) == -1)
				log_warnx("event=touch_failed error=\"%s\"",
				    store_errstr(c->store));
			free(ids);
		}
		pub_rows_free(rows, (size_t)n);
		if (k == -1) {
			free(queues);
			return -1;
		}
		total += k;
	}
	free(queues);
	return total;
}

/* Due schedules enqueue their tick's task (scheduled, due now: the pass
 * below publishes it). Ticks missed while no leader ran are coalesced
 * into one: the latest. */
static int
cron_step(struct client *c)
{
	struct cron_row *rows = NULL;
	struct task_new t;
	struct cron cr;
	char err[256], idtxt[UUID_STRLEN + 1];
	int64_t now = (int64_t)time(NULL), tick, next, n2;
	int n, i, r, fired = 0, steps;

	if ((n = store_cron_list(c->store, 1, &rows)) <= 0)
		return n;
	for (i = 0; i < n; i++) {
		if (cron_parse(rows[i].spec, &cr, err, sizeof(err)) == -1) {
			log_error("event=cron_bad name=%s spec=\"%s\" "
			    "error=\"%s\"", rows[i].name, rows[i].spec, err);
			continue;
		}
		tick = rows[i].next_tick;
		for (steps = 0; steps < 100000; steps++) {
			n2 = cron_next(&cr, (time_t)tick);
			if (n2 == -1 || n2 > now)
				break;
			tick = n2;
		}
		if ((next = cron_next(&cr, (time_t)now)) == -1)
			next = now + 86400LL * 365 * 10;
		memset(&t, 0, sizeof(t));
		t.queue = rows[i].queue;
		t.name = rows[i].task;
		t.payload = rows[i].payload ? rows[i].payload : "";
		t.len = rows[i].len;
		t.max_attempts = (unsigned)c->cfg.max_attempts;
		t.backoff_base_ms = (unsigned)c->cfg.backoff_base_ms;
		t.backoff_cap_ms = (unsigned)c->cfg.backoff_cap_ms;
		t.delay_ms = 1;
		if ((r = store_cron_fire(c->store, &rows[i], tick, next,
		    &t)) == -1) {
			cron_rows_free(rows, (size_t)n);
			return -1;
		}
		if (r == 1) {
			uuid_fmt(&t.id, idtxt);
			log_info("event=cron_fired name=%s tick=%lld task=%s "
			    "missed=%lld", rows[i].name, (long long)tick, idtxt,
			    tick > rows[i].next_tick ? 1LL : 0LL);
			fired++;
		}
	}
	cron_rows_free(rows, (size_t)n);
	return fired;
}

int
client_reconcile(struct client *c, struct reconcile_stats *rs)
{
	struct pub_row *rows = NULL;
	int n;

	memset(rs, 0, sizeof(*rs));
	if (client_store(c) == -1)
		return -1;
	if ((rs->expired = store_expire_leases(c->store, 500)) == -1)
		goto dbfail;
	/* What the expired leases let out of a limit's wait is due: the
	 * due rows below are published. */
	free_woken(c);
	if ((rs->cron = cron_step(c)) == -1)
		goto dbfail;
	if ((n = store_due(c->store, &rows, 500)) == -1)
		goto dbfail;
	rs->due = n;
	n = n > 0 ? client_publish_rows(c, rows, (size_t)n) : 0;
	pub_rows_free(rows, (size_t)rs->due);
	if (n == -1)
		return -1;
	rs->published = n;
	if (now_ms() >= c->next_stranded) {
		c->next_stranded = now_ms() + 5000;
		if ((n = republish_stranded(c)) == -1)
			return -1;
		rs->stranded = n;
	}
	return 0;
dbfail:
	return client_store_failed(c);
}

int
client_store_failed(struct client *c)
{
	snprintf(c->err, sizeof(c->err), "%s", store_errstr(c->store));
	c->err_temp = store_err_temporary(c->store);
	if (c->err_temp) {
		store_close(c->store);
		c->store = NULL;
	}
	return -1;
}

void
client_reconcile_failed(struct client *c)
{
	unsigned skipped;

	if (ratelimit_say(&c->reconcile_rl, now_ms(), 5000, &skipped))
		log_warnx("event=reconcile_failed error=\"%s\" repeated=%u",
		    c->err, skipped);
}
