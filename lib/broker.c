/* broker.c: rabbitmq-c, with the sharp edges filed off: confirms are
 * matched to messages, returns are seen, timeouts are errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>

#include "broker.h"
#include "log.h"
#include "util.h"

#define CH	1

struct declared {
	struct declared	*next;
	char		 name[];
};

struct broker {
	amqp_connection_state_t	 conn;
	struct broker_opts	 opts;
	char			 where[300];
	char			 err[TQ_ERRSZ];
	struct declared		*declared;
	int			 confirming;
	uint64_t		 next_seq;	/* of the next publish */
	int			 dead;
};

/* Sets "amqp OP "HOST:PORT": WHAT". */
static int
fail(struct broker *b, const char *op, const char *what)
{
	snprintf(b->err, sizeof(b->err), "amqp %s \"%.200s\": %.200s", op,
	    b->where, what);
	return -1;
}

/* Describes a failed RPC reply; marks the connection dead when the
 * server or the socket closed it. */
static int
rpc_fail(struct broker *b, amqp_rpc_reply_t r, const char *op)
{
	char detail[256];

	switch (r.reply_type) {
	case AMQP_RESPONSE_NONE:
		snprintf(detail, sizeof(detail), "missing reply");
		break;
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		snprintf(detail, sizeof(detail), "%s",
		    amqp_error_string2(r.library_error));
		b->dead = 1;
		break;
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			amqp_connection_close_t *m = r.reply.decoded;

			snprintf(detail, sizeof(detail), "server closed the "
			    "connection: %u %.*s", m->reply_code,
			    (int)m->reply_text.len,
			    (char *)m->reply_text.bytes);
		} else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			amqp_channel_close_t *m = r.reply.decoded;

			snprintf(detail, sizeof(detail), "server closed the "
			    "channel: %u %.*s", m->reply_code,
			    (int)m->reply_text.len,
			    (char *)m->reply_text.bytes);
		} else
			snprintf(detail, sizeof(detail), "server error 0x%08x",
			    r.reply.id);
		/* Either way the channel is gone; start over. */
		b->dead = 1;
		break;
	default:
		return 0;
	}
	snprintf(b->err, sizeof(b->err), "amqp %s \"%.200s\": %.250s", op,
	    b->where, detail);
	return -1;
}

/*
 * An amqps:// socket: TLS 1.2 or later, the peer's certificate checked
 * against ca (or the system's authorities) and its name against the host,
 * unless verification is turned off.
 */
static amqp_socket_t *
tls_socket(struct broker *b, const struct tls_opts *t, char *err,
    size_t errsz)
{
	amqp_socket_t *sock;
	int status;

	if ((sock = amqp_ssl_socket_new(b->conn)) == NULL) {
		snprintf(err, errsz, "amqp connect \"%s\": cannot set up TLS",
		    b->where);
		return NULL;
	}
	amqp_ssl_socket_set_verify_peer(sock, t->verify ? 1 : 0);
	amqp_ssl_socket_set_verify_hostname(sock, t->verify ? 1 : 0);
	if ((status = amqp_ssl_socket_set_ssl_versions(sock, AMQP_TLSv1_2,
	    AMQP_TLSvLATEST)) != AMQP_STATUS_OK) {
		snprintf(err, errsz, "amqp connect \"%s\": TLS versions: %s",
		    b->where, amqp_error_string2(status));
		return NULL;
	}
	if (t->ca && t->ca[0] &&
	    (status = amqp_ssl_socket_set_cacert(sock, t->ca)) !=
	    AMQP_STATUS_OK) {
		snprintf(err, errsz, "amqp_tls_ca \"%s\": %s", t->ca,
		    amqp_error_string2(status));
		return NULL;
	}
	if (t->cert && t->cert[0] &&
	    (status = amqp_ssl_socket_set_key(sock, t->cert, t->key)) !=
	    AMQP_STATUS_OK) {
		snprintf(err, errsz, "amqp_tls_cert \"%s\" / amqp_tls_key: "
		    "%s", t->cert, amqp_error_string2(status));
		return NULL;
	}
	return sock;
}

/* What a failed connect may mean, when TLS is involved. */
static const char *
tls_hint(const struct url *u, int status)
{
	if (status == AMQP_STATUS_SSL_PEER_VERIFY_FAILED)
		return " (the broker's certificate is not signed by an "
		    "authority in amqp_tls_ca)";
	if (status == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED)
		return " (the broker's certificate is not for this host name)";
	if (u->scheme == URL_AMQPS && (status == AMQP_STATUS_SSL_ERROR ||
	    status == AMQP_STATUS_SSL_CONNECTION_FAILED))
		return " (is that port a TLS listener?)";
	return "";
}

struct broker *
broker_open(const struct url *u, const struct broker_opts *o, char *err,
    size_t errsz, int *temporary)
{
	struct broker *b;
	amqp_socket_t *sock;
	amqp_rpc_reply_t r;
	struct timeval tv;
	int status;

	*temporary = 1;
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	b->opts = *o;
	b->next_seq = 1;
	snprintf(b->where, sizeof(b->where), "%s:%d", u->host, u->port);
	if ((b->conn = amqp_new_connection()) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto bad;
	}
	if (u->scheme == URL_AMQPS) {
		if ((sock = tls_socket(b, &o->tls, err, errsz)) == NULL) {
			*temporary = 0;
			goto bad;
		}
	} else if ((sock = amqp_tcp_socket_new(b->conn)) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto bad;
	}
	tv.tv_sec = o->timeout_ms / 1000;
	tv.tv_usec = (o->timeout_ms % 1000) * 1000;
	if ((status = amqp_socket_open_noblock(sock, u->host, u->port,
	    &tv)) != AMQP_STATUS_OK) {
		snprintf(err, errsz, "amqp connect \"%s\": %s%s", b->where,
		    amqp_error_string2(status), tls_hint(u, status));
		/* A certificate refused will not heal by retrying. */
		if (status == AMQP_STATUS_SSL_PEER_VERIFY_FAILED ||
		    status == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED)
			*temporary = 0;
		goto bad;
	}
	tcp_dead_peer(amqp_get_sockfd(b->conn), TCP_DEAD_PEER_MS);
	amqp_set_handshake_timeout(b->conn, &tv);
	amqp_set_rpc_timeout(b->conn, &tv);
	r = amqp_login(b->conn, u->path, 0, 131072, o->heartbeat_s,
	    AMQP_SASL_METHOD_PLAIN, u->user, u->pass);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		rpc_fail(b, r, "login");
		snprintf(err, errsz, "%s", b->err);
		/* A refused login (bad credentials, vhost) will not heal. */
		if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION ||
		    (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
		    r.library_error == AMQP_STATUS_CONNECTION_CLOSED))
			*temporary = 0;
		goto bad;
	}
	amqp_channel_open(b->conn, CH);
	r = amqp_get_rpc_reply(b->conn);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		rpc_fail(b, r, "channel open");
		snprintf(err, errsz, "%s", b->err);
		goto bad;
	}
	return b;
bad:
	if (b->conn)
		amqp_destroy_connection(b->conn);
	free(b);
	return NULL;
}

void
broker_close(struct broker *b)
{
	struct declared *d;

	if (b == NULL)
		return;
	if (!b->dead) {
		/* Best effort: a dead peer must not hold us up. */
		(void)amqp_channel_close(b->conn, CH, AMQP_REPLY_SUCCESS);
		(void)amqp_connection_close(b->conn, AMQP_REPLY_SUCCESS);
	}
	amqp_destroy_connection(b->conn);
	while ((d = b->declared) != NULL) {
		b->declared = d->next;
		free(d);
	}
	free(b);
}

const char *
broker_errstr(const struct broker *b)
{
	return b->err;
}

int
broker_fd(const struct broker *b)
{
	return amqp_get_sockfd(b->conn);
}

/*
 * A queue declared before with other arguments (an older tq without
 * priorities, another queue type): the broker refuses the declaration and
 * closes the channel. The queue is still there and still durable, so tq
 * reopens the channel and uses it as it is, saying so once, instead of
 * stopping every producer and worker of that queue.
 */
static int
declare_existing(struct broker *b, const char *name)
{
	amqp_channel_close_ok_t ok;
	amqp_rpc_reply_t r;

	memset(&ok, 0, sizeof(ok));
	if (amqp_send_method(b->conn, CH, AMQP_CHANNEL_CLOSE_OK_METHOD,
	    &ok) != AMQP_STATUS_OK)
		return -1;
	amqp_channel_open(b->conn, CH);
	r = amqp_get_rpc_reply(b->conn);
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
		return -1;
	if (b->confirming) {
		/* A new channel: confirms and their numbering start over. */
		b->confirming = 0;
		b->next_seq = 1;
	}
	amqp_queue_declare(b->conn, CH, amqp_cstring_bytes(name), 1, 0, 0, 0,
	    amqp_empty_table);
	r = amqp_get_rpc_reply(b->conn);
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
		return -1;
	log_warnx("event=queue_arguments_differ queue=%s action=used_as_is "
	    "hint=\"declared earlier with other arguments (queue type or "
	    "priorities); delete and redeclare it to change them\"", name);
	return 0;
}

static int
declare_one(struct broker *b, const char *name, int dead_letter)
{
	/* The dead-letter queue is of the task queues' type: on a cluster
	 * (quorum) it must survive the loss of any one broker, or clients
	 * that reconnect cannot declare it while its home node is down. A
	 * client configured otherwise meets the queue as it is (406, then
	 * declare_existing). */
	int quorum = b->opts.quorum;
	amqp_table_entry_t args[3];
	amqp_table_t table;
	amqp_rpc_reply_t r;
	int n = 0;

	args[n].key = amqp_cstring_bytes("x-queue-type");
	args[n].value.kind = AMQP_FIELD_KIND_UTF8;
	args[n].value.value.bytes = amqp_cstring_bytes(quorum ? "quorum" :
	    "classic");
	n++;
	if (dead_letter) {
		args[n].key = amqp_cstring_bytes("x-dead-letter-exchange");
		args[n].value.kind = AMQP_FIELD_KIND_UTF8;
		args[n].value.value.bytes = amqp_cstring_bytes(BROKER_DLX);
		n++;
	}
	/* Task priorities 0..9, where the queue type has them (classic). */
	if (dead_letter && !quorum) {
		args[n].key = amqp_cstring_bytes("x-max-priority");
		args[n].value.kind = AMQP_FIELD_KIND_U8;
		args[n].value.value.u8 = 9;
		n++;
	}
	table.num_entries = n;
	table.entries = args;
	amqp_queue_declare(b->conn, CH, amqp_cstring_bytes(name), 0, 1, 0, 0,
	    table);
	r = amqp_get_rpc_reply(b->conn);
	if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
	    r.reply.id == AMQP_CHANNEL_CLOSE_METHOD &&
	    ((amqp_channel_close_t *)r.reply.decoded)->reply_code == 406 &&
	    declare_existing(b, name) == 0)
		return 0;
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		rpc_fail(b, r, "queue declare");
		/* 406: declared before with other arguments (queue type). */
		snprintf(b->err + strlen(b->err), sizeof(b->err) -
		    strlen(b->err), " (queue \"%s\"%s)", name,
		    strstr(b->err, "406") ? "; it exists with other "
		    "arguments: delete it or set queue_type to match" : "");
		return -1;
	}
	return 0;
}

int
broker_declare(struct broker *b, const char *queue)
{
	char name[300];
	struct declared *d;
	amqp_rpc_reply_t r;
	size_t n;

	for (d = b->declared; d; d = d->next)
		if (strcmp(d->name, queue) == 0)
			return 0;
	if (b->declared == NULL) {
		amqp_exchange_declare(b->conn, CH,
		    amqp_cstring_bytes(BROKER_DLX),
		    amqp_cstring_bytes("fanout"), 0, 1, 0, 0, amqp_empty_table);
		r = amqp_get_rpc_reply(b->conn);
		if (r.reply_type != AMQP_RESPONSE_NORMAL)
			return rpc_fail(b, r, "exchange declare");
		if (declare_one(b, BROKER_DEAD_QUEUE, 0) == -1)
			return -1;
		amqp_queue_bind(b->conn, CH,
		    amqp_cstring_bytes(BROKER_DEAD_QUEUE),
		    amqp_cstring_bytes(BROKER_DLX), amqp_cstring_bytes(""),
		    amqp_empty_table);
		r = amqp_get_rpc_reply(b->conn);
		if (r.reply_type != AMQP_RESPONSE_NORMAL)
			return rpc_fail(b, r, "queue bind");
	}
	snprintf(name, sizeof(name), BROKER_QUEUE_PREFIX "%s", queue);
	if (declare_one(b, name, 1) == -1)
		return -1;
	n = strlen(queue) + 1;
	if ((d = malloc(sizeof(*d) + n)) == NULL)
		return fail(b, "declare", "out of memory");
	memcpy(d->name, queue, n);
	d->next = b->declared;
	b->declared = d;
	return 0;
}

/* Publisher state for one broker_publish call. */
struct pubwait {
	struct broker_msg	*m;
	size_t			 n;
	uint64_t		 base;	/* seq of m[0] */
	signed char		*st;	/* 0 waiting, 1 acked, -1 nacked/returned */
	size_t			 settled;
};

static void
settle(struct pubwait *pw, uint64_t tag, int multiple, int ok)
{
	uint64_t lo, hi, s;

	if (tag < pw->base)
		return;
	hi = tag - pw->base;
	if (hi >= pw->n)
		hi = pw->n - 1;
	lo = multiple ? 0 : hi;
	for (s = lo; s <= hi; s++)
		if (pw->st[s] == 0) {
			pw->st[s] = ok ? 1 : -1;
			pw->settled++;
		} else if (pw->st[s] == 2) {
			/* returned earlier: unroutable, whatever the ack says */
			pw->st[s] = -1;
			pw->settled++;
		}
}

static void
returned(struct pubwait *pw, amqp_message_t *msg)
{
	char idtxt[UUID_STRLEN + 1];
	size_t i;

	if (!(msg->properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG))
		return;
	for (i = 0; i < pw->n; i++) {
		uuid_fmt(&pw->m[i].id, idtxt);
		if (msg->properties.message_id.len == UUID_STRLEN &&
		    memcmp(msg->properties.message_id.bytes, idtxt,
		    UUID_STRLEN) == 0 && pw->st[i] == 0) {
			pw->st[i] = 2;
			return;
		}
	}
}

/* Reads one frame, waiting up to ms. 1 read, 0 timeout, -1 failed. */
static int
confirm_frame(struct broker *b, struct pubwait *pw, int ms)
{
	amqp_frame_t f;
	amqp_message_t msg;
	amqp_rpc_reply_t r;
	struct timeval tv;
	int status;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	status = amqp_simple_wait_frame_noblock(b->conn, &f, &tv);
	if (status == AMQP_STATUS_TIMEOUT)
		return 0;
	if (status != AMQP_STATUS_OK) {
		b->dead = 1;
		return fail(b, "publish", amqp_error_string2(status));
	}
	if (f.frame_type != AMQP_FRAME_METHOD)
		return 1;
	switch (f.payload.method.id) {
	case AMQP_BASIC_ACK_METHOD: {
		amqp_basic_ack_t *a = f.payload.method.decoded;

		settle(pw, a->delivery_tag, a->multiple, 1);
		break;
	}
	case AMQP_BASIC_NACK_METHOD: {
		amqp_basic_nack_t *a = f.payload.method.decoded;

		settle(pw, a->delivery_tag, a->multiple, 0);
		break;
	}
	case AMQP_BASIC_RETURN_METHOD:
		r = amqp_read_message(b->conn, f.channel, &msg, 0);
		if (r.reply_type != AMQP_RESPONSE_NORMAL)
			return rpc_fail(b, r, "publish");
		returned(pw, &msg);
		amqp_destroy_message(&msg);
		break;
	case AMQP_CHANNEL_CLOSE_METHOD:
	case AMQP_CONNECTION_CLOSE_METHOD:
		memset(&r, 0, sizeof(r));
		r.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION;
		r.reply = f.payload.method;
		return rpc_fail(b, r, "publish");
	default:
		break;
	}
	return 1;
}

int
broker_publish(struct broker *b, struct broker_msg *m, size_t n)
{
	amqp_basic_properties_t props;
	char qname[300], idtxt[UUID_STRLEN + 1];
	struct pubwait pw;
	amqp_bytes_t body;
	amqp_rpc_reply_t r;
	int64_t deadline;
	size_t i, ok = 0;
	int rc, ret = -1;

	if (n == 0)
		return 0;
	if (b->dead)
		return fail(b, "publish", "connection lost");
	if (!b->confirming) {
		amqp_confirm_select(b->conn, CH);
		r = amqp_get_rpc_reply(b->conn);
		if (r.reply_type != AMQP_RESPONSE_NORMAL)
			return rpc_fail(b, r, "confirm select");
		b->confirming = 1;
	}
	if ((pw.st = calloc(n, 1)) == NULL)
		return fail(b, "publish", "out of memory");
	pw.m = m;
	pw.n = n;
	pw.base = b->next_seq;
	pw.settled = 0;
	memset(&props, 0, sizeof(props));
	props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG |
	    AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
	    AMQP_BASIC_PRIORITY_FLAG;
	props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	props.content_type = amqp_cstring_bytes("application/x-tq");
	for (i = 0; i < n; i++) {
		m[i].confirmed = 0;
		/* Keep the window bounded: the broker's acks must not pile up
		 * unread while we write. */
		deadline = now_ms() + b->opts.timeout_ms;
		while (i - pw.settled >= (size_t)b->opts.window) {
			if ((rc = confirm_frame(b, &pw, 100)) == -1)
				goto done;
			if (rc == 0 && now_ms() > deadline) {
				fail(b, "publish", "timed out waiting for confirms");
				b->dead = 1;
				goto done;
			}
		}
		uuid_fmt(&m[i].id, idtxt);
		props.message_id = amqp_cstring_bytes(idtxt);
		props.priority = (uint8_t)(m[i].priority > 9 ? 9 : m[i].priority);
		snprintf(qname, sizeof(qname), BROKER_QUEUE_PREFIX "%s",
		    m[i].queue);
		body.bytes = (void *)(uintptr_t)m[i].body;
		body.len = m[i].len;
		rc = amqp_basic_publish(b->conn, CH, amqp_empty_bytes,
		    amqp_cstring_bytes(qname), 1, 0, &props, body);
		if (rc != AMQP_STATUS_OK) {
			b->dead = 1;
			fail(b, "publish", amqp_error_string2(rc));
			goto done;
		}
		b->next_seq++;
		/* Take what has arrived without waiting. */
		while (amqp_frames_enqueued(b->conn) ||
		    amqp_data_in_buffer(b->conn))
			if (confirm_frame(b, &pw, 0) <= 0)
				break;
	}
	deadline = now_ms() + b->opts.timeout_ms;
	while (pw.settled < n) {
		if ((rc = confirm_frame(b, &pw, 100)) == -1)
			goto done;
		if (rc == 1)
			deadline = now_ms() + b->opts.timeout_ms;
		else if (now_ms() > deadline) {
			fail(b, "publish", "timed out waiting for confirms");
			b->dead = 1;
			goto done;
		}
	}
	ret = 0;
done:
	for (i = 0; i < n; i++)
		if (pw.st[i] == 1) {
			m[i].confirmed = 1;
			ok++;
		}
	free(pw.st);
	return ret == -1 ? -1 : (int)ok;
}

int
broker_consume(struct broker *b, const char *queue, int prefetch)
{
	char qname[300];
	amqp_rpc_reply_t r;

	snprintf(qname, sizeof(qname), BROKER_QUEUE_PREFIX "%s", queue);
	amqp_basic_qos(b->conn, CH, 0, (uint16_t)prefetch, 0);
	r = amqp_get_rpc_reply(b->conn);
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
		return rpc_fail(b, r, "qos");
	amqp_basic_consume(b->conn, CH, amqp_cstring_bytes(qname),
	    amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
	r = amqp_get_rpc_reply(b->conn);
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
		return rpc_fail(b, r, "consume");
	return 0;
}

int
broker_next(struct broker *b, struct delivery *d, int timeout_ms)
{
	amqp_envelope_t env;
	amqp_rpc_reply_t r;
	amqp_frame_t f;
	struct timeval tv;
	size_t n;

	memset(d, 0, sizeof(*d));
	if (b->dead)
		return fail(b, "consume", "connection lost");
	amqp_maybe_release_buffers(b->conn);
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	r = amqp_consume_message(b->conn, &env, &tv, 0);
	if (r.reply_type == AMQP_RESPONSE_NORMAL) {
		d->tag = env.delivery_tag;
		d->redelivered = env.redelivered;
		d->len = env.message.body.len;
		if ((d->body = malloc(d->len ? d->len : 1)) == NULL) {
			amqp_destroy_envelope(&env);
			return fail(b, "consume", "out of memory");
		}
		if (d->len)
			memcpy(d->body, env.message.body.bytes, d->len);
		if (env.message.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG) {
			n = env.message.properties.message_id.len;
			if (n >= sizeof(d->message_id))
				n = sizeof(d->message_id) - 1;
			memcpy(d->message_id,
			    env.message.properties.message_id.bytes, n);
		}
		amqp_destroy_envelope(&env);
		return 1;
	}
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
	    r.library_error == AMQP_STATUS_TIMEOUT)
		return 0;
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
	    r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
		/* A method that is not a delivery: read it. */
		tv.tv_sec = 0;
		tv.tv_usec = 0;
		if (amqp_simple_wait_frame_noblock(b->conn, &f, &tv) !=
		    AMQP_STATUS_OK)
			return 0;
		if (f.frame_type != AMQP_FRAME_METHOD)
			return 0;
		switch (f.payload.method.id) {
		case AMQP_BASIC_CANCEL_METHOD:
			b->dead = 1;
			return fail(b, "consume", "the broker cancelled the consumer (queue deleted?)");
		case AMQP_CHANNEL_CLOSE_METHOD:
		case AMQP_CONNECTION_CLOSE_METHOD:
			r.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION;
			r.reply = f.payload.method;
			return rpc_fail(b, r, "consume");
		default:
			return 0;
		}
	}
	return rpc_fail(b, r, "consume");
}

void
delivery_release(struct delivery *d)
{
	free(d->body);
	d->body = NULL;
}

int
broker_ack(struct broker *b, uint64_t tag, int multiple)
{
	int rc;

	if ((rc = amqp_basic_ack(b->conn, CH, tag, multiple)) != 0) {
		b->dead = 1;
		return fail(b, "ack", amqp_error_string2(rc));
	}
	return 0;
}

int
broker_reject(struct broker *b, uint64_t tag)
{
	int rc;

	if ((rc = amqp_basic_reject(b->conn, CH, tag, 0)) != 0) {
		b->dead = 1;
		return fail(b, "reject", amqp_error_string2(rc));
	}
	return 0;
}

int
broker_keepalive(struct broker *b)
{
	struct timeval tv = { 0, 0 };
	amqp_frame_t f;
	int status;

	if (b->dead)
		return -1;
	status = amqp_simple_wait_frame_noblock(b->conn, &f, &tv);
	if (status == AMQP_STATUS_TIMEOUT || status == AMQP_STATUS_OK)
		return 0;
	b->dead = 1;
	return fail(b, "keepalive", amqp_error_string2(status));
}

int
broker_buffered(struct broker *b)
{
	return amqp_frames_enqueued(b->conn) || amqp_data_in_buffer(b->conn);
}

long
broker_depth(struct broker *b, const char *queue)
{
	char qname[300];
	amqp_queue_declare_ok_t *ok;
	amqp_rpc_reply_t r;

	snprintf(qname, sizeof(qname), BROKER_QUEUE_PREFIX "%s", queue);
	ok = amqp_queue_declare(b->conn, CH, amqp_cstring_bytes(qname), 1, 0,
	    0, 0, amqp_empty_table);
	r = amqp_get_rpc_reply(b->conn);
	if (r.reply_type != AMQP_RESPONSE_NORMAL || ok == NULL)
		return rpc_fail(b, r, "queue declare");
	return (long)ok->message_count;
}
