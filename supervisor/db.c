/*
 * db.c: the supervisor's database thread. The main loop never waits on
 * MySQL or the broker: a slow or absent database must not delay the
 * detection of a hung worker. This thread takes back dead workers' tasks,
 * renews the leases of live ones, keeps the node row fresh, writes the
 * counts of finished tasks to tq_rollup, and, when this node leads, runs
 * the reconciler and retention and counts the live tasks for /metrics.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"
#include "history.h"
#include "log.h"
#include "store.h"
#include "supervisor.h"
#include "util.h"

static struct client C;
static int64_t db_at, next_beat, next_renew, next_lead, next_tick,
    next_metrics, next_rollup;
static struct retention R = RETENTION_INIT;

/* Each pass of retention may take this long; the rest waits for the next
 * reconciler tick, so that releases, leases and publishing go on. */
#define RETENTION_BUDGET_MS	50
#define ROLLUP_EVERY_MS		5000
#define LIVE_EVERY_MS		5000
static unsigned db_fails;
static int joined;

static void
db_drop(const char *op)
{
	if (C.store == NULL)
		return;
	log_warnx("event=db_error op=%s error=\"%s\"", op,
	    store_errstr(C.store));
	store_close(C.store);
	C.store = NULL;
	db_at = now_ms() + backoff_ms(100, 5000, db_fails++) + 50;
}

static int
db_ready(void)
{
	if (C.store != NULL)
		return 1;
	if (now_ms() < db_at)
		return 0;
	if (client_store(&C) == -1) {
		if (db_fails == 0 || db_fails % 20 == 0)
			log_warnx("event=db_connect_failed error=\"%s\"", C.err);
		db_at = now_ms() + backoff_ms(100, 5000, db_fails++) + 50;
		return 0;
	}
	if (db_fails)
		log_info("event=db_reconnected after_failures=%u", db_fails);
	db_fails = 0;
	/* The node's hold on its tasks is renewed at once: while it was
	 * lapsed, the workers' handlers were being fenced (slot_fence). */
	next_beat = next_renew = 0;
	return 1;
}

/* Releases every running task of owner (or of every owner of node) and
 * publishes the ones that go back to the queue. Returns 0 or -1. */
static int
release_owned(const char *owner, const char *node, const struct uuid *cur,
    uint64_t cur_fence, int charge_all, const char *reason)
{
	struct uuid *ids = NULL, *back = NULL;
	uint64_t *fences = NULL;
	struct pub_row *rows = NULL;
	enum task_state st;
	char idtxt[UUID_STRLEN + 1];
	int n, i, r, nb = 0, np, ret = -1;

	if ((n = store_owned(C.store, owner, node, &ids, &fences)) == -1)
		return -1;
	if (n > 0 && (back = calloc((size_t)n, sizeof(*back))) == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		/* Charged: the task it was running, or all when nobody
		 * knows which one was. */
		int charge = charge_all || (cur != NULL &&
		    uuid_cmp(&ids[i], cur) == 0 && fences[i] == cur_fence);

		r = store_release(C.store, &ids[i], fences[i], reason, charge,
		    &st);
		if (r == -1)
			goto done;
		uuid_fmt(&ids[i], idtxt);
		if (r == 1) {
			S.n_released++;
			log_info("event=task_released task=%s fence=%llu "
			    "charged=%d state=%s reason=\"%s\"", idtxt,
			    (unsigned long long)fences[i], charge,
			    task_state_name(st),
			    reason);
			if (st == TS_SCHEDULED)
				back[nb++] = ids[i];
		}
	}
	/* Published at once: the broker's copy may be gone (acked at
	 * claim), so the task would otherwise wait for the leader. */
	if (nb > 0) {
		if ((np = store_pub_rows(C.store, back, (size_t)nb,
		    &rows)) == -1)
			goto done;
		r = client_publish_rows(&C, rows, (size_t)np);
		pub_rows_free(rows, (size_t)np);
		if (r == -1)
			log_warnx("event=republish_deferred count=%d "
			    "error=\"%s\"", np, C.err);
		else
			S.n_republished += (unsigned long)r;
	}
	/* And the waiters their slots let out. */
	if ((r = client_publish_woken(&C)) == -1)
		log_warnx("event=republish_deferred what=woken error=\"%s\"",
		    C.err);
	ret = 0;
done:
	free(ids);
	free(fences);
	free(back);
	return ret;
}

static void
do_releases(void)
{
	struct release_req req;

	for (;;) {
		pthread_mutex_lock(&S.mu);
		if (S.nrq == 0) {
			S.db_idle = 1;
			pthread_mutex_unlock(&S.mu);
			return;
		}
		req = S.rq[0];
		pthread_mutex_unlock(&S.mu);
		if (release_owned(req.owner, NULL, req.cur_set ? &req.cur :
		    NULL, req.cur_fence, 0, req.reason) == -1) {
			db_drop("release");
			return;	/* kept: tried again after reconnecting */
		}
		pthread_mutex_lock(&S.mu);
		memmove(S.rq, S.rq + 1, (S.nrq - 1) * sizeof(*S.rq));
		S.nrq--;
		pthread_mutex_unlock(&S.mu);
	}
}

/* The node's hold on its tasks: the leader gives them away once the node
 * row is older than the node timeout, or a lease has expired; both are
 * written at the database's time, which is no earlier than when we sent
 * them. A beat or renewal of 0 keeps the last one. */
void
db_vouched(int64_t beat_sent, int64_t renew_sent)
{
	static int64_t beat_ok, renew_ok;
	int64_t a, b;

	if (beat_sent > 0)
		beat_ok = beat_sent;
	if (renew_sent > 0)
		renew_ok = renew_sent;
	a = beat_ok + S.cfg.node_timeout_ms;
	b = renew_ok + S.cfg.lease_ms;
	pthread_mutex_lock(&S.mu);
	S.vouch_until = a < b ? a : b;
	pthread_mutex_unlock(&S.mu);
}

static void
renew(void)
{
	const char **owners;
	size_t i, n;
	int64_t t0 = now_ms();

	pthread_mutex_lock(&S.mu);
	n = S.nowners;
	owners = calloc(n ? n : 1, sizeof(*owners));
	char (*copy)[PROTO_OWNER_MAX + 1] = calloc(n ? n : 1, sizeof(*copy));
	if (owners == NULL || copy == NULL) {
		pthread_mutex_unlock(&S.mu);
		free(owners);
		free(copy);
		return;
	}
	if (n > 0)
		memcpy(copy, S.owners, n * sizeof(*copy));
	pthread_mutex_unlock(&S.mu);
	for (i = 0; i < n; i++)
		owners[i] = copy[i];
	if (n > 0 && store_renew_owners(C.store, owners, n,
	    S.cfg.lease_ms) == -1)
		db_drop("renew");
	else
		db_vouched(0, t0);
	free(owners);
	free(copy);
}

/* Running tasks of our workers that someone asked to cancel: handed to
 * the main loop, which tells the worker. */
static void
find_cancels(void)
{
	char (*owners)[PROTO_OWNER_MAX + 1], (*who)[129] = NULL;
	const char **o;
	struct uuid *ids = NULL;
	uint64_t *fences = NULL;
	struct cancel_req *c;
	size_t i, n;
	int k;

	pthread_mutex_lock(&S.mu);
	n = S.nowners;
	owners = calloc(n ? n : 1, sizeof(*owners));
	o = calloc(n ? n : 1, sizeof(*o));
	if (owners == NULL || o == NULL) {
		pthread_mutex_unlock(&S.mu);
		free(owners);
		free(o);
		return;
	}
	if (n > 0)
		memcpy(owners, S.owners, n * sizeof(*owners));
	pthread_mutex_unlock(&S.mu);
	for (i = 0; i < n; i++)
		o[i] = owners[i];
	k = n ? store_cancel_asked(C.store, o, n, &ids, &fences, &who) : 0;
	if (k == -1)
		db_drop("cancel requests");
	if (k > 0) {
		pthread_mutex_lock(&S.mu);
		if ((c = reallocarray(S.cancels, S.ncancels + (size_t)k,
		    sizeof(*c))) != NULL) {
			S.cancels = c;
			for (i = 0; i < (size_t)k; i++) {
				c = &S.cancels[S.ncancels++];
				snprintf(c->owner, sizeof(c->owner), "%s",
				    who[i]);
				c->task = ids[i];
			}
		}
		pthread_mutex_unlock(&S.mu);
	}
	free(ids);
	free(fences);
	free(who);
	free(owners);
	free(o);
}

/* Retention, paced (history_retention): a backlog is deleted a budget
 * per tick while tasks flow. */
static void
retain(void)
{
	long n;

	if ((n = history_retention(&C, &R, RETENTION_BUDGET_MS)) == -1) {
		log_warnx("event=retention_failed error=\"%s\"", C.err);
		if (C.store == NULL)
			db_fails++;
		return;
	}
	if (n > 0)
		log_debug("event=retention_deleted count=%ld backlog=%d", n,
		    R.backlog);
}

/* The leader counts the live tasks for /metrics (an index range over the
 * states that are not terminal); the others export none. */
/* Paused queues and the limits' live tasks, for /metrics. */
static void
live_flow(void)
{
	struct paused_queue *pq = NULL;
	struct limit_info *li = NULL;
	int np, nl;

	if ((np = store_paused_list(C.store, &pq)) == -1 ||
	    (nl = store_limit_list(C.store, &li)) == -1) {
		free(pq);
		db_drop("flow counts");
		return;
	}
	metrics_flow(pq, np, li, nl);
	free(pq);
	free(li);
}

static void
live_counts(void)
{
	struct stat_row *rows = NULL;
	int n;

	if (!S.leader) {
		metrics_db(0, NULL, 0, NULL);
		return;
	}
	if ((n = store_live(C.store, &rows)) == -1) {
		db_drop("live counts");
		return;
	}
	metrics_db(1, rows, n, R.deleted);
	free(rows);
	live_flow();
}

/* The finished tasks counted since the last flush go to tq_rollup; kept
 * for the next one when the write fails. */
static void
rollup_flush(void)
{
	struct rollup_row *r = NULL;
	int n;

	if ((n = metrics_take(&r)) <= 0)
		return;
	if (store_rollup_add(C.store, r, (size_t)n) == -1) {
		metrics_untake(r, (size_t)n);
		db_drop("rollup");
	}
	free(r);
}

static void
lead(int64_t now)
{
	char holder[256], (*dead)[129] = NULL, reason[200];
	struct reconcile_stats rs;
	uint64_t token;
	int r, i, n;

	snprintf(holder, sizeof(holder), "%s/%.16s", S.node, S.instance);
	if (now >= next_lead) {
		r = store_lead(C.store, "reconciler", holder,
		    S.cfg.leader_ttl_ms, &token);
		if (r == -1) {
			db_drop("lead");
			return;
		}
		if (r != S.leader)
			log_info("event=%s role=reconciler node=%s token=%llu",
			    r ? "leader" : "follower", S.node,
			    (unsigned long long)token);
		S.leader = r;
		next_lead = now + S.cfg.leader_ttl_ms / 3;
	}
	if (!S.leader)
		return;
	/* Nodes that stopped beating: their workers died with them (or are
	 * cut off; the fence makes their late results harmless). */
	if ((n = store_dead_nodes(C.store, S.cfg.node_timeout_ms,
	    &dead)) == -1) {
		db_drop("dead nodes");
		return;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(dead[i], S.node) == 0)
			continue;
		log_warnx("event=node_dead node=%s action=release", dead[i]);
		snprintf(reason, sizeof(reason), "node %s lost", dead[i]);
		if (release_owned(NULL, dead[i], NULL, 0, 1, reason) == -1 ||
		    store_node_forget(C.store, dead[i],
		    S.cfg.node_timeout_ms) == -1) {
			free(dead);
			db_drop("release node");
			return;
		}
	}
	free(dead);
	if (client_reconcile(&C, &rs) == -1) {
		client_reconcile_failed(&C);
		if (C.store == NULL)
			db_fails++;
		return;
	}
	if (rs.expired || rs.published || rs.stranded || rs.cron) {
		S.n_reconciled += (unsigned long)(rs.expired + rs.published);
		log_info("event=reconciled expired=%d due=%d published=%d "
		    "stranded=%d cron=%d", rs.expired, rs.due, rs.published,
		    rs.stranded, rs.cron);
	}
	retain();
}

/* Whether the instance that wrote info ("instance boot_id pid", see
 * supervisor.c) is dead: same boot of this host and its pid is gone or is
 * no longer a tq-supervisor. A holder on another host (or boot) is dead
 * only when its row goes stale. */
static int
instance_dead(const char *info)
{
	char inst[64], boot[64], comm[64], path[64];
	long pid;
	FILE *fp;
	size_t n;

	if (sscanf(info, "%63s %63s %ld", inst, boot, &pid) != 3 ||
	    strcmp(boot, S.boot_id) != 0 || pid <= 1)
		return 0;
	if (kill((pid_t)pid, 0) == -1 && errno == ESRCH)
		return 1;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if ((fp = fopen(path, "re")) == NULL)
		return 1;
	n = fread(comm, 1, sizeof(comm) - 1, fp);
	fclose(fp);
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	return strcmp(comm, "tq-supervisor") != 0 || pid == getpid();
}

/* Takes the node name. The first time, our previous incarnation's tasks
 * come back at once instead of after their leases: its workers died with
 * it. Workers are spawned only after this, so none of them is ours. */
static int
join(void)
{
	char reason[200];
	int r;

	char held[256];
	int64_t t0 = now_ms();

	r = store_node_join(C.store, S.node, S.instance,
	    S.cfg.node_timeout_ms, instance_dead, held, sizeof(held));
	if (r == -1) {
		db_drop("node join");
		return -1;
	}
	if (r == 0) {
		/* Another supervisor, alive or on another host, holds the
		 * name: both would release each other's tasks. */
		log_error("event=node_name_in_use node=%s holder=\"%s\" "
		    "action=exit hint=\"another live supervisor uses this node "
		    "name; set node in the config or TQ_NODE\"", S.node, held);
		S.name_taken = 1;
		S.db_quit = 1;
		kill(getpid(), SIGTERM);
		return -1;
	}
	if (!S.joined) {
		snprintf(reason, sizeof(reason), "node %s restarted", S.node);
		if (release_owned(NULL, S.node, NULL, 0, 1, reason) == -1) {
			db_drop("node join");
			return -1;
		}
	}
	/* The config file's limits and schedules, once per start. */
	if (!S.joined)
		for (int i = 0; i < S.cfg.nlimits; i++) {
			if (store_limit_set(C.store, &S.cfg.limits[i]) == -1) {
				db_drop("limit sync");
				return -1;
			}
			log_info("event=limit_registered name=%s "
			    "concurrency=%u rate=%u/%lldms burst=%u",
			    S.cfg.limits[i].name, S.cfg.limits[i].concurrency,
			    S.cfg.limits[i].rate_n, S.cfg.limits[i].rate_ms,
			    S.cfg.limits[i].burst);
		}
	if (!S.joined)
		for (int i = 0; i < S.ncrons; i++) {
			struct cron c;
			char why[256];

			if (cron_parse(S.crons[i].spec, &c, why, sizeof(why)) ==
			    -1)
				continue;
			S.crons[i].next_tick = (int64_t)cron_next(&c,
			    time(NULL));
			if (store_cron_sync(C.store, &S.crons[i]) == -1) {
				db_drop("cron sync");
				return -1;
			}
			log_info("event=cron_registered name=%s spec=\"%s\"",
			    S.crons[i].name, S.crons[i].spec);
		}
	/* Nothing of ours runs before the join; from it, the node's row and
	 * the leases of what its workers claim are fresh. */
	db_vouched(t0, t0);
	joined = 1;
	S.joined = 1;
	log_info("event=node_joined node=%s instance=%s", S.node, S.instance);
	return 0;
}

static void *
db_main(void *arg)
{
	struct timespec ts;
	int64_t now, wait, quit_at = 0;
	sigset_t all;

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		pthread_mutex_lock(&S.mu);
		/* Stopping: finish the releases, but do not wait forever on a
		 * database that is away; leases and our successor cover it. */
		if (S.db_quit && quit_at == 0)
			quit_at = now_ms() + 5000;
		if (S.db_quit && (S.nrq == 0 || now_ms() > quit_at)) {
			if (S.nrq > 0)
				log_warnx("event=releases_abandoned count=%zu "
				    "reason=\"database unavailable at exit\"",
				    S.nrq);
			pthread_mutex_unlock(&S.mu);
			break;
		}
		pthread_mutex_unlock(&S.mu);
		now = now_ms();
		if (db_ready()) {
			if (!joined)
				(void)join();
			if (C.store && joined)
				do_releases();
			if (C.store && joined && now >= next_beat) {
				char info[sizeof(S.node_info)];
				int64_t t0 = now_ms();

				pthread_mutex_lock(&S.mu);
				memcpy(info, S.node_info, sizeof(info));
				pthread_mutex_unlock(&S.mu);
				if (store_node_beat(C.store, S.node,
				    S.instance, info) == 0)
					db_vouched(t0, 0);
				else {
					/* Taken over: the leader thought us
					 * dead and took our tasks (our late
					 * results are fenced off); join
					 * again. */
					if (!store_err_temporary(C.store))
						joined = 0;
					db_drop("node beat");
				}
				next_beat = now + S.cfg.node_timeout_ms / 4;
			}
			if (C.store && joined && now >= next_renew) {
				renew();
				next_renew = now + S.cfg.lease_ms / 3;
			}
			if (C.store && joined)
				find_cancels();
			if (C.store && joined && now >= next_metrics) {
				live_counts();
				next_metrics = now + LIVE_EVERY_MS;
			}
			if (C.store && joined && now >= next_rollup) {
				rollup_flush();
				next_rollup = now + ROLLUP_EVERY_MS;
			}
			if (C.store && joined && !S.stopping &&
			    now >= next_tick) {
				lead(now);
				next_tick = now + S.cfg.reconcile_ms;
			}
			client_keepalive(&C);
		}
		pthread_mutex_lock(&S.mu);
		if (S.nrq == 0 && !S.db_quit) {
			wait = next_tick - now_ms();
			if (C.store == NULL)
				wait = db_at - now_ms();
			if (wait > S.cfg.reconcile_ms)
				wait = S.cfg.reconcile_ms;
			if (wait < 1)
				wait = 1;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += wait / 1000;
			ts.tv_nsec += (wait % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&S.cv, &S.mu, &ts);
		} else if (S.nrq > 0 && C.store == NULL) {
			pthread_mutex_unlock(&S.mu);
			sleep_ms(db_at - now_ms() > 0 ? db_at - now_ms() : 1);
			pthread_mutex_lock(&S.mu);
		}
		pthread_mutex_unlock(&S.mu);
	}
	if (C.store != NULL)
		rollup_flush();
	if (C.store != NULL) {
		char holder[256];

		snprintf(holder, sizeof(holder), "%s/%.16s", S.node, S.instance);
		if (S.leader)
			(void)store_unlead(C.store, "reconciler", holder);
		(void)store_node_leave(C.store, S.node, S.instance);
	}
	client_close(&C);
	return NULL;
}

void
db_start(void)
{
	pthread_mutex_init(&S.mu, NULL);
	pthread_cond_init(&S.cv, NULL);
	if (client_init(&C, &S.cfg) == -1)
		log_fatalx(EXIT_PERM, "%s", C.err);
	if (pthread_create(&S.dbt, NULL, db_main, NULL) != 0)
		log_fatalx(EXIT_TEMP, "pthread_create failed");
}

/* Waits until every release is done (or the deadline), then stops. */
void
db_stop(void)
{
	pthread_mutex_lock(&S.mu);
	S.db_quit = 1;
	pthread_cond_signal(&S.cv);
	pthread_mutex_unlock(&S.mu);
	pthread_join(S.dbt, NULL);
}

void
db_release(const struct slot *sl, const char *reason)
{
	struct release_req *r;

	pthread_mutex_lock(&S.mu);
	if (S.nrq == S.caprq) {
		size_t cap = S.caprq ? S.caprq * 2 : 16;

		if ((r = reallocarray(S.rq, cap, sizeof(*r))) == NULL) {
			pthread_mutex_unlock(&S.mu);
			log_error("event=oom action=lease_will_expire");
			return;
		}
		S.rq = r;
		S.caprq = cap;
	}
	r = &S.rq[S.nrq++];
	memset(r, 0, sizeof(*r));
	snprintf(r->owner, sizeof(r->owner), "%s", sl->owner);
	r->cur = sl->cur;
	r->cur_fence = sl->cur_fence;
	r->cur_set = sl->cur_set;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	S.db_idle = 0;
	pthread_cond_signal(&S.cv);
	pthread_mutex_unlock(&S.mu);
}

void
db_owners_update(void)
{
	size_t n = 0;
	int i, j;
	void *p;

	pthread_mutex_lock(&S.mu);
	for (i = 0; i < S.npools; i++)
		for (j = 0; j < S.pools[i]->nslots; j++)
			n += S.pools[i]->slots[j].hello &&
			    S.pools[i]->slots[j].st != SL_DOWN;
	if ((p = reallocarray(S.owners, n ? n : 1, sizeof(*S.owners))) ==
	    NULL) {
		pthread_mutex_unlock(&S.mu);
		return;
	}
	S.owners = p;
	S.nowners = 0;
	for (i = 0; i < S.npools; i++)
		for (j = 0; j < S.pools[i]->nslots; j++) {
			const struct slot *sl = &S.pools[i]->slots[j];

			if (sl->hello && sl->st != SL_DOWN)
				memcpy(S.owners[S.nowners++], sl->owner,
				    sizeof(sl->owner));
		}
	pthread_mutex_unlock(&S.mu);
}

/* One worker in the node row: a state letter (i idle, b busy, d draining,
 * n starting, s stopping, x down, f down in a failing pool), then
 * pid/rss_kb/restarts/hang_kills/heartbeat_age_s (pid 0 when down). */
static void
worker_item(const struct pool *p, const struct slot *sl, int64_t now,
    char *out, size_t outsz)
{
	static const char up[] = "ibd";
	char st;

	if (sl->st == SL_DOWN)
		st = p->failing ? 'f' : 'x';
	else if (sl->st == SL_STOPPING)
		st = 's';
	else
		st = sl->hello ? up[sl->wstate % 3] : 'n';
	snprintf(out, outsz, "%c%d/%lu/%u/%u/%lld", st,
	    sl->st == SL_DOWN ? 0 : (int)sl->pid, (unsigned long)sl->rss_kb,
	    sl->restarts, sl->hang_kills, sl->st == SL_DOWN ? 0LL :
	    (long long)((now - sl->last_hb) / 1000));
}

/* Appends item to text (len of it so far) if it fits in room: 1, else 0. */
static int
info_add(char *text, size_t *len, size_t room, const char *item)
{
	size_t n = strlen(item);

	if (*len + n > room)
		return 0;
	memcpy(text + *len, item, n + 1);
	*len += n;
	return 1;
}

/* The node row's text of the workers (after the instance and a '|'), so
 * that tq web, on any machine, shows what only this supervisor knows. Per
 * pool "NAME=RESTARTS/HANG_KILLS/FAILING;" then its workers (worker_item)
 * separated by ','; pools separated by ' '. What does not fit the column
 * is counted at the end as " +N" (N workers left out). Names are
 * [A-Za-z0-9._:-] (task_name_ok): none of the separators. */
void
db_node_info(void)
{
	char text[STORE_NODE_INFO_MAX + 1], item[POOL_NAME_MAX + 64], w[64];
	size_t room, len = 0, n;
	int64_t now = now_ms();
	unsigned left = 0;
	int i, j;

	/* Less the instance, its '|', and room for " +NNN". */
	n = strlen(S.instance) + 1 + 5;
	room = n < STORE_NODE_INFO_MAX ? STORE_NODE_INFO_MAX - n : 0;
	text[0] = '\0';
	for (i = 0; i < S.npools; i++) {
		const struct pool *p = S.pools[i];

		snprintf(item, sizeof(item), "%s%s=%lu/%lu/%d;", len ? " " : "",
		    p->conf.name, p->total_restarts, p->hang_kills, p->failing);
		if (left > 0 || !info_add(text, &len, room, item)) {
			left += (unsigned)p->nslots;
			continue;
		}
		for (j = 0; j < p->nslots; j++) {
			worker_item(p, &p->slots[j], now, w, sizeof(w));
			snprintf(item, sizeof(item), "%s%s", j ? "," : "", w);
			if (left > 0 || !info_add(text, &len, room, item))
				left++;
		}
	}
	if (left > 0)
		snprintf(text + len, sizeof(text) - len, " +%u", left);
	pthread_mutex_lock(&S.mu);
	memcpy(S.node_info, text, sizeof(S.node_info));
	pthread_mutex_unlock(&S.mu);
}
