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
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/tree.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Exit codes, as in lib/util.h. */
#define EXIT_USAGE	2
#define EXIT_PERM	100	/* bad arguments */
#define EXIT_TEMP	111	/* cannot bind or listen */

#define MAX_CONNS	4096
#define MAX_QUEUED	(4 * 1024 * 1024)	/* a direction, with overhead */
#define MAX_TOTAL	(512 * 1024 * 1024)	/* all directions */
#define READ_SIZE	65536
#define READ_BUDGET	(256 * 1024)	/* per side and wakeup: fairness */
#define ACCEPT_BUDGET	64
#define CONNECT_MS	10000		/* upstream connect timeout */
#define LINGER_MS	2000		/* clean close: wait for peers' FIN */
#define ACCEPT_PAUSE_MS	100		/* after EMFILE and friends */
#define MAX_CTL		32
#define CTL_LINE	1024
#define CTL_OUT		8192
#define MAX_MS		3600000LL
#define MAX_RATE	1000000000000LL
#define MAX_SLICE	(16LL * 1024 * 1024)
#define NEVER		INT64_MAX

enum kind { K_LISTEN, K_CONTROL, K_SIGNAL, K_SIDE, K_CTL };

/* The first member of everything registered with epoll. */
struct handle {
	enum kind	 kind;
};

struct chunk {
	TAILQ_ENTRY(chunk) entry;
	int64_t		 due;		/* when it may be written */
	size_t		 off;
	size_t		 len;
	char		 data[];
};
TAILQ_HEAD(chunkq, chunk);

/* One direction: what side[d] sent, on its way to side[!d]. */
struct flow {
	struct chunkq	 q;
	size_t		 mem;		/* bytes held, chunk headers included */
	int64_t		 last_due;	/* keeps jittered chunks in order */
	int64_t		 credit;	/* token bucket, in byte-milliseconds */
	int64_t		 refill;	/* when credit was last topped up */
	int64_t		 next_slice;	/* when the next slice may go */
};

struct conn;

struct side {
	struct handle	 h;
	struct conn	*c;
	int		 idx;		/* 0 client, 1 upstream */
	int		 fd;
	int		 inep;		/* registered with epoll */
	uint32_t	 events;
	int		 rd_eof;	/* the peer sent FIN */
	int		 wr_shut;	/* we sent FIN */
	int		 wr_blocked;	/* last write met EAGAIN */
};

enum cstate { C_CONNECTING, C_OPEN, C_CLOSING, C_DEAD };

struct conn {
	uint64_t	 id;
	enum cstate	 state;
	int		 blackholed;	/* lived during a black hole */
	const char	*reason;	/* why it is closing */
	int64_t		 started;
	int64_t		 deadline;	/* of the connect or the clean close */
	uint64_t	 passed;	/* bytes forwarded, both ways */
	uint64_t	 up;
	uint64_t	 down;
	struct side	 side[2];
	struct flow	 flow[2];
	int64_t		 wake;		/* the timer; NEVER when off */
	int		 timed;
	RB_ENTRY(conn)	 tentry;
	LIST_ENTRY(conn) entry;
};
LIST_HEAD(connlist, conn);

struct listener {
	struct handle	 h;
	int		 fd;
};

struct ctl {
	struct handle	 h;
	int		 fd;
	int		 eof;
	uint32_t	 events;
	size_t		 inlen;
	size_t		 outlen;
	char		 in[CTL_LINE];
	char		 out[CTL_OUT];
	LIST_ENTRY(ctl)	 entry;
};
LIST_HEAD(ctllist, ctl);

static struct {
	long long	 latency;
	long long	 jitter;
	long long	 bandwidth;
	long long	 slice;
	long long	 slice_delay;
	long long	 reset_after;
	long long	 close_after;
	int		 blackhole;
	int		 refuse;
} fault;

static struct {
	uint64_t	 accepted;
	uint64_t	 bytes_up;
	uint64_t	 bytes_down;
	unsigned	 conns;
	unsigned	 ctls;
	size_t		 mem;		/* all flows' mem */
} stats;

static const char *name = "proxy";
static const char *control_path;
static struct sockaddr_storage up_addr;
static socklen_t up_len;
static int epfd = -1;
static unsigned max_conns = MAX_CONNS;
static uint64_t conn_seq;
static int quit;
static int over_total;		/* reading paused by MAX_TOTAL */
static int64_t accept_resume;	/* NEVER unless accepting is paused */
static struct listener lsn = { { K_LISTEN }, -1 };
static struct listener ctlsn = { { K_CONTROL }, -1 };
static struct listener sigs = { { K_SIGNAL }, -1 };
static struct connlist conns = LIST_HEAD_INITIALIZER(conns);
static struct connlist graveyard = LIST_HEAD_INITIALIZER(graveyard);
static struct ctllist ctls = LIST_HEAD_INITIALIZER(ctls);
static char rbuf[READ_SIZE];

static int
timer_cmp(struct conn *a, struct conn *b)
{
	if (a->wake != b->wake)
		return a->wake < b->wake ? -1 : 1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return 0;
}

RB_HEAD(timers, conn) timers = RB_INITIALIZER(&timers);
/* RB_GENERATE_STATIC wants __unused, which libbsd leaves undefined. */
RB_GENERATE_INTERNAL(timers, conn, tentry, timer_cmp,
    __attribute__((unused)) static)

static void	logx(const char *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	conn_kill(struct conn *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	conn_step(struct conn *, int64_t);

static int64_t
mono_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		abort();	/* cannot happen with CLOCK_MONOTONIC */
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
logx(const char *level, const char *fmt, ...)
{
	char msg[1024], ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (clock_gettime(CLOCK_REALTIME, &now) == -1 ||
	    gmtime_r(&now.tv_sec, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		now.tv_nsec = 0;
		(void)strlcpy(ts, "-", sizeof(ts));
	}
	/* One fprintf a line: lines of concurrent processes stay whole. */
	(void)fprintf(stderr, "%s.%03ldZ tq-proxy[%d] level=%s name=%s %s\n",
	    ts, now.tv_nsec / 1000000, (int)getpid(), level, name, msg);
	errno = saved;
}

static const char *
errname(int err)
{
	const char *s;

	if (err == 0)
		return "none";
	if ((s = strerrorname_np(err)) == NULL)
		return "unknown";
	return s;
}

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
addr_str(const struct sockaddr_storage *ss, char *buf, size_t sz)
{
	char host[INET6_ADDRSTRLEN];
	const void *a;
	int port;

	if (ss->ss_family == AF_INET) {
		a = &((const struct sockaddr_in *)ss)->sin_addr;
		port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	} else {
		(void)strlcpy(buf, "-", sz);
		return;
	}
	if (inet_ntop(ss->ss_family, a, host, sizeof(host)) == NULL) {
		(void)strlcpy(buf, "-", sz);
		return;
	}
	(void)snprintf(buf, sz, ss->ss_family == AF_INET6 ? "[%s]:%d" :
	    "%s:%d", host, port);
}

static void
set_nodelay(int fd)
{
	int one = 1;

	/* Best effort: a socket without it still works. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		logx("warn", "event=error op=setsockopt opt=TCP_NODELAY err=%s",
		    errname(errno));
}

/* Closes with RST: SO_LINGER 0, then close. */
static void
rst_close(int fd)
{
	struct linger l = { 1, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	(void)close(fd);
}

static int
sock_error(int fd)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		return errno;
	return err;
}

static int
ep_ctl(int op, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = ptr;
	if (epoll_ctl(epfd, op, fd, &ev) == -1) {
		logx("warn", "event=error op=epoll_ctl fd=%d err=%s", fd,
		    errname(errno));
		return -1;
	}
	return 0;
}

/*
 * EPOLLHUP and EPOLLERR cannot be masked. A side that waits for nothing
 * (reading paused, say) stays in epoll edge-triggered with no events: a
 * reset from its peer is still seen, but the lasting EPOLLHUP after both
 * FINs does not spin the loop.
 */
static int
side_watch(struct side *s, uint32_t want)
{
	if (s->fd == -1)
		return 0;
	if (want == 0)
		want = EPOLLET;
	if (s->inep && s->events == want)
		return 0;
	if (ep_ctl(s->inep ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s->fd, want,
	    &s->h) == -1)
		return -1;
	s->inep = 1;
	s->events = want;
	return 0;
}

static void
timer_set(struct conn *c, int64_t wake)
{
	if (c->timed && c->wake == wake)
		return;
	if (c->timed) {
		RB_REMOVE(timers, &timers, c);
		c->timed = 0;
	}
	c->wake = wake;
	if (wake != NEVER) {
		RB_INSERT(timers, &timers, c);
		c->timed = 1;
	}
}

static void
flow_drop(struct flow *f)
{
	struct chunk *ch;

	while ((ch = TAILQ_FIRST(&f->q)) != NULL) {
		TAILQ_REMOVE(&f->q, ch, entry);
		free(ch);
	}
	stats.mem -= f->mem;
	f->mem = 0;
}

static int
flow_push(struct flow *f, const char *data, size_t n, int64_t now)
{
	struct chunk *ch;
	int64_t due;

	if ((ch = malloc(sizeof(*ch) + n)) == NULL)
		return -1;
	memcpy(ch->data, data, n);
	ch->off = 0;
	ch->len = n;
	due = now + fault.latency;
	if (fault.jitter > 0)
		due += (int64_t)arc4random_uniform(
		    (uint32_t)(2 * fault.jitter + 1)) - fault.jitter;
	if (due < now)
		due = now;
	if (due < f->last_due)
		due = f->last_due;
	f->last_due = due;
	ch->due = due;
	TAILQ_INSERT_TAIL(&f->q, ch, entry);
	f->mem += sizeof(*ch) + n;
	stats.mem += sizeof(*ch) + n;
	return 0;
}

static int64_t
bucket_cap(void)
{
	return fault.bandwidth / 10 > 0 ? fault.bandwidth / 10 : 1;
}

static void
bucket_refill(struct flow *f, int64_t now)
{
	int64_t el = now - f->refill;

	if (el > 1000)
		el = 1000;	/* more than fills any bucket; no overflow */
	if (el > 0)
		f->credit += el * fault.bandwidth;
	f->refill = now;
	if (f->credit > bucket_cap() * 1000)
		f->credit = bucket_cap() * 1000;
}

/* The byte limit in force, reset-after or close-after: 0 when none. */
static uint64_t
conn_limit(void)
{
	uint64_t r = (uint64_t)fault.reset_after;
	uint64_t c = (uint64_t)fault.close_after;

	if (r == 0)
		return c;
	if (c == 0)
		return r;
	return r < c ? r : c;
}

static const char *
side_name(int idx)
{
	return idx == 0 ? "client" : "upstream";
}

static void
conn_fail(struct conn *c, int idx, int err, const char *op)
{
	conn_kill(c, 1, "reason=error side=%s op=%s err=%s", side_name(idx),
	    op, errname(err));
}

/* Closes both sides, RST when rst; the memory goes at the loop's end. */
static void
conn_kill(struct conn *c, int rst, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	int i;

	if (c->state == C_DEAD)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	for (i = 0; i < 2; i++) {
		if (c->side[i].fd == -1)
			continue;
		if (rst)
			rst_close(c->side[i].fd);
		else
			(void)close(c->side[i].fd);
		c->side[i].fd = -1;
		c->side[i].inep = 0;
	}
	flow_drop(&c->flow[0]);
	flow_drop(&c->flow[1]);
	timer_set(c, NEVER);
	c->state = C_DEAD;
	LIST_REMOVE(c, entry);
	LIST_INSERT_HEAD(&graveyard, c, entry);
	stats.conns--;
	logx("info", "event=close conn=%llu %s up=%llu down=%llu ms=%lld",
	    (unsigned long long)c->id, why, (unsigned long long)c->up,
	    (unsigned long long)c->down, (long long)(mono_ms() - c->started));
}

/*
 * A clean close: FIN to both sides, queued bytes dropped, then read and
 * discard until both sides' FIN (closing with unread bytes would send RST)
 * or LINGER_MS.
 */
static void
conn_close_clean(struct conn *c, const char *reason, int64_t now)
{
	struct side *s;
	int i;

	if (c->state == C_DEAD || c->state == C_CLOSING)
		return;
	if (c->state == C_CONNECTING && c->side[1].fd != -1) {
		(void)close(c->side[1].fd);
		c->side[1].fd = -1;
		c->side[1].inep = 0;
	}
	c->state = C_CLOSING;
	c->reason = reason;
	c->deadline = now + LINGER_MS;
	for (i = 0; i < 2; i++) {
		s = &c->side[i];
		flow_drop(&c->flow[i]);
		s->wr_blocked = 0;
		if (s->fd == -1 || s->wr_shut)
			continue;
		if (shutdown(s->fd, SHUT_WR) == -1)
			s->rd_eof = 1;	/* not connected: nothing to wait for */
		s->wr_shut = 1;
	}
}

/* Applies reset-after and close-after; 1 when the connection went. */
static int
conn_limits(struct conn *c, int64_t now)
{
	if (c->state != C_OPEN)
		return 1;
	if (fault.reset_after > 0 && c->passed >= (uint64_t)fault.reset_after) {
		conn_kill(c, 1, "reason=reset-after bytes=%llu",
		    (unsigned long long)c->passed);
		return 1;
	}
	if (fault.close_after > 0 && c->passed >= (uint64_t)fault.close_after) {
		conn_close_clean(c, "close-after", now);
		return 1;
	}
	return 0;
}

/* Writes what is due of flow d; -1 when the connection was killed. */
static int
flow_flush(struct conn *c, int d, int64_t now)
{
	struct flow *f = &c->flow[d];
	struct side *dst = &c->side[!d];
	uint64_t limit = conn_limit();
	struct chunk *ch;
	size_t n;
	ssize_t w;

	while ((ch = TAILQ_FIRST(&f->q)) != NULL && !dst->wr_blocked) {
		if (ch->due > now)
			break;
		if (fault.slice > 0 && now < f->next_slice)
			break;
		n = ch->len - ch->off;
		if (fault.slice > 0 && n > (size_t)fault.slice)
			n = (size_t)fault.slice;
		if (fault.bandwidth > 0) {
			bucket_refill(f, now);
			if (f->credit < 1000)
				break;
			if ((int64_t)n > f->credit / 1000)
				n = (size_t)(f->credit / 1000);
		}
		if (limit > 0) {
			if (c->passed >= limit)
				break;
			if (n > limit - c->passed)
				n = (size_t)(limit - c->passed);
		}
		if ((w = send(dst->fd, ch->data + ch->off, n, MSG_NOSIGNAL))
		    == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				dst->wr_blocked = 1;
				break;
			}
			conn_fail(c, !d, errno, "write");
			return -1;
		}
		ch->off += (size_t)w;
		c->passed += (uint64_t)w;
		if (d == 0) {
			c->up += (uint64_t)w;
			stats.bytes_up += (uint64_t)w;
		} else {
			c->down += (uint64_t)w;
			stats.bytes_down += (uint64_t)w;
		}
		if (fault.bandwidth > 0)
			f->credit -= (int64_t)w * 1000;
		if (fault.slice > 0)
			f->next_slice = now + fault.slice_delay;
		if (ch->off == ch->len) {
			TAILQ_REMOVE(&f->q, ch, entry);
			f->mem -= sizeof(*ch) + ch->len;
			stats.mem -= sizeof(*ch) + ch->len;
			free(ch);
		}
	}
	return 0;
}

/* When flow d can next make progress without an event; NEVER if not. */
static int64_t
flow_wake(struct conn *c, int d, int64_t now)
{
	struct flow *f = &c->flow[d];
	struct chunk *ch;
	int64_t t, want, need;

	if ((ch = TAILQ_FIRST(&f->q)) == NULL || c->side[!d].wr_blocked)
		return NEVER;
	t = ch->due;
	if (fault.slice > 0 && f->next_slice > t)
		t = f->next_slice;
	if (fault.bandwidth > 0) {
		want = (int64_t)(ch->len - ch->off);
		if (fault.slice > 0 && want > fault.slice)
			want = fault.slice;
		if (want > bucket_cap())
			want = bucket_cap();
		need = want * 1000 - f->credit;
		if (need > 0 && f->refill + (need + fault.bandwidth - 1) /
		    fault.bandwidth > t)
			t = f->refill + (need + fault.bandwidth - 1) /
			    fault.bandwidth;
	}
	return t > now ? t : now + 1;
}

static int
flow_full(const struct flow *f)
{
	return f->mem >= MAX_QUEUED || stats.mem >= MAX_TOTAL;
}

/* Brings epoll interest and the timer in line with the state. */
static int
conn_update(struct conn *c, int64_t now)
{
	struct side *s;
	uint32_t want;
	int64_t wake = NEVER, t;
	int i;

	for (i = 0; i < 2; i++) {
		s = &c->side[i];
		want = 0;
		if (c->state == C_CONNECTING && i == 1)
			want = EPOLLOUT;
		else if (!s->rd_eof && (c->state == C_CLOSING ||
		    c->blackholed || !flow_full(&c->flow[i])))
			want = EPOLLIN;
		if (s->wr_blocked)
			want |= EPOLLOUT;
		if (side_watch(s, want) == -1)
			return -1;
	}
	if (c->state == C_CONNECTING || c->state == C_CLOSING)
		wake = c->deadline;
	if (c->state == C_OPEN && !c->blackholed)
		for (i = 0; i < 2; i++)
			if ((t = flow_wake(c, i, now)) < wake)
				wake = t;
	timer_set(c, wake);
	return 0;
}

/* After the source's FIN and the queue's end, FIN to the destination. */
static int
flow_finish(struct conn *c, int d)
{
	struct side *dst = &c->side[!d];

	if (!c->side[d].rd_eof || !TAILQ_EMPTY(&c->flow[d].q) || dst->wr_shut)
		return 0;
	if (shutdown(dst->fd, SHUT_WR) == -1) {
		conn_fail(c, !d, errno, "shutdown");
		return -1;
	}
	dst->wr_shut = 1;
	return 0;
}

/* Moves a connection on after anything happened to it. */
static void
conn_step(struct conn *c, int64_t now)
{
	struct side *s0 = &c->side[0], *s1 = &c->side[1];
	int d;

	if (c->state == C_OPEN && !c->blackholed) {
		(void)conn_limits(c, now);
		for (d = 0; d < 2 && c->state == C_OPEN; d++) {
			if (flow_flush(c, d, now) == -1)
				return;
			(void)conn_limits(c, now);
		}
		for (d = 0; d < 2 && c->state == C_OPEN; d++)
			if (flow_finish(c, d) == -1)
				return;
		if (c->state == C_OPEN && s0->rd_eof && s1->rd_eof &&
		    s0->wr_shut && s1->wr_shut) {
			conn_kill(c, 0, "reason=eof");
			return;
		}
	}
	if (c->state == C_OPEN && c->blackholed && s0->rd_eof) {
		/* The client gave up; nothing was or will be forwarded. */
		conn_kill(c, 0, "reason=eof blackhole=on");
		return;
	}
	if (c->state == C_CLOSING) {
		if ((s0->fd == -1 || s0->rd_eof) &&
		    (s1->fd == -1 || s1->rd_eof)) {
			conn_kill(c, 0, "reason=%s", c->reason);
			return;
		}
		if (now >= c->deadline) {
			conn_kill(c, 0, "reason=%s linger=timeout", c->reason);
			return;
		}
	}
	if (c->state == C_CONNECTING && now >= c->deadline) {
		conn_kill(c, 1, "reason=connect err=timeout");
		return;
	}
	if (c->state == C_DEAD)
		return;
	if (conn_update(c, now) == -1)
		conn_kill(c, 1, "reason=error op=epoll_ctl");
}

/* Reads what side idx sent; -1 when the connection was killed. */
static int
side_read(struct conn *c, int idx, int64_t now)
{
	struct side *s = &c->side[idx];
	struct flow *f = &c->flow[idx];
	size_t budget = READ_BUDGET, want;
	int drop = c->state == C_CLOSING || c->blackholed;
	ssize_t n;

	while (budget > 0 && !s->rd_eof) {
		want = budget < READ_SIZE ? budget : READ_SIZE;
		if (!drop) {
			if (flow_full(f))
				break;
			if (want > MAX_QUEUED - f->mem)
				want = MAX_QUEUED - f->mem;
		}
		if ((n = recv(s->fd, rbuf, want, 0)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			conn_fail(c, idx, errno, "read");
			return -1;
		}
		if (n == 0) {
			s->rd_eof = 1;
			break;
		}
		budget -= (size_t)n;
		if (drop)
			continue;
		if (flow_push(f, rbuf, (size_t)n, now) == -1) {
			conn_kill(c, 1, "reason=error op=malloc err=%s",
			    errname(errno));
			return -1;
		}
	}
	return 0;
}

/* The upstream connect finished, one way or the other. */
static void
conn_connected(struct conn *c)
{
	int err;

	if ((err = sock_error(c->side[1].fd)) != 0) {
		conn_kill(c, 1, "reason=connect err=%s", errname(err));
		return;
	}
	c->state = C_OPEN;
	set_nodelay(c->side[1].fd);
}

static void
side_event(struct side *s, uint32_t rev)
{
	struct conn *c = s->c;
	int64_t now = mono_ms();

	if (c->state == C_DEAD)
		return;		/* killed earlier in this batch */
	if (c->state == C_CONNECTING && s->idx == 1) {
		conn_connected(c);
	} else if (rev & EPOLLERR) {
		if (c->state == C_CLOSING)
			conn_kill(c, 1, "reason=%s err=%s", c->reason,
			    errname(sock_error(s->fd)));
		else
			conn_fail(c, s->idx, sock_error(s->fd), "poll");
		return;
	} else {
		if ((rev & (EPOLLIN | EPOLLHUP)) &&
		    side_read(c, s->idx, now) == -1)
			return;
		if (rev & EPOLLOUT)
			s->wr_blocked = 0;
	}
	if (c->state != C_DEAD)
		conn_step(c, now);
}

static void
conn_new(int fd, const struct sockaddr_storage *peer)
{
	struct conn *c;
	char pbuf[INET6_ADDRSTRLEN + 8];
	int64_t now = mono_ms();
	int i, ufd;

	addr_str(peer, pbuf, sizeof(pbuf));
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		logx("warn", "event=reject peer=%s reason=malloc err=%s", pbuf,
		    errname(errno));
		rst_close(fd);
		return;
	}
	c->id = ++conn_seq;
	c->started = now;
	c->wake = NEVER;
	for (i = 0; i < 2; i++) {
		c->side[i].h.kind = K_SIDE;
		c->side[i].c = c;
		c->side[i].idx = i;
		c->side[i].fd = -1;
		TAILQ_INIT(&c->flow[i].q);
		c->flow[i].refill = now - 1000;	/* a full bucket */
	}
	c->side[0].fd = fd;
	LIST_INSERT_HEAD(&conns, c, entry);
	stats.conns++;
	set_nodelay(fd);
	logx("info", "event=accept conn=%llu peer=%s%s",
	    (unsigned long long)c->id, pbuf,
	    fault.blackhole ? " blackhole=on" : "");

	if (fault.blackhole) {
		/* Never connected upstream: silent until black hole ends. */
		c->blackholed = 1;
		c->state = C_OPEN;
		conn_step(c, now);
		return;
	}
	if ((ufd = socket(up_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		conn_kill(c, 1, "reason=connect op=socket err=%s",
		    errname(errno));
		return;
	}
	c->side[1].fd = ufd;
	c->deadline = now + CONNECT_MS;
	if (connect(ufd, (struct sockaddr *)&up_addr, up_len) == 0) {
		c->state = C_OPEN;
		set_nodelay(ufd);
	} else if (errno == EINPROGRESS || errno == EINTR) {
		c->state = C_CONNECTING;
	} else {
		conn_kill(c, 1, "reason=connect err=%s", errname(errno));
		return;
	}
	conn_step(c, now);
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

/* Calls conn_step on every connection: after a fault changed. */
static void
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

/* Runs one control command; the answer goes to ans, without newline. */
static void
ctl_command(char *line, char *ans, size_t sz)
{
	char *argv[5], *p, *tok;
	long long a, b;
	int argc = 0, on;

	p = line;
	while ((tok = strsep(&p, " \t")) != NULL) {
		if (*tok == '\0')
			continue;
		if (argc == 4) {
			(void)snprintf(ans, sz, "error: too many arguments");
			return;
		}
		argv[argc++] = tok;
	}
	argv[argc] = NULL;
	(void)snprintf(ans, sz, "ok");
	if (argc == 0) {
		(void)snprintf(ans, sz, "error: empty command");
	} else if (strcmp(argv[0], "latency") == 0) {
		if (argc < 2 || argc > 3) {
			(void)snprintf(ans, sz,
			    "error: usage: latency MS [JITTER_MS]");
			return;
		}
		b = 0;
		if (parse_arg(argv[0], "MS", argv[1], MAX_MS, &a, ans, sz) ==
		    -1 || (argc == 3 && parse_arg(argv[0], "JITTER_MS", argv[2],
		    MAX_MS, &b, ans, sz) == -1))
			return;
		fault.latency = a;
		fault.jitter = b;
		logx("info", "event=fault fault=latency ms=%lld jitter_ms=%lld",
		    a, b);
	} else if (strcmp(argv[0], "bandwidth") == 0) {
		if (argc != 2) {
			(void)snprintf(ans, sz,
			    "error: usage: bandwidth BYTES_PER_SEC");
			return;
		}
		if (parse_arg(argv[0], "BYTES_PER_SEC", argv[1], MAX_RATE, &a,
		    ans, sz) == -1)
			return;
		fault.bandwidth = a;
		logx("info", "event=fault fault=bandwidth bytes_per_sec=%lld",
		    a);
	} else if (strcmp(argv[0], "blackhole") == 0 ||
	    strcmp(argv[0], "refuse") == 0) {
		if (argc != 2 || parse_onoff(argv[1], &on) == -1) {
			(void)snprintf(ans, sz, "error: usage: %s on|off",
			    argv[0]);
			return;
		}
		if (argv[0][0] == 'b')
			blackhole_set(on);
		else {
			fault.refuse = on;
			logx("info", "event=fault fault=refuse state=%s",
			    on ? "on" : "off");
		}
	} else if (strcmp(argv[0], "reset") == 0) {
		if (argc != 1) {
			(void)snprintf(ans, sz, "error: usage: reset");
			return;
		}
		logx("info", "event=fault fault=reset conns=%u", stats.conns);
		conns_reset();
	} else if (strcmp(argv[0], "reset-after") == 0 ||
	    strcmp(argv[0], "close-after") == 0) {
		if (argc != 2) {
			(void)snprintf(ans, sz, "error: usage: %s BYTES",
			    argv[0]);
			return;
		}
		if (parse_arg(argv[0], "BYTES", argv[1], LLONG_MAX, &a, ans,
		    sz) == -1)
			return;
		if (argv[0][0] == 'r')
			fault.reset_after = a;
		else
			fault.close_after = a;
		logx("info", "event=fault fault=%s bytes=%lld", argv[0], a);
	} else if (strcmp(argv[0], "slice") == 0) {
		if (argc < 2 || argc > 3) {
			(void)snprintf(ans, sz,
			    "error: usage: slice BYTES [DELAY_MS]");
			return;
		}
		b = 0;
		if (parse_arg(argv[0], "BYTES", argv[1], MAX_SLICE, &a, ans,
		    sz) == -1 || (argc == 3 && parse_arg(argv[0], "DELAY_MS",
		    argv[2], MAX_MS, &b, ans, sz) == -1))
			return;
		fault.slice = a;
		fault.slice_delay = b;
		logx("info", "event=fault fault=slice bytes=%lld delay_ms=%lld",
		    a, b);
	} else if (strcmp(argv[0], "clear") == 0) {
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
	} else if (strcmp(argv[0], "status") == 0) {
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
		return;
	} else if (strcmp(argv[0], "help") == 0) {
		(void)snprintf(ans, sz, "ok commands: latency MS [JITTER_MS], "
		    "bandwidth BYTES_PER_SEC, blackhole on|off, reset, "
		    "reset-after BYTES, close-after BYTES, "
		    "slice BYTES [DELAY_MS], refuse on|off, clear, status");
		return;
	} else {
		(void)snprintf(ans, sz, "error: unknown command \"%.64s\"",
		    argv[0]);
		return;
	}
	if (strncmp(ans, "ok", 2) == 0)
		conns_sweep();
}

static void
ctl_free(struct ctl *t)
{
	(void)close(t->fd);	/* leaves epoll with it */
	LIST_REMOVE(t, entry);
	stats.ctls--;
	free(t);
}

static void
ctl_accept(void)
{
	struct ctl *t;
	int fd;

	if ((fd = accept4(ctlsn.fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED)
			logx("warn", "event=error op=accept socket=control "
			    "err=%s", errname(errno));
		return;
	}
	if (stats.ctls >= MAX_CTL) {
		logx("warn", "event=reject socket=control reason=max-clients");
		(void)close(fd);
		return;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		logx("warn", "event=error op=malloc socket=control err=%s",
		    errname(errno));
		(void)close(fd);
		return;
	}
	t->h.kind = K_CTL;
	t->fd = fd;
	t->events = EPOLLIN;
	if (ep_ctl(EPOLL_CTL_ADD, fd, EPOLLIN, &t->h) == -1) {
		(void)close(fd);
		free(t);
		return;
	}
	LIST_INSERT_HEAD(&ctls, t, entry);
	stats.ctls++;
}

/* Queues one answer line; -1 when the client does not read its answers. */
static int
ctl_answer(struct ctl *t, const char *ans)
{
	size_t n = strlen(ans);

	if (t->outlen + n + 1 > sizeof(t->out))
		return -1;
	memcpy(t->out + t->outlen, ans, n);
	t->out[t->outlen + n] = '\n';
	t->outlen += n + 1;
	return 0;
}

static int
ctl_line(struct ctl *t, char *line)
{
	char ans[512];
	size_t n = strlen(line);

	if (n > 0 && line[n - 1] == '\r')
		line[n - 1] = '\0';
	ctl_command(line, ans, sizeof(ans));
	return ctl_answer(t, ans);
}

static void
ctl_event(struct ctl *t, uint32_t rev)
{
	char *nl;
	ssize_t n;
	size_t used;
	uint32_t want;

	if (rev & EPOLLERR) {
		ctl_free(t);
		return;
	}
	while ((rev & (EPOLLIN | EPOLLHUP)) && !t->eof) {
		n = read(t->fd, t->in + t->inlen, sizeof(t->in) - t->inlen);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			ctl_free(t);
			return;
		}
		if (n == 0) {
			t->eof = 1;
			if (t->inlen > 0 && t->inlen < sizeof(t->in)) {
				/* A last line without its newline. */
				t->in[t->inlen] = '\0';
				t->inlen = 0;
				if (ctl_line(t, t->in) == -1) {
					ctl_free(t);
					return;
				}
			}
			break;
		}
		t->inlen += (size_t)n;
		used = 0;
		while ((nl = memchr(t->in + used, '\n', t->inlen - used)) !=
		    NULL) {
			*nl = '\0';
			if (ctl_line(t, t->in + used) == -1) {
				logx("warn", "event=error socket=control "
				    "err=answers-not-read");
				ctl_free(t);
				return;
			}
			used = (size_t)(nl - t->in) + 1;
		}
		memmove(t->in, t->in + used, t->inlen - used);
		t->inlen -= used;
		if (t->inlen == sizeof(t->in)) {
			t->inlen = 0;
			t->eof = 1;
			if (ctl_answer(t, "error: line too long") == -1) {
				ctl_free(t);
				return;
			}
		}
	}
	while (t->outlen > 0) {
		if ((n = send(t->fd, t->out, t->outlen, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			ctl_free(t);
			return;
		}
		memmove(t->out, t->out + n, t->outlen - (size_t)n);
		t->outlen -= (size_t)n;
	}
	if (t->eof && t->outlen == 0) {
		ctl_free(t);
		return;
	}
	want = (t->eof ? 0 : EPOLLIN) | (t->outlen > 0 ? EPOLLOUT : 0);
	if (want != t->events) {
		if (ep_ctl(EPOLL_CTL_MOD, t->fd, want, &t->h) == -1) {
			ctl_free(t);
			return;
		}
		t->events = want;
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

/* The control socket, mode 0600; -1 when it cannot be had. */
static int
listen_control(const char *path)
{
	struct sockaddr_un sa;
	mode_t old;
	int fd, r;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	(void)strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		logx("error", "control socket \"%s\": socket: %s", path,
		    strerror(errno));
		return -1;
	}
	/* A socket file left by a dead proxy: anyone answering? */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		logx("error", "control socket \"%s\": another proxy answers "
		    "there", path);
		(void)close(fd);
		return -1;
	}
	(void)close(fd);
	if (unlink(path) == -1 && errno != ENOENT) {
		logx("error", "control socket \"%s\": unlink: %s", path,
		    strerror(errno));
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		logx("error", "control socket \"%s\": socket: %s", path,
		    strerror(errno));
		return -1;
	}
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	(void)umask(old);
	if (r == -1) {
		logx("error", "control socket \"%s\": bind: %s", path,
		    strerror(errno));
		(void)close(fd);
		return -1;
	}
	if (chmod(path, 0600) == -1 || listen(fd, 16) == -1) {
		logx("error", "control socket \"%s\": %s", path,
		    strerror(errno));
		(void)close(fd);
		(void)unlink(path);
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

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "listen",	required_argument,	NULL, 'l' },
		{ "upstream",	required_argument,	NULL, 'u' },
		{ "control",	required_argument,	NULL, 'c' },
		{ "name",	required_argument,	NULL, 'n' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 }
	};
	struct epoll_event evs[256];
	struct sockaddr_storage lsn_addr;
	struct sockaddr_un sun;
	socklen_t lsn_len;
	sigset_t mask;
	const char *listen_spec = NULL, *up_spec = NULL, *p;
	int ch, i, n;

	while ((ch = getopt_long(argc, argv, "l:u:c:n:h", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'l':
			listen_spec = optarg;
			break;
		case 'u':
			up_spec = optarg;
			break;
		case 'c':
			control_path = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || listen_spec == NULL || up_spec == NULL ||
	    control_path == NULL) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (*name == '\0' || strlen(name) > 64) {
		logx("error", "bad --name: want 1 to 64 characters");
		return EXIT_PERM;
	}
	for (p = name; *p != '\0'; p++)
		if (*p <= ' ' || *p > '~' || *p == '"' || *p == '=') {
			logx("error", "bad --name \"%s\": spaces, quotes and "
			    "'=' not allowed", name);
			return EXIT_PERM;
		}
	if (*control_path == '\0' ||
	    strlen(control_path) >= sizeof(sun.sun_path)) {
		logx("error", "bad --control \"%s\": empty or too long",
		    control_path);
		return EXIT_PERM;
	}
	if (parse_addr("--listen", listen_spec, &lsn_addr, &lsn_len) == -1 ||
	    parse_addr("--upstream", up_spec, &up_addr, &up_len) == -1)
		return EXIT_PERM;

	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		logx("error", "signal: %s", strerror(errno));
		return 1;
	}
	if (sigemptyset(&mask) == -1 || sigaddset(&mask, SIGTERM) == -1 ||
	    sigaddset(&mask, SIGINT) == -1 ||
	    sigprocmask(SIG_BLOCK, &mask, NULL) == -1 ||
	    (sigs.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		logx("error", "signalfd: %s", strerror(errno));
		return 1;
	}
	raise_nofile();
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		logx("error", "epoll_create1: %s", strerror(errno));
		return 1;
	}
	if ((lsn.fd = listen_tcp(listen_spec, &lsn_addr, lsn_len)) == -1)
		return EXIT_TEMP;
	if ((ctlsn.fd = listen_control(control_path)) == -1)
		return EXIT_TEMP;
	if (ep_ctl(EPOLL_CTL_ADD, lsn.fd, EPOLLIN, &lsn.h) == -1 ||
	    ep_ctl(EPOLL_CTL_ADD, ctlsn.fd, EPOLLIN, &ctlsn.h) == -1 ||
	    ep_ctl(EPOLL_CTL_ADD, sigs.fd, EPOLLIN, &sigs.h) == -1) {
		(void)unlink(control_path);
		return 1;
	}
	accept_resume = NEVER;
	logx("info", "event=start listen=%s upstream=%s control=%s "
	    "max_conns=%u", listen_spec, up_spec, control_path, max_conns);

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
	logx("info", "event=stop conns=%u accepted=%llu bytes_up=%llu "
	    "bytes_down=%llu", stats.conns, (unsigned long long)stats.accepted,
	    (unsigned long long)stats.bytes_up,
	    (unsigned long long)stats.bytes_down);
	shutdown_all();
	return quit ? 0 : 1;
}
