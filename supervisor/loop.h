/* loop.h: the supervisor's event loop, a thin layer over epoll: the
 * descriptors it watches for input, and the wait for them. It calls
 * nothing of the supervisor's own. */
#ifndef TQ_LOOP_H
#define TQ_LOOP_H

#include <sys/epoll.h>

/* Creates the loop. 0, or -1 with errno set. */
int	loop_open(void);
/* Watches fd for input; a failure is logged. */
void	loop_watch(int fd);
void	loop_unwatch(int fd);
/* Up to max ready descriptors into ev, waiting at most ms: epoll_wait's
 * count, or -1 with errno set. */
int	loop_wait(struct epoll_event *ev, int max, int ms);
void	loop_close(void);

#endif
