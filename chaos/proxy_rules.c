/*
 * proxy_rules.c: the fault rules: the control commands that switch faults
 * on and off, and what a switch does to the connections already open.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

struct fault fault;

/* Calls conn_step on every connection: after a fault changed. */
void
conns_sweep(void)
{
	struct conn *c, *next;
	int64_t now = mono_ms();

	LIST_FOREACH_SAFE(c, &conns, entry, next)
		conn_step(c, now);
}

static void
blackhole_set(int on)
{
	struct conn *c, *next;
	int64_t now = mono_ms();
	int i, n = 0;

	fault.blackhole = on;
	LIST_FOREACH_SAFE(c, &conns, entry, next) {
		if (c->state != C_OPEN && c->state != C_CONNECTING)
			continue;
		if (on && !c->blackholed) {
			c->blackholed = 1;
			for (i = 0; i < 2; i++) {
				flow_drop(&c->flow[i]);
				c->side[i].wr_blocked = 0;
			}
			n++;
		} else if (!on && c->blackholed) {
			/* Bytes were dropped: the stream is no good. */
			conn_close_clean(c, "blackhole-off", now);
			n++;
		}
	}
	logx("info", "event=fault fault=blackhole state=%s conns=%d",
	    on ? "on" : "off", n);
}

static void
conns_reset(void)
{
	struct conn *c, *next;

	LIST_FOREACH_SAFE(c, &conns, entry, next)
		conn_kill(c, 1, "reason=reset");
}

static int
parse_onoff(const char *s, int *on)
{
	if (strcmp(s, "on") == 0)
		*on = 1;
	else if (strcmp(s, "off") == 0)
		*on = 0;
	else
		return -1;
	return 0;
}

static int
parse_arg(const char *cmd, const char *what, const char *s, long long max,
    long long *out, char *ans, size_t sz)
{
	const char *errstr;
	long long v;

	v = strtonum(s, 0, max, &errstr);
	if (errstr != NULL) {
		(void)snprintf(ans, sz, "error: %s: %s \"%.64s\" is %s", cmd,
		    what, s, errstr);
		return -1;
	}
	*out = v;
	return 0;
}

static void
fault_latency(int argc, char *argv[], char *ans, size_t sz)
{
	long long a, b;

	if (argc < 2 || argc > 3) {
		(void)snprintf(ans, sz, "error: usage: latency MS [JITTER_MS]");
		return;
	}
	b = 0;
	if (parse_arg(argv[0], "MS", argv[1], MAX_MS, &a, ans, sz) == -1 ||
	    (argc == 3 && parse_arg(argv[0], "JITTER_MS", argv[2], MAX_MS, &b,
	    ans, sz) == -1))
		return;
	fault.latency = a;
	fault.jitter = b;
	logx("info", "event=fault fault=latency ms=%lld jitter_ms=%lld", a, b);
}

static void
fault_bandwidth(int argc, char *argv[], char *ans, size_t sz)
{
	long long a;

	if (argc != 2) {
		(void)snprintf(ans, sz,
		    "error: usage: bandwidth BYTES_PER_SEC");
		return;
	}
	if (parse_arg(argv[0], "BYTES_PER_SEC", argv[1], MAX_RATE, &a, ans,
	    sz) == -1)
		return;
	fault.bandwidth = a;
	logx("info", "event=fault fault=bandwidth bytes_per_sec=%lld", a);
}

/* blackhole on|off, refuse on|off. */
static void
fault_onoff(int argc, char *argv[], char *ans, size_t sz)
{
	int on;

	if (argc != 2 || parse_onoff(argv[1], &on) == -1) {
		(void)snprintf(ans, sz, "error: usage: %s on|off", argv[0]);
		return;
	}
	if (argv[0][0] == 'b')
		blackhole_set(on);
	else {
		fault.refuse = on;
		logx("info", "event=fault fault=refuse state=%s",
		    on ? "on" : "off");
	}
}

static void
fault_reset(int argc, char *argv[], char *ans, size_t sz)
{
	if (argc != 1) {
		(void)snprintf(ans, sz, "error: usage: reset");
		return;
	}
	logx("info", "event=fault fault=reset conns=%u", stats.conns);
	conns_reset();
}

/* reset-after BYTES, close-after BYTES. */
static void
fault_after(int argc, char *argv[], char *ans, size_t sz)
{
	long long a;

	if (argc != 2) {
		(void)snprintf(ans, sz, "error: usage: %s BYTES", argv[0]);
		return;
	}
	if (parse_arg(argv[0], "BYTES", argv[1], LLONG_MAX, &a, ans, sz) == -1)
		return;
	if (argv[0][0] == 'r')
		fault.reset_after = a;
	else
		fault.close_after = a;
	logx("info", "event=fault fault=%s bytes=%lld", argv[0], a);
}

static void
fault_slice(int argc, char *argv[], char *ans, size_t sz)
{
	long long a, b;

	if (argc < 2 || argc > 3) {
		(void)snprintf(ans, sz, "error: usage: slice BYTES [DELAY_MS]");
		return;
	}
	b = 0;
	if (parse_arg(argv[0], "BYTES", argv[1], MAX_SLICE, &a, ans, sz) ==
	    -1 || (argc == 3 && parse_arg(argv[0], "DELAY_MS", argv[2], MAX_MS,
	    &b, ans, sz) == -1))
		return;
	fault.slice = a;
	fault.slice_delay = b;
	logx("info", "event=fault fault=slice bytes=%lld delay_ms=%lld", a, b);
}

static void
fault_clear(int argc, char *argv[], char *ans, size_t sz)
{
	if (argc != 1) {
		(void)snprintf(ans, sz, "error: usage: clear");
		return;
	}
	fault.latency = fault.jitter = fault.bandwidth = 0;
	fault.slice = fault.slice_delay = 0;
	fault.reset_after = fault.close_after = 0;
	fault.refuse = 0;
	logx("info", "event=fault fault=clear");
	if (fault.blackhole)
		blackhole_set(0);
}

static void
fault_status(int argc, char *argv[], char *ans, size_t sz)
{
	(void)snprintf(ans, sz, "ok conns=%u accepted=%llu "
	    "bytes_up=%llu bytes_down=%llu latency=%lld jitter=%lld "
	    "bandwidth=%lld blackhole=%s slice=%lld slice_delay=%lld "
	    "reset_after=%lld close_after=%lld refuse=%s", stats.conns,
	    (unsigned long long)stats.accepted,
	    (unsigned long long)stats.bytes_up,
	    (unsigned long long)stats.bytes_down, fault.latency,
	    fault.jitter, fault.bandwidth,
	    fault.blackhole ? "on" : "off",
	    fault.slice, fault.slice_delay, fault.reset_after,
	    fault.close_after, fault.refuse ? "on" : "off");
}

static void
fault_help(int argc, char *argv[], char *ans, size_t sz)
{
	(void)snprintf(ans, sz, "ok commands: latency MS [JITTER_MS], "
	    "bandwidth BYTES_PER_SEC, blackhole on|off, reset, "
	    "reset-after BYTES, close-after BYTES, "
	    "slice BYTES [DELAY_MS], refuse on|off, clear, status");
}

/*
 * The commands. Each checks its arguments, acts and logs; the answer is
 * "ok" unless it says otherwise. sweep: a success moves every open
 * connection on at once (conns_sweep), as a fault may have changed.
 */
static const struct {
	const char	*name;
	void		(*run)(int, char *[], char *, size_t);
	int		 sweep;
} commands[] = {
	{ "latency",	 fault_latency,		1 },
	{ "bandwidth",	 fault_bandwidth,	1 },
	{ "blackhole",	 fault_onoff,		1 },
	{ "refuse",	 fault_onoff,		1 },
	{ "reset",	 fault_reset,		1 },
	{ "reset-after", fault_after,		1 },
	{ "close-after", fault_after,		1 },
	{ "slice",	 fault_slice,		1 },
	{ "clear",	 fault_clear,		1 },
	{ "status",	 fault_status,		0 },
	{ "help",	 fault_help,		0 },
};

/* Splits line into at most 4 words; their count, or -1 with an answer. */
static int
ctl_split(char *line, char *argv[5], char *ans, size_t sz)
{
	char *p, *tok;
	int argc = 0;

	p = line;
	while ((tok = strsep(&p, " \t")) != NULL) {
		if (*tok == '\0')
			continue;
		if (argc == 4) {
			(void)snprintf(ans, sz, "error: too many arguments");
			return -1;
		}
		argv[argc++] = tok;
	}
	argv[argc] = NULL;
	return argc;
}

/* Runs one control command; the answer goes to ans, without newline. */
void
ctl_command(char *line, char *ans, size_t sz)
{
	char *argv[5];
	size_t i;
	int argc;

	if ((argc = ctl_split(line, argv, ans, sz)) == -1)
		return;
	if (argc == 0) {
		(void)snprintf(ans, sz, "error: empty command");
		return;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		(void)snprintf(ans, sz, "error: unknown command \"%.64s\"",
		    argv[0]);
		return;
	}
	(void)snprintf(ans, sz, "ok");
	commands[i].run(argc, argv, ans, sz);
	if (commands[i].sweep && strncmp(ans, "ok", 2) == 0)
		conns_sweep();
}
