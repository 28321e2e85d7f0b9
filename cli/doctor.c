/* tq doctor: the configuration, both servers, the schema and the durability
 * settings checked, each with what to fix. */
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "client.h"
#include "store.h"
#include "url.h"

#include "cli.h"

static int doc_bad;

static void
doc(int ok, const char *what, const char *fix)
{
	printf("%-5s %s\n", ok > 0 ? "ok" : ok == 0 ? "FAIL" : "warn", what);
	if (ok <= 0 && fix != NULL)
		printf("      fix: %s\n", fix);
	if (ok == 0)
		doc_bad = 1;
}

static void
usage_doctor(FILE *fp)
{
	fprintf(fp,
"usage: tq doctor\n"
"\n"
"Checks the configuration, both servers, the schema and the durability\n"
"settings, and says plainly what is wrong and how to fix it. Exits 1 if\n"
"anything must be fixed.\n");
}

/* The schema's version against the one this tq needs. */
static void
doctor_schema(struct store *st)
{
	char line[2048];
	int v;

	if (store_schema_version(st, &v) == -1)
		doc(0, store_errstr(st), NULL);
	else {
		snprintf(line, sizeof(line), "schema version %d (this tq "
		    "needs %d)", v, STORE_SCHEMA_VERSION);
		doc(v == STORE_SCHEMA_VERSION, line, v < STORE_SCHEMA_VERSION ?
		    "run `tq migrate`" :
		    "upgrade tq to the version that wrote this schema");
	}
}

/* What the database server says of itself and of the tasks: durability
 * settings, packet size, the reconciler leader, nodes, stranded tasks. */
static void
doctor_facts(struct store *st)
{
	struct server_facts f;
	char line[2048];

	if (store_facts(st, cfg.pending_grace_ms, cfg.stranded_after_ms,
	    cfg.node_timeout_ms, &f) == -1) {
		doc(-1, store_errstr(st), "run `tq migrate` first");
		return;
	}
	snprintf(line, sizeof(line), "MariaDB %s: "
	    "innodb_flush_log_at_trx_commit = %d", f.version,
	    f.flush_at_commit);
	doc(f.flush_at_commit == 1, line, "set "
	    "innodb_flush_log_at_trx_commit = 1 in the server's "
	    "config (with 0 or 2 a crash loses committed "
	    "tasks)");
	if (f.log_bin) {
		snprintf(line, sizeof(line), "binary log on, "
		    "sync_binlog = %d", f.sync_binlog);
		doc(f.sync_binlog == 1, line, "set sync_binlog "
		    "= 1 (else a crash can lose the binlog of "
		    "committed tasks, and replicas diverge)");
	} else {
		snprintf(line, sizeof(line), "binary log off "
		    "(sync_binlog = %d does not matter)",
		    f.sync_binlog);
		doc(1, line, NULL);
	}
	snprintf(line, sizeof(line), "max_allowed_packet %lld "
	    "bytes, payload_max %lld", f.max_packet,
	    cfg.payload_max);
	doc(f.max_packet >= cfg.payload_max * 2 + 65536, line,
	    "raise max_allowed_packet to at least twice "
	    "payload_max, or lower payload_max");
	snprintf(line, sizeof(line), "reconciler leader: %s",
	    f.leader_live ? f.leader : "none");
	doc(f.leader_live ? 1 : -1, line, "start a supervisor "
	    "(or a standalone worker): without a leader, "
	    "delayed, retried and stranded tasks wait");
	snprintf(line, sizeof(line), "nodes: %d live, %d silent",
	    f.nodes_live, f.nodes_dead);
	doc(f.nodes_dead ? -1 : 1, line, "a silent node's tasks "
	    "are released by the leader; remove nodes that are "
	    "gone for good");
	snprintf(line, sizeof(line), "%lld pending tasks past "
	    "their grace, %lld queued past %lld ms",
	    f.pending_old, f.queued_old, cfg.stranded_after_ms);
	doc(f.pending_old == 0 ? 1 : -1, line, "pending tasks "
	    "past their grace mean the broker was unreachable or "
	    "no leader runs; they are published when one does");
}

/* The database: reached (or what to fix when not), then its schema and
 * its facts. */
static void
doctor_database(struct client *c)
{
	char line[2048], red[600];

	url_redact(&c->mysql, red, sizeof(red));
	c->no_schema_check = 1;
	if (client_store(c) == -1) {
		snprintf(line, sizeof(line), "database %s: %s", red, c->err);
		doc(0, line, c->err_temp ? "start MariaDB, or correct "
		    "mysql_url (host, port)" : strstr(c->err, "TLS") ||
		    strstr(c->err, "SSL") ?
		    "check mysql_tls_ca (the authority that signed the "
		    "server's certificate) and the host name in mysql_url" :
		    "correct the user, password or database in mysql_url / "
		    "mysql_password_file");
		return;
	}
	snprintf(line, sizeof(line), "database %s answers", red);
	doc(1, line, NULL);
	doctor_schema(c->store);
	doctor_facts(c->store);
}

/* The broker: reached (or what to fix when not), then the default queue. */
static void
doctor_broker(struct client *c)
{
	char line[2048], red[600];
	long depth;

	url_redact(&c->amqp[0], red, sizeof(red));
	if (client_broker(c) == -1) {
		snprintf(line, sizeof(line), "broker %s: %s", red, c->err);
		doc(0, line, c->err_temp ? "start RabbitMQ, or correct "
		    "amqp_url (host, port)" : strstr(c->err, "SSL") ?
		    "check amqp_tls_ca (the authority that signed the "
		    "broker's certificate) and the host name in amqp_url" :
		    "correct the user, password or vhost in amqp_url / "
		    "amqp_password_file");
		return;
	}
	snprintf(line, sizeof(line), "broker %s answers", red);
	doc(1, line, NULL);
	if (broker_declare(c->broker, cfg.queue) == -1 ||
	    (depth = broker_depth(c->broker, cfg.queue)) == -1) {
		snprintf(line, sizeof(line), "queue tq.%s: %s", cfg.queue,
		    broker_errstr(c->broker));
		doc(0, line, "see the broker's log");
		return;
	}
	snprintf(line, sizeof(line), "queue tq.%s: durable, %s, "
	    "dead-lettered to tq.dead, %ld ready", cfg.queue,
	    cfg.queue_type, depth);
	doc(1, line, NULL);
	if (strcmp(cfg.queue_type, "quorum") == 0 && c->namqp < 3)
		doc(-1, "quorum queues on fewer than 3 brokers",
		    "on one broker use queue_type = classic: a "
		    "single-node quorum queue can lose its state "
		    "on kill -9 (RabbitMQ 3.10)");
}

int
cmd_doctor(int argc, char **argv)
{
	struct client c;
	int json;

	if (json_flag(argc, argv, usage_doctor, &json) != argc) {
		usage_doctor(stderr);
		return EXIT_USAGE;
	}
	if (client_init(&c, &cfg) == -1) {
		doc(0, c.err, "correct the setting named above");
		return EXIT_TASKFAIL;
	}
	doc(1, "configuration parses", NULL);
	doctor_database(&c);
	doctor_broker(&c);
	client_close(&c);
	return doc_bad ? EXIT_TASKFAIL : 0;
}
