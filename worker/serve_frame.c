/*
 * serve_frame.c: the codec of the served-handler frames. Pure functions
 * over bytes, shared by the worker (serve.c) and the test handler
 * (tests/tools/served.c). Every size is checked before anything is read.
 */
#include <stdio.h>
#include <string.h>

#include "serve_frame.h"

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

int
sf_id_ok(const char *id)
{
	int i;

	for (i = 0; i < SF_ID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (id[i] != '-')
				return 0;
		} else if (hexval(id[i]) == -1)
			return 0;
	}
	return 1;
}

/* Header and fixed part of a frame of body size body. */
static int
begin(struct buf *out, int type, size_t body)
{
	uint8_t h[SF_HDR];

	if (body + 1 > SF_LEN_MAX)
		return -1;
	put32(h, (uint32_t)(body + 1));
	h[4] = (uint8_t)type;
	if (buf_reserve(out, SF_HDR + body) == -1)
		return -1;
	return buf_append(out, h, sizeof(h));
}

int
sf_encode_task(struct buf *out, const char *id, uint32_t attempt,
    uint32_t max_attempts, uint32_t timeout_ms, const char *name,
    const void *payload, size_t len)
{
	size_t nl = strlen(name);
	uint8_t f[12 + 2];

	if (strlen(id) != SF_ID_LEN || nl > UINT16_MAX ||
	    len > SF_LEN_MAX - 1 - SF_TASK_FIXED - nl)
		return -1;
	if (begin(out, SF_TASK, SF_TASK_FIXED + nl + len) == -1)
		return -1;
	put32(f, attempt);
	put32(f + 4, max_attempts);
	put32(f + 8, timeout_ms);
	f[12] = (uint8_t)nl;
	f[13] = (uint8_t)(nl >> 8);
	if (buf_append(out, id, SF_ID_LEN) == -1 ||
	    buf_append(out, f, sizeof(f)) == -1 ||
	    buf_append(out, name, nl) == -1 ||
	    (len > 0 && buf_append(out, payload, len) == -1))
		return -1;
	return 0;
}

int
sf_encode_cancel(struct buf *out, const char *id)
{
	if (strlen(id) != SF_ID_LEN || begin(out, SF_CANCEL, SF_ID_LEN) == -1)
		return -1;
	return buf_append(out, id, SF_ID_LEN);
}

int
sf_encode_reply(struct buf *out, int type, const char *id, unsigned pct,
    const void *data, size_t len)
{
	uint8_t v[4], p;

	switch (type) {
	case SF_READY:
		if (begin(out, type, 4 + len) == -1)
			return -1;
		put32(v, SF_VERSION);
		if (buf_append(out, v, sizeof(v)) == -1)
			return -1;
		break;
	case SF_PROGRESS:
	case SF_OK:
	case SF_ERROR:
		if (id == NULL || strlen(id) != SF_ID_LEN ||
		    begin(out, type, SF_ID_LEN + (type == SF_PROGRESS) +
		    len) == -1 || buf_append(out, id, SF_ID_LEN) == -1)
			return -1;
		p = (uint8_t)(pct > 100 ? 100 : pct);
		if (type == SF_PROGRESS && buf_append(out, &p, 1) == -1)
			return -1;
		break;
	default:
		return -1;
	}
	return len > 0 ? buf_append(out, data, len) : 0;
}

int
sf_header(const void *buf, size_t avail, int *type, size_t *total, char *err,
    size_t errsz)
{
	const uint8_t *p = buf;
	uint32_t len;

	if (avail < SF_HDR)
		return 0;
	len = get32(p);
	if (len == 0 || len > SF_LEN_MAX) {
		snprintf(err, errsz, "frame length %u is out of range "
		    "(1..%u)", len, SF_LEN_MAX);
		return -1;
	}
	switch (p[4]) {
	case SF_TASK:
	case SF_CANCEL:
	case SF_READY:
	case SF_PROGRESS:
	case SF_OK:
	case SF_ERROR:
		break;
	default:
		snprintf(err, errsz, "unknown frame type 0x%02x", p[4]);
		return -1;
	}
	*type = p[4];
	*total = (size_t)len + 4;
	return 1;
}

int
sf_parse(const void *buf, size_t avail, struct sf_msg *m, size_t *used,
    char *err, size_t errsz)
{
	const uint8_t *p = buf, *b;
	size_t total, body, need;
	int type, r;

	if ((r = sf_header(buf, avail, &type, &total, err, errsz)) != 1)
		return r;
	if (avail < total)
		return 0;
	memset(m, 0, sizeof(*m));
	m->type = type;
	b = p + SF_HDR;
	body = total - SF_HDR;
	switch (type) {
	case SF_READY:
		need = 4;
		break;
	case SF_TASK:
		need = SF_TASK_FIXED;
		break;
	case SF_PROGRESS:
		need = SF_ID_LEN + 1;
		break;
	case SF_CANCEL:
	default:
		need = SF_ID_LEN;
		break;
	}
	if (body < need || (type == SF_CANCEL && body != SF_ID_LEN)) {
		snprintf(err, errsz, "frame '%c' of %zu bytes: %s %zu",
		    type, body, type == SF_CANCEL ? "want exactly" :
		    "want at least", need);
		return -1;
	}
	if (type == SF_READY) {
		m->version = get32(b);
		if (m->version != SF_VERSION) {
			snprintf(err, errsz, "protocol version %u is not %d",
			    m->version, SF_VERSION);
			return -1;
		}
		m->data = (const char *)b + 4;
		m->len = body - 4;
		*used = total;
		return 1;
	}
	if (!sf_id_ok((const char *)b)) {
		snprintf(err, errsz, "frame '%c': the id is not a text UUID",
		    type);
		return -1;
	}
	memcpy(m->id, b, SF_ID_LEN);
	m->id[SF_ID_LEN] = '\0';
	b += SF_ID_LEN;
	body -= SF_ID_LEN;
	switch (type) {
	case SF_TASK:
		m->attempt = get32(b);
		m->max_attempts = get32(b + 4);
		m->timeout_ms = get32(b + 8);
		m->name_len = (size_t)b[12] | (size_t)b[13] << 8;
		b += 14;
		body -= 14;
		if (m->name_len > body) {
			snprintf(err, errsz, "frame 'T': name of %zu bytes in "
			    "%zu", m->name_len, body);
			return -1;
		}
		m->name = (const char *)b;
		m->data = (const char *)b + m->name_len;
		m->len = body - m->name_len;
		break;
	case SF_PROGRESS:
		m->pct = b[0];
		if (m->pct > 100) {
			snprintf(err, errsz, "frame 'P': progress %u is over "
			    "100", m->pct);
			return -1;
		}
		m->data = (const char *)b + 1;
		m->len = body - 1;
		if (m->len > SF_PROGRESS_MSG_MAX) {
			snprintf(err, errsz, "frame 'P': message of %zu bytes "
			    "exceeds %d", m->len, SF_PROGRESS_MSG_MAX);
			return -1;
		}
		break;
	default:
		m->data = (const char *)b;
		m->len = body;
		break;
	}
	*used = total;
	return 1;
}
