/* tq limit, tq pause, tq resume: flow control at run time. */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "client.h"
#include "store.h"
#include "task.h"
#include "util.h"

#include "cli.h"

static void
usage_limit(FILE *fp)
{
	fprintf(fp,
"usage: tq limit list [--json]\n"
"       tq limit set NAME [--concurrency N] [--rate N/PERIOD] [--burst B]\n"
"       tq limit remove NAME\n"
"\n"
"A limit holds across the cluster for the tasks submitted with\n"
"--limit-key KEY. NAME is a key (\"payments\") or a prefix ending in \":*\"\n"
"(\"customer:*\": each key customer:42, customer:43, ... has a limit of its\n"
"own); a key's own limit wins, then the longest prefix. A task over its\n"
"limit waits scheduled, without using an attempt:\n"
"  --concurrency N   at most N tasks of the key run at once; a waiter is\n"
"                    let out as soon as a slot frees, the oldest first\n"
"  --rate N/PERIOD   at most N starts per PERIOD (100/60s, 10/s, 5/m); the\n"
"                    waiters get their starts in order\n"
"  --burst B         start slots handed out at once beyond the rate\n"
"                    (default 1); in any T seconds at most\n"
"                    max(B, 1 + 0.5 s*N/PERIOD) + T*N/PERIOD tasks start\n"
"A change takes effect at the next claim (within a second); tasks waiting\n"
"under the limit are looked at again.\n");
}

static void
usage_pause(FILE *fp, int pause)
{
	fprintf(fp, pause ? "usage: tq pause [QUEUE]\n       tq resume QUEUE\n" :
	    "usage: tq resume QUEUE\n       tq pause [QUEUE]\n");
	fprintf(fp,
"\n"
"tq pause QUEUE: no worker anywhere claims a task of QUEUE from now on\n"
"(running ones finish); its tasks wait in the broker, and the pause\n"
"survives restarts of everything. Without QUEUE, lists paused queues.\n"
"tq resume QUEUE: workers consume it again within a second.\n");
}

json_t *
limit_json(const struct limit_info *l)
{
	json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I}", "name", l->d.name,
	    "running", (json_int_t)l->running, "waiting",
	    (json_int_t)l->waiting, "reserved", (json_int_t)l->reserved,
	    "keys", (json_int_t)l->keys);

	json_object_set_new(o, "concurrency", l->d.concurrency ?
	    json_integer(l->d.concurrency) : json_null());
	if (l->d.rate_n > 0) {
		json_object_set_new(o, "rate", json_pack("{s:I, s:f, s:I}",
		    "n", (json_int_t)l->d.rate_n, "per_s",
		    (double)l->d.rate_ms / 1000.0, "burst",
		    (json_int_t)l->d.burst));
	} else
		json_object_set_new(o, "rate", json_null());
	return o;
}

static int
limit_list(struct client *c, int json)
{
	struct limit_info *l;
	json_t *arr = NULL;
	char conc[16], rate[48];
	int n, i;

	if ((n = store_limit_list(c->store, &l)) == -1)
		die(EXIT_TEMP, "limit list: %s", store_errstr(c->store));
	if (json)
		arr = json_array();
	else
		printf("%-28s %-11s %-16s %8s %8s %8s %6s\n", "NAME",
		    "CONCURRENCY", "RATE", "RUNNING", "WAITING", "RESERVED",
		    "KEYS");
	for (i = 0; i < n; i++) {
		if (json) {
			json_array_append_new(arr, limit_json(&l[i]));
			continue;
		}
		snprintf(conc, sizeof(conc), "%s", "-");
		if (l[i].d.concurrency)
			snprintf(conc, sizeof(conc), "%u", l[i].d.concurrency);
		snprintf(rate, sizeof(rate), "%s", "-");
		if (l[i].d.rate_n)
			snprintf(rate, sizeof(rate), "%u/%.3gs%s", l[i].d.rate_n,
			    (double)l[i].d.rate_ms / 1000.0,
			    l[i].d.burst > 1 ? " burst" : "");
		printf("%-28s %-11s %-16s %8lu %8lu %8lu %6lu\n", l[i].d.name,
		    conc, rate, l[i].running, l[i].waiting, l[i].reserved,
		    l[i].keys);
	}
	if (json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(arr);
	}
	free(l);
	return 0;
}

static int
limit_set(struct client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "concurrency", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "burst", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct limit_def d;
	const char *why;
	int ch;

	memset(&d, 0, sizeof(d));
	d.burst = 1;
	optind = 0;	/* glibc: start afresh (and permute) */
	while ((ch = getopt_long(argc, argv, "n:r:b:h", opts, NULL)) != -1)
		switch (ch) {
		case 'n':
			d.concurrency = (unsigned)num_arg("--concurrency",
			    optarg, 1, 1000000);
			break;
		case 'r':
			if (limit_rate_parse(optarg, &d.rate_n, &d.rate_ms,
			    &why) == -1)
				die(EXIT_USAGE, "--rate \"%s\": %s", optarg, why);
			break;
		case 'b':
			d.burst = (unsigned)num_arg("--burst", optarg, 1,
			    1000000);
			break;
		case 'h':
			usage_limit(stdout);
			return 0;
		default:
			usage_limit(stderr);
			return EXIT_USAGE;
		}
	if (argc - optind != 1) {
		usage_limit(stderr);
		return EXIT_USAGE;
	}
	if (!limit_name_ok(argv[optind]))
		die(EXIT_USAGE, "bad limit name \"%s\" (a key of A-Z a-z 0-9 "
		    ". _ : -, or a prefix ending in \":*\")", argv[optind]);
	if (d.concurrency == 0 && d.rate_n == 0)
		die(EXIT_USAGE, "limit set: give --concurrency, --rate or both");
	snprintf(d.name, sizeof(d.name), "%s", argv[optind]);
	need_store(c);
	if (store_limit_set(c->store, &d) == -1)
		die(store_err_temporary(c->store) ? EXIT_TEMP : EXIT_PERM,
		    "limit set: %s", store_errstr(c->store));
	printf("limit %s set\n", d.name);
	return 0;
}

int
cmd_limit(int argc, char **argv)
{
	struct client c;
	int n, ret = 0, json;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage_limit(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	open_client(&c);
	if (strcmp(argv[1], "set") == 0)
		ret = limit_set(&c, argc - 1, argv + 1);
	else if (strcmp(argv[1], "remove") == 0 && argc == 3) {
		need_store(&c);
		if ((n = store_limit_remove(c.store, argv[2])) == -1)
			die(EXIT_TEMP, "limit remove: %s", store_errstr(c.store));
		if (n == 0)
			die(EXIT_TASKFAIL, "limit %s: not found", argv[2]);
		printf("limit %s removed\n", argv[2]);
	} else if (strcmp(argv[1], "list") == 0 && argc <= 3) {
		json = argc == 3 && strcmp(argv[2], "--json") == 0;
		if (argc == 3 && !json) {
			usage_limit(stderr);
			return EXIT_USAGE;
		}
		need_store(&c);
		ret = limit_list(&c, json);
	} else {
		usage_limit(stderr);
		ret = EXIT_USAGE;
	}
	client_close(&c);
	return ret;
}

/* Who asked, for the row and the log: the user and the host. */
static void
asker(char *out, size_t outsz)
{
	char host[64];
	const char *u = getenv("USER");
	struct passwd *pw;

	if ((u == NULL || *u == '\0') && (pw = getpwuid(getuid())) != NULL)
		u = pw->pw_name;
	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "%s", "?");
	host[sizeof(host) - 1] = '\0';
	snprintf(out, outsz, "%s@%s", u && *u ? u : "?", host);
}

static int
pause_list(struct client *c)
{
	struct paused_queue *q;
	char when[32];
	time_t t;
	struct tm tm;
	int n, i;

	if ((n = store_paused_list(c->store, &q)) == -1)
		die(EXIT_TEMP, "pause: %s", store_errstr(c->store));
	if (n > 0)
		printf("%-24s %-22s %s\n", "QUEUE", "SINCE", "BY");
	for (i = 0; i < n; i++) {
		t = (time_t)q[i].since;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		printf("%-24s %-22s %s\n", q[i].queue, when, q[i].by);
	}
	free(q);
	return 0;
}

static int
pause_resume(int argc, char **argv, int pause)
{
	struct client c;
	char by[160];
	int r;

	if (argc > 2 || (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) || (!pause && argc != 2)) {
		int help = argc == 2 && argv[1][0] == '-';

		usage_pause(help ? stdout : stderr, pause);
		return help ? 0 : EXIT_USAGE;
	}
	open_client(&c);
	need_store(&c);
	if (argc == 1) {
		r = pause_list(&c);
		client_close(&c);
		return r;
	}
	if (!task_name_ok(argv[1], TASK_QUEUE_MAX))
		die(EXIT_USAGE, "bad queue name \"%s\"", argv[1]);
	asker(by, sizeof(by));
	r = pause ? store_pause(c.store, argv[1], by) :
	    store_resume(c.store, argv[1]);
	if (r == -1)
		die(EXIT_TEMP, "%s: %s", pause ? "pause" : "resume",
		    store_errstr(c.store));
	if (pause)
		printf("queue %s %s\n", argv[1], r ? "paused" :
		    "was paused already");
	else
		printf("queue %s %s\n", argv[1], r ? "resumed" :
		    "was not paused");
	client_close(&c);
	return 0;
}

int
cmd_pause(int argc, char **argv)
{
	return pause_resume(argc, argv, 1);
}

int
cmd_resume(int argc, char **argv)
{
	return pause_resume(argc, argv, 0);
}
