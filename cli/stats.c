/* tq stats and tq top: tasks by queue and state, once or as a live view
 * with the local workers and the latest failures. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client.h"
#include "history.h"
#include "store.h"
#include "task.h"
#include "util.h"
#include "uuid.h"

#include "cli.h"

/* ---- stats ---- */

static void
usage_stats(FILE *fp)
{
	fprintf(fp,
"usage: tq stats [--json]\n"
"\n"
"Tasks by queue. Live states (pending, queued, scheduled, running) are\n"
"counted now, from an index range over those states only; finished ones\n"
"(succeeded, failed, cancelled) as they finished (tq_rollup, by the hour),\n"
"over each queue's retention window (keep_succeeded, keep_failed,\n"
"keep_cancelled): what retention keeps. The leader sums the hours that\n"
"ended in tq_window, a few rows a queue, and moves each window's old\n"
"edge as time passes; the open hours are read from tq_rollup. Neither\n"
"reads history, and the cost does not grow with the window.\n");
}

/* How tq stats and tq top counted, under their tables. */
static void
stats_counted(FILE *fp)
{
	char w[3][32];
	long long k[3] = { cfg.keep_succeeded, cfg.keep_failed,
	    cfg.keep_cancelled };
	int i;

	for (i = 0; i < 3; i++) {
		if (k[i] == 0)
			snprintf(w[i], sizeof(w[i]), "forever");
		else if (k[i] % 86400000 == 0)
			snprintf(w[i], sizeof(w[i]), "%lldd", k[i] / 86400000);
		else if (k[i] % 3600000 == 0)
			snprintf(w[i], sizeof(w[i]), "%lldh", k[i] / 3600000);
		else
			snprintf(w[i], sizeof(w[i]), "%llds", k[i] / 1000);
	}
	fprintf(fp, "(live states counted now; finished ones as they finished, "
	    "in the retention\n window, whole hours: succeeded %s, failed %s, "
	    "cancelled %s%s)\n", w[0], w[1], w[2], cfg.nqueues ?
	    "; [queue] sections may differ" : "");
}

/* Paused queues, and the limits with tasks running or waiting. */
static void
flow_print(const struct paused_queue *p, int np, const struct limit_info *l,
    int nl)
{
	int i;

	for (i = 0; i < np; i++)
		printf("%s%s (by %s)", i ? ", " : "paused: ", p[i].queue,
		    p[i].by);
	if (np > 0)
		putchar('\n');
	for (i = 0; i < nl; i++)
		if (l[i].running || l[i].waiting || l[i].reserved)
			printf("limit %s: %lu running, %lu waiting for a slot, "
			    "%lu for their rate slot\n", l[i].d.name,
			    l[i].running, l[i].waiting, l[i].reserved);
}

int
cmd_stats(int argc, char **argv)
{
	struct stat_row *rows;
	struct paused_queue *paused;
	struct limit_info *lim;
	struct client c;
	json_t *j, *q;
	int json, n, i, s, k, np, nl;

	i = json_flag(argc, argv, usage_stats, &json);
	if (argc != i) {
		usage_stats(stderr);
		return EXIT_USAGE;
	}
	open_client(&c);
	need_store(&c);
	if ((n = history_stats(&c, &rows)) == -1)
		die(c.err_temp ? EXIT_TEMP : EXIT_PERM, "%s", c.err);
	if ((np = store_paused_list(c.store, &paused)) == -1 ||
	    (nl = store_limit_list(c.store, &lim)) == -1)
		die(EXIT_TEMP, "stats: %s", store_errstr(c.store));
	if (json) {
		j = json_object();
		for (i = 0; i < n; i++) {
			q = json_object();
			for (s = 0; s < TS_COUNT; s++)
				json_object_set_new(q, task_state_name(s),
				    json_integer((json_int_t)rows[i].count[s]));
			/* Only where it is paused, so that the object of a
			 * queue that is not stays counts alone. */
			for (k = 0; k < np; k++)
				if (strcmp(paused[k].queue, rows[i].queue) == 0)
					json_object_set_new(q, "paused",
					    json_true());
			json_object_set_new(j, rows[i].queue, q);
		}
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(j);
	} else {
		printf("%-20s", "QUEUE");
		for (s = 0; s < TS_COUNT; s++)
			printf(" %10s", task_state_name(s));
		putchar('\n');
		for (i = 0; i < n; i++) {
			printf("%-20s", rows[i].queue);
			for (s = 0; s < TS_COUNT; s++)
				printf(" %10lu", rows[i].count[s]);
			putchar('\n');
		}
		stats_counted(stdout);
		flow_print(paused, np, lim, nl);
	}
	free(paused);
	free(lim);
	free(rows);
	client_close(&c);
	return 0;
}

/* ---- top: a live view ---- */

static void
usage_top(FILE *fp)
{
	fprintf(fp,
"usage: tq top [--once] [--interval SECS] [--control PATH]\n"
"\n"
"A live view: queues (depth by state, tasks in and out per second), the\n"
"local supervisor's workers (state, task, heartbeat age) and the latest\n"
"failures. Ctrl-C ends it; --once prints one screen.\n");
}

/* The flags. Returns -1 to go on, or the exit status of --help (0) or of a
 * usage error. */
static int
top_options(int argc, char **argv, int *once, int64_t *interval,
    const char **path)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "interval", required_argument, NULL, 'i' },
		{ "control", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "+oi:C:h", opts, NULL)) != -1)
		switch (ch) {
		case 'o':
			*once = 1;
			break;
		case 'i':
			*interval = secs_to_ms("--interval", optarg);
			if (*interval < 100)
				*interval = 100;
			break;
		case 'C':
			*path = optarg;
			break;
		case 'h':
			usage_top(stdout);
			return 0;
		default:
			usage_top(stderr);
			return EXIT_USAGE;
		}
	return -1;
}

/* One queue's row: its depth by state, and the tasks in and out per second
 * since the previous screen (prev, pn rows, dt seconds ago), if there was
 * one. */
static void
top_queue_row(const struct stat_row *row, const struct stat_row *prev,
    int pn, double dt)
{
	unsigned long tot = 0, done = 0, ptot = 0, pdone = 0;
	int k, s;

	for (s = 0; s < TS_COUNT; s++)
		tot += row->count[s];
	done = row->count[TS_SUCCEEDED] + row->count[TS_FAILED] +
	    row->count[TS_CANCELLED];
	for (k = 0; k < pn; k++)
		if (strcmp(prev[k].queue, row->queue) == 0) {
			for (s = 0; s < TS_COUNT; s++)
				ptot += prev[k].count[s];
			pdone = prev[k].count[TS_SUCCEEDED] +
			    prev[k].count[TS_FAILED] +
			    prev[k].count[TS_CANCELLED];
		}
	printf("%-20s %9lu %9lu %9lu %9lu %10lu %9lu %9lu", row->queue,
	    row->count[TS_PENDING], row->count[TS_QUEUED],
	    row->count[TS_SCHEDULED], row->count[TS_RUNNING],
	    row->count[TS_SUCCEEDED], row->count[TS_FAILED],
	    row->count[TS_CANCELLED]);
	if (pn > 0 && dt > 0 && tot >= ptot && done >= pdone)
		printf(" %8.0f %8.0f\n", (double)(tot - ptot) / dt,
		    (double)(done - pdone) / dt);
	else
		printf(" %8s %8s\n", "-", "-");
}

/* The queues' table. */
static void
top_queues(const struct stat_row *rows, int n, const struct stat_row *prev,
    int pn, double dt)
{
	int i;

	printf("%-20s %9s %9s %9s %9s %10s %9s %9s %8s %8s\n", "QUEUE",
	    "pending", "queued", "sched", "running", "succeeded", "failed",
	    "cancel", "in/s", "out/s");
	for (i = 0; i < n; i++)
		top_queue_row(&rows[i], prev, pn, dt);
}

/* The workers' table, as the supervisor behind path tells it, or why it
 * did not. */
static void
top_workers(const char *path)
{
	char why[512];
	json_t *j, *w;
	size_t wi;

	if ((j = control_query(path, why, sizeof(why))) == NULL) {
		printf("workers: %s\n", why);
		return;
	}
	printf("%-10s %7s %-9s %-36s %5s %7s %8s\n", "POOL", "PID", "STATE",
	    "TASK", "PROG", "HB_AGE", "RESTARTS");
	json_array_foreach(json_object_get(j, "workers"), wi, w) {
		json_t *t = json_object_get(w, "task");

		printf("%-10s %7lld %-9s %-36s %4lld%% %5lldms %8lld\n",
		    json_string_value(json_object_get(w, "pool")),
		    (long long)json_integer_value(json_object_get(w, "pid")),
		    json_string_value(json_object_get(w, "state")),
		    json_is_string(t) ? json_string_value(t) : "-",
		    (long long)json_integer_value(json_object_get(w,
		    "progress")),
		    (long long)json_integer_value(json_object_get(w,
		    "heartbeat_age_ms")),
		    (long long)json_integer_value(json_object_get(w,
		    "restarts")));
	}
	json_decref(j);
}

/* The latest five failed tasks, newest first. */
static void
top_failures(struct store *st)
{
	char idtxt[UUID_STRLEN + 1];
	struct task_row tr;
	struct uuid *fids;
	int i, nf;

	printf("\nlatest failures:\n");
	if ((nf = store_failed(st, NULL, 5, &fids)) > 0) {
		for (i = 0; i < nf; i++)
			if (store_get(st, &fids[i], &tr) == 1) {
				uuid_fmt(&tr.id, idtxt);
				printf("  %s %-12s %-16s %.60s\n", idtxt,
				    tr.queue, tr.name, tr.error ?
				    tr.error : "");
				task_row_release(&tr);
			}
	} else
		printf("  none\n");
	free(fids);
}

int
cmd_top(int argc, char **argv)
{
	const char *path = cfg.control_socket;
	struct stat_row *rows = NULL, *prev = NULL;
	int once = 0, n, pn = 0, r;
	int64_t interval = 1000, t0 = 0, t1;
	struct client c;

	if ((r = top_options(argc, argv, &once, &interval, &path)) != -1)
		return r;
	open_client(&c);
	need_store(&c);
	for (;;) {
		if ((n = history_stats(&c, &rows)) == -1)
			die(EXIT_TEMP, "%s", c.err);
		t1 = now_ms();
		if (!once)
			fputs("\033[H\033[2J", stdout);
		printf("tq top   %s   every %.1f s\n\n", cfg.queue,
		    (double)interval / 1000);
		top_queues(rows, n, prev, pn, (double)(t1 - t0) / 1000.0);
		printf("\n");
		top_workers(path);
		top_failures(c.store);
		fflush(stdout);
		free(prev);
		prev = rows;
		pn = n;
		t0 = t1;
		if (once)
			break;
		sleep_ms(interval);
	}
	free(prev);
	client_close(&c);
	return 0;
}
