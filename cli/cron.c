/* tq cron: add, list and remove periodic tasks. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "client.h"
#include "cron.h"
#include "store.h"
#include "task.h"

#include "cli.h"

static void
usage_cron(FILE *fp)
{
	fprintf(fp,
"usage: tq cron add [-q QUEUE] NAME 'SPEC' TASK [PAYLOAD]\n"
"       tq cron list [--json]\n"
"       tq cron remove NAME\n"
"\n"
"SPEC is a cron expression in UTC: minute hour day month weekday, or six\n"
"fields with a leading seconds field (e.g. '*/2 * * * * *'). The leading\n"
"supervisor enqueues one task per tick, exactly once even when it dies\n"
"mid-tick; ticks missed while no leader was up are run once, not each.\n");
}

int
cmd_cron(int argc, char **argv)
{
	struct cron_row r, *rows;
	const char *queue = cfg.queue;
	struct client c;
	struct cron cr;
	char err[256], when[32];
	int n, i, json = 0;
	time_t next;
	struct tm tm;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage_cron(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	open_client(&c);
	if (strcmp(argv[1], "add") == 0) {
		argc--;
		argv++;
		optind = 1;
		while ((i = getopt(argc, argv, "+q:")) != -1)
			if (i == 'q')
				queue = optarg;
			else {
				usage_cron(stderr);
				return EXIT_USAGE;
			}
		argc -= optind;
		argv += optind;
		if (argc < 3 || argc > 4) {
			usage_cron(stderr);
			return EXIT_USAGE;
		}
		memset(&r, 0, sizeof(r));
		if (!task_name_ok(argv[0], 64) || !task_name_ok(argv[2],
		    TASK_NAME_MAX) || !task_name_ok(queue, TASK_QUEUE_MAX))
			die(EXIT_USAGE, "bad schedule, task or queue name");
		if (strlen(argv[1]) >= sizeof(r.spec) ||
		    cron_parse(argv[1], &cr, err, sizeof(err)) == -1)
			die(EXIT_USAGE, "cron \"%s\": %s", argv[1],
			    strlen(argv[1]) >= sizeof(r.spec) ? "too long" : err);
		if ((next = cron_next(&cr, time(NULL))) == -1)
			die(EXIT_USAGE, "cron \"%s\": never fires", argv[1]);
		snprintf(r.name, sizeof(r.name), "%s", argv[0]);
		snprintf(r.spec, sizeof(r.spec), "%s", argv[1]);
		snprintf(r.queue, sizeof(r.queue), "%s", queue);
		snprintf(r.task, sizeof(r.task), "%s", argv[2]);
		r.payload = argc == 4 ? argv[3] : (char *)"";
		r.len = strlen(r.payload);
		check_payload(r.len);
		r.next_tick = (int64_t)next;
		need_store(&c);
		if (store_cron_put(c.store, &r) == -1)
			die(store_err_temporary(c.store) ? EXIT_TEMP : EXIT_PERM,
			    "cron add: %s", store_errstr(c.store));
		gmtime_r(&next, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		printf("schedule %s added; first tick %s\n", r.name, when);
	} else if (strcmp(argv[1], "remove") == 0 && argc == 3) {
		need_store(&c);
		if ((n = store_cron_del(c.store, argv[2])) == -1)
			die(EXIT_TEMP, "cron remove: %s", store_errstr(c.store));
		if (n == 0)
			die(EXIT_TASKFAIL, "schedule %s: not found", argv[2]);
		printf("schedule %s removed\n", argv[2]);
	} else if (strcmp(argv[1], "list") == 0) {
		json = argc == 3 && strcmp(argv[2], "--json") == 0;
		if (argc > 3 || (argc == 3 && !json)) {
			usage_cron(stderr);
			return EXIT_USAGE;
		}
		need_store(&c);
		if ((n = store_cron_list(c.store, 0, &rows)) == -1)
			die(EXIT_TEMP, "cron list: %s", store_errstr(c.store));
		json_t *arr = json ? json_array() : NULL;
		if (!json)
			printf("%-20s %-22s %-12s %-20s %s\n", "NAME", "SPEC",
			    "QUEUE", "TASK", "NEXT TICK");
		for (i = 0; i < n; i++) {
			next = (time_t)rows[i].next_tick;
			gmtime_r(&next, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			if (json)
				json_array_append_new(arr, json_pack("{s:s, "
				    "s:s, s:s, s:s, s:s}", "name", rows[i].name,
				    "spec", rows[i].spec, "queue",
				    rows[i].queue, "task", rows[i].task,
				    "next_tick", when));
			else
				printf("%-20s %-22s %-12s %-20s %s\n",
				    rows[i].name, rows[i].spec, rows[i].queue,
				    rows[i].task, when);
		}
		if (json) {
			json_dumpf(arr, stdout, JSON_INDENT(2));
			putchar('\n');
			json_decref(arr);
		}
		cron_rows_free(rows, (size_t)n);
	} else {
		usage_cron(stderr);
		return EXIT_USAGE;
	}
	client_close(&c);
	return 0;
}
