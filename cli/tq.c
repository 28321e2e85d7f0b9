/* tq: the command-line client. Submits, inspects, waits and repairs. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "client.h"
#include "config.h"
#include "cron.h"
#include "history.h"
#include "log.h"
#include "store.h"
#include "task.h"
#include "util.h"
#include "uuid.h"

#define TQ_VERSION	"0.1.0"

static const char *config_file;
static struct config cfg;

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
"  doctor     check servers, schema and durability settings\n"
"  top        a live view of queues, workers and failures\n"
"  config     print the effective configuration\n"
"\n"
"Run 'tq COMMAND --help' for a command's options.\n"
"Settings come from the config file ([tq] section), then TQ_* environment\n"
"variables (TQ_AMQP_URL, TQ_MYSQL_URL, ...), then flags.\n"
"\n"
"exit status: 0 ok, 1 a task ended other than succeeded, 2 usage,\n"
"100 bad input or configuration, 111 a server is unreachable, 124 timeout.\n");
}

static void __attribute__((noreturn))
die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("tq: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static void
need_store(struct client *c)
{
	if (client_store(c) == -1)
		die(c->err_temp ? EXIT_TEMP : EXIT_PERM, "%s", c->err);
}

static void
open_client(struct client *c)
{
	if (client_init(c, &cfg) == -1)
		die(EXIT_PERM, "%s", c->err);
}

static long long
num_arg(const char *opt, const char *v, long long min, long long max)
{
	const char *errstr;
	long long n;

	if (parse_num(v, min, max, &n, &errstr) == -1)
		die(EXIT_USAGE, "%s: \"%s\" is %s (allowed %lld..%lld)", opt, v,
		    errstr, min, max);
	return n;
}

static void	parse_id(const char *, struct uuid *);

/* ---- submit ---- */

static void
usage_submit(FILE *fp)
{
	fprintf(fp,
"usage: tq submit [options] NAME [PAYLOAD | -]\n"
"       tq submit [options] --from FILE NAME\n"
"\n"
"Prints the new task's id once the task is durable. PAYLOAD '-' reads\n"
"stdin; with --from, each line of FILE ('-' = stdin) is one task's payload\n"
"and one id is printed per line, in order.\n"
"\n"
"  -q, --queue Q          queue (default from config: \"default\")\n"
"  -m, --max-attempts N   attempts before the task ends failed\n"
"  -b, --backoff B[,C]    retry backoff base and cap, seconds (fractions ok)\n"
"  -d, --delay SECS       start no earlier than SECS from now\n"
"      --at TIME          start no earlier than TIME (UTC, YYYY-MM-DDTHH:MM:SS,\n"
"                         or seconds since the epoch)\n"
"  -t, --timeout SECS     each attempt may run this long, then it is stopped\n"
"                         and fails \"timed out\" (retried per the policy)\n"
"  -p, --priority N       0 (default) to 9 (first)\n"
"  -A, --after ID[,ID]    wait until these tasks succeeded; if one fails or\n"
"                         is cancelled, this one ends cancelled\n"
"  -k, --key KEY          while a task with KEY is not finished in this queue,\n"
"                         submitting KEY again returns that task's id\n"
"  -f, --payload-file F   read the payload from F\n"
"      --from FILE        one task per line of FILE\n"
"  -h, --help             this text\n");
}

static long long
secs_to_ms(const char *opt, const char *v)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno || *end != '\0' || end == v || d < 0 || d > 31536000.0)
		die(EXIT_USAGE, "%s: \"%s\" is not a number of seconds", opt, v);
	return (long long)(d * 1000.0 + 0.5);
}

/* --at: an absolute time, UTC, as a delay from now. */
static int64_t
at_to_delay(const char *v)
{
	const char *errstr;
	struct tm tm;
	long long secs;
	char *end;
	time_t when;

	memset(&tm, 0, sizeof(tm));
	if (parse_num(v, 0, 1LL << 40, &secs, &errstr) == 0)
		when = (time_t)secs;
	else if ((end = strptime(v, "%Y-%m-%dT%H:%M:%S", &tm)) != NULL &&
	    (*end == '\0' || strcmp(end, "Z") == 0))
		when = timegm(&tm);
	else if ((end = strptime(v, "%Y-%m-%d %H:%M:%S", &tm)) != NULL &&
	    *end == '\0')
		when = timegm(&tm);
	else
		die(EXIT_USAGE, "--at: \"%s\" is not YYYY-MM-DDTHH:MM:SS (UTC) "
		    "or seconds since the epoch", v);
	return (int64_t)when * 1000 - wall_ms();
}

static void
check_payload(size_t len)
{
	if (len > (size_t)cfg.payload_max)
		die(EXIT_PERM, "payload of %zu bytes exceeds payload_max "
		    "(%lld bytes); nothing was submitted", len, cfg.payload_max);
}

#define SUBMIT_BATCH	5000

static void
submit_batch(struct client *c, struct task_new *t, size_t n)
{
	char idtxt[UUID_STRLEN + 1];
	size_t i, published;

	if (client_submit(c, t, n, &published) == -1)
		die(c->err_temp ? EXIT_TEMP : EXIT_PERM, "submit: %s", c->err);
	for (i = 0; i < n; i++) {
		uuid_fmt(&t[i].id, idtxt);
		printf("%s\n", idtxt);
	}
	if (fflush(stdout) == EOF)
		die(EXIT_TEMP, "stdout: %s", strerror(errno));
	if (published < n)
		fprintf(stderr, "tq: %zu of %zu tasks are durable but not yet "
		    "published (%s); the reconciler publishes them\n",
		    n - published, n, c->err[0] ? c->err : "delayed");
}

/* --from: batches made durable one after the other while a second thread
 * publishes the previous ones; each batch's ids are printed once it is
 * durable. */
static void
submit_bulk(struct client *c, struct task_new *t, size_t n)
{
	char idtxt[UUID_STRLEN + 1];
	struct client_bulk *b;
	size_t i, j, k, published = 0;
	int failed = 0;

	if ((b = client_bulk_start(c)) == NULL)
		die(EXIT_TEMP, "submit: %s", c->err);
	for (i = 0; i < n; i += k) {
		k = n - i < SUBMIT_BATCH ? n - i : SUBMIT_BATCH;
		if (client_bulk_submit(b, t + i, k) == -1) {
			failed = 1;
			break;
		}
		for (j = i; j < i + k; j++) {
			uuid_fmt(&t[j].id, idtxt);
			printf("%s\n", idtxt);
		}
		if (fflush(stdout) == EOF) {
			failed = 2;
			break;
		}
	}
	/* What is durable gets published (or left to the reconciler) before
	 * a failure is reported. */
	(void)client_bulk_end(b, &published);
	if (failed == 1)
		die(c->err_temp ? EXIT_TEMP : EXIT_PERM, "submit: %s", c->err);
	if (failed == 2)
		die(EXIT_TEMP, "stdout: %s", strerror(errno));
	if (published < n)
		fprintf(stderr, "tq: %zu of %zu tasks are durable but not yet "
		    "published (%s); the reconciler publishes them\n",
		    n - published, n, c->err[0] ? c->err : "delayed");
}

static int
cmd_submit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "max-attempts", required_argument, NULL, 'm' },
		{ "backoff", required_argument, NULL, 'b' },
		{ "delay", required_argument, NULL, 'd' },
		{ "payload-file", required_argument, NULL, 'f' },
		{ "from", required_argument, NULL, 'F' },
		{ "at", required_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 't' },
		{ "priority", required_argument, NULL, 'p' },
		{ "key", required_argument, NULL, 'k' },
		{ "after", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct uuid after[64];
	int given_m, given_b, given_t, given_p;
	struct task_new proto, *t = NULL;
	struct buf payload = BUF_INIT, lines = BUF_INIT;
	const char *from = NULL, *pfile = NULL, *name, *queue = cfg.queue;
	struct client c;
	size_t n, cap;
	char *p, *nl, *comma;
	int ch;

	memset(&proto, 0, sizeof(proto));
	proto.max_attempts = (unsigned)cfg.max_attempts;
	proto.backoff_base_ms = (unsigned)cfg.backoff_base_ms;
	proto.backoff_cap_ms = (unsigned)cfg.backoff_cap_ms;
	given_m = given_b = given_t = given_p = 0;
	while ((ch = getopt_long(argc, argv, "+q:m:b:d:f:t:p:k:A:h", opts,
	    NULL)) != -1)
		switch (ch) {
		case 'q':
			queue = optarg;
			break;
		case 'm':
			proto.max_attempts = (unsigned)num_arg("--max-attempts",
			    optarg, 1, 1000);
			given_m = 1;
			break;
		case 'b':
			given_b = 1;
			if ((comma = strchr(optarg, ',')) != NULL) {
				*comma = '\0';
				proto.backoff_cap_ms = (unsigned)secs_to_ms(
				    "--backoff", comma + 1);
			}
			proto.backoff_base_ms = (unsigned)secs_to_ms("--backoff",
			    optarg);
			if (comma == NULL && proto.backoff_cap_ms <
			    proto.backoff_base_ms)
				proto.backoff_cap_ms = proto.backoff_base_ms;
			if (proto.backoff_cap_ms < proto.backoff_base_ms)
				die(EXIT_USAGE, "--backoff: cap below base");
			break;
		case 'd':
			proto.delay_ms = secs_to_ms("--delay", optarg);
			break;
		case 'f':
			pfile = optarg;
			break;
		case 'F':
			from = optarg;
			break;
		case 'a':
			proto.delay_ms = at_to_delay(optarg);
			break;
		case 't':
			proto.timeout_ms = (unsigned)secs_to_ms("--timeout",
			    optarg);
			if (proto.timeout_ms == 0)
				die(EXIT_USAGE, "--timeout: must be positive");
			given_t = 1;
			break;
		case 'p':
			proto.priority = (unsigned)num_arg("--priority", optarg,
			    0, 9);
			given_p = 1;
			break;
		case 'k':
			if (*optarg == '\0' || strlen(optarg) > 255)
				die(EXIT_USAGE, "--key: 1 to 255 bytes");
			proto.unique_key = optarg;
			break;
		case 'A':
			for (p = strtok(optarg, ","); p; p = strtok(NULL, ",")) {
				if (proto.nafter == 64)
					die(EXIT_USAGE, "--after: at most 64");
				parse_id(p, &after[proto.nafter++]);
			}
			proto.after = after;
			break;
		case 'h':
			usage_submit(stdout);
			return 0;
		default:
			usage_submit(stderr);
			return EXIT_USAGE;
		}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2 || (from && (argc != 1 || pfile ||
	    proto.unique_key || proto.nafter)) || (pfile && argc != 1)) {
		usage_submit(stderr);
		return EXIT_USAGE;
	}
	name = argv[0];
	if (!task_name_ok(name, TASK_NAME_MAX))
		die(EXIT_USAGE, "bad task name \"%s\" (1-255 of A-Z a-z 0-9 "
		    ". _ : -)", name);
	if (!task_name_ok(queue, TASK_QUEUE_MAX))
		die(EXIT_USAGE, "bad queue name \"%s\" (1-64 of A-Z a-z 0-9 "
		    ". _ : -)", queue);
	proto.queue = queue;
	proto.name = name;
	/* The queue's [queue NAME] defaults, where no flag said otherwise. */
	{
		unsigned qm, qb, qc, qt, qp;

		config_queue(&cfg, queue, &qm, &qb, &qc, &qt, &qp);
		if (!given_m)
			proto.max_attempts = qm;
		if (!given_b) {
			proto.backoff_base_ms = qb;
			proto.backoff_cap_ms = qc;
		}
		if (!given_t)
			proto.timeout_ms = qt;
		if (!given_p)
			proto.priority = qp;
	}
	open_client(&c);

	if (from == NULL) {
		if (pfile || (argc == 2 && strcmp(argv[1], "-") == 0)) {
			if (read_file(pfile ? pfile : "-",
			    (size_t)cfg.payload_max, &payload) == -1) {
				if (errno == EFBIG)
					die(EXIT_PERM, "payload exceeds "
					    "payload_max (%lld bytes); nothing "
					    "was submitted", cfg.payload_max);
				die(EXIT_PERM, "%s: %s", pfile ? pfile :
				    "stdin", strerror(errno));
			}
		} else if (argc == 2 && buf_append(&payload, argv[1],
		    strlen(argv[1])) == -1)
			die(EXIT_TEMP, "out of memory");
		check_payload(payload.len);
		proto.payload = payload.data ? payload.data : "";
		proto.len = payload.len;
		need_store(&c);
		submit_batch(&c, &proto, 1);
		goto out;
	}

	/* Bulk: the whole input is read and checked first, so a bad line
	 * leaves nothing half-submitted. */
	if (read_file(from, (size_t)1 << 31, &lines) == -1)
		die(EXIT_PERM, "%s: %s", from, strerror(errno));
	cap = 1024;
	if ((t = calloc(cap, sizeof(*t))) == NULL)
		die(EXIT_TEMP, "out of memory");
	n = 0;
	for (p = lines.data; p && p < lines.data + lines.len; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(lines.data + lines.len -
		    p))) == NULL)
			nl = lines.data + lines.len;
		check_payload((size_t)(nl - p));
		if (n == cap) {
			struct task_new *nt;

			cap *= 2;
			if ((nt = reallocarray(t, cap, sizeof(*t))) == NULL)
				die(EXIT_TEMP, "out of memory");
			t = nt;
		}
		t[n] = proto;
		t[n].payload = p;
		t[n].len = (size_t)(nl - p);
		n++;
	}
	need_store(&c);
	submit_bulk(&c, t, n);
out:
	client_close(&c);
	free(t);
	buf_release(&payload);
	buf_release(&lines);
	return 0;
}

/* ---- show ---- */

static void
parse_id(const char *s, struct uuid *id)
{
	if (uuid_parse(s, id) == -1)
		die(EXIT_USAGE, "\"%s\" is not a task id", s);
}

static int
printable(const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++)
		if ((s[i] < 0x20 && s[i] != '\n' && s[i] != '\t') || s[i] == 0x7f)
			return 0;
	return 1;
}

static json_t *
bytes_json(const void *p, size_t n)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = p;
	json_t *j;
	char *out;
	size_t i, o = 0;
	unsigned v;

	if (printable(p, n) && (j = json_stringn(p, n)) != NULL)
		return j;
	if ((out = malloc((n + 2) / 3 * 4 + 1)) == NULL)
		return json_null();
	for (i = 0; i < n; i += 3) {
		v = (unsigned)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	j = json_pack("{s:s}", "base64", out);
	free(out);
	return j;
}

static void
show_human(const struct task_row *t)
{
	char idtxt[UUID_STRLEN + 1];

	uuid_fmt(&t->id, idtxt);
	printf("id:           %s\n", idtxt);
	printf("queue:        %s\n", t->queue);
	printf("name:         %s\n", t->name);
	printf("state:        %s\n", task_state_name(t->state));
	printf("attempts:     %u/%u\n", t->attempts, t->max_attempts);
	printf("progress:     %u%%%s%s\n", t->progress,
	    t->progress_msg[0] ? " " : "", t->progress_msg);
	printf("created:      %s\n", t->created_at);
	printf("updated:      %s\n", t->updated_at);
	if (t->started_at[0])
		printf("started:      %s\n", t->started_at);
	if (t->finished_at[0])
		printf("finished:     %s\n", t->finished_at);
	if (t->state == TS_RUNNING) {
		printf("owner:        %s\n", t->owner);
		printf("lease until:  %s\n", t->due_at);
	} else if (t->state == TS_SCHEDULED)
		printf("due:          %s\n", t->due_at);
	if (printable(t->payload, t->payload_len) && t->payload_len <= 200)
		printf("payload:      %.*s\n", (int)t->payload_len,
		    (char *)t->payload);
	else
		printf("payload:      (%zu bytes)\n", t->payload_len);
	if (t->result != NULL) {
		if (printable(t->result, t->result_len) && t->result_len <= 200)
			printf("result:       %.*s\n", (int)t->result_len,
			    (char *)t->result);
		else
			printf("result:       (%zu bytes; tq show --json)\n",
			    t->result_len);
	}
	if (t->error != NULL)
		printf("error:        %s\n", t->error);
}

static json_t *
task_json(const struct task_row *t)
{
	char idtxt[UUID_STRLEN + 1];
	json_t *j;

	uuid_fmt(&t->id, idtxt);
	j = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:I, s:s, s:s}",
	    "id", idtxt, "queue", t->queue, "name", t->name,
	    "state", task_state_name(t->state), "attempts", (int)t->attempts,
	    "max_attempts", (int)t->max_attempts, "progress", (int)t->progress,
	    "fence", (json_int_t)t->fence, "created_at", t->created_at,
	    "updated_at", t->updated_at);
	if (j == NULL)
		return NULL;
	json_object_set_new(j, "progress_message", t->progress_msg[0] ?
	    json_string(t->progress_msg) : json_null());
	json_object_set_new(j, "started_at", t->started_at[0] ?
	    json_string(t->started_at) : json_null());
	json_object_set_new(j, "finished_at", t->finished_at[0] ?
	    json_string(t->finished_at) : json_null());
	json_object_set_new(j, "due_at", t->due_at[0] ?
	    json_string(t->due_at) : json_null());
	json_object_set_new(j, "owner", t->owner[0] ?
	    json_string(t->owner) : json_null());
	json_object_set_new(j, "payload", bytes_json(t->payload,
	    t->payload_len));
	json_object_set_new(j, "result", t->result ? bytes_json(t->result,
	    t->result_len) : json_null());
	json_object_set_new(j, "error", t->error ? json_string(t->error) :
	    json_null());
	return j;
}

static int
json_flag(int argc, char **argv, void (*usage)(FILE *), int *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	*json = 0;
	while ((ch = getopt_long(argc, argv, "+jh", opts, NULL)) != -1)
		switch (ch) {
		case 'j':
			*json = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(EXIT_USAGE);
		}
	return optind;
}

/* The task named by a command's one argument (dies if there is none). */
static int
get_one(int argc, char **argv, void (*usage)(FILE *), struct client *c,
    struct task_row *t, int *json)
{
	char why[512];
	struct uuid id;
	int i, r;

	i = json_flag(argc, argv, usage, json);
	if (argc - i != 1) {
		usage(stderr);
		return -1;
	}
	parse_id(argv[i], &id);
	open_client(c);
	need_store(c);
	if ((r = store_get(c->store, &id, t)) == -1)
		die(store_err_temporary(c->store) ? EXIT_TEMP : EXIT_PERM, "%s",
		    store_errstr(c->store));
	if (r == 0)
		die(EXIT_TASKFAIL, "%s", history_not_found(&cfg, &id, why,
		    sizeof(why)));
	return 0;
}

static void
usage_show(FILE *fp)
{
	fprintf(fp, "usage: tq show [--json] ID\n");
}

static int
cmd_show(int argc, char **argv)
{
	struct task_row t;
	struct client c;
	json_t *j;
	int json;

	if (get_one(argc, argv, usage_show, &c, &t, &json) == -1)
		return EXIT_USAGE;
	if (json) {
		j = task_json(&t);
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(j);
	} else
		show_human(&t);
	task_row_release(&t);
	client_close(&c);
	return 0;
}

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
"keep_cancelled): what retention keeps. Neither reads history.\n");
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

static int
cmd_stats(int argc, char **argv)
{
	struct stat_row *rows;
	struct client c;
	json_t *j, *q;
	int json, n, i, s;

	i = json_flag(argc, argv, usage_stats, &json);
	if (argc != i) {
		usage_stats(stderr);
		return EXIT_USAGE;
	}
	open_client(&c);
	need_store(&c);
	if ((n = history_stats(&c, &rows)) == -1)
		die(c.err_temp ? EXIT_TEMP : EXIT_PERM, "%s", c.err);
	if (json) {
		j = json_object();
		for (i = 0; i < n; i++) {
			q = json_object();
			for (s = 0; s < TS_COUNT; s++)
				json_object_set_new(q, task_state_name(s),
				    json_integer((json_int_t)rows[i].count[s]));
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
	}
	free(rows);
	client_close(&c);
	return 0;
}

/* ---- wait ---- */

static void
draw_bar(const char *id, unsigned pct, const char *msg)
{
	char bar[31];
	unsigned i, fill = pct * 30 / 100;

	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	fprintf(stderr, "\r\033[K%.8s [%s] %3u%% %.40s", id, bar, pct, msg);
}

static void
usage_wait(FILE *fp)
{
	fprintf(fp,
"usage: tq wait [--timeout SECS] ID...\n"
"\n"
"Exits 0 when every task succeeded, 1 when any ended otherwise, 124 when\n"
"SECS pass first (default: wait forever). On a terminal it draws the\n"
"progress of one task, or the count of finished ones.\n");
}

static int
cmd_wait(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum task_state st;
	struct uuid *ids;
	struct client c;
	int64_t deadline = -1, pause = 20;
	int ch, i, n, left, bad = 0, r, tty = isatty(STDERR_FILENO);
	unsigned pct = 0;
	char *done, msg[256] = "", why[512];

	while ((ch = getopt_long(argc, argv, "+t:h", opts, NULL)) != -1)
		switch (ch) {
		case 't':
			deadline = now_ms() + secs_to_ms("--timeout", optarg);
			break;
		case 'h':
			usage_wait(stdout);
			return 0;
		default:
			usage_wait(stderr);
			return EXIT_USAGE;
		}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage_wait(stderr);
		return EXIT_USAGE;
	}
	n = argc;
	ids = calloc((size_t)n, sizeof(*ids));
	done = calloc((size_t)n, 1);
	if (ids == NULL || done == NULL)
		die(EXIT_TEMP, "out of memory");
	for (i = 0; i < n; i++)
		parse_id(argv[i], &ids[i]);
	open_client(&c);
	need_store(&c);
	for (left = n;;) {
		for (i = 0; i < n; i++) {
			if (done[i])
				continue;
			r = store_peek(c.store, &ids[i], &st, &pct, msg,
			    sizeof(msg));
			if (r == -1) {
				if (!store_err_temporary(c.store))
					die(EXIT_PERM, "%s",
					    store_errstr(c.store));
				/* The database may come back: keep waiting. */
				(void)store_reconnect(c.store);
				break;
			}
			if (r == 0)
				die(EXIT_TASKFAIL, "%s", history_not_found(&cfg,
				    &ids[i], why, sizeof(why)));
			if (task_state_terminal(st)) {
				done[i] = 1;
				left--;
				if (st != TS_SUCCEEDED) {
					bad = 1;
					fprintf(stderr, "tq: task %s %s\n",
					    argv[i], task_state_name(st));
				}
			}
		}
		/* On a terminal: a bar for one task, a count for several;
		 * elsewhere, nothing until the end (plain output). */
		if (tty && left > 0) {
			if (n == 1)
				draw_bar(argv[0], pct, msg);
			else
				fprintf(stderr, "\r%d of %d tasks finished",
				    n - left, n);
			fflush(stderr);
		}
		if (left == 0)
			break;
		if (deadline != -1 && now_ms() >= deadline) {
			fprintf(stderr, "tq: timed out with %d of %d tasks not "
			    "finished\n", left, n);
			client_close(&c);
			free(ids);
			free(done);
			return EXIT_TIMEOUT;
		}
		sleep_ms(pause);
		if (pause < 500)
			pause = pause * 3 / 2;
	}
	if (tty)
		fputs("\r\033[K", stderr);
	client_close(&c);
	free(ids);
	free(done);
	return bad ? EXIT_TASKFAIL : 0;
}

/* ---- migrate, reconcile, config ---- */

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
		const char *grants[11][2];	/* privileges, table */
	} roles[] = {
		{ "tq_producer", "tq submit/show/wait/stats/result/cancel, the C "
		    "API", {
		    { "SELECT, INSERT, UPDATE", "tasks" },
		    { "SELECT, INSERT", "task_deps" },
		    { "SELECT", "task_runs" },
		    { "SELECT", "tq_schema" },
		    { "SELECT, INSERT, UPDATE", "tq_rollup" },
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
		    { NULL, NULL } } },
		{ "tq_admin", "tq migrate, purge, retry, cron add/remove", {
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

static int
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

static int
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

/* ---- operator actions: cancel, result, failed, retry, purge ---- */

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

static int
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
usage_result(FILE *fp)
{
	fprintf(fp, "usage: tq result ID\n\nWrites the task's raw result to "
	    "stdout. Exits 1 if the task has not succeeded.\n");
}

static int
cmd_result(int argc, char **argv)
{
	struct task_row t;
	struct client c;
	int json;

	if (get_one(argc, argv, usage_result, &c, &t, &json) == -1)
		return EXIT_USAGE;
	if (t.state != TS_SUCCEEDED) {
		fprintf(stderr, "tq: task %s is %s%s%s\n", argv[argc - 1],
		    task_state_name(t.state), t.error ? ": " : "",
		    t.error ? t.error : "");
		task_row_release(&t);
		client_close(&c);
		return EXIT_TASKFAIL;
	}
	if (t.result_len > 0 && fwrite(t.result, 1, t.result_len, stdout) !=
	    t.result_len)
		die(EXIT_TEMP, "stdout: %s", strerror(errno));
	task_row_release(&t);
	client_close(&c);
	return 0;
}

static void
usage_failed(FILE *fp)
{
	fprintf(fp, "usage: tq failed [--json] [-q QUEUE] [-n MAX]\n\nLists "
	    "failed tasks (the dead-letter set), newest first.\n");
}

static int
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
	    "Runs failed tasks again, with their attempts reset.\n");
}

static int
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
		if ((r = store_retry(c.store, &ids[i])) == -1)
			die(store_err_temporary(c.store) ? EXIT_TEMP : EXIT_PERM,
			    "retry: %s", store_errstr(c.store));
		if (r == 0) {
			fprintf(stderr, "tq: task %s is not failed\n", idtxt);
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

static long long
duration_ms(const char *v)
{
	const char *errstr;
	char num[32];
	long long n, mult = 1000;
	size_t len = strlen(v);

	if (len == 0 || len >= sizeof(num))
		die(EXIT_USAGE, "--older-than: bad duration \"%s\"", v);
	memcpy(num, v, len + 1);
	switch (num[len - 1]) {
	case 's':
		num[--len] = '\0';
		break;
	case 'm':
		mult = 60000;
		num[--len] = '\0';
		break;
	case 'h':
		mult = 3600000;
		num[--len] = '\0';
		break;
	case 'd':
		mult = 86400000;
		num[--len] = '\0';
		break;
	default:
		break;
	}
	if (parse_num(num, 0, 100LL * 365 * 86400, &n, &errstr) == -1)
		die(EXIT_USAGE, "--older-than: \"%s\" is %s", v, errstr);
	return n * mult;
}

static int
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
			older = duration_ms(optarg);
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

/* ---- doctor ---- */

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

static int
cmd_doctor(int argc, char **argv)
{
	struct server_facts f;
	struct client c;
	char line[2048], red[600];
	int json, v;
	long depth;

	if (json_flag(argc, argv, usage_doctor, &json) != argc) {
		usage_doctor(stderr);
		return EXIT_USAGE;
	}
	if (client_init(&c, &cfg) == -1) {
		doc(0, c.err, "correct the setting named above");
		return EXIT_TASKFAIL;
	}
	doc(1, "configuration parses", NULL);
	url_redact(&c.mysql, red, sizeof(red));
	c.no_schema_check = 1;
	if (client_store(&c) == -1) {
		snprintf(line, sizeof(line), "database %s: %s", red, c.err);
		doc(0, line, c.err_temp ? "start MariaDB, or correct mysql_url "
		    "(host, port)" : strstr(c.err, "TLS") || strstr(c.err, "SSL") ?
		    "check mysql_tls_ca (the authority that signed the "
		    "server's certificate) and the host name in mysql_url" :
		    "correct the user, password or database in mysql_url / "
		    "mysql_password_file");
	} else {
		snprintf(line, sizeof(line), "database %s answers", red);
		doc(1, line, NULL);
		if (store_schema_version(c.store, &v) == -1)
			doc(0, store_errstr(c.store), NULL);
		else {
			snprintf(line, sizeof(line), "schema version %d (this tq "
			    "needs %d)", v, STORE_SCHEMA_VERSION);
			doc(v == STORE_SCHEMA_VERSION, line, v <
			    STORE_SCHEMA_VERSION ? "run `tq migrate`" :
			    "upgrade tq to the version that wrote this schema");
		}
		if (store_facts(c.store, cfg.pending_grace_ms,
		    cfg.stranded_after_ms, cfg.node_timeout_ms, &f) == -1)
			doc(-1, store_errstr(c.store), "run `tq migrate` first");
		else {
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
	}
	url_redact(&c.amqp[0], red, sizeof(red));
	if (client_broker(&c) == -1) {
		snprintf(line, sizeof(line), "broker %s: %s", red, c.err);
		doc(0, line, c.err_temp ? "start RabbitMQ, or correct amqp_url "
		    "(host, port)" : strstr(c.err, "SSL") ?
		    "check amqp_tls_ca (the authority that signed the "
		    "broker's certificate) and the host name in amqp_url" :
		    "correct the user, password or vhost in amqp_url / "
		    "amqp_password_file");
	} else {
		snprintf(line, sizeof(line), "broker %s answers", red);
		doc(1, line, NULL);
		if (broker_declare(c.broker, cfg.queue) == -1 ||
		    (depth = broker_depth(c.broker, cfg.queue)) == -1) {
			snprintf(line, sizeof(line), "queue tq.%s: %s",
			    cfg.queue, broker_errstr(c.broker));
			doc(0, line, "see the broker's log");
		} else {
			snprintf(line, sizeof(line), "queue tq.%s: durable, %s, "
			    "dead-lettered to tq.dead, %ld ready", cfg.queue,
			    cfg.queue_type, depth);
			doc(1, line, NULL);
			if (strcmp(cfg.queue_type, "quorum") == 0 && c.namqp < 3)
				doc(-1, "quorum queues on fewer than 3 brokers",
				    "on one broker use queue_type = classic: a "
				    "single-node quorum queue can lose its state "
				    "on kill -9 (RabbitMQ 3.10)");
		}
	}
	client_close(&c);
	return doc_bad ? EXIT_TASKFAIL : 0;
}

/* ---- cron ---- */

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

static int
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

/* ---- workers: asks a supervisor over its control socket ---- */

/* The supervisor's "workers" answer, or NULL with why. */
static json_t *
control_query(const char *path, char *why, size_t whysz)
{
	struct sockaddr_un sa;
	struct buf in = BUF_INIT;
	json_error_t jerr;
	char chunk[4096];
	json_t *j;
	ssize_t n;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(why, whysz, "control socket path too long");
		return NULL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    write(fd, "workers\n", 8) != 8) {
		snprintf(why, whysz, "control socket \"%s\": %s (is "
		    "tq-supervisor running?)", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(&in, chunk, (size_t)n) == -1)
			break;
	close(fd);
	if (in.len == 0) {
		snprintf(why, whysz, "control socket \"%s\": no answer "
		    "(refused?)", path);
		buf_release(&in);
		return NULL;
	}
	j = json_loadb(in.data, in.len, 0, &jerr);
	buf_release(&in);
	if (j == NULL)
		snprintf(why, whysz, "control socket: bad answer: %s",
		    jerr.text);
	return j;
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

static int
cmd_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "interval", required_argument, NULL, 'i' },
		{ "control", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = cfg.control_socket;
	struct stat_row *rows = NULL, *prev = NULL;
	int ch, once = 0, n, pn = 0, i, k, s, nf;
	int64_t interval = 1000, t0 = 0, t1;
	struct uuid *fids;
	struct task_row tr;
	struct client c;
	char why[512], idtxt[UUID_STRLEN + 1];
	json_t *j, *w;
	size_t wi;

	while ((ch = getopt_long(argc, argv, "+oi:C:h", opts, NULL)) != -1)
		switch (ch) {
		case 'o':
			once = 1;
			break;
		case 'i':
			interval = secs_to_ms("--interval", optarg);
			if (interval < 100)
				interval = 100;
			break;
		case 'C':
			path = optarg;
			break;
		case 'h':
			usage_top(stdout);
			return 0;
		default:
			usage_top(stderr);
			return EXIT_USAGE;
		}
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
		printf("%-20s %9s %9s %9s %9s %10s %9s %9s %8s %8s\n", "QUEUE",
		    "pending", "queued", "sched", "running", "succeeded",
		    "failed", "cancel", "in/s", "out/s");
		for (i = 0; i < n; i++) {
			unsigned long tot = 0, done = 0, ptot = 0, pdone = 0;
			double dt = (double)(t1 - t0) / 1000.0;

			for (s = 0; s < TS_COUNT; s++)
				tot += rows[i].count[s];
			done = rows[i].count[TS_SUCCEEDED] +
			    rows[i].count[TS_FAILED] + rows[i].count[TS_CANCELLED];
			for (k = 0; k < pn; k++)
				if (strcmp(prev[k].queue, rows[i].queue) == 0) {
					for (s = 0; s < TS_COUNT; s++)
						ptot += prev[k].count[s];
					pdone = prev[k].count[TS_SUCCEEDED] +
					    prev[k].count[TS_FAILED] +
					    prev[k].count[TS_CANCELLED];
				}
			printf("%-20s %9lu %9lu %9lu %9lu %10lu %9lu %9lu",
			    rows[i].queue, rows[i].count[TS_PENDING],
			    rows[i].count[TS_QUEUED], rows[i].count[TS_SCHEDULED],
			    rows[i].count[TS_RUNNING],
			    rows[i].count[TS_SUCCEEDED], rows[i].count[TS_FAILED],
			    rows[i].count[TS_CANCELLED]);
			if (pn > 0 && dt > 0 && tot >= ptot && done >= pdone)
				printf(" %8.0f %8.0f\n", (double)(tot - ptot) / dt,
				    (double)(done - pdone) / dt);
			else
				printf(" %8s %8s\n", "-", "-");
		}
		printf("\n");
		if ((j = control_query(path, why, sizeof(why))) != NULL) {
			printf("%-10s %7s %-9s %-36s %5s %7s %8s\n", "POOL",
			    "PID", "STATE", "TASK", "PROG", "HB_AGE", "RESTARTS");
			json_array_foreach(json_object_get(j, "workers"), wi, w) {
				json_t *t = json_object_get(w, "task");

				printf("%-10s %7lld %-9s %-36s %4lld%% %5lldms "
				    "%8lld\n",
				    json_string_value(json_object_get(w, "pool")),
				    (long long)json_integer_value(
				    json_object_get(w, "pid")),
				    json_string_value(json_object_get(w, "state")),
				    json_is_string(t) ? json_string_value(t) : "-",
				    (long long)json_integer_value(
				    json_object_get(w, "progress")),
				    (long long)json_integer_value(
				    json_object_get(w, "heartbeat_age_ms")),
				    (long long)json_integer_value(
				    json_object_get(w, "restarts")));
			}
			json_decref(j);
		} else
			printf("workers: %s\n", why);
		printf("\nlatest failures:\n");
		if ((nf = store_failed(c.store, NULL, 5, &fids)) > 0) {
			for (i = 0; i < nf; i++)
				if (store_get(c.store, &fids[i], &tr) == 1) {
					uuid_fmt(&tr.id, idtxt);
					printf("  %s %-12s %-16s %.60s\n", idtxt,
					    tr.queue, tr.name, tr.error ?
					    tr.error : "");
					task_row_release(&tr);
				}
		} else
			printf("  none\n");
		free(fids);
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

static void
usage_workers(FILE *fp)
{
	fprintf(fp,
"usage: tq workers [--json] [--control PATH]\n"
"\n"
"Lists the workers of the supervisor behind the control socket (default\n"
"from control_socket / TQ_CONTROL_SOCKET): node, pool, pid, state, current\n"
"task, last heartbeat age, restarts, RSS.\n");
}

static int
cmd_workers(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "control", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = cfg.control_socket;
	json_t *j, *ws, *w, *pools, *p;
	char why[512];
	size_t i;
	int ch, json = 0;

	while ((ch = getopt_long(argc, argv, "+jC:h", opts, NULL)) != -1)
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'C':
			path = optarg;
			break;
		case 'h':
			usage_workers(stdout);
			return 0;
		default:
			usage_workers(stderr);
			return EXIT_USAGE;
		}
	if (optind != argc) {
		usage_workers(stderr);
		return EXIT_USAGE;
	}
	if ((j = control_query(path, why, sizeof(why))) == NULL)
		die(EXIT_TEMP, "%s", why);
	if (json) {
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else {
		pools = json_object_get(j, "pools");
		json_array_foreach(pools, i, p)
			printf("pool %s: queue %s, %d workers%s, %lld restarts, "
			    "%lld hang kills\n",
			    json_string_value(json_object_get(p, "name")),
			    json_string_value(json_object_get(p, "queue")),
			    (int)json_integer_value(json_object_get(p,
			    "workers")),
			    json_is_true(json_object_get(p, "failing")) ?
			    " (FAILING: restarts paused)" : "",
			    (long long)json_integer_value(json_object_get(p,
			    "restarts")),
			    (long long)json_integer_value(json_object_get(p,
			    "hang_kills")));
		printf("%-12s %-10s %7s %-9s %-36s %5s %8s %8s %8s\n", "NODE",
		    "POOL", "PID", "STATE", "TASK", "PROG", "HB_AGE", "RESTARTS",
		    "RSS_KB");
		ws = json_object_get(j, "workers");
		json_array_foreach(ws, i, w) {
			json_t *t = json_object_get(w, "task");
			long long age = json_integer_value(json_object_get(w,
			    "heartbeat_age_ms"));
			char agebuf[32];

			if (age < 0)
				snprintf(agebuf, sizeof(agebuf), "-");
			else
				snprintf(agebuf, sizeof(agebuf), "%lldms", age);
			printf("%-12s %-10s %7lld %-9s %-36s %4lld%% %8s %8lld "
			    "%8lld\n",
			    json_string_value(json_object_get(w, "node")),
			    json_string_value(json_object_get(w, "pool")),
			    (long long)json_integer_value(json_object_get(w,
			    "pid")),
			    json_string_value(json_object_get(w, "state")),
			    json_is_string(t) ? json_string_value(t) : "-",
			    (long long)json_integer_value(json_object_get(w,
			    "progress")), agebuf,
			    (long long)json_integer_value(json_object_get(w,
			    "restarts")),
			    (long long)json_integer_value(json_object_get(w,
			    "rss_kb")));
		}
	}
	json_decref(j);
	return 0;
}

static void
usage_config(FILE *fp)
{
	fprintf(fp, "usage: tq config\n\nPrints every setting, its value "
	    "(passwords redacted) and what it means.\n");
}

static int
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
	{ "doctor", cmd_doctor },
	{ "top", cmd_top },
	{ "config", cmd_config },
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
