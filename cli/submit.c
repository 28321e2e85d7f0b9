/* tq submit: one task, or one per line of a file, made durable and then
 * published. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "config.h"
#include "task.h"
#include "util.h"
#include "uuid.h"

#include "cli.h"

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
"  -L, --limit-key KEY    run under the limit of KEY (tq limit set), e.g.\n"
"                         customer:42 (a limit customer:* gives each its own)\n"
"  -f, --payload-file F   read the payload from F\n"
"      --from FILE        one task per line of FILE\n"
"  -h, --help             this text\n");
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

/* What tq submit was asked: the task every payload becomes, where the
 * payloads come from, and which settings a flag gave (the others come from
 * the queue's [queue NAME] section). */
struct submit_args {
	struct task_new	 proto;
	struct uuid	 after[64];
	const char	*queue;
	const char	*from;		/* --from: one task per line */
	const char	*pfile;		/* --payload-file */
	int		 given_m, given_b, given_t, given_p;
};

/* --backoff B[,C]: base and cap; a base alone raises the cap to it. */
static void
parse_backoff(char *v, struct task_new *p)
{
	char *comma;

	if ((comma = strchr(v, ',')) != NULL) {
		*comma = '\0';
		p->backoff_cap_ms = (unsigned)secs_to_ms("--backoff", comma + 1);
	}
	p->backoff_base_ms = (unsigned)secs_to_ms("--backoff", v);
	if (comma == NULL && p->backoff_cap_ms < p->backoff_base_ms)
		p->backoff_cap_ms = p->backoff_base_ms;
	if (p->backoff_cap_ms < p->backoff_base_ms)
		die(EXIT_USAGE, "--backoff: cap below base");
}

/* --after ID[,ID]: the parents, added to those of earlier --after flags. */
static void
parse_after(char *v, struct submit_args *a)
{
	char *p;

	for (p = strtok(v, ","); p; p = strtok(NULL, ",")) {
		if (a->proto.nafter == 64)
			die(EXIT_USAGE, "--after: at most 64");
		parse_id(p, &a->after[a->proto.nafter++]);
	}
	a->proto.after = a->after;
}

/* The flags, over the configured defaults. Returns -1 to go on, or the
 * exit status of --help (0) or of a usage error. */
static int
submit_options(int argc, char **argv, struct submit_args *a)
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
		{ "limit-key", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct task_new *p = &a->proto;
	int ch;

	memset(a, 0, sizeof(*a));
	a->queue = cfg.queue;
	p->max_attempts = (unsigned)cfg.max_attempts;
	p->backoff_base_ms = (unsigned)cfg.backoff_base_ms;
	p->backoff_cap_ms = (unsigned)cfg.backoff_cap_ms;
	while ((ch = getopt_long(argc, argv, "+q:m:b:d:f:t:p:k:A:L:h", opts,
	    NULL)) != -1)
		switch (ch) {
		case 'q':
			a->queue = optarg;
			break;
		case 'm':
			p->max_attempts = (unsigned)num_arg("--max-attempts",
			    optarg, 1, 1000);
			a->given_m = 1;
			break;
		case 'b':
			a->given_b = 1;
			parse_backoff(optarg, p);
			break;
		case 'd':
			p->delay_ms = secs_to_ms("--delay", optarg);
			break;
		case 'f':
			a->pfile = optarg;
			break;
		case 'F':
			a->from = optarg;
			break;
		case 'a':
			p->delay_ms = at_to_delay(optarg);
			break;
		case 't':
			p->timeout_ms = (unsigned)secs_to_ms("--timeout", optarg);
			if (p->timeout_ms == 0)
				die(EXIT_USAGE, "--timeout: must be positive");
			a->given_t = 1;
			break;
		case 'p':
			p->priority = (unsigned)num_arg("--priority", optarg, 0,
			    9);
			a->given_p = 1;
			break;
		case 'k':
			if (*optarg == '\0' || strlen(optarg) > 255)
				die(EXIT_USAGE, "--key: 1 to 255 bytes");
			p->unique_key = optarg;
			break;
		case 'A':
			parse_after(optarg, a);
			break;
		case 'L':
			if (!task_name_ok(optarg, TASK_LIMIT_KEY_MAX))
				die(EXIT_USAGE, "--limit-key: bad key \"%s\" "
				    "(1-255 of A-Z a-z 0-9 . _ : -)", optarg);
			p->limit_key = optarg;
			break;
		case 'h':
			usage_submit(stdout);
			return 0;
		default:
			usage_submit(stderr);
			return EXIT_USAGE;
		}
	return -1;
}

/* The operands (NAME [PAYLOAD | -]) against the flags, and the names.
 * Returns -1 on a usage error; dies on a bad name. */
static int
submit_check(struct submit_args *a, int argc, char **argv)
{
	struct task_new *p = &a->proto;

	if (argc < 1 || argc > 2 || (a->from && (argc != 1 || a->pfile ||
	    p->unique_key || p->nafter)) || (a->pfile && argc != 1))
		return -1;
	if (!task_name_ok(argv[0], TASK_NAME_MAX))
		die(EXIT_USAGE, "bad task name \"%s\" (1-255 of A-Z a-z 0-9 "
		    ". _ : -)", argv[0]);
	if (!task_name_ok(a->queue, TASK_QUEUE_MAX))
		die(EXIT_USAGE, "bad queue name \"%s\" (1-64 of A-Z a-z 0-9 "
		    ". _ : -)", a->queue);
	p->queue = a->queue;
	p->name = argv[0];
	return 0;
}

/* The queue's [queue NAME] defaults, where no flag said otherwise. */
static void
submit_queue_defaults(struct submit_args *a)
{
	unsigned qm, qb, qc, qt, qp;

	config_queue(&cfg, a->queue, &qm, &qb, &qc, &qt, &qp);
	if (!a->given_m)
		a->proto.max_attempts = qm;
	if (!a->given_b) {
		a->proto.backoff_base_ms = qb;
		a->proto.backoff_cap_ms = qc;
	}
	if (!a->given_t)
		a->proto.timeout_ms = qt;
	if (!a->given_p)
		a->proto.priority = qp;
}

/* One task: its payload from --payload-file, stdin ('-'), the operand
 * (arg) or nothing. */
static void
submit_one(struct client *c, struct task_new *proto, const char *pfile,
    const char *arg)
{
	struct buf payload = BUF_INIT;

	if (pfile || (arg != NULL && strcmp(arg, "-") == 0)) {
		if (read_file(pfile ? pfile : "-", (size_t)cfg.payload_max,
		    &payload) == -1) {
			if (errno == EFBIG)
				die(EXIT_PERM, "payload exceeds payload_max "
				    "(%lld bytes); nothing was submitted",
				    cfg.payload_max);
			die(EXIT_PERM, "%s: %s", pfile ? pfile : "stdin",
			    strerror(errno));
		}
	} else if (arg != NULL && buf_append(&payload, arg, strlen(arg)) == -1)
		die(EXIT_TEMP, "out of memory");
	check_payload(payload.len);
	proto->payload = payload.data ? payload.data : "";
	proto->len = payload.len;
	need_store(c);
	submit_batch(c, proto, 1);
	buf_release(&payload);
}

/* --from: one task per line of lines, each a copy of proto; every line is
 * checked before anything is submitted. */
static struct task_new *
tasks_of_lines(const struct buf *lines, const struct task_new *proto,
    size_t *np)
{
	struct task_new *t;
	size_t n = 0, cap = 1024;
	char *p, *nl;

	if ((t = calloc(cap, sizeof(*t))) == NULL)
		die(EXIT_TEMP, "out of memory");
	for (p = lines->data; p && p < lines->data + lines->len; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(lines->data + lines->len -
		    p))) == NULL)
			nl = lines->data + lines->len;
		check_payload((size_t)(nl - p));
		if (n == cap) {
			struct task_new *nt;

			cap *= 2;
			if ((nt = reallocarray(t, cap, sizeof(*t))) == NULL)
				die(EXIT_TEMP, "out of memory");
			t = nt;
		}
		t[n] = *proto;
		t[n].payload = p;
		t[n].len = (size_t)(nl - p);
		n++;
	}
	*np = n;
	return t;
}

/* Bulk: the whole input is read and checked first, so a bad line leaves
 * nothing half-submitted. */
static void
submit_from(struct client *c, const struct task_new *proto, const char *from)
{
	struct buf lines = BUF_INIT;
	struct task_new *t;
	size_t n;

	if (read_file(from, (size_t)1 << 31, &lines) == -1)
		die(EXIT_PERM, "%s: %s", from, strerror(errno));
	t = tasks_of_lines(&lines, proto, &n);
	need_store(c);
	submit_bulk(c, t, n);
	free(t);
	buf_release(&lines);
}

int
cmd_submit(int argc, char **argv)
{
	struct submit_args a;
	struct client c;
	int r;

	if ((r = submit_options(argc, argv, &a)) != -1)
		return r;
	argc -= optind;
	argv += optind;
	if (submit_check(&a, argc, argv) == -1) {
		usage_submit(stderr);
		return EXIT_USAGE;
	}
	submit_queue_defaults(&a);
	open_client(&c);
	if (a.from == NULL)
		submit_one(&c, &a.proto, a.pfile, argc == 2 ? argv[1] : NULL);
	else
		submit_from(&c, &a.proto, a.from);
	client_close(&c);
	return 0;
}
