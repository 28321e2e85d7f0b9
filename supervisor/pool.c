/* pool.c: worker slots: spawn, watch, stop, restart. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inifile.h"
#include "log.h"
#include "loop.h"
#include "supervisor.h"
#include "task.h"
#include "util.h"

extern char **environ;

/* ---- configuration: one [pool NAME] section per pool ---- */

struct pools_ctx {
	struct pool_conf *pc;
	int		 n;
};

void pool_defaults(struct pool_conf *, const char *name);

void
pool_defaults(struct pool_conf *pc, const char *name)
{
	memset(pc, 0, sizeof(*pc));
	snprintf(pc->name, sizeof(pc->name), "%s", name);
	snprintf(pc->queue, sizeof(pc->queue), "%s", S.cfg.queue);
	pc->workers = 2;
	snprintf(pc->command, sizeof(pc->command), "%s", S.worker_cmd);
	pc->heartbeat_ms = 200;
	pc->hang_ms = 1000;
	pc->drain_ms = 30000;
	pc->restart_max = 30;
	pc->restart_period_ms = 60000;
	pc->cooldown_ms = 30000;
}

static const struct {
	const char	*key;
	long long	 min, max;
	size_t		 off;
	int		 ms;	/* value given in seconds, stored in ms */
} pool_ints[] = {
	{ "heartbeat_ms", 10, 60000, offsetof(struct pool_conf, heartbeat_ms), 0 },
	{ "hang_timeout_ms", 50, 3600000, offsetof(struct pool_conf, hang_ms), 0 },
	{ "drain_ms", 0, 86400000, offsetof(struct pool_conf, drain_ms), 0 },
	{ "restart_period_s", 1, 86400,
	    offsetof(struct pool_conf, restart_period_ms), 1 },
	{ "cooldown_s", 0, 86400, offsetof(struct pool_conf, cooldown_ms), 1 },
	{ "prefetch", 1, 1000, offsetof(struct pool_conf, prefetch), 0 },
	{ "batch", 1, 500, offsetof(struct pool_conf, batch), 0 },
	{ NULL, 0, 0, 0, 0 },
};

/* Sets one pool key; 0 or -1 with err. */
int pool_set(struct pool_conf *, const char *key, const char *v, char *err,
    size_t errsz);

int
pool_set(struct pool_conf *pc, const char *key, const char *v, char *err,
    size_t errsz)
{
	const char *errstr;
	long long n;
	int i;

	if (strcmp(key, "queue") == 0) {
		if (!task_name_ok(v, TASK_QUEUE_MAX)) {
			snprintf(err, errsz, "pool %s: bad queue \"%s\"",
			    pc->name, v);
			return -1;
		}
		snprintf(pc->queue, sizeof(pc->queue), "%s", v);
		return 0;
	}
	if (strcmp(key, "command") == 0) {
		if (strlen(v) >= sizeof(pc->command) || *v == '\0') {
			snprintf(err, errsz, "pool %s: bad command", pc->name);
			return -1;
		}
		snprintf(pc->command, sizeof(pc->command), "%s", v);
		return 0;
	}
	if (strcmp(key, "workers") == 0) {
		if (parse_num(v, 0, SLOTS_MAX, &n, &errstr) == -1) {
			snprintf(err, errsz, "pool %s: workers \"%s\" is %s "
			    "(allowed 0..%d)", pc->name, v, errstr, SLOTS_MAX);
			return -1;
		}
		pc->workers = (int)n;
		return 0;
	}
	if (strcmp(key, "restart_intensity") == 0) {
		if (parse_num(v, 1, 100000, &n, &errstr) == -1) {
			snprintf(err, errsz, "pool %s: restart_intensity \"%s\" "
			    "is %s", pc->name, v, errstr);
			return -1;
		}
		pc->restart_max = (unsigned)n;
		return 0;
	}
	for (i = 0; pool_ints[i].key; i++) {
		if (strcmp(key, pool_ints[i].key) != 0)
			continue;
		if (parse_num(v, pool_ints[i].min, pool_ints[i].max, &n,
		    &errstr) == -1) {
			snprintf(err, errsz, "pool %s: %s \"%s\" is %s (allowed "
			    "%lld..%lld)", pc->name, key, v, errstr,
			    pool_ints[i].min, pool_ints[i].max);
			return -1;
		}
		if (pool_ints[i].ms)
			n *= 1000;
		if (strcmp(key, "prefetch") == 0 || strcmp(key, "batch") == 0)
			memcpy((char *)pc + pool_ints[i].off, &n, sizeof(n));
		else {
			int64_t v64 = n;

			memcpy((char *)pc + pool_ints[i].off, &v64, sizeof(v64));
		}
		return 0;
	}
	snprintf(err, errsz, "pool %s: unknown setting \"%s\"", pc->name, key);
	return -1;
}

static int
pools_cb(void *arg, const char *section, const char *name, const char *value,
    char *err, size_t errsz)
{
	struct pools_ctx *ctx = arg;
	struct pool_conf *pc = NULL;
	int i;

	if (strncmp(section, "pool ", 5) != 0) {
		if (strcmp(section, "tq") != 0 &&
		    strncmp(section, "task ", 5) != 0 &&
		    strncmp(section, "queue ", 6) != 0 &&
		    strncmp(section, "limit ", 6) != 0 &&
		    strncmp(section, "cron ", 5) != 0) {
			snprintf(err, errsz, "unknown section [%s]", section);
			return -1;
		}
		return 0;
	}
	section += 5;
	for (i = 0; i < ctx->n; i++)
		if (strcmp(ctx->pc[i].name, section) == 0)
			pc = &ctx->pc[i];
	if (pc == NULL) {
		if (ctx->n == POOLS_MAX || !task_name_ok(section,
		    POOL_NAME_MAX)) {
			snprintf(err, errsz, "bad pool name or more than %d "
			    "pools: [pool %s]", POOLS_MAX, section);
			return -1;
		}
		pc = &ctx->pc[ctx->n++];
		pool_defaults(pc, section);
	}
	return pool_set(pc, name, value, err, errsz);
}

int
pools_load(const char *file, struct pool_conf *pc, int *n, char *err,
    size_t errsz)
{
	struct pools_ctx ctx = { pc, 0 };
	int i;

	*n = 0;
	if (inifile_parse(file, pools_cb, &ctx, err, errsz) == -1)
		return -1;
	for (i = 0; i < ctx.n; i++)
		if (pc[i].hang_ms <= pc[i].heartbeat_ms) {
			snprintf(err, errsz, "pool %s: hang_timeout_ms must "
			    "exceed heartbeat_ms", pc[i].name);
			return -1;
		}
	*n = ctx.n;
	return 0;
}

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- processes ---- */

struct slot *
slot_by_pid(pid_t pid)
{
	int i, j;

	for (i = 0; i < S.npools; i++)
		for (j = 0; j < S.pools[i]->nslots; j++)
			if (S.pools[i]->slots[j].pid == pid &&
			    S.pools[i]->slots[j].st != SL_DOWN)
				return &S.pools[i]->slots[j];
	return NULL;
}

struct slot *
slot_by_fd(int fd)
{
	int i, j;

	for (i = 0; i < S.npools; i++)
		for (j = 0; j < S.pools[i]->nslots; j++)
			if (S.pools[i]->slots[j].fd == fd)
				return &S.pools[i]->slots[j];
	return NULL;
}

int
pools_live(void)
{
	int i, j, n = 0;

	for (i = 0; i < S.npools; i++)
		for (j = 0; j < S.pools[i]->nslots; j++)
			if (S.pools[i]->slots[j].st != SL_DOWN)
				n++;
	return n;
}

/* Environment for a worker: ours, with the pool's settings on top. */
static char **
child_env(const struct pool *p, int fd)
{
	static char buf[8][160];
	size_t n = 0, i, k = 0;
	char **env;
	const char *skip[] = { "TQ_SUPERVISOR_FD=", "TQ_QUEUE=", "TQ_CONFIG=",
	    "TQ_HEARTBEAT_MS=", "TQ_PREFETCH=", "TQ_BATCH=", "TQ_NODE=",
	    "TQ_SUPERVISOR_PID=", "NOTIFY_SOCKET=", "WATCHDOG_USEC=", "WATCHDOG_PID=", NULL };
	int s;

	while (environ[n])
		n++;
	if ((env = calloc(n + 10, sizeof(*env))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		for (s = 0; skip[s]; s++)
			if (strncmp(environ[i], skip[s], strlen(skip[s])) == 0)
				break;
		if (skip[s] == NULL)
			env[k++] = environ[i];
	}
	snprintf(buf[0], sizeof(buf[0]), "TQ_SUPERVISOR_FD=%d", fd);
	snprintf(buf[1], sizeof(buf[1]), "TQ_QUEUE=%s", p->conf.queue);
	snprintf(buf[2], sizeof(buf[2]), "TQ_HEARTBEAT_MS=%lld",
	    (long long)p->conf.heartbeat_ms);
	snprintf(buf[3], sizeof(buf[3]), "TQ_NODE=%s", S.node);
	snprintf(buf[6], sizeof(buf[6]), "TQ_SUPERVISOR_PID=%d", (int)getpid());
	env[k++] = buf[6];
	env[k++] = buf[0];
	env[k++] = buf[1];
	env[k++] = buf[2];
	env[k++] = buf[3];
	if (p->conf.prefetch) {
		snprintf(buf[4], sizeof(buf[4]), "TQ_PREFETCH=%lld",
		    p->conf.prefetch);
		env[k++] = buf[4];
	}
	if (p->conf.batch) {
		snprintf(buf[5], sizeof(buf[5]), "TQ_BATCH=%lld",
		    p->conf.batch);
		env[k++] = buf[5];
	}
	if (S.conf_abs[0] != '\0')
		env[k++] = S.conf_env;
	env[k] = NULL;
	return env;
}

void
slot_spawn(struct slot *sl)
{
	struct pool *p = sl->pool;
	char cmd[sizeof(p->conf.command)], *argv[POOL_ARGV_MAX];
	int sv[2] = { -1, -1 }, ep[2] = { -1, -1 }, child_errno;
	sigset_t none;
	char **env = NULL;
	ssize_t r;
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "%s", p->conf.command);
	if (split_words(cmd, argv, POOL_ARGV_MAX) == 0) {
		log_error("event=spawn_failed pool=%s error=\"empty command\"",
		    p->conf.name);
		goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1 ||
	    pipe2(ep, O_CLOEXEC) == -1) {
		log_warn("event=spawn_failed pool=%s socketpair/pipe",
		    p->conf.name);
		goto fail;
	}
	/* Built before fork: the child only calls async-signal-safe code. */
	if ((env = child_env(p, 3)) == NULL)
		goto fail;
	sigemptyset(&none);
	if ((pid = fork()) == -1) {
		log_warn("event=spawn_failed pool=%s fork", p->conf.name);
		goto fail;
	}
	if (pid == 0) {
		/* Own process group: stop = signal the group. */
		setpgid(0, 0);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(sv[1], 3) == -1)
			goto child_fail;
		execve(argv[0], argv, env);
child_fail:
		child_errno = errno;
		(void)!write(ep[1], &child_errno, sizeof(child_errno));
		_exit(127);
	}
	setpgid(pid, pid);	/* both sides, against the race */
	close(sv[1]);
	sv[1] = -1;
	close(ep[1]);
	ep[1] = -1;
	/* EOF: exec happened. An int: it failed, with that errno. */
	do
		r = read(ep[0], &child_errno, sizeof(child_errno));
	while (r == -1 && errno == EINTR);
	close(ep[0]);
	ep[0] = -1;
	free(env);
	env = NULL;
	sl->pid = pid;
	sl->st = SL_UP;
	sl->started = sl->last_hb = now_ms();
	sl->hello = 0;
	sl->owner[0] = '\0';
	sl->cur_set = 0;
	sl->hang_killed = 0;
	sl->fence_sent = 0;
	sl->fence_killed = 0;
	sl->kill_at = 0;
	sl->term_at = 0;
	sl->restart_at = -1;
	sl->wstate = WS_IDLE;
	if (r == sizeof(child_errno)) {
		log_error("event=spawn_failed pool=%s command=\"%s\" "
		    "error=\"%s\"", p->conf.name, argv[0],
		    strerror(child_errno));
		/* The child exits 127; SIGCHLD handles the rest. */
		close(sv[0]);
		sl->fd = -1;
		return;
	}
	sl->fd = sv[0];
	loop_watch(sl->fd);
	log_info("event=worker_started pool=%s slot=%d pid=%d", p->conf.name,
	    sl->idx, (int)pid);
	return;
fail:
	free(env);
	if (sv[0] != -1)
		close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	if (ep[0] != -1)
		close(ep[0]);
	if (ep[1] != -1)
		close(ep[1]);
	sl->st = SL_DOWN;
	sl->restart_at = now_ms() + 1000;
}

static void
slot_close_fd(struct slot *sl)
{
	if (sl->fd != -1) {
		loop_unwatch(sl->fd);
		close(sl->fd);
		sl->fd = -1;
	}
}

static void
group_kill(struct slot *sl, int sig)
{
	if (sl->pid > 0 && kill(-sl->pid, sig) == -1 && errno == ESRCH)
		(void)kill(sl->pid, sig);
}

void
slot_exited(struct slot *sl, int status)
{
	struct pool *p = sl->pool;
	int64_t now = now_ms(), lived = now - sl->started;
	char how[64], reason[128];
	int clean;

	if (WIFEXITED(status))
		snprintf(how, sizeof(how), "exit=%d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "signal=%d", WTERMSIG(status));
	else
		snprintf(how, sizeof(how), "status=%d", status);
	clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	/* Frames it sent before dying (a TASK_BEGIN above all) count. */
	if (sl->fd != -1)
		slot_frame(sl);
	/* Leftovers of its group (exec handlers) go with it. */
	group_kill(sl, SIGKILL);
	slot_close_fd(sl);
	log_info("event=worker_exit pool=%s slot=%d pid=%d %s lived_ms=%lld "
	    "hang_killed=%d task=%s", p->conf.name, sl->idx, (int)sl->pid, how,
	    (long long)lived, sl->hang_killed, sl->cur_set ? "yes" : "none");
	/* Whatever it held goes back, fenced: the one it was running is
	 * charged an attempt, the rest of its batch is not. */
	if (sl->hello) {
		snprintf(reason, sizeof(reason), "worker %s (%s%s)",
		    clean ? "exited" : "died", how,
		    sl->hang_killed ? ", hung" : "");
		db_release(sl, reason);
	}
	sl->pid = 0;
	sl->hello = 0;
	sl->owner[0] = '\0';
	sl->cur_set = 0;
	if (sl->st == SL_STOPPING || S.stopping || p->removed || sl->retire) {
		sl->st = SL_DOWN;
		sl->restart_at = -1;
		db_owners_update();
		return;
	}
	sl->st = SL_DOWN;
	sl->quick = lived < 10000 ? sl->quick + 1 : 1;
	sl->restarts++;
	p->total_restarts++;
	if (intensity_add(&p->restarts, now, p->conf.restart_max,
	    p->conf.restart_period_ms) && !p->failing) {
		p->failing = 1;
		p->failing_until = now + p->conf.cooldown_ms;
		log_error("event=pool_failing pool=%s restarts=%u period_s=%lld "
		    "action=cooldown cooldown_s=%lld", p->conf.name,
		    intensity_count(&p->restarts, now,
		    p->conf.restart_period_ms),
		    (long long)p->conf.restart_period_ms / 1000,
		    (long long)p->conf.cooldown_ms / 1000);
	}
	sl->restart_at = now + restart_delay(sl->quick - 1, 5000);
	db_owners_update();
}

void
slot_frame(struct slot *sl)
{
	uint8_t buf[PROTO_MAX + 1];
	struct frame f;
	char err[128];
	ssize_t n;

	for (;;) {
		n = recv(sl->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* EOF: the worker is gone or going. SIGCHLD follows;
			 * make sure it does. */
			slot_close_fd(sl);
			if (sl->pid > 0 && sl->st == SL_UP)
				group_kill(sl, SIGKILL);
			return;
		}
		if (proto_decode(buf, (size_t)n, &f, err, sizeof(err)) == -1 ||
		    f.type >= P_DRAIN || (f.type != P_HELLO && !sl->hello)) {
			log_error("event=bad_frame pool=%s pid=%d error=\"%s\" "
			    "action=kill", sl->pool->conf.name, (int)sl->pid,
			    f.type >= P_DRAIN ? "wrong direction" :
			    !sl->hello && f.type != P_HELLO ? "no hello" : err);
			slot_close_fd(sl);
			group_kill(sl, SIGKILL);
			return;
		}
		sl->last_hb = now_ms();
		switch (f.type) {
		case P_HELLO:
			snprintf(sl->owner, sizeof(sl->owner), "%s",
			    f.u.hello.owner);
			sl->hello = 1;
			db_owners_update();
			break;
		case P_HEARTBEAT:
			sl->wstate = f.u.hb.state;
			sl->progress = f.u.hb.progress;
			sl->inflight = f.u.hb.inflight;
			sl->rss_kb = f.u.hb.rss_kb;
			sl->succeeded = f.u.hb.succeeded;
			sl->failed = f.u.hb.failed;
			sl->duplicates = f.u.hb.duplicates;
			break;
		case P_TASK_BEGIN:
			sl->cur = f.u.task.task;
			sl->cur_fence = f.u.task.fence;
			sl->cur_set = 1;
			sl->cur_limited = f.u.task.ok;
			sl->fence_sent = 0;
			sl->fence_killed = 0;
			sl->progress = 0;
			sl->cur_since = now_us();
			break;
		case P_TASK_END:
			if (sl->cur_set && uuid_cmp(&sl->cur,
			    &f.u.task.task) == 0) {
				sl->cur_set = 0;
				metrics_observe(sl->pool, f.u.task.ok);
			}
			break;
		case P_TASK_DONE:
			metrics_finished(sl->pool->conf.queue, f.u.done.name,
			    (enum rollup_outcome)f.u.done.outcome,
			    f.u.done.run_us > INT64_MAX ? -1 :
			    (int64_t)f.u.done.run_us,
			    f.u.done.wait_us > INT64_MAX ? -1 :
			    (int64_t)f.u.done.wait_us, f.u.done.timed_out);
			break;
		default:
			break;
		}
	}
}

void
slot_stop(struct slot *sl, int64_t now)
{
	struct frame f;

	if (sl->st != SL_UP) {
		if (sl->st == SL_DOWN)
			sl->restart_at = -1;
		return;
	}
	sl->st = SL_STOPPING;
	sl->term_at = now + sl->pool->conf.drain_ms;
	memset(&f, 0, sizeof(f));
	f.type = P_DRAIN;
	if (sl->fd == -1 || proto_send(sl->fd, &f) == -1)
		sl->term_at = now;	/* cannot ask: tell */
}

/* How long before the node's hold lapses a handler is told to stop, and
 * when it is killed: a third of the node timeout, at most 1 s (the
 * worker gives its handler 500 ms, FENCE_GRACE_MS). */
static int64_t
fence_margin(void)
{
	int64_t m = S.cfg.node_timeout_ms / 3;

	return m > 1000 ? 1000 : m;
}

/* A handler must not outlive the node's hold on its task: once the
 * beats or the lease renewals have failed for long enough, the leader
 * gives the task to another node, and two would run it. Before that,
 * the worker is told (SIGUSR1: the stop path of its time limits and
 * cancels, see runner_fence), and killed if the handler still runs
 * three quarters of the margin later (its own grace is half of it). A
 * handler begun after the hold lapsed (the worker's own link came back
 * first) is told as soon as it begins. */
static void
slot_fence(struct slot *sl, int64_t now)
{
	int64_t until, m = fence_margin();
	char idtxt[UUID_STRLEN + 1];

	pthread_mutex_lock(&S.mu);
	until = S.vouch_until;
	pthread_mutex_unlock(&S.mu);
	if (!sl->hello || !sl->cur_set || until == 0 || now < until - m)
		return;
	/* Only a task under a limit (or any with fence_all): the worker
	 * said which at its begin. */
	if (!sl->cur_limited && !S.cfg.fence_all)
		return;
	uuid_fmt(&sl->cur, idtxt);
	if (sl->fence_sent != 0 && now - sl->fence_sent >= m * 3 / 4) {
		if (sl->fence_killed)
			return;
		log_warnx("event=fence_kill pool=%s pid=%d task=%s "
		    "reason=\"handler did not stop\" action=kill",
		    sl->pool->conf.name, (int)sl->pid, idtxt);
		sl->fence_killed = 1;
		group_kill(sl, SIGKILL);
		return;
	}
	if (sl->fence_sent != 0)
		return;
	log_warnx("event=fence pool=%s pid=%d task=%s lapses_in_ms=%lld "
	    "reason=\"node beat or lease renewal failing\" action=stop",
	    sl->pool->conf.name, (int)sl->pid, idtxt,
	    (long long)(until - now));
	sl->fence_sent = now;
	if (kill(sl->pid, SIGUSR1) == -1 && errno != ESRCH)
		log_warn("event=fence_send_failed pid=%d", (int)sl->pid);
}

void
pool_tick(struct pool *p, int64_t now)
{
	struct slot *sl;
	int i, live = 0;

	if (p->failing && now >= p->failing_until) {
		p->failing = 0;
		intensity_reset(&p->restarts);
		log_info("event=pool_retry pool=%s", p->conf.name);
	}
	for (i = 0; i < p->nslots; i++) {
		sl = &p->slots[i];
		switch (sl->st) {
		case SL_UP:
			live++;
			slot_fence(sl, now);
			/* Silent past the hang timeout (or no hello within a
			 * start-up grace): frozen or stuck. */
			if (!sl->hang_killed && now - sl->last_hb >
			    (sl->hello ? p->conf.hang_ms :
			    (p->conf.hang_ms > 5000 ? p->conf.hang_ms : 5000))) {
				log_warnx("event=worker_hung pool=%s slot=%d "
				    "pid=%d silent_ms=%lld action=kill",
				    p->conf.name, i, (int)sl->pid,
				    (long long)(now - sl->last_hb));
				sl->hang_killed = 1;
				sl->hang_kills++;
				p->hang_kills++;
				group_kill(sl, SIGKILL);
			}
			break;
		case SL_STOPPING:
			if (sl->kill_at == 0 && now >= sl->term_at) {
				log_info("event=worker_term pool=%s pid=%d",
				    p->conf.name, (int)sl->pid);
				group_kill(sl, SIGTERM);
				sl->kill_at = now + 2000;
			} else if (sl->kill_at && now >= sl->kill_at) {
				log_warnx("event=worker_kill pool=%s pid=%d",
				    p->conf.name, (int)sl->pid);
				group_kill(sl, SIGKILL);
				sl->kill_at = now + 2000;
			}
			break;
		case SL_DOWN:
			if (!S.stopping && !p->removed && !p->failing &&
			    i < p->conf.workers && (sl->restart_at < 0 ||
			    now >= sl->restart_at))
				slot_spawn(sl);
			break;
		}
	}
	/* Retired slots at the end can go once they are down. */
	while (p->nslots > p->conf.workers &&
	    p->slots[p->nslots - 1].st == SL_DOWN)
		p->nslots--;
	(void)live;
}

void
pool_apply(struct pool *p, const struct pool_conf *pc)
{
	int64_t now = now_ms();
	int i;

	p->conf = *pc;
	for (i = 0; i < p->nslots; i++)
		if (i >= pc->workers && p->slots[i].st != SL_DOWN) {
			p->slots[i].retire = 1;
			slot_stop(&p->slots[i], now);
		}
	for (i = p->nslots; i < pc->workers; i++) {
		memset(&p->slots[i], 0, sizeof(p->slots[i]));
		p->slots[i].pool = p;
		p->slots[i].idx = i;
		p->slots[i].fd = -1;
		p->slots[i].st = SL_DOWN;
		p->slots[i].restart_at = now;
	}
	for (i = 0; i < pc->workers && i < p->nslots; i++)
		p->slots[i].retire = 0;
	if (pc->workers > p->nslots)
		p->nslots = pc->workers;
}

/* Sends the cancel requests the database thread found (a worker that
 * ignores one is stopped by its own grace period, then restarted). */
void
cancels_send(void)
{
	struct frame f;
	size_t i;
	int a, b;

	pthread_mutex_lock(&S.mu);
	for (i = 0; i < S.ncancels; i++)
		for (a = 0; a < S.npools; a++)
			for (b = 0; b < S.pools[a]->nslots; b++) {
				struct slot *sl = &S.pools[a]->slots[b];

				if (sl->fd == -1 || !sl->hello ||
				    strcmp(sl->owner, S.cancels[i].owner) != 0)
					continue;
				memset(&f, 0, sizeof(f));
				f.type = P_CANCEL;
				f.u.cancel.task = S.cancels[i].task;
				if (proto_send(sl->fd, &f) == -1)
					log_warn("event=cancel_send_failed "
					    "pid=%d", (int)sl->pid);
			}
	S.ncancels = 0;
	pthread_mutex_unlock(&S.mu);
}
