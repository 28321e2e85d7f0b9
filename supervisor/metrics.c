/*
 * metrics.c: Prometheus text at /metrics on a local port, served over
 * libmicrohttpd (the HTTP stack tq web uses too) from the main loop: the
 * daemon runs in MHD's external epoll mode, so its one epoll descriptor
 * sits in the supervisor's loop and no thread of its own is started. Its
 * library pages (and GnuTLS's) are shared and clean: the supervisor's own
 * cost is its anonymous memory, which make bench's rss stage reports. The
 * main loop renders the node's side once a second, with the counters of
 * finished tasks its workers report (TASK_DONE frames); the database
 * thread of the leader adds the live counts every few seconds; a scrape
 * only copies the two texts.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include <microhttpd.h>

#include "log.h"
#include "supervisor.h"
#include "tally.h"
#include "util.h"

/* A scrape is one short GET: a connection that sends nothing for this
 * long is closed, and a few at a time are enough for any Prometheus. */
#define METRICS_TIMEOUT_S	5
#define METRICS_CONNS		16
#define METRICS_CONN_MEM	(16 * 1024)
#define METRICS_TYPE		"text/plain; version=0.0.4"

static struct MHD_Daemon *mhd;
static pthread_mutex_t mmu = PTHREAD_MUTEX_INITIALIZER;
static struct buf node_text = BUF_INIT, db_text = BUF_INIT;
/* Finished tasks by (queue, name): the main loop adds, the database
 * thread takes what goes to tq_rollup. Under tmu. */
static pthread_mutex_t tmu = PTHREAD_MUTEX_INITIALIZER;
static struct tally tally = TALLY_INIT;

void
metrics_observe(struct pool *p, int ok)
{
	if (ok)
		p->tasks_ok++;
	else
		p->tasks_fail++;
}

void
metrics_finished(const char *queue, const char *name, enum rollup_outcome o,
    int64_t run_us, int64_t wait_us, int timed_out)
{
	pthread_mutex_lock(&tmu);
	if (tally_add(&tally, queue, name, o, run_us, wait_us, timed_out) ==
	    -1)
		log_warnx("event=oom what=\"task counters\"");
	pthread_mutex_unlock(&tmu);
}

int
metrics_take(struct rollup_row **out)
{
	int n;

	pthread_mutex_lock(&tmu);
	n = tally_take(&tally, out);
	pthread_mutex_unlock(&tmu);
	return n;
}

void
metrics_untake(const struct rollup_row *r, size_t n)
{
	pthread_mutex_lock(&tmu);
	tally_untake(&tally, r, n);
	pthread_mutex_unlock(&tmu);
}

static enum MHD_Result
answer(struct MHD_Connection *conn, unsigned status, char *text, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if ((r = MHD_create_response_from_buffer(len, text,
	    MHD_RESPMEM_MUST_FREE)) == NULL) {
		free(text);
		return MHD_NO;
	}
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    METRICS_TYPE) == MHD_NO || (status == MHD_HTTP_METHOD_NOT_ALLOWED &&
	    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") ==
	    MHD_NO)) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
answer_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
	char *copy;

	if ((copy = strdup(text)) == NULL)
		return MHD_NO;
	return answer(conn, status, copy, strlen(copy));
}

/* GET or HEAD /metrics (a query string is ignored, as before); anything
 * else is 405 or 404. MHD leaves the body out of a HEAD's answer. */
static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_len, void **state)
{
	struct buf out = BUF_INIT;

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "GET /metrics\n");
	if (strcmp(url, "/metrics") != 0)
		return answer_text(conn, MHD_HTTP_NOT_FOUND, "see /metrics\n");
	pthread_mutex_lock(&mmu);
	if (buf_append(&out, node_text.data ? node_text.data : "",
	    node_text.len) == -1 || buf_append(&out, db_text.data ?
	    db_text.data : "", db_text.len) == -1) {
		pthread_mutex_unlock(&mmu);
		buf_release(&out);
		return MHD_NO;
	}
	pthread_mutex_unlock(&mmu);
	return answer(conn, MHD_HTTP_OK, out.data, out.len);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	if (n > 0 && msg[n - 1] == '\n')
		msg[n - 1] = '\0';
	log_warnx("event=metrics_http error=\"%s\"", msg);
}

/* What the metrics descriptor's readiness asks for, and the connections'
 * timeouts: the main loop calls it when the descriptor is ready and once a
 * second. */
void
metrics_run(void)
{
	if (mhd != NULL && MHD_run(mhd) == MHD_NO)
		log_warnx("event=metrics_http error=\"MHD_run failed\"");
}

int
metrics_start(const char *listen_on)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_in sa;
	char host[64], *colon;
	const char *errstr;
	long long port;

	if (listen_on[0] == '\0' || strcmp(listen_on, "off") == 0)
		return -2;
	snprintf(host, sizeof(host), "%s", listen_on);
	if ((colon = strrchr(host, ':')) == NULL) {
		log_error("metrics_listen: \"%s\" is not HOST:PORT", listen_on);
		return -1;
	}
	*colon = '\0';
	if (parse_num(colon + 1, 1, 65535, &port, &errstr) == -1) {
		log_error("metrics_listen: port is %s", errstr);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		log_error("metrics_listen: \"%s\" is not an IPv4 address", host);
		return -1;
	}
	mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
	    (uint16_t)port, NULL, NULL, handle, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_CONNS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_CONN_MEM,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_END);
	if (mhd == NULL || (info = MHD_get_daemon_info(mhd,
	    MHD_DAEMON_INFO_EPOLL_FD)) == NULL || info->epoll_fd < 0) {
		/* Not worth failing the node for: say so and go on. */
		log_warnx("event=metrics_unavailable listen=%s", listen_on);
		metrics_stop();
		return -2;
	}
	log_info("event=metrics listen=http://%s/metrics", listen_on);
	return info->epoll_fd;
}

void
metrics_stop(void)
{
	if (mhd != NULL)
		MHD_stop_daemon(mhd);
	mhd = NULL;
}

void
metrics_db(int leader, const struct stat_row *rows, int n,
    const unsigned long *deleted)
{
	static const enum task_state live[] = { TS_PENDING, TS_QUEUED,
		TS_SCHEDULED, TS_RUNNING };
	size_t k;
	int i;

	pthread_mutex_lock(&mmu);
	buf_reset(&db_text);
	if (!leader) {
		/* Not the leader: the leader exports the cluster's counts. */
		pthread_mutex_unlock(&mmu);
		return;
	}
	buf_printf(&db_text, "# HELP tq_tasks Live tasks by queue and state, "
	    "the whole cluster's (exported by the leader only).\n"
	    "# TYPE tq_tasks gauge\n");
	/* Queue names are [A-Za-z0-9._:-]: nothing to escape. */
	for (i = 0; i < n; i++)
		for (k = 0; k < sizeof(live) / sizeof(live[0]); k++)
			buf_printf(&db_text, "tq_tasks{queue=\"%s\",state=\"%s\"} "
			    "%lu\n", rows[i].queue, task_state_name(live[k]),
			    rows[i].count[live[k]]);
	buf_printf(&db_text, "# HELP tq_retention_deleted_total Finished tasks "
	    "deleted by retention on this node while it led.\n"
	    "# TYPE tq_retention_deleted_total counter\n");
	buf_printf(&db_text, "tq_retention_deleted_total{node=\"%s\",state="
	    "\"succeeded\"} %lu\ntq_retention_deleted_total{node=\"%s\","
	    "state=\"failed\"} %lu\ntq_retention_deleted_total{node=\"%s\","
	    "state=\"cancelled\"} %lu\n", S.node, deleted[0], S.node,
	    deleted[1], S.node, deleted[2]);
	pthread_mutex_unlock(&mmu);
}

/* The leader's flow control figures, after metrics_db's. */
void
metrics_flow(const struct paused_queue *pq, int np,
    const struct limit_info *li, int nl)
{
	int i;

	pthread_mutex_lock(&mmu);
	buf_printf(&db_text, "# HELP tq_queue_paused Queues paused by tq pause "
	    "(1), cluster-wide.\n# TYPE tq_queue_paused gauge\n");
	for (i = 0; i < np; i++)
		buf_printf(&db_text, "tq_queue_paused{queue=\"%s\"} 1\n",
		    pq[i].queue);
	buf_printf(&db_text, "# HELP tq_limit_tasks Tasks under each limit: "
	    "running, waiting for a slot, waiting for their rate slot.\n"
	    "# TYPE tq_limit_tasks gauge\n");
	/* Limit names are [A-Za-z0-9._:-*]: nothing to escape. */
	for (i = 0; i < nl; i++)
		buf_printf(&db_text, "tq_limit_tasks{limit=\"%s\",state="
		    "\"running\"} %lu\ntq_limit_tasks{limit=\"%s\",state="
		    "\"waiting\"} %lu\ntq_limit_tasks{limit=\"%s\",state="
		    "\"reserved\"} %lu\n", li[i].d.name, li[i].running,
		    li[i].d.name, li[i].waiting, li[i].d.name, li[i].reserved);
	buf_printf(&db_text, "# HELP tq_limit_concurrency Each limit's "
	    "concurrency (0: none).\n# TYPE tq_limit_concurrency gauge\n");
	for (i = 0; i < nl; i++)
		buf_printf(&db_text, "tq_limit_concurrency{limit=\"%s\"} %u\n",
		    li[i].d.name, li[i].d.concurrency);
	pthread_mutex_unlock(&mmu);
}

/* The node's side, from the main loop. */
void
metrics_render(void)
{
	struct buf b = BUF_INIT;
	int64_t now = now_ms();
	char labels[200];
	int i, j;

	if (mhd == NULL)
		return;
#define H(name, type, help) \
	buf_printf(&b, "# HELP " name " " help "\n# TYPE " name " " type "\n")
	H("tq_pool_workers", "gauge", "Configured workers per pool.");
	for (i = 0; i < S.npools; i++)
		buf_printf(&b, "tq_pool_workers{node=\"%s\",pool=\"%s\","
		    "queue=\"%s\"} %d\n", S.node, S.pools[i]->conf.name,
		    S.pools[i]->conf.queue, S.pools[i]->conf.workers);
	H("tq_pool_failing", "gauge", "1 while the pool's restarts are paused.");
	for (i = 0; i < S.npools; i++)
		buf_printf(&b, "tq_pool_failing{node=\"%s\",pool=\"%s\"} %d\n",
		    S.node, S.pools[i]->conf.name, S.pools[i]->failing);
	H("tq_worker_restarts_total", "counter", "Workers restarted.");
	for (i = 0; i < S.npools; i++)
		buf_printf(&b, "tq_worker_restarts_total{node=\"%s\",pool="
		    "\"%s\"} %lu\n", S.node, S.pools[i]->conf.name,
		    S.pools[i]->total_restarts);
	H("tq_worker_hang_kills_total", "counter",
	    "Workers killed for silence past the hang timeout.");
	for (i = 0; i < S.npools; i++)
		buf_printf(&b, "tq_worker_hang_kills_total{node=\"%s\",pool="
		    "\"%s\"} %lu\n", S.node, S.pools[i]->conf.name,
		    S.pools[i]->hang_kills);
	H("tq_tasks_run_total", "counter",
	    "Handler runs on this node by outcome (ok, fail).");
	for (i = 0; i < S.npools; i++) {
		buf_printf(&b, "tq_tasks_run_total{node=\"%s\",pool=\"%s\","
		    "outcome=\"ok\"} %llu\n", S.node, S.pools[i]->conf.name,
		    (unsigned long long)S.pools[i]->tasks_ok);
		buf_printf(&b, "tq_tasks_run_total{node=\"%s\",pool=\"%s\","
		    "outcome=\"fail\"} %llu\n", S.node, S.pools[i]->conf.name,
		    (unsigned long long)S.pools[i]->tasks_fail);
	}
	snprintf(labels, sizeof(labels), "node=\"%s\",", S.node);
	pthread_mutex_lock(&tmu);
	(void)tally_render(&tally, labels, &b);
	pthread_mutex_unlock(&tmu);
	H("tq_worker_heartbeat_age_seconds", "gauge",
	    "Time since each live worker's last frame.");
	H("tq_worker_rss_bytes", "gauge", "Resident memory of each worker.");
	H("tq_duplicates_dropped_total", "counter",
	    "Deliveries dropped as duplicates by live workers.");
	for (i = 0; i < S.npools; i++)
		for (j = 0; j < S.pools[i]->nslots; j++) {
			struct slot *sl = &S.pools[i]->slots[j];

			if (sl->st == SL_DOWN)
				continue;
			buf_printf(&b, "tq_worker_heartbeat_age_seconds{node="
			    "\"%s\",pool=\"%s\",slot=\"%d\"} %.3f\n", S.node,
			    S.pools[i]->conf.name, j,
			    (double)(now - sl->last_hb) / 1000.0);
			buf_printf(&b, "tq_worker_rss_bytes{node=\"%s\",pool="
			    "\"%s\",slot=\"%d\"} %llu\n", S.node,
			    S.pools[i]->conf.name, j,
			    (unsigned long long)sl->rss_kb * 1024);
			buf_printf(&b, "tq_duplicates_dropped_total{node=\"%s\","
			    "pool=\"%s\",slot=\"%d\"} %u\n", S.node,
			    S.pools[i]->conf.name, j, sl->duplicates);
		}
	H("tq_reconciler_actions_total", "counter",
	    "Tasks released from dead workers, republished, and reconciled.");
	buf_printf(&b, "tq_reconciler_actions_total{node=\"%s\",action="
	    "\"released\"} %lu\n", S.node, S.n_released);
	buf_printf(&b, "tq_reconciler_actions_total{node=\"%s\",action="
	    "\"republished\"} %lu\n", S.node, S.n_republished);
	buf_printf(&b, "tq_reconciler_actions_total{node=\"%s\",action="
	    "\"reconciled\"} %lu\n", S.node, S.n_reconciled);
	H("tq_leader", "gauge", "1 on the node that leads the reconciler.");
	buf_printf(&b, "tq_leader{node=\"%s\"} %d\n", S.node, S.leader);
#undef H
	pthread_mutex_lock(&mmu);
	buf_release(&node_text);
	node_text = b;
	pthread_mutex_unlock(&mmu);
}
