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

int
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
