/*
 * exec.c: a task name mapped to a program ([task NAME] sections, also
 * those of served handlers: serve.c). One run per task: the payload goes
 * to stdin, stdout is the result, exit 0 is success; anything else fails
 * the attempt with the tail of stderr. Lines "progress PCT [MESSAGE]" on
 * fd 3 report progress. How the program is started (no shell, a cleaned
 * environment, limits, its own process group) is spawn.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inifile.h"
#include "log.h"
#include "task.h"
#include "worker.h"

#define ERR_TAIL	1024

static struct task_conf *confs;
static int nconfs;

static void
conf_defaults(struct task_conf *tc, const char *name)
{
	memset(tc, 0, sizeof(*tc));
	snprintf(tc->name, sizeof(tc->name), "%s", name);
	tc->max_output = 1024 * 1024;
	tc->kill_grace_ms = 2000;
	tc->rlimit_nofile = 256;
	tc->serve_start_timeout_ms = 30000;
}

static int
conf_num(const char *key, const char *v, long long min, long long max,
    long long *out, char *err, size_t errsz)
{
	const char *errstr;

	if (parse_num(v, min, max, out, &errstr) == -1) {
		snprintf(err, errsz, "%s: \"%s\" is %s (allowed %lld..%lld)",
		    key, v, errstr, min, max);
		return -1;
	}
	return 0;
}

static int
conf_set(struct task_conf *tc, const char *key, const char *v, char *err,
    size_t errsz)
{
	long long n;

	if (strcmp(key, "exec") == 0) {
		if (*v != '/' || strlen(v) >= sizeof(tc->exec)) {
			snprintf(err, errsz, "task %s: exec must be an absolute "
			    "path (no shell is involved)", tc->name);
			return -1;
		}
		snprintf(tc->exec, sizeof(tc->exec), "%s", v);
	} else if (strcmp(key, "user") == 0) {
		snprintf(tc->user, sizeof(tc->user), "%s", v);
	} else if (strcmp(key, "cwd") == 0) {
		snprintf(tc->cwd, sizeof(tc->cwd), "%s", v);
	} else if (strcmp(key, "env") == 0) {
		snprintf(tc->env, sizeof(tc->env), "%s", v);
	} else if (strcmp(key, "timeout_s") == 0) {
		if (conf_num(key, v, 0, 86400 * 7, &n, err, errsz) == -1)
			return -1;
		tc->timeout_ms = n * 1000;
	} else if (strcmp(key, "kill_grace_ms") == 0) {
		if (conf_num(key, v, 0, 600000, &n, err, errsz) == -1)
			return -1;
		tc->kill_grace_ms = n;
	} else if (strcmp(key, "max_output") == 0) {
		if (conf_num(key, v, 0, TASK_PAYLOAD_HARDMAX, &n, err,
		    errsz) == -1)
			return -1;
		tc->max_output = (size_t)n;
	} else if (strcmp(key, "rlimit_cpu_s") == 0) {
		if (conf_num(key, v, 0, 86400 * 7, &tc->rlimit_cpu_s, err,
		    errsz) == -1)
			return -1;
	} else if (strcmp(key, "rlimit_as_mb") == 0) {
		if (conf_num(key, v, 0, 1 << 20, &tc->rlimit_as_mb, err,
		    errsz) == -1)
			return -1;
	} else if (strcmp(key, "rlimit_nofile") == 0) {
		if (conf_num(key, v, 4, 1 << 20, &tc->rlimit_nofile, err,
		    errsz) == -1)
			return -1;
	} else if (strcmp(key, "serve") == 0) {
		if (strcmp(v, "yes") == 0)
			tc->serve = 1;
		else if (strcmp(v, "no") == 0)
			tc->serve = 0;
		else {
			snprintf(err, errsz, "task %s: serve: \"%s\" is not "
			    "yes or no", tc->name, v);
			return -1;
		}
	} else if (strcmp(key, "max_tasks_per_child") == 0) {
		if (conf_num(key, v, 0, 1LL << 40, &tc->max_tasks_per_child,
		    err, errsz) == -1)
			return -1;
	} else if (strcmp(key, "max_rss_mb") == 0) {
		if (conf_num(key, v, 0, 1 << 20, &tc->max_rss_mb, err,
		    errsz) == -1)
			return -1;
	} else if (strcmp(key, "serve_start_timeout_s") == 0) {
		if (conf_num(key, v, 1, 3600, &n, err, errsz) == -1)
			return -1;
		tc->serve_start_timeout_ms = n * 1000;
	} else {
		snprintf(err, errsz, "task %s: unknown setting \"%s\"", tc->name,
		    key);
		return -1;
	}
	return 0;
}

static int
tasks_cb(void *arg, const char *section, const char *key, const char *value,
    char *err, size_t errsz)
{
	struct task_conf *tc = NULL, *p;
	int i;

	(void)arg;
	if (strncmp(section, "task ", 5) != 0)
		return 0;
	section += 5;
	if (!task_name_ok(section, TASK_NAME_MAX)) {
		snprintf(err, errsz, "bad task name [task %s]", section);
		return -1;
	}
	for (i = 0; i < nconfs; i++)
		if (strcmp(confs[i].name, section) == 0)
			tc = &confs[i];
	if (tc == NULL) {
		if ((p = reallocarray(confs, (size_t)nconfs + 1,
		    sizeof(*confs))) == NULL) {
			snprintf(err, errsz, "out of memory");
			return -1;
		}
		confs = p;
		tc = &confs[nconfs++];
		conf_defaults(tc, section);
	}
	return conf_set(tc, key, value, err, errsz);
}

int
exec_load(const char *file, char *err, size_t errsz)
{
	int i;

	free(confs);
	confs = NULL;
	nconfs = 0;
	if (file == NULL)
		return 0;
	if (inifile_parse(file, tasks_cb, NULL, err, errsz) == -1)
		return -1;
	for (i = 0; i < nconfs; i++) {
		if (confs[i].exec[0] == '\0') {
			snprintf(err, errsz, "%s: [task %s] has no exec", file,
			    confs[i].name);
			return -1;
		}
		/* Limits of a served child on a program run per task: a
		 * forgotten "serve = yes", most likely. */
		if (!confs[i].serve && (confs[i].max_tasks_per_child > 0 ||
		    confs[i].max_rss_mb > 0)) {
			snprintf(err, errsz, "%s: [task %s]: max_tasks_per_child "
			    "and max_rss_mb need serve = yes", file,
			    confs[i].name);
			return -1;
		}
	}
	return nconfs;
}

const struct task_conf *
exec_find(const char *name)
{
	int i;

	for (i = 0; i < nconfs; i++)
		if (strcmp(confs[i].name, name) == 0)
			return &confs[i];
	return NULL;
}

static void
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl != -1)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Parses one progress line; 0 or -1. */
int
exec_progress_line(const char *line, unsigned *pct, const char **msg)
{
	const char *errstr, *p;
	char num[8];
	long long v;
	size_t n;

	if (strncmp(line, "progress ", 9) != 0)
		return -1;
	p = line + 9;
	n = strcspn(p, " ");
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, p, n);
	num[n] = '\0';
	if (parse_num(num, 0, 100, &v, &errstr) == -1)
		return -1;
	*pct = (unsigned)v;
	p += n;
	while (*p == ' ')
		p++;
	*msg = p;
	return 0;
}

struct outbuf {
	int	 fd;
	int	 open;
};

/* One run of a program: its pipes (our ends stay open, -1 once closed),
 * what it said, and how far it got. */
struct xrun {
	int		 pin[2], pout[2], perr[2], pprog[2];
	char		 tail[ERR_TAIL];	/* the end of its stderr */
	size_t		 tail_len;
	char		 line[512];		/* a progress line so far */
	size_t		 line_len;
	size_t		 written;		/* of the payload, to stdin */
	pid_t		 pid;
	int		 status;
	int		 reaped;
	int		 killed;		/* 1: SIGTERM sent, 2: SIGKILL */
	int64_t		 kill_at;
	const char	*why;		/* the attempt fails for this */
};

static void
fd_close(int *fd)
{
	if (*fd != -1) {
		close(*fd);
		*fd = -1;
	}
}

static void
exec_close(struct xrun *x)
{
	int i;

	for (i = 0; i < 2; i++) {
		fd_close(&x->pin[i]);
		fd_close(&x->pout[i]);
		fd_close(&x->perr[i]);
		fd_close(&x->pprog[i]);
	}
}

/* Starts the program with the pipes as its fds 0-3; the payload, when
 * there is none, is an stdin closed at once. 0, or -1 with h->error. */
static int
exec_start(const struct task_conf *tc, struct hctx *h, struct xrun *x)
{
	struct spawn_plan sp;
	char v_id[64], v_att[32], v_queue[96], v_name[TASK_NAME_MAX + 16];
	const char *vars[] = { v_id, v_att, v_queue, v_name, NULL };
	int fds[4];

	snprintf(v_id, sizeof(v_id), "TQ_TASK_ID=%s", h->id);
	snprintf(v_att, sizeof(v_att), "TQ_ATTEMPT=%u", h->attempt);
	snprintf(v_queue, sizeof(v_queue), "TQ_QUEUE=%s",
	    h->queue ? h->queue : "");
	snprintf(v_name, sizeof(v_name), "TQ_TASK_NAME=%s", h->name);
	if (spawn_prepare(tc, vars, &sp, h->error, sizeof(h->error)) == -1)
		return -1;
	if (pipe2(x->pin, O_CLOEXEC) == -1 || pipe2(x->pout, O_CLOEXEC) == -1 ||
	    pipe2(x->perr, O_CLOEXEC) == -1 ||
	    pipe2(x->pprog, O_CLOEXEC) == -1) {
		snprintf(h->error, sizeof(h->error), "exec: pipe: %s",
		    strerror(errno));
		return -1;
	}
	fds[0] = x->pin[0];
	fds[1] = x->pout[1];
	fds[2] = x->perr[1];
	fds[3] = x->pprog[1];
	x->pid = spawn_start(tc, &sp, fds, 4, h->error, sizeof(h->error));
	fd_close(&x->pin[0]);
	fd_close(&x->pout[1]);
	fd_close(&x->perr[1]);
	fd_close(&x->pprog[1]);
	if (x->pid == -1)
		return -1;
	set_nonblock(x->pin[1]);
	set_nonblock(x->pout[0]);
	set_nonblock(x->perr[0]);
	set_nonblock(x->pprog[0]);
	if (h->len == 0)
		fd_close(&x->pin[1]);
	return 0;
}

/* The pipes still open, to poll; their count. */
static int
exec_pollfds(const struct xrun *x, struct pollfd *pfd)
{
	int nfd = 0;

	if (x->pin[1] != -1) {
		pfd[nfd].fd = x->pin[1];
		pfd[nfd++].events = POLLOUT;
	}
	if (x->pout[0] != -1) {
		pfd[nfd].fd = x->pout[0];
		pfd[nfd++].events = POLLIN;
	}
	if (x->perr[0] != -1) {
		pfd[nfd].fd = x->perr[0];
		pfd[nfd++].events = POLLIN;
	}
	if (x->pprog[0] != -1) {
		pfd[nfd].fd = x->pprog[0];
		pfd[nfd++].events = POLLIN;
	}
	return nfd;
}

/* Time limit, cancel, oversized output: TERM the group, then KILL after
 * the grace period. */
static void
exec_stop_due(const struct task_conf *tc, struct hctx *h, struct xrun *x,
    int64_t deadline)
{
	if (!x->killed && (*h->cancel || (deadline != -1 &&
	    now_ms() >= deadline) || x->why != NULL)) {
		if (x->why == NULL)
			x->why = *h->cancel ? "cancelled" : "timed out";
		(void)kill(-x->pid, SIGTERM);
		x->killed = 1;
		x->kill_at = now_ms() + tc->kill_grace_ms;
	}
	if (x->killed == 1 && now_ms() >= x->kill_at) {
		(void)kill(-x->pid, SIGKILL);
		x->killed = 2;
	}
}

/* A read or write that ended its pipe: EOF or an error but a retry. */
static int
pipe_ended(ssize_t r)
{
	return r == 0 || (r == -1 && errno != EAGAIN && errno != EINTR);
}

static void
exec_feed_stdin(struct xrun *x, const struct hctx *h)
{
	ssize_t r;

	r = write(x->pin[1], (const char *)h->payload + x->written,
	    h->len - x->written);
	if (r > 0)
		x->written += (size_t)r;
	/* EPIPE: the program does not read its stdin; that is its
	 * business. */
	if ((r == -1 && errno != EAGAIN && errno != EINTR) ||
	    x->written == h->len)
		fd_close(&x->pin[1]);
}

static void
exec_read_stdout(struct xrun *x, const struct task_conf *tc,
    struct hctx *h)
{
	char chunk[16384];
	ssize_t r;

	r = read(x->pout[0], chunk, sizeof(chunk));
	if (r > 0 && x->why == NULL) {
		if (h->result->len + (size_t)r > tc->max_output)
			x->why = "output exceeds max_output";
		else if (buf_append(h->result, chunk, (size_t)r) == -1)
			x->why = "out of memory";
	}
	if (pipe_ended(r))
		fd_close(&x->pout[0]);
}

/* Keeps the tail of stderr: the last words. */
static void
exec_tail_keep(struct xrun *x, const char *chunk, size_t n)
{
	size_t drop;

	if (n >= sizeof(x->tail)) {
		memcpy(x->tail, chunk + n - sizeof(x->tail), sizeof(x->tail));
		x->tail_len = sizeof(x->tail);
		return;
	}
	if (x->tail_len + n > sizeof(x->tail)) {
		drop = x->tail_len + n - sizeof(x->tail);
		memmove(x->tail, x->tail + drop, x->tail_len - drop);
		x->tail_len -= drop;
	}
	memcpy(x->tail + x->tail_len, chunk, n);
	x->tail_len += n;
}

static void
exec_read_stderr(struct xrun *x)
{
	char chunk[16384];
	ssize_t r;

	r = read(x->perr[0], chunk, sizeof(chunk));
	if (r > 0)
		exec_tail_keep(x, chunk, (size_t)r);
	if (pipe_ended(r))
		fd_close(&x->perr[0]);
}

/* Lines "progress PCT [MESSAGE]" on fd 3; longer lines are cut. */
static void
exec_read_progress(struct xrun *x, struct hctx *h)
{
	char chunk[16384];
	const char *msg;
	unsigned pct;
	ssize_t r, e;

	r = read(x->pprog[0], chunk, sizeof(chunk));
	for (e = 0; e < r; e++) {
		if (chunk[e] != '\n') {
			if (x->line_len < sizeof(x->line) - 1)
				x->line[x->line_len++] = chunk[e];
			continue;
		}
		x->line[x->line_len] = '\0';
		x->line_len = 0;
		if (exec_progress_line(x->line, &pct, &msg) == 0)
			h->progress(h, pct, msg);
	}
	if (pipe_ended(r))
		fd_close(&x->pprog[0]);
}

/* Feeds stdin and reads stdout, stderr and fd 3 until the program is
 * gone and its stdout and stderr are closed, stopping it when due. */
static void
exec_pump(const struct task_conf *tc, struct hctx *h, struct xrun *x)
{
	struct pollfd pfd[4];
	int64_t deadline;
	int nfd, i;

	deadline = tc->timeout_ms > 0 ? now_ms() + tc->timeout_ms : -1;
	for (;;) {
		nfd = exec_pollfds(x, pfd);
		if (!x->reaped && waitpid(x->pid, &x->status, WNOHANG) == x->pid)
			x->reaped = 1;
		if (x->reaped && x->pout[0] == -1 && x->perr[0] == -1)
			break;
		exec_stop_due(tc, h, x, deadline);
		if (poll(pfd, (nfds_t)nfd, 50) == -1 && errno != EINTR) {
			x->why = "poll failed";
			break;
		}
		for (i = 0; i < nfd; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (pfd[i].fd == x->pin[1])
				exec_feed_stdin(x, h);
			else if (pfd[i].fd == x->pout[0])
				exec_read_stdout(x, tc, h);
			else if (pfd[i].fd == x->perr[0])
				exec_read_stderr(x);
			else if (pfd[i].fd == x->pprog[0])
				exec_read_progress(x, h);
		}
	}
}

/* Reaps the program; leftovers of its group go too. */
static void
exec_reap(const struct task_conf *tc, struct xrun *x)
{
	if (!x->reaped) {
		/* Its pipes closed but it lives on (a daemonizing program):
		 * it had its time. */
		if (x->killed == 0) {
			(void)kill(-x->pid, SIGTERM);
			x->kill_at = now_ms() + tc->kill_grace_ms;
			while (waitpid(x->pid, &x->status, WNOHANG) == 0 &&
			    now_ms() < x->kill_at)
				sleep_ms(20);
		}
		(void)kill(-x->pid, SIGKILL);
		(void)waitpid(x->pid, &x->status, 0);
	}
	(void)kill(-x->pid, SIGKILL);
}

/* 0 for exit 0; else -1 with the reason and the tail of stderr in
 * h->error. */
static int
exec_outcome(struct xrun *x, struct hctx *h)
{
	char buf[64];

	while (x->tail_len > 0 && (x->tail[x->tail_len - 1] == '\n' ||
	    x->tail[x->tail_len - 1] == '\r'))
		x->tail_len--;
	if (x->why != NULL) {
		snprintf(h->error, sizeof(h->error), "%s%s%.*s", x->why,
		    x->tail_len ? ": " : "", (int)x->tail_len, x->tail);
		return -1;
	}
	if (WIFEXITED(x->status) && WEXITSTATUS(x->status) == 0)
		return 0;
	spawn_status(x->status, buf, sizeof(buf));
	snprintf(h->error, sizeof(h->error), "%s%s%.*s", buf,
	    x->tail_len ? ": " : "", (int)x->tail_len, x->tail);
	return -1;
}

int
exec_run(const struct task_conf *tc, struct hctx *h)
{
	struct xrun x;
	int rc = -1;

	memset(&x, 0, sizeof(x));
	x.pin[0] = x.pin[1] = x.pout[0] = x.pout[1] = -1;
	x.perr[0] = x.perr[1] = x.pprog[0] = x.pprog[1] = -1;
	if (exec_start(tc, h, &x) == -1)
		goto out;
	exec_pump(tc, h, &x);
	exec_reap(tc, &x);
	rc = exec_outcome(&x, h);
out:
	exec_close(&x);
	return rc;
}
