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
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "log.h"
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
"SIGUSR1 (from the supervisor, which could not renew the node's leases):\n"
"stop the running handler and skip the rest of the batch.\n"
"exit status: 0 ok, 2 usage, 100 bad configuration or plugin, 111 its\n"
"supervisor is gone, or a handler ignored a stop and the process left.\n");
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
	sigaddset(&set, SIGUSR1);
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
			conn_broker_lost(broker_errstr(W.consumer));
			break;
		}
		W.pend[W.npend++] = d;
	}
}

/* The handler thread, the supervisor link and what the loop waits on;
 * the signalfd. */
static int
worker_start(void)
{
	int sfd;

	if ((sfd = signals_fd()) == -1)
		log_fatalx(EXIT_TEMP, "signalfd: %s", strerror(errno));
	if ((W.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		log_fatalx(EXIT_TEMP, "eventfd: %s", strerror(errno));
	if ((W.pend = calloc(PEND_MAX, sizeof(*W.pend))) == NULL)
		log_fatalx(EXIT_TEMP, "out of memory");
	pthread_mutex_init(&W.mu, NULL);
	pthread_cond_init(&W.cv, NULL);
	if (pthread_create(&W.th, NULL, runner_main, NULL) != 0)
		log_fatalx(EXIT_TEMP, "pthread_create failed");
	atomic_store(&W.loop_at, now_ms());
	link_start();
	return sfd;
}

/* A standalone worker that cannot record its last outcomes (the database
 * is away) does not wait forever: the leases give those tasks to someone
 * else. Supervised, the supervisor's drain deadline decides. */
static void
stop_deadline(int64_t now)
{
	if (!W.stopping || W.sup != -1)
		return;
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

/* A batch the handler thread is done with: its "run" lines, then its
 * outcomes recorded. */
static void
batch_collect(void)
{
	struct finish *f;
	int done;

	pthread_mutex_lock(&W.mu);
	done = W.busy && W.batch_done;
	pthread_mutex_unlock(&W.mu);
	if (!done || W.cl.store == NULL)
		return;
	if (!W.ledgered)
		ledger_batch();
	W.ledgered = 1;
	/* With deliveries waiting, the outcomes go with the next claim, in
	 * one transaction. */
	if (!W.stopping && W.npend > 0) {
		if ((f = round_outcomes()) != NULL)
			round_start(f);
	} else
		round_finish();
}

/* What falls due on the loop's turn: leases, progress, limits, cancels,
 * counts, the reconciler. */
static void
loop_duties(void)
{
	/* Supervised, the supervisor renews every lease of the node in one
	 * statement. */
	if (W.sup == -1 && W.busy && W.cl.store != NULL &&
	    now_ms() >= W.next_renew)
		renew_leases();
	if (W.prog_dirty && W.cl.store != NULL &&
	    now_ms() >= W.next_progress)
		write_progress();
	if (W.busy) {
		runner_self_fence();
		runner_watch();
	}
	if (W.sup == -1 && W.busy && W.cl.store != NULL &&
	    now_ms() >= W.next_cancel_poll)
		poll_cancels();
	if (W.sup == -1 && W.cl.store != NULL &&
	    now_ms() >= W.next_rollup)
		rollup_flush();
	if (W.paused && W.cl.store != NULL && now_ms() >= W.pause_poll)
		conn_pause_poll();
	if (W.reconcile && W.cl.store != NULL && !W.stopping &&
	    now_ms() >= W.next_tick) {
		reconcile_tick();
		client_keepalive(&W.cl);
	}
}

/* How long the loop may sleep: until the next deadline, and not at all
 * with work at hand. */
static int64_t
loop_timeout(void)
{
	int64_t wait = 200;

	if (W.reconcile && W.next_tick - now_ms() < wait)
		wait = W.next_tick - now_ms();
	if (W.consumer == NULL && !W.paused && W.broker_at - now_ms() < wait)
		wait = W.broker_at - now_ms();
	if (W.paused && W.pause_poll - now_ms() < wait)
		wait = W.pause_poll - now_ms();
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
	return wait;
}

/* Waits for a signal, the handler thread or a delivery. */
static void
loop_poll(int sfd)
{
	struct pollfd pfd[3];
	int nfd = 0;

	pfd[nfd].fd = sfd;
	pfd[nfd++].events = POLLIN;
	pfd[nfd].fd = W.efd;
	pfd[nfd++].events = POLLIN;
	/* Stopping, deliveries are no longer read: the socket would stay
	 * readable and spin the loop. */
	if (W.consumer != NULL && !W.stopping) {
		pfd[nfd].fd = broker_fd(W.consumer);
		pfd[nfd++].events = POLLIN;
	}
	if (poll(pfd, (nfds_t)nfd, (int)loop_timeout()) == -1 &&
	    errno != EINTR)
		log_fatalx(EXIT_TEMP, "poll: %s", strerror(errno));
}

/* SIGTERM and SIGINT stop the worker; SIGHUP changes nothing; SIGUSR1,
 * from the supervisor, fences the batch (runner_fence). */
static void
signals_read(int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			continue;
		if (si.ssi_signo == SIGUSR1) {
			runner_fence();
			continue;
		}
		if (!atomic_exchange(&W.stopping, 1))
			log_info("event=stopping signal=%u busy=%d",
			    si.ssi_signo, W.busy);
	}
}

/* The handler thread joined, leadership given up, the last counts
 * written, everything closed. */
static void
worker_stop(int sfd)
{
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
	    "stale=%lu limited=%lu", W.n_done, W.n_failed, W.n_dup, W.n_bad,
	    W.n_stale, W.n_limited);
	/* Unacked deliveries go back to the queue with the connection. */
	while (W.npend > 0)
		delivery_release(&W.pend[--W.npend]);
	broker_close(W.consumer);
	W.consumer = NULL;
	client_close(&W.cl);
	free(W.pend);
	close(sfd);
	close(W.efd);
}

static int
run(void)
{
	int64_t now;
	int sfd;

	sfd = worker_start();
	for (;;) {
		now = now_ms();
		atomic_store(&W.loop_at, now);
		if (W.stopping && !W.busy)
			break;
		stop_deadline(now);
		if (W.consumer == NULL && !W.stopping && !W.paused &&
		    now >= W.broker_at)
			conn_broker_open();
		(void)conn_db_ready();
		batch_collect();
		if (!W.busy && !W.stopping && W.npend > 0 && W.cl.store != NULL)
			round_start(NULL);
		loop_duties();
		loop_poll(sfd);
		drain_eventfd();
		signals_read(sfd);
		if (!W.stopping)
			read_deliveries();
	}
	worker_stop(sfd);
	return 0;
}

/* TQ_DEBUG_UNSAFE: a mode broken on purpose, for the checker's tests. */
static void
unsafe_modes(void)
{
	const char *v = getenv("TQ_DEBUG_UNSAFE");

	if (v == NULL || *v == '\0')
		return;
	if (strcmp(v, "drop") == 0)
		W.unsafe_drop = 1;
	else if (strcmp(v, "nofence") == 0)
		store_debug_nofence = 1;
	else if (strcmp(v, "nolimit") == 0)
		store_debug_nolimit = 1;
	else
		log_fatalx(EXIT_PERM, "TQ_DEBUG_UNSAFE: \"%s\" is not drop, "
		    "nofence or nolimit", v);
	log_error("event=UNSAFE mode=%s: this worker LOSES or DUPLICATES "
	    "tasks on purpose (checker tests only)", v);
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
	unsafe_modes();
	ledger_open();
	return run();
}
