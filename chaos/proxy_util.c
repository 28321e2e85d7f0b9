/*
 * proxy_util.c: what every part of tq-proxy uses: the monotonic clock, the
 * log line, error names, address text, RST close and epoll registration.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proxy.h"

const char *name = "proxy";
int epfd = -1;

int64_t
mono_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		abort();	/* cannot happen with CLOCK_MONOTONIC */
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
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

const char *
errname(int err)
{
	const char *s;

	if (err == 0)
		return "none";
	if ((s = strerrorname_np(err)) == NULL)
		return "unknown";
	return s;
}

void
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

/* Closes with RST: SO_LINGER 0, then close. */
void
rst_close(int fd)
{
	struct linger l = { 1, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	(void)close(fd);
}

int
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
