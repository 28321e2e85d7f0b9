/* test_task.c: lib/task.h, task states, transitions, names and the message
 * codec. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "suites.h"
#include "task.h"

#define ERRSZ	256

/* A small deterministic generator (xorshift64) so the fuzz loops are
 * reproducible; the seed is fixed. */
static uint64_t fuzz_state;

static void
fuzz_seed(uint64_t s)
{
	fuzz_state = s ? s : 1;
}

static uint32_t
fuzz_next(void)
{
	fuzz_state ^= fuzz_state << 13;
	fuzz_state ^= fuzz_state >> 7;
	fuzz_state ^= fuzz_state << 17;
	return (uint32_t)(fuzz_state >> 32);
}

static struct uuid
test_id(void)
{
	struct uuid u;
	int i;

	for (i = 0; i < UUID_LEN; i++)
		u.b[i] = (uint8_t)(0xa0 + i);
	return u;
}

/* Encodes (id, name, payload) into a fresh heap buffer of exactly the
 * encoded length, so that valgrind sees any read past the end. */
static uint8_t *
encode_alloc(const struct uuid *id, const char *name, const void *payload,
    size_t len, size_t *outlen)
{
	size_t sz = TASK_MSG_OVERHEAD + strlen(name) + len;
	uint8_t *out = malloc(sz);
	long n;

	ck_assert_ptr_nonnull(out);
	n = task_msg_encode(id, name, payload, len, out, sz);
	if (n < 0 || (size_t)n != sz) {
		free(out);
		ck_abort_msg("encode of \"%s\" (%zu bytes) returned %ld", name,
		    len, n);
	}
	*outlen = sz;
	return out;
}

/*
 * States.
 */

START_TEST(test_state_names)
{
	int i, j;

	for (i = 0; i < TS_COUNT; i++) {
		const char *n = task_state_name((enum task_state)i);

		ck_assert_ptr_nonnull(n);
		ck_assert_int_eq(task_state_parse(n), i);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(n, task_state_name((enum task_state)j));
	}
	ck_assert_str_eq(task_state_name(TS_PENDING), "pending");
	ck_assert_str_eq(task_state_name(TS_QUEUED), "queued");
	ck_assert_str_eq(task_state_name(TS_SCHEDULED), "scheduled");
	ck_assert_str_eq(task_state_name(TS_RUNNING), "running");
	ck_assert_str_eq(task_state_name(TS_SUCCEEDED), "succeeded");
	ck_assert_str_eq(task_state_name(TS_FAILED), "failed");
	ck_assert_str_eq(task_state_name(TS_CANCELLED), "cancelled");
}
END_TEST

START_TEST(test_state_parse_unknown)
{
	ck_assert_int_eq(task_state_parse("bogus"), -1);
	ck_assert_int_eq(task_state_parse(""), -1);
	ck_assert_int_eq(task_state_parse("Queued"), -1);
	ck_assert_int_eq(task_state_parse("queued "), -1);
	ck_assert_int_eq(task_state_parse("canceled"), -1);
	ck_assert_int_eq(task_state_parse("unknown"), -1);
	/* Out of range names do not crash. */
	ck_assert_ptr_nonnull(task_state_name(TS_COUNT));
	ck_assert_ptr_nonnull(task_state_name((enum task_state)-1));
	ck_assert_int_eq(task_state_parse(task_state_name(TS_COUNT)), -1);
}
END_TEST

START_TEST(test_state_terminal)
{
	int i;

	for (i = 0; i < TS_COUNT; i++)
		ck_assert_msg(!!task_state_terminal((enum task_state)i) ==
		    (i == TS_SUCCEEDED || i == TS_FAILED || i == TS_CANCELLED),
		    "terminal(%s)", task_state_name((enum task_state)i));
}
END_TEST

START_TEST(test_transitions)
{
	int to;

	for (to = 0; to < TS_COUNT; to++) {
		ck_assert_msg(!task_transition_ok(TS_SUCCEEDED,
		    (enum task_state)to), "succeeded -> %s",
		    task_state_name((enum task_state)to));
		ck_assert_msg(!task_transition_ok(TS_CANCELLED,
		    (enum task_state)to), "cancelled -> %s",
		    task_state_name((enum task_state)to));
		ck_assert_msg(!!task_transition_ok(TS_FAILED,
		    (enum task_state)to) == (to == TS_QUEUED), "failed -> %s",
		    task_state_name((enum task_state)to));
	}
	ck_assert(task_transition_ok(TS_PENDING, TS_QUEUED));
	ck_assert(!task_transition_ok(TS_QUEUED, TS_SUCCEEDED));
	ck_assert(!task_transition_ok(TS_QUEUED, TS_FAILED));
	ck_assert(task_transition_ok(TS_QUEUED, TS_RUNNING));
	ck_assert(task_transition_ok(TS_RUNNING, TS_SUCCEEDED));
	ck_assert(task_transition_ok(TS_RUNNING, TS_FAILED));
	ck_assert(task_transition_ok(TS_SCHEDULED, TS_QUEUED));
	ck_assert(task_transition_ok(TS_RUNNING, TS_SCHEDULED));
	ck_assert(!task_transition_ok(TS_SCHEDULED, TS_SUCCEEDED));
	/* Nothing goes back to pending. */
	for (to = 0; to < TS_COUNT; to++)
		ck_assert_msg(!task_transition_ok((enum task_state)to,
		    TS_PENDING), "%s -> pending",
		    task_state_name((enum task_state)to));
	/* Every non-terminal state can be cancelled. */
	for (to = 0; to < TS_COUNT; to++)
		if (!task_state_terminal((enum task_state)to))
			ck_assert_msg(task_transition_ok((enum task_state)to,
			    TS_CANCELLED), "%s -> cancelled",
			    task_state_name((enum task_state)to));
}
END_TEST

START_TEST(test_transitions_out_of_range)
{
	int s;

	for (s = 0; s < TS_COUNT; s++) {
		ck_assert(!task_transition_ok((enum task_state)s, TS_COUNT));
		ck_assert(!task_transition_ok(TS_COUNT, (enum task_state)s));
		ck_assert(!task_transition_ok((enum task_state)s,
		    (enum task_state)-1));
		ck_assert(!task_transition_ok((enum task_state)-1,
		    (enum task_state)s));
		ck_assert(!task_transition_ok((enum task_state)s,
		    (enum task_state)100));
		ck_assert(!task_transition_ok((enum task_state)1000,
		    (enum task_state)s));
	}
	ck_assert(!task_transition_ok(TS_COUNT, TS_COUNT));
	ck_assert(!task_transition_ok((enum task_state)40,
	    (enum task_state)41));
}
END_TEST

/*
 * Names.
 */

START_TEST(test_name_ok)
{
	char name[300];

	ck_assert(task_name_ok("tq.echo", TASK_NAME_MAX));
	ck_assert(task_name_ok("a-b_c:d", TASK_NAME_MAX));
	ck_assert(task_name_ok("a", TASK_NAME_MAX));
	ck_assert(task_name_ok("ABCxyz0189._:-", TASK_NAME_MAX));
	ck_assert(!task_name_ok("", TASK_NAME_MAX));
	ck_assert(!task_name_ok("has space", TASK_NAME_MAX));
	ck_assert(!task_name_ok("semi;colon", TASK_NAME_MAX));
	ck_assert(!task_name_ok("slash/no", TASK_NAME_MAX));
	ck_assert(!task_name_ok("tab\tno", TASK_NAME_MAX));
	ck_assert(!task_name_ok("nl\n", TASK_NAME_MAX));
	ck_assert(!task_name_ok("caf\xc3\xa9", TASK_NAME_MAX));
	memset(name, 'x', sizeof(name));
	name[256] = '\0';
	ck_assert(!task_name_ok(name, TASK_NAME_MAX));
	name[255] = '\0';
	ck_assert(task_name_ok(name, TASK_NAME_MAX));
	/* max is honoured as given. */
	ck_assert(task_name_ok("abcd", 4));
	ck_assert(!task_name_ok("abcde", 4));
	name[TASK_QUEUE_MAX + 1] = '\0';
	ck_assert(!task_name_ok(name, TASK_QUEUE_MAX));
	name[TASK_QUEUE_MAX] = '\0';
	ck_assert(task_name_ok(name, TASK_QUEUE_MAX));
}
END_TEST

/*
 * The codec.
 */

START_TEST(test_encode_layout)
{
	struct uuid id = test_id();
	uint8_t out[64];
	long n;
	int i;

	memset(out, 0xee, sizeof(out));
	n = task_msg_encode(&id, "tq.x", "hi", 2, out, sizeof(out));
	ck_assert_int_eq(n, TASK_MSG_OVERHEAD + 4 + 2);
	ck_assert_uint_eq(out[0], 'T');
	ck_assert_uint_eq(out[1], 'Q');
	ck_assert_uint_eq(out[2], 1);
	ck_assert_uint_eq(out[3], 0);
	for (i = 0; i < UUID_LEN; i++)
		ck_assert_uint_eq(out[4 + i], id.b[i]);
	ck_assert_uint_eq(out[20], 4);
	ck_assert(memcmp(out + 21, "tq.x", 4) == 0);
	/* big-endian u32 length */
	ck_assert_uint_eq(out[25], 0);
	ck_assert_uint_eq(out[26], 0);
	ck_assert_uint_eq(out[27], 0);
	ck_assert_uint_eq(out[28], 2);
	ck_assert(memcmp(out + 29, "hi", 2) == 0);
	/* Nothing written past the end. */
	ck_assert_uint_eq(out[n], 0xee);
}
END_TEST

START_TEST(test_encode_big_endian_length)
{
	struct uuid id = test_id();
	size_t plen = 0x010203, len;
	uint8_t *payload, *msg;

	payload = calloc(1, plen);
	ck_assert_ptr_nonnull(payload);
	msg = encode_alloc(&id, "n", payload, plen, &len);
	ck_assert_uint_eq(msg[22], 0x00);
	ck_assert_uint_eq(msg[23], 0x01);
	ck_assert_uint_eq(msg[24], 0x02);
	ck_assert_uint_eq(msg[25], 0x03);
	free(msg);
	free(payload);
}
END_TEST

START_TEST(test_roundtrip)
{
	static const char *const names[] = { "tq.echo", "a", "a-b_c:d" };
	static const uint8_t bin[] = { 0, 1, 0, 0xff, 'x', 0, 0x80, 0 };
	struct uuid id = test_id();
	struct task_msg m;
	char err[ERRSZ];
	uint8_t *msg;
	size_t i, len;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		/* binary payload with NUL bytes */
		msg = encode_alloc(&id, names[i], bin, sizeof(bin), &len);
		memset(&m, 0, sizeof(m));
		ck_assert_int_eq(task_msg_decode(msg, len, TASK_PAYLOAD_DEFMAX,
		    &m, err, sizeof(err)), 0);
		ck_assert_int_eq(uuid_cmp(&m.id, &id), 0);
		ck_assert_str_eq(m.name, names[i]);
		ck_assert_uint_eq(m.payload_len, sizeof(bin));
		ck_assert(memcmp(m.payload, bin, sizeof(bin)) == 0);
		ck_assert(m.payload >= msg && m.payload + m.payload_len ==
		    msg + len);
		ck_assert_int_eq(m.has_id, 1);
		free(msg);

		/* zero-length payload */
		msg = encode_alloc(&id, names[i], NULL, 0, &len);
		ck_assert_uint_eq(len, TASK_MSG_OVERHEAD + strlen(names[i]));
		memset(&m, 0, sizeof(m));
		ck_assert_int_eq(task_msg_decode(msg, len, TASK_PAYLOAD_DEFMAX,
		    &m, err, sizeof(err)), 0);
		ck_assert_int_eq(uuid_cmp(&m.id, &id), 0);
		ck_assert_str_eq(m.name, names[i]);
		ck_assert_uint_eq(m.payload_len, 0);
		free(msg);
	}
}
END_TEST

START_TEST(test_roundtrip_limits)
{
	struct uuid id = test_id();
	struct task_msg m;
	char name[TASK_NAME_MAX + 1], err[ERRSZ];
	uint8_t *payload, *msg;
	size_t i, len, plen = 100000;

	memset(name, 'n', TASK_NAME_MAX);
	name[TASK_NAME_MAX] = '\0';
	payload = malloc(plen);
	ck_assert_ptr_nonnull(payload);
	for (i = 0; i < plen; i++)
		payload[i] = (uint8_t)(i * 31 + 7);
	msg = encode_alloc(&id, name, payload, plen, &len);
	/* payload_max equal to the payload is allowed */
	ck_assert_int_eq(task_msg_decode(msg, len, plen, &m, err, sizeof(err)),
	    0);
	ck_assert_str_eq(m.name, name);
	ck_assert_uint_eq(m.payload_len, plen);
	ck_assert(memcmp(m.payload, payload, plen) == 0);
	free(msg);
	free(payload);
}
END_TEST

START_TEST(test_encode_errors)
{
	struct uuid id = test_id();
	char name[TASK_NAME_MAX + 2];
	uint8_t out[TASK_MSG_OVERHEAD + TASK_NAME_MAX + 16];
	size_t need = TASK_MSG_OVERHEAD + 7 + 3;

	ck_assert_int_eq(task_msg_encode(&id, "tq.echo", "abc", 3, out,
	    need - 1), -1);
	ck_assert_int_eq(task_msg_encode(&id, "tq.echo", "abc", 3, out, 0), -1);
	ck_assert_int_eq(task_msg_encode(&id, "tq.echo", "abc", 3, out, need),
	    (long)need);
	memset(name, 'n', sizeof(name) - 1);
	name[TASK_NAME_MAX + 1] = '\0';		/* 256 bytes */
	ck_assert_int_eq(task_msg_encode(&id, name, NULL, 0, out, sizeof(out)),
	    -1);
	name[TASK_NAME_MAX] = '\0';		/* 255 bytes */
	ck_assert_int_eq(task_msg_encode(&id, name, NULL, 0, out, sizeof(out)),
	    TASK_MSG_OVERHEAD + TASK_NAME_MAX);
	ck_assert_int_eq(task_msg_encode(&id, "", NULL, 0, out, sizeof(out)),
	    -1);
	/* Beyond the hard ceiling; the size alone decides, nothing is read. */
	ck_assert_int_eq(task_msg_encode(&id, "x", out,
	    TASK_PAYLOAD_HARDMAX + 1, out, sizeof(out)), -1);
}
END_TEST

/* A valid message: name "tq.echo", 5-byte payload "hello". */
static uint8_t *
sample(size_t *len)
{
	struct uuid id = test_id();

	return encode_alloc(&id, "tq.echo", "hello", 5, len);
}

/* Decodes (msg, len) and expects failure; returns the message in err. */
static void
decode_bad(const uint8_t *msg, size_t len, size_t max, struct task_msg *m,
    char *err, size_t errsz, const char *what)
{
	int rc;

	err[0] = '\0';
	rc = task_msg_decode(msg, len, max, m, err, errsz);
	ck_assert_msg(rc == -1, "%s: decoded", what);
	ck_assert_msg(err[0] != '\0', "%s: no reason", what);
}

START_TEST(test_decode_short)
{
	struct task_msg m;
	char err[ERRSZ];
	uint8_t *msg, *one;
	size_t len, l;

	msg = sample(&len);
	for (l = 0; l < TASK_MSG_OVERHEAD + 1; l++) {
		/* A copy of exactly l bytes so a read past it is caught. */
		one = malloc(l ? l : 1);
		ck_assert_ptr_nonnull(one);
		memcpy(one, msg, l);
		decode_bad(one, l, 1024, &m, err, sizeof(err), "short");
		free(one);
	}
	ck_assert_int_eq(m.has_id, 0);
	decode_bad(NULL, 0, 1024, &m, err, sizeof(err), "NULL, 0");
	free(msg);
}
END_TEST

START_TEST(test_decode_header)
{
	struct task_msg m;
	char err[ERRSZ];
	uint8_t *msg;
	size_t len;

	msg = sample(&len);
	ck_assert_int_eq(task_msg_decode(msg, len, 1024, &m, err, sizeof(err)),
	    0);

	msg[0] = 'X';
	decode_bad(msg, len, 1024, &m, err, sizeof(err), "magic 0");
	ck_assert_int_eq(m.has_id, 0);
	msg[0] = 'T';
	msg[1] = 'q';
	decode_bad(msg, len, 1024, &m, err, sizeof(err), "magic 1");
	ck_assert_int_eq(m.has_id, 0);
	msg[1] = 'Q';

	msg[2] = 2;
	decode_bad(msg, len, 1024, &m, err, sizeof(err), "version 2");
	ck_assert_int_eq(m.has_id, 0);
	ck_assert_msg(strstr(err, "version") != NULL, "err: %s", err);
	msg[2] = 0;
	decode_bad(msg, len, 1024, &m, err, sizeof(err), "version 0");
	msg[2] = 1;

	msg[3] = 1;
	decode_bad(msg, len, 1024, &m, err, sizeof(err), "flags 1");
	msg[3] = 0x80;
	decode_bad(msg, len, 1024, &m, err, sizeof(err), "flags 0x80");
	msg[3] = 0;

	ck_assert_int_eq(task_msg_decode(msg, len, 1024, &m, err, sizeof(err)),
	    0);
	free(msg);
}
END_TEST

START_TEST(test_decode_name)
{
	struct task_msg m;
	char err[ERRSZ];
	uint8_t *msg;
	size_t len;

	msg = sample(&len);
	msg[20] = 0;
	decode_bad(msg, len, 1024, &m, err, sizeof(err), "name_len 0");
	/* past the end: the whole rest, then further */
	msg[20] = (uint8_t)(len - TASK_MSG_OVERHEAD + 1);
	decode_bad(msg, len, 1024, &m, err, sizeof(err), "name_len past end");
	msg[20] = 255;
	decode_bad(msg, len, 1024, &m, err, sizeof(err), "name_len 255");
	/* name_len covers name and payload: then the length field is read
	 * from the payload bytes and cannot agree. */
	msg[20] = (uint8_t)(len - TASK_MSG_OVERHEAD);
	decode_bad(msg, len, 1024, &m, err, sizeof(err), "name_len max");
	msg[20] = 7;

	msg[21 + 2] = ' ';	/* "tq echo" */
	decode_bad(msg, len, 1024, &m, err, sizeof(err), "space in name");
	msg[21 + 2] = ';';
	decode_bad(msg, len, 1024, &m, err, sizeof(err), "; in name");
	msg[21 + 2] = '.';
	ck_assert_int_eq(task_msg_decode(msg, len, 1024, &m, err, sizeof(err)),
	    0);
	free(msg);
}
END_TEST

/*
 * A NUL byte inside the name is not one of [A-Za-z0-9._:-]. task_msg_decode
 * copies name_len bytes and then checks the copy with task_name_ok(), which
 * uses strlen() and so stops at the NUL: "tq\0echo" decodes as "tq", and
 * name_len no longer matches strlen(m.name).
 */
START_TEST(test_decode_name_with_nul)
{
	struct task_msg m;
	char err[ERRSZ];
	uint8_t *msg;
	size_t len;
	int rc;

	msg = sample(&len);
	msg[21 + 2] = '\0';	/* "tq\0echo" */
	err[0] = '\0';
	rc = task_msg_decode(msg, len, 1024, &m, err, sizeof(err));
	free(msg);
	ck_assert_msg(rc == -1, "name \"tq\\0echo\" decoded as \"%s\"",
	    m.name);
}
END_TEST

START_TEST(test_decode_payload_max)
{
	struct uuid id = test_id();
	struct task_msg m;
	char err[ERRSZ], want[64];
	uint8_t *msg;
	size_t len;

	msg = sample(&len);
	memset(&m, 0, sizeof(m));
	decode_bad(msg, len, 4, &m, err, sizeof(err), "payload > max");
	ck_assert_msg(strstr(err, "4") != NULL && strstr(err, "limit") != NULL,
	    "err does not name the limit: %s", err);
	ck_assert_int_eq(m.has_id, 1);
	ck_assert_int_eq(uuid_cmp(&m.id, &id), 0);
	free(msg);

	/* The limit in the message is the one given. */
	msg = encode_alloc(&id, "tq.echo", "0123456789", 10, &len);
	decode_bad(msg, len, 9, &m, err, sizeof(err), "10 > 9");
	snprintf(want, sizeof(want), "%d", 9);
	ck_assert_msg(strstr(err, want) != NULL, "err: %s", err);
	ck_assert_int_eq(m.has_id, 1);
	ck_assert_int_eq(uuid_cmp(&m.id, &id), 0);
	ck_assert_int_eq(task_msg_decode(msg, len, 10, &m, err, sizeof(err)),
	    0);
	decode_bad(msg, len, 0, &m, err, sizeof(err), "10 > 0");
	free(msg);

	/* A huge declared length is refused by the limit, not read. */
	msg = sample(&len);
	msg[28] = msg[29] = msg[30] = msg[31] = 0xff;
	decode_bad(msg, len, TASK_PAYLOAD_HARDMAX, &m, err, sizeof(err),
	    "4 GiB payload");
	ck_assert_int_eq(m.has_id, 1);
	ck_assert_int_eq(uuid_cmp(&m.id, &id), 0);
	free(msg);
}
END_TEST

START_TEST(test_decode_length_mismatch)
{
	struct task_msg m;
	char err[ERRSZ];
	uint8_t *msg, *big;
	size_t len;

	msg = sample(&len);
	/* One byte extra after the payload. */
	big = malloc(len + 1);
	ck_assert_ptr_nonnull(big);
	memcpy(big, msg, len);
	big[len] = 'x';
	decode_bad(big, len + 1, 1024, &m, err, sizeof(err), "1 byte extra");
	free(big);
	/* One byte missing. */
	decode_bad(msg, len - 1, 1024, &m, err, sizeof(err), "1 byte missing");
	/* Declared length one more / one less than what follows. */
	ck_assert_uint_eq(msg[31], 5);
	msg[31] = 6;
	decode_bad(msg, len, 1024, &m, err, sizeof(err), "declared +1");
	msg[31] = 4;
	decode_bad(msg, len, 1024, &m, err, sizeof(err), "declared -1");
	msg[31] = 5;
	msg[28] = 1;	/* 16 MiB + 5 */
	decode_bad(msg, len, SIZE_MAX, &m, err, sizeof(err), "declared huge");
	free(msg);
}
END_TEST

/* The consistency of a successful decode: NULL, or what is wrong. */
static const char *
check_decoded(const uint8_t *buf, size_t len, const struct task_msg *m,
    size_t max)
{
	size_t nlen = strlen(m->name);

	if (m->has_id != 1)
		return "has_id not set";
	if (m->payload_len > max)
		return "payload_len over payload_max";
	if (m->payload < buf || m->payload > buf + len ||
	    m->payload_len > (size_t)(buf + len - m->payload))
		return "payload outside the buffer";
	if (m->payload_len + TASK_MSG_OVERHEAD + nlen != len)
		return "payload_len + overhead + strlen(name) != length";
	if (!task_name_ok(m->name, TASK_NAME_MAX))
		return "bad name";
	if (memcmp(m->id.b, buf + 4, UUID_LEN) != 0)
		return "id differs from the bytes";
	if (memcmp(m->name, buf + 5 + UUID_LEN, nlen) != 0)
		return "name differs from the bytes";
	return NULL;
}

START_TEST(test_fuzz_random)
{
	struct task_msg m;
	char err[ERRSZ];
	uint8_t *buf;
	size_t len, i;
	const char *bad;
	int iter, rc;

	fuzz_seed(0x7115eed);
	for (iter = 0; iter < 20000; iter++) {
		len = fuzz_next() % 301;
		buf = malloc(len ? len : 1);
		ck_assert_ptr_nonnull(buf);
		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)fuzz_next();
		/* Some with a good header so the later checks are reached. */
		if (len >= 4 && iter % 2 == 0) {
			buf[0] = 'T';
			buf[1] = 'Q';
			buf[2] = 1;
			buf[3] = 0;
		}
		memset(&m, 0, sizeof(m));
		err[0] = '\0';
		rc = task_msg_decode(buf, len, fuzz_next() % 400, &m, err,
		    sizeof(err));
		bad = rc == 0 ? check_decoded(buf, len, &m, 400) :
		    (err[0] == '\0' ? "failed without a reason" : NULL);
		free(buf);
		ck_assert_msg(rc == 0 || rc == -1, "iteration %d: rc %d", iter,
		    rc);
		ck_assert_msg(bad == NULL, "iteration %d (len %zu): %s", iter,
		    len, bad);
	}
}
END_TEST

START_TEST(test_fuzz_mutate)
{
	static const char *const names[] = { "tq.echo", "x", "a-b_c:d.e" };
	struct uuid id = test_id();
	struct task_msg m;
	char err[ERRSZ];
	uint8_t payload[64], *good, *buf;
	size_t glen, len, i, plen, max;
	const char *bad;
	int iter, rc, nmut, k, decoded = 0;

	fuzz_seed(0xdecade);
	for (iter = 0; iter < 20000; iter++) {
		plen = fuzz_next() % sizeof(payload);
		for (i = 0; i < plen; i++)
			payload[i] = (uint8_t)fuzz_next();
		good = encode_alloc(&id, names[fuzz_next() % 3], payload, plen,
		    &glen);
		/* Truncate, extend or keep; then flip a few bytes. */
		switch (fuzz_next() % 4) {
		case 0:
			len = fuzz_next() % (glen + 1);
			break;
		case 1:
			len = glen + 1 + fuzz_next() % 4;
			break;
		default:
			len = glen;
			break;
		}
		buf = malloc(len ? len : 1);
		ck_assert_ptr_nonnull(buf);
		for (i = 0; i < len; i++)
			buf[i] = i < glen ? good[i] : (uint8_t)fuzz_next();
		free(good);
		nmut = (int)(fuzz_next() % 3);
		for (k = 0; k < nmut && len > 0; k++) {
			i = fuzz_next() % len;
			switch (fuzz_next() % 3) {
			case 0:
				buf[i] = (uint8_t)fuzz_next();
				break;
			case 1:
				buf[i] ^= (uint8_t)(1u << (fuzz_next() % 8));
				break;
			default:
				buf[i] = 0;
				break;
			}
		}
		max = fuzz_next() % 2 ? SIZE_MAX : fuzz_next() % 80;
		memset(&m, 0, sizeof(m));
		err[0] = '\0';
		rc = task_msg_decode(buf, len, max, &m, err, sizeof(err));
		bad = rc == 0 ? check_decoded(buf, len, &m, max) :
		    (err[0] == '\0' ? "failed without a reason" : NULL);
		free(buf);
		decoded += rc == 0;
		ck_assert_msg(rc == 0 || rc == -1, "iteration %d: rc %d", iter,
		    rc);
		ck_assert_msg(bad == NULL, "iteration %d (len %zu, name \"%s\"): "
		    "%s", iter, len, m.name, bad);
	}
	/* The mutations leave enough messages intact to test both sides. */
	ck_assert_int_gt(decoded, 1000);
	ck_assert_int_lt(decoded, 19000);
}
END_TEST

START_TEST(test_limit_name_ok)
{
	char longk[300];

	ck_assert(limit_name_ok("payments"));
	ck_assert(limit_name_ok("customer:42"));
	ck_assert(limit_name_ok("customer:*"));
	ck_assert(limit_name_ok("a:b:*"));
	ck_assert(!limit_name_ok(""));
	ck_assert(!limit_name_ok("*"));
	ck_assert(!limit_name_ok(":*"));
	ck_assert(!limit_name_ok("customer*"));
	ck_assert(!limit_name_ok("a:*:b"));
	ck_assert(!limit_name_ok("a b"));
	ck_assert(!limit_name_ok("a%"));
	memset(longk, 'k', 255);
	longk[255] = '\0';
	ck_assert(limit_name_ok(longk));
	longk[255] = 'k';
	longk[256] = '\0';
	ck_assert(!limit_name_ok(longk));
	/* a prefix: 253 bytes, ':' and '*' */
	memset(longk, 'k', 253);
	strcpy(longk + 253, ":*");
	ck_assert(limit_name_ok(longk));
}
END_TEST

START_TEST(test_limit_rate_parse)
{
	static const struct {
		const char	*in;
		unsigned	 n;
		long long	 ms;
	} ok[] = {
		{ "100/60s", 100, 60000 }, { "10/s", 10, 1000 },
		{ "5/m", 5, 60000 }, { "1/500ms", 1, 500 }, { "7/2h", 7, 7200000 },
		{ "3/10", 3, 10000 },
	};
	static const char *const bad[] = { "", "5", "/s", "5/", "0/s",
	    "x/s", "5/0s", "5/-1s", "5/xs", "1000001/s", "5/s/s", "-5/s" };
	const char *why;
	unsigned n;
	long long ms;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		why = NULL;
		ck_assert_msg(limit_rate_parse(ok[i].in, &n, &ms, &why) == 0,
		    "%s: %s", ok[i].in, why ? why : "");
		ck_assert_uint_eq(n, ok[i].n);
		ck_assert_int_eq(ms, ok[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		ck_assert_msg(limit_rate_parse(bad[i], &n, &ms, &why) == -1,
		    "\"%s\" was taken", bad[i]);
		ck_assert_ptr_nonnull(why);
	}
}
END_TEST

Suite *
task_suite(void)
{
	Suite *s = suite_create("task");
	TCase *ts = tcase_create("states");
	TCase *tc = tcase_create("codec");

	tcase_add_test(ts, test_state_names);
	tcase_add_test(ts, test_state_parse_unknown);
	tcase_add_test(ts, test_state_terminal);
	tcase_add_test(ts, test_transitions);
	tcase_add_test(ts, test_transitions_out_of_range);
	tcase_add_test(ts, test_name_ok);
	tcase_add_test(ts, test_limit_name_ok);
	tcase_add_test(ts, test_limit_rate_parse);
	suite_add_tcase(s, ts);

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_encode_layout);
	tcase_add_test(tc, test_encode_big_endian_length);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_roundtrip_limits);
	tcase_add_test(tc, test_encode_errors);
	tcase_add_test(tc, test_decode_short);
	tcase_add_test(tc, test_decode_header);
	tcase_add_test(tc, test_decode_name);
	tcase_add_test(tc, test_decode_name_with_nul);
	tcase_add_test(tc, test_decode_payload_max);
	tcase_add_test(tc, test_decode_length_mismatch);
	tcase_add_test(tc, test_fuzz_random);
	tcase_add_test(tc, test_fuzz_mutate);
	suite_add_tcase(s, tc);
	return s;
}
