/*
 * tq-supervisor: one per node. Spawns worker pools, watches them by
 * heartbeats over a socketpair each, kills hung workers, restarts dead
 * ones with backoff, and gives their tasks back at once, fenced. A second
 * thread (db.c) talks to MySQL and the broker so that nothing here waits
 * on the network.
 */
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include "cron.h"
#include "inifile.h"
#include "log.h"
#include "loop.h"
#include "supervisor.h"
#include "task.h"
#include "util.h"

#define TICK_MS	20

struct sup S;

void pool_defaults(struct pool_conf *, const char *name);
int pool_set(struct pool_conf *, const char *key, const char *v, char *err,
    size_t errsz);

static void
usage(FILE *fp)
{
	fprintf(fp,
"usage: tq-supervisor [-n] [-c FILE] [--queue Q --workers N] [--node NAME]\n"
"                     [--control PATH] [--worker-command CMD]\n"
"                     [--heartbeat-ms MS] [--hang-timeout-ms MS]\n"
"\n"
"Runs worker pools: one per [pool NAME] section of FILE (queue =, workers =,\n"
"command =, heartbeat_ms =, hang_timeout_ms =, drain_ms =,\n"
"restart_intensity =, restart_period_s =, cooldown_s =, prefetch =, batch =),\n"
"plus one from --queue/--workers. [tq] holds the shared settings.\n"
"\n"
"  -n                 check the configuration and exit\n"
"  --node NAME        this node's name in the cluster (default: host name)\n"
"  --control PATH     control socket (default from control_socket)\n"
"\n"
"SIGTERM/SIGINT: drain (in-flight tasks finish), then exit 0.\n"
"SIGHUP: reload FILE; pools grow, shrink, appear and go without losing a\n"
"task. exit status: 0 ok, 2 usage, 100 bad configuration (or the node\n"
"name is used by another live supervisor), 111 a system call failed.\n");
}

static struct pool *
pool_find(const char *name)
{
	int i;

	for (i = 0; i < S.npools; i++)
		if (strcmp(S.pools[i]->conf.name, name) == 0)
			return S.pools[i];
	return NULL;
}

static int
pool_add(const struct pool_conf *pc)
{
	struct pool *p;

	if (S.npools == POOLS_MAX || (p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	S.pools[S.npools++] = p;
	pool_apply(p, pc);
	log_info("event=pool pool=%s queue=%s workers=%d", pc->name, pc->queue,
	    pc->workers);
	return 0;
}

/* [cron NAME]: spec =, task =, queue =, payload =. */
static int
cron_cb(void *arg, const char *section, const char *key, const char *value,
    char *err, size_t errsz)
{
	struct cron_row *r = NULL, *p;
	int i;

	(void)arg;
	if (strncmp(section, "cron ", 5) != 0)
		return 0;
	section += 5;
	if (!task_name_ok(section, 64)) {
		snprintf(err, errsz, "bad schedule name [cron %s]", section);
		return -1;
	}
	for (i = 0; i < S.ncrons; i++)
		if (strcmp(S.crons[i].name, section) == 0)
			r = &S.crons[i];
	if (r == NULL) {
		if ((p = reallocarray(S.crons, (size_t)S.ncrons + 1,
		    sizeof(*p))) == NULL) {
			snprintf(err, errsz, "out of memory");
			return -1;
		}
		S.crons = p;
		r = &S.crons[S.ncrons++];
		memset(r, 0, sizeof(*r));
		snprintf(r->name, sizeof(r->name), "%s", section);
		snprintf(r->queue, sizeof(r->queue), "%s", S.cfg.queue);
	}
	if (strcmp(key, "spec") == 0 && strlen(value) < sizeof(r->spec))
		snprintf(r->spec, sizeof(r->spec), "%s", value);
	else if (strcmp(key, "task") == 0 && task_name_ok(value,
	    TASK_NAME_MAX))
		snprintf(r->task, sizeof(r->task), "%s", value);
	else if (strcmp(key, "queue") == 0 && task_name_ok(value,
	    TASK_QUEUE_MAX))
		snprintf(r->queue, sizeof(r->queue), "%s", value);
	else if (strcmp(key, "payload") == 0) {
		free(r->payload);
		if ((r->payload = strdup(value)) == NULL)
			return -1;
		r->len = strlen(value);
	} else {
		snprintf(err, errsz, "cron %s: bad setting \"%s\"", section,
		    key);
		return -1;
	}
	return 0;
}

static int
crons_load(char *err, size_t errsz)
{
	struct cron c;
	char why[256];
	int i;

	if (S.conf_file == NULL)
		return 0;
	if (inifile_parse(S.conf_file, cron_cb, NULL, err, errsz) == -1)
		return -1;
	for (i = 0; i < S.ncrons; i++) {
		if (S.crons[i].spec[0] == '\0' || S.crons[i].task[0] == '\0') {
			snprintf(err, errsz, "cron %s: needs spec and task",
			    S.crons[i].name);
			return -1;
		}
		if (cron_parse(S.crons[i].spec, &c, why, sizeof(why)) == -1) {
			snprintf(err, errsz, "cron %s: \"%s\": %s",
			    S.crons[i].name, S.crons[i].spec, why);
			return -1;
		}
	}
	return S.ncrons;
}

/* The configuration: file pools plus the flag pool. */
struct confset {
	struct pool_conf pc[POOLS_MAX + 1];
	int		 n;
};

static struct pool_conf flag_pool;
static int have_flag_pool;

static int
conf_read(struct confset *cs, char *err, size_t errsz)
{
	cs->n = 0;
	if (S.conf_file != NULL && pools_load(S.conf_file, cs->pc, &cs->n, err,
	    errsz) == -1)
		return -1;
	if (have_flag_pool) {
		if (cs->n == POOLS_MAX) {
			snprintf(err, errsz, "too many pools");
			return -1;
		}
		cs->pc[cs->n++] = flag_pool;
	}
	if (cs->n == 0) {
		snprintf(err, errsz, "no pools: give --queue Q --workers N, or "
		    "[pool NAME] sections in the config file");
		return -1;
	}
	return 0;
}

static void
reload(void)
{
	struct confset cs;
	struct config cfg;
	char err[TQ_ERRSZ];
	struct pool *p;
	int i, j, keep;

	if (config_load(&cfg, S.conf_file, err, sizeof(err)) == -1 ||
	    conf_read(&cs, err, sizeof(err)) == -1) {
		log_error("event=reload_failed error=\"%s\" action=kept_old",
		    err);
		return;
	}
	for (i = 0; i < cs.n; i++) {
		if ((p = pool_find(cs.pc[i].name)) != NULL && !p->removed)
			pool_apply(p, &cs.pc[i]);
		else if (p == NULL && pool_add(&cs.pc[i]) == -1)
			log_error("event=reload pool=%s error=\"too many "
			    "pools\"", cs.pc[i].name);
	}
	for (i = 0; i < S.npools; i++) {
		p = S.pools[i];
		for (keep = 0, j = 0; j < cs.n; j++)
			keep |= strcmp(cs.pc[j].name, p->conf.name) == 0;
		if (!keep && !p->removed) {
			p->removed = 1;
			log_info("event=pool_removed pool=%s", p->conf.name);
			for (j = 0; j < p->nslots; j++)
				slot_stop(&p->slots[j], now_ms());
		}
	}
	log_info("event=reloaded pools=%d", cs.n);
}

static void
drain_all(int64_t now)
{
	int i, j;

	for (i = 0; i < S.npools; i++)
		for (j = 0; j < S.pools[i]->nslots; j++)
			slot_stop(&S.pools[i]->slots[j], now);
}

static void
reap(void)
{
	struct slot *sl;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if ((sl = slot_by_pid(pid)) != NULL)
			slot_exited(sl, status);
}

/*
 * The systemd notify protocol, which is one datagram to $NOTIFY_SOCKET:
 * written here rather than linked from libsystemd, whose dependencies
 * would cost the supervisor more than a megabyte of its memory budget.
 */
static void
notify(const char *what)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t len;
	size_t n;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (n = strlen(path)) >= sizeof(sa.sun_path))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';	/* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	(void)sendto(fd, what, strlen(what), MSG_NOSIGNAL,
	    (struct sockaddr *)&sa, len);
	close(fd);
}

static int
run(void)
{
	struct epoll_event ev[32];
	struct signalfd_siginfo si;
	int64_t now, next_dog = 0, dog_ms = 0, next_metrics = 0;
	sigset_t set;
	int sfd, lfd, mfd, n, i, ready = 0;
	struct slot *sl;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		log_fatalx(EXIT_TEMP, "signalfd: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	if (loop_open() == -1)
		log_fatalx(EXIT_TEMP, "epoll: %s", strerror(errno));
	loop_watch(sfd);
	if ((lfd = control_open(S.control)) == -1)
		log_fatalx(EXIT_PERM, "control socket \"%s\" unavailable",
		    S.control);
	loop_watch(lfd);
	/* WatchdogSec: ping at half the interval, if it is ours. */
	{
		const char *us = getenv("WATCHDOG_USEC"), *wp, *errstr;
		long long usec, pid;

		wp = getenv("WATCHDOG_PID");
		if (us != NULL && parse_num(us, 1, 1LL << 50, &usec,
		    &errstr) == 0 && (wp == NULL || (parse_num(wp, 1, 1 << 30,
		    &pid, &errstr) == 0 && pid == getpid())))
			dog_ms = usec / 2000;
	}
	if ((mfd = metrics_start(S.cfg.metrics_listen)) == -1)
		log_fatalx(EXIT_PERM, "bad metrics_listen");
	if (mfd >= 0)
		loop_watch(mfd);
	db_start();
	log_info("event=started node=%s pools=%d control=%s", S.node,
	    S.npools, S.control);

	for (;;) {
		now = now_ms();
		/* Workers only once the node row is ours: they must not
		 * claim before our previous incarnation's tasks are back. */
		if (S.joined) {
			for (i = 0; i < S.npools; i++)
				pool_tick(S.pools[i], now);
			cancels_send();
			if (!ready && !S.stopping) {
				ready = 1;
				notify("READY=1\nSTATUS=running");
			}
		}
		if (S.stopping && pools_live() == 0)
			break;
		if (now >= next_metrics) {
			metrics_render();
			metrics_run();	/* the connections' timeouts */
			db_node_info();
			next_metrics = now + 1000;
		}
		if (dog_ms > 0 && now >= next_dog) {
			notify("WATCHDOG=1");
			next_dog = now + dog_ms;
		}
		n = loop_wait(ev, 32, TICK_MS);
		if (n == -1 && errno != EINTR)
			log_fatalx(EXIT_TEMP, "epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			if (ev[i].data.fd == sfd) {
				while (read(sfd, &si, sizeof(si)) ==
				    sizeof(si)) {
					switch (si.ssi_signo) {
					case SIGCHLD:
						reap();
						break;
					case SIGHUP:
						if (!S.stopping)
							reload();
						break;
					default:
						if (S.stopping)
							break;
						log_info("event=draining "
						    "signal=%u", si.ssi_signo);
						notify("STOPPING=1");
						S.stopping = 1;
						drain_all(now_ms());
						break;
					}
				}
			} else if (ev[i].data.fd == lfd) {
				control_accept(lfd);
			} else if (mfd >= 0 && ev[i].data.fd == mfd) {
				metrics_run();
			} else if ((sl = slot_by_fd(ev[i].data.fd)) != NULL) {
				slot_frame(sl);
			}
		}
		/* Frames were read before hang checks (pool_tick), so a loop
		 * that was slow does not make live workers look hung. */
		reap();
	}
	log_info("event=stopped released=%lu republished=%lu", S.n_released,
	    S.n_republished);
	db_stop();
	metrics_stop();
	control_close(lfd, S.control);
	close(sfd);
	loop_close();
	return S.name_taken ? EXIT_PERM : 0;
}

/* The command line's settings, before the configuration file is read. */
struct flags {
	const char	*queue, *workers, *node, *control, *wcmd, *hb, *hang;
	int		 check;
};

/* 0 to go on; -1 to exit with *status (--help, a usage error). */
static int
parse_args(int argc, char **argv, struct flags *fl, int *status)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "queue", required_argument, NULL, 'q' },
		{ "workers", required_argument, NULL, 'w' },
		{ "node", required_argument, NULL, 'N' },
		{ "control", required_argument, NULL, 'C' },
		{ "worker-command", required_argument, NULL, 'W' },
		{ "heartbeat-ms", required_argument, NULL, 'H' },
		{ "hang-timeout-ms", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(fl, 0, sizeof(*fl));
	while ((ch = getopt_long(argc, argv, "c:nh", opts, NULL)) != -1)
		switch (ch) {
		case 'c':
			S.conf_file = optarg;
			break;
		case 'n':
			fl->check = 1;
			break;
		case 'q':
			fl->queue = optarg;
			break;
		case 'w':
			fl->workers = optarg;
			break;
		case 'N':
			fl->node = optarg;
			break;
		case 'C':
			fl->control = optarg;
			break;
		case 'W':
			fl->wcmd = optarg;
			break;
		case 'H':
			fl->hb = optarg;
			break;
		case 'T':
			fl->hang = optarg;
			break;
		case 'h':
			usage(stdout);
			*status = 0;
			return -1;
		default:
			usage(stderr);
			*status = EXIT_USAGE;
			return -1;
		}
	if (optind != argc) {
		usage(stderr);
		*status = EXIT_USAGE;
		return -1;
	}
	return 0;
}

/* [tq] of the file with --node and --control over it; then logging and
 * the node's name. */
static void
settings_load(const struct flags *fl)
{
	char err[TQ_ERRSZ];
	int l;

	if (config_load(&S.cfg, S.conf_file, err, sizeof(err)) == -1 ||
	    (fl->node && config_set(&S.cfg, "node", fl->node, err,
	    sizeof(err)) == -1) || (fl->control && config_set(&S.cfg,
	    "control_socket", fl->control, err, sizeof(err)) == -1))
		log_fatalx(EXIT_PERM, "%s", err);
	if ((l = log_parselevel(S.cfg.log_level)) == -1)
		log_fatalx(EXIT_PERM, "log_level: \"%s\" is not debug, info, "
		    "warn or error", S.cfg.log_level);
	if (strcmp(S.cfg.log_target, "syslog") == 0)
		log_init("tq-supervisor", 1);
	log_setlevel((enum log_level)l);
	node_set(S.cfg.node);
	snprintf(S.node, sizeof(S.node), "%s", node_name());
	snprintf(S.control, sizeof(S.control), "%s", S.cfg.control_socket);
}

/* The worker beside us unless told otherwise. */
static void
worker_command_set(const char *wcmd)
{
	char self[PATH_MAX];
	ssize_t n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[n] = '\0';
		snprintf(S.worker_cmd, sizeof(S.worker_cmd), "%s/tq-worker",
		    dirname(self));
	} else
		snprintf(S.worker_cmd, sizeof(S.worker_cmd), "tq-worker");
	if (wcmd != NULL)
		snprintf(S.worker_cmd, sizeof(S.worker_cmd), "%s", wcmd);
}

/* The pool of --queue and --workers, if given. */
static void
flag_pool_set(const struct flags *fl)
{
	char err[TQ_ERRSZ];

	if (fl->queue == NULL && fl->workers == NULL)
		return;
	have_flag_pool = 1;
	pool_defaults(&flag_pool, fl->queue ? fl->queue : S.cfg.queue);
	if ((fl->queue && pool_set(&flag_pool, "queue", fl->queue, err,
	    sizeof(err)) == -1) || (fl->workers && pool_set(&flag_pool,
	    "workers", fl->workers, err, sizeof(err)) == -1) ||
	    (fl->hb && pool_set(&flag_pool, "heartbeat_ms", fl->hb, err,
	    sizeof(err)) == -1) || (fl->hang && pool_set(&flag_pool,
	    "hang_timeout_ms", fl->hang, err, sizeof(err)) == -1))
		log_fatalx(EXIT_USAGE, "%s", err);
	if (flag_pool.hang_ms <= flag_pool.heartbeat_ms)
		log_fatalx(EXIT_USAGE, "--hang-timeout-ms must exceed "
		    "--heartbeat-ms");
}

/* Workers read the same file for their [task NAME] programs. */
static void
conf_env_set(void)
{
	if (S.conf_file == NULL)
		return;
	if (realpath(S.conf_file, S.conf_abs) == NULL)
		log_fatalx(EXIT_PERM, "config \"%s\": %s", S.conf_file,
		    strerror(errno));
	snprintf(S.conf_env, sizeof(S.conf_env), "TQ_CONFIG=%s", S.conf_abs);
}

/* -n: URLs and password files too, as the workers will read them. */
static int
config_report(const struct confset *cs)
{
	struct client cc;

	if (client_init(&cc, &S.cfg) == -1)
		log_fatalx(EXIT_PERM, "%s", cc.err);
	client_close(&cc);
	printf("configuration ok: %d pool%s, node %s\n", cs->n,
	    cs->n == 1 ? "" : "s", S.node);
	return 0;
}

/* Who we are, so that our successor on this host can tell we are dead
 * instead of waiting for our row to go stale. */
static void
instance_set(void)
{
	char rnd[8], nonce[17];
	FILE *fp;
	int i;

	if (rand_bytes(rnd, sizeof(rnd)) == -1)
		memset(rnd, 0, sizeof(rnd));
	for (i = 0; i < 8; i++)
		snprintf(nonce + i * 2, 3, "%02x", (unsigned char)rnd[i]);
	snprintf(S.boot_id, sizeof(S.boot_id), "unknown");
	if ((fp = fopen("/proc/sys/kernel/random/boot_id", "re")) != NULL) {
		if (fgets(S.boot_id, sizeof(S.boot_id), fp) == NULL)
			snprintf(S.boot_id, sizeof(S.boot_id), "unknown");
		fclose(fp);
		S.boot_id[strcspn(S.boot_id, "\n")] = '\0';
	}
	snprintf(S.instance, sizeof(S.instance), "%s %s %d", nonce,
	    S.boot_id, (int)getpid());
}

int
main(int argc, char **argv)
{
	struct flags fl;
	char err[TQ_ERRSZ];
	struct confset cs;
	int i, status;

	log_init("tq-supervisor", 0);
	if (parse_args(argc, argv, &fl, &status) == -1)
		return status;
	settings_load(&fl);
	worker_command_set(fl.wcmd);
	flag_pool_set(&fl);
	if (conf_read(&cs, err, sizeof(err)) == -1 ||
	    crons_load(err, sizeof(err)) == -1)
		log_fatalx(EXIT_PERM, "%s", err);
	conf_env_set();
	if (fl.check)
		return config_report(&cs);
	instance_set();
	for (i = 0; i < cs.n; i++)
		if (pool_add(&cs.pc[i]) == -1)
			log_fatalx(EXIT_PERM, "too many pools");
	return run();
}
