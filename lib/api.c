/* api.c: the producer side of tq.h, over client.c and store.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "history.h"
#include "config.h"
#include "store.h"
#include "task.h"
#include "tq.h"
#include "util.h"
#include "uuid.h"

struct tq_client {
	struct client	c;
};

tq_client *
tq_open(const char *config_file, char *err, size_t errsz)
{
	struct config cfg;
	tq_client *t;

	if (config_load(&cfg, config_file, err, errsz) == -1)
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	if (client_init(&t->c, &cfg) == -1) {
		snprintf(err, errsz, "%s", t->c.err);
		free(t);
		return NULL;
	}
	return t;
}

void
tq_close(tq_client *t)
{
	if (t == NULL)
		return;
	client_close(&t->c);
	free(t);
}

const char *
tq_error(const tq_client *t)
{
	return t->c.err;
}

int
tq_error_temporary(const tq_client *t)
{
	return t->c.err_temp;
}

static int fail(tq_client *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(tq_client *t, int temp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->c.err, sizeof(t->c.err), fmt, ap);
	va_end(ap);
	t->c.err_temp = temp;
	return -1;
}

/* Options in seconds are bounded as tq submit's flags: a year. */
#define SECS_MAX	31536000.0

static int
secs_ok(double v)
{
	return v >= 0 && v <= SECS_MAX;	/* false for NaN */
}

static unsigned
secs_ms(double v)
{
	return (unsigned)(v * 1000.0 + 0.5);
}

/* One task's options over its queue's defaults into tn; its parents'
 * ids go to after (TQ_AFTER_MAX of them). what names the task in
 * errors. spec: from a struct tq_spec, whose max_attempts libtq 1.0 took
 * unbounded (and takes so within 1.x). */
static int
task_fill(tq_client *t, const struct tq_task *s, struct task_new *tn,
    struct uuid *after, const char *what, int spec)
{
	size_t i;

	tn->queue = s->queue ? s->queue : t->c.cfg.queue;
	tn->name = s->name ? s->name : "";
	if (!task_name_ok(tn->name, TASK_NAME_MAX))
		return fail(t, 0, "%sbad task name \"%s\"", what, tn->name);
	if (!task_name_ok(tn->queue, TASK_QUEUE_MAX))
		return fail(t, 0, "%sbad queue name \"%s\"", what, tn->queue);
	if (s->len > (size_t)t->c.cfg.payload_max)
		return fail(t, 0, "%spayload of %zu bytes exceeds payload_max "
		    "(%lld)", what, s->len, t->c.cfg.payload_max);
	tn->payload = s->len ? s->payload : "";
	tn->len = s->len;
	config_queue(&t->c.cfg, tn->queue, &tn->max_attempts,
	    &tn->backoff_base_ms, &tn->backoff_cap_ms, &tn->timeout_ms,
	    &tn->priority);
	if (!spec && s->max_attempts > 1000)
		return fail(t, 0, "%smax_attempts %u is not 1..1000", what,
		    s->max_attempts);
	if (s->max_attempts)
		tn->max_attempts = s->max_attempts;
	if (!spec && !secs_ok(s->delay_s))
		return fail(t, 0, "%sdelay %g is not 0..%.0f seconds", what,
		    s->delay_s, SECS_MAX);
	if (!(s->at >= 0))
		return fail(t, 0, "%sat %g is not a time", what, s->at);
	if (s->delay_s > 0 && s->at > 0)
		return fail(t, 0, "%sdelay and at exclude each other", what);
	tn->delay_ms = s->delay_s > 0 ? (int64_t)(s->delay_s * 1000.0) : 0;
	if (s->at > 0)
		tn->delay_ms = (int64_t)(s->at * 1000.0) - wall_ms();
	if (s->set & TQ_SET_BACKOFF) {
		if (!secs_ok(s->backoff_base_s) || !secs_ok(s->backoff_cap_s))
			return fail(t, 0, "%sbackoff %g,%g is not 0..%.0f "
			    "seconds", what, s->backoff_base_s,
			    s->backoff_cap_s, SECS_MAX);
		tn->backoff_base_ms = secs_ms(s->backoff_base_s);
		if (s->backoff_cap_s > 0)
			tn->backoff_cap_ms = secs_ms(s->backoff_cap_s);
		else if (tn->backoff_cap_ms < tn->backoff_base_ms)
			tn->backoff_cap_ms = tn->backoff_base_ms;
		if (tn->backoff_cap_ms < tn->backoff_base_ms)
			return fail(t, 0, "%sbackoff cap below base", what);
	}
	if (!secs_ok(s->timeout_s))
		return fail(t, 0, "%stimeout %g is not 0..%.0f seconds", what,
		    s->timeout_s, SECS_MAX);
	if (s->timeout_s > 0)
		tn->timeout_ms = secs_ms(s->timeout_s) ? secs_ms(s->timeout_s) :
		    1;
	if (s->set & TQ_SET_PRIORITY) {
		if (s->priority > 9)
			return fail(t, 0, "%spriority %u is not 0..9", what,
			    s->priority);
		tn->priority = s->priority;
	}
	if (s->key != NULL && (*s->key == '\0' || strlen(s->key) > 255))
		return fail(t, 0, "%skey: 1 to 255 bytes", what);
	tn->unique_key = s->key;
	if (s->limit_key != NULL && !task_name_ok(s->limit_key,
	    TASK_LIMIT_KEY_MAX))
		return fail(t, 0, "%sbad limit key \"%s\": 1 to %d bytes of "
		    "[A-Za-z0-9._:-]", what, s->limit_key, TASK_LIMIT_KEY_MAX);
	tn->limit_key = s->limit_key;
	if (s->nafter > TQ_AFTER_MAX)
		return fail(t, 0, "%safter: at most %d parents", what,
		    TQ_AFTER_MAX);
	for (i = 0; i < s->nafter; i++)
		if (s->after[i] == NULL || uuid_parse(s->after[i],
		    &after[i]) == -1)
			return fail(t, 0, "%safter: \"%s\" is not a task id",
			    what, s->after[i] ? s->after[i] : "(null)");
	tn->after = s->nafter ? after : NULL;
	tn->nafter = s->nafter;
	return 0;
}

/* Submits n tasks of this library's struct tq_task in one transaction;
 * spec as task_fill. */
static int
submit(tq_client *t, const struct tq_task *tasks, size_t n,
    char (*ids)[TQ_ID_LEN + 1], int spec)
{
	struct task_new *tn;
	struct uuid *after = NULL;
	size_t i, k, nafter = 0, published;
	char what[32] = "";
	int ret = -1;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		nafter += tasks[i].nafter > TQ_AFTER_MAX ? 0 : tasks[i].nafter;
	if ((tn = calloc(n, sizeof(*tn))) == NULL ||
	    (nafter && (after = calloc(nafter, sizeof(*after))) == NULL)) {
		free(tn);
		return fail(t, 1, "%s", "out of memory");
	}
	for (i = k = 0; i < n; i++) {
		if (n > 1)
			snprintf(what, sizeof(what), "task %zu: ", i);
		if (task_fill(t, &tasks[i], &tn[i], after ? after + k : NULL,
		    what, spec) == -1)
			goto done;
		k += tasks[i].nafter;
	}
	if (client_submit(&t->c, tn, n, &published) == -1)
		goto done;
	for (i = 0; i < n; i++)
		uuid_fmt(&tn[i].id, ids[i]);
	ret = 0;
done:
	free(after);
	free(tn);
	return ret;
}

int
tq_submit_many(tq_client *t, const struct tq_spec *specs, size_t n,
    char (*ids)[TQ_ID_LEN + 1])
{
	struct tq_task *tasks;
	size_t i;
	int r;

	if (n == 0)
		return 0;
	if ((tasks = calloc(n, sizeof(*tasks))) == NULL)
		return fail(t, 1, "%s", "out of memory");
	for (i = 0; i < n; i++) {
		tasks[i].size = sizeof(tasks[i]);
		tasks[i].queue = specs[i].queue;
		tasks[i].name = specs[i].name;
		tasks[i].payload = specs[i].payload;
		tasks[i].len = specs[i].len;
		tasks[i].max_attempts = specs[i].max_attempts;
		tasks[i].delay_s = specs[i].delay_s > 0 ? specs[i].delay_s : 0;
	}
	r = submit(t, tasks, n, ids, 1);
	free(tasks);
	return r;
}

int
tq_submit(tq_client *t, const struct tq_spec *spec, char *id)
{
	char ids[1][TQ_ID_LEN + 1];

	if (tq_submit_many(t, spec, 1, ids) == -1)
		return -1;
	memcpy(id, ids[0], TQ_ID_LEN + 1);
	return 0;
}

/* The caller's struct tq_task of size bytes into out: a shorter one (an
 * older caller) leaves the newer fields zero, their default; a longer one
 * (a newer caller) is taken only when what this library does not know of
 * it is zero. */
static int
task_copy(tq_client *t, const unsigned char *p, size_t size,
    struct tq_task *out)
{
	size_t i;

	if (size < offsetof(struct tq_task, nafter) + sizeof(out->nafter))
		return fail(t, 0, "struct tq_task of %zu bytes is too small "
		    "(set its size: TQ_TASK_INIT)", size);
	for (i = sizeof(*out); i < size; i++)
		if (p[i] != 0)
			return fail(t, 0, "struct tq_task of %zu bytes uses "
			    "options this libtq (%zu bytes) does not have",
			    size, sizeof(*out));
	memset(out, 0, sizeof(*out));
	memcpy(out, p, size < sizeof(*out) ? size : sizeof(*out));
	out->size = sizeof(*out);
	return 0;
}

int
tq_submit_tasks(tq_client *t, const struct tq_task *tasks, size_t n,
    char (*ids)[TQ_ID_LEN + 1])
{
	const unsigned char *p = (const unsigned char *)tasks;
	struct tq_task *copy;
	size_t i, size;
	int r = -1;

	if (n == 0)
		return 0;
	size = tasks[0].size;
	if ((copy = calloc(n, sizeof(*copy))) == NULL)
		return fail(t, 1, "%s", "out of memory");
	for (i = 0; i < n; i++, p += size) {
		const struct tq_task *e = (const struct tq_task *)(const void *)p;

		if (e->size != size) {
			fail(t, 0, "task %zu: struct tq_task of %zu bytes, the "
			    "first has %zu", i, e->size, size);
			goto done;
		}
		if (task_copy(t, p, size, &copy[i]) == -1)
			goto done;
	}
	r = submit(t, copy, n, ids, 0);
done:
	free(copy);
	return r;
}

int
tq_submit_task(tq_client *t, const struct tq_task *task, char *id)
{
	char ids[1][TQ_ID_LEN + 1];

	if (tq_submit_tasks(t, task, 1, ids) == -1)
		return -1;
	memcpy(id, ids[0], TQ_ID_LEN + 1);
	return 0;
}

int
tq_get(tq_client *t, const char *id, struct tq_info *info)
{
	struct task_row row;
	struct uuid u;
	int r;

	memset(info, 0, sizeof(*info));
	if (uuid_parse(id, &u) == -1)
		return fail(t, 0, "\"%s\" is not a task id", id);
	if (client_store(&t->c) == -1)
		return -1;
	if ((r = store_get(t->c.store, &u, &row)) == -1) {
		snprintf(t->c.err, sizeof(t->c.err), "%s",
		    store_errstr(t->c.store));
		t->c.err_temp = store_err_temporary(t->c.store);
		if (t->c.err_temp) {
			store_close(t->c.store);
			t->c.store = NULL;
		}
		return -1;
	}
	if (r == 0)
		return 0;
	snprintf(info->state, sizeof(info->state), "%s",
	    task_state_name(row.state));
	info->attempts = row.attempts;
	info->max_attempts = row.max_attempts;
	info->progress = row.progress;
	info->result = row.result;
	info->result_len = row.result_len;
	info->error = row.error;
	row.result = NULL;
	row.error = NULL;
	task_row_release(&row);
	return 1;
}

void
tq_info_free(struct tq_info *info)
{
	free(info->result);
	free(info->error);
	info->result = NULL;
	info->error = NULL;
}

int
tq_wait(tq_client *t, const char *id, double timeout_s, char state[16])
{
	int64_t deadline = timeout_s < 0 ? -1 : now_ms() +
	    (int64_t)(timeout_s * 1000.0);
	int64_t pause = 10;
	enum task_state st;
	char why[512];
	struct uuid u;
	int r;

	if (uuid_parse(id, &u) == -1)
		return fail(t, 0, "\"%s\" is not a task id", id);
	for (;;) {
		if (client_store(&t->c) == -1)
			return -1;
		if ((r = store_state(t->c.store, &u, &st)) == -1) {
			snprintf(t->c.err, sizeof(t->c.err), "%s",
			    store_errstr(t->c.store));
			t->c.err_temp = store_err_temporary(t->c.store);
			return -1;
		}
		if (r == 0)
			return fail(t, 0, "%s", history_not_found(&t->c.cfg, &u,
			    why, sizeof(why)));
		snprintf(state, 16, "%s", task_state_name(st));
		if (task_state_terminal(st))
			return st == TS_SUCCEEDED;
		if (deadline != -1 && now_ms() >= deadline)
			return 0;
		sleep_ms(pause);
		if (pause < 250)
			pause *= 2;
	}
}
