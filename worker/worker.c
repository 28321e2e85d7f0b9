/*
 * tq-worker: consume, claim (fenced), run, finish, ack.
 *
 * The main thread owns both connections and never runs a handler: it keeps
 * reading deliveries (so rabbitmq-c services AMQP heartbeats), renews
 * leases and records outcomes. Handlers run one batch at a time on a
 * second thread. A delivery is acked right after its claim commits: from
 * then on the row is the truth and the lease guards the task, so the
 * broker's consumer_timeout never sees a long task.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdatomic.h>
#include <sys/prctl.h>

#include "broker.h"
#include "client.h"
#include "history.h"
#include "proto.h"
#include "config.h"
#include "log.h"
#include "store.h"
#include "tally.h"
#include "task.h"
#include "util.h"
#include "worker.h"
#include "worker_int.h"

struct worker W;

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: tq-worker [-c FILE] [-q QUEUE] [--prefetch N] [--batch N]\n"
"                 [--plugin PATH.so]... [--no-reconcile]\n"
"                 [--amqp-url URL] [--mysql-url URL]\n"
"\n"
"Consumes QUEUE, runs each task's handler and records the outcome in\n"
"MySQL. Handlers: [task NAME] programs of the config file, --plugin\n"
"shared objects, and the built-ins tq.echo, tq.sleep, tq.fail, tq.crash,\n"
"tq.hang, tq.progress, tq.chaos. Unreachable servers are retried with\n"
"backoff. Standalone (no supervisor), it also takes part in electing the\n"
"reconciler that publishes stranded and due tasks; --no-reconcile turns\n"
"that off.\n"
"\n"
"SIGTERM or SIGINT: stop taking tasks, finish the current ones, exit 0.\n"
"exit status: 0 ok, 2 usage, 100 bad configuration or plugin, 111 its\n"
"supervisor is gone, or a handler ignored a stop and the process left.\n");
}

/* ---- ledger: executions as this process saw them, for the checker ---- */

void
ledger_open(void)
{
	const char *dir = getenv("TQ_LEDGER_DIR");
	char path[1024];

	W.ledger = -1;
	if (dir == NULL || *dir == '\0')
		return;
	snprintf(path, sizeof(path), "%s/worker-%s-%d.log", dir, node_name(),
	    (int)getpid());
	if ((W.ledger = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0644)) == -1)
		log_warn("ledger \"%s\"", path);
}

void
ledger(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	if (W.ledger == -1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(line) &&
	    write(W.ledger, line, (size_t)n) != n)
		log_warn("ledger write");
}

/* ---- handler thread ---- */

static void
report_progress(struct hctx *h, unsigned pct, const char *msg)
{
	pthread_mutex_lock(&W.mu);
	W.prog_pct = pct > 100 ? 100 : pct;
	snprintf(W.prog_msg, sizeof(W.prog_msg), "%s", msg ? msg : "");
	W.prog_dirty = 1;
	W.prog_job = (size_t)(uintptr_t)h->priv;
	pthread_mutex_unlock(&W.mu);
}

static void
run_job(struct job *j, size_t idx)
{
	const struct task_conf *tc;
	int found;
	struct hctx h;
	handler_fn fn;
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	memset(&h, 0, sizeof(h));
	h.name = j->name;
	h.queue = W.cfg.queue;
	h.payload = j->payload;
	h.len = j->len;
	h.attempt = j->c.attempt;
	h.max_attempts = j->c.max_attempts;
	h.timeout_ms = j->c.timeout_ms;
	uuid_fmt(&j->c.id, h.id);
	h.result = &j->result;
	h.cancel = &W.cancel;
	h.progress = report_progress;
	h.priv = (void *)(uintptr_t)idx;
	if (j->skip) {
		j->ok = 0;
		snprintf(j->error, sizeof(j->error), "cancelled");
	} else if ((tc = exec_find(j->name)) != NULL) {
		j->ok = (tc->serve ? serve_run(tc, &h) : exec_run(tc, &h)) == 0;
		if (!j->ok)
			snprintf(j->error, sizeof(j->error), "%s", h.error[0] ?
			    h.error : "program failed");
	} else if ((j->ok = plugin_run(j->name, &h, &found) == 0), found) {
		if (!j->ok)
			snprintf(j->error, sizeof(j->error), "%s", h.error[0] ?
			    h.error : "handler failed");
	} else if ((fn = handler_find(j->name)) == NULL) {
		snprintf(j->error, sizeof(j->error), "unknown task name \"%s\"",
		    j->name);
		j->ok = 0;
		j->permanent = 1;
	} else if (fn(&h) == 0) {
		j->ok = 1;
	} else {
		j->ok = 0;
		snprintf(j->error, sizeof(j->error), "%s", h.error[0] ?
		    h.error : "handler failed");
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	pthread_mutex_lock(&W.mu);
	if (W.stop_why == STOP_TIMEOUT) {
		j->ok = 0;
		j->timed_out = 1;
		snprintf(j->error, sizeof(j->error), "timed out after %u ms",
		    j->c.timeout_ms);
	} else if (W.stop_why == STOP_CANCEL && !j->ok)
		snprintf(j->error, sizeof(j->error), "cancelled");
	pthread_mutex_unlock(&W.mu);
	j->us = (int64_t)(b.tv_sec - a.tv_sec) * 1000000 +
	    (b.tv_nsec - a.tv_nsec) / 1000;
}

/* Tells the supervisor which task the handler holds: if the process dies
 * now, that task is the one charged with the attempt. */
static void
task_frame(enum proto_type type, struct job *j)
{
	struct frame f;

	pthread_mutex_lock(&W.mu);
	W.cur_set = type == P_TASK_BEGIN;
	W.cur = j->c.id;
	W.cur_fence = j->c.fence;
	if (type == P_TASK_BEGIN) {
		W.prog_pct = 0;
		W.cur_idx = (size_t)(j - W.jobs);
		W.cur_started = now_ms();
		W.cur_timeout_ms = j->c.timeout_ms;
		W.stop_why = 0;
		W.hard_at = 0;
		W.cancel = 0;
	}
	pthread_mutex_unlock(&W.mu);
	if (W.sup == -1)
		return;
	memset(&f, 0, sizeof(f));
	f.type = type;
	f.u.task.task = j->c.id;
	f.u.task.fence = j->c.fence;
	f.u.task.attempt = j->c.attempt;
	f.u.task.ok = (uint8_t)j->ok;
	/* Blocking is fine here: the supervisor reads at once. */
	if (proto_send(W.sup, &f) == -1 && errno != EAGAIN)
		log_warn("event=supervisor_send_failed frame=%d", (int)type);
}

void *
handler_main(void *arg)
{
	uint64_t seen = 0, one = 1;
	sigset_t all;
	size_t i;

	(void)arg;
	/* Signals belong to the main thread's signalfd. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&W.mu);
	for (;;) {
		while (!W.quit && W.batch_seq == seen)
			pthread_cond_wait(&W.cv, &W.mu);
		if (W.quit)
			break;
		seen = W.batch_seq;
		pthread_mutex_unlock(&W.mu);
		for (i = 0; i < W.njobs; i++) {
			task_frame(P_TASK_BEGIN, &W.jobs[i]);
			run_job(&W.jobs[i], i);
			task_frame(P_TASK_END, &W.jobs[i]);
		}
		pthread_mutex_lock(&W.mu);
		W.batch_done = 1;
		if (write(W.efd, &one, sizeof(one)) != sizeof(one))
			log_warn("eventfd write");
	}
	pthread_mutex_unlock(&W.mu);
	/* Served children go before this thread: they would die with it
	 * (PR_SET_PDEATHSIG), but they are told and reaped. */
	serve_shutdown();
	return NULL;
}

/* ---- timeouts and cancellation ---- */

/* A cancel request for one of our tasks: the running one is told (soft:
 * the handler sees the flag, an exec child gets SIGTERM), one not yet
 * started is skipped. */
void
cancel_task(const struct uuid *id)
{
	char idtxt[UUID_STRLEN + 1];
	size_t i;

	pthread_mutex_lock(&W.mu);
	if (W.cur_set && uuid_cmp(&W.cur, id) == 0) {
		if (W.stop_why == 0) {
			W.stop_why = STOP_CANCEL;
			W.cancel = 1;
			W.hard_at = now_ms() + STOP_GRACE_MS;
			uuid_fmt(id, idtxt);
			log_info("event=cancel task=%s action=stop", idtxt);
		}
	} else if (W.busy)
		for (i = 0; i < W.njobs; i++)
			if (uuid_cmp(&W.jobs[i].c.id, id) == 0)
				W.jobs[i].skip = 1;
	pthread_mutex_unlock(&W.mu);
}

/* Time limits, and handlers that ignore a stop: past the grace period the
 * outcome is written for them, and the process goes (a thread cannot be
 * killed; the supervisor restarts us and gives back the rest). */
void
watch_current(void)
{
	struct finish f;
	char idtxt[UUID_STRLEN + 1];
	int64_t now = now_ms();
	int hard = 0;
	struct job j;

	pthread_mutex_lock(&W.mu);
	if (W.cur_set && W.stop_why == 0 && W.cur_timeout_ms > 0 &&
	    now - W.cur_started >= W.cur_timeout_ms) {
		W.stop_why = STOP_TIMEOUT;
		W.cancel = 1;
		W.hard_at = now + STOP_GRACE_MS;
		uuid_fmt(&W.cur, idtxt);
		log_info("event=timeout task=%s timeout_ms=%u action=stop",
		    idtxt, W.cur_timeout_ms);
	}
	if (W.cur_set && W.hard_at != 0 && now >= W.hard_at) {
		hard = 1;
		j = W.jobs[W.cur_idx];
	}
	pthread_mutex_unlock(&W.mu);
	if (!hard)
		return;
	uuid_fmt(&j.c.id, idtxt);
	log_warnx("event=stop_ignored task=%s action=exit", idtxt);
	memset(&f, 0, sizeof(f));
	f.id = j.c.id;
	f.fence = j.c.fence;
	f.attempt = j.c.attempt;
	f.max_attempts = j.c.max_attempts;
	f.backoff_base_ms = j.c.backoff_base_ms;
	f.backoff_cap_ms = j.c.backoff_cap_ms;
	f.outcome = W.stop_why == STOP_CANCEL ? FIN_CANCELLED : FIN_FAILED;
	snprintf(j.error, sizeof(j.error), W.stop_why == STOP_TIMEOUT ?
	    "timed out after %u ms (killed)" : "cancelled (killed)",
	    j.c.timeout_ms);
	f.error = j.error;
	if (W.cl.store == NULL || store_finish(W.cl.store, &f, 1) == -1)
		log_warnx("event=stop_record_failed task=%s", idtxt);
	_exit(EXIT_TEMP);
}

/* Standalone, the worker asks the database itself whether any of its
 * tasks is to be cancelled (supervised, the supervisor asks for all). */
void
poll_cancels(void)
{
	const char *owner = W.owner;
	char (*owners)[129] = NULL;
	uint64_t *fences = NULL;
	struct uuid *ids = NULL;
	int n, i;

	W.next_cancel_poll = now_ms() + 250;
	if ((n = store_cancel_asked(W.cl.store, &owner, 1, &ids, &fences,
	    &owners)) == -1) {
		db_error("cancel poll");
		return;
	}
	for (i = 0; i < n; i++)
		cancel_task(&ids[i]);
	free(ids);
	free(fences);
	free(owners);
}

/* ---- supervisor link ---- */

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
			cancel_task(&f.u.cancel.task);
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

/* ---- connections ---- */

static int64_t
retry_delay(unsigned fails)
{
	/* 100 ms doubling to 5 s, full jitter, never 0. */
	return backoff_ms(100, 5000, fails) + 50;
}

void
consumer_lost(const char *why)
{
	size_t i;

	log_warnx("event=broker_lost error=\"%s\" dropped_deliveries=%zu", why,
	    W.npend);
	/* Unacked deliveries come back to someone when the channel dies. */
	for (i = 0; i < W.npend; i++)
		delivery_release(&W.pend[i]);
	W.npend = 0;
	W.conn_gen++;
	broker_close(W.consumer);
	W.consumer = NULL;
	W.broker_at = now_ms() + retry_delay(W.broker_fails++);
}

void
consumer_connect(void)
{
	char err[TQ_ERRSZ];
	int temp;

	W.consumer = client_broker_open(&W.cl, err, sizeof(err), &temp);
	if (W.consumer == NULL) {
		if (W.broker_fails == 0 || (W.broker_fails % 20) == 0)
			log_warnx("event=broker_connect_failed error=\"%s\"",
			    err);
		W.broker_at = now_ms() + retry_delay(W.broker_fails++);
		return;
	}
	/* After every reconnect: declare and consume again. */
	if (broker_declare(W.consumer, W.cfg.queue) == -1 ||
	    broker_consume(W.consumer, W.cfg.queue, (int)W.cfg.prefetch) == -1) {
		consumer_lost(broker_errstr(W.consumer));
		return;
	}
	if (W.broker_fails > 0)
		log_info("event=broker_reconnected queue=%s after_failures=%u",
		    W.cfg.queue, W.broker_fails);
	else
		log_info("event=consuming queue=%s prefetch=%lld owner=%s",
		    W.cfg.queue, W.cfg.prefetch, W.owner);
	W.broker_fails = 0;
}

static void
db_lost(const char *why)
{
	log_warnx("event=db_lost error=\"%s\"", why);
	store_close(W.cl.store);
	W.cl.store = NULL;
	W.db_at = now_ms() + retry_delay(W.db_fails++);
}

int
db_ready(void)
{
	if (W.cl.store != NULL)
		return 1;
	if (now_ms() < W.db_at)
		return 0;
	if (client_store(&W.cl) == -1) {
		if (W.db_fails == 0 || (W.db_fails % 20) == 0)
			log_warnx("event=db_connect_failed error=\"%s\"",
			    W.cl.err);
		W.db_at = now_ms() + retry_delay(W.db_fails++);
		return 0;
	}
	if (W.db_fails > 0)
		log_info("event=db_reconnected after_failures=%u", W.db_fails);
	W.db_fails = 0;
	return 1;
}

/* A store error: connection-level ones drop the connection. */
void
db_error(const char *op)
{
	char why[TQ_ERRSZ + 64];

	snprintf(why, sizeof(why), "%s: %s", op, store_errstr(W.cl.store));
	if (store_err_temporary(W.cl.store))
		db_lost(why);
	else {
		/* Not a lost connection, yet not ours to fix: back off, and
		 * start over with a fresh connection. */
		log_error("event=db_error error=\"%s\"", why);
		db_lost(why);
	}
}

/* A call that held the main loop for long says so: the loop is what
 * keeps deliveries, leases and outcomes moving. */
static void
slow(const char *op, int64_t t0, size_t n)
{
	int64_t ms = now_ms() - t0;

	if (ms >= 1000)
		log_warnx("event=slow op=%s ms=%lld tasks=%zu", op,
		    (long long)ms, n);
}

/* ---- a round: claim, ack, hand over ---- */

static size_t
round_size(void)
{
	double n = ROUND_TARGET_US / (W.avg_us > 1 ? W.avg_us : 1);

	if (n < 1)
		n = 1;
	if (n > (double)W.cfg.batch)
		n = (double)W.cfg.batch;
	return (size_t)n;
}

static void
reject(struct delivery *d, const char *why)
{
	W.n_bad++;
	log_warnx("event=bad_message tag=%llu message_id=\"%s\" error=\"%s\" "
	    "action=dead_lettered", (unsigned long long)d->tag, d->message_id,
	    why);
	if (W.consumer && broker_reject(W.consumer, d->tag) == -1)
		consumer_lost(broker_errstr(W.consumer));
}

static void	finish_post(struct finish *);

/* A round: claims deliveries. With fin (the outcomes of the batch just
 * done), records them in the claim's transaction: one commit a round. */
void
start_round(struct finish *fin)
{
	struct claim *c = NULL;
	struct job *jobs = NULL;
	struct delivery *dl = NULL;
	struct task_msg m;
	char (*why)[256] = NULL, idtxt[UUID_STRLEN + 1];
	size_t i, k, n, nj = 0, nc = 0;
	uint64_t maxtag = 0, gen;
	int *slot = NULL, owned, r, nrej;
	int64_t t0;

	n = round_size();
	if (n > W.npend)
		n = W.npend;

	jobs = calloc(n, sizeof(*jobs));
	c = calloc(n, sizeof(*c));
	slot = calloc(n, sizeof(*slot));
	dl = calloc(n, sizeof(*dl));
	why = calloc(n, sizeof(*why));
	if (jobs == NULL || c == NULL || slot == NULL || dl == NULL ||
	    why == NULL) {
		log_error("event=oom");
		goto out;
	}
	/* The round's deliveries leave the pending list now: a lost
	 * connection below frees only what is left there. */
	memcpy(dl, W.pend, n * sizeof(*dl));
	memmove(W.pend, W.pend + n, (W.npend - n) * sizeof(*W.pend));
	W.npend -= n;
	gen = W.conn_gen;
	for (i = 0; i < n; i++) {
		slot[i] = -1;
		if (task_msg_decode(dl[i].body, dl[i].len,
		    (size_t)W.cfg.payload_max, &m, why[i],
		    sizeof(why[i])) == -1) {
			if (m.has_id) {
				/* Its row, if any, fails with the reason. */
				uuid_fmt(&m.id, idtxt);
				if (store_reject(W.cl.store, &m.id, why[i]) ==
				    -1) {
					db_error("reject");
					goto putback;
				}
				log_warnx("event=task_rejected task=%s "
				    "error=\"%s\"", idtxt, why[i]);
			}
			slot[i] = -2;
			continue;
		}
		if (W.unsafe_drop && ++W.n_seen % 10 == 0) {
			/* Broken on purpose: acked, never claimed or run. */
			uuid_fmt(&m.id, idtxt);
			log_warnx("event=debug_drop task=%s", idtxt);
			slot[i] = -4;
			continue;
		}
		/* The same id twice in one round: the second is a duplicate. */
		for (k = 0; k < nc; k++)
			if (uuid_cmp(&c[k].id, &m.id) == 0)
				break;
		if (k < nc) {
			slot[i] = -3;
			continue;
		}
		c[nc++].id = m.id;
		jobs[nj].c.id = m.id;
		snprintf(jobs[nj].name, sizeof(jobs[nj].name), "%s", m.name);
		jobs[nj].payload = m.payload;
		jobs[nj].len = m.payload_len;
		jobs[nj].body = dl[i].body;
		jobs[nj].tag = dl[i].tag;
		nj++;
	}
	t0 = now_ms();
	r = nc > 0 || fin != NULL ? store_finish_claim(W.cl.store, fin,
	    fin ? W.njobs : 0, W.owner, W.cfg.lease_ms, c, nc) : 0;
	slow(fin ? "finish_claim" : "claim", t0, nc + (fin ? W.njobs : 0));
	if (r == -1) {
		/* Nothing claimed (nor recorded): the deliveries wait for the
		 * next try, the outcomes are kept. */
		db_error(fin ? "finish" : "claim");
		goto putback;
	}
	if (fin != NULL) {
		finish_post(fin);
		fin = NULL;
	}
	/* store_claim sorted c; match results back by id. */
	for (i = 0; i < nj; i++)
		for (k = 0; k < nc; k++)
			if (uuid_cmp(&c[k].id, &jobs[i].c.id) == 0) {
				jobs[i].c = c[k];
				break;
			}
	/* Settle every delivery of the round with the broker (if the
	 * connection that delivered them still stands): rejects go to the
	 * dead-letter queue, the rest are acked. */
	nrej = 0;
	for (i = 0; i < nj; i++) {
		uuid_fmt(&jobs[i].c.id, idtxt);
		switch (jobs[i].c.result) {
		case CLAIM_OK:
			break;
		case CLAIM_NOROW:
			log_warnx("event=orphan_message task=%s "
			    "action=dead_lettered", idtxt);
			for (k = 0; k < n; k++)
				if (dl[k].tag == jobs[i].tag) {
					slot[k] = -2;
					snprintf(why[k], sizeof(why[k]),
					    "no such task");
				}
			break;
		default:
			W.n_dup++;
			log_info("event=duplicate task=%s state=%s action=dropped",
			    idtxt, task_state_name(jobs[i].c.state));
			break;
		}
	}
	for (i = 0; i < n; i++) {
		if (slot[i] == -3)
			W.n_dup++;
		if (slot[i] == -2)
			nrej++;
		else if (dl[i].tag > maxtag)
			maxtag = dl[i].tag;
	}
	for (i = 0, k = 0; i < nj; i++)
		if (jobs[i].c.result == CLAIM_OK)
			jobs[k++] = jobs[i];
	nj = k;
	if (W.conn_gen == gen && nrej == 0 && maxtag > 0) {
		/* The common case: one multiple ack settles the round. */
		if (broker_ack(W.consumer, maxtag, 1) == -1)
			consumer_lost(broker_errstr(W.consumer));
	} else if (W.conn_gen == gen) {
		/* A multiple ack would settle the rejected ones twice (the
		 * broker closes the channel for that): one by one. */
		for (i = 0; i < n && W.conn_gen == gen; i++) {
			if (slot[i] == -2)
				reject(&dl[i], why[i]);
			else if (broker_ack(W.consumer, dl[i].tag, 0) == -1)
				consumer_lost(broker_errstr(W.consumer));
		}
	}
	/* If the connection is gone, the broker redelivers what was not
	 * settled: duplicates, dropped by their rows. */
	for (i = 0; i < nj; i++) {
		uuid_fmt(&jobs[i].c.id, idtxt);
		log_debug("event=claimed task=%s fence=%llu attempt=%u", idtxt,
		    (unsigned long long)jobs[i].c.fence, jobs[i].c.attempt);
	}
	/* The bodies of claimed tasks now belong to their jobs. */
	for (i = 0; i < n; i++) {
		for (owned = 0, k = 0; k < nj; k++)
			owned |= jobs[k].body == dl[i].body;
		if (!owned)
			delivery_release(&dl[i]);
	}
	if (nj == 0)
		goto out;
	pthread_mutex_lock(&W.mu);
	W.jobs = jobs;
	W.njobs = nj;
	W.batch_done = 0;
	W.ledgered = 0;
	W.busy = 1;
	W.batch_seq++;
	pthread_cond_signal(&W.cv);
	pthread_mutex_unlock(&W.mu);
	jobs = NULL;
	W.next_renew = now_ms() + W.cfg.lease_ms / 3;
	goto out;
putback:
	/* Back to the front of the list if their connection still stands;
	 * else they are void (the broker redelivers them). */
	if (W.conn_gen == gen && W.npend + n <= PEND_MAX) {
		memmove(W.pend + n, W.pend, W.npend * sizeof(*W.pend));
		memcpy(W.pend, dl, n * sizeof(*dl));
		W.npend += n;
	} else
		for (i = 0; i < n; i++)
			delivery_release(&dl[i]);
out:
	free(fin);
	free(jobs);
	free(c);
	free(slot);
	free(dl);
	free(why);
}

/* The outcomes of the finished batch, to record (NULL: out of memory). */
struct finish *
finish_prepare(void)
{
	struct finish *f;
	size_t i;

	if ((f = calloc(W.njobs, sizeof(*f))) == NULL) {
		log_error("event=oom");
		return NULL;
	}
	for (i = 0; i < W.njobs; i++) {
		struct job *j = &W.jobs[i];

		f[i].id = j->c.id;
		f[i].fence = j->c.fence;
		f[i].attempt = j->c.attempt;
		f[i].max_attempts = j->permanent ? j->c.attempt :
		    j->c.max_attempts;
		f[i].backoff_base_ms = j->c.backoff_base_ms;
		f[i].backoff_cap_ms = j->c.backoff_cap_ms;
		if (j->ok && j->result.len > (size_t)W.cfg.result_max) {
			j->ok = 0;
			j->permanent = 1;
			f[i].max_attempts = j->c.attempt;
			snprintf(j->error, sizeof(j->error), "result of %zu "
			    "bytes exceeds result_max (%lld)", j->result.len,
			    W.cfg.result_max);
		}
		if (j->ok) {
			f[i].outcome = FIN_SUCCEEDED;
			f[i].result = j->result.data ? j->result.data : "";
			f[i].result_len = j->result.len;
		} else {
			f[i].outcome = FIN_FAILED;
			f[i].error = j->error;
		}
	}
	return f;
}

/* Records the finished batch; keeps it (and retries) while the database
 * is away. */
void
finish_round(void)
{
	struct finish *f;
	int64_t t0;
	int r;

	if ((f = finish_prepare()) == NULL)
		return;
	t0 = now_ms();
	r = store_finish(W.cl.store, f, W.njobs);
	slow("finish", t0, W.njobs);
	if (r == -1) {
		free(f);
		db_error("finish");
		return;
	}
	finish_post(f);
}

/* Tells the supervisor a recorded outcome, for its counters of finished
 * tasks. */
static void
done_frame(const struct finish *f)
{
	struct frame fr;
	const struct job *j = NULL;
	size_t i;

	for (i = 0; i < W.njobs; i++)
		if (uuid_cmp(&W.jobs[i].c.id, &f->id) == 0)
			j = &W.jobs[i];
	if (j == NULL || j->name[0] == '\0')
		return;
	memset(&fr, 0, sizeof(fr));
	fr.type = P_TASK_DONE;
	switch (f->state) {
	case TS_SUCCEEDED:
		fr.u.done.outcome = RO_SUCCEEDED;
		break;
	case TS_SCHEDULED:
		fr.u.done.outcome = RO_RETRIED;
		break;
	case TS_CANCELLED:
		fr.u.done.outcome = RO_CANCELLED;
		break;
	default:
		fr.u.done.outcome = RO_FAILED;
		break;
	}
	fr.u.done.timed_out = (uint8_t)j->timed_out;
	fr.u.done.run_us = j->us >= 0 ? (uint64_t)j->us : UINT64_MAX;
	/* The queue wait of a first attempt; a retry waited for its
	 * backoff. */
	fr.u.done.wait_us = j->c.attempt == 1 && j->c.wait_us >= 0 ?
	    (uint64_t)j->c.wait_us : UINT64_MAX;
	snprintf(fr.u.done.name, sizeof(fr.u.done.name), "%s", j->name);
	if (W.sup == -1) {
		if (tally_add(&W.tally, W.cfg.queue, j->name,
		    (enum rollup_outcome)fr.u.done.outcome, j->us,
		    fr.u.done.wait_us == UINT64_MAX ? -1 :
		    (int64_t)fr.u.done.wait_us, j->timed_out) == -1)
			log_warnx("event=oom what=\"task counters\"");
		return;
	}
	if (proto_send(W.sup, &fr) == -1 && errno != EAGAIN)
		log_warn("event=supervisor_send_failed frame=%d",
		    (int)P_TASK_DONE);
}

/* The batch's outcomes are recorded: ledger, counts, and the batch is
 * released. Frees f. */
static void
finish_post(struct finish *f)
{
	char idtxt[UUID_STRLEN + 1];
	size_t i;
	double us;

	/* store_finish sorted f by id; report in its order. */
	for (i = 0; i < W.njobs; i++) {
		uuid_fmt(&f[i].id, idtxt);
		if (!f[i].applied) {
			W.n_stale++;
			log_warnx("event=stale_finish task=%s fence=%llu "
			    "action=discarded", idtxt,
			    (unsigned long long)f[i].fence);
			continue;
		}
		ledger("done %s %llu %s %lld\n", idtxt,
		    (unsigned long long)f[i].fence, task_state_name(f[i].state),
		    (long long)wall_ms());
		done_frame(&f[i]);
		if (f[i].state == TS_SUCCEEDED)
			W.n_done++;
		else {
			W.n_failed++;
			log_info("event=task_failed task=%s attempt=%u/%u "
			    "state=%s error=\"%s\"", idtxt, f[i].attempt,
			    f[i].max_attempts, task_state_name(f[i].state),
			    f[i].error);
		}
	}
	for (i = 0; i < W.njobs; i++) {
		us = (double)W.jobs[i].us;
		W.avg_us = W.avg_us * 0.8 + us * 0.2;
		buf_release(&W.jobs[i].result);
		free(W.jobs[i].body);
	}
	free(f);
	pthread_mutex_lock(&W.mu);
	free(W.jobs);
	W.jobs = NULL;
	W.njobs = 0;
	W.busy = 0;
	W.batch_done = 0;
	W.prog_dirty = 0;
	pthread_mutex_unlock(&W.mu);
}

void
batch_ledger(void)
{
	char idtxt[UUID_STRLEN + 1];
	size_t i;

	for (i = 0; i < W.njobs; i++) {
		struct job *j = &W.jobs[i];

		uuid_fmt(&j->c.id, idtxt);
		ledger("run %s %llu %u %s %zu %016llx %lld\n", idtxt,
		    (unsigned long long)j->c.fence, j->c.attempt,
		    j->ok ? "ok" : "fail", j->result.len,
		    (unsigned long long)fnv64(j->result.data ? j->result.data :
		    "", j->result.len), (long long)wall_ms());
	}
}

/* Progress goes to the row at most five times a second; fenced, so a
 * stale worker's progress does not show. */
void
write_progress(void)
{
	struct uuid id;
	uint64_t fence;
	unsigned pct;
	char msg[256];
	int ok = 0;

	pthread_mutex_lock(&W.mu);
	if (W.busy && W.prog_job < W.njobs) {
		id = W.jobs[W.prog_job].c.id;
		fence = W.jobs[W.prog_job].c.fence;
		pct = W.prog_pct;
		snprintf(msg, sizeof(msg), "%s", W.prog_msg);
		ok = 1;
	}
	W.prog_dirty = 0;
	pthread_mutex_unlock(&W.mu);
	W.next_progress = now_ms() + 200;
	if (ok && store_progress(W.cl.store, &id, fence, pct, msg) == -1)
		db_error("progress");
}

void
renew_leases(void)
{
	struct uuid ids[STORE_BATCH_MAX];
	uint64_t fences[STORE_BATCH_MAX];
	size_t i, n = W.njobs < STORE_BATCH_MAX ? W.njobs : STORE_BATCH_MAX;

	for (i = 0; i < n; i++) {
		ids[i] = W.jobs[i].c.id;
		fences[i] = W.jobs[i].c.fence;
	}
	if (store_renew(W.cl.store, ids, fences, n, W.cfg.lease_ms) == -1)
		db_error("renew");
	W.next_renew = now_ms() + W.cfg.lease_ms / 3;
}

void
reconcile_tick(void)
{
	struct reconcile_stats rs;
	int64_t now = now_ms();
	int r;

	if (now >= W.next_lead) {
		r = store_lead(W.cl.store, "reconciler", W.owner,
		    W.cfg.leader_ttl_ms, &W.lead_token);
		if (r == -1) {
			db_error("lead");
			return;
		}
		if (r != W.leader)
			log_info("event=%s role=reconciler token=%llu",
			    r ? "leader" : "follower",
			    (unsigned long long)W.lead_token);
		W.leader = r;
		W.next_lead = now + W.cfg.leader_ttl_ms / 3;
	}
	if (W.leader && client_reconcile(&W.cl, &rs) == -1)
		client_reconcile_failed(&W.cl);
	else if (W.leader && (rs.expired || rs.published || rs.stranded || rs.cron))
		log_info("event=reconciled expired=%d due=%d published=%d "
		    "stranded=%d cron=%d", rs.expired, rs.due, rs.published,
		    rs.stranded, rs.cron);
	if (W.leader && W.cl.store != NULL && history_retention(&W.cl,
	    &W.retention, 50) == -1)
		log_warnx("event=retention_failed error=\"%s\"", W.cl.err);
	W.next_tick = now + W.cfg.reconcile_ms;
}

/* A standalone worker writes its own counts of finished tasks to
 * tq_rollup (under a supervisor, the supervisor does). */
void
rollup_flush(void)
{
	struct rollup_row *r = NULL;
	int n;

	W.next_rollup = now_ms() + 5000;
	if ((n = tally_take(&W.tally, &r)) <= 0)
		return;
	if (store_rollup_add(W.cl.store, r, (size_t)n) == -1) {
		tally_untake(&W.tally, r, (size_t)n);
		db_error("rollup");
	}
	free(r);
}

/* ---- main loop ---- */

static int
signals_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void
drain_eventfd(void)
{
	uint64_t v;

	while (read(W.efd, &v, sizeof(v)) == sizeof(v))
		;
}

static void
read_deliveries(void)
{
	struct delivery d;
	int r;

	while (W.consumer != NULL && W.npend < PEND_MAX) {
		r = broker_next(W.consumer, &d, 0);
		if (r == 0)
			break;
		if (r == -1) {
			consumer_lost(broker_errstr(W.consumer));
			break;
		}
		W.pend[W.npend++] = d;
	}
}

static int
run(void)
{
	struct pollfd pfd[3];
	struct signalfd_siginfo si;
	int64_t now, wait;
	int sfd, nfd, done;

	if ((sfd = signals_fd()) == -1)
		log_fatalx(EXIT_TEMP, "signalfd: %s", strerror(errno));
	if ((W.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		log_fatalx(EXIT_TEMP, "eventfd: %s", strerror(errno));
	if ((W.pend = calloc(PEND_MAX, sizeof(*W.pend))) == NULL)
		log_fatalx(EXIT_TEMP, "out of memory");
	pthread_mutex_init(&W.mu, NULL);
	pthread_cond_init(&W.cv, NULL);
	if (pthread_create(&W.th, NULL, handler_main, NULL) != 0)
		log_fatalx(EXIT_TEMP, "pthread_create failed");
	atomic_store(&W.loop_at, now_ms());
	link_start();

	for (;;) {
		now = now_ms();
		atomic_store(&W.loop_at, now);
		if (W.stopping && !W.busy)
			break;
		/* A standalone worker that cannot record its last outcomes
		 * (the database is away) does not wait forever: the leases
		 * give those tasks to someone else. Supervised, the
		 * supervisor's drain deadline decides. */
		if (W.stopping && W.sup == -1) {
			if (W.stop_at == 0)
				W.stop_at = now + W.cfg.lease_ms;
			else if (now >= W.stop_at) {
				log_warnx("event=stop_abandoned tasks=%zu "
				    "reason=\"outcomes not recorded in time; "
				    "leases will expire\"", W.njobs);
				/* The handler may still be running. */
				_exit(EXIT_TEMP);
			}
		}
		if (W.consumer == NULL && !W.stopping && now >= W.broker_at)
			consumer_connect();
		(void)db_ready();

		pthread_mutex_lock(&W.mu);
		done = W.busy && W.batch_done;
		pthread_mutex_unlock(&W.mu);
		if (done && W.cl.store != NULL) {
			if (!W.ledgered)
				batch_ledger();
			W.ledgered = 1;
			/* With deliveries waiting, the outcomes go with the
			 * next claim, in one transaction. */
			if (!W.stopping && W.npend > 0) {
				struct finish *f = finish_prepare();

				if (f != NULL)
					start_round(f);
			} else
				finish_round();
		}
		if (!W.busy && !W.stopping && W.npend > 0 && W.cl.store != NULL)
			start_round(NULL);
		/* Supervised, the supervisor renews every lease of the node in
		 * one statement. */
		if (W.sup == -1 && W.busy && W.cl.store != NULL &&
		    now_ms() >= W.next_renew)
			renew_leases();
		if (W.prog_dirty && W.cl.store != NULL &&
		    now_ms() >= W.next_progress)
			write_progress();
		if (W.busy)
			watch_current();
		if (W.sup == -1 && W.busy && W.cl.store != NULL &&
		    now_ms() >= W.next_cancel_poll)
			poll_cancels();
		if (W.sup == -1 && W.cl.store != NULL &&
		    now_ms() >= W.next_rollup)
			rollup_flush();
		if (W.reconcile && W.cl.store != NULL && !W.stopping &&
		    now_ms() >= W.next_tick) {
			reconcile_tick();
			client_keepalive(&W.cl);
		}

		nfd = 0;
		pfd[nfd].fd = sfd;
		pfd[nfd++].events = POLLIN;
		pfd[nfd].fd = W.efd;
		pfd[nfd++].events = POLLIN;
		/* Stopping, deliveries are no longer read: the socket would
		 * stay readable and spin the loop. */
		if (W.consumer != NULL && !W.stopping) {
			pfd[nfd].fd = broker_fd(W.consumer);
			pfd[nfd++].events = POLLIN;
		}
		wait = 200;
		if (W.reconcile && W.next_tick - now_ms() < wait)
			wait = W.next_tick - now_ms();
		if (W.consumer == NULL && W.broker_at - now_ms() < wait)
			wait = W.broker_at - now_ms();
		if (W.cl.store == NULL && W.db_at - now_ms() < wait)
			wait = W.db_at - now_ms();
		if (W.busy && wait > 50)
			wait = 50;	/* time limits and cancels are watched */
		if (!W.busy && W.npend > 0 && W.cl.store != NULL)
			wait = 0;
		if (W.consumer != NULL && broker_buffered(W.consumer))
			wait = 0;
		if (wait < 0)
			wait = 0;
		if (poll(pfd, (nfds_t)nfd, (int)wait) == -1 && errno != EINTR)
			log_fatalx(EXIT_TEMP, "poll: %s", strerror(errno));
		drain_eventfd();
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP)
				continue;
			if (!atomic_exchange(&W.stopping, 1))
				log_info("event=stopping signal=%u busy=%d",
				    si.ssi_signo, W.busy);
		}
		if (!W.stopping)
			read_deliveries();
	}
	pthread_mutex_lock(&W.mu);
	W.quit = 1;
	pthread_cond_signal(&W.cv);
	pthread_mutex_unlock(&W.mu);
	pthread_join(W.th, NULL);
	if (W.leader && W.cl.store != NULL)
		(void)store_unlead(W.cl.store, "reconciler", W.owner);
	if (W.sup == -1 && W.cl.store != NULL)
		rollup_flush();
	tally_release(&W.tally);
	log_info("event=exit succeeded=%lu failed=%lu duplicates=%lu bad=%lu "
	    "stale=%lu", W.n_done, W.n_failed, W.n_dup, W.n_bad, W.n_stale);
	/* Unacked deliveries go back to the queue with the connection. */
	while (W.npend > 0)
		delivery_release(&W.pend[--W.npend]);
	broker_close(W.consumer);
	W.consumer = NULL;
	client_close(&W.cl);
	free(W.pend);
	close(sfd);
	close(W.efd);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "queue", required_argument, NULL, 'q' },
		{ "prefetch", required_argument, NULL, 'p' },
		{ "batch", required_argument, NULL, 'b' },
		{ "amqp-url", required_argument, NULL, 'A' },
		{ "mysql-url", required_argument, NULL, 'M' },
		{ "no-reconcile", no_argument, NULL, 'R' },
		{ "plugin", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *v, *plugins[16];
	int nplug = 0;
	char err[TQ_ERRSZ], rnd[4];
	struct { const char *key, *val; } set[8];
	int ch, nset = 0, i, l;

	log_init("tq-worker", 0);
	W.reconcile = getenv("TQ_SUPERVISOR_FD") == NULL;
	while ((ch = getopt_long(argc, argv, "c:q:p:b:h", opts, NULL)) != -1)
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'q':
			set[nset].key = "queue";
			set[nset++].val = optarg;
			break;
		case 'p':
			set[nset].key = "prefetch";
			set[nset++].val = optarg;
			break;
		case 'b':
			set[nset].key = "batch";
			set[nset++].val = optarg;
			break;
		case 'A':
			set[nset].key = "amqp_url";
			set[nset++].val = optarg;
			break;
		case 'M':
			set[nset].key = "mysql_url";
			set[nset++].val = optarg;
			break;
		case 'R':
			W.reconcile = 0;
			break;
		case 'P':
			if (nplug < 16)
				plugins[nplug++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* A supervised worker reads its supervisor's file. */
	if (file == NULL && (v = getenv("TQ_CONFIG")) != NULL && *v != '\0')
		file = v;
	if (config_load(&W.cfg, file, err, sizeof(err)) == -1)
		log_fatalx(EXIT_PERM, "%s", err);
	if ((l = exec_load(file, err, sizeof(err))) == -1)
		log_fatalx(EXIT_PERM, "%s", err);
	if (l > 0)
		log_info("event=exec_tasks count=%d", l);
	for (i = 0; i < nplug; i++)
		if (plugin_load(plugins[i], err, sizeof(err)) == -1)
			log_fatalx(EXIT_PERM, "%s", err);
	for (i = 0; i < nset; i++)
		if ((strstr(set[i].key, "_url") ? config_set_flag_url(&W.cfg,
		    set[i].key, set[i].val, err, sizeof(err)) :
		    config_set(&W.cfg, set[i].key, set[i].val, err,
		    sizeof(err))) == -1)
			log_fatalx(EXIT_USAGE, "%s", err);
	if (config_check(&W.cfg, err, sizeof(err)) == -1)
		log_fatalx(EXIT_PERM, "%s", err);
	if (!task_name_ok(W.cfg.queue, TASK_QUEUE_MAX))
		log_fatalx(EXIT_PERM, "bad queue name \"%s\"", W.cfg.queue);
	if ((l = log_parselevel(W.cfg.log_level)) == -1)
		log_fatalx(EXIT_PERM, "log_level: \"%s\" is not debug, info, "
		    "warn or error", W.cfg.log_level);
	if (strcmp(W.cfg.log_target, "syslog") == 0)
		log_init("tq-worker", 1);
	log_setlevel((enum log_level)l);
	node_set(W.cfg.node);
	if (client_init(&W.cl, &W.cfg) == -1)
		log_fatalx(EXIT_PERM, "%s", W.cl.err);
	/* The owner names this process uniquely, also across restarts. */
	if (rand_bytes(rnd, sizeof(rnd)) == -1)
		memset(rnd, 0, sizeof(rnd));
	snprintf(W.owner, sizeof(W.owner), "%s:%d:%02x%02x%02x%02x",
	    node_name(), (int)getpid(), (unsigned char)rnd[0],
	    (unsigned char)rnd[1], (unsigned char)rnd[2], (unsigned char)rnd[3]);
	/* Until tasks show they are short, claim one at a time: a slow
	 * first batch would sit behind its first task. */
	W.avg_us = ROUND_TARGET_US;
	if ((v = getenv("TQ_DEBUG_UNSAFE")) != NULL && *v != '\0') {
		if (strcmp(v, "drop") == 0)
			W.unsafe_drop = 1;
		else if (strcmp(v, "nofence") == 0)
			store_debug_nofence = 1;
		else
			log_fatalx(EXIT_PERM, "TQ_DEBUG_UNSAFE: \"%s\" is not "
			    "drop or nofence", v);
		log_error("event=UNSAFE mode=%s: this worker LOSES or "
		    "DUPLICATES tasks on purpose (checker tests only)", v);
	}
	ledger_open();
	return run();
}
