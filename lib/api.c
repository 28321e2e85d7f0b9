/* api.c: the producer side of tq.h, over client.c and store.c. */
#include <stdarg.h>
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

int
tq_submit_many(tq_client *t, const struct tq_spec *specs, size_t n,
    char (*ids)[TQ_ID_LEN + 1])
{
	struct task_new *tn;
	size_t i, published;
	int ret = -1;

	if (n == 0)
		return 0;
	if ((tn = calloc(n, sizeof(*tn))) == NULL)
		return fail(t, 1, "%s", "out of memory");
	for (i = 0; i < n; i++) {
		const struct tq_spec *s = &specs[i];

		tn[i].queue = s->queue ? s->queue : t->c.cfg.queue;
		tn[i].name = s->name ? s->name : "";
		if (!task_name_ok(tn[i].name, TASK_NAME_MAX)) {
			fail(t, 0, "bad task name \"%s\"", tn[i].name);
			goto done;
		}
		if (!task_name_ok(tn[i].queue, TASK_QUEUE_MAX)) {
			fail(t, 0, "bad queue name \"%s\"", tn[i].queue);
			goto done;
		}
		if (s->len > (size_t)t->c.cfg.payload_max) {
			snprintf(t->c.err, sizeof(t->c.err), "payload of %zu "
			    "bytes exceeds payload_max (%lld)", s->len,
			    t->c.cfg.payload_max);
			t->c.err_temp = 0;
			goto done;
		}
		tn[i].payload = s->len ? s->payload : "";
		tn[i].len = s->len;
		config_queue(&t->c.cfg, tn[i].queue, &tn[i].max_attempts,
		    &tn[i].backoff_base_ms, &tn[i].backoff_cap_ms,
		    &tn[i].timeout_ms, &tn[i].priority);
		if (s->max_attempts)
			tn[i].max_attempts = s->max_attempts;
		tn[i].delay_ms = s->delay_s > 0 ? (int64_t)(s->delay_s *
		    1000.0) : 0;
	}
	if (client_submit(&t->c, tn, n, &published) == -1)
		goto done;
	for (i = 0; i < n; i++)
		uuid_fmt(&tn[i].id, ids[i]);
	ret = 0;
done:
	free(tn);
	return ret;
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
