/*
 * serve.c: served handlers. A [task NAME] with serve = yes keeps one
 * long-lived child per worker process, started on the first task of that
 * name and handed one task at a time over two pipes (its fd 3 and fd 4)
 * in the frames of serve_frame.h; docs/serve-protocol.md is the contract.
 * The child is started like an exec handler (spawn.c). What it writes on
 * stdout and stderr is logged, never a result.
 *
 * Trouble ends the child, never the worker: a child that exits, crashes
 * or breaks the protocol fails only the running attempt (charged, so the
 * poison rule applies) and a fresh child starts after a backoff (at once
 * while that is short); a timeout or a cancel sends CANCEL, then SIGTERM
 * to the child's process group and SIGKILL after kill_grace_ms. Recycling
 * (max_tasks_per_child, max_rss_mb) closes fd 3 between tasks.
 *
 * Only the handler thread calls in here: the children are forked from it
 * (PR_SET_PDEATHSIG is tied to that thread, which lives as long as the
 * worker), and no lock is needed.
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

#include "log.h"
#include "serve_frame.h"
#include "worker.h"

#define SERVE_BACKOFF_BASE_MS	100
#define SERVE_BACKOFF_CAP_MS	5000
#define SERVE_LINE_MAX		512
#define SERVE_TICK_MS		50
#define SERVE_RESPAWN_MS	1000	/* respawn at once below this backoff */
/* The longest frame, other than OK, kept whole: READY's text and ERROR's
 * message past it are cut. */
#define SERVE_KEEP_MAX		(64 * 1024)

/* What pump() saw. */
enum ev {
	EV_NONE,
	EV_READY,
	EV_OK,
	EV_ERROR,	/* the task failed: h->error */
	EV_PROTO,	/* protocol error: h->error; the child goes */
	EV_DIED,	/* the child closed fd 4 (exited, crashed) */
	EV_STOP,	/* h->cancel: timed out or cancelled */
	EV_DEADLINE,
};

enum end_how {
	END_CLOSE,	/* recycling or shutdown: close fd 3, let it exit */
	END_KILL,	/* CANCEL, SIGTERM the group, SIGKILL after grace */
	END_DEAD,	/* it closed fd 4 itself: reap it */
};

struct served {
	char		 name[TASK_NAME_MAX + 1];
	pid_t		 pid;		/* 0: no child */
	int		 ready;
	int		 to, from;	/* its fd 3 (we write), fd 4 (we read) */
	int		 out[2];	/* its stdout, stderr */
	struct buf	 rd;		/* read from fd 4, not yet decoded */
	size_t		 skip;		/* of an oversized frame, to drop */
	char		 line[2][SERVE_LINE_MAX];
	size_t		 line_len[2];
	char		 last_err[256];	/* its last line on stderr */
	int		 status;	/* wait status, once reaped */
	int		 reaped;
	unsigned long	 ntasks;	/* handed to this child */
	unsigned	 fails;		/* abnormal ends in a row */
	int64_t		 start_at;	/* not before (backoff) */
};

static struct served *kids;
static size_t nkids;

static struct served *
served_get(const struct task_conf *tc)
{
	struct served *p;
	size_t i;

	for (i = 0; i < nkids; i++)
		if (strcmp(kids[i].name, tc->name) == 0)
			return &kids[i];
	if ((p = reallocarray(kids, nkids + 1, sizeof(*kids))) == NULL)
		return NULL;
	kids = p;
	p = &kids[nkids++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", tc->name);
	p->to = p->from = p->out[0] = p->out[1] = -1;
	return p;
}

static void
closefd(int *fd)
{
	if (*fd != -1)
		close(*fd);
	*fd = -1;
}

/* One line of its stdout or stderr, logged with what is not printable
 * (quotes too) replaced. */
static void
noise_line(struct served *s, int which)
{
	char *l = s->line[which];
	size_t i, n = s->line_len[which];

	l[n] = '\0';
	for (i = 0; i < n; i++)
		if ((unsigned char)l[i] < 0x20 || l[i] == '"' || l[i] == '\\' ||
		    l[i] == 0x7f)
			l[i] = '?';
	if (which == 1 && n > 0)
		snprintf(s->last_err, sizeof(s->last_err), "%s", l);
	log_info("event=served_output name=%s pid=%d fd=%d line=\"%s\"",
	    s->name, (int)s->pid, which + 1, l);
	s->line_len[which] = 0;
}

/* Reads what its stdout or stderr holds; closes it at EOF. */
static void
noise_read(struct served *s, int which)
{
	char chunk[4096];
	ssize_t r, i;
	int turns = 16;

	/* Bounded: a child that never stops writing does not starve its
	 * frames. */
	while (s->out[which] != -1 && turns-- > 0) {
		r = read(s->out[which], chunk, sizeof(chunk));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && errno == EAGAIN)
			return;
		if (r <= 0) {
			if (s->line_len[which] > 0)
				noise_line(s, which);
			closefd(&s->out[which]);
			return;
		}
		for (i = 0; i < r; i++) {
			if (chunk[i] == '\n' || s->line_len[which] ==
			    SERVE_LINE_MAX - 1) {
				noise_line(s, which);
				if (chunk[i] == '\n')
					continue;
			}
			if (chunk[i] != '\r')
				s->line[which][s->line_len[which]++] = chunk[i];
		}
	}
}

/* Reads what fd 4 holds into s->rd (dropping the rest of an oversized
 * frame); 1 at EOF, else 0. */
static int
frames_read(struct served *s)
{
	char chunk[65536];
	size_t n;
	ssize_t r;

	for (;;) {
		r = read(s->from, chunk, sizeof(chunk));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && errno == EAGAIN)
			return 0;
		if (r <= 0)
			return 1;
		n = (size_t)r;
		if (s->skip > 0) {
			size_t d = s->skip < n ? s->skip : n;

			s->skip -= d;
			n -= d;
			memmove(chunk, chunk + d, n);
		}
		if (n > 0 && buf_append(&s->rd, chunk, n) == -1)
			return 1;
		if ((size_t)r < sizeof(chunk))
			return 0;
	}
}

static void
consume(struct served *s, size_t n)
{
	memmove(s->rd.data, s->rd.data + n, s->rd.len - n);
	s->rd.len -= n;
}

/* Decodes the next whole frame of s->rd and acts on it. running: a task
 * is with the child (h->id). */
static enum ev
frames_take(struct served *s, const struct task_conf *tc, struct hctx *h,
    int running)
{
	char err[256], msg[SF_PROGRESS_MSG_MAX + 1];
	size_t total, used, keep, limit;
	struct sf_msg m;
	int type, r;

	if (s->skip > 0 || s->rd.len == 0)
		return EV_NONE;
	if ((r = sf_header(s->rd.data, s->rd.len, &type, &total, err,
	    sizeof(err))) == 0)
		return EV_NONE;
	if (r == -1)
		goto proto;
	if (type == SF_TASK || type == SF_CANCEL) {
		snprintf(err, sizeof(err), "frame '%c' goes to a handler, not "
		    "from it", type);
		goto proto;
	}
	if (type != SF_READY && !s->ready) {
		snprintf(err, sizeof(err), "frame '%c' before READY", type);
		goto proto;
	}
	limit = type == SF_OK ? SF_HDR + SF_ID_LEN + tc->max_output :
	    SF_HDR + SF_ID_LEN + SERVE_KEEP_MAX;
	if (total > limit && type != SF_PROGRESS) {
		/* Too large to keep: its id is checked, what it says is
		 * taken from its start, the rest is dropped as it comes. */
		if (type == SF_READY) {
			snprintf(err, sizeof(err), "READY of %zu bytes", total);
			goto proto;
		}
		keep = SF_HDR + SF_ID_LEN;
		if (s->rd.len < keep)
			return EV_NONE;
		if (!running || memcmp(s->rd.data + SF_HDR, h->id,
		    SF_ID_LEN) != 0) {
			snprintf(err, sizeof(err), "frame '%c' for a task that "
			    "is not running", type);
			goto proto;
		}
		if (type == SF_OK)
			snprintf(h->error, sizeof(h->error), "result of %zu "
			    "bytes exceeds max_output (%zu)", total - keep,
			    tc->max_output);
		else
			snprintf(h->error, sizeof(h->error), "%.*s",
			    (int)(s->rd.len - keep < sizeof(h->error) ?
			    s->rd.len - keep : sizeof(h->error) - 1),
			    s->rd.data + keep);
		if (s->rd.len >= total)
			consume(s, total);
		else {
			s->skip = total - s->rd.len;
			s->rd.len = 0;
		}
		return EV_ERROR;
	}
	if (s->rd.len < total)
		return EV_NONE;
	if (sf_parse(s->rd.data, s->rd.len, &m, &used, err, sizeof(err)) != 1)
		goto proto;
	if (m.type == SF_READY) {
		if (s->ready) {
			snprintf(err, sizeof(err), "READY twice");
			goto proto;
		}
		s->ready = 1;
		log_info("event=served_ready name=%s pid=%d version=%u "
		    "text=\"%.*s\"", s->name, (int)s->pid, m.version,
		    (int)(m.len > 64 ? 64 : m.len), m.data);
		consume(s, used);
		return EV_READY;
	}
	if (!running || strcmp(m.id, h->id) != 0) {
		snprintf(err, sizeof(err), "frame '%c' for task %s, %s%s",
		    m.type, m.id, running ? "running " : "none running",
		    running ? h->id : "");
		goto proto;
	}
	switch (m.type) {
	case SF_PROGRESS:
		memcpy(msg, m.data, m.len);
		msg[m.len] = '\0';
		h->progress(h, m.pct, msg);
		consume(s, used);
		return EV_NONE;
	case SF_OK:
		if (buf_append(h->result, m.data, m.len) == -1) {
			consume(s, used);
			snprintf(h->error, sizeof(h->error), "out of memory");
			return EV_ERROR;
		}
		consume(s, used);
		return EV_OK;
	default:
		if (m.len == 0)
			snprintf(h->error, sizeof(h->error), "served handler "
			    "failed (no message)");
		else
			snprintf(h->error, sizeof(h->error), "%.*s",
			    (int)m.len, m.data);
		consume(s, used);
		return EV_ERROR;
	}
proto:
	snprintf(h->error, sizeof(h->error), "served handler protocol error: "
	    "%s", err);
	return EV_PROTO;
}

/* Serves the child until something happens: frames, its output, the
 * write of w (from *woff), its end, h->cancel or the deadline (-1:
 * none). */
static enum ev
pump(struct served *s, const struct task_conf *tc, struct hctx *h,
    int running, int64_t deadline, const struct buf *w, size_t *woff)
{
	struct pollfd pfd[4];
	int nfd, i, wait, eof = 0;
	enum ev e;
	int64_t now;
	ssize_t r;

	for (;;) {
		if ((e = frames_take(s, tc, h, running)) != EV_NONE)
			return e;
		if (eof)
			return EV_DIED;
		if (h->cancel != NULL && *h->cancel)
			return EV_STOP;
		now = now_ms();
		if (deadline != -1 && now >= deadline)
			return EV_DEADLINE;
		wait = SERVE_TICK_MS;
		if (deadline != -1 && deadline - now < wait)
			wait = (int)(deadline - now);
		nfd = 0;
		pfd[nfd].fd = s->from;
		pfd[nfd++].events = POLLIN;
		for (i = 0; i < 2; i++)
			if (s->out[i] != -1) {
				pfd[nfd].fd = s->out[i];
				pfd[nfd++].events = POLLIN;
			}
		if (w != NULL && *woff < w->len && s->to != -1) {
			pfd[nfd].fd = s->to;
			pfd[nfd++].events = POLLOUT;
		}
		if (poll(pfd, (nfds_t)nfd, wait) == -1 && errno != EINTR) {
			snprintf(h->error, sizeof(h->error), "poll: %s",
			    strerror(errno));
			return EV_PROTO;
		}
		for (i = 0; i < nfd; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (pfd[i].fd == s->from)
				eof = frames_read(s);
			else if (pfd[i].fd == s->out[0])
				noise_read(s, 0);
			else if (pfd[i].fd == s->out[1])
				noise_read(s, 1);
			else if (pfd[i].fd == s->to) {
				r = write(s->to, w->data + *woff, w->len -
				    *woff);
				if (r > 0)
					*woff += (size_t)r;
				else if (r == -1 && errno != EAGAIN &&
				    errno != EINTR)
					/* EPIPE: it is gone; fd 4's EOF
					 * says so. */
					*woff = w->len;
			}
		}
	}
}

static unsigned long
rss_mb(pid_t pid)
{
	unsigned long size, res;
	char path[64];
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return 0;
	if (fscanf(fp, "%lu %lu", &size, &res) != 2)
		res = 0;
	fclose(fp);
	return res * (unsigned long)sysconf(_SC_PAGESIZE) / (1024 * 1024);
}

/* Ends the child and forgets it. id: the task to CANCEL (END_KILL). */
static void
child_end(struct served *s, const struct task_conf *tc, enum end_how how,
    const char *id, const char *why)
{
	struct buf c = BUF_INIT;
	int64_t kill_at;
	char st[64];
	int sig = 0;

	if (s->pid == 0)
		return;
	if (how == END_KILL) {
		/* Best effort, and only between frames: a TASK still being
		 * written would be cut by it. */
		if (id != NULL && s->to != -1 && sf_encode_cancel(&c, id) == 0)
			(void)!write(s->to, c.data, c.len);
		buf_release(&c);
		(void)kill(-s->pid, SIGTERM);
		/* A stopped child gets its SIGTERM only when it runs. */
		(void)kill(-s->pid, SIGCONT);
	}
	closefd(&s->to);
	kill_at = now_ms() + tc->kill_grace_ms;
	for (;;) {
		if (waitpid(s->pid, &s->status, WNOHANG) == s->pid) {
			s->reaped = 1;
			break;
		}
		if (now_ms() >= kill_at) {
			(void)kill(-s->pid, SIGKILL);
			(void)waitpid(s->pid, &s->status, 0);
			s->reaped = 1;
			sig = SIGKILL;
			break;
		}
		/* Its last words, while it goes. */
		noise_read(s, 0);
		noise_read(s, 1);
		sleep_ms(10);
	}
	/* Leftovers of its group go too. */
	(void)kill(-s->pid, SIGKILL);
	noise_read(s, 0);
	noise_read(s, 1);
	spawn_status(s->status, st, sizeof(st));
	log_info("event=served_stopped name=%s pid=%d tasks=%lu reason=\"%s\" "
	    "status=\"%s\"%s", s->name, (int)s->pid, s->ntasks, why, st,
	    sig ? " killed_after_grace=1" : "");
	closefd(&s->from);
	closefd(&s->out[0]);
	closefd(&s->out[1]);
	buf_release(&s->rd);
	s->skip = 0;
	s->line_len[0] = s->line_len[1] = 0;
	s->pid = 0;
	s->ready = 0;
	s->ntasks = 0;
}

/* After an abnormal end: the next start waits. */
static void
backoff(struct served *s)
{
	int64_t d = SERVE_BACKOFF_BASE_MS;
	unsigned i;

	for (i = 0; i < s->fails && d < SERVE_BACKOFF_CAP_MS; i++)
		d *= 2;
	if (d > SERVE_BACKOFF_CAP_MS)
		d = SERVE_BACKOFF_CAP_MS;
	s->fails++;
	s->start_at = now_ms() + d;
}

/* Starts the child and waits for its READY; 0, or -1 with h->error (an
 * EV_STOP: *stopped set). */
static int
child_start(struct served *s, const struct task_conf *tc, struct hctx *h,
    int *stopped)
{
	char v_queue[96], v_name[TASK_NAME_MAX + 16], err[TQ_ERRSZ];
	const char *vars[] = { "TQ_SERVE=1", "TQ_SERVE_IN=3", "TQ_SERVE_OUT=4",
	    v_queue, v_name, NULL };
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, p1[2] = { -1, -1 },
	    p2[2] = { -1, -1 }, fds[5] = { -1, -1, -1, -1, -1 }, i;
	struct spawn_plan *sp = NULL;
	enum ev e;
	pid_t pid;

	*stopped = 0;
	snprintf(v_queue, sizeof(v_queue), "TQ_QUEUE=%s",
	    h->queue ? h->queue : "");
	snprintf(v_name, sizeof(v_name), "TQ_TASK_NAME=%s", tc->name);
	if ((sp = malloc(sizeof(*sp))) == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	if (spawn_prepare(tc, vars, sp, err, sizeof(err)) == -1)
		goto fail;
	if ((fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, sizeof(err), "open \"/dev/null\": %s",
		    strerror(errno));
		goto fail;
	}
	if (pipe2(pin, O_CLOEXEC) == -1 || pipe2(pout, O_CLOEXEC) == -1 ||
	    pipe2(p1, O_CLOEXEC) == -1 || pipe2(p2, O_CLOEXEC) == -1) {
		snprintf(err, sizeof(err), "pipe: %s", strerror(errno));
		goto fail;
	}
	fds[1] = p1[1];
	fds[2] = p2[1];
	fds[3] = pin[0];
	fds[4] = pout[1];
	pid = spawn_start(tc, sp, fds, 5, err, sizeof(err));
	for (i = 0; i < 5; i++)
		closefd(&fds[i]);
	pin[0] = pout[1] = p1[1] = p2[1] = -1;
	if (pid == -1)
		goto fail;
	s->pid = pid;
	s->reaped = 0;
	s->to = pin[1];
	s->from = pout[0];
	s->out[0] = p1[0];
	s->out[1] = p2[0];
	s->last_err[0] = '\0';
	for (i = 0; i < 2; i++)
		(void)fcntl(s->out[i], F_SETFL, O_NONBLOCK);
	(void)fcntl(s->to, F_SETFL, O_NONBLOCK);
	(void)fcntl(s->from, F_SETFL, O_NONBLOCK);
	free(sp);
	log_info("event=served_start name=%s pid=%d", s->name, (int)pid);
	e = pump(s, tc, h, 0, now_ms() + tc->serve_start_timeout_ms, NULL,
	    NULL);
	switch (e) {
	case EV_READY:
		return 0;
	case EV_STOP:
		*stopped = 1;
		snprintf(err, sizeof(err), "stopped while it started");
		child_end(s, tc, END_KILL, NULL, err);
		snprintf(h->error, sizeof(h->error), "served handler did not "
		    "start: %s", err);
		return -1;
	case EV_DEADLINE:
		snprintf(err, sizeof(err), "no READY within %lld s",
		    (long long)(tc->serve_start_timeout_ms / 1000));
		child_end(s, tc, END_KILL, NULL, err);
		break;
	case EV_DIED:
		child_end(s, tc, END_DEAD, NULL, "exited before READY");
		spawn_status(s->status, err, sizeof(err));
		if (s->last_err[0] != '\0') {
			size_t l = strlen(err);

			snprintf(err + l, sizeof(err) - l, ": %s",
			    s->last_err);
		}
		break;
	default:
		/* "served handler protocol error: X" */
		snprintf(err, sizeof(err), "%.*s", (int)sizeof(err) - 1,
		    strncmp(h->error, "served handler ", 15) == 0 ?
		    h->error + 15 : h->error);
		child_end(s, tc, END_KILL, NULL, err);
		break;
	}
	backoff(s);
	snprintf(h->error, sizeof(h->error), "served handler did not start: "
	    "%s", err);
	return -1;
fail:
	free(sp);
	for (i = 0; i < 5; i++)
		closefd(&fds[i]);
	for (i = 0; i < 2; i++) {
		closefd(&pin[i]);
		closefd(&pout[i]);
		closefd(&p1[i]);
		closefd(&p2[i]);
	}
	backoff(s);
	snprintf(h->error, sizeof(h->error), "served handler did not start: "
	    "%s", err);
	return -1;
}

/* Between tasks: a child that died or spoke while idle goes, and so does
 * one due for recycling. */
static void
child_check(struct served *s, const struct task_conf *tc, struct hctx *h)
{
	unsigned long mb;
	char why[128];
	struct pollfd p;
	enum ev e;
	int eof;

	if (s->pid == 0)
		return;
	noise_read(s, 0);
	noise_read(s, 1);
	p.fd = s->from;
	p.events = POLLIN;
	if (poll(&p, 1, 0) == 1) {
		eof = frames_read(s);
		e = frames_take(s, tc, h, 0);
		if (e == EV_PROTO) {
			log_warnx("event=served_idle_error name=%s pid=%d "
			    "error=\"%s\"", s->name, (int)s->pid, h->error);
			child_end(s, tc, END_KILL, NULL, "protocol error while "
			    "idle");
			h->error[0] = '\0';
			backoff(s);
			return;
		}
		if (eof) {
			child_end(s, tc, END_DEAD, NULL, "exited while idle");
			backoff(s);
			return;
		}
	}
	if (tc->max_tasks_per_child > 0 &&
	    s->ntasks >= (unsigned long)tc->max_tasks_per_child) {
		snprintf(why, sizeof(why), "recycled after %lu tasks",
		    s->ntasks);
		child_end(s, tc, END_CLOSE, NULL, why);
	} else if (tc->max_rss_mb > 0 &&
	    (mb = rss_mb(s->pid)) > (unsigned long)tc->max_rss_mb) {
		snprintf(why, sizeof(why), "recycled at %lu MB of rss "
		    "(max_rss_mb %lld)", mb, tc->max_rss_mb);
		child_end(s, tc, END_CLOSE, NULL, why);
	}
}

/* After a child ended under a task (it died, broke the protocol, was
 * killed for a time limit or a cancel): a fresh one now, when its
 * backoff is short, so that the next task (often this one, retried)
 * finds it started and a killed child is replaced within a second. A
 * longer backoff (a child that keeps failing) waits for the next task. */
static void
respawn(struct served *s, const struct task_conf *tc, const struct hctx *h)
{
	volatile sig_atomic_t no = 0;
	struct hctx q = *h;
	int stopped;

	if (s->pid != 0 || s->start_at - now_ms() > SERVE_RESPAWN_MS)
		return;
	while (now_ms() < s->start_at)
		sleep_ms(SERVE_TICK_MS);
	q.cancel = &no;
	(void)child_start(s, tc, &q, &stopped);
}

int
serve_run(const struct task_conf *tc, struct hctx *h)
{
	struct buf w = BUF_INIT;
	int64_t deadline;
	struct served *s;
	unsigned tmo;
	size_t woff = 0;
	int stopped;
	enum ev e;

	if ((s = served_get(tc)) == NULL) {
		snprintf(h->error, sizeof(h->error), "out of memory");
		return -1;
	}
	deadline = tc->timeout_ms > 0 ? now_ms() + tc->timeout_ms : -1;
	child_check(s, tc, h);
	/* After a crash, the next child waits its turn (the task's time
	 * limit and a cancel still count). */
	while (s->pid == 0 && now_ms() < s->start_at) {
		if (*h->cancel) {
			snprintf(h->error, sizeof(h->error), "cancelled");
			return -1;
		}
		if (deadline != -1 && now_ms() >= deadline)
			goto timedout;
		sleep_ms(SERVE_TICK_MS);
	}
	if (s->pid == 0 && child_start(s, tc, h, &stopped) == -1)
		return -1;
	tmo = h->timeout_ms;
	if (tc->timeout_ms > 0 && (tmo == 0 || tc->timeout_ms < tmo))
		tmo = (unsigned)tc->timeout_ms;
	if (sf_encode_task(&w, h->id, h->attempt, h->max_attempts, tmo,
	    h->name, h->payload, h->len) == -1) {
		snprintf(h->error, sizeof(h->error), "task frame of %zu bytes: "
		    "too large or out of memory", h->len);
		buf_release(&w);
		return -1;
	}
	s->ntasks++;
	e = pump(s, tc, h, 1, deadline, &w, &woff);
	buf_release(&w);
	switch (e) {
	case EV_OK:
		s->fails = 0;
		return 0;
	case EV_ERROR:
		return -1;
	case EV_STOP:
		child_end(s, tc, END_KILL, h->id, "cancelled or timed out");
		snprintf(h->error, sizeof(h->error), "cancelled");
		respawn(s, tc, h);
		return -1;
	case EV_DEADLINE:
		child_end(s, tc, END_KILL, h->id, "timed out");
		respawn(s, tc, h);
		goto timedout;
	case EV_DIED:
		child_end(s, tc, END_DEAD, NULL, "exited while running a "
		    "task");
		if (WIFEXITED(s->status))
			snprintf(h->error, sizeof(h->error), "served handler "
			    "exited with status %d", WEXITSTATUS(s->status));
		else
			snprintf(h->error, sizeof(h->error), "served handler "
			    "killed by signal %d", WIFSIGNALED(s->status) ?
			    WTERMSIG(s->status) : 0);
		if (s->last_err[0] != '\0') {
			size_t l = strlen(h->error);

			snprintf(h->error + l, sizeof(h->error) - l, ": %s",
			    s->last_err);
		}
		backoff(s);
		respawn(s, tc, h);
		return -1;
	default:
		log_warnx("event=served_protocol_error name=%s pid=%d "
		    "task=%s error=\"%s\"", s->name, (int)s->pid, h->id,
		    h->error);
		child_end(s, tc, END_KILL, NULL, "protocol error");
		backoff(s);
		respawn(s, tc, h);
		return -1;
	}
timedout:
	snprintf(h->error, sizeof(h->error), "timed out after %lld ms",
	    (long long)tc->timeout_ms);
	return -1;
}

void
serve_shutdown(void)
{
	const struct task_conf *tc;
	size_t i;

	for (i = 0; i < nkids; i++) {
		if (kids[i].pid == 0 || (tc = exec_find(kids[i].name)) == NULL)
			continue;
		child_end(&kids[i], tc, END_CLOSE, NULL, "worker exit");
	}
	free(kids);
	kids = NULL;
	nkids = 0;
}
