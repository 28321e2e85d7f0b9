/* proto.c: the frame codec. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "proto.h"

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* Body sizes by type; -1 for unknown types. */
#define HELLO_LEN	(4 + 1 + PROTO_OWNER_MAX)
#define HB_LEN		(1 + 1 + 2 + UUID_LEN + 8 + 4 + 4 + 8 + 8 + 4)
#define TASK_LEN	(UUID_LEN + 8 + 4 + 1)
#define CANCEL_LEN	UUID_LEN
#define DONE_LEN	(1 + 1 + 8 + 8 + 1 + PROTO_NAME_MAX)
#define DONE_OUTCOMES	4	/* enum rollup_outcome */

static int
body_len(int type)
{
	switch (type) {
	case P_HELLO:
		return HELLO_LEN;
	case P_HEARTBEAT:
		return HB_LEN;
	case P_TASK_BEGIN:
	case P_TASK_END:
		return TASK_LEN;
	case P_TASK_DONE:
		return DONE_LEN;
	case P_CANCEL:
		return CANCEL_LEN;
	case P_DRAIN:
	case P_SHUTDOWN:
		return 0;
	default:
		return -1;
	}
}

int
proto_encode(const struct frame *f, uint8_t *out, size_t outsz)
{
	int blen = body_len(f->type);
	uint8_t *b = out + PROTO_HDR;
	size_t n;

	if (blen < 0 || (size_t)blen + PROTO_HDR > outsz)
		return -1;
	out[0] = PROTO_VERSION;
	out[1] = (uint8_t)f->type;
	put16(out + 2, (uint16_t)blen);
	memset(b, 0, (size_t)blen);
	switch (f->type) {
	case P_HELLO:
		put32(b, f->u.hello.pid);
		n = strnlen(f->u.hello.owner, PROTO_OWNER_MAX);
		b[4] = (uint8_t)n;
		memcpy(b + 5, f->u.hello.owner, n);
		break;
	case P_HEARTBEAT:
		b[0] = f->u.hb.state;
		b[1] = f->u.hb.progress;
		put16(b + 2, f->u.hb.inflight);
		memcpy(b + 4, f->u.hb.task.b, UUID_LEN);
		put64(b + 20, f->u.hb.fence);
		put32(b + 28, f->u.hb.rss_kb);
		put32(b + 32, f->u.hb.loop_age_ms);
		put64(b + 36, f->u.hb.succeeded);
		put64(b + 44, f->u.hb.failed);
		put32(b + 52, f->u.hb.duplicates);
		break;
	case P_TASK_BEGIN:
	case P_TASK_END:
		memcpy(b, f->u.task.task.b, UUID_LEN);
		put64(b + 16, f->u.task.fence);
		put32(b + 24, f->u.task.attempt);
		b[28] = f->u.task.ok;
		break;
	case P_TASK_DONE:
		b[0] = f->u.done.outcome;
		b[1] = f->u.done.timed_out;
		put64(b + 2, f->u.done.run_us);
		put64(b + 10, f->u.done.wait_us);
		n = strnlen(f->u.done.name, PROTO_NAME_MAX);
		b[18] = (uint8_t)n;
		memcpy(b + 19, f->u.done.name, n);
		break;
	case P_CANCEL:
		memcpy(b, f->u.cancel.task.b, UUID_LEN);
		break;
	default:
		break;
	}
	return PROTO_HDR + blen;
}

int
proto_decode(const uint8_t *p, size_t len, struct frame *f, char *err,
    size_t errsz)
{
	const uint8_t *b = p + PROTO_HDR;
	int want;
	size_t n;

	memset(f, 0, sizeof(*f));
	if (len < PROTO_HDR) {
		snprintf(err, errsz, "short frame (%zu bytes)", len);
		return -1;
	}
	if (p[0] != PROTO_VERSION) {
		snprintf(err, errsz, "frame version %u, want %u", (unsigned)p[0],
		    (unsigned)PROTO_VERSION);
		return -1;
	}
	if ((want = body_len(p[1])) < 0) {
		snprintf(err, errsz, "unknown frame type %u", p[1]);
		return -1;
	}
	if (get16(p + 2) != want || len != (size_t)want + PROTO_HDR) {
		snprintf(err, errsz, "frame type %u: %zu bytes, want %d", p[1],
		    len, want + PROTO_HDR);
		return -1;
	}
	f->type = (enum proto_type)p[1];
	switch (f->type) {
	case P_HELLO:
		f->u.hello.pid = get32(b);
		n = b[4];
		if (n > PROTO_OWNER_MAX || memchr(b + 5, '\0', n) != NULL) {
			snprintf(err, errsz, "hello: bad owner");
			return -1;
		}
		/* What the encoder leaves zero must be zero: one packet, one
		 * frame. */
		for (size_t k = 5 + n; k < HELLO_LEN; k++)
			if (b[k] != 0) {
				snprintf(err, errsz, "hello: bad owner padding");
				return -1;
			}
		memcpy(f->u.hello.owner, b + 5, n);
		f->u.hello.owner[n] = '\0';
		break;
	case P_HEARTBEAT:
		f->u.hb.state = b[0];
		f->u.hb.progress = b[1];
		if (f->u.hb.state > WS_DRAINING || f->u.hb.progress > 100) {
			snprintf(err, errsz, "heartbeat: bad state or progress");
			return -1;
		}
		f->u.hb.inflight = get16(b + 2);
		memcpy(f->u.hb.task.b, b + 4, UUID_LEN);
		f->u.hb.fence = get64(b + 20);
		f->u.hb.rss_kb = get32(b + 28);
		f->u.hb.loop_age_ms = get32(b + 32);
		f->u.hb.succeeded = get64(b + 36);
		f->u.hb.failed = get64(b + 44);
		f->u.hb.duplicates = get32(b + 52);
		break;
	case P_TASK_BEGIN:
	case P_TASK_END:
		memcpy(f->u.task.task.b, b, UUID_LEN);
		f->u.task.fence = get64(b + 16);
		f->u.task.attempt = get32(b + 24);
		f->u.task.ok = b[28];
		break;
	case P_TASK_DONE:
		f->u.done.outcome = b[0];
		f->u.done.timed_out = b[1];
		n = b[18];
		if (f->u.done.outcome >= DONE_OUTCOMES || b[1] > 1 ||
		    n == 0 || memchr(b + 19, '\0', n) != NULL) {
			snprintf(err, errsz, "task done: bad outcome or name");
			return -1;
		}
		for (size_t k = 19 + n; k < DONE_LEN; k++)
			if (b[k] != 0) {
				snprintf(err, errsz, "task done: bad name padding");
				return -1;
			}
		f->u.done.run_us = get64(b + 2);
		f->u.done.wait_us = get64(b + 10);
		memcpy(f->u.done.name, b + 19, n);
		f->u.done.name[n] = '\0';
		break;
	case P_CANCEL:
		memcpy(f->u.cancel.task.b, b, UUID_LEN);
		break;
	default:
		break;
	}
	return 0;
}

int
proto_send(int fd, const struct frame *f)
{
	uint8_t buf[PROTO_MAX];
	ssize_t r;
	int n;

	if ((n = proto_encode(f, buf, sizeof(buf))) < 0) {
		errno = EINVAL;
		return -1;
	}
	do
		r = send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (r == -1 && errno == EINTR);
	return r == n ? 0 : -1;
}
