/*
 * proxy.c: tq-proxy, a fault-injecting TCP proxy for the chaos toolkit.
 *
 * One process, one thread, one level-triggered epoll loop, timers on the
 * monotonic clock. Every accepted connection is joined to a fresh
 * non-blocking connection to the upstream. Bytes read from one side become
 * timestamped chunks on that direction's queue and are written to the
 * other side when due, so latency keeps the order of a stream; bandwidth,
 * slicing and the byte limits act where the queue is written out.
 *
 * Faults are switched at run time over a Unix control socket: one command
 * a line, one answer a line ("ok ..." or "error: ..."). See usage().
 *
 * Bounds: at most MAX_CONNS connections (fewer if the fd limit says so;
 * the rest are reset), at most MAX_QUEUED bytes queued per direction and
 * MAX_TOTAL in all, past which reading from that side pauses.
 *
 * This file: main, the event loop, the listener, signals and timers. The
 * relay, the fault rules and the control interface have a file each.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netdb.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy.h"

static const char *control_path;
static unsigned max_conns = MAX_CONNS;
static int quit;
static int over_total;		/* reading paused by MAX_TOTAL */
static int64_t accept_resume;	/* NEVER unless accepting is paused */
static struct listener lsn = { { K_LISTEN }, -1 };
static struct listener sigs = { { K_SIGNAL }, -1 };

static void
usage(FILE *fp)
{
	(void)fprintf(fp,
"usage: tq-proxy --listen HOST:PORT --upstream HOST:PORT --control PATH\n"
"                [--name NAME]\n"
"\n"
"Proxies every connection to the upstream and injects faults switched at\n"
"run time over the control socket PATH (mode 0600): one command a line,\n"
"one answer a line, \"ok ...\" or \"error: ...\".\n"
"\n"
"  latency MS [JITTER_MS]   delay each chunk MS +- JITTER_MS, both ways\n"
"  bandwidth BYTES_PER_SEC  cap each direction of each connection (0 off)\n"
"  blackhole on|off         forward nothing; off closes those connections\n"
"  reset                    reset every current connection, both sides\n"
"  reset-after BYTES        reset a connection after BYTES passed (0 off)\n"
"  close-after BYTES        close a connection after BYTES passed (0 off)\n"
"  slice BYTES [DELAY_MS]   forward in segments of at most BYTES (0 off)\n"
"  refuse on|off            reset new connections at once\n"
"  clear                    all faults off\n"
"  status                   counters and faults in one line\n"
"\n"
"Exit: 0 ok, 2 usage, 100 bad arguments, 111 cannot bind or listen.\n");
}

/* "HOST:PORT" or "[V6HOST]:PORT"; 0 or -1 with a message logged. */
static int
parse_addr(const char *what, const char *spec, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct addrinfo hints, *res;
	char host[256], port[16];
	const char *colon, *errstr, *h;
	size_t hl;
	int r;

	if ((colon = strrchr(spec, ':')) == NULL || colon == spec) {
		logx("error", "bad %s \"%s\": want HOST:PORT", what, spec);
		return -1;
	}
	h = spec;
	hl = (size_t)(colon - spec);
	if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host) ||
	    strlen(colon + 1) >= sizeof(port)) {
		logx("error", "bad %s \"%s\": want HOST:PORT", what, spec);
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	(void)strlcpy(port, colon + 1, sizeof(port));
	(void)strtonum(port, 1, 65535, &errstr);
	if (errstr != NULL) {
		logx("error", "bad %s \"%s\": port is %s", what, spec, errstr);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		logx("error", "bad %s \"%s\": %s", what, spec, gai_strerror(r));
		return -1;
	}
	if (res->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(res);
		logx("error", "bad %s \"%s\": address too long", what, spec);
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void
accept_pause(int64_t now)
{
	if (epoll_ctl(epfd, EPOLL_CTL_DEL, lsn.fd, NULL) == -1)
		logx("warn", "event=error op=epoll_ctl fd=%d err=%s", lsn.fd,
		    errname(errno));
	accept_resume = now + ACCEPT_PAUSE_MS;
}

static void
accept_conns(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char pbuf[INET6_ADDRSTRLEN + 8];
	int i, fd;

	for (i = 0; i < ACCEPT_BUDGET; i++) {
		len = sizeof(ss);
		if ((fd = accept4(lsn.fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EPROTO || errno == EPERM)
				continue;
			logx("warn", "event=error op=accept err=%s pause_ms=%d",
			    errname(errno), ACCEPT_PAUSE_MS);
			accept_pause(mono_ms());
			return;
		}
		stats.accepted++;
		if (fault.refuse || stats.conns >= max_conns) {
			addr_str(&ss, pbuf, sizeof(pbuf));
			logx("info", "event=reject peer=%s reason=%s", pbuf,
			    fault.refuse ? "refuse" : "max-conns");
			rst_close(fd);
			continue;
		}
		conn_new(fd, &ss);
	}
}

static void
signal_event(void)
{
	struct signalfd_siginfo si;
	ssize_t n;

	while ((n = read(sigs.fd, &si, sizeof(si))) == (ssize_t)sizeof(si)) {
		logx("info", "event=signal signal=%s", sigabbrev_np(
		    (int)si.ssi_signo) ? sigabbrev_np((int)si.ssi_signo) : "?");
		quit = 1;
	}
	if (n == -1 && errno != EAGAIN && errno != EINTR) {
		logx("error", "event=error op=read fd=signalfd err=%s",
		    errname(errno));
		quit = 1;
	}
}

static void
dispatch(struct epoll_event *ev)
{
	struct handle *h = ev->data.ptr;

	switch (h->kind) {
	case K_LISTEN:
		accept_conns();
		break;
	case K_CONTROL:
		ctl_accept();
		break;
	case K_SIGNAL:
		signal_event();
		break;
	case K_SIDE:
		side_event((struct side *)h, ev->events);
		break;
	case K_CTL:
		ctl_event((struct ctl *)h, ev->events);
		break;
	}
}

static void
run_timers(int64_t now)
{
	struct conn *c;

	while ((c = RB_MIN(timers, &timers)) != NULL && c->wake <= now) {
		RB_REMOVE(timers, &timers, c);
		c->timed = 0;
		c->wake = NEVER;
		conn_step(c, now);
	}
	if (accept_resume != NEVER && now >= accept_resume) {
		if (ep_ctl(EPOLL_CTL_ADD, lsn.fd, EPOLLIN, &lsn.h) == 0)
			accept_resume = NEVER;
		else
			accept_resume = now + ACCEPT_PAUSE_MS;
	}
}

static int
next_timeout(int64_t now)
{
	struct conn *c;
	int64_t wake = accept_resume;

	if ((c = RB_MIN(timers, &timers)) != NULL && c->wake < wake)
		wake = c->wake;
	if (wake == NEVER)
		return -1;
	if (wake <= now)
		return 0;
	return wake - now > 60000 ? 60000 : (int)(wake - now);
}

static void
reap(void)
{
	struct conn *c;

	while ((c = LIST_FIRST(&graveyard)) != NULL) {
		LIST_REMOVE(c, entry);
		free(c);
	}
}

static int
listen_tcp(const char *spec, const struct sockaddr_storage *ss,
    socklen_t len)
{
	int fd, one = 1;

	if ((fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		logx("error", "listen %s: socket: %s", spec, strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, (const struct sockaddr *)ss, len) == -1 ||
	    listen(fd, 1024) == -1) {
		logx("error", "listen %s: %s", spec, strerror(errno));
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* Room for MAX_CONNS connections of two fds each, if the limit allows. */
static void
raise_nofile(void)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)MAX_CONNS * 2 + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		logx("warn", "event=error op=getrlimit err=%s", errname(errno));
		return;
	}
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
			logx("warn", "event=error op=setrlimit err=%s",
			    errname(errno));
			if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
				return;
		}
	}
	if (rl.rlim_cur < want)
		max_conns = rl.rlim_cur > 64 + 2 ? (unsigned)((rl.rlim_cur -
		    64) / 2) : 1;
}

static void
shutdown_all(void)
{
	struct conn *c, *cn;
	struct ctl *t, *tn;

	LIST_FOREACH_SAFE(c, &conns, entry, cn)
		conn_kill(c, 0, "reason=shutdown");
	reap();
	LIST_FOREACH_SAFE(t, &ctls, entry, tn)
		ctl_free(t);
	(void)close(lsn.fd);
	(void)close(ctlsn.fd);
	if (unlink(control_path) == -1 && errno != ENOENT)
		logx("warn", "event=error op=unlink path=%s err=%s",
		    control_path, errname(errno));
	(void)close(sigs.fd);
	(void)close(epfd);
}

/* What the command line asks for. */
struct args {
	const char	*listen_spec;
	const char	*up_spec;
	struct sockaddr_storage lsn_addr;
	socklen_t	 lsn_len;
};

/* Reads the flags; -1 when the program is to exit with *code. */
static int
args_parse(int argc, char *argv[], struct args *a, int *code)
{
	static const struct option longopts[] = {
		{ "listen",	required_argument,	NULL, 'l' },
		{ "upstream",	required_argument,	NULL, 'u' },
		{ "control",	required_argument,	NULL, 'c' },
		{ "name",	required_argument,	NULL, 'n' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "l:u:c:n:h", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'l':
			a->listen_spec = optarg;
			break;
		case 'u':
			a->up_spec = optarg;
			break;
		case 'c':
			control_path = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'h':
			usage(stdout);
			*code = 0;
			return -1;
		default:
			usage(stderr);
			*code = EXIT_USAGE;
			return -1;
		}
	}
	if (optind != argc || a->listen_spec == NULL || a->up_spec == NULL ||
	    control_path == NULL) {
		usage(stderr);
		*code = EXIT_USAGE;
		return -1;
	}
	return 0;
}

/* Checks the name and the control path, resolves both addresses. */
static int
args_check(struct args *a)
{
	struct sockaddr_un sun;
	const char *p;

	if (*name == '\0' || strlen(name) > 64) {
		logx("error", "bad --name: want 1 to 64 characters");
		return -1;
	}
	for (p = name; *p != '\0'; p++)
		if (*p <= ' ' || *p > '~' || *p == '"' || *p == '=') {
			logx("error", "bad --name \"%s\": spaces, quotes and "
			    "'=' not allowed", name);
			return -1;
		}
	if (*control_path == '\0' ||
	    strlen(control_path) >= sizeof(sun.sun_path)) {
		logx("error", "bad --control \"%s\": empty or too long",
		    control_path);
		return -1;
	}
	if (parse_addr("--listen", a->listen_spec, &a->lsn_addr,
	    &a->lsn_len) == -1 ||
	    parse_addr("--upstream", a->up_spec, &up_addr, &up_len) == -1)
		return -1;
	return 0;
}

/*
 * Signals as events, the fd limit, epoll, the two listening sockets; -1
 * when the program is to exit with *code.
 */
static int
proxy_open(const struct args *a, int *code)
{
	sigset_t mask;

	*code = 1;
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		logx("error", "signal: %s", strerror(errno));
		return -1;
	}
	if (sigemptyset(&mask) == -1 || sigaddset(&mask, SIGTERM) == -1 ||
	    sigaddset(&mask, SIGINT) == -1 ||
	    sigprocmask(SIG_BLOCK, &mask, NULL) == -1 ||
	    (sigs.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		logx("error", "signalfd: %s", strerror(errno));
		return -1;
	}
	raise_nofile();
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		logx("error", "epoll_create1: %s", strerror(errno));
		return -1;
	}
	*code = EXIT_TEMP;
	if ((lsn.fd = listen_tcp(a->listen_spec, &a->lsn_addr, a->lsn_len)) ==
	    -1)
		return -1;
	if ((ctlsn.fd = listen_control(control_path)) == -1)
		return -1;
	*code = 1;
	if (ep_ctl(EPOLL_CTL_ADD, lsn.fd, EPOLLIN, &lsn.h) == -1 ||
	    ep_ctl(EPOLL_CTL_ADD, ctlsn.fd, EPOLLIN, &ctlsn.h) == -1 ||
	    ep_ctl(EPOLL_CTL_ADD, sigs.fd, EPOLLIN, &sigs.h) == -1) {
		(void)unlink(control_path);
		return -1;
	}
	accept_resume = NEVER;
	return 0;
}

/* The loop, until a signal says stop or epoll_wait fails. */
static void
proxy_run(void)
{
	struct epoll_event evs[256];
	int i, n;

	while (!quit) {
		if ((n = epoll_wait(epfd, evs, (int)(sizeof(evs) /
		    sizeof(evs[0])), next_timeout(mono_ms()))) == -1) {
			if (errno == EINTR)
				continue;
			logx("error", "epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++)
			dispatch(&evs[i]);
		run_timers(mono_ms());
		/* Reading paused on MAX_TOTAL: resume it once below. */
		if (stats.mem >= MAX_TOTAL)
			over_total = 1;
		else if (over_total) {
			over_total = 0;
			conns_sweep();
		}
		reap();
	}
}

int
main(int argc, char *argv[])
{
	struct args a = { NULL, NULL, { 0 }, 0 };
	int code;

	if (args_parse(argc, argv, &a, &code) == -1)
		return code;
	if (args_check(&a) == -1)
		return EXIT_PERM;
	if (proxy_open(&a, &code) == -1)
		return code;
	logx("info", "event=start listen=%s upstream=%s control=%s "
	    "max_conns=%u", a.listen_spec, a.up_spec, control_path, max_conns);
	proxy_run();
	logx("info", "event=stop conns=%u accepted=%llu bytes_up=%llu "
	    "bytes_down=%llu", stats.conns, (unsigned long long)stats.accepted,
	    (unsigned long long)stats.bytes_up,
	    (unsigned long long)stats.bytes_down);
	shutdown_all();
	return quit ? 0 : 1;
}
