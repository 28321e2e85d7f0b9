/*
 * proxy_relay.c: the relay: a connection's two sides and two flows, bytes
 * queued as timestamped chunks and written out under the faults in force.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy.h"

struct stats stats;
struct sockaddr_storage up_addr;
socklen_t up_len;
static uint64_t conn_seq;
struct connlist conns = LIST_HEAD_INITIALIZER(conns);
struct connlist graveyard = LIST_HEAD_INITIALIZER(graveyard);
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

struct timers timers = RB_INITIALIZER(&timers);
RB_GENERATE(timers, conn, tentry, timer_cmp)

static void
set_nodelay(int fd)
{
	int one = 1;

	/* Best effort: a socket without it still works. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		logx("warn", "event=error op=setsockopt opt=TCP_NODELAY err=%s",
		    errname(errno));
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

void
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
void
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
void
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
void
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

void
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

void
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
