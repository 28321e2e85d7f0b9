/* config.c: the table is the documentation; nothing is read elsewhere. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

#include "config.h"
#include "inifile.h"
#include "task.h"
#include "util.h"

#define KEEP_MAX_MS	(3650LL * 86400000)

#define K(n, e, t, d, lo, hi, h) \
	{ #n, e, t, d, lo, hi, offsetof(struct config, n), \
	  sizeof(((struct config *)0)->n), h }

const struct config_key config_keys[] = {
	K(amqp_url, "TQ_AMQP_URL", CT_STR, "amqp://guest:guest@127.0.0.1:5672/%2f",
	    0, 0, "broker URL amqp://user:pass@host:port/vhost"),
	K(mysql_url, "TQ_MYSQL_URL", CT_STR, "mysql://tq@127.0.0.1:3306/tq",
	    0, 0, "database URL mysql://user:pass@host:port/db"),
	K(amqp_password_file, "TQ_AMQP_PASSWORD_FILE", CT_STR, "", 0, 0,
	    "file holding the broker password (mode 0600 or stricter)"),
	K(mysql_password_file, "TQ_MYSQL_PASSWORD_FILE", CT_STR, "", 0, 0,
	    "file holding the database password (mode 0600 or stricter)"),
	K(amqp_tls_ca, "TQ_AMQP_TLS_CA", CT_STR, "", 0, 0,
	    "amqps://: PEM file of the authorities to trust (default: the "
	    "system's)"),
	K(amqp_tls_cert, "TQ_AMQP_TLS_CERT", CT_STR, "", 0, 0,
	    "amqps://: client certificate, PEM (with amqp_tls_key)"),
	K(amqp_tls_key, "TQ_AMQP_TLS_KEY", CT_STR, "", 0, 0,
	    "amqps://: client key, PEM (mode 0600 or stricter)"),
	K(amqp_tls_verify, "TQ_AMQP_TLS_VERIFY", CT_BOOL, "yes", 0, 1,
	    "amqps://: verify the broker's certificate and host name"),
	K(mysql_tls, "TQ_MYSQL_TLS", CT_BOOL, "no", 0, 1,
	    "talk to the database over TLS"),
	K(mysql_tls_ca, "TQ_MYSQL_TLS_CA", CT_STR, "", 0, 0,
	    "mysql_tls: PEM file of the authorities to trust (default: the "
	    "system's)"),
	K(mysql_tls_cert, "TQ_MYSQL_TLS_CERT", CT_STR, "", 0, 0,
	    "mysql_tls: client certificate, PEM (with mysql_tls_key)"),
	K(mysql_tls_key, "TQ_MYSQL_TLS_KEY", CT_STR, "", 0, 0,
	    "mysql_tls: client key, PEM (mode 0600 or stricter)"),
	K(mysql_tls_verify, "TQ_MYSQL_TLS_VERIFY", CT_BOOL, "yes", 0, 1,
	    "mysql_tls: verify the database's certificate and host name"),
	K(queue, "TQ_QUEUE", CT_STR, "default", 0, 0, "queue name"),
	K(queue_type, "TQ_QUEUE_TYPE", CT_STR, "classic", 0, 0,
	    "broker queue type: classic (one broker) or quorum (a cluster)"),
	K(log_level, "TQ_LOG_LEVEL", CT_STR, "info", 0, 0,
	    "debug, info, warn or error"),
	K(log_target, "TQ_LOG_TARGET", CT_STR, "stderr", 0, 0,
	    "where daemons log: stderr or syslog (facility daemon)"),
	K(prefetch, "TQ_PREFETCH", CT_INT, "32", 1, 1000,
	    "unacked deliveries a worker may hold"),
	K(batch, "TQ_BATCH", CT_INT, "32", 1, 500,
	    "tasks claimed and finished per round"),
	K(batch_wait_ms, "TQ_BATCH_WAIT_MS", CT_INT, "0", 0, 1000,
	    "how long a round waits for more deliveries"),
	K(payload_max, "TQ_PAYLOAD_MAX", CT_INT, "1048576", 0, 8388608,
	    "largest payload accepted, bytes"),
	K(result_max, "TQ_RESULT_MAX", CT_INT, "1048576", 0, 8388608,
	    "largest result kept, bytes"),
	K(max_attempts, "TQ_MAX_ATTEMPTS", CT_INT, "3", 1, 1000,
	    "default attempts per task"),
	K(backoff_base_ms, "TQ_BACKOFF_BASE_MS", CT_INT, "1000", 0, 86400000,
	    "default retry backoff base"),
	K(backoff_cap_ms, "TQ_BACKOFF_CAP_MS", CT_INT, "300000", 0, 86400000,
	    "default retry backoff cap"),
	K(pending_grace_ms, "TQ_PENDING_GRACE_MS", CT_INT, "5000", 100,
	    3600000, "age of a pending row before the reconciler publishes it"),
	K(lease_ms, "TQ_LEASE_MS", CT_INT, "30000", 500, 86400000,
	    "lease of a running task; renewed while its worker lives"),
	K(heartbeat_s, "TQ_AMQP_HEARTBEAT", CT_INT, "10", 0, 600,
	    "AMQP heartbeat, seconds"),
	K(timeout_ms, "TQ_TIMEOUT_MS", CT_INT, "10000", 100, 600000,
	    "connect, RPC and confirm timeout"),
	K(reconcile_ms, "TQ_RECONCILE_MS", CT_INT, "200", 20, 60000,
	    "reconciler tick"),
	K(leader_ttl_ms, "TQ_LEADER_TTL_MS", CT_INT, "5000", 500, 600000,
	    "reconciler leadership lease"),
	K(publish_window, "TQ_PUBLISH_WINDOW", CT_INT, "1000", 1, 100000,
	    "unconfirmed publishes in flight"),
	K(stranded_after_ms, "TQ_STRANDED_AFTER_MS", CT_INT, "30000", 1000,
	    86400000, "a queued task this old, in a queue the broker says is "
	    "empty, is published again"),
	K(node, "TQ_NODE", CT_STR, "", 0, 0,
	    "this node's name (default: the host name)"),
	K(node_timeout_ms, "TQ_NODE_TIMEOUT_MS", CT_INT, "5000", 500, 600000,
	    "a node not seen for this long is dead; its tasks are released"),
	K(fence_all, "TQ_FENCE_ALL", CT_BOOL, "no", 0, 1,
	    "when a node cannot vouch for its tasks, stop every running "
	    "handler, not only those under a limit"),
	K(metrics_listen, "TQ_METRICS_LISTEN", CT_STR, "127.0.0.1:9464", 0, 0,
	    "the supervisor's Prometheus /metrics address, or off"),
	K(keep_succeeded, "TQ_KEEP_SUCCEEDED", CT_DUR, "7d", 0,
	    KEEP_MAX_MS, "how long a succeeded task is kept after it "
	    "finished (0: forever)"),
	K(keep_failed, "TQ_KEEP_FAILED", CT_DUR, "30d", 0, KEEP_MAX_MS,
	    "how long a failed task (the dead-letter set) is kept (0: "
	    "forever)"),
	K(keep_cancelled, "TQ_KEEP_CANCELLED", CT_DUR, "7d", 0,
	    KEEP_MAX_MS, "how long a cancelled task is kept (0: forever)"),
	K(retention_batch, "TQ_RETENTION_BATCH", CT_INT, "500", 1, 500,
	    "finished tasks deleted per statement by retention"),
	K(control_socket, "TQ_CONTROL_SOCKET", CT_STR,
	    "/run/tq/supervisor.sock", 0, 0,
	    "the supervisor's control socket (its directory is made 0700)"),
	{ NULL, NULL, CT_STR, NULL, 0, 0, 0, 0, NULL },
};

static const struct config_key *
key_find(const char *name)
{
	const struct config_key *k;

	for (k = config_keys; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

static int
key_set(struct config *c, const struct config_key *k, const char *v,
    char *err, size_t errsz)
{
	char *dst = (char *)c + k->off;
	const char *errstr;
	long long n;

	switch (k->type) {
	case CT_STR:
		if (strlen(v) >= k->size) {
			snprintf(err, errsz, "%s: value too long", k->name);
			return -1;
		}
		memcpy(dst, v, strlen(v) + 1);
		return 0;
	case CT_INT:
		if (parse_num(v, k->min, k->max, &n, &errstr) == -1) {
			snprintf(err, errsz, "%s: \"%s\" is %s (allowed %lld.."
			    "%lld)", k->name, v, errstr, k->min, k->max);
			return -1;
		}
		memcpy(dst, &n, sizeof(n));
		return 0;
	case CT_DUR:
		if (parse_duration(v, k->max, &n, &errstr) == -1) {
			snprintf(err, errsz, "%s: \"%s\" is %s (a duration "
			    "such as 30s, 12h or 7d, at most %lld d)", k->name,
			    v, errstr, k->max / 86400000);
			return -1;
		}
		memcpy(dst, &n, sizeof(n));
		return 0;
	case CT_BOOL:
		if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
		    strcmp(v, "1") == 0)
			n = 1;
		else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
		    strcmp(v, "0") == 0)
			n = 0;
		else {
			snprintf(err, errsz, "%s: \"%s\" is not yes or no",
			    k->name, v);
			return -1;
		}
		memcpy(dst, &n, sizeof(n));
		return 0;
	}
	return -1;
}

void
config_defaults(struct config *c)
{
	const struct config_key *k;
	char err[TQ_ERRSZ];

	memset(c, 0, sizeof(*c));
	for (k = config_keys; k->name; k++)
		(void)key_set(c, k, k->def, err, sizeof(err));
}

int
config_set(struct config *c, const char *key, const char *value, char *err,
    size_t errsz)
{
	const struct config_key *k;

	if ((k = key_find(key)) == NULL) {
		snprintf(err, errsz, "unknown setting \"%s\"", key);
		return -1;
	}
	return key_set(c, k, value, err, errsz);
}

/* A TLS file must be readable; a key must not be readable by others. */
static int
check_tls_file(const char *key, const char *path, int secret, char *err,
    size_t errsz)
{
	struct stat sb;

	if (path[0] == '\0')
		return 0;
	if (stat(path, &sb) == -1 || access(path, R_OK) == -1) {
		snprintf(err, errsz, "%s \"%s\": %s", key, path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errsz, "%s \"%s\": not a regular file", key,
		    path);
		return -1;
	}
	if (secret && (sb.st_mode & 077) != 0) {
		snprintf(err, errsz, "%s \"%s\": readable by group or others "
		    "(chmod 600 it)", key, path);
		return -1;
	}
	return 0;
}

static int
check_tls(const struct config *c, char *err, size_t errsz)
{
	const struct {
		const char	*side, *file[3];
		int		 on;
		const char	*off;	/* why it is off */
	} t[] = {
		{ "amqp", { c->amqp_tls_ca, c->amqp_tls_cert, c->amqp_tls_key },
		    strstr(c->amqp_url, "amqps://") != NULL,
		    "amqp_url has no amqps:// URL (TLS is off)" },
		{ "mysql", { c->mysql_tls_ca, c->mysql_tls_cert,
		    c->mysql_tls_key }, c->mysql_tls != 0, "mysql_tls is off" },
	};
	static const char *const what[3] = { "ca", "cert", "key" };
	char key[32];
	size_t i, k;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		for (k = 0; k < 3; k++) {
			if (t[i].file[k][0] == '\0')
				continue;
			snprintf(key, sizeof(key), "%s_tls_%s", t[i].side,
			    what[k]);
			/* Options that would do nothing are a mistake worth
			 * a word. */
			if (!t[i].on) {
				snprintf(err, errsz, "%s is set but %s", key,
				    t[i].off);
				return -1;
			}
			/* The key is a secret: 0600 or stricter. */
			if (check_tls_file(key, t[i].file[k], k == 2, err,
			    errsz) == -1)
				return -1;
		}
		if (!t[i].file[1][0] != !t[i].file[2][0]) {
			snprintf(err, errsz, "%s_tls_cert and %s_tls_key go "
			    "together", t[i].side, t[i].side);
			return -1;
		}
	}
	return 0;
}

static int
check(const struct config *c, char *err, size_t errsz)
{
	int i;

	for (i = 0; i < c->nlimits; i++)
		if (c->limits[i].concurrency == 0 && c->limits[i].rate_n == 0) {
			snprintf(err, errsz, "limit %s: needs concurrency, "
			    "rate or both", c->limits[i].name);
			return -1;
		}
	if (strcmp(c->log_target, "stderr") != 0 &&
	    strcmp(c->log_target, "syslog") != 0) {
		snprintf(err, errsz, "log_target: \"%s\" is not stderr or "
		    "syslog", c->log_target);
		return -1;
	}
	if (!task_name_ok(c->queue, TASK_QUEUE_MAX)) {
		snprintf(err, errsz, "queue: \"%s\" is not a queue name (1-64 "
		    "of A-Z a-z 0-9 . _ : -)", c->queue);
		return -1;
	}
	if (c->node[0] != '\0' && (!task_name_ok(c->node, 64) ||
	    strchr(c->node, ':') != NULL)) {
		snprintf(err, errsz, "node: \"%s\" is not a node name (1-64 "
		    "of A-Z a-z 0-9 . _ -)", c->node);
		return -1;
	}
	if (strcmp(c->queue_type, "quorum") != 0 &&
	    strcmp(c->queue_type, "classic") != 0) {
		snprintf(err, errsz, "queue_type: \"%s\" is not quorum or "
		    "classic", c->queue_type);
		return -1;
	}
	if (c->backoff_cap_ms < c->backoff_base_ms) {
		snprintf(err, errsz, "backoff_cap_ms is below backoff_base_ms");
		return -1;
	}
	if (check_tls(c, err, errsz) == -1)
		return -1;
	return 0;
}

static int
queue_set(struct config *c, const char *queue, const char *key,
    const char *v, char *err, size_t errsz)
{
	static const struct {
		const char *key;
		long long min, max, mult;
		size_t off;
	} keys[] = {
		{ "max_attempts", 1, 1000, 1,
		    offsetof(struct queue_defaults, max_attempts) },
		{ "backoff_base_ms", 0, 86400000, 1,
		    offsetof(struct queue_defaults, backoff_base_ms) },
		{ "backoff_cap_ms", 0, 86400000, 1,
		    offsetof(struct queue_defaults, backoff_cap_ms) },
		{ "timeout_s", 0, 86400 * 7, 1000,
		    offsetof(struct queue_defaults, timeout_ms) },
		{ "priority", 0, 9, 1,
		    offsetof(struct queue_defaults, priority) },
	};
	static const char *const keeps[3] = { "keep_succeeded",
	    "keep_failed", "keep_cancelled" };
	struct queue_defaults *q = NULL;
	const char *errstr;
	long long n;
	size_t i;
	int k;

	if (!task_name_ok(queue, TASK_QUEUE_MAX)) {
		snprintf(err, errsz, "bad queue name [queue %s]", queue);
		return -1;
	}
	for (k = 0; k < c->nqueues; k++)
		if (strcmp(c->queues[k].name, queue) == 0)
			q = &c->queues[k];
	if (q == NULL) {
		if (c->nqueues == CONFIG_QUEUES_MAX) {
			snprintf(err, errsz, "more than %d [queue] sections",
			    CONFIG_QUEUES_MAX);
			return -1;
		}
		q = &c->queues[c->nqueues++];
		snprintf(q->name, sizeof(q->name), "%s", queue);
		q->max_attempts = q->backoff_base_ms = q->backoff_cap_ms =
		    q->timeout_ms = q->priority = -1;
		q->keep_ms[0] = q->keep_ms[1] = q->keep_ms[2] = -1;
	}
	for (i = 0; i < 3; i++) {
		if (strcmp(key, keeps[i]) != 0)
			continue;
		if (parse_duration(v, KEEP_MAX_MS, &n, &errstr) == -1) {
			snprintf(err, errsz, "queue %s: %s \"%s\" is %s (a "
			    "duration such as 30s, 12h or 7d)", queue, key, v,
			    errstr);
			return -1;
		}
		q->keep_ms[i] = n;
		return 0;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(key, keys[i].key) != 0)
			continue;
		if (parse_num(v, keys[i].min, keys[i].max, &n, &errstr) == -1) {
			snprintf(err, errsz, "queue %s: %s \"%s\" is %s (allowed "
			    "%lld..%lld)", queue, key, v, errstr, keys[i].min,
			    keys[i].max);
			return -1;
		}
		n *= keys[i].mult;
		memcpy((char *)q + keys[i].off, &n, sizeof(n));
		return 0;
	}
	snprintf(err, errsz, "queue %s: unknown setting \"%s\"", queue, key);
	return -1;
}

void
config_queue(const struct config *c, const char *queue,
    unsigned *max_attempts, unsigned *base, unsigned *cap, unsigned *timeout,
    unsigned *priority)
{
	int k;

	*max_attempts = (unsigned)c->max_attempts;
	*base = (unsigned)c->backoff_base_ms;
	*cap = (unsigned)c->backoff_cap_ms;
	*timeout = 0;
	*priority = 0;
	for (k = 0; k < c->nqueues; k++) {
		const struct queue_defaults *q = &c->queues[k];

		if (strcmp(q->name, queue) != 0)
			continue;
		if (q->max_attempts >= 0)
			*max_attempts = (unsigned)q->max_attempts;
		if (q->backoff_base_ms >= 0)
			*base = (unsigned)q->backoff_base_ms;
		if (q->backoff_cap_ms >= 0)
			*cap = (unsigned)q->backoff_cap_ms;
		if (q->timeout_ms >= 0)
			*timeout = (unsigned)q->timeout_ms;
		if (q->priority >= 0)
			*priority = (unsigned)q->priority;
	}
	if (*cap < *base)
		*cap = *base;
}

long long
config_keep_ms(const struct config *c, const char *queue, int state)
{
	long long v;
	int i, k;

	switch (state) {
	case TS_SUCCEEDED:
		i = 0;
		v = c->keep_succeeded;
		break;
	case TS_FAILED:
		i = 1;
		v = c->keep_failed;
		break;
	case TS_CANCELLED:
		i = 2;
		v = c->keep_cancelled;
		break;
	default:
		return -1;
	}
	for (k = 0; k < c->nqueues; k++)
		if (strcmp(c->queues[k].name, queue) == 0 &&
		    c->queues[k].keep_ms[i] >= 0)
			v = c->queues[k].keep_ms[i];
	return v;
}

long long
config_keep_max_ms(const struct config *c)
{
	long long v[3] = { c->keep_succeeded, c->keep_failed,
	    c->keep_cancelled }, max = 0;
	int i, k;

	for (i = 0; i < 3; i++) {
		if (v[i] == 0)
			return 0;
		if (v[i] > max)
			max = v[i];
		for (k = 0; k < c->nqueues; k++) {
			if (c->queues[k].keep_ms[i] == 0)
				return 0;
			if (c->queues[k].keep_ms[i] > max)
				max = c->queues[k].keep_ms[i];
		}
	}
	return max;
}

/* [limit NAME]: concurrency = N, rate = N/PERIOD, burst = B. */
static int
limit_set(struct config *c, const char *name, const char *key, const char *v,
    char *err, size_t errsz)
{
	struct limit_def *l = NULL;
	const char *errstr;
	long long n;
	int k;

	if (!limit_name_ok(name)) {
		snprintf(err, errsz, "bad limit name [limit %s] (a key, or a "
		    "prefix ending in \":*\")", name);
		return -1;
	}
	for (k = 0; k < c->nlimits; k++)
		if (strcmp(c->limits[k].name, name) == 0)
			l = &c->limits[k];
	if (l == NULL) {
		if (c->nlimits == CONFIG_LIMITS_MAX) {
			snprintf(err, errsz, "more than %d [limit] sections",
			    CONFIG_LIMITS_MAX);
			return -1;
		}
		l = &c->limits[c->nlimits++];
		memset(l, 0, sizeof(*l));
		snprintf(l->name, sizeof(l->name), "%s", name);
		l->burst = 1;
	}
	if (strcmp(key, "rate") == 0) {
		if (limit_rate_parse(v, &l->rate_n, &l->rate_ms, &errstr) == 0)
			return 0;
		snprintf(err, errsz, "limit %s: rate \"%s\": %s", name, v,
		    errstr);
		return -1;
	}
	if (strcmp(key, "concurrency") != 0 && strcmp(key, "burst") != 0) {
		snprintf(err, errsz, "limit %s: unknown setting \"%s\"", name,
		    key);
		return -1;
	}
	if (parse_num(v, 1, 1000000, &n, &errstr) == -1) {
		snprintf(err, errsz, "limit %s: %s \"%s\" is %s (allowed "
		    "1..1000000)", name, key, v, errstr);
		return -1;
	}
	if (key[0] == 'c')
		l->concurrency = (unsigned)n;
	else
		l->burst = (unsigned)n;
	return 0;
}

static int
ini_cb(void *arg, const char *section, const char *name, const char *value,
    char *err, size_t errsz)
{
	/* [tq] and [queue NAME] belong to us; the supervisor reads its
	 * [pool ...], the worker its [task ...]. */
	if (strncmp(section, "queue ", 6) == 0)
		return queue_set(arg, section + 6, name, value, err, errsz);
	if (strncmp(section, "limit ", 6) == 0)
		return limit_set(arg, section + 6, name, value, err, errsz);
	if (strcmp(section, "tq") != 0)
		return 0;
	return config_set(arg, name, value, err, errsz);
}

int
config_load(struct config *c, const char *file, char *err, size_t errsz)
{
	const struct config_key *k;
	const char *v;

	config_defaults(c);
	if (file != NULL && inifile_parse(file, ini_cb, c, err, errsz) == -1)
		return -1;
	for (k = config_keys; k->name; k++) {
		if (k->env == NULL || (v = getenv(k->env)) == NULL)
			continue;
		if (key_set(c, k, v, err, errsz) == -1) {
			char why[TQ_ERRSZ];

			snprintf(why, sizeof(why), "%s", err);
			snprintf(err, errsz, "environment %s: %s", k->env, why);
			return -1;
		}
	}
	return check(c, err, errsz);
}

int
config_check(const struct config *c, char *err, size_t errsz)
{
	int i;

	for (i = 0; i < c->nlimits; i++)
		if (c->limits[i].concurrency == 0 && c->limits[i].rate_n == 0) {
			snprintf(err, errsz, "limit %s: needs concurrency, "
			    "rate or both", c->limits[i].name);
			return -1;
		}
	return check(c, err, errsz);
}

int
config_set_flag_url(struct config *c, const char *key, const char *url,
    char *err, size_t errsz)
{
	if (url_has_password(url)) {
		snprintf(err, errsz, "--%.*s-url: a password on the command "
		    "line is visible to every local user; give it in %.*s_"
		    "password_file, the config file or the environment",
		    (int)strcspn(key, "_"), key, (int)strcspn(key, "_"), key);
		return -1;
	}
	return config_set(c, key, url, err, errsz);
}

/* Reads a secret, refusing files that others may read. */
static int
read_secret(const char *path, char *out, size_t outsz, char *err,
    size_t errsz)
{
	struct stat sb;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(err, errsz, "password file \"%s\": %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || (sb.st_mode & 077) != 0) {
		snprintf(err, errsz, "password file \"%s\": readable by group "
		    "or others (chmod 600 it)", path);
		close(fd);
		return -1;
	}
	n = read(fd, out, outsz - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errsz, "password file \"%s\": %s", path,
		    strerror(errno));
		return -1;
	}
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

int
config_urls(const struct config *c, struct url *amqp, struct url *mysql,
    char *err, size_t errsz)
{
	char why[TQ_ERRSZ];

	if (amqp != NULL) {
		if (url_parse(c->amqp_url, amqp, why, sizeof(why)) == -1 ||
		    amqp->scheme == URL_MYSQL) {
			snprintf(err, errsz, "amqp_url: %s", amqp->scheme ==
			    URL_MYSQL ? "not an amqp:// URL" : why);
			return -1;
		}
		if (c->amqp_password_file[0] && read_secret(
		    c->amqp_password_file, amqp->pass, sizeof(amqp->pass), err,
		    errsz) == -1)
			return -1;
	}
	if (mysql != NULL) {
		if (url_parse(c->mysql_url, mysql, why, sizeof(why)) == -1 ||
		    mysql->scheme != URL_MYSQL) {
			snprintf(err, errsz, "mysql_url: %s", mysql->scheme !=
			    URL_MYSQL ? "not a mysql:// URL" : why);
			return -1;
		}
		if (c->mysql_password_file[0] && read_secret(
		    c->mysql_password_file, mysql->pass, sizeof(mysql->pass),
		    err, errsz) == -1)
			return -1;
	}
	return 0;
}

int
config_amqp_urls(const struct config *c, struct url *out, int max, char *err,
    size_t errsz)
{
	char list[sizeof(c->amqp_url)], *p, *next, why[TQ_ERRSZ];
	int n = 0;

	snprintf(list, sizeof(list), "%s", c->amqp_url);
	for (p = list; p != NULL; p = next) {
		if ((next = strchr(p, ',')) != NULL)
			*next++ = '\0';
		while (*p == ' ')
			p++;
		if (n == max) {
			snprintf(err, errsz, "amqp_url: more than %d URLs", max);
			return -1;
		}
		if (url_parse(p, &out[n], why, sizeof(why)) == -1 ||
		    out[n].scheme == URL_MYSQL) {
			snprintf(err, errsz, "amqp_url: %s", out[n].scheme ==
			    URL_MYSQL ? "not an amqp:// URL" : why);
			return -1;
		}
		if (c->amqp_password_file[0] && read_secret(
		    c->amqp_password_file, out[n].pass, sizeof(out[n].pass),
		    err, errsz) == -1)
			return -1;
		n++;
	}
	return n;
}

/* The largest unit that divides ms: 604800000 is "7d". */
static const char *
fmt_duration(long long ms, char *buf, size_t size)
{
	static const struct {
		const char	*unit;
		long long	 ms;
	} units[] = { { "d", 86400000 }, { "h", 3600000 }, { "m", 60000 },
	    { "s", 1000 }, { "ms", 1 } };
	size_t i;

	if (ms == 0) {
		snprintf(buf, size, "0");
		return buf;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]) - 1; i++)
		if (ms % units[i].ms == 0)
			break;
	snprintf(buf, size, "%lld%s", ms / units[i].ms, units[i].unit);
	return buf;
}

void
config_dump(const struct config *c, FILE *fp)
{
	const struct config_key *k;
	const char *p = (const char *)c;
	char red[1100];
	struct url u;
	long long n;

	fprintf(fp, "[tq]\n");
	for (k = config_keys; k->name; k++) {
		fprintf(fp, "# %s%s%s\n", k->help, k->env ? "; env " : "",
		    k->env ? k->env : "");
		if (k->type == CT_STR) {
			const char *v = p + k->off;
			char why[TQ_ERRSZ];

			if (strstr(k->name, "_url")) {
				/* Never print a password, even of a URL that
				 * does not parse. */
				char list[1024], *q, *next;
				size_t o = 0;

				snprintf(list, sizeof(list), "%s", v);
				red[0] = '\0';
				for (q = list; q; q = next) {
					if ((next = strchr(q, ',')) != NULL)
						*next++ = '\0';
					if (url_parse(q, &u, why,
					    sizeof(why)) == 0) {
						url_redact(&u, red + o,
						    sizeof(red) - o);
						url_clear(&u);
					} else
						snprintf(red + o, sizeof(red) -
						    o, "(unparsable URL)");
					o = strlen(red);
					if (next && o + 1 < sizeof(red))
						red[o++] = ',';
					red[o] = '\0';
				}
				v = red;
			}
			fprintf(fp, "%s = %s\n", k->name, v);
		} else if (k->type == CT_DUR) {
			memcpy(&n, p + k->off, sizeof(n));
			fprintf(fp, "%s = %s\n", k->name, fmt_duration(n, red,
			    sizeof(red)));
		} else {
			memcpy(&n, p + k->off, sizeof(n));
			fprintf(fp, "%s = %lld\n", k->name, n);
		}
	}
}
