/*
 * fuzz_serve.c: sf_header and sf_parse (worker/serve_frame.c), the frames
 * of a served handler, which a child program (any code at all) writes to
 * its worker. Whatever the bytes: a frame is taken only whole, inside the
 * input, with pointers into it and sizes that add up; the header agrees
 * with the parse; and a frame encoded again from what was parsed decodes
 * to the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve_frame.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void __attribute__((noreturn))
fail(const char *what)
{
	fprintf(stderr, "fuzz_serve: invariant violated: %s\n", what);
	abort();
}

static int
inside(const void *p, size_t n, const uint8_t *data, size_t size)
{
	const uint8_t *b = p;

	return n == 0 || (b >= data && b + n <= data + size);
}

/* Encodes m again (as the worker or a child would) and parses it. */
static void
again(const struct sf_msg *m)
{
	struct buf b = BUF_INIT;
	struct sf_msg m2;
	char err[128];
	size_t used;
	int r = -1;

	switch (m->type) {
	case SF_TASK: {
		char name[1024];

		if (m->name_len >= sizeof(name))
			return;
		memcpy(name, m->name, m->name_len);
		name[m->name_len] = '\0';
		if (strlen(name) != m->name_len)
			return;		/* a NUL inside: not a name tq sends */
		r = sf_encode_task(&b, m->id, m->attempt, m->max_attempts,
		    m->timeout_ms, name, m->data, m->len);
		break;
	}
	case SF_CANCEL:
		r = sf_encode_cancel(&b, m->id);
		break;
	case SF_READY:
		r = sf_encode_reply(&b, m->type, NULL, 0, m->data, m->len);
		break;
	default:
		r = sf_encode_reply(&b, m->type, m->id, m->pct, m->data,
		    m->len);
		break;
	}
	if (r == -1) {
		buf_release(&b);
		return;
	}
	if (sf_parse(b.data, b.len, &m2, &used, err, sizeof(err)) != 1 ||
	    used != b.len)
		fail("an encoded frame does not parse back whole");
	if (m2.type != m->type || m2.len != m->len ||
	    (m->len && memcmp(m2.data, m->data, m->len) != 0) ||
	    (m->type != SF_READY && strcmp(m2.id, m->id) != 0))
		fail("an encoded frame parses back to something else");
	buf_release(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sf_msg m;
	size_t total = 0, used = 0, off = 0;
	char err[128];
	int type, h, r;

	/* A stream of frames, as the worker reads it. */
	while (off < size) {
		h = sf_header(data + off, size - off, &type, &total, err,
		    sizeof(err));
		memset(&m, 0, sizeof(m));
		r = sf_parse(data + off, size - off, &m, &used, err,
		    sizeof(err));
		if (r == 1) {
			if (h != 1 || used != total || used > size - off ||
			    used < SF_HDR)
				fail("a frame's size disagrees with its header");
			if (m.type != type)
				fail("a frame's type disagrees with its header");
			if (!inside(m.data, m.len, data + off, used) ||
			    (m.type == SF_TASK && !inside(m.name, m.name_len,
			    data + off, used)))
				fail("a pointer outside the frame");
			if (m.type == SF_PROGRESS && (m.pct > 100 ||
			    m.len > SF_PROGRESS_MSG_MAX))
				fail("a progress frame out of bounds");
			if (m.type != SF_READY && !sf_id_ok(m.id))
				fail("a frame with a bad id was taken");
			again(&m);
			off += used;
			continue;
		}
		if (r == 0 && h == -1)
			fail("a bad header waits for more bytes");
		break;		/* more needed, or malformed */
	}
	return 0;
}
