/* tq: the command-line client. Submits, inspects, waits and repairs.
 * Here: the command table and main; the helpers the commands share are in
 * common.c (cli.h). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "config.h"
#include "log.h"
#include "util.h"
#include "uuid.h"

#include "cli.h"

#define TQ_VERSION	"0.1.0"

static const char *config_file;

static void
usage_main(FILE *fp)
{
	fprintf(fp,
"usage: tq [-c FILE] [--amqp-url URL] [--mysql-url URL] COMMAND [ARGS]\n"
"\n"
"commands:\n"
"  submit     submit one task, or one per line of a file\n"
"  show       show one task\n"
"  wait       wait for tasks to end\n"
"  stats      count tasks by queue and state\n"
"  migrate    create or upgrade the database schema\n"
"  reconcile  publish stranded tasks and expire dead leases, once\n"
"  workers    list a supervisor's workers\n"
"  cancel     cancel tasks (running ones are stopped)\n"
"  result     write a task's raw result to stdout\n"
"  failed     list failed tasks (the dead-letter set)\n"
"  retry      run failed tasks again\n"
"  purge      delete old finished tasks\n"
"  cron       add, list or remove periodic tasks\n"
"  limit      list, set or remove concurrency and rate limits\n"
"  pause      stop claiming a queue's tasks, cluster-wide\n"
"  resume     claim a paused queue's tasks again\n"
"  doctor     check servers, schema and durability settings\n"
"  top        a live view of queues, workers and failures\n"
"  config     print the effective configuration\n"
"  web        serve the dashboard (pages and a JSON API) over HTTP\n"
"\n"
"Run 'tq COMMAND --help' for a command's options.\n"
"Settings come from the config file ([tq] section), then TQ_* environment\n"
"variables (TQ_AMQP_URL, TQ_MYSQL_URL, ...), then flags.\n"
"\n"
"exit status: 0 ok, 1 a task ended other than succeeded, 2 usage,\n"
"100 bad input or configuration, 111 a server is unreachable, 124 timeout.\n");
}


static const struct cmd {
	const char	*name;
	int		(*fn)(int, char **);
} cmds[] = {
	{ "submit", cmd_submit },
	{ "show", cmd_show },
	{ "wait", cmd_wait },
	{ "stats", cmd_stats },
	{ "migrate", cmd_migrate },
	{ "reconcile", cmd_reconcile },
	{ "workers", cmd_workers },
	{ "cancel", cmd_cancel },
	{ "result", cmd_result },
	{ "failed", cmd_failed },
	{ "retry", cmd_retry },
	{ "purge", cmd_purge },
	{ "cron", cmd_cron },
	{ "limit", cmd_limit },
	{ "pause", cmd_pause },
	{ "resume", cmd_resume },
	{ "doctor", cmd_doctor },
	{ "top", cmd_top },
	{ "config", cmd_config },
	{ "web", cmd_web },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "amqp-url", required_argument, NULL, 'A' },
		{ "mysql-url", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *amqp = NULL, *mysql = NULL;
	const struct cmd *c;
	char err[TQ_ERRSZ];
	int ch;

	log_init("tq", 0);
	log_setlevel(LOG_LVL_WARN);
	/* A peer that closes first gives an error, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1)
		switch (ch) {
		case 'c':
			config_file = optarg;
			break;
		case 'A':
			amqp = optarg;
			break;
		case 'M':
			mysql = optarg;
			break;
		case 'h':
			usage_main(stdout);
			return 0;
		case 'V':
			printf("tq %s\n", TQ_VERSION);
			return 0;
		default:
			usage_main(stderr);
			return EXIT_USAGE;
		}
	if (optind >= argc) {
		usage_main(stderr);
		return EXIT_USAGE;
	}
	if (config_load(&cfg, config_file, err, sizeof(err)) == -1 ||
	    (amqp && config_set_flag_url(&cfg, "amqp_url", amqp, err,
	    sizeof(err)) == -1) ||
	    (mysql && config_set_flag_url(&cfg, "mysql_url", mysql, err,
	    sizeof(err)) == -1) ||
	    config_check(&cfg, err, sizeof(err)) == -1)
		die(EXIT_PERM, "%s", err);
	argc -= optind;
	argv += optind;
	for (c = cmds; c->name; c++)
		if (strcmp(c->name, argv[0]) == 0) {
			optind = 1;
			return c->fn(argc, argv);
		}
	if (strcmp(argv[0], "help") == 0) {
		usage_main(stdout);
		return 0;
	}
	fprintf(stderr, "tq: unknown command \"%s\"\n", argv[0]);
	usage_main(stderr);
	return EXIT_USAGE;
}
