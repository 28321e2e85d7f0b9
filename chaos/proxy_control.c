/*
 * proxy_control.c: the control interface: the Unix socket, its clients,
 * one command a line in and one answer a line out.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy.h"

struct listener ctlsn = { { K_CONTROL }, -1 };
struct ctllist ctls = LIST_HEAD_INITIALIZER(ctls);

void
ctl_free(struct ctl *t)
{
	(void)close(t->fd);	/* leaves epoll with it */
	LIST_REMOVE(t, entry);
	stats.ctls--;
	free(t);
}

void
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

void
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

/* The control socket, mode 0600; -1 when it cannot be had. */
int
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
