/* explain: runs every statement that runs on a timer (store_timed[])
 * under ANALYZE, on the database of the configuration, and exits 1 when
 * one reads history: a full scan (type ALL) or a full index scan (type
 * index) of a table that grows with the tasks ever run, or any step that
 * really read more than MAX rows (r_rows; default 5000, for a test
 * database whose live work is far smaller and whose history far larger).
 * Not installed.
 *
 *   explain [-m MAX]              every timed statement, a verdict each
 *   explain [-m MAX] SQL [TYPES]  one statement (e.g. a former one, to
 *                                 show that the check can fail)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "config.h"
#include "store.h"
#include "util.h"

/* Tables whose size does not grow with the tasks ever run (tq_window:
 * three rows a queue). */
static const char *const small[] = { "tq_nodes", "tq_cron", "tq_leader",
	"tq_window", "tq_window_closed", "tq_paused", "tq_limits",
	"tq_limit_keys", NULL };

/* 1 when a plan line "table type key rows extra" reads a whole growing
 * table. */
static int
full_scan(const char *line, double max)
{
	char table[128], type[32], key[128], rows[32], r_rows[32];
	int i;

	if (sscanf(line, "%127s %31s %127s %31s %31s", table, type, key, rows,
	    r_rows) != 5)
		return 0;
	if (table[0] == '<')	/* a derived table: rows of the parts */
		return 0;
	for (i = 0; small[i]; i++)
		if (strcmp(table, small[i]) == 0)
			return 0;
	return strcmp(type, "ALL") == 0 || strcmp(type, "index") == 0 ||
	    strtod(r_rows, NULL) > max;
}

/* Prints the plan of sql; returns 1 when it scans history, 0 not, -1. */
static double max_rows = 5000;

static int
check(struct client *c, const char *what, const char *sql,
    const char *params)
{
	struct buf plan = BUF_INIT;
	char *line, *next;
	int bad = 0;

	if (store_explain(c->store, sql, params, &plan) == -1) {
		fprintf(stderr, "explain: %s: %s\n", what,
		    store_errstr(c->store));
		return -1;
	}
	for (line = plan.data; line && *line; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (full_scan(line, max_rows))
			bad = 1;
		printf("    %s\n", line);
	}
	printf("%s %s\n", bad ? "FULL SCAN" : "ok       ", what);
	buf_release(&plan);
	return bad;
}

int
main(int argc, char **argv)
{
	struct buf first = BUF_INIT;
	struct config cfg;
	struct client c;
	char err[TQ_ERRSZ];
	const char *errstr;
	long long m;
	int i, r, bad = 0;

	if (argc > 2 && strcmp(argv[1], "-m") == 0) {
		if (parse_num(argv[2], 0, 1LL << 40, &m, &errstr) == -1) {
			fprintf(stderr, "explain: -m: \"%s\" is %s\n", argv[2],
			    errstr);
			return EXIT_USAGE;
		}
		max_rows = (double)m;
		argc -= 2;
		argv += 2;
	}
	if (config_load(&cfg, NULL, err, sizeof(err)) == -1 ||
	    client_init(&c, &cfg) == -1) {
		fprintf(stderr, "explain: %s\n", err);
		return EXIT_PERM;
	}
	if (client_store(&c) == -1) {
		fprintf(stderr, "explain: %s\n", c.err);
		return EXIT_TEMP;
	}
	if (argc > 1) {
		r = check(&c, argv[1], argv[1], argc > 2 ? argv[2] : "");
		client_close(&c);
		return r == -1 ? EXIT_TEMP : r;
	}
	/* Twice, as a daemon runs them, one after the other on one
	 * connection: a plan that holds only for a statement's first
	 * execution is caught by the second round. */
	for (i = 0; store_timed[i].what != NULL; i++, buf_release(&first))
		if (store_explain(c.store, store_timed[i].sql,
		    store_timed[i].params, &first) == -1) {
			fprintf(stderr, "explain: %s: %s\n", store_timed[i].what,
			    store_errstr(c.store));
			client_close(&c);
			return EXIT_TEMP;
		}
	for (i = 0; store_timed[i].what != NULL; i++) {
		if ((r = check(&c, store_timed[i].what, store_timed[i].sql,
		    store_timed[i].params)) == -1) {
			client_close(&c);
			return EXIT_TEMP;
		}
		bad += r;
	}
	printf("explain: %d statements, %d read history\n", i, bad);
	client_close(&c);
	return bad ? 1 : 0;
}
