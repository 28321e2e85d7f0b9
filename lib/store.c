/* store.c: MySQL access: errors, the connection, and the statements core.
 * Prepared statements are cached by their text; the IN lists of batches are
 * built from placeholders only, never from data. The rest of the store is in
 * store_*.c, over store_int.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>

#include "log.h"
#include "store_int.h"
#include "util.h"

#define TXN_TRIES	10

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

int
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
	free(s->woken);
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
void
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
MYSQL_STMT *
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

/* Reads every row of st's result, handing each to fn. Returns rows read or
 * -1. Every column is fetched as bytes, whatever its type. */
int
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

/* rowsp is the address of a pointer of any type (struct cron_row **, ...):
 * it is read and written with memcpy, not through a void **, which would
 * alias it. */
int
scan_grow(void *rowsp, size_t *cap, size_t n, size_t size)
{
	void *rows, *a;
	size_t want;

	if (n < *cap)
		return 0;
	want = *cap ? *cap * 2 : 16;
	memcpy(&rows, rowsp, sizeof(rows));
	if ((a = reallocarray(rows, want, size)) == NULL)
		return -1;
	memcpy(rowsp, &a, sizeof(a));
	*cap = want;
	return 0;
}

int
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

void
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

void
p_blob(struct params *p, const void *v, size_t n)
{
	/* A zero-length blob still needs a non-NULL buffer to mean ''. */
	p_bytes(p, MYSQL_TYPE_BLOB, n ? v : "", n);
}

void
p_str(struct params *p, const char *v)
{
	if (v == NULL) {
		p->b[p->n].buffer_type = MYSQL_TYPE_NULL;
		p->n++;
		return;
	}
	p_bytes(p, MYSQL_TYPE_STRING, v, strlen(v));
}

void
p_id(struct params *p, const struct uuid *id)
{
	p_bytes(p, MYSQL_TYPE_BLOB, id->b, UUID_LEN);
}

void
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
size_t
bucket(size_t n)
{
	size_t b = 1;

	while (b < n)
		b <<= 1;
	return b > STORE_BATCH_MAX ? STORE_BATCH_MAX : b;
}

/* ids[0..n) padded to bucket(n). */
void
p_ids(struct params *p, const struct uuid *ids, size_t n)
{
	size_t i;

	for (i = 0; i < bucket(n); i++)
		p_id(p, &ids[i < n ? i : n - 1]);
}

/* "?,?,?" n times, into b (reset first). */
int
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

int
q(struct store *s, const char *sql)
{
	if (s->db == NULL && db_connect(s) == -1)
		return -1;
	if (mysql_real_query(s->db, sql, strlen(sql)) != 0)
		return db_fail(s, sql);
	return 0;
}

int
txn_begin(struct store *s)
{
	return q(s, "START TRANSACTION");
}

int
txn_commit(struct store *s)
{
	if (mysql_commit(s->db) != 0)
		return db_fail(s, "commit");
	return 0;
}

void
txn_rollback(struct store *s)
{
	/* The error that brought us here is what the caller reports. */
	if (s->db != NULL)
		(void)mysql_rollback(s->db);
}

/* Whether the last error asks to run the transaction again. */
int
txn_again(struct store *s, int *tries)
{
	if (!errnum_retry(s->errnum) || ++*tries >= TXN_TRIES)
		return 0;
	s->deadlocks++;
	log_debug("event=txn_retry errno=%u try=%d", s->errnum, *tries);
	sleep_ms((int64_t)rand_below(5u << *tries) + 1);
	return 1;
}

int
id_cmp(const void *a, const void *b)
{
	return uuid_cmp(a, b);
}

void
copy_col(char *dst, size_t sz, const char *src)
{
	strlcpy(dst, src ? src : "", sz);
}

int
u64_of(const char *s, uint64_t *v)
{
	char *end;

	if (s == NULL)
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

unsigned
uns_of(const char *s)
{
	uint64_t v;

	return u64_of(s, &v) == -1 || v > UINT32_MAX ? 0 : (unsigned)v;
}

int
state_row(void *arg, struct row *r)
{
	int st = r->col[0] ? task_state_parse(r->col[0]) : -1;

	if (st >= 0)
		*(enum task_state *)arg = (enum task_state)st;
	return 0;
}

int
owned_row(void *arg, struct row *r)
{
	struct owned_scan *os = arg;

	if (r->len[0] != UUID_LEN)
		return 0;
	if (scan_grow(&os->ids, &os->cap, os->n, sizeof(*os->ids)) == -1 ||
	    scan_grow(&os->fences, &os->fcap, os->n,
	    sizeof(*os->fences)) == -1 || (os->with_owner &&
	    scan_grow(&os->owners, &os->ocap, os->n,
	    sizeof(*os->owners)) == -1))
		return -1;
	memcpy(os->ids[os->n].b, r->col[0], UUID_LEN);
	if (u64_of(r->col[1], &os->fences[os->n]) == -1)
		return 0;
	if (os->with_owner)
		copy_col(os->owners[os->n], sizeof(os->owners[0]), r->col[2]);
	os->n++;
	return 0;
}
