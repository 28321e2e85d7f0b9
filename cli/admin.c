/* tq migrate, reconcile and config: the schema (and the roles' grants), one
 * reconciler pass, the effective configuration. */
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "config.h"
#include "store.h"

#include "cli.h"

static void
usage_migrate(FILE *fp)
{
	fprintf(fp, "usage: tq migrate [--print-grants]\n\nCreates or "
	    "upgrades the schema; safe to run again. --print-grants prints\n"
	    "the least-privilege GRANTs of each role instead (producer,\n"
	    "worker for workers and supervisors, admin for migrate, purge and\n"
	    "cron) for the configured database.\n");
}

/* What each role's statements touch, and nothing more. */
static void
print_grants(const char *db)
{
	static const struct {
		const char *role, *what;
		const char *grants[16][2];	/* privileges, table */
	} roles[] = {
		{ "tq_producer", "tq submit/show/wait/stats/result/cancel, the C "
		    "API", {
		    { "SELECT, INSERT, UPDATE", "tasks" },
		    { "SELECT, INSERT", "task_deps" },
		    { "SELECT", "task_runs" },
		    { "SELECT", "tq_schema" },
		    { "SELECT, INSERT, UPDATE", "tq_rollup" },
		    { "SELECT", "tq_window" },
		    { "SELECT", "tq_window_closed" },
		    { "SELECT", "tq_limits" },
		    { "SELECT", "tq_paused" },
		    { NULL, NULL } } },
		{ "tq_worker", "tq-worker and tq-supervisor (the leader's "
		    "retention deletes finished tasks)", {
		    { "SELECT, INSERT, UPDATE, DELETE", "tasks" },
		    { "SELECT, INSERT, UPDATE, DELETE", "task_runs" },
		    { "SELECT, UPDATE", "tq_leader" },
		    { "SELECT, INSERT, UPDATE, DELETE", "tq_nodes" },
		    { "SELECT, UPDATE", "tq_cron" },
		    { "SELECT, INSERT, DELETE", "tq_cron_ticks" },
		    { "SELECT, DELETE", "task_deps" },
		    { "SELECT", "tq_schema" },
		    { "SELECT, INSERT, UPDATE, DELETE", "tq_rollup" },
		    { "SELECT, INSERT, UPDATE", "tq_window" },
		    { "SELECT, UPDATE", "tq_window_closed" },
		    { "SELECT, INSERT, UPDATE", "tq_limits" },
		    { "SELECT, INSERT, UPDATE, DELETE", "tq_limit_keys" },
		    { "SELECT", "tq_paused" },
		    { NULL, NULL } } },
		{ "tq_admin", "tq migrate, purge, retry, cron add/remove, limit "
		    "set/remove, pause/resume", {
		    { "ALL PRIVILEGES", "*" },
		    { NULL, NULL } } },
	};
	size_t i, k;

	printf("-- Least-privilege roles for tq on database `%s`. Replace the "
	    "host patterns and\n-- set passwords (keep them in password "
	    "files, mode 0600, not in URLs).\n-- With mysql_tls = yes, "
	    "make TLS mandatory too: ALTER USER ... REQUIRE SSL;\n"
	    "-- RabbitMQ, every role (the queues are tq.*, published through "
	    "the default exchange):\n--   rabbitmqctl set_permissions -p "
	    "VHOST USER '^tq\\.' '^(tq\\..*|amq\\.default)$' "
	    "'^tq\\.'\n", db);
	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		printf("\n-- %s: %s\n", roles[i].role, roles[i].what);
		printf("CREATE USER IF NOT EXISTS '%s'@'%%';\n", roles[i].role);
		for (k = 0; roles[i].grants[k][0] != NULL; k++) {
			if (strcmp(roles[i].grants[k][1], "*") == 0)
				printf("GRANT %s ON `%s`.* TO '%s'@'%%';\n",
				    roles[i].grants[k][0], db, roles[i].role);
			else
				printf("GRANT %s ON `%s`.`%s` TO '%s'@'%%';\n",
				    roles[i].grants[k][0], db,
				    roles[i].grants[k][1], roles[i].role);
		}
	}
}

int
cmd_migrate(int argc, char **argv)
{
	struct client c;
	int from = 0, to = 0;

	if (argc == 2 && strcmp(argv[1], "--print-grants") == 0) {
		open_client(&c);
		print_grants(c.mysql.path);
		client_close(&c);
		return 0;
	}
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		usage_migrate(stdout);
		return 0;
	}
	if (argc != 1) {
		usage_migrate(stderr);
		return EXIT_USAGE;
	}
	open_client(&c);
	c.no_schema_check = 1;
	need_store(&c);
	if (store_migrate(c.store, &from, &to) == -1)
		die(store_err_temporary(c.store) ? EXIT_TEMP : EXIT_PERM,
		    "migrate: %s", store_errstr(c.store));
	if (from == to)
		printf("schema is at version %d\n", to);
	else
		printf("schema migrated from version %d to %d\n", from, to);
	client_close(&c);
	return 0;
}

static void
usage_reconcile(FILE *fp)
{
	fprintf(fp,
"usage: tq reconcile\n"
"\n"
"One reconciler pass: running tasks whose lease expired are released\n"
"(retried or failed), and pending or due scheduled tasks are published.\n");
}

int
cmd_reconcile(int argc, char **argv)
{
	struct reconcile_stats rs;
	struct client c;
	int json;

	if (json_flag(argc, argv, usage_reconcile, &json) != argc) {
		usage_reconcile(stderr);
		return EXIT_USAGE;
	}
	open_client(&c);
	need_store(&c);
	if (client_reconcile(&c, &rs) == -1)
		die(c.err_temp ? EXIT_TEMP : EXIT_PERM, "reconcile: %s", c.err);
	printf("expired %d, due %d, published %d, stranded republished %d\n",
	    rs.expired, rs.due, rs.published, rs.stranded);
	client_close(&c);
	return 0;
}

static void
usage_config(FILE *fp)
{
	fprintf(fp, "usage: tq config\n\nPrints every setting, its value "
	    "(passwords redacted) and what it means.\n");
}

int
cmd_config(int argc, char **argv)
{
	int json;

	if (json_flag(argc, argv, usage_config, &json) != argc) {
		usage_config(stderr);
		return EXIT_USAGE;
	}
	config_dump(&cfg, stdout);
	return 0;
}
