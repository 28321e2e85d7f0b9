/*
 * served.c: a served handler for the tests (tests/integration/t_serve.sh,
 * chaos/scenarios/served-kill.sh, rough throughput runs). It speaks the
 * protocol of docs/serve-protocol.md with the codec of the worker, and
 * does what the payload says:
 *
 *   pid            the result is its pid (one child serves many tasks)
 *   env            the names of its environment variables
 *   progress       PROGRESS 30 and 60 over 1.2 s, then OK "done"
 *   fail MSG       ERROR MSG
 *   crash1         on attempt 1 it aborts (SIGABRT); later, OK its pid
 *   exit1          on attempt 1 it exits 3; later, OK its pid
 *   hang           sleeps until killed
 *   noise          writes on stdout and stderr (a fake frame too), OK "clean"
 *   garbage        writes text on fd 4: a protocol error
 *   wrongid        OK for another task id: a protocol error
 *   big N          a result of N bytes
 *   rss MB         touches MB megabytes, keeps them, OK its pid
 *   MS NONCE       (a number first) sleeps MS, OK the digest tq.chaos gives
 *   anything else  OK the payload (an echo)
 *
 * TQ_SERVED_BAD_READY=1: sends a READY of version 9 (a start that fails).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "serve_frame.h"
#include "util.h"

extern char **environ;

static struct buf in = BUF_INIT;

static void
put(struct buf *f)
{
	size_t off = 0;
	ssize_t r;

	while (off < f->len) {
		r = write(4, f->data + off, f->len - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			exit(1);
		off += (size_t)r;
	}
	buf_reset(f);
}

static void
reply(int type, const char *id, unsigned pct, const char *data, size_t len)
{
	struct buf f = BUF_INIT;

	if (sf_encode_reply(&f, type, id, pct, data, len) == -1)
		exit(1);
	put(&f);
	buf_release(&f);
}

/* The next frame from fd 3; exits 0 at EOF. */
static void
next(struct sf_msg *m)
{
	char chunk[65536], err[256];
	size_t used;
	ssize_t r;
	int k;

	for (;;) {
		if (in.len > 0 && (k = sf_parse(in.data, in.len, m, &used, err,
		    sizeof(err))) != 0) {
			if (k == -1) {
				fprintf(stderr, "served: bad frame: %s\n", err);
				exit(1);
			}
			return;
		}
		r = read(3, chunk, sizeof(chunk));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			exit(0);
		if (buf_append(&in, chunk, (size_t)r) == -1)
			exit(1);
	}
}

static void
drop(size_t n)
{
	memmove(in.data, in.data + n, in.len - n);
	in.len -= n;
}

static void
ok_pid(const char *id)
{
	char b[32];

	snprintf(b, sizeof(b), "%d", (int)getpid());
	reply(SF_OK, id, 0, b, strlen(b));
}

static void
task(const struct sf_msg *m)
{
	char p[256], out[64];
	struct buf r = BUF_INIT;
	long long n;
	size_t i;
	char **e;

	snprintf(p, sizeof(p), "%.*s", (int)m->len, m->data);
	if (strcmp(p, "pid") == 0) {
		ok_pid(m->id);
	} else if (strcmp(p, "env") == 0) {
		for (e = environ; *e != NULL; e++)
			if (strncmp(*e, "LC_", 3) != 0)
				(void)buf_printf(&r, "%s%.*s", r.len ? " " : "",
				    (int)strcspn(*e, "="), *e);
		reply(SF_OK, m->id, 0, r.data, r.len);
	} else if (strcmp(p, "progress") == 0) {
		reply(SF_PROGRESS, m->id, 30, "reading", 7);
		sleep_ms(600);
		reply(SF_PROGRESS, m->id, 60, "shouting", 8);
		sleep_ms(600);
		reply(SF_OK, m->id, 0, "done", 4);
	} else if (strncmp(p, "fail ", 5) == 0) {
		reply(SF_ERROR, m->id, 0, p + 5, strlen(p + 5));
	} else if (strcmp(p, "crash1") == 0 || strcmp(p, "exit1") == 0) {
		if (m->attempt == 1) {
			fprintf(stderr, "served: going down on attempt 1\n");
			if (p[0] == 'c')
				abort();
			exit(3);
		}
		ok_pid(m->id);
	} else if (strcmp(p, "hang") == 0) {
		for (;;)
			pause();
	} else if (strcmp(p, "noise") == 0) {
		printf("noise on stdout\n");
		fflush(stdout);
		/* Bytes that look like a frame, on the wrong descriptor. */
		(void)!write(1, "\x29\x00\x00\x00O", 5);
		fprintf(stderr, "noise on stderr\n");
		reply(SF_OK, m->id, 0, "clean", 5);
	} else if (strcmp(p, "garbage") == 0) {
		(void)!write(4, "hello, world\n", 13);
		pause();
	} else if (strcmp(p, "wrongid") == 0) {
		reply(SF_OK, "00000000-0000-7000-8000-000000000000", 0, "x", 1);
		pause();
	} else if (sscanf(p, "big %lld", &n) == 1 && n >= 0) {
		if (buf_reserve(&r, (size_t)n) == -1)
			exit(1);
		memset(r.data, 'b', (size_t)n);
		r.len = (size_t)n;
		reply(SF_OK, m->id, 0, r.data, r.len);
	} else if (sscanf(p, "rss %lld", &n) == 1 && n > 0) {
		char *mem = malloc((size_t)n << 20);

		if (mem == NULL)
			exit(1);
		for (i = 0; i < (size_t)n << 20; i += 4096)
			mem[i] = 1;
		/* kept: that is the point */
		ok_pid(m->id);
	} else if (p[0] >= '0' && p[0] <= '9' && sscanf(p, "%lld", &n) == 1) {
		sleep_ms(n);
		snprintf(out, sizeof(out), "%016llx",
		    (unsigned long long)fnv64(m->data, m->len));
		reply(SF_OK, m->id, 0, out, strlen(out));
	} else {
		reply(SF_OK, m->id, 0, m->data, m->len);
	}
	buf_release(&r);
}

int
main(void)
{
	const char *bad = getenv("TQ_SERVED_BAD_READY");
	struct sf_msg m;
	size_t total;
	int type;
	char err[64];

	if (bad != NULL && strcmp(bad, "1") == 0) {
		/* len 9: type, version 9, "bad" */
		(void)!write(4, "\x08\x00\x00\x00R\x09\x00\x00\x00" "bad", 12);
		pause();
	}
	reply(SF_READY, NULL, 0, "tq test handler", 15);
	for (;;) {
		next(&m);
		/* The frame's bytes stay valid until it is dropped. */
		if (sf_header(in.data, in.len, &type, &total, err,
		    sizeof(err)) != 1)
			return 1;
		if (m.type == SF_TASK)
			task(&m);
		/* CANCEL while idle: nothing to stop. */
		drop(total);
	}
}
