/* handlers.c: built-in handlers for tests, demos and chaos. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "worker.h"

static int
payload_ms(struct hctx *h, long long *ms)
{
	char buf[32];
	const char *errstr;

	if (h->len == 0 || h->len >= sizeof(buf)) {
		snprintf(h->error, sizeof(h->error), "payload must be a "
		    "number of milliseconds");
		return -1;
	}
	memcpy(buf, h->payload, h->len);
	buf[h->len] = '\0';
	if (parse_num(buf, 0, 86400000LL * 7, ms, &errstr) == -1) {
		snprintf(h->error, sizeof(h->error), "payload \"%s\" is %s: "
		    "want milliseconds", buf, errstr);
		return -1;
	}
	return 0;
}

static int
h_echo(struct hctx *h)
{
	if (buf_append(h->result, h->payload, h->len) == -1) {
		snprintf(h->error, sizeof(h->error), "out of memory");
		return -1;
	}
	return 0;
}

/* Sleeps in small steps so that a cancel is seen. */
static int
nap(struct hctx *h, long long ms)
{
	int64_t end = now_ms() + ms, left;

	while ((left = end - now_ms()) > 0) {
		if (*h->cancel) {
			snprintf(h->error, sizeof(h->error), "cancelled");
			return -1;
		}
		sleep_ms(left < 20 ? left : 20);
	}
	return 0;
}

static int
h_sleep(struct hctx *h)
{
	long long ms;

	if (payload_ms(h, &ms) == -1 || nap(h, ms) == -1)
		return -1;
	return buf_printf(h->result, "slept %lld ms", ms) == -1 ? -1 : 0;
}

static int
h_fail(struct hctx *h)
{
	snprintf(h->error, sizeof(h->error), "%.*s", (int)(h->len > 1000 ?
	    1000 : h->len), (const char *)h->payload);
	if (h->error[0] == '\0')
		snprintf(h->error, sizeof(h->error), "failed on purpose");
	return -1;
}

static int
h_crash(struct hctx *h)
{
	(void)h;
	abort();
}

static int
h_hang(struct hctx *h)
{
	(void)h;
	/* Never returns, and ignores the cancel flag on purpose. */
	for (;;)
		sleep(3600);
	return -1;
}

static int
h_progress(struct hctx *h)
{
	long long ms;
	unsigned pct;
	char msg[32];

	if (payload_ms(h, &ms) == -1)
		return -1;
	for (pct = 0; pct <= 100; pct += 10) {
		snprintf(msg, sizeof(msg), "step %u of 10", pct / 10);
		h->progress(h, pct, msg);
		if (pct < 100 && nap(h, ms / 10) == -1)
			return -1;
	}
	return buf_printf(h->result, "done in %lld ms", ms) == -1 ? -1 : 0;
}

/* For chaos runs: payload "MS NONCE"; sleeps MS, then returns the digest
 * of the whole payload, so a checker can tell a corrupt result. */
static int
h_chaos(struct hctx *h)
{
	char buf[32];
	const char *errstr;
	long long ms;
	size_t n;

	for (n = 0; n < h->len && n < sizeof(buf) - 1 &&
	    ((const char *)h->payload)[n] != ' '; n++)
		buf[n] = ((const char *)h->payload)[n];
	buf[n] = '\0';
	if (parse_num(buf, 0, 3600000, &ms, &errstr) == -1) {
		snprintf(h->error, sizeof(h->error), "payload must be \"MS "
		    "NONCE\"");
		return -1;
	}
	if (nap(h, ms) == -1)
		return -1;
	return buf_printf(h->result, "%016llx",
	    (unsigned long long)fnv64(h->payload, h->len)) == -1 ? -1 : 0;
}

static const struct {
	const char	*name;
	handler_fn	 fn;
} builtins[] = {
	{ "tq.chaos", h_chaos },
	{ "tq.echo", h_echo },
	{ "tq.sleep", h_sleep },
	{ "tq.fail", h_fail },
	{ "tq.crash", h_crash },
	{ "tq.hang", h_hang },
	{ "tq.progress", h_progress },
	{ NULL, NULL },
};

handler_fn
handler_find(const char *name)
{
	int i;

	for (i = 0; builtins[i].name; i++)
		if (strcmp(builtins[i].name, name) == 0)
			return builtins[i].fn;
	return NULL;
}
