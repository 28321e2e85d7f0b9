/* web_api.c: tq web's reads, GET /api/...: the overview (live counts and
 * what finished, by hour), nodes and workers, pages of tasks, one task,
 * the periodic schedules. Each goes through lib/store and history.c; none
 * reads history beyond an index range cut by a LIMIT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "history.h"
#include "store.h"
#include "task.h"
#include "util.h"
#include "uuid.h"

#include "cli.h"
#include "web.h"

#define HOURS	24	/* the overview's charts */

static json_t *
cell_json(const struct store_table *t, size_t i, unsigned j)
{
	const char *v = store_cell(t, i, j);

	return v ? web_text(v, strlen(v), 4096) : json_null();
}

static json_t *
cell_int(const struct store_table *t, size_t i, unsigned j)
{
	const char *v = store_cell(t, i, j);

	return v ? json_integer(strtoll(v, NULL, 10)) : json_null();
}

/* Rows of t as objects; names[j] is column j's name, a leading '#' an
 * integer column. */
static json_t *
table_json(const struct store_table *t, const char *const *names)
{
	json_t *arr = json_array(), *o;
	size_t i;
	unsigned j;

	for (i = 0; arr && i < t->n; i++) {
		if ((o = json_object()) == NULL)
			break;
		for (j = 0; j < t->ncol && names[j]; j++)
			json_object_set_new(o, names[j] + (names[j][0] == '#'),
			    names[j][0] == '#' ? cell_int(t, i, j) :
			    cell_json(t, i, j));
		json_array_append_new(arr, o);
	}
	return arr;
}

/* The first row of t as an object, or null. */
static json_t *
first_row(const struct store_table *t, const char *const *names)
{
	json_t *arr, *o;

	if (t->n == 0 || (arr = table_json(t, names)) == NULL)
		return json_null();
	/* json_array_get borrows: keep the row alive past its array. */
	o = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return o ? o : json_null();
}

static int
api_session(const struct web_req *r, struct web_resp *w)
{
	w->json = json_pack("{s:b, s:s}", "write", W.token[0] != '\0', "csrf",
	    W.csrf);
	return 0;
}

static json_t *
counts_json(const unsigned long *count)
{
	json_t *o = json_object();
	int s;

	for (s = 0; o && s < TS_COUNT; s++)
		json_object_set_new(o, task_state_name((enum task_state)s),
		    json_integer((json_int_t)count[s]));
	return o;
}

/* Finished tasks by hour over the last HOURS, all queues or one: one
 * array of hour starts and one of counts per outcome (tq_rollup). */
static json_t *
hours_json(const struct rollup_row *ro, int n, const char *queue,
    int64_t first)
{
	json_t *o = json_object(), *hours = json_array(), *s[RO_COUNT];
	uint64_t v[RO_COUNT][HOURS];
	int i, k;

	memset(v, 0, sizeof(v));
	for (i = 0; i < n; i++) {
		k = (int)((ro[i].hour - first) / 3600);
		if (k < 0 || k >= HOURS || (queue[0] && strcmp(queue,
		    ro[i].queue) != 0))
			continue;
		v[ro[i].outcome][k] += ro[i].n;
	}
	for (i = 0; i < RO_COUNT; i++)
		s[i] = json_array();
	for (k = 0; k < HOURS; k++) {
		json_array_append_new(hours, json_integer(first + 3600LL * k));
		for (i = 0; i < RO_COUNT; i++)
			json_array_append_new(s[i], json_integer(
			    (json_int_t)v[i][k]));
	}
	json_object_set_new(o, "hours", hours);
	for (i = 0; i < RO_COUNT; i++)
		json_object_set_new(o, rollup_outcome_name(
		    (enum rollup_outcome)i), s[i]);
	return o;
}

/* Paused queues (also those with no task now): queue, by, since. */
static json_t *
paused_json(const struct paused_queue *pq, int n)
{
	json_t *a = json_array();
	int i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:o, s:I}", "queue",
		    pq[i].queue, "by", web_text(pq[i].by, strlen(pq[i].by),
		    256), "since", (json_int_t)pq[i].since));
	return a;
}

/* Every limit with its live tasks (tq limit list --json). */
static json_t *
limits_json(const struct limit_info *l, int n)
{
	json_t *a = json_array();
	int i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, limit_json(&l[i]));
	return a;
}

static int
api_overview(const struct web_req *r, struct web_resp *w)
{
	const char *queue = web_arg(r, "queue", "");
	struct rollup_row *ro = NULL;
	struct stat_row *rows = NULL;
	struct paused_queue *pq = NULL;
	struct limit_info *li = NULL;
	json_t *qs;
	int64_t now = (int64_t)time(NULL), first;
	int n, nr, i, k, np, nl, paused;

	if ((n = history_stats(&W.c, &rows)) == -1)
		return web_error(w, W.c.err_temp ? 503 : 500, "%s", W.c.err);
	first = now - now % 3600 - 3600LL * (HOURS - 1);
	if ((nr = store_rollup_since(W.c.store, first, &ro)) == -1) {
		free(rows);
		return web_store_error(w);
	}
	if ((np = store_paused_list(W.c.store, &pq)) == -1 ||
	    (nl = store_limit_list(W.c.store, &li)) == -1) {
		free(pq);
		free(rows);
		free(ro);
		return web_store_error(w);
	}
	qs = json_array();
	for (i = 0; i < n; i++) {
		for (k = 0, paused = 0; k < np; k++)
			paused |= strcmp(pq[k].queue, rows[i].queue) == 0;
		json_array_append_new(qs, json_pack("{s:o, s:o, s:b}", "queue",
		    web_text(rows[i].queue, strlen(rows[i].queue), 256),
		    "counts", counts_json(rows[i].count), "paused", paused));
	}
	w->json = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o}", "now",
	    (json_int_t)now, "queues", qs, "finished", hours_json(ro, nr, queue,
	    first), "recent", web_sample_json(queue), "paused",
	    paused_json(pq, np), "limits", limits_json(li, nl));
	free(pq);
	free(li);
	free(rows);
	free(ro);
	return 0;
}

static int
api_nodes(const struct web_req *r, struct web_resp *w)
{
	static const char *const nodes[] = { "name", "started_at", "seen_at",
		"#age_ms", "info", NULL };
	static const char *const leader[] = { "name", "holder", "#token",
		"expires_at", "#live", NULL };
	static const char *const running[] = { "owner", "id", "queue", "name",
		"#progress", "progress_message", "started_at", "#lease_left_ms",
		NULL };
	struct store_table tn = STORE_TABLE_INIT, tl = STORE_TABLE_INIT,
	    tr = STORE_TABLE_INIT;
	json_t *arr;
	size_t i;

	if (store_web_nodes(W.c.store, &tn) == -1 ||
	    store_web_leader(W.c.store, &tl) == -1 ||
	    store_web_running(W.c.store, 1000, &tr) == -1) {
		store_table_free(&tn);
		store_table_free(&tl);
		return web_store_error(w);
	}
	arr = table_json(&tn, nodes);
	for (i = 0; i < tn.n; i++) {
		const char *age = store_cell(&tn, i, 3);
		json_t *o = json_array_get(arr, i), *info;

		json_object_set_new(o, "live", json_boolean(age &&
		    strtoll(age, NULL, 10) < cfg.node_timeout_ms));
		/* info: the instance, then what the supervisor tells of
		 * its workers. */
		if ((info = web_node_info(store_cell(&tn, i, 4))) != NULL) {
			json_object_set(o, "info", json_object_get(info,
			    "instance"));
			json_object_del(info, "instance");
			json_object_update(o, info);
			json_decref(info);
		}
	}
	w->json = json_pack("{s:o, s:o, s:o, s:I}", "nodes", arr, "leaders",
	    table_json(&tl, leader), "running", table_json(&tr, running),
	    "node_timeout_ms", (json_int_t)cfg.node_timeout_ms);
	store_table_free(&tn);
	store_table_free(&tl);
	store_table_free(&tr);
	return 0;
}

static const char *const task_cols[] = { "id", "queue", "name", "state",
	"#attempts", "#max_attempts", "#progress", "created_at", "finished_at",
	"error", "due_at", "#waiting", NULL };

static int
api_tasks(const struct web_req *r, struct web_resp *w)
{
	struct store_table t = STORE_TABLE_INIT;
	struct web_filter f;
	const char *state = web_arg(r, "state", ""), *lim;
	const char *errstr;
	char next[STORE_WEB_CURSOR];
	long long limit = 50;

	memset(&f, 0, sizeof(f));
	f.queue = web_arg(r, "queue", "");
	f.name = web_arg(r, "name", "");
	f.cursor = web_arg(r, "cursor", "");
	f.state = -1;
	if (state[0] && (f.state = task_state_parse(state)) == -1)
		return web_error(w, 400, "state: \"%s\" is not a task state",
		    state);
	if (f.queue[0] && !task_name_ok(f.queue, TASK_QUEUE_MAX))
		return web_error(w, 400, "queue: bad queue name");
	if (f.name[0] && !task_name_ok(f.name, TASK_NAME_MAX))
		return web_error(w, 400, "name: bad task name");
	if ((lim = web_arg(r, "limit", NULL)) != NULL &&
	    parse_num(lim, 1, 500, &limit, &errstr) == -1)
		return web_error(w, 400, "limit: %s (1..500)", errstr);
	f.limit = (size_t)limit;
	if (store_web_tasks(W.c.store, &f, &t, next) == -1) {
		if (!store_err_temporary(W.c.store) &&
		    strcmp(store_errstr(W.c.store), "bad cursor") == 0)
			return web_error(w, 400, "cursor: not one this list "
			    "gave");
		return web_store_error(w);
	}
	w->json = json_pack("{s:o, s:o}", "tasks", table_json(&t, task_cols),
	    "next", next[0] ? json_string(next) : json_null());
	store_table_free(&t);
	return 0;
}

/* A payload or result: previewed as text, with its size. */
static void
blob_preview(json_t *o, const char *key, const void *p, size_t n, int null)
{
	char k[32];

	json_object_set_new(o, key, null ? json_null() : web_text(p, n,
	    WEB_PREVIEW));
	snprintf(k, sizeof(k), "%s_len", key);
	json_object_set_new(o, k, json_integer((json_int_t)n));
	snprintf(k, sizeof(k), "%s_truncated", key);
	json_object_set_new(o, k, json_boolean(n > WEB_PREVIEW));
}

static int
api_task(const struct web_req *r, struct web_resp *w, const char *idtxt,
    const char *part)
{
	static const char *const runs[] = { "#fence", "#attempt", "owner",
		"outcome", "error", "started_at", "finished_at", NULL };
	static const char *const deps[] = { "id", "state", "name", NULL };
	static const char *const cron[] = { "name", "tick", NULL };
	struct store_table tr = STORE_TABLE_INIT, tp = STORE_TABLE_INIT,
	    tc = STORE_TABLE_INIT, tk = STORE_TABLE_INIT;
	struct task_row t;
	struct uuid id;
	json_t *o;
	int rc;

	if (uuid_parse(idtxt, &id) == -1)
		return web_error(w, 400, "not a task id");
	if ((rc = store_get(W.c.store, &id, &t)) == -1)
		return web_store_error(w);
	if (rc == 0) {
		char why[512];

		return web_error(w, 404, "%s", history_not_found(&cfg, &id,
		    why, sizeof(why)));
	}
	if (part != NULL) {
		int res = strcmp(part, "result") == 0;

		if (!res && strcmp(part, "payload") != 0) {
			task_row_release(&t);
			return web_error(w, 404, "no such page");
		}
		snprintf(w->filename, sizeof(w->filename), "%s.%s", idtxt,
		    part);
		if (res) {
			w->raw = t.result;
			w->raw_len = t.result_len;
			t.result = NULL;
		} else {
			w->raw = t.payload;
			w->raw_len = t.payload_len;
			t.payload = NULL;
		}
		task_row_release(&t);
		return 0;
	}
	if (store_web_runs(W.c.store, &id, &tr) == -1 ||
	    store_web_deps(W.c.store, &id, &tp, &tc) == -1 ||
	    store_web_cron_of(W.c.store, &id, &tk) == -1) {
		store_table_free(&tr);
		store_table_free(&tp);
		store_table_free(&tc);
		task_row_release(&t);
		return web_store_error(w);
	}
	if ((o = task_json(&t)) != NULL) {
		blob_preview(o, "payload", t.payload, t.payload_len, 0);
		blob_preview(o, "result", t.result, t.result_len,
		    t.result == NULL);
		json_object_set_new(o, "error", t.error ? web_text(t.error,
		    strlen(t.error), 64 * 1024) : json_null());
		json_object_set_new(o, "progress_message", web_text(
		    t.progress_msg, strlen(t.progress_msg), 256));
		json_object_set_new(o, "runs", table_json(&tr, runs));
		json_object_set_new(o, "parents", table_json(&tp, deps));
		json_object_set_new(o, "children", table_json(&tc, deps));
		json_object_set_new(o, "cron", first_row(&tk, cron));
	}
	w->json = o;
	store_table_free(&tr);
	store_table_free(&tp);
	store_table_free(&tc);
	store_table_free(&tk);
	task_row_release(&t);
	return 0;
}

static int
api_cron(const struct web_req *r, struct web_resp *w)
{
	static const char *const ticks[] = { "tick", "id", "state", NULL };
	struct store_table tt;
	struct cron_row *cr = NULL;
	json_t *arr, *o;
	int n, i;

	if ((n = store_cron_list(W.c.store, 0, &cr)) == -1)
		return web_store_error(w);
	arr = json_array();
	for (i = 0; i < n; i++) {
		memset(&tt, 0, sizeof(tt));
		if (store_web_cron_ticks(W.c.store, cr[i].name, 5, &tt) == -1) {
			json_decref(arr);
			cron_rows_free(cr, (size_t)n);
			return web_store_error(w);
		}
		o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:I, s:o}",
		    "name", web_text(cr[i].name, strlen(cr[i].name), 256),
		    "spec", web_text(cr[i].spec, strlen(cr[i].spec), 256),
		    "queue", web_text(cr[i].queue, strlen(cr[i].queue), 256),
		    "task", web_text(cr[i].task, strlen(cr[i].task), 256),
		    "payload", web_text(cr[i].payload, cr[i].len, WEB_PREVIEW),
		    "next_tick", (json_int_t)cr[i].next_tick,
		    "last", table_json(&tt, ticks));
		json_array_append_new(arr, o);
		store_table_free(&tt);
	}
	cron_rows_free(cr, (size_t)n);
	w->json = json_pack("{s:o}", "schedules", arr);
	return 0;
}

int
web_api_get(const struct web_req *r, struct web_resp *w)
{
	char id[UUID_STRLEN + 1];
	const char *p = r->path, *slash;
	size_t n;

	if (strcmp(p, "session") == 0)
		return api_session(r, w);
	if (client_store(&W.c) == -1)
		return web_error(w, W.c.err_temp ? 503 : 500, "%s", W.c.err);
	if (strcmp(p, "overview") == 0)
		return api_overview(r, w);
	if (strcmp(p, "nodes") == 0)
		return api_nodes(r, w);
	if (strcmp(p, "tasks") == 0)
		return api_tasks(r, w);
	if (strcmp(p, "cron") == 0)
		return api_cron(r, w);
	if (strncmp(p, "tasks/", 6) == 0) {
		p += 6;
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (n != UUID_STRLEN)
			return web_error(w, 400, "not a task id");
		memcpy(id, p, n);
		id[n] = '\0';
		return api_task(r, w, id, slash ? slash + 1 : NULL);
	}
	return web_error(w, 404, "no such page");
}
