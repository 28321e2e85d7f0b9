/* store.c: MySQL access. Prepared statements are cached by their text; the
 * IN lists of batches are built from placeholders only, never from data. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>


#include "log.h"
#include "store.h"
#include "util.h"

#define STMT_CACHE	128

int store_debug_nofence;
#define TXN_TRIES	10

struct stmt_ent {
	char		*sql;
	MYSQL_STMT	*st;
	uint64_t	 used;
};

struct store {
	MYSQL		*db;
	struct url	 url;
	struct tls_opts	 tls;
	char		 err[TQ_ERRSZ];
	unsigned	 errnum;
	int		 err_temp;
	struct stmt_ent	 cache[STMT_CACHE];
	uint64_t	 tick;
	unsigned long	 deadlocks;
};

/* Input parameters, with room for their values. */
struct params {
	MYSQL_BIND	*b;
	unsigned long	*len;
	long long	*iv;
	size_t		 n, cap;
};

static int	params_init(struct params *, size_t cap);
static void	params_release(struct params *);
static int	rollup_one(struct store *, const struct uuid *,
		    const char *outcome);

/*
 * The statements that run on a timer, named so that the EXPLAIN test
 * (store_timed[] below, tests/tools/explain) reads the very texts that
 * run. Each is bounded by live work: an index range over the states that
 * are not terminal, a key lookup, or a small table; none reads history.
 */
#define SQL_DUE \
	"(SELECT id, queue, name, payload, priority FROM tasks " \
	"WHERE state = 'scheduled' AND due_at <= NOW(6) " \
	"ORDER BY due_at LIMIT ?) UNION ALL " \
	"(SELECT id, queue, name, payload, priority FROM tasks " \
	"WHERE state = 'pending' AND due_at <= NOW(6) " \
	"ORDER BY due_at LIMIT ?)"
#define SQL_STRANDED_QUEUES \
	"SELECT queue FROM tasks WHERE state = 'queued' AND " \
	"due_at < NOW(6) - INTERVAL ? * 1000 MICROSECOND " \
	"ORDER BY due_at LIMIT 1000"
#define SQL_STRANDED \
	"SELECT id, queue, name, payload, priority FROM tasks " \
	"WHERE state = 'queued' AND due_at < NOW(6) - INTERVAL ? * 1000 " \
	"MICROSECOND AND queue = ? ORDER BY due_at LIMIT ?"
#define SQL_EXPIRED_LEASES \
	"SELECT id, fence FROM tasks WHERE state = 'running' AND " \
	"due_at < NOW(6) ORDER BY due_at LIMIT ?"
#define SQL_OWNED_NODE \
	"SELECT id, fence FROM tasks WHERE state = 'running' AND owner LIKE ?"
#define SQL_OWNED \
	"SELECT id, fence FROM tasks WHERE state = 'running' AND owner = ?"
#define SQL_RENEW_OWNERS \
	"UPDATE tasks SET due_at = NOW(6) + INTERVAL ? * 1000 MICROSECOND " \
	"WHERE state = 'running' AND owner IN ("
#define SQL_RENEW \
	"UPDATE tasks SET due_at = NOW(6) + INTERVAL ? * 1000 MICROSECOND " \
	"WHERE state = 'running' AND (id, fence) IN ("
#define SQL_CANCEL_ASKED \
	"SELECT id, fence, owner FROM tasks WHERE state = 'running' AND " \
	"cancel_requested = 1 AND owner IN ("
#define SQL_DEAD_NODES \
	"SELECT name FROM tq_nodes WHERE seen_at < NOW(6) - " \
	"INTERVAL ? * 1000 MICROSECOND"
#define SQL_NODE_BEAT \
	"UPDATE tq_nodes SET seen_at = NOW(6) WHERE name = ? AND info = ?"
#define SQL_CRON_DUE \
	"SELECT name, spec, queue, task, payload, " \
	"UNIX_TIMESTAMP(next_tick) DIV 1 FROM tq_cron " \
	"WHERE next_tick <= NOW(6) ORDER BY next_tick LIMIT 100"
/* Live counts: the states that are not terminal, an index-only range. */
#define SQL_LIVE \
	"SELECT queue, state, COUNT(*) FROM tasks " \
	"WHERE state IN ('pending', 'queued', 'scheduled', 'running') " \
	"GROUP BY state, queue"
/* Finished tasks are counted as they finish (tq_rollup), by the hour. */
#define SQL_ROLLUP_SINCE \
	"SELECT queue, outcome, UNIX_TIMESTAMP(hour) DIV 1, SUM(n) " \
	"FROM tq_rollup WHERE hour >= FROM_UNIXTIME(?) " \
	"GROUP BY hour, queue, outcome"
/* The retention windows' counts (tq_window): the last hour closed, each
 * row's old edge moved by the hours between two marks (a range of
 * tq_rollup's key), the hours between the last two closings added. */
#define SQL_WINDOW_CLOSED \
	"SELECT UNIX_TIMESTAMP(closed) DIV 1 FROM tq_window_closed WHERE id = 1"
#define SQL_WINDOW_ROWS \
	"SELECT queue, outcome, UNIX_TIMESTAMP(expired) DIV 1, GREATEST(n, 0) " \
	"FROM tq_window"
#define SQL_WINDOW_MOVE \
	"UPDATE tq_window SET n = n + ? * (SELECT IFNULL(SUM(r.n), 0) " \
	"FROM tq_rollup r WHERE r.hour > FROM_UNIXTIME(?) " \
	"AND r.hour <= FROM_UNIXTIME(?) AND r.queue = ? AND r.outcome = ?), " \
	"expired = FROM_UNIXTIME(?) " \
	"WHERE queue = ? AND outcome = ? AND expired = FROM_UNIXTIME(?)"
#define SQL_WINDOW_ADD \
	"INSERT INTO tq_window (queue, outcome, n, expired) " \
	"SELECT queue, outcome, SUM(n), FROM_UNIXTIME(?) FROM tq_rollup " \
	"WHERE hour > FROM_UNIXTIME(?) AND hour <= FROM_UNIXTIME(?) " \
	"AND outcome <> 'retried' GROUP BY queue, outcome " \
	"ON DUPLICATE KEY UPDATE n = tq_window.n + VALUES(n)"
/* Retention: the queues that hold finished rows, with the oldest of each
 * (a loose index scan: one step per state and queue, whatever the rows),
 * then the oldest rows of one queue. A parent that a child still waits
 * for is kept. */
#define SQL_DONE_QUEUES \
	"SELECT state, queue, UNIX_TIMESTAMP(MIN(finished_at)) FROM tasks " \
	"WHERE state IN ('succeeded', 'failed', 'cancelled') " \
	"GROUP BY state, queue"
#define SQL_EXPIRED \
	"SELECT id, has_children FROM tasks WHERE state = ? AND queue = ? " \
	"AND finished_at < NOW(6) - INTERVAL ? * 1000 MICROSECOND " \
	"ORDER BY finished_at LIMIT ? FOR UPDATE"
/* Of these parents, those that a child still waits for. */
#define SQL_WAITED_FOR \
	"SELECT DISTINCT d.parent FROM task_deps d STRAIGHT_JOIN tasks c " \
	"ON c.id = d.child WHERE c.state IN ('pending', 'queued', " \
	"'scheduled', 'running') AND d.parent IN ("
#define SQL_FAILED_QUEUE \
	"SELECT id, UNIX_TIMESTAMP(finished_at) FROM tasks " \
	"WHERE state = 'failed' AND queue = ? ORDER BY finished_at DESC LIMIT ?"

/* Per task, not on a timer, but once a scan of task_runs (see
 * finish_successes). */
#define SQL_RUNS_DONE_ONE \
	"UPDATE task_runs SET outcome = 'succeeded', finished_at = NOW(6) " \
	"WHERE task_id = ? AND fence = ?"
#define SQL_RUNS_DONE \
	"UPDATE task_runs SET outcome = 'succeeded', finished_at = NOW(6) " \
	"WHERE (task_id, fence) IN ("

const struct store_sql store_timed[] = {
	{ "reconciler: due", SQL_DUE, "ii" },
	{ "reconciler: stranded queues", SQL_STRANDED_QUEUES, "i" },
	{ "reconciler: stranded", SQL_STRANDED, "isi" },
	{ "reconciler: expired leases", SQL_EXPIRED_LEASES, "i" },
	{ "reconciler: dead node's tasks", SQL_OWNED_NODE, "s" },
	{ "supervisor: dead worker's tasks", SQL_OWNED, "s" },
	{ "supervisor: renew leases", SQL_RENEW_OWNERS "?)", "is" },
	{ "worker: renew leases", SQL_RENEW "(?,?))", "ibi" },
	{ "supervisor: cancel requests", SQL_CANCEL_ASKED "?)", "s" },
	{ "reconciler: dead nodes", SQL_DEAD_NODES, "i" },
	{ "supervisor: node beat", SQL_NODE_BEAT, "ss" },
	{ "reconciler: cron", SQL_CRON_DUE, "" },
	{ "leader, tq stats, tq top: live counts", SQL_LIVE, "" },
	{ "tq stats, tq top: finished counts", SQL_ROLLUP_SINCE, "i" },
	{ "tq stats, leader: windows closed", SQL_WINDOW_CLOSED, "" },
	{ "tq stats, leader: windows", SQL_WINDOW_ROWS, "" },
	{ "leader: a window's old edge", SQL_WINDOW_MOVE,
	    "iiisiisii" },
	{ "leader: hours closed", SQL_WINDOW_ADD, "iii" },
	{ "retention: queues", SQL_DONE_QUEUES, "" },
	{ "retention: expired", SQL_EXPIRED, "Ssii" },
	{ "retention: parents waited for", SQL_WAITED_FOR "?)", "b" },
	{ "tq top: latest failures", SQL_FAILED_QUEUE, "si" },
	{ "worker: a lone task's run finished", SQL_RUNS_DONE_ONE, "bi" },
	{ "worker: runs finished", SQL_RUNS_DONE "(?,?),(?,?))", "bibi" },
	{ NULL, NULL, NULL },
};


/* ---- errors ---- */

static int
errnum_lost(unsigned e)
{
	return (e >= 2000 && e < 3000) || e == ER_SERVER_SHUTDOWN ||
	    e == 1927 /* connection killed */ || e == 4031 /* idle timeout */ ||
	    e == ER_CON_COUNT_ERROR;
}

static int
errnum_retry(unsigned e)
{
	return e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT;
}

static int
db_fail(struct store *s, const char *what)
{
	s->errnum = mysql_errno(s->db);
	s->err_temp = errnum_lost(s->errnum) || errnum_retry(s->errnum);
	snprintf(s->err, sizeof(s->err), "mysql %s: %s (%u)", what,
	    mysql_error(s->db), s->errnum);
	return -1;
}

static int
st_fail(struct store *s, MYSQL_STMT *st, const char *what)
{
	s->errnum = mysql_stmt_errno(st);
	s->err_temp = errnum_lost(s->errnum) || errnum_retry(s->errnum);
	snprintf(s->err, sizeof(s->err), "mysql %s: %s (%u)", what,
	    mysql_stmt_error(st), s->errnum);
	return -1;
}

static int
oom(struct store *s)
{
	s->errnum = 0;
	s->err_temp = 0;
	snprintf(s->err, sizeof(s->err), "out of memory");
	return -1;
}

const char *
store_errstr(const struct store *s)
{
	return s->err;
}

int
store_err_temporary(const struct store *s)
{
	return s->err_temp;
}

unsigned long
store_deadlocks(const struct store *s)
{
	return s->deadlocks;
}

/* ---- connection ---- */

static void
cache_clear(struct store *s)
{
	int i;

	for (i = 0; i < STMT_CACHE; i++) {
		if (s->cache[i].st)
			mysql_stmt_close(s->cache[i].st);
		free(s->cache[i].sql);
		s->cache[i].st = NULL;
		s->cache[i].sql = NULL;
	}
}

static int
db_connect(struct store *s)
{
	unsigned int timeout = 5, rwtimeout = 15;
	unsigned int proto = MYSQL_PROTOCOL_TCP;
	my_bool report = 1;
	char where[300];

	if ((s->db = mysql_init(NULL)) == NULL)
		return oom(s);
	mysql_options(s->db, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_options(s->db, MYSQL_OPT_READ_TIMEOUT, &rwtimeout);
	mysql_options(s->db, MYSQL_OPT_WRITE_TIMEOUT, &rwtimeout);
	mysql_options(s->db, MYSQL_OPT_PROTOCOL, &proto);
	mysql_options(s->db, MYSQL_REPORT_DATA_TRUNCATION, &report);
	mysql_options(s->db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (s->tls.on) {
		my_bool on = 1, verify = s->tls.verify ? 1 : 0;

		/* Required, not merely preferred: no silent fallback to
		 * plain text. */
		mysql_options(s->db, MYSQL_OPT_SSL_ENFORCE, &on);
		mysql_options(s->db, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
		if (s->tls.ca && s->tls.ca[0])
			mysql_options(s->db, MYSQL_OPT_SSL_CA, s->tls.ca);
		if (s->tls.cert && s->tls.cert[0]) {
			mysql_options(s->db, MYSQL_OPT_SSL_CERT, s->tls.cert);
			mysql_options(s->db, MYSQL_OPT_SSL_KEY, s->tls.key);
		}
	}
	/* MYSQL_OPT_RECONNECT stays off: it would silently drop prepared
	 * statements and session state; store_reconnect does it openly. */
	if (mysql_real_connect(s->db, s->url.host, s->url.user,
	    s->url.pass[0] ? s->url.pass : NULL, s->url.path,
	    (unsigned)s->url.port, NULL, 0) == NULL) {
		s->errnum = mysql_errno(s->db);
		/* 2026, a TLS handshake refused (certificate, name, no TLS
		 * on the server), does not heal by retrying. */
		s->err_temp = errnum_lost(s->errnum) && s->errnum != 2026;
		snprintf(where, sizeof(where), "%s:%d", s->url.host,
		    s->url.port);
		snprintf(s->err, sizeof(s->err), "mysql connect \"%s\": %s%s",
		    where, mysql_error(s->db), s->errnum == 2026 ?
		    " (check mysql_tls_ca, and that the server's certificate "
		    "names this host)" : "");
		mysql_close(s->db);
		s->db = NULL;
		return -1;
	}
	tcp_dead_peer((int)mysql_get_socket(s->db), TCP_DEAD_PEER_MS);
	/* Lock waits end well before the read timeout, as retryable 1205s. */
	if (mysql_query(s->db, "SET time_zone = '+00:00', "
	    "tx_isolation = 'READ-COMMITTED', innodb_lock_wait_timeout = 5") !=
	    0) {
		db_fail(s, "session setup");
		mysql_close(s->db);
		s->db = NULL;
		return -1;
	}
	return 0;
}

struct store *
store_open(const struct url *u, const struct tls_opts *tls, char *err,
    size_t errsz, int *temporary)
{
	struct store *s;

	*temporary = 0;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	s->url = *u;
	if (tls != NULL)
		s->tls = *tls;
	if (db_connect(s) == -1) {
		snprintf(err, errsz, "%s", s->err);
		*temporary = s->err_temp;
		url_clear(&s->url);
		free(s);
		return NULL;
	}
	return s;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	cache_clear(s);
	if (s->db)
		mysql_close(s->db);
	url_clear(&s->url);
	free(s);
}

int
store_reconnect(struct store *s)
{
	cache_clear(s);
	if (s->db)
		mysql_close(s->db);
	s->db = NULL;
	return db_connect(s);
}

/* ---- statements ---- */

static MYSQL_STMT *
stmt_get(struct store *s, const char *sql)
{
	struct stmt_ent *e, *victim = NULL;
	int i;

	if (s->db == NULL && db_connect(s) == -1)
		return NULL;
	for (i = 0; i < STMT_CACHE; i++) {
		e = &s->cache[i];
		if (e->sql && strcmp(e->sql, sql) == 0) {
			e->used = ++s->tick;
			return e->st;
		}
		if (victim == NULL || e->used < victim->used)
			victim = e;
	}
	if (victim->st)
		mysql_stmt_close(victim->st);
	free(victim->sql);
	victim->st = NULL;
	victim->sql = NULL;
	if ((victim->st = mysql_stmt_init(s->db)) == NULL) {
		db_fail(s, "stmt init");
		return NULL;
	}
	if (mysql_stmt_prepare(victim->st, sql, strlen(sql)) != 0) {
		st_fail(s, victim->st, "prepare");
		mysql_stmt_close(victim->st);
		victim->st = NULL;
		return NULL;
	}
	if ((victim->sql = strdup(sql)) == NULL) {
		mysql_stmt_close(victim->st);
		victim->st = NULL;
		oom(s);
		return NULL;
	}
	victim->used = ++s->tick;
	return victim->st;
}

/* Drops sql's cached statement: the next stmt_get prepares it afresh. */
static void
stmt_forget(struct store *s, const char *sql)
{
	struct stmt_ent *e;
	int i;

	for (i = 0; i < STMT_CACHE; i++) {
		e = &s->cache[i];
		if (e->sql && strcmp(e->sql, sql) == 0) {
			mysql_stmt_close(e->st);
			free(e->sql);
			e->st = NULL;
			e->sql = NULL;
			e->used = 0;
		}
	}
}

/* Executes sql with p; returns the statement (results not yet read) or
 * NULL. *affected gets the row count of DML when not NULL. */
static MYSQL_STMT *
stmt_run(struct store *s, const char *sql, struct params *p,
    unsigned long long *affected)
{
	MYSQL_STMT *st;

	if ((st = stmt_get(s, sql)) == NULL)
		return NULL;
	if (p != NULL && p->n > 0 && mysql_stmt_bind_param(st, p->b) != 0) {
		st_fail(s, st, "bind");
		return NULL;
	}
	if (mysql_stmt_execute(st) != 0) {
		st_fail(s, st, "execute");
		return NULL;
	}
	if (affected)
		*affected = mysql_stmt_affected_rows(st);
	return st;
}

/* Columns of one fetched row: NULL pointer for SQL NULL, always
 * NUL-terminated. */
struct row {
	char		**col;
	unsigned long	 *len;
	unsigned	  n;
};
typedef int (*row_fn)(void *arg, struct row *);

/* Reads every row of st's result, handing each to fn. Returns rows read or
 * -1. Every column is fetched as bytes, whatever its type. */
static int
stmt_rows(struct store *s, MYSQL_STMT *st, row_fn fn, void *arg)
{
	MYSQL_RES *meta;
	MYSQL_BIND *b = NULL;
	unsigned long *len = NULL;
	my_bool *isnull = NULL;
	char **col = NULL;
	struct row r;
	unsigned i, n;
	int rc, count = 0, ret = -1;

	if (mysql_stmt_store_result(st) != 0)
		return st_fail(s, st, "store result");
	if ((meta = mysql_stmt_result_metadata(st)) == NULL) {
		mysql_stmt_free_result(st);
		return 0;
	}
	n = mysql_num_fields(meta);
	mysql_free_result(meta);
	b = calloc(n, sizeof(*b));
	len = calloc(n, sizeof(*len));
	isnull = calloc(n, sizeof(*isnull));
	col = calloc(n, sizeof(*col));
	if (b == NULL || len == NULL || isnull == NULL || col == NULL) {
		oom(s);
		goto done;
	}
	for (i = 0; i < n; i++) {
		b[i].buffer_type = MYSQL_TYPE_BLOB;
		b[i].length = &len[i];
		b[i].is_null = &isnull[i];
	}
	if (mysql_stmt_bind_result(st, b) != 0) {
		st_fail(s, st, "bind result");
		goto done;
	}
	for (;;) {
		rc = mysql_stmt_fetch(st);
		if (rc == MYSQL_NO_DATA)
			break;
		if (rc == 1) {
			st_fail(s, st, "fetch");
			goto done;
		}
		for (i = 0; i < n; i++) {
			col[i] = NULL;
			if (isnull[i])
				continue;
			if ((col[i] = malloc(len[i] + 1)) == NULL) {
				oom(s);
				goto freerow;
			}
			col[i][len[i]] = '\0';
			if (len[i] == 0)
				continue;
			{
				MYSQL_BIND cb;

				memset(&cb, 0, sizeof(cb));
				cb.buffer_type = MYSQL_TYPE_BLOB;
				cb.buffer = col[i];
				cb.buffer_length = len[i];
				if (mysql_stmt_fetch_column(st, &cb, i, 0) != 0) {
					st_fail(s, st, "fetch column");
					goto freerow;
				}
			}
		}
		r.col = col;
		r.len = len;
		r.n = n;
		if (fn(arg, &r) == -1) {
			oom(s);
			goto freerow;
		}
		for (i = 0; i < n; i++) {
			free(col[i]);
			col[i] = NULL;
		}
		count++;
	}
	ret = count;
	goto done;
freerow:
	for (i = 0; i < n; i++) {
		free(col[i]);
		col[i] = NULL;
	}
done:
	mysql_stmt_free_result(st);
	free(b);
	free(len);
	free(isnull);
	free(col);
	return ret;
}

static int
params_init(struct params *p, size_t cap)
{
	memset(p, 0, sizeof(*p));
	if (cap == 0)
		cap = 1;
	p->b = calloc(cap, sizeof(*p->b));
	p->len = calloc(cap, sizeof(*p->len));
	p->iv = calloc(cap, sizeof(*p->iv));
	p->cap = cap;
	if (p->b == NULL || p->len == NULL || p->iv == NULL) {
		params_release(p);
		return -1;
	}
	return 0;
}

static void
params_release(struct params *p)
{
	free(p->b);
	free(p->len);
	free(p->iv);
	memset(p, 0, sizeof(*p));
}

static void
p_bytes(struct params *p, enum enum_field_types t, const void *v, size_t n)
{
	MYSQL_BIND *b = &p->b[p->n];

	b->buffer_type = t;
	b->buffer = (void *)(uintptr_t)v;
	b->buffer_length = n;
	p->len[p->n] = n;
	b->length = &p->len[p->n];
	p->n++;
}

static void
p_blob(struct params *p, const void *v, size_t n)
{
	/* A zero-length blob still needs a non-NULL buffer to mean ''. */
	p_bytes(p, MYSQL_TYPE_BLOB, n ? v : "", n);
}

static void
p_str(struct params *p, const char *v)
{
	if (v == NULL) {
		p->b[p->n].buffer_type = MYSQL_TYPE_NULL;
		p->n++;
		return;
	}
	p_bytes(p, MYSQL_TYPE_STRING, v, strlen(v));
}

static void
p_id(struct params *p, const struct uuid *id)
{
	p_bytes(p, MYSQL_TYPE_BLOB, id->b, UUID_LEN);
}

static void
p_int(struct params *p, long long v)
{
	MYSQL_BIND *b = &p->b[p->n];

	p->iv[p->n] = v;
	b->buffer_type = MYSQL_TYPE_LONGLONG;
	b->buffer = &p->iv[p->n];
	p->n++;
}

/* The size an IN list of n values is padded to, repeating its last value
 * (IN ignores duplicates): a connection then prepares a handful of
 * statements rather than one per batch size, which evicted each other
 * from the cache and cost a prepare every few rounds. */
static size_t
bucket(size_t n)
{
	size_t b = 1;

	while (b < n)
		b <<= 1;
	return b > STORE_BATCH_MAX ? STORE_BATCH_MAX : b;
}

/* ids[0..n) padded to bucket(n). */
static void
p_ids(struct params *p, const struct uuid *ids, size_t n)
{
	size_t i;

	for (i = 0; i < bucket(n); i++)
		p_id(p, &ids[i < n ? i : n - 1]);
}

/* "?,?,?" n times, into b (reset first). */
static int
placeholders(struct buf *b, const char *head, const char *one, size_t n,
    const char *tail)
{
	size_t i;

	buf_reset(b);
	if (buf_printf(b, "%s", head) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (buf_printf(b, "%s%s", i ? "," : "", one) == -1)
			return -1;
	return buf_printf(b, "%s", tail);
}

static int
q(struct store *s, const char *sql)
{
	if (s->db == NULL && db_connect(s) == -1)
		return -1;
	if (mysql_real_query(s->db, sql, strlen(sql)) != 0)
		return db_fail(s, sql);
	return 0;
}

static int
txn_begin(struct store *s)
{
	return q(s, "START TRANSACTION");
}

static int
txn_commit(struct store *s)
{
	if (mysql_commit(s->db) != 0)
		return db_fail(s, "commit");
	return 0;
}

static void
txn_rollback(struct store *s)
{
	/* The error that brought us here is what the caller reports. */
	if (s->db != NULL)
		(void)mysql_rollback(s->db);
}

/* Whether the last error asks to run the transaction again. */
static int
txn_again(struct store *s, int *tries)
{
	if (!errnum_retry(s->errnum) || ++*tries >= TXN_TRIES)
		return 0;
	s->deadlocks++;
	log_debug("event=txn_retry errno=%u try=%d", s->errnum, *tries);
	sleep_ms((int64_t)rand_below(5u << *tries) + 1);
	return 1;
}

static int
id_cmp(const void *a, const void *b)
{
	return uuid_cmp(a, b);
}

static void
copy_col(char *dst, size_t sz, const char *src)
{
	strlcpy(dst, src ? src : "", sz);
}

static int
u64_of(const char *s, uint64_t *v)
{
	char *end;

	if (s == NULL)
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

static unsigned
uns_of(const char *s)
{
	uint64_t v;

	return u64_of(s, &v) == -1 || v > UINT32_MAX ? 0 : (unsigned)v;
}

/* ---- schema ---- */

static const char *const schema_v1[] = {
	"CREATE TABLE IF NOT EXISTS tasks ("
	" id BINARY(16) NOT NULL PRIMARY KEY,"
	" queue VARCHAR(64) NOT NULL,"
	" name VARCHAR(255) NOT NULL,"
	" state ENUM('pending','queued','scheduled','running','succeeded',"
	"  'failed','cancelled') NOT NULL,"
	" priority TINYINT UNSIGNED NOT NULL DEFAULT 0,"
	" payload MEDIUMBLOB NOT NULL,"
	" result MEDIUMBLOB NULL,"
	" error TEXT NULL,"
	" attempts INT UNSIGNED NOT NULL DEFAULT 0,"
	" max_attempts INT UNSIGNED NOT NULL,"
	" backoff_base_ms INT UNSIGNED NOT NULL,"
	" backoff_cap_ms INT UNSIGNED NOT NULL,"
	" timeout_ms INT UNSIGNED NOT NULL DEFAULT 0,"
	" progress TINYINT UNSIGNED NOT NULL DEFAULT 0,"
	" progress_msg VARCHAR(255) NULL,"
	" fence BIGINT UNSIGNED NOT NULL DEFAULT 0,"
	" owner VARCHAR(128) NULL,"
	/* pending: publish again after; scheduled: run at; running: lease */
	" due_at DATETIME(6) NULL,"
	" created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),"
	" updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
	"  ON UPDATE CURRENT_TIMESTAMP(6),"
	" started_at DATETIME(6) NULL,"
	" finished_at DATETIME(6) NULL,"
	" KEY tasks_state_due (state, due_at)"
	") ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS task_runs ("
	" task_id BINARY(16) NOT NULL,"
	" fence BIGINT UNSIGNED NOT NULL,"
	" attempt INT UNSIGNED NOT NULL,"
	" owner VARCHAR(128) NOT NULL,"
	" outcome ENUM('running','succeeded','failed','lost','cancelled')"
	"  NOT NULL,"
	" error TEXT NULL,"
	" started_at DATETIME(6) NOT NULL,"
	" finished_at DATETIME(6) NULL,"
	" PRIMARY KEY (task_id, fence)"
	") ENGINE=InnoDB",

	"CREATE TABLE IF NOT EXISTS tq_leader ("
	" name VARCHAR(32) NOT NULL PRIMARY KEY,"
	" holder VARCHAR(128) NULL,"
	" token BIGINT UNSIGNED NOT NULL DEFAULT 0,"
	" expires_at DATETIME(6) NULL"
	") ENGINE=InnoDB",

	"INSERT IGNORE INTO tq_leader (name) VALUES ('reconciler')",

	"CREATE TABLE IF NOT EXISTS tq_nodes ("
	" name VARCHAR(128) NOT NULL PRIMARY KEY,"
	" started_at DATETIME(6) NOT NULL,"
	" seen_at DATETIME(6) NOT NULL,"
	" info VARCHAR(255) NULL"
	") ENGINE=InnoDB",
	NULL
};

/* v2: cancellation requests and unique keys. A key holds only while its
 * task is not terminal: the generated column is NULL afterwards. */
static const char *const schema_v2[] = {
	"ALTER TABLE tasks"
	" ADD COLUMN IF NOT EXISTS cancel_requested TINYINT UNSIGNED NOT NULL"
	"  DEFAULT 0,"
	" ADD COLUMN IF NOT EXISTS unique_key VARCHAR(255) NULL,"
	" ADD COLUMN IF NOT EXISTS active_key VARCHAR(330) AS"
	"  (IF(state IN ('succeeded','failed','cancelled') OR unique_key IS NULL,"
	"  NULL, CONCAT(queue, ':', unique_key))) PERSISTENT",
	"ALTER TABLE tasks ADD UNIQUE KEY IF NOT EXISTS tasks_active_key"
	" (active_key)",
	NULL
};

/* v3: periodic tasks (one row per schedule; one row per tick that was
 * enqueued, whose key makes a tick happen once) and dependencies. */
static const char *const schema_v3[] = {
	"CREATE TABLE IF NOT EXISTS tq_cron ("
	" name VARCHAR(64) NOT NULL PRIMARY KEY,"
	" spec VARCHAR(128) NOT NULL,"
	" queue VARCHAR(64) NOT NULL,"
	" task VARCHAR(255) NOT NULL,"
	" payload MEDIUMBLOB NOT NULL,"
	" next_tick DATETIME(6) NOT NULL,"
	" updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
	"  ON UPDATE CURRENT_TIMESTAMP(6),"
	" KEY tq_cron_next (next_tick)"
	") ENGINE=InnoDB",
	"CREATE TABLE IF NOT EXISTS tq_cron_ticks ("
	" name VARCHAR(64) NOT NULL,"
	" tick DATETIME NOT NULL,"
	" task_id BINARY(16) NOT NULL,"
	" PRIMARY KEY (name, tick)"
	") ENGINE=InnoDB",
	"CREATE TABLE IF NOT EXISTS task_deps ("
	" child BINARY(16) NOT NULL,"
	" parent BINARY(16) NOT NULL,"
	" PRIMARY KEY (child, parent),"
	" KEY task_deps_parent (parent)"
	") ENGINE=InnoDB",
	"ALTER TABLE tasks"
	" ADD COLUMN IF NOT EXISTS waiting INT UNSIGNED NOT NULL DEFAULT 0,"
	" ADD COLUMN IF NOT EXISTS has_children TINYINT UNSIGNED NOT NULL"
	"  DEFAULT 0",
	NULL
};

/* v4: history costs nothing on a timer. (state, queue, finished_at) gives
 * live counts by queue as an index-only range, and retention and the
 * failed list a range per queue in finishing order; tq_rollup counts
 * finished tasks by the hour, as they finish, so that nobody counts
 * history; a cron tick row is found by its task when that is deleted. */
static const char *const schema_v4[] = {
	"ALTER TABLE tasks ADD KEY IF NOT EXISTS tasks_state_queue"
	" (state, queue, finished_at)",
	"ALTER TABLE tq_cron_ticks ADD KEY IF NOT EXISTS tq_cron_ticks_task"
	" (task_id)",
	"CREATE TABLE IF NOT EXISTS tq_rollup ("
	" hour DATETIME NOT NULL,"
	" queue VARCHAR(64) NOT NULL,"
	" name VARCHAR(255) NOT NULL,"
	" outcome ENUM('succeeded','failed','retried','cancelled') NOT NULL,"
	" n BIGINT UNSIGNED NOT NULL DEFAULT 0,"
	" run_us BIGINT UNSIGNED NOT NULL DEFAULT 0,"
	" PRIMARY KEY (hour, queue, name, outcome)"
	") ENGINE=InnoDB",
	NULL
};

/* v5: what the retention windows hold, counted without reading them:
 * tq_window sums tq_rollup's closed hours per queue and outcome, less the
 * hours that left the window (up to and including `expired`); the leader
 * moves both edges (store_window_close, store_window_move). */
static const char *const schema_v5[] = {
	"CREATE TABLE IF NOT EXISTS tq_window ("
	" queue VARCHAR(64) NOT NULL,"
	" outcome ENUM('succeeded','failed','retried','cancelled') NOT NULL,"
	" n BIGINT NOT NULL DEFAULT 0,"
	" expired DATETIME NOT NULL,"
	" PRIMARY KEY (queue, outcome)"
	") ENGINE=InnoDB",
	"CREATE TABLE IF NOT EXISTS tq_window_closed ("
	" id TINYINT UNSIGNED NOT NULL PRIMARY KEY,"
	" closed DATETIME NULL"
	") ENGINE=InnoDB",
	"INSERT IGNORE INTO tq_window_closed (id, closed) VALUES (1, NULL)",
	NULL
};

static const char *const *const migrations[] = { NULL, schema_v1,
	schema_v2, schema_v3, schema_v4, schema_v5 };

static int
version_row(void *arg, struct row *r)
{
	*(int *)arg = (int)uns_of(r->col[0]);
	return 0;
}

int
store_schema_version(struct store *s, int *version)
{
	MYSQL_STMT *st;

	*version = 0;
	st = stmt_run(s, "SELECT COUNT(*) FROM information_schema.tables "
	    "WHERE table_schema = DATABASE() AND table_name = 'tq_schema'",
	    NULL, NULL);
	if (st == NULL || stmt_rows(s, st, version_row, version) == -1)
		return -1;
	if (*version == 0)
		return 0;
	if ((st = stmt_run(s, "SELECT MAX(version) FROM tq_schema", NULL,
	    NULL)) == NULL || stmt_rows(s, st, version_row, version) == -1)
		return -1;
	return 0;
}

int
store_migrate(struct store *s, int *from, int *to)
{
	struct params p;
	const char *const *stmt;
	int v, got = 0, ret = -1;
	MYSQL_STMT *st;

	/* GET_LOCK only serialises concurrent migrators; the statements are
	 * idempotent, so losing the lock with the connection is harmless. */
	if ((st = stmt_run(s, "SELECT GET_LOCK('tq_migrate', 30)", NULL,
	    NULL)) == NULL || stmt_rows(s, st, version_row, &got) == -1)
		return -1;
	if (got != 1) {
		snprintf(s->err, sizeof(s->err), "migrate: another migration "
		    "holds the lock");
		s->err_temp = 1;
		return -1;
	}
	if (store_schema_version(s, &v) == -1)
		goto done;
	*from = v;
	if (v > STORE_SCHEMA_VERSION) {
		snprintf(s->err, sizeof(s->err), "schema version %d is newer "
		    "than this program's %d: upgrade tq", v,
		    STORE_SCHEMA_VERSION);
		s->err_temp = 0;
		goto done;
	}
	if (q(s, "CREATE TABLE IF NOT EXISTS tq_schema ("
	    " version INT NOT NULL PRIMARY KEY,"
	    " applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
	    ") ENGINE=InnoDB") == -1)
		goto done;
	for (v = v + 1; v <= STORE_SCHEMA_VERSION; v++) {
		for (stmt = migrations[v]; stmt != NULL && *stmt; stmt++)
			if (q(s, *stmt) == -1)
				goto done;
		if (params_init(&p, 1) == -1) {
			oom(s);
			goto done;
		}
		p_int(&p, v);
		st = stmt_run(s, "INSERT IGNORE INTO tq_schema (version) "
		    "VALUES (?)", &p, NULL);
		params_release(&p);
		if (st == NULL)
			goto done;
		log_info("event=migrated version=%d", v);
	}
	*to = STORE_SCHEMA_VERSION;
	ret = 0;
done:
	if ((st = stmt_run(s, "SELECT RELEASE_LOCK('tq_migrate')", NULL,
	    NULL)) != NULL)
		(void)stmt_rows(s, st, version_row, &got);
	return ret;
}

/* ---- submit ---- */

static int
uuid_zero(const struct uuid *u)
{
	static const struct uuid z;

	return memcmp(u, &z, sizeof(z)) == 0;
}

struct key_scan {
	struct uuid	id;
	int		found;
};

static int
key_row(void *arg, struct row *r)
{
	struct key_scan *ks = arg;

	if (r->len[0] == UUID_LEN) {
		memcpy(ks->id.b, r->col[0], UUID_LEN);
		ks->found = 1;
	}
	return 0;
}

/* For keyed tasks: which task holds the key now (ours, or an older live
 * one, whose id replaces ours). In the insert's transaction. */
static int
keyed_lookup(struct store *s, struct task_new *t, size_t n)
{
	struct key_scan ks;
	struct params p;
	MYSQL_STMT *st;
	size_t i;

	for (i = 0; i < n; i++) {
		t[i].existing = 0;
		if (t[i].unique_key == NULL)
			continue;
		if (params_init(&p, 2) == -1)
			return oom(s);
		p_str(&p, t[i].queue);
		p_str(&p, t[i].unique_key);
		memset(&ks, 0, sizeof(ks));
		st = stmt_run(s, "SELECT id FROM tasks WHERE active_key = "
		    "CONCAT(?, ':', ?)", &p, NULL);
		params_release(&p);
		if (st == NULL || stmt_rows(s, st, key_row, &ks) == -1)
			return -1;
		if (ks.found && uuid_cmp(&ks.id, &t[i].id) != 0) {
			t[i].id = ks.id;
			t[i].existing = 1;
		}
	}
	return 0;
}

/* ---- dependencies ---- */

/* Rows of (id, fence[, owner]): with_owner keeps the third column. */
struct owned_scan {
	struct uuid	*ids;
	uint64_t	*fences;
	char		(*owners)[129];
	size_t		 n, cap;
	int		 with_owner;
};

static int	owned_row(void *, struct row *);

struct dep_scan {
	int	found;
	int	state;
};

static int
dep_row(void *arg, struct row *r)
{
	struct dep_scan *ds = arg;

	ds->found = 1;
	ds->state = r->col[0] ? task_state_parse(r->col[0]) : -1;
	return 0;
}

/* A task that waits for parents: after its insert, in the same
 * transaction, with each parent locked so that it cannot finish unseen. */
static int
deps_attach(struct store *s, struct task_new *t)
{
	struct dep_scan ds;
	struct params p;
	MYSQL_STMT *st;
	char ptxt[UUID_STRLEN + 1], why[128] = "";
	unsigned waiting = 0;
	size_t i;

	if (params_init(&p, 4) == -1)
		return oom(s);
	for (i = 0; i < t->nafter; i++) {
		memset(&ds, 0, sizeof(ds));
		p.n = 0;
		p_id(&p, &t->after[i]);
		if ((st = stmt_run(s, "SELECT state FROM tasks WHERE id = ? "
		    "FOR UPDATE", &p, NULL)) == NULL ||
		    stmt_rows(s, st, dep_row, &ds) == -1)
			goto fail;
		uuid_fmt(&t->after[i], ptxt);
		if (!ds.found) {
			snprintf(s->err, sizeof(s->err), "--after: task %s: "
			    "no such task", ptxt);
			s->errnum = 0;
			s->err_temp = 0;
			goto fail;
		}
		if (ds.state == TS_SUCCEEDED)
			continue;
		if (ds.state == TS_FAILED || ds.state == TS_CANCELLED) {
			snprintf(why, sizeof(why), "parent %s %s", ptxt,
			    task_state_name((enum task_state)ds.state));
			break;
		}
		waiting++;
		p.n = 0;
		p_id(&p, &t->id);
		p_id(&p, &t->after[i]);
		if (stmt_run(s, "INSERT IGNORE INTO task_deps (child, parent) "
		    "VALUES (?, ?)", &p, NULL) == NULL)
			goto fail;
		p.n = 0;
		p_id(&p, &t->after[i]);
		if (stmt_run(s, "UPDATE tasks SET has_children = 1 WHERE id = ?",
		    &p, NULL) == NULL)
			goto fail;
	}
	p.n = 0;
	if (why[0] != '\0') {
		/* A parent already failed: the child ends at once. */
		p_str(&p, why);
		p_id(&p, &t->id);
		st = stmt_run(s, "UPDATE tasks SET state = 'cancelled', error = "
		    "?, due_at = NULL, finished_at = NOW(6) WHERE id = ?", &p,
		    NULL);
		t->held = 1;
	} else if (waiting > 0) {
		/* Scheduled with no due time: the last parent to succeed
		 * makes it due. */
		p_int(&p, waiting);
		p_id(&p, &t->id);
		st = stmt_run(s, "UPDATE tasks SET state = 'scheduled', "
		    "due_at = NULL, waiting = ? WHERE id = ?", &p, NULL);
		t->held = 1;
	} else
		st = (MYSQL_STMT *)1;
	params_release(&p);
	return st == NULL ? -1 : 0;
fail:
	params_release(&p);
	return -1;
}

/* A parent reached a terminal state: its waiting children become due
 * when it was their last, or end cancelled (and theirs, down the tree)
 * when it did not succeed. In the caller's transaction. */
static int
deps_settle(struct store *s, const struct uuid *parent, enum task_state st,
    int depth)
{
	struct owned_scan os = { NULL, NULL, NULL, 0, 0, 0 };
	char ptxt[UUID_STRLEN + 1], why[128];
	struct params p;
	MYSQL_STMT *stmt;
	size_t i;
	int ret = -1;

	if (depth > 64)
		return 0;
	if (params_init(&p, 3) == -1)
		return oom(s);
	if (st == TS_SUCCEEDED) {
		p_id(&p, parent);
		if (stmt_run(s, "UPDATE tasks t JOIN task_deps d ON d.child = "
		    "t.id SET t.waiting = t.waiting - 1 WHERE d.parent = ? AND "
		    "t.state = 'scheduled' AND t.waiting > 0", &p, NULL) == NULL)
			goto done;
		if (stmt_run(s, "UPDATE tasks t JOIN task_deps d ON d.child = "
		    "t.id SET t.due_at = NOW(6) WHERE d.parent = ? AND "
		    "t.state = 'scheduled' AND t.waiting = 0 AND t.due_at IS "
		    "NULL", &p, NULL) == NULL)
			goto done;
		ret = 0;
		goto done;
	}
	/* The children that will end here, to follow down the tree. */
	p_id(&p, parent);
	if ((stmt = stmt_run(s, "SELECT t.id, t.fence FROM tasks t JOIN "
	    "task_deps d ON d.child = t.id WHERE d.parent = ? AND t.state = "
	    "'scheduled' AND t.due_at IS NULL AND t.has_children = 1", &p,
	    NULL)) == NULL || stmt_rows(s, stmt, owned_row, &os) == -1)
		goto done;
	uuid_fmt(parent, ptxt);
	snprintf(why, sizeof(why), "parent %s %s", ptxt, task_state_name(st));
	p.n = 0;
	p_str(&p, why);
	p_id(&p, parent);
	if (stmt_run(s, "UPDATE tasks t JOIN task_deps d ON d.child = t.id SET "
	    "t.state = 'cancelled', t.error = ?, t.due_at = NULL, "
	    "t.finished_at = NOW(6) WHERE d.parent = ? AND t.state = "
	    "'scheduled' AND t.due_at IS NULL", &p, NULL) == NULL)
		goto done;
	for (i = 0; i < os.n; i++)
		if (deps_settle(s, &os.ids[i], TS_CANCELLED, depth + 1) == -1)
			goto done;
	ret = 0;
done:
	free(os.ids);
	free(os.fences);
	params_release(&p);
	return ret;
}

static int
flag_row(void *arg, struct row *r)
{
	*(int *)arg = r->col[0] && r->col[0][0] == '1';
	return 0;
}

/* deps_settle for a task that has children. */
static int
settle_if_parent(struct store *s, const struct uuid *id, enum task_state st)
{
	struct params p;
	MYSQL_STMT *stmt;
	int kids = 0;

	if (params_init(&p, 1) == -1)
		return oom(s);
	p_id(&p, id);
	stmt = stmt_run(s, "SELECT has_children FROM tasks WHERE id = ?", &p,
	    NULL);
	params_release(&p);
	if (stmt == NULL || stmt_rows(s, stmt, flag_row, &kids) == -1)
		return -1;
	return kids ? deps_settle(s, id, st, 0) : 0;
}

/* One multi-row INSERT for t[0..n). */
static int
insert_chunk(struct store *s, struct task_new *t, size_t n,
    int64_t grace_ms, struct buf *sql)
{
	struct params p;
	size_t i;
	MYSQL_STMT *st;

	/* A live task holding a row's unique key keeps it: that row is not
	 * inserted (ids never collide, so the key is the only conflict). */
	if (placeholders(sql, "INSERT INTO tasks (id, queue, name, state, "
	    "payload, max_attempts, backoff_base_ms, backoff_cap_ms, "
	    "timeout_ms, priority, unique_key, due_at) VALUES ",
	    "(?,?,?,IF(?>0,'scheduled','pending'),?,?,?,?,?,?,?,"
	    "NOW(6) + INTERVAL IF(? > 0, ?, ?) * 1000 MICROSECOND)", n,
	    " ON DUPLICATE KEY UPDATE id = id") == -1)
		return oom(s);
	if (params_init(&p, n * 14) == -1)
		return oom(s);
	for (i = 0; i < n; i++) {
		p_id(&p, &t[i].id);
		p_str(&p, t[i].queue);
		p_str(&p, t[i].name);
		p_int(&p, t[i].delay_ms);
		p_blob(&p, t[i].payload, t[i].len);
		p_int(&p, t[i].max_attempts);
		p_int(&p, t[i].backoff_base_ms);
		p_int(&p, t[i].backoff_cap_ms);
		p_int(&p, t[i].timeout_ms);
		p_int(&p, t[i].priority);
		p_str(&p, t[i].unique_key);
		/* due: the delay when there is one, else the grace before
		 * the reconciler publishes a pending row itself */
		p_int(&p, t[i].delay_ms);
		p_int(&p, t[i].delay_ms);
		p_int(&p, grace_ms);
	}
	st = stmt_run(s, sql->data, &p, NULL);
	params_release(&p);
	return st == NULL ? -1 : 0;
}

/* pending -> queued for marks[0..n), sorted, in the caller's transaction
 * (a deadlock rolls the whole of it back: no retry here). */
static int
mark_in_txn(struct store *s, const struct uuid *marks, size_t n,
    struct buf *sql)
{
	struct params p;
	size_t i, chunk;
	MYSQL_STMT *st;

	if (n == 0)
		return 0;
	if (params_init(&p, STORE_BATCH_MAX) == -1)
		return oom(s);
	for (i = 0; i < n; i += chunk) {
		chunk = n - i < STORE_BATCH_MAX ? n - i : STORE_BATCH_MAX;
		if (placeholders(sql, "UPDATE tasks SET state = 'queued' "
		    "WHERE id IN (", "?", bucket(chunk),
		    ") AND state = 'pending'") == -1) {
			params_release(&p);
			return oom(s);
		}
		p.n = 0;
		p_ids(&p, &marks[i], chunk);
		st = stmt_run(s, sql->data, &p, NULL);
		if (st == NULL) {
			params_release(&p);
			return -1;
		}
	}
	params_release(&p);
	return 0;
}

int
store_insert(struct store *s, struct task_new *t, size_t n, int64_t grace_ms)
{
	return store_insert_mark(s, t, n, grace_ms, NULL, 0);
}

int
store_insert_mark(struct store *s, struct task_new *t, size_t n,
    int64_t grace_ms, struct uuid *marks, size_t nmarks)
{
	struct buf sql = BUF_INIT;
	size_t i, j, bytes;
	int tries = 0, ret = -1;

	for (i = 0; i < n; i++)
		if (uuid_zero(&t[i].id) && uuid_v7(&t[i].id) == -1) {
			snprintf(s->err, sizeof(s->err), "getrandom failed");
			return -1;
		}
	if (nmarks > 0)
		qsort(marks, nmarks, sizeof(*marks), id_cmp);
again:
	if (txn_begin(s) == -1)
		goto done;
	/* The older rows first: keys in ascending order, like the claims. */
	if (mark_in_txn(s, marks, nmarks, &sql) == -1)
		goto fail;
	for (i = 0; i < n; i = j) {
		/* Chunks bounded in rows and bytes stay under
		 * max_allowed_packet. */
		bytes = 0;
		for (j = i; j < n && j - i < STORE_BATCH_MAX / 2 &&
		    (j == i || bytes + t[j].len < 4u * 1024 * 1024); j++)
			bytes += t[j].len;
		if (insert_chunk(s, t + i, j - i, grace_ms, &sql) == -1)
			goto fail;
	}
	for (i = 0; i < n; i++) {
		t[i].held = 0;
		if (t[i].nafter > 0 && deps_attach(s, &t[i]) == -1)
			goto fail;
	}
	if (keyed_lookup(s, t, n) == -1 || txn_commit(s) == -1)
		goto fail;
	ret = 0;
	goto done;
fail:
	txn_rollback(s);
	if (txn_again(s, &tries))
		goto again;
done:
	buf_release(&sql);
	return ret;
}

/* UPDATE ... WHERE id IN (ids) with a fixed head and condition tail. */
static int
update_ids(struct store *s, const char *head, const char *tail,
    struct uuid *ids, size_t n, long long *pre, size_t npre)
{
	struct buf sql = BUF_INIT;
	struct params p;
	size_t i, k, chunk;
	int tries = 0, ret = -1;
	MYSQL_STMT *st;

	if (n == 0)
		return 0;
	qsort(ids, n, sizeof(*ids), id_cmp);
	if (params_init(&p, STORE_BATCH_MAX + npre) == -1)
		return oom(s);
	for (i = 0; i < n; i += chunk) {
		chunk = n - i < STORE_BATCH_MAX ? n - i : STORE_BATCH_MAX;
		if (placeholders(&sql, head, "?", bucket(chunk), tail) == -1) {
			oom(s);
			goto done;
		}
		p.n = 0;
		for (k = 0; k < npre; k++)
			p_int(&p, pre[k]);
		p_ids(&p, &ids[i], chunk);
		tries = 0;
		while ((st = stmt_run(s, sql.data, &p, NULL)) == NULL)
			if (!txn_again(s, &tries))
				goto done;
	}
	ret = 0;
done:
	params_release(&p);
	buf_release(&sql);
	return ret;
}

int
store_mark_queued(struct store *s, struct uuid *ids, size_t n)
{
	return update_ids(s, "UPDATE tasks SET state = 'queued' WHERE id IN (",
	    ") AND state = 'pending'", ids, n, NULL, 0);
}

int
store_mark_published(struct store *s, struct uuid *ids, size_t n)
{
	return update_ids(s, "UPDATE tasks SET state = 'queued' WHERE id IN (",
	    ") AND state IN ('pending', 'scheduled') AND due_at <= NOW(6)",
	    ids, n, NULL, 0);
}

/* ---- claim ---- */

struct claim_scan {
	struct claim	*c;
	size_t		 n;
	const char	*owner;
};

static int
claim_row(void *arg, struct row *r)
{
	struct claim_scan *cs = arg;
	struct claim key, *c;
	int st;

	/* id, state, fence, attempts, max_attempts, base, cap, timeout,
	 * owner, due, wait */
	if (r->len[0] != UUID_LEN)
		return 0;
	memset(&key, 0, sizeof(key));
	memcpy(key.id.b, r->col[0], UUID_LEN);
	c = bsearch(&key, cs->c, cs->n, sizeof(*c), id_cmp);
	if (c == NULL)
		return 0;
	st = task_state_parse(r->col[1]);
	c->state = st < 0 ? TS_SUCCEEDED : (enum task_state)st;
	(void)u64_of(r->col[2], &c->fence);
	c->attempt = uns_of(r->col[3]);
	c->max_attempts = uns_of(r->col[4]);
	c->backoff_base_ms = uns_of(r->col[5]);
	c->backoff_cap_ms = uns_of(r->col[6]);
	c->timeout_ms = uns_of(r->col[7]);
	c->wait_us = r->n > 10 && r->col[10] ? strtoll(r->col[10], NULL, 10) :
	    -1;
	switch (c->state) {
	case TS_PENDING:
	case TS_QUEUED:
		c->result = CLAIM_OK;
		break;
	case TS_SCHEDULED:
		c->result = r->col[9] && r->col[9][0] == '1' ? CLAIM_OK :
		    CLAIM_NOT_DUE;
		break;
	case TS_RUNNING:
		/* Our own claim, committed but unseen (a lost connection
		 * during COMMIT): keep it instead of waiting for the lease. */
		if (r->col[8] && strcmp(r->col[8], cs->owner) == 0) {
			c->result = CLAIM_OK;
			c->state = TS_RUNNING;
			return 0;
		}
		c->result = CLAIM_BUSY;
		break;
	default:
		c->result = CLAIM_DONE;
		break;
	}
	return 0;
}

/* The claim's statements, in the caller's transaction; c sorted, fresh
 * has room for n ids. */
static int
claim_txn(struct store *s, const char *owner, int64_t lease_ms,
    struct claim *c, size_t n, struct uuid *fresh, struct buf *sql,
    struct params *p)
{
	struct claim_scan cs;
	size_t i, k;
	MYSQL_STMT *st;

	for (i = 0; i < n; i++)
		c[i].result = CLAIM_NOROW;
	/* Rows locked in key order: batches from several workers then
	 * cannot deadlock on each other (the producer's update too). */
	if (placeholders(sql, "SELECT id, state, fence, attempts, "
	    "max_attempts, backoff_base_ms, backoff_cap_ms, timeout_ms, owner, "
	    "due_at <= NOW(6), TIMESTAMPDIFF(MICROSECOND, created_at, NOW(6)) "
	    "FROM tasks WHERE id IN (", "?", bucket(n),
	    ") ORDER BY id FOR UPDATE") == -1)
		return oom(s);
	p->n = 0;
	for (i = 0; i < bucket(n); i++)
		p_id(p, &c[i < n ? i : n - 1].id);
	cs.c = c;
	cs.n = n;
	cs.owner = owner;
	if ((st = stmt_run(s, sql->data, p, NULL)) == NULL ||
	    stmt_rows(s, st, claim_row, &cs) == -1)
		return -1;
	/* Fresh claims (not the ones already ours). */
	k = 0;
	for (i = 0; i < n; i++)
		if (c[i].result == CLAIM_OK && c[i].state != TS_RUNNING)
			fresh[k++] = c[i].id;
	if (k == 0)
		return 0;
	p->n = 0;
	p_str(p, owner);
	p_int(p, lease_ms);
	p_ids(p, fresh, k);
	if (placeholders(sql, "UPDATE tasks SET state = 'running', "
	    "fence = fence + 1, attempts = attempts + 1, owner = ?, "
	    "due_at = NOW(6) + INTERVAL ? * 1000 MICROSECOND, "
	    "started_at = NOW(6), finished_at = NULL WHERE id IN (",
	    "?", bucket(k), ")") == -1)
		return oom(s);
	if (stmt_run(s, sql->data, p, NULL) == NULL)
		return -1;
	/* One run row per claim, from the rows just updated (ours, locked). */
	if (placeholders(sql, "INSERT INTO task_runs (task_id, fence, "
	    "attempt, owner, outcome, started_at) SELECT id, fence, "
	    "attempts, owner, 'running', started_at FROM tasks "
	    "WHERE id IN (", "?", bucket(k), ")") == -1)
		return oom(s);
	p->n = 0;
	p_ids(p, fresh, k);
	return stmt_run(s, sql->data, p, NULL) == NULL ? -1 : 0;
}

/* After the commit: the fresh claims' fence and attempt. */
static void
claim_done(struct claim *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i].result == CLAIM_OK && c[i].state != TS_RUNNING) {
			c[i].fence++;
			c[i].attempt++;
		}
}

int
store_claim(struct store *s, const char *owner, int64_t lease_ms,
    struct claim *c, size_t n)
{
	return store_finish_claim(s, NULL, 0, owner, lease_ms, c, n);
}

/* ---- finish ---- */

static int
fence_row(void *arg, struct row *r)
{
	struct finish *f = arg;
	uint64_t fence;
	int st;

	/* A retried finish after an unseen commit: the fence is still ours
	 * and the row has left running, so it was us. */
	if (u64_of(r->col[1], &fence) == 0 && fence == f->fence &&
	    (st = task_state_parse(r->col[0])) >= 0 && st != TS_RUNNING) {
		f->applied = 1;
		f->state = (enum task_state)st;
	}
	return 0;
}

static int
finish_one(struct store *s, struct finish *f, struct params *p)
{
	unsigned long long n;
	const char *outcome;
	int64_t delay = 0;
	MYSQL_STMT *st;

	f->applied = 0;
	p->n = 0;
	switch (f->outcome) {
	case FIN_SUCCEEDED:
		f->state = TS_SUCCEEDED;
		outcome = "succeeded";
		p_blob(p, f->result, f->result_len);
		p_id(p, &f->id);
		p_int(p, (long long)f->fence);
		st = stmt_run(s, store_debug_nofence ?
		    "UPDATE tasks SET state = 'succeeded', "
		    "result = ?, error = NULL, progress = 100, owner = NULL, "
		    "due_at = NULL, finished_at = NOW(6) "
		    "WHERE id = ? AND (fence = ? OR 1)" :
		    "UPDATE tasks SET state = 'succeeded', "
		    "result = ?, error = NULL, progress = 100, owner = NULL, "
		    "due_at = NULL, finished_at = NOW(6) "
		    "WHERE id = ? AND fence = ? AND state = 'running'", p, &n);
		break;
	case FIN_CANCELLED:
		f->state = TS_CANCELLED;
		outcome = "cancelled";
		p_str(p, f->error ? f->error : "cancelled");
		p_id(p, &f->id);
		p_int(p, (long long)f->fence);
		st = stmt_run(s, "UPDATE tasks SET state = 'cancelled', "
		    "error = ?, owner = NULL, due_at = NULL, "
		    "finished_at = NOW(6) "
		    "WHERE id = ? AND fence = ? AND state = 'running'", p, &n);
		break;
	default:
		outcome = "failed";
		if (f->attempt < f->max_attempts) {
			f->state = TS_SCHEDULED;
			delay = backoff_ms(f->backoff_base_ms,
			    f->backoff_cap_ms ? f->backoff_cap_ms :
			    f->backoff_base_ms, f->attempt - 1);
		} else
			f->state = TS_FAILED;
		p_str(p, task_state_name(f->state));
		p_str(p, f->error ? f->error : "failed");
		p_int(p, f->state == TS_FAILED);
		p_int(p, delay);
		p_id(p, &f->id);
		p_int(p, (long long)f->fence);
		st = stmt_run(s, "UPDATE tasks SET state = ?, error = ?, "
		    "owner = NULL, finished_at = IF(?, NOW(6), NULL), "
		    "due_at = NOW(6) + INTERVAL ? * 1000 MICROSECOND "
		    "WHERE id = ? AND fence = ? AND state = 'running'", p, &n);
		break;
	}
	if (st == NULL)
		return -1;
	if (n == 1)
		f->applied = 1;
	else {
		p->n = 0;
		p_id(p, &f->id);
		if ((st = stmt_run(s, "SELECT state, fence FROM tasks "
		    "WHERE id = ?", p, NULL)) == NULL ||
		    stmt_rows(s, st, fence_row, f) == -1)
			return -1;
		if (!f->applied)
			return 0;
	}
	p->n = 0;
	p_str(p, outcome);
	p_str(p, f->outcome == FIN_SUCCEEDED ? NULL : f->error);
	p_id(p, &f->id);
	p_int(p, (long long)f->fence);
	if (stmt_run(s, "UPDATE task_runs SET outcome = ?, error = ?, "
	    "finished_at = NOW(6) WHERE task_id = ? AND fence = ?", p,
	    NULL) == NULL)
		return -1;
	return 0;
}

static int
finish_cmp(const void *a, const void *b)
{
	return uuid_cmp(&((const struct finish *)a)->id,
	    &((const struct finish *)b)->id);
}

struct fin_scan {
	struct finish	*f;
	size_t		 n;
	signed char	*seen;		/* 1 still ours, 2 ours and done */
	signed char	*kids;		/* has children waiting on it */
};

static int
fin_row(void *arg, struct row *r)
{
	struct fin_scan *fs = arg;
	struct finish key, *f;
	uint64_t fence;
	int st;

	if (r->len[0] != UUID_LEN)
		return 0;
	memset(&key, 0, sizeof(key));
	memcpy(key.id.b, r->col[0], UUID_LEN);
	if ((f = bsearch(&key, fs->f, fs->n, sizeof(*f), finish_cmp)) == NULL)
		return 0;
	st = r->col[1] ? task_state_parse(r->col[1]) : -1;
	if (u64_of(r->col[2], &fence) == -1 || st < 0)
		return 0;
	fs->kids[f - fs->f] = r->col[4] && r->col[4][0] == '1';
	if (store_debug_nofence || (st == TS_RUNNING && fence == f->fence)) {
		fs->seen[f - fs->f] = 1;
		/* Asked to stop: a failure is a cancellation, not retried. */
		if (f->outcome == FIN_FAILED && r->col[3] && r->col[3][0] == '1')
			f->outcome = FIN_CANCELLED;
	}
	else if (fence == f->fence) {
		/* A retried finish after an unseen commit: the fence is
		 * still ours and the row has left running, so it was us. */
		fs->seen[f - fs->f] = 2;
		f->state = (enum task_state)st;
	}
	return 0;
}

/* All the successes of a round in three statements, whatever their
 * number: the rows are locked and checked already. */
static int
finish_successes(struct store *s, struct finish *f, size_t n,
    const signed char *seen, struct buf *sql, struct params *p)
{
	size_t i, j, k = 0, kb;

	for (i = 0; i < n; i++)
		k += seen[i] == 1 && f[i].outcome == FIN_SUCCEEDED;
	if (k == 0)
		return 0;
	/* Padded to bucket(k) with the last success repeated. */
	kb = bucket(k);
	buf_reset(sql);
	if (buf_printf(sql, "UPDATE tasks SET state = 'succeeded', "
	    "result = CASE id") == -1)
		return oom(s);
	for (i = 0; i < kb; i++)
		if (buf_printf(sql, " WHEN ? THEN ?") == -1)
			return oom(s);
	if (buf_printf(sql, " END, error = NULL, progress = 100, "
	    "owner = NULL, due_at = NULL, finished_at = NOW(6) "
	    "WHERE id IN (") == -1)
		return oom(s);
	for (i = 0; i < kb; i++)
		if (buf_printf(sql, "%s?", i ? "," : "") == -1)
			return oom(s);
	if (buf_printf(sql, ")") == -1)
		return oom(s);
	p->n = 0;
	for (i = 0, j = 0; i < n; i++)
		if (seen[i] == 1 && f[i].outcome == FIN_SUCCEEDED) {
			p_id(p, &f[i].id);
			p_blob(p, f[i].result, f[i].result_len);
			j = i;
		}
	for (i = k; i < kb; i++) {
		p_id(p, &f[j].id);
		p_blob(p, f[j].result, f[j].result_len);
	}
	for (i = 0; i < n; i++)
		if (seen[i] == 1 && f[i].outcome == FIN_SUCCEEDED)
			p_id(p, &f[i].id);
	for (i = k; i < kb; i++)
		p_id(p, &f[j].id);
	if (stmt_run(s, sql->data, p, NULL) == NULL)
		return -1;
	/* One pair as a key lookup: MariaDB 10.11 reads a one-row
	 * (task_id, fence) IN ((?,?)) as a scan of the whole index, which
	 * grows with history (two or more pairs are a range). */
	if (kb == 1) {
		buf_reset(sql);
		if (buf_printf(sql, "%s", SQL_RUNS_DONE_ONE) == -1)
			return oom(s);
	} else if (placeholders(sql, SQL_RUNS_DONE, "(?,?)", kb, ")") == -1)
		return oom(s);
	p->n = 0;
	for (i = 0; i < n; i++)
		if (seen[i] == 1 && f[i].outcome == FIN_SUCCEEDED) {
			p_id(p, &f[i].id);
			p_int(p, (long long)f[i].fence);
		}
	for (i = k; i < kb; i++) {
		p_id(p, &f[j].id);
		p_int(p, (long long)f[j].fence);
	}
	return stmt_run(s, sql->data, p, NULL) == NULL ? -1 : 0;
}

/* The finish's statements, in the caller's transaction; f sorted. */
static int
finish_txn(struct store *s, struct finish *f, size_t n, struct fin_scan *fs,
    struct buf *sql, struct params *p)
{
	MYSQL_STMT *st;
	size_t i;

	memset(fs->seen, 0, n);
	for (i = 0; i < n; i++)
		f[i].applied = 0;
	/* Lock the rows in key order and see which are still ours. */
	if (placeholders(sql, "SELECT id, state, fence, cancel_requested, "
	    "has_children FROM tasks WHERE id IN (", "?", bucket(n),
	    ") ORDER BY id FOR UPDATE") == -1)
		return oom(s);
	p->n = 0;
	for (i = 0; i < bucket(n); i++)
		p_id(p, &f[i < n ? i : n - 1].id);
	if ((st = stmt_run(s, sql->data, p, NULL)) == NULL ||
	    stmt_rows(s, st, fin_row, fs) == -1)
		return -1;
	if (finish_successes(s, f, n, fs->seen, sql, p) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (fs->seen[i] == 1 && f[i].outcome != FIN_SUCCEEDED &&
		    finish_one(s, &f[i], p) == -1)
			return -1;
	/* Children waiting on these: due, or cancelled with them. */
	for (i = 0; i < n; i++) {
		enum task_state end = f[i].outcome == FIN_SUCCEEDED ?
		    TS_SUCCEEDED : f[i].state;

		if (fs->seen[i] == 1 && fs->kids[i] &&
		    task_state_terminal(end) &&
		    deps_settle(s, &f[i].id, end, 0) == -1)
			return -1;
	}
	return 0;
}

/* After the commit: what was applied. */
static void
finish_done(struct finish *f, size_t n, const struct fin_scan *fs)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (fs->seen[i] == 1 && f[i].outcome == FIN_SUCCEEDED)
			f[i].state = TS_SUCCEEDED;
		if (fs->seen[i] == 2)
			f[i].applied = 1;
		else if (fs->seen[i] == 1 && (f[i].outcome == FIN_SUCCEEDED ||
		    f[i].applied))
			f[i].applied = 1;
	}
}

int
store_finish(struct store *s, struct finish *f, size_t n)
{
	return store_finish_claim(s, f, n, NULL, 0, NULL, 0);
}

int
store_finish_claim(struct store *s, struct finish *f, size_t nf,
    const char *owner, int64_t lease_ms, struct claim *c, size_t nc)
{
	struct buf sql = BUF_INIT;
	struct fin_scan fs;
	struct params p;
	struct uuid *fresh = NULL;
	size_t most = nf > nc ? nf : nc;
	int tries = 0, ret = -1;

	memset(&fs, 0, sizeof(fs));
	if (most == 0)
		return 0;
	if (nf > STORE_BATCH_MAX || nc > STORE_BATCH_MAX) {
		snprintf(s->err, sizeof(s->err), "%s batch too large",
		    nf > STORE_BATCH_MAX ? "finish" : "claim");
		return -1;
	}
	if (nf > 0)
		qsort(f, nf, sizeof(*f), finish_cmp);
	if (nc > 0)
		qsort(c, nc, sizeof(*c), id_cmp);
	if (params_init(&p, bucket(most) * 3 + 8) == -1)
		return oom(s);
	fs.seen = calloc(nf ? nf : 1, 1);
	fs.kids = calloc(nf ? nf : 1, 1);
	fresh = calloc(nc ? nc : 1, sizeof(*fresh));
	if (fs.seen == NULL || fs.kids == NULL || fresh == NULL) {
		oom(s);
		goto done;
	}
	fs.f = f;
	fs.n = nf;
again:
	if (txn_begin(s) == -1)
		goto done;
	/* The outcomes first: the rows a worker holds are older than the
	 * ones it claims next, so the locks mostly come in key order. */
	if (nf > 0 && finish_txn(s, f, nf, &fs, &sql, &p) == -1)
		goto fail;
	if (nc > 0 && claim_txn(s, owner, lease_ms, c, nc, fresh, &sql,
	    &p) == -1)
		goto fail;
	if (txn_commit(s) == -1)
		goto fail;
	if (nf > 0)
		finish_done(f, nf, &fs);
	if (nc > 0)
		claim_done(c, nc);
	ret = 0;
	goto done;
fail:
	txn_rollback(s);
	if (txn_again(s, &tries))
		goto again;
done:
	params_release(&p);
	buf_release(&sql);
	free(fs.seen);
	free(fs.kids);
	free(fresh);
	return ret;
}

/* ---- progress ---- */

int
store_progress(struct store *s, const struct uuid *id, uint64_t fence,
    unsigned pct, const char *msg)
{
	struct params p;
	MYSQL_STMT *st;

	if (params_init(&p, 4) == -1)
		return oom(s);
	p_int(&p, pct > 100 ? 100 : pct);
	p_str(&p, msg && *msg ? msg : NULL);
	p_id(&p, id);
	p_int(&p, (long long)fence);
	st = stmt_run(s, "UPDATE tasks SET progress = ?, progress_msg = "
	    "LEFT(?, 255) WHERE id = ? AND fence = ? AND state = 'running'",
	    &p, NULL);
	params_release(&p);
	return st == NULL ? -1 : 0;
}

/* ---- leases ---- */

int
store_renew(struct store *s, const struct uuid *ids, const uint64_t *fences,
    size_t n, int64_t lease_ms)
{
	struct buf sql = BUF_INIT;
	struct params p;
	unsigned long long rows;
	size_t i;
	int tries = 0, ret = -1;

	if (n == 0)
		return 0;
	if (n > STORE_BATCH_MAX)
		n = STORE_BATCH_MAX;
	if (params_init(&p, n * 2 + 1) == -1)
		return oom(s);
	if (placeholders(&sql, SQL_RENEW, "(?,?)", n, ")") == -1) {
		oom(s);
		goto done;
	}
	p_int(&p, lease_ms);
	for (i = 0; i < n; i++) {
		p_id(&p, &ids[i]);
		p_int(&p, (long long)fences[i]);
	}
	while (stmt_run(s, sql.data, &p, &rows) == NULL)
		if (!txn_again(s, &tries))
			goto done;
	ret = (int)rows;
done:
	params_release(&p);
	buf_release(&sql);
	return ret;
}

static int
state_row(void *arg, struct row *r)
{
	int st = r->col[0] ? task_state_parse(r->col[0]) : -1;

	if (st >= 0)
		*(enum task_state *)arg = (enum task_state)st;
	return 0;
}

int
store_release(struct store *s, const struct uuid *id, uint64_t fence,
    const char *reason, int charge, enum task_state *state)
{
	struct params p;
	unsigned long long n = 0;
	int tries = 0, ret = -1;
	MYSQL_STMT *st;

	*state = TS_RUNNING;
	if (params_init(&p, 8) == -1)
		return oom(s);
again:
	if (txn_begin(s) == -1)
		goto done;
	/* The fence moves on: a late finish from the old holder is stale.
	 * A crash counts as an attempt (the claim counted it), so a task
	 * that keeps killing workers ends failed. A task that never started
	 * gets its attempt back. */
	p.n = 0;
	p_int(&p, !charge);
	p_int(&p, !charge);
	p_int(&p, !charge);
	p_str(&p, reason);
	p_id(&p, id);
	p_int(&p, (long long)fence);
	if (stmt_run(s, "UPDATE tasks SET "
	    "state = IF(cancel_requested, 'cancelled', "
	    "IF(attempts - ? >= max_attempts, 'failed', 'scheduled')), "
	    "finished_at = IF(cancel_requested OR attempts - ? >= max_attempts, "
	    "NOW(6), NULL), "
	    "attempts = attempts - ?, "
	    "error = ?, fence = fence + 1, owner = NULL, due_at = NOW(6) "
	    "WHERE id = ? AND fence = ? AND state = 'running'", &p,
	    &n) == NULL)
		goto fail;
	if (n == 1) {
		p.n = 0;
		p_id(&p, id);
		if ((st = stmt_run(s, "SELECT state FROM tasks WHERE id = ?",
		    &p, NULL)) == NULL || stmt_rows(s, st, state_row,
		    state) == -1)
			goto fail;
		if (task_state_terminal(*state) && (settle_if_parent(s, id,
		    *state) == -1 || rollup_one(s, id,
		    task_state_name(*state)) == -1))
			goto fail;
		p.n = 0;
		p_str(&p, reason);
		p_id(&p, id);
		p_int(&p, (long long)fence);
		if (stmt_run(s, "UPDATE task_runs SET outcome = 'lost', "
		    "error = ?, finished_at = NOW(6) "
		    "WHERE task_id = ? AND fence = ?", &p, NULL) == NULL)
			goto fail;
	}
	if (txn_commit(s) == -1)
		goto fail;
	ret = n == 1;
	goto done;
fail:
	txn_rollback(s);
	if (txn_again(s, &tries))
		goto again;
done:
	params_release(&p);
	return ret;
}

static int
owned_row(void *arg, struct row *r)
{
	struct owned_scan *os = arg;
	void *a;

	if (r->len[0] != UUID_LEN)
		return 0;
	if (os->n == os->cap) {
		os->cap = os->cap ? os->cap * 2 : 16;
		if ((a = reallocarray(os->ids, os->cap, sizeof(*os->ids))) ==
		    NULL)
			return -1;
		os->ids = a;
		if ((a = reallocarray(os->fences, os->cap,
		    sizeof(*os->fences))) == NULL)
			return -1;
		os->fences = a;
		if (os->with_owner) {
			if ((a = reallocarray(os->owners, os->cap,
			    sizeof(*os->owners))) == NULL)
				return -1;
			os->owners = a;
		}
	}
	memcpy(os->ids[os->n].b, r->col[0], UUID_LEN);
	if (u64_of(r->col[1], &os->fences[os->n]) == -1)
		return 0;
	if (os->with_owner)
		copy_col(os->owners[os->n], sizeof(os->owners[0]), r->col[2]);
	os->n++;
	return 0;
}

int
store_owned(struct store *s, const char *owner, const char *node,
    struct uuid **ids, uint64_t **fences)
{
	struct owned_scan os = { NULL, NULL, NULL, 0, 0, 0 };
	struct params p;
	char pat[300];
	MYSQL_STMT *st;
	size_t i, o = 0;

	*ids = NULL;
	*fences = NULL;
	if (params_init(&p, 1) == -1)
		return oom(s);
	if (node != NULL) {
		/* owner is "node:pid:nonce"; LIKE's wildcards escaped. */
		for (i = 0; node[i] && o < sizeof(pat) - 4; i++) {
			if (node[i] == '%' || node[i] == '_' || node[i] == '\\')
				pat[o++] = '\\';
			pat[o++] = node[i];
		}
		pat[o++] = ':';
		pat[o++] = '%';
		pat[o] = '\0';
		p_str(&p, pat);
		st = stmt_run(s, SQL_OWNED_NODE, &p, NULL);
	} else {
		p_str(&p, owner);
		st = stmt_run(s, SQL_OWNED, &p, NULL);
	}
	params_release(&p);
	if (st == NULL || stmt_rows(s, st, owned_row, &os) == -1) {
		free(os.ids);
		free(os.fences);
		return -1;
	}
	*ids = os.ids;
	*fences = os.fences;
	return (int)os.n;
}

int
store_renew_owners(struct store *s, const char *const *owners, size_t n,
    int64_t lease_ms)
{
	struct buf sql = BUF_INIT;
	struct params p;
	unsigned long long rows = 0;
	size_t i;
	int tries = 0, ret = -1;

	if (n == 0)
		return 0;
	if (params_init(&p, n + 1) == -1)
		return oom(s);
	if (placeholders(&sql, SQL_RENEW_OWNERS, "?", n, ")") == -1) {
		oom(s);
		goto done;
	}
	p_int(&p, lease_ms);
	for (i = 0; i < n; i++)
		p_str(&p, owners[i]);
	while (stmt_run(s, sql.data, &p, &rows) == NULL)
		if (!txn_again(s, &tries))
			goto done;
	ret = (int)rows;
done:
	params_release(&p);
	buf_release(&sql);
	return ret;
}

/* ---- reconciler ---- */

void
pub_rows_free(struct pub_row *r, size_t n)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < n; i++)
		free(r[i].payload);
	free(r);
}

struct pub_scan {
	struct pub_row	*rows;
	size_t		 n, max;
};

static int
pub_row(void *arg, struct row *r)
{
	struct pub_scan *ps = arg;
	struct pub_row *pr;

	if (ps->n >= ps->max || r->len[0] != UUID_LEN || r->col[1] == NULL ||
	    r->col[2] == NULL || r->col[3] == NULL)
		return 0;
	pr = &ps->rows[ps->n];
	memcpy(pr->id.b, r->col[0], UUID_LEN);
	strlcpy(pr->queue, r->col[1], sizeof(pr->queue));
	strlcpy(pr->name, r->col[2], sizeof(pr->name));
	pr->payload = r->col[3];
	pr->len = r->len[3];
	r->col[3] = NULL;	/* taken */
	pr->priority = r->n > 4 ? uns_of(r->col[4]) : 0;
	ps->n++;
	return 0;
}

int
store_due(struct store *s, struct pub_row **out, size_t max)
{
	struct pub_scan ps;
	struct params p;
	MYSQL_STMT *st;
	int ret = -1;

	*out = NULL;
	if (max == 0)
		return 0;
	if ((ps.rows = calloc(max, sizeof(*ps.rows))) == NULL)
		return oom(s);
	ps.n = 0;
	ps.max = max;
	if (params_init(&p, 2) == -1) {
		free(ps.rows);
		return oom(s);
	}
	p_int(&p, (long long)max);
	p_int(&p, (long long)max);
	/* Two index range scans on (state, due_at). */
	st = stmt_run(s, SQL_DUE, &p, NULL);
	if (st != NULL && stmt_rows(s, st, pub_row, &ps) != -1) {
		*out = ps.rows;
		ret = (int)ps.n;
	} else
		pub_rows_free(ps.rows, ps.n);
	params_release(&p);
	return ret;
}

struct qname_scan {
	char	(*names)[TASK_QUEUE_MAX + 1];
	size_t	 n, cap;
};

static int
qname_row(void *arg, struct row *r)
{
	struct qname_scan *qs = arg;
	size_t i;
	void *p;

	if (r->col[0] == NULL)
		return 0;
	for (i = 0; i < qs->n; i++)
		if (strcmp(qs->names[i], r->col[0]) == 0)
			return 0;
	if (qs->n == qs->cap) {
		qs->cap = qs->cap ? qs->cap * 2 : 4;
		if ((p = reallocarray(qs->names, qs->cap,
		    sizeof(*qs->names))) == NULL)
			return -1;
		qs->names = p;
	}
	strlcpy(qs->names[qs->n++], r->col[0], sizeof(qs->names[0]));
	return 0;
}

int
store_stranded_queues(struct store *s, int64_t older_ms,
    char (**names)[TASK_QUEUE_MAX + 1])
{
	struct qname_scan qs = { NULL, 0, 0 };
	struct params p;
	MYSQL_STMT *st;

	*names = NULL;
	if (params_init(&p, 1) == -1)
		return oom(s);
	p_int(&p, older_ms);
	st = stmt_run(s, SQL_STRANDED_QUEUES, &p, NULL);
	params_release(&p);
	if (st == NULL || stmt_rows(s, st, qname_row, &qs) == -1) {
		free(qs.names);
		return -1;
	}
	*names = qs.names;
	return (int)qs.n;
}

int
store_stranded(struct store *s, const char *queue, int64_t older_ms,
    size_t max, struct pub_row **out)
{
	struct pub_scan ps;
	struct params p;
	MYSQL_STMT *st;
	int ret = -1;

	*out = NULL;
	if ((ps.rows = calloc(max ? max : 1, sizeof(*ps.rows))) == NULL)
		return oom(s);
	ps.n = 0;
	ps.max = max;
	if (params_init(&p, 3) == -1) {
		free(ps.rows);
		return oom(s);
	}
	p_int(&p, older_ms);
	p_str(&p, queue);
	p_int(&p, (long long)max);
	st = stmt_run(s, SQL_STRANDED, &p, NULL);
	if (st != NULL && stmt_rows(s, st, pub_row, &ps) != -1) {
		*out = ps.rows;
		ret = (int)ps.n;
	} else
		pub_rows_free(ps.rows, ps.n);
	params_release(&p);
	return ret;
}

int
store_touch_queued(struct store *s, struct uuid *ids, size_t n)
{
	return update_ids(s, "UPDATE tasks SET due_at = NOW(6) WHERE id IN (",
	    ") AND state = 'queued'", ids, n, NULL, 0);
}

struct lease_scan {
	struct uuid	*ids;
	uint64_t	*fences;
	size_t		 n, max;
};

static int
lease_row(void *arg, struct row *r)
{
	struct lease_scan *ls = arg;

	if (ls->n >= ls->max || r->len[0] != UUID_LEN)
		return 0;
	memcpy(ls->ids[ls->n].b, r->col[0], UUID_LEN);
	if (u64_of(r->col[1], &ls->fences[ls->n]) == 0)
		ls->n++;
	return 0;
}

int
store_expire_leases(struct store *s, size_t max)
{
	struct lease_scan ls;
	struct params p;
	enum task_state st;
	MYSQL_STMT *stmt;
	size_t i;
	int n = 0, r;

	ls.ids = calloc(max, sizeof(*ls.ids));
	ls.fences = calloc(max, sizeof(*ls.fences));
	ls.n = 0;
	ls.max = max;
	if (ls.ids == NULL || ls.fences == NULL || params_init(&p, 1) == -1) {
		free(ls.ids);
		free(ls.fences);
		return oom(s);
	}
	p_int(&p, (long long)max);
	if ((stmt = stmt_run(s, SQL_EXPIRED_LEASES, &p, NULL)) == NULL ||
	    stmt_rows(s, stmt, lease_row, &ls) == -1) {
		n = -1;
		goto done;
	}
	for (i = 0; i < ls.n; i++) {
		r = store_release(s, &ls.ids[i], ls.fences[i],
		    "worker lost: lease expired", 1, &st);
		if (r == -1) {
			n = -1;
			goto done;
		}
		if (r == 1) {
			char idtxt[UUID_STRLEN + 1];

			uuid_fmt(&ls.ids[i], idtxt);
			log_info("event=lease_expired task=%s fence=%llu "
			    "state=%s", idtxt, (unsigned long long)ls.fences[i],
			    task_state_name(st));
			n++;
		}
	}
done:
	params_release(&p);
	free(ls.ids);
	free(ls.fences);
	return n;
}

int
store_reject(struct store *s, const struct uuid *id, const char *reason)
{
	struct params p;
	unsigned long long n = 0;
	int tries = 0;

	if (params_init(&p, 2) == -1)
		return oom(s);
	p_str(&p, reason);
	p_id(&p, id);
	while (stmt_run(s, "UPDATE tasks SET state = 'failed', error = ?, "
	    "due_at = NULL, finished_at = NOW(6) WHERE id = ? "
	    "AND state IN ('pending', 'queued', 'scheduled')", &p, &n) == NULL)
		if (!txn_again(s, &tries)) {
			params_release(&p);
			return -1;
		}
	params_release(&p);
	/* Counted apart: a lost count is no reason to reject again. */
	if (n == 1 && rollup_one(s, id, "failed") == -1)
		log_warnx("event=count_failed task_state=failed error=\"%s\"",
		    s->err);
	return (int)n;
}

/* ---- inspection ---- */

void
task_row_release(struct task_row *t)
{
	free(t->payload);
	free(t->result);
	free(t->error);
	t->payload = t->result = NULL;
	t->error = NULL;
}

static int
task_row_fill(void *arg, struct row *r)
{
	struct task_row *t = arg;
	int st;

	if (r->len[0] != UUID_LEN)
		return 0;
	memcpy(t->id.b, r->col[0], UUID_LEN);
	copy_col(t->queue, sizeof(t->queue), r->col[1]);
	copy_col(t->name, sizeof(t->name), r->col[2]);
	st = r->col[3] ? task_state_parse(r->col[3]) : -1;
	t->state = st < 0 ? TS_FAILED : (enum task_state)st;
	t->attempts = uns_of(r->col[4]);
	t->max_attempts = uns_of(r->col[5]);
	t->progress = uns_of(r->col[6]);
	copy_col(t->progress_msg, sizeof(t->progress_msg), r->col[7]);
	(void)u64_of(r->col[8], &t->fence);
	copy_col(t->owner, sizeof(t->owner), r->col[9]);
	copy_col(t->created_at, sizeof(t->created_at), r->col[10]);
	copy_col(t->updated_at, sizeof(t->updated_at), r->col[11]);
	copy_col(t->started_at, sizeof(t->started_at), r->col[12]);
	copy_col(t->finished_at, sizeof(t->finished_at), r->col[13]);
	copy_col(t->due_at, sizeof(t->due_at), r->col[14]);
	t->payload = r->col[15];
	t->payload_len = r->len[15];
	r->col[15] = NULL;
	t->result = r->col[16];
	t->result_len = t->result ? r->len[16] : 0;
	r->col[16] = NULL;
	t->error = r->col[17];
	r->col[17] = NULL;
	return 0;
}

#define TS_FMT(c) "DATE_FORMAT(" c ", '%Y-%m-%dT%H:%i:%s.%fZ')"

int
store_get(struct store *s, const struct uuid *id, struct task_row *t)
{
	struct params p;
	MYSQL_STMT *st;
	int n;

	memset(t, 0, sizeof(*t));
	if (params_init(&p, 1) == -1)
		return oom(s);
	p_id(&p, id);
	st = stmt_run(s, "SELECT id, queue, name, state, attempts, "
	    "max_attempts, progress, progress_msg, fence, owner, "
	    TS_FMT("created_at") ", " TS_FMT("updated_at") ", "
	    TS_FMT("started_at") ", " TS_FMT("finished_at") ", "
	    TS_FMT("due_at") ", payload, result, error "
	    "FROM tasks WHERE id = ?", &p, NULL);
	params_release(&p);
	if (st == NULL || (n = stmt_rows(s, st, task_row_fill, t)) == -1) {
		task_row_release(t);
		return -1;
	}
	return n > 0;
}

struct peek {
	enum task_state	*state;
	unsigned	*pct;
	char		*msg;
	size_t		 msgsz;
};

static int
peek_row(void *arg, struct row *r)
{
	struct peek *pk = arg;
	int st = r->col[0] ? task_state_parse(r->col[0]) : -1;

	if (st >= 0)
		*pk->state = (enum task_state)st;
	*pk->pct = uns_of(r->col[1]);
	copy_col(pk->msg, pk->msgsz, r->col[2]);
	return 0;
}

int
store_peek(struct store *s, const struct uuid *id, enum task_state *state,
    unsigned *pct, char *msg, size_t msgsz)
{
	struct peek pk = { state, pct, msg, msgsz };
	struct params p;
	MYSQL_STMT *st;
	int n;

	if (params_init(&p, 1) == -1)
		return oom(s);
	p_id(&p, id);
	st = stmt_run(s, "SELECT state, progress, progress_msg FROM tasks "
	    "WHERE id = ?", &p, NULL);
	params_release(&p);
	if (st == NULL || (n = stmt_rows(s, st, peek_row, &pk)) == -1)
		return -1;
	return n > 0;
}

int
store_state(struct store *s, const struct uuid *id, enum task_state *state)
{
	struct params p;
	MYSQL_STMT *st;
	int n;

	if (params_init(&p, 1) == -1)
		return oom(s);
	p_id(&p, id);
	st = stmt_run(s, "SELECT state FROM tasks WHERE id = ?", &p, NULL);
	params_release(&p);
	if (st == NULL || (n = stmt_rows(s, st, state_row, state)) == -1)
		return -1;
	return n > 0;
}

struct stat_scan {
	struct stat_row	*rows;
	size_t		 n, cap;
};

static int
stat_row(void *arg, struct row *r)
{
	struct stat_scan *ss = arg;
	struct stat_row *sr = NULL, *nr;
	size_t i;
	int st;

	if (r->col[0] == NULL || r->col[1] == NULL)
		return 0;
	for (i = 0; i < ss->n; i++)
		if (strcmp(ss->rows[i].queue, r->col[0]) == 0)
			sr = &ss->rows[i];
	if (sr == NULL) {
		if (ss->n == ss->cap) {
			ss->cap = ss->cap ? ss->cap * 2 : 8;
			nr = reallocarray(ss->rows, ss->cap, sizeof(*nr));
			if (nr == NULL)
				return -1;
			ss->rows = nr;
		}
		sr = &ss->rows[ss->n++];
		memset(sr, 0, sizeof(*sr));
		strlcpy(sr->queue, r->col[0], sizeof(sr->queue));
	}
	if ((st = task_state_parse(r->col[1])) >= 0)
		sr->count[st] = uns_of(r->col[2]);
	return 0;
}

int
store_live(struct store *s, struct stat_row **out)
{
	struct stat_scan ss = { NULL, 0, 0 };
	MYSQL_STMT *st;

	*out = NULL;
	st = stmt_run(s, SQL_LIVE, NULL, NULL);
	if (st == NULL || stmt_rows(s, st, stat_row, &ss) == -1) {
		free(ss.rows);
		return -1;
	}
	*out = ss.rows;
	return (int)ss.n;
}

/* ---- leadership ---- */

static int
u64_row(void *arg, struct row *r)
{
	(void)u64_of(r->col[0], arg);
	return 0;
}

int
store_lead(struct store *s, const char *name, const char *holder,
    int64_t ttl_ms, uint64_t *token)
{
	struct params p;
	unsigned long long n = 0;
	MYSQL_STMT *st;
	int tries = 0, ret = -1;

	if (params_init(&p, 5) == -1)
		return oom(s);
	/* token first: it must see the old holder. A lease row, not
	 * GET_LOCK, which a dropped connection frees without a word. */
	p_str(&p, holder);
	p_str(&p, holder);
	p_int(&p, ttl_ms);
	p_str(&p, name);
	p_str(&p, holder);
	while ((st = stmt_run(s, "UPDATE tq_leader SET "
	    "token = IF(holder <=> ?, token, token + 1), holder = ?, "
	    "expires_at = NOW(6) + INTERVAL ? * 1000 MICROSECOND "
	    "WHERE name = ? AND (holder <=> ? OR expires_at IS NULL OR "
	    "expires_at < NOW(6))", &p, &n)) == NULL)
		if (!txn_again(s, &tries))
			goto done;
	if (n == 0) {
		ret = 0;
		goto done;
	}
	p.n = 0;
	p_str(&p, name);
	if ((st = stmt_run(s, "SELECT token FROM tq_leader WHERE name = ?", &p,
	    NULL)) == NULL || stmt_rows(s, st, u64_row, token) == -1)
		goto done;
	ret = 1;
done:
	params_release(&p);
	return ret;
}

int
store_unlead(struct store *s, const char *name, const char *holder)
{
	struct params p;

	if (params_init(&p, 2) == -1)
		return oom(s);
	p_str(&p, name);
	p_str(&p, holder);
	if (stmt_run(s, "UPDATE tq_leader SET expires_at = NULL "
	    "WHERE name = ? AND holder = ?", &p, NULL) == NULL) {
		params_release(&p);
		return -1;
	}
	params_release(&p);
	return 0;
}

int
store_pub_rows(struct store *s, const struct uuid *ids, size_t n,
    struct pub_row **out)
{
	struct buf sql = BUF_INIT;
	struct pub_scan ps;
	struct params p;
	MYSQL_STMT *st;
	size_t i;
	int ret = -1;

	*out = NULL;
	if (n == 0)
		return 0;
	if (n > STORE_BATCH_MAX)
		n = STORE_BATCH_MAX;
	if ((ps.rows = calloc(n, sizeof(*ps.rows))) == NULL)
		return oom(s);
	ps.n = 0;
	ps.max = n;
	if (params_init(&p, n) == -1 || placeholders(&sql, "SELECT id, queue, "
	    "name, payload, priority FROM tasks WHERE id IN (", "?", n,
	    ") AND state = 'scheduled' AND due_at <= NOW(6)") == -1) {
		free(ps.rows);
		params_release(&p);
		buf_release(&sql);
		return oom(s);
	}
	for (i = 0; i < n; i++)
		p_id(&p, &ids[i]);
	st = stmt_run(s, sql.data, &p, NULL);
	if (st != NULL && stmt_rows(s, st, pub_row, &ps) != -1) {
		*out = ps.rows;
		ret = (int)ps.n;
	} else
		pub_rows_free(ps.rows, ps.n);
	params_release(&p);
	buf_release(&sql);
	return ret;
}

/* ---- nodes ---- */

struct node_seen {
	int	found, live;
	char	info[256];
};

static int
node_row(void *arg, struct row *r)
{
	struct node_seen *ns = arg;

	ns->found = 1;
	ns->live = r->col[0] && r->col[0][0] == '1';
	copy_col(ns->info, sizeof(ns->info), r->col[1]);
	return 0;
}

int
store_node_join(struct store *s, const char *node, const char *instance,
    int64_t stale_ms, int (*is_dead)(const char *), char *held, size_t heldsz)
{
	struct node_seen ns;
	struct params p;
	MYSQL_STMT *st;
	int tries = 0, ret = -1;

	if (params_init(&p, 3) == -1)
		return oom(s);
again:
	memset(&ns, 0, sizeof(ns));
	if (txn_begin(s) == -1)
		goto done;
	p.n = 0;
	p_int(&p, stale_ms);
	p_str(&p, node);
	if ((st = stmt_run(s, "SELECT seen_at >= NOW(6) - INTERVAL ? * 1000 "
	    "MICROSECOND, info FROM tq_nodes WHERE name = ? FOR UPDATE", &p,
	    NULL)) == NULL || stmt_rows(s, st, node_row, &ns) == -1)
		goto fail;
	if (ns.found && ns.live && strcmp(ns.info, instance) != 0 &&
	    (is_dead == NULL || !is_dead(ns.info))) {
		txn_rollback(s);
		snprintf(held, heldsz, "%s", ns.info);
		ret = 0;
		goto done;
	}
	p.n = 0;
	p_str(&p, node);
	p_str(&p, instance);
	if (stmt_run(s, "REPLACE INTO tq_nodes (name, started_at, seen_at, "
	    "info) VALUES (?, NOW(6), NOW(6), ?)", &p, NULL) == NULL ||
	    txn_commit(s) == -1)
		goto fail;
	ret = 1;
	goto done;
fail:
	txn_rollback(s);
	if (txn_again(s, &tries))
		goto again;
done:
	params_release(&p);
	return ret;
}

int
store_node_beat(struct store *s, const char *node, const char *instance)
{
	struct params p;
	unsigned long long n = 0;

	if (params_init(&p, 2) == -1)
		return oom(s);
	p_str(&p, node);
	p_str(&p, instance);
	if (stmt_run(s, SQL_NODE_BEAT, &p, &n) == NULL) {
		params_release(&p);
		return -1;
	}
	params_release(&p);
	if (n == 0) {
		snprintf(s->err, sizeof(s->err), "node \"%s\": the node row "
		    "was taken over or forgotten", node);
		s->errnum = 0;
		s->err_temp = 0;
		return -1;
	}
	return 0;
}

int
store_node_leave(struct store *s, const char *node, const char *instance)
{
	struct params p;
	MYSQL_STMT *st;

	if (params_init(&p, 2) == -1)
		return oom(s);
	p_str(&p, node);
	p_str(&p, instance);
	st = stmt_run(s, "DELETE FROM tq_nodes WHERE name = ? AND info = ?",
	    &p, NULL);
	params_release(&p);
	return st == NULL ? -1 : 0;
}

struct names_scan {
	char	(*names)[129];
	size_t	 n, cap;
};

static int
name_row(void *arg, struct row *r)
{
	struct names_scan *ns = arg;
	void *a;

	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? ns->cap * 2 : 8;
		if ((a = reallocarray(ns->names, ns->cap,
		    sizeof(*ns->names))) == NULL)
			return -1;
		ns->names = a;
	}
	copy_col(ns->names[ns->n++], sizeof(ns->names[0]), r->col[0]);
	return 0;
}

int
store_dead_nodes(struct store *s, int64_t stale_ms, char (**names)[129])
{
	struct names_scan ns = { NULL, 0, 0 };
	struct params p;
	MYSQL_STMT *st;

	*names = NULL;
	if (params_init(&p, 1) == -1)
		return oom(s);
	p_int(&p, stale_ms);
	st = stmt_run(s, SQL_DEAD_NODES, &p, NULL);
	params_release(&p);
	if (st == NULL || stmt_rows(s, st, name_row, &ns) == -1) {
		free(ns.names);
		return -1;
	}
	*names = ns.names;
	return (int)ns.n;
}

int
store_node_forget(struct store *s, const char *node, int64_t stale_ms)
{
	struct params p;
	MYSQL_STMT *st;

	if (params_init(&p, 2) == -1)
		return oom(s);
	p_str(&p, node);
	p_int(&p, stale_ms);
	st = stmt_run(s, "DELETE FROM tq_nodes WHERE name = ? AND seen_at < "
	    "NOW(6) - INTERVAL ? * 1000 MICROSECOND", &p, NULL);
	params_release(&p);
	return st == NULL ? -1 : 0;
}

/* ---- operator actions ---- */

int
store_cancel(struct store *s, const struct uuid *id, const char *reason,
    enum task_state *state)
{
	struct params p;
	unsigned long long n = 0;
	MYSQL_STMT *st;
	int tries = 0, ret = -1, found;

	if (params_init(&p, 2) == -1)
		return oom(s);
again:
	if (txn_begin(s) == -1)
		goto done;
	p.n = 0;
	p_str(&p, reason);
	p_id(&p, id);
	if (stmt_run(s, "UPDATE tasks SET state = 'cancelled', error = ?, "
	    "due_at = NULL, finished_at = NOW(6) WHERE id = ? AND state IN "
	    "('pending', 'queued', 'scheduled')", &p, &n) == NULL)
		goto fail;
	if (n == 0) {
		/* Running: its holder is asked; it ends cancelled. */
		p.n = 0;
		p_id(&p, id);
		if (stmt_run(s, "UPDATE tasks SET cancel_requested = 1 "
		    "WHERE id = ? AND state = 'running'", &p, NULL) == NULL)
			goto fail;
		p.n = 0;
		p_id(&p, id);
		if ((st = stmt_run(s, "SELECT state FROM tasks WHERE id = ?",
		    &p, NULL)) == NULL || (found = stmt_rows(s, st, state_row,
		    state)) == -1)
			goto fail;
	} else {
		*state = TS_CANCELLED;
		found = 1;
		if (settle_if_parent(s, id, TS_CANCELLED) == -1 ||
		    rollup_one(s, id, "cancelled") == -1)
			goto fail;
	}
	if (txn_commit(s) == -1)
		goto fail;
	ret = found > 0;
	goto done;
fail:
	txn_rollback(s);
	if (txn_again(s, &tries))
		goto again;
done:
	params_release(&p);
	return ret;
}

int
store_cancel_asked(struct store *s, const char *const *owners, size_t n,
    struct uuid **ids, uint64_t **fences, char (**owner)[129])
{
	struct owned_scan as = { NULL, NULL, NULL, 0, 0, 1 };
	struct buf sql = BUF_INIT;
	struct params p;
	MYSQL_STMT *st;
	size_t i;
	int ret = -1;

	*ids = NULL;
	*fences = NULL;
	*owner = NULL;
	if (n == 0)
		return 0;
	if (params_init(&p, n) == -1)
		return oom(s);
	if (placeholders(&sql, SQL_CANCEL_ASKED, "?", n, ")") == -1) {
		oom(s);
		goto done;
	}
	for (i = 0; i < n; i++)
		p_str(&p, owners[i]);
	if ((st = stmt_run(s, sql.data, &p, NULL)) == NULL ||
	    stmt_rows(s, st, owned_row, &as) == -1) {
		free(as.ids);
		free(as.fences);
		free(as.owners);
		goto done;
	}
	*ids = as.ids;
	*fences = as.fences;
	*owner = as.owners;
	ret = (int)as.n;
done:
	params_release(&p);
	buf_release(&sql);
	return ret;
}

int
store_retry(struct store *s, const struct uuid *id)
{
	struct params p;
	unsigned long long n = 0;
	MYSQL_STMT *st;

	if (params_init(&p, 1) == -1)
		return oom(s);
	p_id(&p, id);
	/* The fence moves on: nothing of the old runs can land. */
	st = stmt_run(s, "UPDATE tasks SET state = 'scheduled', attempts = 0, "
	    "error = NULL, result = NULL, progress = 0, progress_msg = NULL, "
	    "cancel_requested = 0, fence = fence + 1, finished_at = NULL, "
	    "due_at = NOW(6) WHERE id = ? AND state = 'failed'", &p, &n);
	params_release(&p);
	if (st == NULL)
		return -1;
	return n == 1;
}

struct ids_scan {
	struct uuid	*ids;
	size_t		 n, max;
};

static int
id_row(void *arg, struct row *r)
{
	struct ids_scan *is = arg;

	if (is->n < is->max && r->len[0] == UUID_LEN)
		memcpy(is->ids[is->n++].b, r->col[0], UUID_LEN);
	return 0;
}

struct failed_scan {
	struct uuid	*ids;
	int64_t		*at;
	size_t		 n, max;
};

static int
failed_row(void *arg, struct row *r)
{
	struct failed_scan *fs = arg;
	uint64_t v;

	if (fs->n >= fs->max || r->len[0] != UUID_LEN)
		return 0;
	memcpy(fs->ids[fs->n].b, r->col[0], UUID_LEN);
	fs->at[fs->n++] = u64_of(r->col[1], &v) == 0 ? (int64_t)v : 0;
	return 0;
}

/* The newest failures of one queue (a backward range of the index),
 * merged into fs: the newest max of all. */
static int
failed_queue(struct store *s, const char *queue, size_t max,
    struct failed_scan *fs)
{
	struct failed_scan one;
	struct params p;
	MYSQL_STMT *st;
	size_t i, k;
	int ret = -1;

	one.ids = calloc(max, sizeof(*one.ids));
	one.at = calloc(max, sizeof(*one.at));
	one.n = 0;
	one.max = max;
	if (one.ids == NULL || one.at == NULL || params_init(&p, 2) == -1) {
		free(one.ids);
		free(one.at);
		return oom(s);
	}
	p_str(&p, queue);
	p_int(&p, (long long)max);
	if ((st = stmt_run(s, SQL_FAILED_QUEUE, &p, NULL)) == NULL ||
	    stmt_rows(s, st, failed_row, &one) == -1)
		goto done;
	for (i = 0; i < one.n; i++) {
		/* Insertion into fs, newest first, at most max. */
		for (k = fs->n; k > 0 && fs->at[k - 1] < one.at[i]; k--)
			;
		if (k >= max)
			continue;
		if (fs->n == max)
			fs->n--;
		memmove(&fs->ids[k + 1], &fs->ids[k], (fs->n - k) *
		    sizeof(*fs->ids));
		memmove(&fs->at[k + 1], &fs->at[k], (fs->n - k) *
		    sizeof(*fs->at));
		fs->ids[k] = one.ids[i];
		fs->at[k] = one.at[i];
		fs->n++;
	}
	ret = 0;
done:
	params_release(&p);
	free(one.ids);
	free(one.at);
	return ret;
}

int
store_failed(struct store *s, const char *queue, size_t max,
    struct uuid **ids)
{
	struct done_queue *dq = NULL;
	struct failed_scan fs;
	int n, i, ret = -1;

	*ids = NULL;
	fs.ids = calloc(max ? max : 1, sizeof(*fs.ids));
	fs.at = calloc(max ? max : 1, sizeof(*fs.at));
	fs.n = 0;
	fs.max = max;
	if (fs.ids == NULL || fs.at == NULL) {
		free(fs.ids);
		free(fs.at);
		return oom(s);
	}
	if (max == 0) {
		ret = 0;
		goto done;
	}
	/* Per queue, so that each is a range in finishing order. */
	if (queue != NULL)
		n = failed_queue(s, queue, max, &fs);
	else if ((n = store_done_queues(s, &dq)) != -1)
		for (i = 0; i < n; i++)
			if (dq[i].state == TS_FAILED &&
			    failed_queue(s, dq[i].queue, max, &fs) == -1) {
				n = -1;
				break;
			}
	if (n == -1)
		goto done;
	ret = (int)fs.n;
done:
	free(dq);
	free(fs.at);
	if (ret == -1)
		free(fs.ids);
	else
		*ids = fs.ids;
	return ret;
}

struct done_scan {
	struct done_queue *q;
	size_t		 n, cap;
};

static int
done_row(void *arg, struct row *r)
{
	struct done_scan *ds = arg;
	struct done_queue *d;
	int st;
	void *a;

	if (r->col[0] == NULL || r->col[1] == NULL ||
	    (st = task_state_parse(r->col[0])) < 0)
		return 0;
	if (ds->n == ds->cap) {
		ds->cap = ds->cap ? ds->cap * 2 : 8;
		if ((a = reallocarray(ds->q, ds->cap, sizeof(*ds->q))) == NULL)
			return -1;
		ds->q = a;
	}
	d = &ds->q[ds->n++];
	d->state = (enum task_state)st;
	copy_col(d->queue, sizeof(d->queue), r->col[1]);
	d->oldest = r->col[2] ? (int64_t)(strtod(r->col[2], NULL) * 1000) : 0;
	return 0;
}

int
store_done_queues(struct store *s, struct done_queue **out)
{
	struct done_scan ds = { NULL, 0, 0 };
	MYSQL_STMT *st;

	*out = NULL;
	/* Prepared afresh each time: MariaDB 10.11 runs a cached statement's
	 * loose index scan as a scan of every finished row once other
	 * statements ran on the connection (measured: 11 rows read when
	 * fresh, 300,000 of 300,000 when reused). Once a second, a prepare
	 * costs nothing. */
	stmt_forget(s, SQL_DONE_QUEUES);
	st = stmt_run(s, SQL_DONE_QUEUES, NULL, NULL);
	if (st == NULL || stmt_rows(s, st, done_row, &ds) == -1) {
		free(ds.q);
		return -1;
	}
	*out = ds.q;
	return (int)ds.n;
}

struct expired_scan {
	struct uuid	*ids;
	size_t		 n, max;
	size_t		 parents;	/* rows with has_children */
};

/* Parents first: ids[0..parents) are those with children. */
static int
expired_row(void *arg, struct row *r)
{
	struct expired_scan *es = arg;

	if (es->n >= es->max || r->len[0] != UUID_LEN)
		return 0;
	memcpy(es->ids[es->n].b, r->col[0], UUID_LEN);
	if (r->col[1] && r->col[1][0] == '1') {
		struct uuid t = es->ids[es->parents];

		es->ids[es->parents++] = es->ids[es->n];
		es->ids[es->n] = t;
	}
	es->n++;
	return 0;
}

/* Drops from es the parents that a child still waits for (kept). */
static int
keep_waited_for(struct store *s, struct expired_scan *es, struct buf *sql,
    struct params *p)
{
	struct uuid *kept;
	struct ids_scan ks;
	MYSQL_STMT *st;
	size_t i, k;

	if (es->parents == 0)
		return 0;
	if ((kept = calloc(es->parents, sizeof(*kept))) == NULL)
		return oom(s);
	ks.ids = kept;
	ks.n = 0;
	ks.max = es->parents;
	if (placeholders(sql, SQL_WAITED_FOR, "?", bucket(es->parents), ")") ==
	    -1) {
		free(kept);
		return oom(s);
	}
	p->n = 0;
	p_ids(p, es->ids, es->parents);
	if ((st = stmt_run(s, sql->data, p, NULL)) == NULL ||
	    stmt_rows(s, st, id_row, &ks) == -1) {
		free(kept);
		return -1;
	}
	for (i = 0; i < ks.n; i++)
		for (k = 0; k < es->n; k++)
			if (uuid_cmp(&es->ids[k], &kept[i]) == 0) {
				es->ids[k] = es->ids[--es->n];
				break;
			}
	free(kept);
	return 0;
}

/* The rows that go with deleted tasks, in the caller's transaction. */
static int
prune_txn(struct store *s, enum task_state state, const char *queue,
    int64_t older_ms, size_t max, struct uuid *ids, size_t *n)
{
	static const char *const heads[] = {
		"DELETE FROM task_runs WHERE task_id IN (",
		"DELETE FROM task_deps WHERE child IN (",
		"DELETE FROM task_deps WHERE parent IN (",
		"DELETE FROM tq_cron_ticks WHERE task_id IN (",
		"DELETE FROM tasks WHERE id IN (",
	};
	struct expired_scan es = { ids, 0, max, 0 };
	struct buf sql = BUF_INIT;
	struct params p;
	MYSQL_STMT *st;
	size_t h;
	int ret = -1;

	*n = 0;
	if (params_init(&p, max > 4 ? max : 4) == -1)
		return oom(s);
	/* Locked, so that an operator's retry cannot slip in between. */
	p_str(&p, task_state_name(state));
	p_str(&p, queue);
	p_int(&p, older_ms);
	p_int(&p, (long long)max);
	if ((st = stmt_run(s, SQL_EXPIRED, &p, NULL)) == NULL ||
	    stmt_rows(s, st, expired_row, &es) == -1 ||
	    keep_waited_for(s, &es, &sql, &p) == -1)
		goto done;
	*n = es.n;
	if (es.n == 0) {
		ret = 0;
		goto done;
	}
	qsort(ids, es.n, sizeof(*ids), id_cmp);
	for (h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
		if (placeholders(&sql, heads[h], "?", bucket(es.n), ")") ==
		    -1) {
			oom(s);
			goto done;
		}
		p.n = 0;
		p_ids(&p, ids, es.n);
		if (stmt_run(s, sql.data, &p, NULL) == NULL)
			goto done;
	}
	ret = 0;
done:
	params_release(&p);
	buf_release(&sql);
	return ret;
}

int
store_prune(struct store *s, enum task_state state, const char *queue,
    int64_t older_ms, size_t max)
{
	struct uuid *ids;
	size_t n = 0;
	int tries = 0, ret = -1;

	/* Only terminal states: never a task that may still run. */
	if (!task_state_terminal(state)) {
		snprintf(s->err, sizeof(s->err), "purge: \"%s\" is not a "
		    "terminal state", task_state_name(state));
		s->err_temp = 0;
		return -1;
	}
	if (max == 0)
		return 0;
	if (max > STORE_BATCH_MAX)
		max = STORE_BATCH_MAX;
	if ((ids = calloc(max, sizeof(*ids))) == NULL)
		return oom(s);
again:
	n = 0;
	if (txn_begin(s) == -1)
		goto done;
	if (prune_txn(s, state, queue, older_ms, max, ids, &n) == -1 ||
	    txn_commit(s) == -1) {
		txn_rollback(s);
		if (txn_again(s, &tries))
			goto again;
		goto done;
	}
	ret = (int)n;
done:
	free(ids);
	return ret;
}

/* ---- periodic tasks ---- */

void
cron_rows_free(struct cron_row *r, size_t n)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < n; i++)
		free(r[i].payload);
	free(r);
}

int
store_cron_put(struct store *s, const struct cron_row *r)
{
	struct params p;
	MYSQL_STMT *st;

	if (params_init(&p, 6) == -1)
		return oom(s);
	p_str(&p, r->name);
	p_str(&p, r->spec);
	p_str(&p, r->queue);
	p_str(&p, r->task);
	p_blob(&p, r->payload, r->len);
	p_int(&p, r->next_tick);
	st = stmt_run(s, "REPLACE INTO tq_cron (name, spec, queue, task, "
	    "payload, next_tick) VALUES (?, ?, ?, ?, ?, FROM_UNIXTIME(?))", &p,
	    NULL);
	params_release(&p);
	return st == NULL ? -1 : 0;
}

int
store_cron_sync(struct store *s, const struct cron_row *r)
{
	struct params p;
	MYSQL_STMT *st;

	if (params_init(&p, 6) == -1)
		return oom(s);
	p_str(&p, r->name);
	p_str(&p, r->spec);
	p_str(&p, r->queue);
	p_str(&p, r->task);
	p_blob(&p, r->payload, r->len);
	p_int(&p, r->next_tick);
	/* next_tick first: it must compare against the old spec. */
	st = stmt_run(s, "INSERT INTO tq_cron (name, spec, queue, task, "
	    "payload, next_tick) VALUES (?, ?, ?, ?, ?, FROM_UNIXTIME(?)) "
	    "ON DUPLICATE KEY UPDATE next_tick = IF(spec <=> VALUES(spec), "
	    "next_tick, VALUES(next_tick)), spec = VALUES(spec), "
	    "queue = VALUES(queue), task = VALUES(task), "
	    "payload = VALUES(payload)", &p, NULL);
	params_release(&p);
	return st == NULL ? -1 : 0;
}

int
store_cron_del(struct store *s, const char *name)
{
	struct params p;
	unsigned long long n = 0;
	MYSQL_STMT *st;

	if (params_init(&p, 1) == -1)
		return oom(s);
	p_str(&p, name);
	st = stmt_run(s, "DELETE FROM tq_cron WHERE name = ?", &p, &n);
	params_release(&p);
	return st == NULL ? -1 : n > 0;
}

struct cron_scan {
	struct cron_row	*rows;
	size_t		 n, cap;
};

static int
cron_row_fill(void *arg, struct row *r)
{
	struct cron_scan *cs = arg;
	struct cron_row *c;
	uint64_t v;
	void *a;

	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? cs->cap * 2 : 8;
		if ((a = reallocarray(cs->rows, cs->cap, sizeof(*cs->rows))) ==
		    NULL)
			return -1;
		cs->rows = a;
	}
	c = &cs->rows[cs->n];
	memset(c, 0, sizeof(*c));
	copy_col(c->name, sizeof(c->name), r->col[0]);
	copy_col(c->spec, sizeof(c->spec), r->col[1]);
	copy_col(c->queue, sizeof(c->queue), r->col[2]);
	copy_col(c->task, sizeof(c->task), r->col[3]);
	c->payload = r->col[4];
	c->len = r->col[4] ? r->len[4] : 0;
	r->col[4] = NULL;
	c->next_tick = u64_of(r->col[5], &v) == 0 ? (int64_t)v : 0;
	cs->n++;
	return 0;
}

int
store_cron_list(struct store *s, int due_only, struct cron_row **out)
{
	struct cron_scan cs = { NULL, 0, 0 };
	MYSQL_STMT *st;

	*out = NULL;
	st = stmt_run(s, due_only ? SQL_CRON_DUE :
	    "SELECT name, spec, queue, task, payload, "
	    "UNIX_TIMESTAMP(next_tick) DIV 1 FROM tq_cron ORDER BY name", NULL,
	    NULL);
	if (st == NULL || stmt_rows(s, st, cron_row_fill, &cs) == -1) {
		cron_rows_free(cs.rows, cs.n);
		return -1;
	}
	*out = cs.rows;
	return (int)cs.n;
}

int
store_cron_fire(struct store *s, const struct cron_row *r, int64_t tick,
    int64_t next, struct task_new *t)
{
	struct buf sql = BUF_INIT;
	struct params p;
	unsigned long long n = 0;
	int tries = 0, ret = -1;

	if (uuid_zero(&t->id) && uuid_v7(&t->id) == -1)
		return -1;
	if (params_init(&p, 4) == -1)
		return oom(s);
again:
	if (txn_begin(s) == -1)
		goto done;
	/* The tick's row is the idempotency key: a second leader, or a
	 * retry after an unseen commit, inserts nothing. */
	p.n = 0;
	p_str(&p, r->name);
	p_int(&p, tick);
	p_id(&p, &t->id);
	if (stmt_run(s, "INSERT IGNORE INTO tq_cron_ticks (name, tick, "
	    "task_id) VALUES (?, FROM_UNIXTIME(?), ?)", &p, &n) == NULL)
		goto fail;
	if (n == 1 && insert_chunk(s, t, 1, 0, &sql) == -1)
		goto fail;
	p.n = 0;
	p_int(&p, next);
	p_str(&p, r->name);
	p_int(&p, next);
	if (stmt_run(s, "UPDATE tq_cron SET next_tick = FROM_UNIXTIME(?) "
	    "WHERE name = ? AND next_tick < FROM_UNIXTIME(?)", &p, NULL) ==
	    NULL)
		goto fail;
	if (txn_commit(s) == -1)
		goto fail;
	ret = n == 1;
	goto done;
fail:
	txn_rollback(s);
	if (txn_again(s, &tries))
		goto again;
done:
	params_release(&p);
	buf_release(&sql);
	return ret;
}

/* ---- doctor ---- */

static int
facts_vars(void *arg, struct row *r)
{
	struct server_facts *f = arg;
	uint64_t v;

	copy_col(f->version, sizeof(f->version), r->col[0]);
	f->flush_at_commit = (int)uns_of(r->col[1]);
	f->sync_binlog = (int)uns_of(r->col[2]);
	f->log_bin = r->col[3] && r->col[3][0] == '1';
	f->max_packet = u64_of(r->col[4], &v) == 0 ? (long long)v : 0;
	return 0;
}

static int
facts_tq(void *arg, struct row *r)
{
	struct server_facts *f = arg;
	uint64_t v;

	f->leader_live = r->col[0] && r->col[0][0] == '1';
	copy_col(f->leader, sizeof(f->leader), r->col[1]);
	f->nodes_live = (int)uns_of(r->col[2]);
	f->nodes_dead = (int)uns_of(r->col[3]);
	f->pending_old = u64_of(r->col[4], &v) == 0 ? (long long)v : 0;
	f->queued_old = u64_of(r->col[5], &v) == 0 ? (long long)v : 0;
	return 0;
}

int
store_facts(struct store *s, int64_t grace_ms, int64_t stranded_ms,
    int64_t node_timeout_ms, struct server_facts *f)
{
	struct params p;
	MYSQL_STMT *st;

	memset(f, 0, sizeof(*f));
	if ((st = stmt_run(s, "SELECT @@version, "
	    "@@innodb_flush_log_at_trx_commit, @@sync_binlog, @@log_bin, "
	    "@@max_allowed_packet", NULL, NULL)) == NULL ||
	    stmt_rows(s, st, facts_vars, f) == -1)
		return -1;
	if (params_init(&p, 4) == -1)
		return oom(s);
	p_int(&p, node_timeout_ms);
	p_int(&p, node_timeout_ms);
	p_int(&p, grace_ms);
	p_int(&p, stranded_ms);
	st = stmt_run(s, "SELECT "
	    "(SELECT COUNT(*) FROM tq_leader WHERE name = 'reconciler' AND "
	    " expires_at > NOW(6)), "
	    "(SELECT holder FROM tq_leader WHERE name = 'reconciler'), "
	    "(SELECT COUNT(*) FROM tq_nodes WHERE seen_at >= NOW(6) - "
	    " INTERVAL ? * 1000 MICROSECOND), "
	    "(SELECT COUNT(*) FROM tq_nodes WHERE seen_at < NOW(6) - "
	    " INTERVAL ? * 1000 MICROSECOND), "
	    "(SELECT COUNT(*) FROM tasks WHERE state = 'pending' AND "
	    " due_at < NOW(6) - INTERVAL ? * 1000 MICROSECOND), "
	    "(SELECT COUNT(*) FROM tasks WHERE state = 'queued' AND "
	    " due_at < NOW(6) - INTERVAL ? * 1000 MICROSECOND)", &p, NULL);
	params_release(&p);
	if (st == NULL || stmt_rows(s, st, facts_tq, f) == -1)
		return -1;
	return 0;
}

/* ---- counts of finished tasks ---- */

/* Counts one task that ended off the workers' path (cancelled, rejected,
 * released as failed) in tq_rollup, in the caller's transaction. */
static int
rollup_one(struct store *s, const struct uuid *id, const char *outcome)
{
	struct params p;
	MYSQL_STMT *st;

	if (params_init(&p, 2) == -1)
		return oom(s);
	p_str(&p, outcome);
	p_id(&p, id);
	st = stmt_run(s, "INSERT INTO tq_rollup (hour, queue, name, outcome, "
	    "n, run_us) SELECT DATE_FORMAT(NOW(), '%Y-%m-%d %H:00:00'), queue, "
	    "name, ?, 1, 0 FROM tasks WHERE id = ? "
	    "ON DUPLICATE KEY UPDATE n = n + 1", &p, NULL);
	params_release(&p);
	return st == NULL ? -1 : 0;
}

static const char *const rollup_names[RO_COUNT] = { "succeeded", "failed",
	"retried", "cancelled" };

const char *
rollup_outcome_name(enum rollup_outcome o)
{
	return (unsigned)o < RO_COUNT ? rollup_names[o] : "?";
}

static int
rollup_cmp(const void *a, const void *b)
{
	const struct rollup_row *x = a, *y = b;
	int c;

	if ((c = strcmp(x->queue, y->queue)) != 0)
		return c;
	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return (int)x->outcome - (int)y->outcome;
}

int
store_rollup_add(struct store *s, struct rollup_row *r, size_t n)
{
	struct buf sql = BUF_INIT;
	struct params p;
	size_t i;
	int tries = 0, ret = -1;

	if (n == 0)
		return 0;
	if (n > STORE_BATCH_MAX)
		n = STORE_BATCH_MAX;
	/* Keys in one order: two nodes' flushes cannot deadlock. */
	qsort(r, n, sizeof(*r), rollup_cmp);
	if (params_init(&p, n * 5) == -1)
		return oom(s);
	if (placeholders(&sql, "INSERT INTO tq_rollup (hour, queue, name, "
	    "outcome, n, run_us) VALUES ", "(DATE_FORMAT(NOW(), "
	    "'%Y-%m-%d %H:00:00'),?,?,?,?,?)", n, " ON DUPLICATE KEY UPDATE "
	    "n = n + VALUES(n), run_us = run_us + VALUES(run_us)") == -1) {
		oom(s);
		goto done;
	}
	for (i = 0; i < n; i++) {
		p_str(&p, r[i].queue);
		p_str(&p, r[i].name);
		p_str(&p, rollup_outcome_name(r[i].outcome));
		p_int(&p, (long long)r[i].n);
		p_int(&p, (long long)r[i].run_us);
	}
	while (stmt_run(s, sql.data, &p, NULL) == NULL)
		if (!txn_again(s, &tries))
			goto done;
	ret = 0;
done:
	params_release(&p);
	buf_release(&sql);
	return ret;
}

struct rollup_scan {
	struct rollup_row *rows;
	size_t		 n, cap;
};

static int
rollup_row(void *arg, struct row *r)
{
	struct rollup_scan *rs = arg;
	struct rollup_row *x;
	uint64_t v;
	int o;
	void *a;

	if (r->col[0] == NULL || r->col[1] == NULL)
		return 0;
	for (o = 0; o < RO_COUNT; o++)
		if (strcmp(r->col[1], rollup_names[o]) == 0)
			break;
	if (o == RO_COUNT)
		return 0;
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 64;
		if ((a = reallocarray(rs->rows, rs->cap, sizeof(*rs->rows))) ==
		    NULL)
			return -1;
		rs->rows = a;
	}
	x = &rs->rows[rs->n++];
	memset(x, 0, sizeof(*x));
	copy_col(x->queue, sizeof(x->queue), r->col[0]);
	x->outcome = (enum rollup_outcome)o;
	x->hour = u64_of(r->col[2], &v) == 0 ? (int64_t)v : 0;
	x->n = u64_of(r->col[3], &v) == 0 ? v : 0;
	return 0;
}

int
store_rollup_since(struct store *s, int64_t since, struct rollup_row **out)
{
	struct rollup_scan rs = { NULL, 0, 0 };
	struct params p;
	MYSQL_STMT *st;

	*out = NULL;
	if (params_init(&p, 1) == -1)
		return oom(s);
	p_int(&p, since < 0 ? 0 : since);
	st = stmt_run(s, SQL_ROLLUP_SINCE, &p, NULL);
	params_release(&p);
	if (st == NULL || stmt_rows(s, st, rollup_row, &rs) == -1) {
		free(rs.rows);
		return -1;
	}
	*out = rs.rows;
	return (int)rs.n;
}

int
store_rollup_prune(struct store *s, int64_t older_ms)
{
	struct params p;
	MYSQL_STMT *st;

	if (params_init(&p, 1) == -1)
		return oom(s);
	p_int(&p, older_ms);
	st = stmt_run(s, "DELETE FROM tq_rollup WHERE hour < NOW() - "
	    "INTERVAL ? * 1000 MICROSECOND LIMIT 5000", &p, NULL);
	params_release(&p);
	return st == NULL ? -1 : 0;
}

/* ---- retention windows' counts ---- */

struct mark {
	int	set;
	int64_t	v;
};

static int
mark_row(void *arg, struct row *r)
{
	struct mark *m = arg;
	uint64_t v;

	if (u64_of(r->col[0], &v) == 0) {
		m->set = 1;
		m->v = (int64_t)v;
	}
	return 0;
}

static int
window_closed(struct store *s, const char *sql, struct mark *m)
{
	MYSQL_STMT *st;

	m->set = 0;
	m->v = 0;
	if ((st = stmt_run(s, sql, NULL, NULL)) == NULL ||
	    stmt_rows(s, st, mark_row, m) == -1)
		return -1;
	return 0;
}

int
store_window_closed(struct store *s, int64_t *closed)
{
	struct mark m;

	if (window_closed(s, SQL_WINDOW_CLOSED, &m) == -1)
		return -1;
	*closed = m.v;
	return m.set;
}

int
store_window_close(struct store *s, int64_t upto)
{
	struct params p;
	struct mark m;
	int tries = 0, ret;

again:
	if (params_init(&p, 3) == -1)
		return oom(s);
	/* The mark's row lock makes two leaders' closings one after the
	 * other: the second finds nothing to do. */
	if (txn_begin(s) == -1 ||
	    window_closed(s, SQL_WINDOW_CLOSED " FOR UPDATE", &m) == -1)
		goto fail;
	if (m.set && m.v >= upto) {
		ret = 0;
		txn_rollback(s);
		goto done;
	}
	/* A row new to tq_window holds these hours only: its old edge is
	 * the last mark. */
	p_int(&p, m.v);
	p_int(&p, m.v);
	p_int(&p, upto);
	if (stmt_run(s, SQL_WINDOW_ADD, &p, NULL) == NULL)
		goto fail;
	params_release(&p);
	if (params_init(&p, 1) == -1) {
		txn_rollback(s);
		return oom(s);
	}
	p_int(&p, upto);
	if (stmt_run(s, "UPDATE tq_window_closed SET closed = FROM_UNIXTIME(?) "
	    "WHERE id = 1", &p, NULL) == NULL || txn_commit(s) == -1)
		goto fail;
	ret = 1;
done:
	params_release(&p);
	return ret;
fail:
	params_release(&p);
	txn_rollback(s);
	if (txn_again(s, &tries))
		goto again;
	return -1;
}

int
store_window_rows(struct store *s, struct rollup_row **out)
{
	struct rollup_scan rs = { NULL, 0, 0 };
	MYSQL_STMT *st;

	*out = NULL;
	st = stmt_run(s, SQL_WINDOW_ROWS, NULL, NULL);
	if (st == NULL || stmt_rows(s, st, rollup_row, &rs) == -1) {
		free(rs.rows);
		return -1;
	}
	*out = rs.rows;
	return (int)rs.n;
}

int
store_window_move(struct store *s, const char *queue, enum rollup_outcome o,
    int64_t from, int64_t to)
{
	struct params p;
	MYSQL_STMT *st;

	if (from == to)
		return 0;
	if (params_init(&p, 9) == -1)
		return oom(s);
	/* Forward: the hours that left the window go; back (a window grew):
	 * those that are in it again come back. */
	p_int(&p, to > from ? -1 : 1);
	p_int(&p, to > from ? from : to);
	p_int(&p, to > from ? to : from);
	p_str(&p, queue);
	p_str(&p, rollup_outcome_name(o));
	p_int(&p, to);
	p_str(&p, queue);
	p_str(&p, rollup_outcome_name(o));
	p_int(&p, from);
	st = stmt_run(s, SQL_WINDOW_MOVE, &p, NULL);
	params_release(&p);
	return st == NULL ? -1 : 0;
}

int
store_window_snapshot(struct store *s, int64_t since, struct rollup_row **w,
    struct rollup_row **open, int *nopen)
{
	struct rollup_scan ws = { NULL, 0, 0 }, os = { NULL, 0, 0 };
	struct params p;
	struct mark m;
	MYSQL_STMT *st;

	*w = *open = NULL;
	*nopen = 0;
	/* One snapshot: a closing between the reads would count its hours
	 * twice or not at all. */
	if (q(s, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY") ==
	    -1 || window_closed(s, SQL_WINDOW_CLOSED, &m) == -1)
		goto fail;
	if (m.set) {
		st = stmt_run(s, SQL_WINDOW_ROWS, NULL, NULL);
		if (st == NULL || stmt_rows(s, st, rollup_row, &ws) == -1)
			goto fail;
		since = m.v + 3600;
	}
	if (params_init(&p, 1) == -1) {
		oom(s);
		goto fail;
	}
	p_int(&p, since < 0 ? 0 : since);
	st = stmt_run(s, SQL_ROLLUP_SINCE, &p, NULL);
	params_release(&p);
	if (st == NULL || stmt_rows(s, st, rollup_row, &os) == -1 ||
	    txn_commit(s) == -1)
		goto fail;
	*w = ws.rows;
	*open = os.rows;
	*nopen = (int)os.n;
	return m.set ? (int)ws.n : -2;
fail:
	txn_rollback(s);
	free(ws.rows);
	free(os.rows);
	return -1;
}

/* ---- plans ---- */

static int
plan_row(void *arg, struct row *r)
{
	struct buf *b = arg;

	/* id select_type table type possible_keys key key_len ref rows
	 * r_rows filtered r_filtered Extra */
	if (r->n < 13)
		return 0;
	return buf_printf(b, "%s %s %s %s %s %s\n", r->col[2] ? r->col[2] :
	    "-", r->col[3] ? r->col[3] : "-", r->col[5] ? r->col[5] : "-",
	    r->col[8] ? r->col[8] : "-", r->col[9] ? r->col[9] : "-",
	    r->col[12] ? r->col[12] : "-") == -1 ? -1 : 0;
}

int
store_explain(struct store *s, const char *sql, const char *params,
    struct buf *out)
{
	static const struct uuid zero;
	struct buf q = BUF_INIT;
	struct params p;
	MYSQL_STMT *st;
	size_t i;
	int ret = -1;

	if (params_init(&p, strlen(params)) == -1)
		return oom(s);
	/* ANALYZE runs it: r_rows are the rows each step really read. */
	if (buf_printf(&q, "ANALYZE %s", sql) == -1) {
		oom(s);
		goto done;
	}
	for (i = 0; params[i]; i++)
		switch (params[i]) {
		case 'i':
			p_int(&p, 1000);
			break;
		case 'b':
			p_id(&p, &zero);
			break;
		case 'S':
			p_str(&p, "succeeded");
			break;
		default:
			p_str(&p, "default");
			break;
		}
	/* What store_done_queues prepares afresh, explained afresh. */
	if (strcmp(sql, SQL_DONE_QUEUES) == 0)
		stmt_forget(s, q.data);
	if ((st = stmt_run(s, q.data, &p, NULL)) == NULL ||
	    stmt_rows(s, st, plan_row, out) == -1)
		goto done;
	ret = 0;
done:
	params_release(&p);
	buf_release(&q);
	return ret;
}
