/* loop.c: the supervisor's event loop over epoll (loop.h). Below pool.c
 * and supervisor.c, which both watch descriptors, and above neither. */
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

static int epfd = -1;

int
loop_open(void)
{
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	return 0;
}

void
loop_watch(int fd)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		log_warn("epoll_ctl add %d", fd);
}

void
loop_unwatch(int fd)
{
	(void)epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
}

int
loop_wait(struct epoll_event *ev, int max, int ms)
{
	return epoll_wait(epfd, ev, max, ms);
}

void
loop_close(void)
{
	if (epfd != -1)
		close(epfd);
	epfd = -1;
}
