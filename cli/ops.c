/* Operator actions: tq cancel, failed (the dead-letter set), retry and
 * purge. */
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

static void
usage_cancel(FILE *fp)
{
	fprintf(fp,
"usage: tq cancel [--json] ID...\n"
"\n"
"A pending, queued or scheduled task ends cancelled at once; a running one\n"
"is told to stop (its handler sees it; a program gets SIGTERM, then the\n"
"worker is restarted after a second) and ends cancelled, never retried.\n"
"Exits 1 if some task had already ended.\n");
}

int
cmd_cancel(int argc, char **argv)
{
	enum task_state st;
	struct client c;
	char why[512];
	struct uuid id;
	int i, json, r, bad = 0;

	json_t *out;

	i = json_flag(argc, argv, usage_cancel, &json);
	if (i >= argc) {
		usage_cancel(stderr);
		return EXIT_USAGE;
	}
	open_client(&c);
	need_store(&c);
	out = json_object();
	for (; i < argc; i++) {
		parse_id(argv[i], &id);
		if ((r = store_cancel(c.store, &id, "cancelled by operator",
		    &st)) == -1)
			die(store_err_temporary(c.store) ? EXIT_TEMP : EXIT_PERM,
			    "cancel: %s", store_errstr(c.store));
		if (r == 0) {
			fprintf(stderr, "tq: %s\n", history_not_found(&cfg, &id,
			    why, sizeof(why)));
			json_object_set_new(out, argv[i], json_string("not found"));
			bad = 1;
			continue;
		}
		json_object_set_new(out, argv[i], json_string(st == TS_RUNNING ?
		    "stopping" : task_state_name(st)));
		if (st == TS_CANCELLED) {
			if (!json)
				printf("%s cancelled\n", argv[i]);
		} else if (st == TS_RUNNING) {
			if (!json)
				printf("%s running: asked to stop\n", argv[i]);
		} else {
			if (!json)
				printf("%s already %s\n", argv[i],
				    task_state_name(st));
			bad = 1;
		}
	}
	if (json) {
		json_dumpf(out, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(out);
	client_close(&c);
	return bad ? EXIT_TASKFAIL : 0;
}

static void
usage_failed(FILE *fp)
{
	fprintf(fp, "usage: tq failed [--json] [-q QUEUE] [-n MAX]\n\nLists "
	    "failed tasks (the dead-letter set), newest first.\n");
}

int
cmd_failed(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "queue", required_argument, NULL, 'q' },
		{ "max", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *queue = NULL;
	struct task_row t;
	struct client c;
	struct uuid *ids;
	char idtxt[UUID_STRLEN + 1];
	long long max = 100;
	json_t *arr = NULL;
	int ch, json = 0, n, i;

	while ((ch = getopt_long(argc, argv, "+jq:n:h", opts, NULL)) != -1)
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'q':
			queue = optarg;
			break;
		case 'n':
			max = num_arg("--max", optarg, 1, 100000);
			break;
		case 'h':
			usage_failed(stdout);
			return 0;
		default:
			usage_failed(stderr);
			return EXIT_USAGE;
		}
	if (optind != argc) {
		usage_failed(stderr);
		return EXIT_USAGE;
	}
	open_client(&c);
	need_store(&c);
	if ((n = store_failed(c.store, queue, (size_t)max, &ids)) == -1)
		die(store_err_temporary(c.store) ? EXIT_TEMP : EXIT_PERM, "%s",
		    store_errstr(c.store));
	if (json)
		arr = json_array();
	else
		printf("%-36s %-12s %-20s %-8s %s\n", "ID", "QUEUE", "NAME",
		    "ATTEMPTS", "ERROR");
	for (i = 0; i < n; i++) {
		if (store_get(c.store, &ids[i], &t) != 1)
			continue;
		uuid_fmt(&t.id, idtxt);
		if (json)
			json_array_append_new(arr, task_json(&t));
		else
			printf("%-36s %-12s %-20s %3u/%-4u %.80s\n", idtxt,
			    t.queue, t.name, t.attempts, t.max_attempts,
			    t.error ? t.error : "");
		task_row_release(&t);
	}
	if (json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(arr);
	}
	free(ids);
	client_close(&c);
	return 0;
}

static void
usage_retry(FILE *fp)
{
	fprintf(fp, "usage: tq retry [--json] ID... | --all-failed [-q QUEUE]\n\n"
	    "Runs failed tasks again, with their attempts reset; a scheduled\n"
	    "task (waiting for its backoff or its delay) runs now.\n");
}

int
cmd_retry(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all-failed", no_argument, NULL, 'A' },
		{ "queue", required_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct reconcile_stats rs;
	const char *queue = NULL;
	struct uuid *ids = NULL;
	struct client c;
	int ch, all = 0, n = 0, i, r, done = 0, bad = 0, json = 0;

	while ((ch = getopt_long(argc, argv, "+q:jh", opts, NULL)) != -1)
		switch (ch) {
		case 'A':
			all = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'q':
			queue = optarg;
			break;
		case 'h':
			usage_retry(stdout);
			return 0;
		default:
			usage_retry(stderr);
			return EXIT_USAGE;
		}
	if ((all && optind != argc) || (!all && (optind == argc || queue))) {
		usage_retry(stderr);
		return EXIT_USAGE;
	}
	open_client(&c);
	need_store(&c);
	if (all) {
		if ((n = store_failed(c.store, queue, 100000, &ids)) == -1)
			die(EXIT_TEMP, "%s", store_errstr(c.store));
	} else {
		n = argc - optind;
		if ((ids = calloc((size_t)n, sizeof(*ids))) == NULL)
			die(EXIT_TEMP, "out of memory");
		for (i = 0; i < n; i++)
			parse_id(argv[optind + i], &ids[i]);
	}
	for (i = 0; i < n; i++) {
		char idtxt[UUID_STRLEN + 1];

		uuid_fmt(&ids[i], idtxt);
		if ((r = (all ? store_retry(c.store, &ids[i]) :
		    store_retry_or_run(c.store, &ids[i]))) == -1)
			die(store_err_temporary(c.store) ? EXIT_TEMP : EXIT_PERM,
			    "retry: %s", store_errstr(c.store));
		if (r == 0) {
			fprintf(stderr, "tq: task %s is neither failed nor "
			    "scheduled with a due time\n", idtxt);
			bad = 1;
		} else
			done++;
	}
	/* Published at once rather than at the leader's next tick. */
	if (done > 0 && client_reconcile(&c, &rs) == -1)
		fprintf(stderr, "tq: %d tasks scheduled; publishing deferred "
		    "to the reconciler (%s)\n", done, c.err);
	if (json)
		printf("{\"retried\": %d}\n", done);
	else
		printf("%d tasks retried\n", done);
	free(ids);
	client_close(&c);
	return bad ? EXIT_TASKFAIL : 0;
}

static void
usage_purge(FILE *fp)
{
	fprintf(fp,
"usage: tq purge [--json] [-q QUEUE] --state succeeded|failed|cancelled\n"
"                --older-than D\n"
"\n"
"Deletes finished tasks (and their runs) of that state, of QUEUE or of\n"
"every queue, finished longer ago than DURATION (e.g. 3600, 90s, 30m, 12h,\n"
"7d), in batches, through retention's path. Never touches a task that is\n"
"not finished, nor a parent that a child still waits for. Retention does\n"
"this by itself (keep_succeeded, keep_failed, keep_cancelled).\n");
}

/* --older-than D: seconds, or a number with ms, s, m, h or d; at most a
 * hundred years. */
static long long
older_than_ms(const char *v)
{
	const char *errstr;
	long long ms;

	if (parse_duration(v, 100LL * 365 * 86400 * 1000, &ms, &errstr) == -1)
		die(EXIT_USAGE, "--older-than: \"%s\" is %s", v, errstr);
	return ms;
}

int
cmd_purge(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "older-than", required_argument, NULL, 'o' },
		{ "queue", required_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long long older = -1;
	const char *queue = NULL;
	struct client c;
	int ch, st = -1, json = 0;
	long n;

	while ((ch = getopt_long(argc, argv, "+s:o:q:jh", opts, NULL)) != -1)
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'q':
			if (!task_name_ok(optarg, TASK_QUEUE_MAX))
				die(EXIT_USAGE, "--queue: bad queue name \"%s\"",
				    optarg);
			queue = optarg;
			break;
		case 's':
			if ((st = task_state_parse(optarg)) == -1 ||
			    !task_state_terminal((enum task_state)st))
				die(EXIT_USAGE, "--state: \"%s\" is not "
				    "succeeded, failed or cancelled", optarg);
			break;
		case 'o':
			older = older_than_ms(optarg);
			break;
		case 'h':
			usage_purge(stdout);
			return 0;
		default:
			usage_purge(stderr);
			return EXIT_USAGE;
		}
	if (st == -1 || older < 0 || optind != argc) {
		usage_purge(stderr);
		return EXIT_USAGE;
	}
	open_client(&c);
	need_store(&c);
	if ((n = history_purge(&c, (enum task_state)st, queue, older)) == -1)
		die(c.err_temp ? EXIT_TEMP : EXIT_PERM, "purge: %s", c.err);
	if (json)
		printf("{\"purged\": %ld}\n", n);
	else
		printf("%ld tasks purged\n", n);
	client_close(&c);
	return 0;
}
