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

int
exec_run(const struct task_conf *tc, struct hctx *h)
{
	struct spawn_plan sp;
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 },
	    pprog[2] = { -1, -1 }, fds[4];
	char tail[ERR_TAIL], chunk[16384], line[512], buf[64];
	char v_id[64], v_att[32], v_queue[96], v_name[TASK_NAME_MAX + 16];
	const char *vars[] = { v_id, v_att, v_queue, v_name, NULL };
	size_t tail_len = 0, written = 0, line_len = 0, n;
	struct pollfd pfd[4];
	int64_t deadline, kill_at = 0;
	int status = 0, e, nfd, i, reaped = 0, killed = 0;
	const char *why = NULL, *msg;
	unsigned pct;
	ssize_t r;
	pid_t pid;

	snprintf(v_id, sizeof(v_id), "TQ_TASK_ID=%s", h->id);
	snprintf(v_att, sizeof(v_att), "TQ_ATTEMPT=%u", h->attempt);
	snprintf(v_queue, sizeof(v_queue), "TQ_QUEUE=%s",
	    h->queue ? h->queue : "");
	snprintf(v_name, sizeof(v_name), "TQ_TASK_NAME=%s", h->name);
	if (spawn_prepare(tc, vars, &sp, h->error, sizeof(h->error)) == -1)
		return -1;
	if (pipe2(pin, O_CLOEXEC) == -1 || pipe2(pout, O_CLOEXEC) == -1 ||
	    pipe2(perr, O_CLOEXEC) == -1 || pipe2(pprog, O_CLOEXEC) == -1) {
		snprintf(h->error, sizeof(h->error), "exec: pipe: %s",
		    strerror(errno));
		goto closeall;
	}
	fds[0] = pin[0];
	fds[1] = pout[1];
	fds[2] = perr[1];
	fds[3] = pprog[1];
	pid = spawn_start(tc, &sp, fds, 4, h->error, sizeof(h->error));
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	close(pprog[1]);
	pin[0] = pout[1] = perr[1] = pprog[1] = -1;
	if (pid == -1)
		goto closeall;
	set_nonblock(pin[1]);
	set_nonblock(pout[0]);
	set_nonblock(perr[0]);
	set_nonblock(pprog[0]);
	if (h->len == 0) {
		close(pin[1]);
		pin[1] = -1;
	}
	deadline = tc->timeout_ms > 0 ? now_ms() + tc->timeout_ms : -1;
	for (;;) {
		nfd = 0;
		if (pin[1] != -1) {
			pfd[nfd].fd = pin[1];
			pfd[nfd++].events = POLLOUT;
		}
		if (pout[0] != -1) {
			pfd[nfd].fd = pout[0];
			pfd[nfd++].events = POLLIN;
		}
		if (perr[0] != -1) {
			pfd[nfd].fd = perr[0];
			pfd[nfd++].events = POLLIN;
		}
		if (pprog[0] != -1) {
			pfd[nfd].fd = pprog[0];
			pfd[nfd++].events = POLLIN;
		}
		if (!reaped && waitpid(pid, &status, WNOHANG) == pid)
			reaped = 1;
		if (reaped && pout[0] == -1 && perr[0] == -1)
			break;
		/* Time limit, cancel, oversized output: TERM the group,
		 * then KILL after the grace period. */
		if (!killed && (*h->cancel || (deadline != -1 &&
		    now_ms() >= deadline) || why != NULL)) {
			if (why == NULL)
				why = *h->cancel ? "cancelled" : "timed out";
			(void)kill(-pid, SIGTERM);
			killed = 1;
			kill_at = now_ms() + tc->kill_grace_ms;
		}
		if (killed == 1 && now_ms() >= kill_at) {
			(void)kill(-pid, SIGKILL);
			killed = 2;
		}
		if (poll(pfd, (nfds_t)nfd, 50) == -1 && errno != EINTR) {
			why = "poll failed";
			break;
		}
		for (i = 0; i < nfd; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (pfd[i].fd == pin[1]) {
				r = write(pin[1], (const char *)h->payload +
				    written, h->len - written);
				if (r > 0)
					written += (size_t)r;
				if ((r == -1 && errno != EAGAIN &&
				    errno != EINTR) || written == h->len) {
					/* EPIPE: the program does not read
					 * its stdin; that is its business. */
					close(pin[1]);
					pin[1] = -1;
				}
			} else if (pfd[i].fd == pout[0]) {
				r = read(pout[0], chunk, sizeof(chunk));
				if (r > 0 && why == NULL) {
					if (h->result->len + (size_t)r >
					    tc->max_output)
						why = "output exceeds max_output";
					else if (buf_append(h->result, chunk,
					    (size_t)r) == -1)
						why = "out of memory";
				}
				if (r == 0 || (r == -1 && errno != EAGAIN &&
				    errno != EINTR)) {
					close(pout[0]);
					pout[0] = -1;
				}
			} else if (pfd[i].fd == perr[0]) {
				r = read(perr[0], chunk, sizeof(chunk));
				if (r > 0) {
					/* Keep the tail: the last words. */
					n = (size_t)r;
					if (n >= sizeof(tail)) {
						memcpy(tail, chunk + n -
						    sizeof(tail), sizeof(tail));
						tail_len = sizeof(tail);
					} else {
						if (tail_len + n > sizeof(tail)) {
							size_t drop = tail_len +
							    n - sizeof(tail);

							memmove(tail, tail +
							    drop, tail_len -
							    drop);
							tail_len -= drop;
						}
						memcpy(tail + tail_len, chunk,
						    n);
						tail_len += n;
					}
				}
				if (r == 0 || (r == -1 && errno != EAGAIN &&
				    errno != EINTR)) {
					close(perr[0]);
					perr[0] = -1;
				}
			} else if (pfd[i].fd == pprog[0]) {
				r = read(pprog[0], chunk, sizeof(chunk));
				for (e = 0; e < r; e++) {
					if (chunk[e] != '\n') {
						if (line_len < sizeof(line) - 1)
							line[line_len++] =
							    chunk[e];
						continue;
					}
					line[line_len] = '\0';
					line_len = 0;
					if (exec_progress_line(line, &pct,
					    &msg) == 0)
						h->progress(h, pct, msg);
				}
				if (r == 0 || (r == -1 && errno != EAGAIN &&
				    errno != EINTR)) {
					close(pprog[0]);
					pprog[0] = -1;
				}
			}
		}
	}
	if (!reaped) {
		/* Its pipes closed but it lives on (a daemonizing program):
		 * it had its time. */
		if (killed == 0) {
			(void)kill(-pid, SIGTERM);
			kill_at = now_ms() + tc->kill_grace_ms;
			while (waitpid(pid, &status, WNOHANG) == 0 &&
			    now_ms() < kill_at)
				sleep_ms(20);
		}
		(void)kill(-pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
	}
	/* Leftovers of its group go too. */
	(void)kill(-pid, SIGKILL);
	while (tail_len > 0 && (tail[tail_len - 1] == '\n' ||
	    tail[tail_len - 1] == '\r'))
		tail_len--;
	if (why != NULL) {
		snprintf(h->error, sizeof(h->error), "%s%s%.*s", why,
		    tail_len ? ": " : "", (int)tail_len, tail);
		goto closeall;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (pin[1] != -1)
			close(pin[1]);
		if (pprog[0] != -1)
			close(pprog[0]);
		return 0;
	}
	spawn_status(status, buf, sizeof(buf));
	snprintf(h->error, sizeof(h->error), "%s%s%.*s", buf,
	    tail_len ? ": " : "", (int)tail_len, tail);
closeall:
	for (i = 0; i < 2; i++) {
		if (pin[i] != -1)
			close(pin[i]);
		if (pout[i] != -1)
			close(pout[i]);
		if (perr[i] != -1)
			close(perr[i]);
		if (pprog[i] != -1)
			close(pprog[i]);
	}
	return -1;
}
