/* tq show, wait and result: one task as text or JSON, waiting for tasks to
 * end, a task's raw result. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "client.h"
#include "history.h"
#include "store.h"
#include "task.h"
#include "util.h"
#include "uuid.h"

#include "cli.h"

/* ---- show ---- */

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

json_t *
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

int
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

int
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

/* ---- result ---- */

static void
usage_result(FILE *fp)
{
	fprintf(fp, "usage: tq result ID\n\nWrites the task's raw result to "
	    "stdout. Exits 1 if the task has not succeeded.\n");
}

int
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
