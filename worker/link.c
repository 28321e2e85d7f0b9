/*
 * link.c: the supervisor link (TQ_SUPERVISOR_FD), served by its own
 * thread: HELLO, heartbeats whatever the main loop waits on, and DRAIN,
 * SHUTDOWN and CANCEL from the supervisor. A lost link stops the worker.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "worker_int.h"

static uint32_t
rss_kb(void)
{
	unsigned long size, res;
	FILE *fp;

	if ((fp = fopen("/proc/self/statm", "re")) == NULL)
		return 0;
	if (fscanf(fp, "%lu %lu", &size, &res) != 2)
		res = 0;
	fclose(fp);
	return (uint32_t)(res * (unsigned long)sysconf(_SC_PAGESIZE) / 1024);
}

static void
wake_main(void)
{
	uint64_t one = 1;

	if (write(W.efd, &one, sizeof(one)) != sizeof(one))
		log_warn("eventfd write");
}

static int
send_heartbeat(void)
{
	struct frame f;
	int64_t age = now_ms() - atomic_load(&W.loop_at);

	memset(&f, 0, sizeof(f));
	f.type = P_HEARTBEAT;
	pthread_mutex_lock(&W.mu);
	f.u.hb.state = atomic_load(&W.stopping) ? WS_DRAINING :
	    W.busy ? WS_BUSY : WS_IDLE;
	f.u.hb.progress = (uint8_t)W.prog_pct;
	f.u.hb.inflight = (uint16_t)(W.busy ? W.njobs : 0);
	if (W.cur_set) {
		f.u.hb.task = W.cur;
		f.u.hb.fence = W.cur_fence;
	}
	f.u.hb.succeeded = W.n_done;
	f.u.hb.failed = W.n_failed;
	f.u.hb.duplicates = (uint32_t)W.n_dup;
	pthread_mutex_unlock(&W.mu);
	f.u.hb.rss_kb = rss_kb();
	f.u.hb.loop_age_ms = age < 0 ? 0 : age > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)age;
	return proto_send(W.sup, &f);
}

static void *
link_main(void *arg)
{
	uint8_t buf[PROTO_MAX];
	struct pollfd pfd;
	struct frame f;
	char err[128];
	sigset_t all;
	int64_t next = 0, wait;
	ssize_t n;

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pfd.fd = W.sup;
	pfd.events = POLLIN;
	for (;;) {
		if (now_ms() >= next) {
			if (send_heartbeat() == -1 && errno != EAGAIN)
				break;
			next = now_ms() + W.hb_ms;
		}
		wait = next - now_ms();
		if (poll(&pfd, 1, wait < 0 ? 0 : (int)wait) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = recv(W.sup, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		if (proto_decode(buf, (size_t)n, &f, err, sizeof(err)) == -1) {
			log_error("event=bad_frame from=supervisor error=\"%s\"",
			    err);
			break;
		}
		switch (f.type) {
		case P_DRAIN:
		case P_SHUTDOWN:
			if (!atomic_exchange(&W.stopping, 1))
				log_info("event=stopping reason=%s",
				    f.type == P_DRAIN ? "drain" : "shutdown");
			wake_main();
			break;
		case P_CANCEL:
			runner_cancel(&f.u.cancel.task);
			break;
		default:
			log_error("event=bad_frame from=supervisor type=%d",
			    (int)f.type);
			goto gone;
		}
	}
gone:
	/* No supervisor: nobody watches us, so stop. Its successor or the
	 * cluster reconciler takes our tasks back. */
	log_warnx("event=supervisor_lost action=exit");
	atomic_store(&W.stopping, 1);
	wake_main();
	sleep_ms(1000);
	_exit(EXIT_TEMP);
	return NULL;
}

void
link_start(void)
{
	struct frame f;
	const char *v, *errstr;
	long long n;

	W.sup = -1;
	if ((v = getenv("TQ_SUPERVISOR_FD")) == NULL)
		return;
	if (parse_num(v, 3, 1024, &n, &errstr) == -1)
		log_fatalx(EXIT_PERM, "TQ_SUPERVISOR_FD: \"%s\" is %s", v,
		    errstr);
	W.sup = (int)n;
	(void)fcntl(W.sup, F_SETFD, FD_CLOEXEC);
	W.hb_ms = 200;
	if ((v = getenv("TQ_HEARTBEAT_MS")) != NULL &&
	    parse_num(v, 10, 60000, &n, &errstr) == 0)
		W.hb_ms = n;
	/* Dies with the supervisor, even when frozen or killed -9. */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* The supervisor died before PR_SET_PDEATHSIG took: we were
	 * reparented to pid 1. Unless the supervisor is pid 1 itself, as it
	 * may be in a container. (A lost link is seen by the link thread.) */
	v = getenv("TQ_SUPERVISOR_PID");
	if (getppid() == 1 && (v == NULL || strcmp(v, "1") != 0))
		log_fatalx(EXIT_TEMP, "supervisor already gone");
	memset(&f, 0, sizeof(f));
	f.type = P_HELLO;
	f.u.hello.pid = (uint32_t)getpid();
	snprintf(f.u.hello.owner, sizeof(f.u.hello.owner), "%s", W.owner);
	if (proto_send(W.sup, &f) == -1)
		log_fatalx(EXIT_TEMP, "supervisor hello: %s", strerror(errno));
	if (pthread_create(&W.link, NULL, link_main, NULL) != 0)
		log_fatalx(EXIT_TEMP, "pthread_create failed");
}
