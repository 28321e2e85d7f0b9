/* bench.c: tq-bench, the measuring half of `make bench` (tests/bench/run
 * drives it). Not installed.
 *
 *   tq-bench broker --type quorum|classic [-n N] [--window W] [--prefetch P]
 *	    [--queue NAME]
 *	the broker's own limit, through rabbitmq-c directly: persistent,
 *	confirmed publishes of tq-sized messages, then consume with acks
 *   tq-bench db --conns C [--secs S] [--db NAME]
 *	the database's durable commit limit: prepared single-row INSERT +
 *	COMMIT on C connections
 *   tq-bench submit --tq PATH --file F -n N [--wait] [--name NAME]
 *	    [--ids FILE] [--stall S] [--after ID]
 *	times `tq submit --from F NAME`; with --wait, also until N tasks
 *	succeeded (end to end)
 *   tq-bench wait -n N --since-us T [--stall S] [--after ID]
 *	until N tasks succeeded, timed from T (epoch microseconds)
 *   tq-bench latency [--rate R] [--secs S] [--threads T] [--name NAME]
 *	    [--after ID]
 *	one task per client_submit, at a fixed rate (open loop, T
 *	submitters), then percentiles from the rows' timestamps
 *   tq-bench delq QUEUE...
 *	deletes broker queues (full names)
 *   tq-bench scrape --addr IPV4:PORT [-n N] [--metric NAME]
 *	times N GETs of a supervisor's /metrics (and sums NAME's samples)
 *   tq-bench time [-n N] -- /PATH/TO/COMMAND [ARGS]
 *	times N runs of a command (its stdout discarded)
 *   tq-bench report --dir D --out FILE
 *	the table, from the JSON the other commands left in D
 *
 * --after ID (32 hex digits): the tq commands count only the tasks whose
 * id is above it, so that they measure over a table that already holds a
 * history (ids are UUIDv7: a new task's is above every older one).
 *
 * The measuring commands print one JSON object on stdout. The servers and
 * the queue come from the environment, as for every tq program.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <jansson.h>
#include <mysql.h>

#include "client.h"
#include "config.h"
#include "store.h"
#include "task.h"
#include "util.h"
#include "uuid.h"

#define CH		1
#define PAYLOAD_BYTES	64
#define POLL_NS		100000000LL	/* 100 ms */

static struct config cfg;
static struct url amqp_u, mysql_u;

static void __attribute__((format(printf, 1, 2)))
warnx(const char *fmt, ...)
{
	va_list ap;

	fputs("tq-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static double
secs_since(int64_t t0)
{
	return (double)(mono_ns() - t0) / 1e9;
}

static void
sleep_until(int64_t ns)
{
	struct timespec ts;

	ts.tv_sec = ns / 1000000000LL;
	ts.tv_nsec = ns % 1000000000LL;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
}

static int
load_config(void)
{
	char err[TQ_ERRSZ];

	if (config_load(&cfg, NULL, err, sizeof(err)) == -1 ||
	    config_urls(&cfg, NULL, &mysql_u, err, sizeof(err)) == -1 ||
	    config_amqp_urls(&cfg, &amqp_u, 1, err, sizeof(err)) == -1) {
		warnx("%s", err);
		return -1;
	}
	return 0;
}

static int
num_opt(const char *opt, const char *v, long long min, long long max,
    long long *out)
{
	const char *errstr;

	if (parse_num(v, min, max, out, &errstr) == -1) {
		warnx("%s: \"%s\" is %s (allowed %lld..%lld)", opt, v, errstr,
		    min, max);
		return -1;
	}
	return 0;
}

/* Prints obj as one line of JSON on stdout and frees it. */
static int
emit(json_t *obj)
{
	int rc;

	if (obj == NULL) {
		warnx("out of memory");
		return 1;
	}
	rc = json_dumpf(obj, stdout, JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(obj);
	if (rc == -1 || putchar('\n') == EOF || fflush(stdout) == EOF) {
		warnx("stdout: %s", strerror(errno));
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ broker */

static const char *
amqp_why(amqp_rpc_reply_t r, char *buf, size_t sz)
{
	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		return "ok";
	case AMQP_RESPONSE_NONE:
		return "missing reply";
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		return amqp_error_string2(r.library_error);
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			amqp_connection_close_t *m = r.reply.decoded;

			snprintf(buf, sz, "connection closed: %u %.*s",
			    m->reply_code, (int)m->reply_text.len,
			    (char *)m->reply_text.bytes);
		} else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			amqp_channel_close_t *m = r.reply.decoded;

			snprintf(buf, sz, "channel closed: %u %.*s",
			    m->reply_code, (int)m->reply_text.len,
			    (char *)m->reply_text.bytes);
		} else
			snprintf(buf, sz, "server error 0x%08x", r.reply.id);
		return buf;
	}
	return "unknown reply";
}

static int
rpc_ok(amqp_connection_state_t c, const char *op)
{
	amqp_rpc_reply_t r = amqp_get_rpc_reply(c);
	char buf[300];

	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return 0;
	warnx("amqp %s %s:%d: %s", op, amqp_u.host, amqp_u.port,
	    amqp_why(r, buf, sizeof(buf)));
	return -1;
}

/* Connects, logs in, opens channel CH; the server's product and version
 * go to ver. */
static amqp_connection_state_t
mq_open(char *ver, size_t versz)
{
	amqp_connection_state_t c;
	const amqp_table_t *props;
	amqp_socket_t *s;
	amqp_rpc_reply_t r;
	struct timeval tv = { 10, 0 };
	char buf[300], product[64] = "", version[64] = "";
	int st, i;

	if ((c = amqp_new_connection()) == NULL ||
	    (s = amqp_tcp_socket_new(c)) == NULL) {
		warnx("out of memory");
		return NULL;
	}
	if ((st = amqp_socket_open_noblock(s, amqp_u.host, amqp_u.port,
	    &tv)) != AMQP_STATUS_OK) {
		warnx("amqp connect %s:%d: %s", amqp_u.host, amqp_u.port,
		    amqp_error_string2(st));
		goto bad;
	}
	if (amqp_set_rpc_timeout(c, &tv) != AMQP_STATUS_OK)
		goto bad;
	r = amqp_login(c, amqp_u.path, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
	    amqp_u.user, amqp_u.pass);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		warnx("amqp login %s:%d: %s", amqp_u.host, amqp_u.port,
		    amqp_why(r, buf, sizeof(buf)));
		goto bad;
	}
	amqp_channel_open(c, CH);
	if (rpc_ok(c, "channel open") == -1)
		goto bad;
	props = amqp_get_server_properties(c);
	for (i = 0; props && i < props->num_entries; i++) {
		amqp_table_entry_t *e = &props->entries[i];
		char *dst;

		if (e->value.kind != AMQP_FIELD_KIND_UTF8 &&
		    e->value.kind != AMQP_FIELD_KIND_BYTES)
			continue;
		if (e->key.len == 7 && memcmp(e->key.bytes, "product", 7) == 0)
			dst = product;
		else if (e->key.len == 7 &&
		    memcmp(e->key.bytes, "version", 7) == 0)
			dst = version;
		else
			continue;
		snprintf(dst, 64, "%.*s", (int)e->value.value.bytes.len,
		    (char *)e->value.value.bytes.bytes);
	}
	snprintf(ver, versz, "%s %s", product, version);
	return c;
bad:
	amqp_destroy_connection(c);
	return NULL;
}

static void
mq_close(amqp_connection_state_t c)
{
	(void)amqp_channel_close(c, CH, AMQP_REPLY_SUCCESS);
	(void)amqp_connection_close(c, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(c);
}

/* Publisher confirms of one run: tags 1..n. */
struct confirms {
	uint8_t		*st;		/* [n + 1]: 1 settled */
	uint64_t	 n, low;	/* low: the lowest unsettled tag */
	uint64_t	 settled, nacked, returned;
};

static void
cf_settle(struct confirms *cf, uint64_t tag, int multiple, int ok)
{
	uint64_t s;

	if (tag == 0 || tag > cf->n)
		return;
	for (s = multiple ? cf->low : tag; s <= tag; s++)
		if (!cf->st[s]) {
			cf->st[s] = 1;
			cf->settled++;
			if (!ok)
				cf->nacked++;
		}
	while (cf->low <= cf->n && cf->st[cf->low])
		cf->low++;
}

/* Reads one frame within ms: 1 read, 0 none, -1 failed. */
static int
cf_frame(amqp_connection_state_t c, struct confirms *cf, int ms)
{
	amqp_frame_t f;
	amqp_message_t msg;
	amqp_rpc_reply_t r;
	struct timeval tv;
	char buf[300];
	int st;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	st = amqp_simple_wait_frame_noblock(c, &f, &tv);
	if (st == AMQP_STATUS_TIMEOUT)
		return 0;
	if (st != AMQP_STATUS_OK) {
		warnx("amqp publish: %s", amqp_error_string2(st));
		return -1;
	}
	if (f.frame_type != AMQP_FRAME_METHOD)
		return 1;
	switch (f.payload.method.id) {
	case AMQP_BASIC_ACK_METHOD: {
		amqp_basic_ack_t *a = f.payload.method.decoded;

		cf_settle(cf, a->delivery_tag, a->multiple, 1);
		break;
	}
	case AMQP_BASIC_NACK_METHOD: {
		amqp_basic_nack_t *a = f.payload.method.decoded;

		cf_settle(cf, a->delivery_tag, a->multiple, 0);
		break;
	}
	case AMQP_BASIC_RETURN_METHOD:
		r = amqp_read_message(c, f.channel, &msg, 0);
		if (r.reply_type != AMQP_RESPONSE_NORMAL) {
			warnx("amqp publish: %s", amqp_why(r, buf,
			    sizeof(buf)));
			return -1;
		}
		cf->returned++;
		amqp_destroy_message(&msg);
		break;
	case AMQP_CHANNEL_CLOSE_METHOD:
	case AMQP_CONNECTION_CLOSE_METHOD:
		memset(&r, 0, sizeof(r));
		r.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION;
		r.reply = f.payload.method;
		warnx("amqp publish: %s", amqp_why(r, buf, sizeof(buf)));
		return -1;
	default:
		break;
	}
	return 1;
}

/* Waits for a frame, failing after 10 s of silence. */
static int
cf_wait(amqp_connection_state_t c, struct confirms *cf)
{
	int rc;

	amqp_maybe_release_buffers(c);
	if ((rc = cf_frame(c, cf, 10000)) == 0)
		warnx("amqp publish: no confirm within 10 s");
	return rc == 1 ? 0 : -1;
}

static int
cmd_broker(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "window", required_argument, NULL, 'w' },
		{ "prefetch", required_argument, NULL, 'p' },
		{ "queue", required_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	amqp_connection_state_t c = NULL;
	amqp_basic_properties_t props;
	amqp_basic_consume_ok_t *cok;
	amqp_table_entry_t arg;
	amqp_table_t args;
	amqp_envelope_t env;
	amqp_rpc_reply_t r;
	amqp_bytes_t body, qb;
	struct confirms cf;
	struct timeval tv = { 10, 0 };
	struct uuid id;
	const char *type = "quorum", *qname = NULL;
	long long n = 50000, window = 1000, prefetch = 200, v;
	uint8_t payload[PAYLOAD_BYTES], msg[512];
	char q[128], idtxt[UUID_STRLEN + 1], ver[140], buf[300];
	double pub_s, con_s;
	uint64_t i, got = 0, bad = 0, tag = 0, ackevery;
	amqp_bytes_t ctag = amqp_empty_bytes;
	int64_t t0;
	long len;
	int ch, rc, ret = 1, declared = 0;

	memset(&cf, 0, sizeof(cf));
	while ((ch = getopt_long(argc, argv, "n:", opts, NULL)) != -1)
		switch (ch) {
		case 't':
			type = optarg;
			break;
		case 'q':
			qname = optarg;
			break;
		case 'n':
			if (num_opt("-n", optarg, 1, 10000000, &n) == -1)
				return 2;
			break;
		case 'w':
			if (num_opt("--window", optarg, 1, 100000, &window) ==
			    -1)
				return 2;
			break;
		case 'p':
			if (num_opt("--prefetch", optarg, 2, 65535, &v) == -1)
				return 2;
			prefetch = v;
			break;
		default:
			return 2;
		}
	if (strcmp(type, "quorum") != 0 && strcmp(type, "classic") != 0) {
		warnx("--type: quorum or classic");
		return 2;
	}
	if (load_config() == -1)
		return 100;

	/* One real tq message: the size every publish has. */
	memset(payload, 'x', sizeof(payload));
	if (uuid_v7(&id) == -1 || (len = task_msg_encode(&id, "tq.echo",
	    payload, sizeof(payload), msg, sizeof(msg))) < 0) {
		warnx("task_msg_encode failed");
		return 1;
	}
	uuid_fmt(&id, idtxt);
	body.bytes = msg;
	body.len = (size_t)len;
	/* The properties tq's publisher sets. */
	memset(&props, 0, sizeof(props));
	props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG |
	    AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG;
	props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	props.content_type = amqp_cstring_bytes("application/x-tq");
	props.message_id = amqp_cstring_bytes(idtxt);

	/* A fresh queue of our own (deleted at the end). */
	if (qname != NULL)
		snprintf(q, sizeof(q), "%s", qname);
	else
		snprintf(q, sizeof(q), "tq-bench.raw.%s.%ld", type,
		    (long)getpid());
	qb = amqp_cstring_bytes(q);
	if ((c = mq_open(ver, sizeof(ver))) == NULL)
		return 111;
	arg.key = amqp_cstring_bytes("x-queue-type");
	arg.value.kind = AMQP_FIELD_KIND_UTF8;
	arg.value.value.bytes = amqp_cstring_bytes(type);
	args.num_entries = 1;
	args.entries = &arg;
	amqp_queue_declare(c, CH, qb, 0, 1, 0, 0, args);
	if (rpc_ok(c, "queue declare") == -1)
		goto out;
	declared = 1;
	amqp_confirm_select(c, CH);
	if (rpc_ok(c, "confirm select") == -1)
		goto out;

	/* Publish: at most window unconfirmed, as tq's publisher. */
	if ((cf.st = calloc((size_t)n + 1, 1)) == NULL) {
		warnx("out of memory");
		goto out;
	}
	cf.n = (uint64_t)n;
	cf.low = 1;
	t0 = mono_ns();
	for (i = 0; i < (uint64_t)n; i++) {
		while (i - cf.settled >= (uint64_t)window)
			if (cf_wait(c, &cf) == -1)
				goto out;
		if ((rc = amqp_basic_publish(c, CH, amqp_empty_bytes, qb, 1, 0,
		    &props, body)) != AMQP_STATUS_OK) {
			warnx("amqp publish: %s", amqp_error_string2(rc));
			goto out;
		}
		/* Take what has arrived, without waiting. */
		while (amqp_frames_enqueued(c) || amqp_data_in_buffer(c))
			if ((rc = cf_frame(c, &cf, 0)) <= 0) {
				if (rc == -1)
					goto out;
				break;
			}
	}
	while (cf.settled < (uint64_t)n)
		if (cf_wait(c, &cf) == -1)
			goto out;
	pub_s = secs_since(t0);
	if (cf.nacked || cf.returned) {
		warnx("%llu nacked, %llu returned of %lld publishes",
		    (unsigned long long)cf.nacked,
		    (unsigned long long)cf.returned, n);
		goto out;
	}

	/* Consume: manual acks, one multiple ack per half prefetch. */
	ackevery = (uint64_t)prefetch / 2;
	amqp_basic_qos(c, CH, 0, (uint16_t)prefetch, 0);
	if (rpc_ok(c, "qos") == -1)
		goto out;
	cok = amqp_basic_consume(c, CH, qb, amqp_empty_bytes, 0, 0, 0,
	    amqp_empty_table);
	if (rpc_ok(c, "consume") == -1 || cok == NULL)
		goto out;
	ctag = amqp_bytes_malloc_dup(cok->consumer_tag);
	t0 = mono_ns();
	while (got < (uint64_t)n) {
		amqp_maybe_release_buffers(c);
		r = amqp_consume_message(c, &env, &tv, 0);
		if (r.reply_type != AMQP_RESPONSE_NORMAL) {
			warnx("amqp consume (%llu of %lld): %s",
			    (unsigned long long)got, n,
			    amqp_why(r, buf, sizeof(buf)));
			amqp_bytes_free(ctag);
			goto out;
		}
		if (env.message.body.len != (size_t)len)
			bad++;
		got++;
		tag = env.delivery_tag;
		amqp_destroy_envelope(&env);
		if ((got % ackevery == 0 || got == (uint64_t)n) &&
		    amqp_basic_ack(c, CH, tag, 1) != AMQP_STATUS_OK) {
			warnx("amqp ack failed");
			amqp_bytes_free(ctag);
			goto out;
		}
	}
	/* A round trip: the acks have reached the broker. */
	amqp_basic_cancel(c, CH, ctag);
	amqp_bytes_free(ctag);
	if (rpc_ok(c, "cancel") == -1)
		goto out;
	con_s = secs_since(t0);
	if (bad) {
		warnx("%llu deliveries with the wrong size",
		    (unsigned long long)bad);
		goto out;
	}
	ret = emit(json_pack("{s:s, s:I, s:i, s:I, s:I, s:f, s:f, s:f, s:f, "
	    "s:s}", "type", type, "n", (json_int_t)n, "msg_bytes", (int)len,
	    "window", (json_int_t)window, "prefetch", (json_int_t)prefetch,
	    "publish_s", pub_s, "publish_rate", (double)n / pub_s,
	    "consume_s", con_s, "consume_rate", (double)n / con_s,
	    "server", ver));
out:
	if (declared) {
		amqp_queue_delete(c, CH, qb, 0, 0);
		if (rpc_ok(c, "queue delete") == -1)
			ret = 1;
	}
	free(cf.st);
	mq_close(c);
	return ret;
}

static int
cmd_delq(int argc, char **argv)
{
	amqp_connection_state_t c;
	char ver[140];
	int i, ret = 0;

	if (load_config() == -1)
		return 100;
	if ((c = mq_open(ver, sizeof(ver))) == NULL)
		return 111;
	for (i = 1; i < argc; i++) {
		amqp_queue_delete(c, CH, amqp_cstring_bytes(argv[i]), 0, 0);
		if (rpc_ok(c, "queue delete") == -1) {
			ret = 1;
			break;	/* the channel is closed */
		}
	}
	mq_close(c);
	return ret;
}

/* ------------------------------------------------------------ database */

static MYSQL *
my_open(const char *db)
{
	unsigned int timeout = 10, proto = MYSQL_PROTOCOL_TCP;
	MYSQL *m;

	if ((m = mysql_init(NULL)) == NULL) {
		warnx("out of memory");
		return NULL;
	}
	if (mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout) != 0 ||
	    mysql_options(m, MYSQL_OPT_PROTOCOL, &proto) != 0 ||
	    mysql_real_connect(m, mysql_u.host, mysql_u.user, mysql_u.pass, db,
	    (unsigned)mysql_u.port, NULL, 0) == NULL) {
		warnx("mysql connect %s:%d/%s: %s", mysql_u.host, mysql_u.port,
		    db ? db : "", mysql_error(m));
		mysql_close(m);
		return NULL;
	}
	return m;
}

static int
my_exec(MYSQL *m, const char *sql)
{
	if (mysql_query(m, sql) != 0) {
		warnx("mysql \"%.60s\": %s", sql, mysql_error(m));
		return -1;
	}
	return 0;
}

struct dbthr {
	pthread_t	 th;
	const char	*db;
	unsigned long	 commits;
	int		 failed;
};

static pthread_barrier_t db_ready, db_go;
static int64_t db_end;

static void *
db_worker(void *arg)
{
	struct dbthr *t = arg;
	MYSQL_STMT *st = NULL;
	MYSQL_BIND bind;
	MYSQL *m;
	char payload[PAYLOAD_BYTES];
	unsigned long plen = sizeof(payload);

	memset(payload, 'x', sizeof(payload));
	memset(&bind, 0, sizeof(bind));
	bind.buffer_type = MYSQL_TYPE_BLOB;
	bind.buffer = payload;
	bind.buffer_length = sizeof(payload);
	bind.length = &plen;
	t->failed = 1;
	if ((m = my_open(t->db)) != NULL) {
		if (mysql_autocommit(m, 0) != 0 ||
		    (st = mysql_stmt_init(m)) == NULL ||
		    mysql_stmt_prepare(st, "INSERT INTO scratch (payload) "
		    "VALUES (?)", (unsigned long)-1) != 0 ||
		    mysql_stmt_bind_param(st, &bind) != 0)
			warnx("mysql prepare: %s", st ? mysql_stmt_error(st) :
			    mysql_error(m));
		else
			t->failed = 0;
	}
	(void)pthread_barrier_wait(&db_ready);
	(void)pthread_barrier_wait(&db_go);
	while (!t->failed && mono_ns() < db_end) {
		if (mysql_stmt_execute(st) != 0) {
			warnx("mysql insert: %s", mysql_stmt_error(st));
			t->failed = 1;
		} else if (mysql_commit(m) != 0) {
			warnx("mysql commit: %s", mysql_error(m));
			t->failed = 1;
		} else
			t->commits++;
	}
	if (st)
		mysql_stmt_close(st);
	if (m)
		mysql_close(m);
	return NULL;
}

static int
cmd_db(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "conns", required_argument, NULL, 'c' },
		{ "secs", required_argument, NULL, 's' },
		{ "db", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct dbthr *t;
	const char *db = "tq_bench";
	char sql[256], ver[128];
	long long conns = 1, secs = 3;
	unsigned long commits = 0;
	double s;
	MYSQL *m;
	int ch, i, failed = 0;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		switch (ch) {
		case 'c':
			if (num_opt("--conns", optarg, 1, 256, &conns) == -1)
				return 2;
			break;
		case 's':
			if (num_opt("--secs", optarg, 1, 3600, &secs) == -1)
				return 2;
			break;
		case 'd':
			db = optarg;
			break;
		default:
			return 2;
		}
	if (!task_name_ok(db, 64) || strchr(db, '.') || strchr(db, ':')) {
		warnx("--db: bad database name");
		return 2;
	}
	if (load_config() == -1)
		return 100;
	if ((m = my_open(NULL)) == NULL)
		return 111;
	snprintf(ver, sizeof(ver), "%s", mysql_get_server_info(m));
	snprintf(sql, sizeof(sql), "CREATE DATABASE IF NOT EXISTS `%s`", db);
	if (my_exec(m, sql) == -1 || mysql_select_db(m, db) != 0 ||
	    my_exec(m, "CREATE TABLE IF NOT EXISTS scratch ("
	    " id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
	    " payload VARBINARY(255) NOT NULL,"
	    " created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
	    ") ENGINE=InnoDB") == -1) {
		mysql_close(m);
		return 111;
	}
	mysql_close(m);

	if ((t = calloc((size_t)conns, sizeof(*t))) == NULL ||
	    pthread_barrier_init(&db_ready, NULL, (unsigned)conns + 1) != 0 ||
	    pthread_barrier_init(&db_go, NULL, (unsigned)conns + 1) != 0) {
		warnx("out of memory");
		return 1;
	}
	for (i = 0; i < conns; i++) {
		t[i].db = db;
		if (pthread_create(&t[i].th, NULL, db_worker, &t[i]) != 0) {
			warnx("pthread_create failed");
			exit(1);
		}
	}
	(void)pthread_barrier_wait(&db_ready);
	int64_t t0 = mono_ns();
	db_end = t0 + secs * 1000000000LL;
	(void)pthread_barrier_wait(&db_go);
	for (i = 0; i < conns; i++) {
		(void)pthread_join(t[i].th, NULL);
		commits += t[i].commits;
		failed |= t[i].failed;
	}
	s = secs_since(t0);
	free(t);
	if (failed)
		return 1;
	return emit(json_pack("{s:I, s:f, s:I, s:f, s:s}", "conns",
	    (json_int_t)conns, "secs", s, "commits", (json_int_t)commits,
	    "rate", (double)commits / s, "server", ver));
}

/* ------------------------------------------------------------ tq */

/* The rows the tq commands measure: ids above this one (--after: the
 * last of a loaded history, whose ids are all older than a new task's;
 * zeros, the default, take every row). */
static uint8_t after_id[UUID_LEN];

static int
after_opt(const char *v)
{
	size_t i;
	int hi, lo;

	if (strlen(v) != 2 * UUID_LEN)
		goto bad;
	for (i = 0; i < UUID_LEN; i++) {
		if ((hi = hexval(v[2 * i])) == -1 ||
		    (lo = hexval(v[2 * i + 1])) == -1)
			goto bad;
		after_id[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
bad:
	warnx("--after: \"%s\" is not 32 hex digits", v);
	return -1;
}

#define MY_COLS	4

/* Runs sql prepared, each of its ? bound to after_id. With fn, calls it
 * on every row's n numbers (NULL: -1); without, the first row goes to
 * out. 0, or -1. */
static int
my_rows(MYSQL *m, const char *sql, long long *out, unsigned n,
    int (*fn)(void *, const long long *), void *arg)
{
	MYSQL_BIND pb[MY_COLS], rb[MY_COLS];
	unsigned long alen = UUID_LEN;
	long long v[MY_COLS];
	my_bool isnull[MY_COLS];
	MYSQL_STMT *st;
	unsigned i, np;
	int rc, got = 0, ret = -1;

	if (n > MY_COLS || (st = mysql_stmt_init(m)) == NULL) {
		warnx("mysql \"%.60s\": out of memory", sql);
		return -1;
	}
	if (mysql_stmt_prepare(st, sql, (unsigned long)-1) != 0)
		goto fail;
	if ((np = mysql_stmt_param_count(st)) > MY_COLS) {
		warnx("mysql \"%.60s\": too many parameters", sql);
		goto done;
	}
	memset(pb, 0, sizeof(pb));
	for (i = 0; i < np; i++) {
		pb[i].buffer_type = MYSQL_TYPE_BLOB;
		pb[i].buffer = after_id;
		pb[i].buffer_length = UUID_LEN;
		pb[i].length = &alen;
	}
	memset(rb, 0, sizeof(rb));
	for (i = 0; i < n; i++) {
		rb[i].buffer_type = MYSQL_TYPE_LONGLONG;
		rb[i].buffer = &v[i];
		rb[i].is_null = &isnull[i];
	}
	if ((np > 0 && mysql_stmt_bind_param(st, pb) != 0) ||
	    mysql_stmt_execute(st) != 0 || mysql_stmt_bind_result(st, rb) != 0)
		goto fail;
	while ((rc = mysql_stmt_fetch(st)) == 0) {
		for (i = 0; i < n; i++)
			if (isnull[i])
				v[i] = -1;
		if (fn == NULL) {
			if (!got)
				memcpy(out, v, n * sizeof(*v));
		} else if (fn(arg, v) == -1)
			goto done;
		got = 1;
	}
	if (rc != MYSQL_NO_DATA)
		goto fail;
	if (fn == NULL && !got) {
		warnx("mysql \"%.60s\": no row", sql);
		goto done;
	}
	ret = 0;
	goto done;
fail:
	warnx("mysql \"%.60s\": %s", sql, mysql_stmt_error(st));
done:
	mysql_stmt_close(st);
	return ret;
}

/* Succeeded tasks (of the measured ones), counted as the run goes without
 * reading each row more than a few times: the rows that finished up to a
 * bound half a second behind the database's clock are counted once, when
 * the bound passes them (a finish commits well within that), and only
 * those after it at every poll. Each is an index-only range of
 * (state, queue, finished_at): the observer costs the same whatever the
 * history beside the run. A row it missed (one that committed later than
 * the bound allowed) is found by done_resync. */
struct done_count {
	char		queue[256];
	char		start[32];	/* before the run, DATETIME(6) text */
	char		lo[32];		/* the bound, DATETIME(6) text */
	long long	settled;	/* succeeded rows up to lo */
};

/* One statement of the counter. Its ? are, in order: hi (when not NULL),
 * the queue, lo, after_id; or none. Gets two numbers and a text. */
static int
done_query(MYSQL *m, const char *sql, const struct done_count *d,
    const char *hi, const char *lo, long long *v, char *text)
{
	MYSQL_BIND pb[4], rb[3];
	unsigned long len[4], blen = 0, alen = UUID_LEN;
	my_bool isnull[3] = { 0, 0, 0 };
	MYSQL_STMT *st;
	char b[32] = "";
	unsigned np = 0;
	int ret = -1;

	if ((st = mysql_stmt_init(m)) == NULL) {
		warnx("mysql: out of memory");
		return -1;
	}
	if (mysql_stmt_prepare(st, sql, (unsigned long)-1) != 0)
		goto fail;
	memset(pb, 0, sizeof(pb));
	if (mysql_stmt_param_count(st) > 0) {
		if (hi != NULL) {
			len[np] = strlen(hi);
			pb[np].buffer_type = MYSQL_TYPE_STRING;
			pb[np].buffer = (char *)(uintptr_t)hi;
			pb[np].length = &len[np];
			np++;
		}
		len[np] = strlen(d->queue);
		pb[np].buffer_type = MYSQL_TYPE_STRING;
		pb[np].buffer = (char *)(uintptr_t)d->queue;
		pb[np].length = &len[np];
		np++;
		len[np] = strlen(lo);
		pb[np].buffer_type = MYSQL_TYPE_STRING;
		pb[np].buffer = (char *)(uintptr_t)lo;
		pb[np].length = &len[np];
		np++;
		pb[np].buffer_type = MYSQL_TYPE_BLOB;
		pb[np].buffer = after_id;
		pb[np].length = &alen;
		np++;
		if (mysql_stmt_param_count(st) != np) {
			warnx("mysql \"%.60s\": %lu parameters", sql,
			    mysql_stmt_param_count(st));
			goto done;
		}
		if (mysql_stmt_bind_param(st, pb) != 0)
			goto fail;
	}
	memset(rb, 0, sizeof(rb));
	rb[0].buffer_type = MYSQL_TYPE_LONGLONG;
	rb[0].buffer = &v[0];
	rb[0].is_null = &isnull[0];
	rb[1].buffer_type = MYSQL_TYPE_LONGLONG;
	rb[1].buffer = &v[1];
	rb[1].is_null = &isnull[1];
	rb[2].buffer_type = MYSQL_TYPE_STRING;
	rb[2].buffer = b;
	rb[2].buffer_length = sizeof(b) - 1;
	rb[2].length = &blen;
	rb[2].is_null = &isnull[2];
	if (mysql_stmt_execute(st) != 0 || mysql_stmt_bind_result(st, rb) != 0 ||
	    mysql_stmt_fetch(st) != 0)
		goto fail;
	if (isnull[0])
		v[0] = 0;
	if (isnull[1])
		v[1] = 0;
	if (text != NULL) {
		if (isnull[2] || blen >= sizeof(b)) {
			warnx("mysql \"%.60s\": no time", sql);
			goto done;
		}
		b[blen] = '\0';
		snprintf(text, 32, "%s", b);
	}
	ret = 0;
	goto done;
fail:
	warnx("mysql \"%.60s\": %s", sql, mysql_stmt_error(st));
done:
	mysql_stmt_close(st);
	return ret;
}

#define DONE_RANGE "FROM tasks WHERE state = 'succeeded' AND queue = ? " \
	"AND finished_at > ? AND id > ?"

/* Starts the count half a minute back, before any row of the run. */
static int
done_init(MYSQL *m, struct done_count *d)
{
	const char *q = getenv("TQ_QUEUE");
	long long v[2];

	memset(d, 0, sizeof(*d));
	snprintf(d->queue, sizeof(d->queue), "%s", q && *q ? q : "default");
	if (done_query(m, "SELECT 0, 0, CAST(NOW(6) - INTERVAL 30 SECOND AS "
	    "CHAR)", d, NULL, NULL, v, d->lo) == -1)
		return -1;
	snprintf(d->start, sizeof(d->start), "%s", d->lo);
	return 0;
}

static int
task_done(MYSQL *m, struct done_count *d, long long *ok)
{
	long long v[2];
	char hi[32];

	if (done_query(m, "SELECT 0, 0, CAST(NOW(6) - INTERVAL 500000 "
	    "MICROSECOND AS CHAR)", d, NULL, NULL, v, hi) == -1 ||
	    done_query(m, "SELECT CAST(IFNULL(SUM(finished_at <= ?), 0) AS "
	    "SIGNED), COUNT(*), NULL " DONE_RANGE, d, hi, d->lo, v, NULL) == -1)
		return -1;
	*ok = d->settled + v[1];
	if (strcmp(hi, d->lo) > 0) {
		d->settled += v[0];
		snprintf(d->lo, sizeof(d->lo), "%s", hi);
	}
	return 0;
}

/* Counts the settled rows afresh, from the start of the run to lo. */
static int
done_resync(MYSQL *m, struct done_count *d)
{
	long long v[2];

	if (done_query(m, "SELECT CAST(IFNULL(SUM(finished_at <= ?), 0) AS "
	    "SIGNED), 0, NULL " DONE_RANGE, d, d->lo, d->start, v, NULL) == -1)
		return -1;
	d->settled = v[0];
	return 0;
}

/* The span of the rows, from the earliest of col0 to the latest of col1,
 * in seconds by the database clock. */
static double
db_span(MYSQL *m, const char *col0, const char *col1)
{
	char sql[256];
	long long us;

	snprintf(sql, sizeof(sql), "SELECT TIMESTAMPDIFF(MICROSECOND, "
	    "MIN(%s), MAX(%s)) FROM tasks WHERE id > ?", col0, col1);
	if (my_rows(m, sql, &us, 1, NULL, NULL) == -1 || us <= 0)
		return -1;
	return (double)us / 1e6;
}

/* What the rows say about the run: states, runs, re-executions. */
static json_t *
rows_json(MYSQL *m)
{
	long long v[4] = { -1, -1, -1, -1 };

	(void)my_rows(m, "SELECT COUNT(*),"
	    " CAST(IFNULL(SUM(state = 'succeeded'), 0) AS SIGNED),"
	    " CAST(IFNULL(SUM(state IN ('failed', 'cancelled')), 0) AS SIGNED),"
	    " (SELECT COUNT(*) FROM task_runs WHERE task_id > ?)"
	    " FROM tasks WHERE id > ?", v, 4, NULL, NULL);
	return json_pack("{s:I, s:I, s:I, s:I}", "rows", (json_int_t)v[0],
	    "succeeded", (json_int_t)v[1], "failed", (json_int_t)v[2],
	    "runs", (json_int_t)v[3]);
}

/* Polls every 100 ms until n tasks succeeded. Returns the monotonic time
 * it saw them, or -1 (stalled for stall_s, a child failed, an error).
 * child: a running `tq submit` to reap on the way (*child_ns set when it
 * exits; 0 when none). */
static int64_t
wait_done(MYSQL *m, long long n, int stall_s, pid_t child, int64_t *child_ns,
    int *child_status)
{
	struct done_count d;
	long long ok = 0, last = -1;
	int64_t tick = mono_ns(), seen = tick, done = -1;
	int resynced = 0;
	pid_t r;

	if (done_init(m, &d) == -1)
		return -1;
	for (;;) {
		if (child > 0 && *child_ns == 0) {
			r = waitpid(child, child_status, WNOHANG);
			if (r == child) {
				*child_ns = mono_ns();
				if (!WIFEXITED(*child_status) ||
				    WEXITSTATUS(*child_status) != 0) {
					warnx("tq submit failed (status 0x%x)",
					    *child_status);
					return -1;
				}
			} else if (r == -1) {
				warnx("waitpid: %s", strerror(errno));
				return -1;
			}
		}
		if (done < 0) {
			if (task_done(m, &d, &ok) == -1)
				return -1;
			if (ok >= n)
				done = mono_ns();
		}
		if (done >= 0 && (child <= 0 || *child_ns != 0))
			return done;
		if (ok != last) {
			last = ok;
			seen = mono_ns();
			resynced = 0;
		} else if (!resynced && mono_ns() - seen > 1000000000LL) {
			/* Still for a second: count what settled afresh, in
			 * case a row committed after the bound passed it. */
			if (done_resync(m, &d) == -1)
				return -1;
			resynced = 1;
		} else if (mono_ns() - seen > (int64_t)stall_s * 1000000000LL) {
			warnx("stalled: %lld of %lld tasks succeeded, none in "
			    "the last %d s", ok, n, stall_s);
			return -1;
		}
		tick += POLL_NS;
		sleep_until(tick);
	}
}

static pid_t
spawn_submit(const char *tq, const char *file, const char *name,
    const char *ids)
{
	char *argv[6];
	pid_t pid;
	int fd;

	argv[0] = (char *)(uintptr_t)tq;
	argv[1] = (char *)(uintptr_t)"submit";
	argv[2] = (char *)(uintptr_t)"--from";
	argv[3] = (char *)(uintptr_t)file;
	argv[4] = (char *)(uintptr_t)name;
	argv[5] = NULL;
	if ((pid = fork()) == -1) {
		warnx("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		fd = open(ids ? ids : "/dev/null", O_WRONLY | O_CREAT |
		    O_TRUNC, 0644);
		if (fd == -1 || dup2(fd, 1) == -1)
			_exit(127);
		close(fd);
		execv(tq, argv);
		fprintf(stderr, "tq-bench: %s: %s\n", tq, strerror(errno));
		_exit(127);
	}
	return pid;
}

/*
 * The producer of tq submit --from (client_bulk, batches of 5000), in a
 * child of ours, for tasks that each carry a limit key: lkey alone, or
 * lkey followed by the line's number modulo lmod ("cust:" 1000 gives
 * cust:0 .. cust:999). Without lkey it submits as tq submit --from does,
 * the baseline of the same producer.
 */
#define LIB_BATCH	5000

static int
lib_submit(const char *file, const char *name, const char *lkey,
    long long lmod)
{
	struct buf lines = BUF_INIT;
	struct client c;
	struct client_bulk *b;
	struct task_new *t = NULL;
	char (*keys)[TASK_LIMIT_KEY_MAX + 1] = NULL;
	unsigned qm, qb, qc, qt, qp;
	size_t n = 0, i, k, published;
	char *p, *e;

	memset(&c, 0, sizeof(c));
	if (read_file(file, SIZE_MAX, &lines) == -1) {
		warnx("%s: %s", file, strerror(errno));
		return -1;
	}
	for (p = lines.data; p && p < lines.data + lines.len; p = e + 1) {
		if ((e = memchr(p, '\n', lines.data + lines.len - p)) == NULL)
			e = lines.data + lines.len;
		n++;
	}
	if (n == 0 || (t = calloc(n, sizeof(*t))) == NULL ||
	    (lkey && (keys = calloc(n, sizeof(*keys))) == NULL)) {
		warnx("%s: no lines, or out of memory", file);
		goto fail;
	}
	config_queue(&cfg, cfg.queue, &qm, &qb, &qc, &qt, &qp);
	i = 0;
	for (p = lines.data; p < lines.data + lines.len; p = e + 1) {
		if ((e = memchr(p, '\n', lines.data + lines.len - p)) == NULL)
			e = lines.data + lines.len;
		t[i].queue = cfg.queue;
		t[i].name = name;
		t[i].payload = p;
		t[i].len = (size_t)(e - p);
		t[i].max_attempts = qm;
		t[i].backoff_base_ms = qb;
		t[i].backoff_cap_ms = qc;
		t[i].timeout_ms = qt;
		t[i].priority = qp;
		if (lkey) {
			if (lmod > 0)
				snprintf(keys[i], sizeof(*keys), "%s%lld",
				    lkey, (long long)i % lmod);
			else
				strlcpy(keys[i], lkey, sizeof(*keys));
			t[i].limit_key = keys[i];
		}
		i++;
	}
	if (client_init(&c, &cfg) == -1 || client_store(&c) == -1 ||
	    (b = client_bulk_start(&c)) == NULL) {
		warnx("submit: %s", c.err);
		goto fail;
	}
	for (i = 0; i < n; i += k) {
		k = n - i < LIB_BATCH ? n - i : LIB_BATCH;
		if (client_bulk_submit(b, t + i, k) == -1) {
			warnx("submit: %s", c.err);
			(void)client_bulk_end(b, &published);
			goto fail;
		}
	}
	if (client_bulk_end(b, &published) == -1)
		warnx("submit: %s (the reconciler publishes the rest)", c.err);
	client_close(&c);
	free(keys);
	free(t);
	buf_release(&lines);
	return 0;
fail:
	client_close(&c);
	free(keys);
	free(t);
	buf_release(&lines);
	return -1;
}

static pid_t
spawn_lib_submit(const char *file, const char *name, const char *lkey,
    long long lmod)
{
	pid_t pid;

	if ((pid = fork()) == -1) {
		warnx("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		_exit(lib_submit(file, name, lkey, lmod) == 0 ? 0 : 1);
	}
	return pid;
}

static int
cmd_submit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tq", required_argument, NULL, 't' },
		{ "file", required_argument, NULL, 'f' },
		{ "name", required_argument, NULL, 'N' },
		{ "ids", required_argument, NULL, 'i' },
		{ "wait", no_argument, NULL, 'w' },
		{ "stall", required_argument, NULL, 's' },
		{ "after", required_argument, NULL, 'A' },
		{ "lib", no_argument, NULL, 'l' },
		{ "limit-key", required_argument, NULL, 'L' },
		{ "limit-mod", required_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	const char *tq = NULL, *file = NULL, *name = "tq.echo", *ids = NULL;
	const char *lkey = NULL;
	long long n = 0, stall = 30, lmod = 0;
	int lib = 0;
	int64_t t0, sub_ns = 0, done;
	int ch, wait = 0, status = 0;
	double sub_s, e2e_s;
	json_t *o;
	MYSQL *m;
	pid_t pid;

	while ((ch = getopt_long(argc, argv, "n:", opts, NULL)) != -1)
		switch (ch) {
		case 't':
			tq = optarg;
			break;
		case 'f':
			file = optarg;
			break;
		case 'N':
			name = optarg;
			break;
		case 'i':
			ids = optarg;
			break;
		case 'w':
			wait = 1;
			break;
		case 'n':
			if (num_opt("-n", optarg, 1, 100000000, &n) == -1)
				return 2;
			break;
		case 's':
			if (num_opt("--stall", optarg, 1, 3600, &stall) == -1)
				return 2;
			break;
		case 'A':
			if (after_opt(optarg) == -1)
				return 2;
			break;
		case 'l':
			lib = 1;
			break;
		case 'L':
			lkey = optarg;
			break;
		case 'M':
			if (num_opt("--limit-mod", optarg, 1, 1000000,
			    &lmod) == -1)
				return 2;
			break;
		default:
			return 2;
		}
	if ((tq == NULL && !lib) || file == NULL || n == 0 ||
	    ((lkey || lmod) && !lib) || (lmod && !lkey)) {
		warnx("submit: --tq (or --lib), --file and -n are required; "
		    "--limit-key and --limit-mod go with --lib");
		return 2;
	}
	if (load_config() == -1)
		return 100;
	if ((m = my_open(mysql_u.path)) == NULL)
		return 111;
	t0 = mono_ns();
	pid = lib ? spawn_lib_submit(file, name, lkey, lmod) :
	    spawn_submit(tq, file, name, ids);
	if (pid == -1) {
		mysql_close(m);
		return 1;
	}
	if (wait)
		done = wait_done(m, n, (int)stall, pid, &sub_ns, &status);
	else {
		done = 0;
		if (waitpid(pid, &status, 0) == -1)
			done = -1;
		sub_ns = mono_ns();
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			warnx("tq submit failed (status 0x%x)", status);
			done = -1;
		}
	}
	if (done == -1) {
		if (sub_ns == 0) {
			(void)kill(pid, SIGTERM);
			(void)waitpid(pid, NULL, 0);
		}
		mysql_close(m);
		return 1;
	}
	sub_s = (double)(sub_ns - t0) / 1e9;
	o = json_pack("{s:I, s:f, s:f}", "n", (json_int_t)n, "submit_s", sub_s,
	    "submit_rate", (double)n / sub_s);
	if (o && wait) {
		e2e_s = (double)(done - t0) / 1e9;
		json_object_set_new(o, "e2e_s", json_real(e2e_s));
		json_object_set_new(o, "e2e_rate", json_real((double)n /
		    e2e_s));
		json_object_set_new(o, "db_span_s", json_real(db_span(m,
		    "created_at", "finished_at")));
		json_object_set_new(o, "rows", rows_json(m));
	}
	mysql_close(m);
	return emit(o);
}

static int
cmd_wait(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since-us", required_argument, NULL, 'S' },
		{ "stall", required_argument, NULL, 's' },
		{ "after", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	long long n = 0, since = 0, stall = 30;
	int64_t t0m, t0w, done;
	double s, span;
	MYSQL *m;
	int ch;

	while ((ch = getopt_long(argc, argv, "n:", opts, NULL)) != -1)
		switch (ch) {
		case 'n':
			if (num_opt("-n", optarg, 1, 100000000, &n) == -1)
				return 2;
			break;
		case 'S':
			if (num_opt("--since-us", optarg, 1, INT64_MAX,
			    &since) == -1)
				return 2;
			break;
		case 's':
			if (num_opt("--stall", optarg, 1, 3600, &stall) == -1)
				return 2;
			break;
		case 'A':
			if (after_opt(optarg) == -1)
				return 2;
			break;
		default:
			return 2;
		}
	if (n == 0 || since == 0) {
		warnx("wait: -n and --since-us are required");
		return 2;
	}
	/* Both clocks now: the start is a wall time, the rest monotonic. */
	t0m = mono_ns();
	t0w = wall_us();
	if (load_config() == -1)
		return 100;
	if ((m = my_open(mysql_u.path)) == NULL)
		return 111;
	if ((done = wait_done(m, n, (int)stall, 0, NULL, NULL)) == -1) {
		mysql_close(m);
		return 1;
	}
	s = (double)(t0w - since) / 1e6 + (double)(done - t0m) / 1e9;
	span = db_span(m, "started_at", "finished_at");
	ch = emit(json_pack("{s:I, s:f, s:f, s:f, s:f, s:o}", "n",
	    (json_int_t)n, "s", s, "rate", (double)n / s, "db_span_s", span,
	    "db_rate", span > 0 ? (double)n / span : 0.0, "rows",
	    rows_json(m)));
	mysql_close(m);
	return ch;
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[n], microseconds to ms. */
static double
pct_ms(const long long *v, size_t n, unsigned p)
{
	size_t k;

	if (n == 0)
		return -1;
	k = (p * n + 99) / 100;
	return (double)v[k ? k - 1 : 0] / 1000.0;
}

static json_t *
pcts_json(long long *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_ll);
	return json_pack("{s:f, s:f, s:f, s:f}", "p50", pct_ms(v, n, 50),
	    "p90", pct_ms(v, n, 90), "p99", pct_ms(v, n, 99), "max",
	    n ? (double)v[n - 1] / 1000.0 : -1.0);
}

/* The latency stage's submitters: thread k submits tasks k, k + T, ...,
 * each at its own time t0 + i / rate (an open loop: a slow submit does not
 * push the schedule back, the next thread takes the next task on time). */
struct submitter {
	pthread_t	 th;
	size_t		 k;
	struct client	 cl;
	size_t		 unpublished;
	int64_t		 maxlag;
	int		 failed;
};

static struct {
	const char	*name;
	long long	 rate;
	size_t		 n, nthr;
	long long	*call;		/* [n]: client_submit, microseconds */
	int64_t		 t0;
	pthread_barrier_t ready, go;
	pthread_mutex_t	 idmu;		/* uuid_v7 keeps process state */
} L = { .idmu = PTHREAD_MUTEX_INITIALIZER };

static void *
submitter(void *arg)
{
	struct submitter *s = arg;
	struct task_new t;
	char payload[PAYLOAD_BYTES], head[32];
	size_t i, published;
	int64_t target, c0;
	int r, hlen;

	s->failed = 1;
	if (client_init(&s->cl, &cfg) == -1)
		warnx("%s", s->cl.err);
	else if (client_store(&s->cl) == -1 || client_broker(&s->cl) == -1)
		warnx("%s", s->cl.err);
	else if (broker_declare(s->cl.broker, cfg.queue) == -1)
		warnx("%s", broker_errstr(s->cl.broker));
	else
		s->failed = 0;
	(void)pthread_barrier_wait(&L.ready);
	(void)pthread_barrier_wait(&L.go);
	memset(&t, 0, sizeof(t));
	t.queue = cfg.queue;
	t.name = L.name;
	t.max_attempts = (unsigned)cfg.max_attempts;
	t.backoff_base_ms = (unsigned)cfg.backoff_base_ms;
	t.backoff_cap_ms = (unsigned)cfg.backoff_cap_ms;
	t.payload = payload;
	t.len = PAYLOAD_BYTES;
	for (i = s->k; !s->failed && i < L.n; i += L.nthr) {
		target = L.t0 + (int64_t)i * 1000000000LL / L.rate;
		sleep_until(target);
		c0 = mono_ns();
		if (c0 - target > s->maxlag)
			s->maxlag = c0 - target;
		/* 64 distinct bytes */
		memset(payload, 'x', PAYLOAD_BYTES);
		hlen = snprintf(head, sizeof(head), "lat-%010u-", (unsigned)i);
		memcpy(payload, head, (size_t)hlen);
		pthread_mutex_lock(&L.idmu);
		r = uuid_v7(&t.id);
		pthread_mutex_unlock(&L.idmu);
		if (r == -1 || client_submit(&s->cl, &t, 1, &published) ==
		    -1) {
			warnx("submit %zu: %s", i, r == -1 ? "uuid_v7 failed" :
			    s->cl.err);
			s->failed = 1;
			break;
		}
		L.call[i] = (mono_ns() - c0) / 1000;
		if (published < 1)
			s->unpublished++;
	}
	client_close(&s->cl);
	return NULL;
}

/* The latency stage's rows: created -> started, created -> finished. */
struct lat_rows {
	long long	*start, *done;
	size_t		 k, max;
};

static int
lat_row(void *arg, const long long *v)
{
	struct lat_rows *lt = arg;

	if (v[0] < 0 || v[1] < 0 || lt->k >= lt->max)
		return 0;
	lt->start[lt->k] = v[0];
	lt->done[lt->k] = v[1];
	lt->k++;
	return 0;
}

static int
cmd_latency(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rate", required_argument, NULL, 'r' },
		{ "secs", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "name", required_argument, NULL, 'N' },
		{ "after", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	long long rate = 500, secs = 10, nthr = 4;
	long long *start = NULL, *done = NULL;
	struct submitter *sub = NULL;
	size_t i, unpublished = 0, k = 0;
	int64_t maxlag = 0;
	struct lat_rows lt = { NULL, NULL, 0, 0 };
	double sub_s;
	MYSQL *m = NULL;
	int ch, ret = 1, failed = 0;

	L.name = "tq.echo";
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		switch (ch) {
		case 'r':
			if (num_opt("--rate", optarg, 1, 100000, &rate) == -1)
				return 2;
			break;
		case 's':
			if (num_opt("--secs", optarg, 1, 3600, &secs) == -1)
				return 2;
			break;
		case 't':
			if (num_opt("--threads", optarg, 1, 64, &nthr) == -1)
				return 2;
			break;
		case 'N':
			L.name = optarg;
			break;
		case 'A':
			if (after_opt(optarg) == -1)
				return 2;
			break;
		default:
			return 2;
		}
	if (load_config() == -1)
		return 100;
	L.rate = rate;
	L.n = (size_t)(rate * secs);
	L.nthr = (size_t)nthr;
	if ((start = calloc(L.n, sizeof(*start))) == NULL ||
	    (done = calloc(L.n, sizeof(*done))) == NULL ||
	    (L.call = calloc(L.n, sizeof(*L.call))) == NULL ||
	    (sub = calloc(L.nthr, sizeof(*sub))) == NULL ||
	    pthread_barrier_init(&L.ready, NULL, (unsigned)nthr + 1) != 0 ||
	    pthread_barrier_init(&L.go, NULL, (unsigned)nthr + 1) != 0) {
		warnx("out of memory");
		goto out;
	}
	/* libmariadb initialises itself once, before the threads. */
	if (mysql_library_init(0, NULL, NULL) != 0) {
		warnx("mysql_library_init failed");
		goto out;
	}
	for (i = 0; i < L.nthr; i++) {
		sub[i].k = i;
		if (pthread_create(&sub[i].th, NULL, submitter, &sub[i]) != 0) {
			warnx("pthread_create failed");
			exit(1);
		}
	}
	/* Every submitter connected and declared before the clock starts. */
	(void)pthread_barrier_wait(&L.ready);
	L.t0 = mono_ns() + 10000000LL;
	(void)pthread_barrier_wait(&L.go);
	for (i = 0; i < L.nthr; i++) {
		(void)pthread_join(sub[i].th, NULL);
		failed |= sub[i].failed;
		unpublished += sub[i].unpublished;
		if (sub[i].maxlag > maxlag)
			maxlag = sub[i].maxlag;
	}
	sub_s = secs_since(L.t0);
	if (failed)
		goto out;
	if (unpublished > 0) {
		/* The broker was away: those waited for the reconciler. */
		warnx("%zu of %zu submits were durable but not published at "
		    "once (broker away?); their latency would be the "
		    "reconciler's grace period", unpublished, L.n);
		goto out;
	}

	if ((m = my_open(mysql_u.path)) == NULL) {
		ret = 111;
		goto out;
	}
	if (wait_done(m, (long long)L.n, 30, 0, NULL, NULL) == -1)
		goto out;
	lt.start = start;
	lt.done = done;
	lt.max = L.n;
	if (my_rows(m, "SELECT TIMESTAMPDIFF(MICROSECOND, created_at, "
	    "started_at), TIMESTAMPDIFF(MICROSECOND, created_at, finished_at) "
	    "FROM tasks WHERE id > ? AND state = 'succeeded'", NULL, 2,
	    lat_row, &lt) == -1)
		goto out;
	k = lt.k;
	if (k != L.n) {
		warnx("%zu rows with times, want %zu", k, L.n);
		goto out;
	}
	ret = emit(json_pack("{s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:I, s:o, "
	    "s:o, s:o, s:o}", "offered_rate", (json_int_t)rate, "secs",
	    (json_int_t)secs, "threads", (json_int_t)nthr, "n",
	    (json_int_t)L.n, "submit_s", sub_s, "achieved_rate",
	    (double)L.n / sub_s, "max_lag_ms", (double)maxlag / 1e6,
	    "unpublished", (json_int_t)unpublished,
	    "submit_to_start_ms", pcts_json(start, k),
	    "submit_to_done_ms", pcts_json(done, k),
	    "submit_call_ms", pcts_json(L.call, L.n),
	    "rows", rows_json(m)));
out:
	if (m)
		mysql_close(m);
	free(start);
	free(done);
	free(L.call);
	free(sub);
	return ret;
}

/* ------------------------------------------------------------ costs */

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* {n, median_ms, min_ms, max_ms, runs_ms: [...]} of ms[n], in the order
 * measured. */
static json_t *
times_json(const double *ms, size_t n)
{
	json_t *o, *runs;
	double *v;
	size_t i;

	if ((v = calloc(n, sizeof(*v))) == NULL ||
	    (runs = json_array()) == NULL) {
		free(v);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		v[i] = ms[i];
		json_array_append_new(runs, json_real(ms[i]));
	}
	qsort(v, n, sizeof(*v), cmp_dbl);
	o = json_pack("{s:I, s:f, s:f, s:f, s:o}", "n", (json_int_t)n,
	    "median_ms", n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2,
	    "min_ms", v[0], "max_ms", v[n - 1], "runs_ms", runs);
	free(v);
	return o;
}

/* One GET /metrics from addr; the body's length and the sum of the
 * samples of metric (-1: none) in *bytes and *sum. 0, or -1. */
static int
scrape_one(const struct sockaddr_in *addr, const char *metric, size_t *bytes,
    double *sum)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	struct timeval tv = { 10, 0 };
	char *resp = NULL, *tmp, *line, *body;
	size_t len = 0, cap = 0, ml = strlen(metric);
	ssize_t r;
	int fd, ret = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		warnx("socket: %s", strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == -1 ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1) {
		warnx("scrape: %s", strerror(errno));
		goto fail;
	}
	for (;;) {
		if (cap - len < 4096) {
			if ((tmp = realloc(resp, cap + 65536)) == NULL) {
				warnx("out of memory");
				goto fail;
			}
			resp = tmp;
			cap += 65536;
		}
		if ((r = read(fd, resp + len, cap - len - 1)) == -1) {
			warnx("scrape: read: %s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	resp[len] = '\0';
	if (strncmp(resp, "HTTP/1.", 7) != 0 || strncmp(resp + 8, " 200", 4)) {
		warnx("scrape: answered \"%.40s\"", resp);
		goto fail;
	}
	body = strstr(resp, "\r\n\r\n");
	*bytes = body ? len - (size_t)(body + 4 - resp) : 0;
	*sum = -1;
	for (line = strtok(body ? body + 4 : resp, "\n"); line != NULL;
	    line = strtok(NULL, "\n"))
		if (strncmp(line, metric, ml) == 0 && (line[ml] == '{' ||
		    line[ml] == ' ') && (tmp = strrchr(line, ' ')) != NULL)
			*sum = (*sum < 0 ? 0 : *sum) + strtod(tmp + 1, NULL);
	ret = 0;
fail:
	free(resp);
	close(fd);
	return ret;
}

static int
cmd_scrape(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "metric", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	const char *addr = NULL, *metric = "tq_retention_deleted_total";
	struct sockaddr_in sa;
	char host[64], *colon;
	long long n = 10, port;
	double *ms, sum = -1;
	size_t bytes = 0, i;
	int64_t t0;
	json_t *o;
	int ch;

	while ((ch = getopt_long(argc, argv, "n:", opts, NULL)) != -1)
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'm':
			metric = optarg;
			break;
		case 'n':
			if (num_opt("-n", optarg, 1, 1000, &n) == -1)
				return 2;
			break;
		default:
			return 2;
		}
	if (addr == NULL) {
		warnx("scrape: --addr HOST:PORT is required");
		return 2;
	}
	snprintf(host, sizeof(host), "%s", addr);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if ((colon = strrchr(host, ':')) == NULL ||
	    (*colon = '\0', inet_pton(AF_INET, host, &sa.sin_addr)) != 1) {
		warnx("--addr: \"%s\" is not IPV4:PORT", addr);
		return 2;
	}
	if (num_opt("--addr", colon + 1, 1, 65535, &port) == -1)
		return 2;
	sa.sin_port = htons((uint16_t)port);
	if ((ms = calloc((size_t)n, sizeof(*ms))) == NULL) {
		warnx("out of memory");
		return 1;
	}
	for (i = 0; i < (size_t)n; i++) {
		t0 = mono_ns();
		if (scrape_one(&sa, metric, &bytes, &sum) == -1) {
			free(ms);
			return 1;
		}
		ms[i] = (double)(mono_ns() - t0) / 1e6;
	}
	o = times_json(ms, (size_t)n);
	free(ms);
	if (o != NULL) {
		json_object_set_new(o, "bytes", json_integer((json_int_t)bytes));
		json_object_set_new(o, "metric", json_string(metric));
		json_object_set_new(o, "metric_sum", json_real(sum));
	}
	return emit(o);
}

/* Runs argv with stdout to /dev/null; its wall time in *ms. 0 when it
 * exited 0, or -1. */
static int
time_one(char **argv, double *ms)
{
	int64_t t0 = mono_ns();
	pid_t pid;
	int st, fd;

	if ((pid = fork()) == -1) {
		warnx("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if ((fd = open("/dev/null", O_WRONLY)) == -1 ||
		    dup2(fd, 1) == -1)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) == -1) {
		warnx("waitpid: %s", strerror(errno));
		return -1;
	}
	*ms = (double)(mono_ns() - t0) / 1e6;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		warnx("\"%s\" failed (status 0x%x)", argv[0], st);
		return -1;
	}
	return 0;
}

static int
cmd_time(int argc, char **argv)
{
	long long n = 5;
	double *ms;
	size_t i;
	json_t *o;
	int ch;

	while ((ch = getopt(argc, argv, "+n:")) != -1)
		switch (ch) {
		case 'n':
			if (num_opt("-n", optarg, 1, 1000, &n) == -1)
				return 2;
			break;
		default:
			return 2;
		}
	if (optind >= argc || argv[optind][0] != '/') {
		warnx("time: [-n N] [--] /PATH/TO/COMMAND [ARGS]");
		return 2;
	}
	if ((ms = calloc((size_t)n, sizeof(*ms))) == NULL) {
		warnx("out of memory");
		return 1;
	}
	for (i = 0; i < (size_t)n; i++)
		if (time_one(argv + optind, &ms[i]) == -1) {
			free(ms);
			return 1;
		}
	o = times_json(ms, (size_t)n);
	free(ms);
	return emit(o);
}

/* ------------------------------------------------------------ report */

static json_t *
load(const char *dir, const char *name)
{
	char path[4096];
	json_error_t e;

	snprintf(path, sizeof(path), "%s/%s.json", dir, name);
	if (access(path, R_OK) == -1)
		return NULL;
	return json_load_file(path, 0, &e);
}

static double
num(json_t *o, const char *path)
{
	char key[128], *dot;
	json_t *v = o;
	const char *p = path;

	while (v && *p) {
		snprintf(key, sizeof(key), "%s", p);
		if ((dot = strchr(key, '.')) != NULL)
			*dot = '\0';
		v = json_object_get(v, key);
		p += strlen(key);
		if (*p == '.')
			p++;
	}
	return v && json_is_number(v) ? json_number_value(v) : -1;
}

/* 12345.6 -> "12,346"; under 100 with one decimal. */
static const char *
fmt_n(double v, char *buf, size_t sz)
{
	char tmp[64], *o = buf;
	size_t len, i;

	if (v < 0)
		return "n/a";
	if (v < 100) {
		snprintf(buf, sz, "%.1f", v);
		return buf;
	}
	snprintf(tmp, sizeof(tmp), "%.0f", v);
	len = strlen(tmp);
	for (i = 0; i < len && (size_t)(o - buf) + 2 < sz; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			*o++ = ',';
		*o++ = tmp[i];
	}
	*o = '\0';
	return buf;
}

struct report {
	json_t	*rows;
	json_t	*st;		/* stage name -> its JSON */
	json_t	*fl;		/* names of the stages that failed */
	json_t	*meta;
	double	 broker, db;	/* the limits tq's rates are compared to */
};

/* The figure of a stage without results. */
static const char *
absent(const struct report *r, const char *stage)
{
	size_t i;

	for (i = 0; i < json_array_size(r->fl); i++)
		if (strcmp(json_string_value(json_array_get(r->fl, i)),
		    stage) == 0)
			return "FAILED";
	return "not run";
}

/* One line: what, figure (text), and for rates the two fractions. */
static void
line(struct report *r, const char *section, const char *what,
    const char *figure, double value, const char *unit, int ratios)
{
	char bro[32] = "", dbr[32] = "";
	json_t *row;

	if (ratios && value > 0 && r->broker > 0)
		snprintf(bro, sizeof(bro), "%.2f", value / r->broker);
	if (ratios && value > 0 && r->db > 0)
		snprintf(dbr, sizeof(dbr), "%.2f", value / r->db);
	printf("  %-52s %20s  %-9s %9s %9s\n", what, figure, unit, bro, dbr);
	row = json_pack("{s:s, s:s, s:s, s:s}", "section", section, "what",
	    what, "figure", figure, "unit", unit);
	if (row == NULL)
		return;
	if (value >= 0)
		json_object_set_new(row, "value", json_real(value));
	if (bro[0])
		json_object_set_new(row, "of_broker_publish",
		    json_real(value / r->broker));
	if (dbr[0])
		json_object_set_new(row, "of_db_commits_8",
		    json_real(value / r->db));
	json_array_append_new(r->rows, row);
}

static void
rate_line(struct report *r, const char *section, const char *what,
    const char *stage, const char *key, const char *unit, int ratios)
{
	json_t *o = json_object_get(r->st, stage);
	char buf[64];
	double v = o ? num(o, key) : -1;

	line(r, section, what, o ? fmt_n(v, buf, sizeof(buf)) :
	    absent(r, stage), v, unit, ratios);
}

static void
pct_line(struct report *r, const char *what, const char *stage,
    const char *key)
{
	static const char *const names[3] = { "p50", "p90", "p99" };
	json_t *o = json_object_get(r->st, stage);
	char fig[96], k[64];
	double p[3];
	int i;

	for (i = 0; i < 3; i++) {
		snprintf(k, sizeof(k), "%s.%s", key, names[i]);
		p[i] = o ? num(o, k) : -1;
	}
	if (o == NULL)
		snprintf(fig, sizeof(fig), "%s", absent(r, stage));
	else
		snprintf(fig, sizeof(fig), "%.1f / %.1f / %.1f", p[0], p[1],
		    p[2]);
	line(r, "tq", what, fig, p[1], "ms", 0);
}

static void
rss_line(struct report *r, const char *what, const char *who)
{
	json_t *o = json_object_get(r->st, "rss");
	char fig[96], k[64], rk[64], b1[32], b2[32];

	snprintf(k, sizeof(k), "%s_pss_kb", who);
	snprintf(rk, sizeof(rk), "%s_kb", who);
	if (o)
		snprintf(fig, sizeof(fig), "%s (PSS %s)", fmt_n(num(o, rk), b1,
		    sizeof(b1)), fmt_n(num(o, k), b2, sizeof(b2)));
	line(r, "tq", what, o ? fig : absent(r, "rss"), num(o, rk), "kB", 0);
}

/* Private memory, from smaps_rollup's Anonymous: what a process costs
 * the machine beyond the library pages every process shares. */
static void
anon_line(struct report *r, const char *what, const char *who)
{
	json_t *o = json_object_get(r->st, "rss");
	char fig[32], k[64];

	snprintf(k, sizeof(k), "%s_anon_kb", who);
	line(r, "tq", what, o ? fmt_n(num(o, k), fig, sizeof(fig)) :
	    absent(r, "rss"), num(o, k), "kB", 0);
}

static void
scale_lines(struct report *r)
{
	json_t *sw = json_object_get(r->meta, "scale_workers"), *o;
	char what[128], fig[96], buf[64], name[32];
	double v, v1 = -1;
	size_t i;
	int w;

	for (i = 0; i < json_array_size(sw); i++) {
		w = (int)json_integer_value(json_array_get(sw, i));
		snprintf(name, sizeof(name), "scale-%d", w);
		o = json_object_get(r->st, name);
		v = o ? num(o, "rate") : -1;
		if (i == 0)
			v1 = v;
		snprintf(what, sizeof(what), "scaling: drain, %d worker%s (%s "
		    "tasks)", w, w > 1 ? "s" : "", fmt_n(num(r->meta,
		    "scale_n"), buf, sizeof(buf)));
		if (o && v1 > 0 && i > 0)
			snprintf(fig, sizeof(fig), "(x%.2f) %s", v / v1,
			    fmt_n(v, buf, sizeof(buf)));
		else
			snprintf(fig, sizeof(fig), "%s", o ? fmt_n(v, buf,
			    sizeof(buf)) : absent(r, name));
		line(r, "tq", what, fig, v, "tasks/s", 1);
	}
}

static json_t *
lines_file(const char *dir, const char *name)
{
	char path[4096], buf[256];
	json_t *a = json_array();
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "r")) == NULL)
		return a;
	while (fgets(buf, sizeof(buf), fp) != NULL) {
		buf[strcspn(buf, "\n")] = '\0';
		json_array_append_new(a, json_string(buf));
	}
	fclose(fp);
	return a;
}

/* One figure of the history stage: on the empty table, on the loaded
 * one, and their ratio (two of each for a pair such as p50 / p99). */
static void
hist_line(struct report *r, const char *what, const char *stage,
    const char *key, const char *key2, const char *unit)
{
	json_t *e, *l, *row;
	char se[32], sl[32], fe[64], fl[64], fr[64], st[64];
	double ve[2], vl[2];
	int i, np = key2 ? 2 : 1;

	snprintf(se, sizeof(se), "history-empty-%s", stage);
	snprintf(sl, sizeof(sl), "history-loaded-%s", stage);
	e = json_object_get(r->st, se);
	l = json_object_get(r->st, sl);
	for (i = 0; i < np; i++) {
		ve[i] = e ? num(e, i ? key2 : key) : -1;
		vl[i] = l ? num(l, i ? key2 : key) : -1;
	}
	snprintf(st, sizeof(st), "history");
	if (e == NULL)
		snprintf(fe, sizeof(fe), "%s", absent(r, st));
	else if (np == 2)
		snprintf(fe, sizeof(fe), "%.1f / %.1f", ve[0], ve[1]);
	else
		fmt_n(ve[0], fe, sizeof(fe));
	if (l == NULL)
		snprintf(fl, sizeof(fl), "%s", absent(r, st));
	else if (np == 2)
		snprintf(fl, sizeof(fl), "%.1f / %.1f", vl[0], vl[1]);
	else
		fmt_n(vl[0], fl, sizeof(fl));
	fr[0] = '\0';
	if (e && l && ve[0] > 0 && vl[0] >= 0 && (np == 1 || ve[1] > 0)) {
		if (np == 2)
			snprintf(fr, sizeof(fr), "%.2f / %.2f", vl[0] / ve[0],
			    vl[1] / ve[1]);
		else
			snprintf(fr, sizeof(fr), "%.2f", vl[0] / ve[0]);
	}
	printf("  %-36s %15s %17s %13s  %s\n", what, fe, fl, fr, unit);
	row = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "section", "history",
	    "what", what, "empty", fe, "loaded", fl, "ratio", fr, "unit",
	    unit);
	if (row == NULL)
		return;
	if (e && l && ve[0] >= 0 && vl[0] >= 0) {
		json_object_set_new(row, "empty_value", json_real(ve[0]));
		json_object_set_new(row, "loaded_value", json_real(vl[0]));
		if (np == 2) {
			json_object_set_new(row, "empty_value2",
			    json_real(ve[1]));
			json_object_set_new(row, "loaded_value2",
			    json_real(vl[1]));
		}
	}
	json_array_append_new(r->rows, row);
}

static void
history_lines(struct report *r)
{
	json_t *ld = json_object_get(r->st, "history-load");
	char b1[32], b2[32], b3[32], what[64];

	if (ld == NULL && json_object_get(r->st, "history-empty-e2e") == NULL &&
	    strcmp(absent(r, "history"), "FAILED") != 0)
		return;
	if (ld != NULL)
		printf("history: %s finished rows (and %s task_runs) loaded "
		    "in %.1f s: %s tasks/s (%s rows/s with their runs);\n"
		    "  tasks + task_runs %.2f GB by InnoDB, the database "
		    "server's directory %.2f GB\n", fmt_n(num(ld, "rows"), b1,
		    sizeof(b1)), fmt_n(num(ld, "task_runs"), b2, sizeof(b2)),
		    num(ld, "secs"), fmt_n(num(ld, "rate"), b3, sizeof(b3)),
		    fmt_n(num(ld, "rows_rate"), what, sizeof(what)),
		    num(ld, "table_bytes") / 1e9,
		    num(ld, "du_mysql_bytes") / 1e9);
	else
		printf("history: %s\n", absent(r, "history"));
	rate_line(r, "history", "history: load, bulk SQL", "history-load",
	    "rate", "tasks/s", 0);
	snprintf(what, sizeof(what), "%s rows", fmt_n(num(r->meta, "history"),
	    b1, sizeof(b1)));
	printf("  %-36s %15s %17s %13s  %s\n", "", "empty", what, "ratio",
	    "unit");
	hist_line(r, "history: e2e", "e2e", "e2e_rate", NULL, "tasks/s");
	hist_line(r, "history: drain", "drain", "rate", NULL, "tasks/s");
	hist_line(r, "history: latency p50/p99", "latency",
	    "submit_to_done_ms.p50", "submit_to_done_ms.p99",
	    "ms, submit -> done");
	hist_line(r, "history: /metrics scrape ms", "costs",
	    "scrape.median_ms", NULL, "ms, median");
	hist_line(r, "history: tq stats ms", "costs", "stats.median_ms", NULL,
	    "ms, median");
	hist_line(r, "history: idle supervisor, rows read", "costs",
	    "rows_read_per_s", NULL, "rows/s");
}

/* A count: 1,234 or 12. */
static const char *
fmt_i(double v, char *buf, size_t sz)
{
	if (v >= 0 && v < 100) {
		snprintf(buf, sz, "%.0f", v);
		return buf;
	}
	return fmt_n(v, buf, sz);
}

/* One rate of the serve stage, with its ratio to base's (same key). */
static void
serve_line(struct report *r, const char *what, const char *stage,
    const char *base, const char *key)
{
	json_t *o = json_object_get(r->st, stage),
	    *b = base ? json_object_get(r->st, base) : NULL;
	char fig[96], b1[32];
	double v = o ? num(o, key) : -1, bv = b ? num(b, key) : -1;

	if (o == NULL)
		snprintf(fig, sizeof(fig), "%s", absent(r, "serve"));
	else if (bv > 0 && v >= 0)
		snprintf(fig, sizeof(fig), "%s (%.2fx)", fmt_n(v, b1,
		    sizeof(b1)), v / bv);
	else
		fmt_n(v, fig, sizeof(fig));
	line(r, "serve", what, fig, v, "tasks/s", 0);
}

static void
serve_lines(struct report *r)
{
	char what[128], b1[32];

	if (json_object_get(r->st, "serve-echo") == NULL &&
	    strcmp(absent(r, "serve"), "FAILED") != 0)
		return;
	printf("serve: handlers end to end, %d workers (x: of tq.echo); "
	    "producers, no workers (x: of tq submit --from)\n",
	    (int)num(r->meta, "workers"));
	serve_line(r, "serve: built-in tq.echo", "serve-echo", NULL,
	    "e2e_rate");
	serve_line(r, "serve: Python function, served (tq.serve)",
	    "serve-py", "serve-echo", "e2e_rate");
	snprintf(what, sizeof(what), "serve: Python program, exec (%s tasks)",
	    fmt_n(num(r->meta, "serve_exec_n"), b1, sizeof(b1)));
	serve_line(r, what, "serve-pyexec", "serve-echo", "e2e_rate");
	serve_line(r, "serve: producer, tq submit --from", "producer-cli",
	    NULL, "submit_rate");
	serve_line(r, "serve: producer, Python submit_many", "producer-python",
	    "producer-cli", "submit_rate");
}

static void
retention_lines(struct report *r)
{
	json_t *off = json_object_get(r->st, "retention-off"),
	    *on = json_object_get(r->st, "retention-on"),
	    *ld = json_object_get(r->st, "retention-load"), *row;
	char what[128], fig[256], b1[32], b2[32], b3[32], b4[32];
	double a, b;

	if (off == NULL && on == NULL && ld == NULL &&
	    strcmp(absent(r, "retention"), "FAILED") != 0)
		return;
	snprintf(what, sizeof(what), "retention: e2e over %s expired rows, "
	    "off | on", fmt_n(num(r->meta, "retention_backlog"), b1,
	    sizeof(b1)));
	a = off ? num(off, "e2e.e2e_rate") : -1;
	b = on ? num(on, "e2e.e2e_rate") : -1;
	if (off && on && a > 0)
		snprintf(fig, sizeof(fig), "%s | %s | %.2f", fmt_n(a, b1,
		    sizeof(b1)), fmt_n(b, b2, sizeof(b2)), b / a);
	else
		snprintf(fig, sizeof(fig), "%s", absent(r, "retention"));
	line(r, "retention", what, fig, b, "tasks/s", 0);
	if (ld)
		printf("  %-52s %20s  %-9s\n", "  (the backlog loaded at)",
		    fmt_n(num(ld, "rate"), b1, sizeof(b1)), "tasks/s");
	if (on == NULL)
		return;
	snprintf(fig, sizeof(fig), "%s of %s (and %s runs) in %.1f s: %s "
	    "rows/s", fmt_i(num(on, "deleted"), b1, sizeof(b1)),
	    fmt_i(num(on, "backlog_before"), b2, sizeof(b2)),
	    fmt_i(num(on, "runs_deleted"), b3, sizeof(b3)),
	    num(on, "supervisor_s"), fmt_i(num(on, "deleted_rate"), b4,
	    sizeof(b4)));
	printf("  %-52s %s\n", "retention: deleted while the on run ran", fig);
	row = json_pack("{s:s, s:s, s:s, s:f, s:f}", "section", "retention",
	    "what", "retention: deleted while the on run ran", "figure", fig,
	    "value", num(on, "deleted"), "rate", num(on, "deleted_rate"));
	if (row)
		json_array_append_new(r->rows, row);
	a = num(on, "scrape.metric_sum");
	snprintf(fig, sizeof(fig), "%s", a < 0 ? "absent" : fmt_i(a, b1,
	    sizeof(b1)));
	printf("  %-52s %s\n", "  tq_retention_deleted_total (last rendered)",
	    fig);
	if (off)
		printf("  %-52s %s\n", "  deleted in the off run (keep 0)",
		    fmt_i(num(off, "deleted"), b1, sizeof(b1)));
}

/* v with d decimals, or as fmt_n when d < 0. */
static const char *
fmt_d(double v, int d, char *buf, size_t sz)
{
	if (d < 0)
		return fmt_n(v, buf, sz);
	snprintf(buf, sz, "%.*f", d, v);
	return buf;
}

/* A row of three: a baseline (or the target), the figure, their ratio;
 * the figures with d decimals (d < 0: as fmt_n). o: the stage's JSON, or
 * NULL when it did not run. */
static void
trio_line(struct report *r, const char *what, json_t *o, double base,
    double v, int d, const char *unit)
{
	char fig[128], b1[32], b2[32], ratio[16] = "-";

	if (o == NULL) {
		line(r, "limits", what, absent(r, "limits"), -1, unit, 0);
		return;
	}
	if (base > 0 && v >= 0)
		snprintf(ratio, sizeof(ratio), "%.2f", v / base);
	snprintf(fig, sizeof(fig), "%s | %s | %s", fmt_d(base, d, b1,
	    sizeof(b1)), fmt_d(v, d, b2, sizeof(b2)), ratio);
	line(r, "limits", what, fig, v, unit, 0);
}

static void
limits_lines(struct report *r)
{
	json_t *base = json_object_get(r->st, "limits-base"),
	    *keys = json_object_get(r->st, "limits-keys"),
	    *one = json_object_get(r->st, "limits-one"),
	    *conc = json_object_get(r->st, "limits-conc"),
	    *rate = json_object_get(r->st, "limits-rate"),
	    *pause = json_object_get(r->st, "limits-pause");
	char what[128], fig[128], b1[32];
	double a;

	if (!base && !keys && !one && !conc && !rate && !pause &&
	    strcmp(absent(r, "limits"), "FAILED") != 0)
		return;
	printf("flow control (figure: baseline or target | measured | "
	    "ratio)\n");
	a = base ? num(base, "e2e.e2e_rate") : -1;
	snprintf(what, sizeof(what), "e2e %s tasks (best of %zu): no key | "
	    "cust:* (%.0f keys)", fmt_n(base ? num(base, "e2e.n") : -1, b1,
	    sizeof(b1)), base ? json_array_size(json_object_get(base,
	    "rates")) : 0, keys ? num(keys, "keys") : 0);
	trio_line(r, what, base && keys ? keys : NULL, a,
	    keys ? num(keys, "e2e.e2e_rate") : -1, -1, "tasks/s");
	trio_line(r, "e2e: no key | one key, N above the workers",
	    base && one ? one : NULL, a, one ? num(one, "e2e.e2e_rate") : -1,
	    -1, "tasks/s");
	snprintf(what, sizeof(what), "concurrency %.0f, %s tasks, %.0f "
	    "workers, %.0f killed: most running",
	    conc ? num(conc, "limit") : 0, fmt_n(conc ? num(conc, "e2e.n") :
	    -1, b1, sizeof(b1)), conc ? num(conc, "workers") : 0,
	    conc ? num(conc, "kills") : 0);
	trio_line(r, what, conc, conc ? num(conc, "limit") : -1, conc ?
	    num(conc, "max_running") : -1, 0, "runs");
	if (conc) {
		trio_line(r, "  starts that found more than the limit running",
		    conc, 0, num(conc, "starts_over_limit"), 0, "starts");
		snprintf(what, sizeof(what), "  throughput: slots / mean run "
		    "(%.1f ms) | measured", num(conc, "run_ms"));
		trio_line(r, what, conc, num(conc, "limit") * 1000 /
		    num(conc, "run_ms"), num(conc, "e2e.e2e_rate"), -1,
		    "tasks/s");
		snprintf(fig, sizeof(fig), "%.0f runs, %.0f lost, %.0f open",
		    num(conc, "runs"), num(conc, "runs_lost"),
		    num(conc, "runs_open"));
		line(r, "limits", "  runs of the tasks (lost: a killed worker's)",
		    fig, num(conc, "runs"), "runs", 0);
	}
	snprintf(what, sizeof(what), "rate %.0f/s burst 1, over %.0f s: "
	    "start rate", rate ? num(rate, "rate") : 0, rate ?
	    num(rate, "secs") : 0);
	trio_line(r, what, rate, rate ? num(rate, "rate") : -1, rate ?
	    num(rate, "start_rate") : -1, 2, "starts/s");
	if (rate) {
		trio_line(r, "  most starts in 1 s (bound: 1 + R x 0.5 s + R x 1 s)",
		    rate, num(rate, "bound_1s"), num(rate, "max_1s"), 0,
		    "starts");
		trio_line(r, "  the same from the 10th second on", rate,
		    num(rate, "bound_1s"), num(rate, "max_1s_after_10s"), 0,
		    "starts");
		trio_line(r, "  most starts in 200 ms (1 + R x 0.5 s + R x 0.2 s)",
		    rate, num(rate, "bound_200ms"), num(rate, "max_200ms"), 0,
		    "starts");
	}
	trio_line(r, "pause -> last claim (target 1 s)", pause, 1,
	    pause ? num(pause, "pause_to_last_start_s") : -1, 3, "s");
	if (pause)
		trio_line(r, "  claims later than 1 s after the pause", pause,
		    0, num(pause, "starts_after_1s"), 0, "claims");
	trio_line(r, "resume -> first claim (target 1 s)", pause, 1,
	    pause ? num(pause, "resume_to_first_start_s") : -1, 3, "s");
	trio_line(r, "resume -> 100 ms at 0.8 of the rate before (1 s)",
	    pause, 1, pause ? num(pause, "resume_to_rate_s") : -1, 1, "s");
	trio_line(r, "  starts/s: the 1 s before the pause | 1 s after resume",
	    pause, pause ? num(pause, "rate_before") : -1, pause ?
	    num(pause, "rate_after_1s") : -1, -1, "starts/s");
}

static int
cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const stages[] = {
		"meta", "broker-quorum", "broker-classic", "db-1", "db-8",
		"e2e", "drain-submit", "drain", "e2e-quorum",
		"drain-quorum-submit", "drain-quorum", "latency", "rss",
		"history-empty-e2e", "history-empty-drain-submit",
		"history-empty-drain", "history-empty-latency",
		"history-empty-costs", "history-load", "history-loaded-e2e",
		"history-loaded-drain-submit", "history-loaded-drain",
		"history-loaded-latency", "history-loaded-costs",
		"retention-load", "retention-off", "retention-on",
		"serve-echo", "serve-py", "serve-pyexec", "producer-cli",
		"producer-python", "limits-base", "limits-keys", "limits-one",
		"limits-conc", "limits-rate", "limits-pause", NULL,
	};
	const char *dir = NULL, *out = NULL, *started, *qtype;
	struct report r;
	json_t *o, *sw, *top, *retried;
	char what[128], buf[64], name[32];
	size_t i;
	int ch, w;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			return 2;
		}
	if (dir == NULL || out == NULL) {
		warnx("report: --dir and --out are required");
		return 2;
	}
	memset(&r, 0, sizeof(r));
	r.rows = json_array();
	r.st = json_object();
	r.fl = lines_file(dir, "failed.txt");
	retried = lines_file(dir, "retried.txt");
	for (i = 0; stages[i]; i++)
		if ((o = load(dir, stages[i])) != NULL)
			json_object_set_new(r.st, stages[i], o);
	r.meta = json_object_get(r.st, "meta");
	sw = json_object_get(r.meta, "scale_workers");
	for (i = 0; i < json_array_size(sw); i++) {
		snprintf(name, sizeof(name), "scale-%d",
		    (int)json_integer_value(json_array_get(sw, i)));
		snprintf(buf, sizeof(buf), "%s-submit", name);
		if ((o = load(dir, name)) != NULL)
			json_object_set_new(r.st, name, o);
		if ((o = load(dir, buf)) != NULL)
			json_object_set_new(r.st, buf, o);
	}
	/* tq's rates against the queue type tq runs with here. */
	qtype = json_string_value(json_object_get(r.meta, "queue_type"));
	if (qtype == NULL || (strcmp(qtype, "quorum") != 0 &&
	    strcmp(qtype, "classic") != 0))
		qtype = "quorum";
	snprintf(name, sizeof(name), "broker-%s", qtype);
	r.broker = num(json_object_get(r.st, name), "publish_rate");
	r.db = num(json_object_get(r.st, "db-8"), "rate");

	started = json_string_value(json_object_get(r.meta, "started"));
	printf("\ntq bench %s (%s; %.0f CPUs; load average %.2f at the start, "
	    "%.2f at the end; %.0f s)\n", started ? started : "?",
	    json_is_true(json_object_get(r.meta, "quick")) ? "BENCH_QUICK" :
	    "full run", num(r.meta, "cpus"), num(r.meta, "load_start"),
	    num(r.meta, "load_end"), num(r.meta, "duration_s"));
	printf("  %-52s %20s  %-9s %9s %9s\n", "what", "figure", "unit",
	    "of broker", "of db(8)");
	printf("  %.*s\n", 104, "----------------------------------------"
	    "------------------------------------------------------------"
	    "------------------------------");

	printf("limits, measured here (the yardsticks)\n");
	o = json_object_get(r.st, "broker-quorum");
	if (o == NULL)
		o = json_object_get(r.st, "broker-classic");
	snprintf(what, sizeof(what), "broker, quorum: publish+confirm%s",
	    o ? "" : " (tq's message)");
	if (o)
		snprintf(what, sizeof(what), "broker, quorum: publish+confirm "
		    "(%.0f B, window %.0f)", num(o, "msg_bytes"),
		    num(o, "window"));
	rate_line(&r, "limits", what, "broker-quorum", "publish_rate", "msg/s",
	    0);
	snprintf(what, sizeof(what), "broker, quorum: consume+ack");
	if (o)
		snprintf(what, sizeof(what), "broker, quorum: consume+ack "
		    "(prefetch %.0f)", num(o, "prefetch"));
	rate_line(&r, "limits", what, "broker-quorum", "consume_rate", "msg/s",
	    0);
	rate_line(&r, "limits", "broker, classic: publish+confirm",
	    "broker-classic", "publish_rate", "msg/s", 0);
	rate_line(&r, "limits", "broker, classic: consume+ack",
	    "broker-classic", "consume_rate", "msg/s", 0);
	rate_line(&r, "limits", "db: INSERT+COMMIT, 1 connection", "db-1",
	    "rate", "commits/s", 0);
	rate_line(&r, "limits", "db: INSERT+COMMIT, 8 connections", "db-8",
	    "rate", "commits/s", 0);

	printf("tq, measured here\n");
	snprintf(what, sizeof(what), "bulk submit: tq submit --from, %s tasks",
	    fmt_n(num(r.meta, "n"), buf, sizeof(buf)));
	rate_line(&r, "tq", what, "drain-submit", "submit_rate", "tasks/s", 1);
	w = (int)num(r.meta, "workers");
	snprintf(what, sizeof(what), "end to end, %d workers: submit start "
	    "-> all done", w);
	rate_line(&r, "tq", what, "e2e", "e2e_rate", "tasks/s", 1);
	rate_line(&r, "tq", "  (its bulk submit, with the workers running)",
	    "e2e", "submit_rate", "tasks/s", 1);
	snprintf(what, sizeof(what), "drain, %d workers: all queued -> all "
	    "done", w);
	rate_line(&r, "tq", what, "drain", "rate", "tasks/s", 1);
	if (json_object_get(r.st, "e2e-quorum") != NULL ||
	    json_object_get(r.st, "drain-quorum") != NULL) {
		double cl = r.broker;

		/* Against the quorum queue's own publish limit. */
		r.broker = num(json_object_get(r.st, "broker-quorum"),
		    "publish_rate");
		rate_line(&r, "tq", "  on quorum queues: bulk submit",
		    "drain-quorum-submit", "submit_rate", "tasks/s", 1);
		rate_line(&r, "tq", "  on quorum queues: end to end",
		    "e2e-quorum", "e2e_rate", "tasks/s", 1);
		rate_line(&r, "tq", "  on quorum queues: drain",
		    "drain-quorum", "rate", "tasks/s", 1);
		r.broker = cl;
	}
	scale_lines(&r);
	snprintf(what, sizeof(what), "latency: %.0f tasks/s offered for %.0f "
	    "s, one per submit", num(r.meta, "latency_rate"),
	    num(r.meta, "latency_secs"));
	rate_line(&r, "tq", what, "latency", "achieved_rate", "tasks/s", 0);
	pct_line(&r, "  submit -> start     p50 / p90 / p99", "latency",
	    "submit_to_start_ms");
	pct_line(&r, "  submit -> done      p50 / p90 / p99", "latency",
	    "submit_to_done_ms");
	pct_line(&r, "  client_submit call  p50 / p90 / p99", "latency",
	    "submit_call_ms");
	snprintf(what, sizeof(what), "RSS: supervisor with %.0f idle workers",
	    num(r.meta, "rss_workers"));
	rss_line(&r, what, "supervisor");
	anon_line(&r, "  its anonymous memory (target <= 4 MB)", "supervisor");
	rss_line(&r, "RSS: one idle worker", "worker");

	history_lines(&r);
	serve_lines(&r);
	retention_lines(&r);
	limits_lines(&r);

	printf("reference, NOT measured here (figures quoted in the issue)\n");
	line(&r, "reference", "Celery, end to end", "~500", 500, "tasks/s", 0);
	line(&r, "reference", "Gearman", "~1,400", 1400, "jobs/s", 0);
	line(&r, "reference", "bare row-before-message pipeline, batches of "
	    "100", "~14,000", 14000, "tasks/s", 0);
	printf("  of broker: tq's rate / the publish+confirm limit of a %s "
	    "queue, the queue_type tq ran\n  with here (prefetch %.0f, "
	    "batch %.0f). of db(8): tq's rate / the 8-connection commit "
	    "limit.\n  Latencies: by the database clock, from the row's "
	    "created_at (its INSERT).\n", qtype, num(r.meta, "prefetch"),
	    num(r.meta, "batch"));
	for (i = 0; i < json_array_size(r.fl); i++)
		printf("  FAILED: stage %s (twice)\n", json_string_value(
		    json_array_get(r.fl, i)));
	for (i = 0; i < json_array_size(retried); i++)
		printf("  stage %s failed once and passed when retried\n",
		    json_string_value(json_array_get(retried, i)));

	top = json_pack("{s:O, s:o, s:o, s:o, s:o}", "meta", r.meta ? r.meta :
	    json_null(), "table", r.rows, "stages", r.st, "failed", r.fl,
	    "retried", retried);
	if (top == NULL || json_dump_file(top, out, JSON_INDENT(2) |
	    JSON_REAL_PRECISION(6)) == -1) {
		warnx("%s: cannot write", out);
		return 1;
	}
	json_decref(top);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char	*name;
		int		(*fn)(int, char **);
	} cmds[] = {
		{ "broker", cmd_broker }, { "db", cmd_db },
		{ "submit", cmd_submit }, { "wait", cmd_wait },
		{ "latency", cmd_latency }, { "delq", cmd_delq },
		{ "scrape", cmd_scrape }, { "time", cmd_time },
		{ "report", cmd_report },
	};
	size_t i;

	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2)
		for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (strcmp(argv[1], cmds[i].name) == 0)
				return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "usage: tq-bench broker|db|submit|wait|latency|delq|"
	    "scrape|time|report ARGS (see tests/bench/bench.c)\n");
	return 2;
}
