/* test_serve.c: the frames of served handlers (worker/serve_frame.c). */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "serve_frame.h"
#include "suites.h"

#define ID	"01a23bfb-0ab2-71a7-813a-984570e4e186"

/* Decodes the single frame of f, which must be whole and valid. */
static struct sf_msg
decode(const struct buf *f)
{
	struct sf_msg m;
	char err[256];
	size_t used = 0;

	ck_assert_int_eq(sf_parse(f->data, f->len, &m, &used, err,
	    sizeof(err)), 1);
	ck_assert_uint_eq(used, f->len);
	return m;
}

/* Whether bytes are rejected, and the error names what: sub. */
static void
rejects(const void *b, size_t n, const char *sub)
{
	struct sf_msg m;
	char err[256] = "";
	size_t used = 0;

	ck_assert_msg(sf_parse(b, n, &m, &used, err, sizeof(err)) == -1,
	    "accepted, want an error with \"%s\"", sub);
	ck_assert_msg(strstr(err, sub) != NULL, "error \"%s\" lacks \"%s\"",
	    err, sub);
}

START_TEST(test_task_roundtrip)
{
	struct buf f = BUF_INIT;
	struct sf_msg m;

	ck_assert_int_eq(sf_encode_task(&f, ID, 2, 5, 30000, "thumbnail",
	    "\0payload\n", 9), 0);
	/* len counts the type byte and the body */
	ck_assert_uint_eq(f.len, SF_HDR + SF_TASK_FIXED + 9 + 9);
	ck_assert_uint_eq((uint8_t)f.data[0], f.len - 4);
	ck_assert_int_eq(f.data[4], 'T');
	m = decode(&f);
	ck_assert_int_eq(m.type, SF_TASK);
	ck_assert_str_eq(m.id, ID);
	ck_assert_uint_eq(m.attempt, 2);
	ck_assert_uint_eq(m.max_attempts, 5);
	ck_assert_uint_eq(m.timeout_ms, 30000);
	ck_assert_uint_eq(m.name_len, 9);
	ck_assert(memcmp(m.name, "thumbnail", 9) == 0);
	ck_assert_uint_eq(m.len, 9);
	ck_assert(memcmp(m.data, "\0payload\n", 9) == 0);
	buf_release(&f);
}
END_TEST

START_TEST(test_empty_payload_and_cancel)
{
	struct buf f = BUF_INIT;
	struct sf_msg m;

	ck_assert_int_eq(sf_encode_task(&f, ID, 1, 1, 0, "x", "", 0), 0);
	m = decode(&f);
	ck_assert_uint_eq(m.len, 0);
	buf_reset(&f);
	ck_assert_int_eq(sf_encode_cancel(&f, ID), 0);
	ck_assert_uint_eq(f.len, SF_HDR + SF_ID_LEN);
	m = decode(&f);
	ck_assert_int_eq(m.type, SF_CANCEL);
	ck_assert_str_eq(m.id, ID);
	/* an id that is not 36 bytes is not encoded */
	buf_reset(&f);
	ck_assert_int_eq(sf_encode_cancel(&f, "short"), -1);
	ck_assert_int_eq(sf_encode_task(&f, "short", 1, 1, 0, "x", "", 0), -1);
	buf_release(&f);
}
END_TEST

START_TEST(test_replies_roundtrip)
{
	struct buf f = BUF_INIT;
	struct sf_msg m;

	ck_assert_int_eq(sf_encode_reply(&f, SF_READY, NULL, 0, "node tq 1",
	    9), 0);
	m = decode(&f);
	ck_assert_int_eq(m.type, SF_READY);
	ck_assert_uint_eq(m.version, SF_VERSION);
	ck_assert_uint_eq(m.len, 9);
	buf_reset(&f);
	ck_assert_int_eq(sf_encode_reply(&f, SF_PROGRESS, ID, 40, "resizing",
	    8), 0);
	m = decode(&f);
	ck_assert_int_eq(m.type, SF_PROGRESS);
	ck_assert_uint_eq(m.pct, 40);
	ck_assert(m.len == 8 && memcmp(m.data, "resizing", 8) == 0);
	buf_reset(&f);
	ck_assert_int_eq(sf_encode_reply(&f, SF_OK, ID, 0, "", 0), 0);
	m = decode(&f);
	ck_assert_int_eq(m.type, SF_OK);
	ck_assert_uint_eq(m.len, 0);
	buf_reset(&f);
	ck_assert_int_eq(sf_encode_reply(&f, SF_ERROR, ID, 0, "no disk", 7),
	    0);
	m = decode(&f);
	ck_assert_int_eq(m.type, SF_ERROR);
	ck_assert_str_eq(m.id, ID);
	ck_assert(m.len == 7 && memcmp(m.data, "no disk", 7) == 0);
	buf_release(&f);
}
END_TEST

/* A stream cut anywhere asks for more; two frames back to back come out
 * one at a time. */
START_TEST(test_partial_and_stream)
{
	struct buf f = BUF_INIT;
	struct sf_msg m;
	char err[128];
	size_t used, i, first;

	ck_assert_int_eq(sf_encode_reply(&f, SF_PROGRESS, ID, 5, "a", 1), 0);
	first = f.len;
	ck_assert_int_eq(sf_encode_reply(&f, SF_OK, ID, 0, "result", 6), 0);
	for (i = 0; i < first; i++)
		ck_assert_int_eq(sf_parse(f.data, i, &m, &used, err,
		    sizeof(err)), 0);
	ck_assert_int_eq(sf_parse(f.data, f.len, &m, &used, err, sizeof(err)),
	    1);
	ck_assert_int_eq(m.type, SF_PROGRESS);
	ck_assert_uint_eq(used, first);
	ck_assert_int_eq(sf_parse(f.data + used, f.len - used, &m, &used, err,
	    sizeof(err)), 1);
	ck_assert_int_eq(m.type, SF_OK);
	ck_assert(m.len == 6 && memcmp(m.data, "result", 6) == 0);
	buf_release(&f);
}
END_TEST

START_TEST(test_malformed)
{
	uint8_t b[600];
	struct buf f = BUF_INIT;
	int type;
	size_t total;
	char err[128];

	/* length 0, length past the largest frame */
	rejects("\0\0\0\0O", 5, "frame length 0");
	rejects("\x41\x00\x00\x04O", 5, "out of range");
	/* text where a frame should be: a huge length */
	rejects("hello, world\n", 13, "out of range");
	/* an unknown type, known at the header already */
	rejects("\x01\x00\x00\x00Z", 5, "unknown frame type 0x5a");
	ck_assert_int_eq(sf_header("\x01\x00\x00\x00Z", 5, &type, &total,
	    err, sizeof(err)), -1);
	ck_assert_int_eq(sf_header("\x01\x00\x00", 3, &type, &total, err,
	    sizeof(err)), 0);
	/* bodies too short for their type */
	rejects("\x01\x00\x00\x00O", 5, "want at least 36");
	rejects("\x03\x00\x00\x00R\x01\x00", 7, "want at least 4");
	memset(b, 0, sizeof(b));
	memcpy(b, "\x25\x00\x00\x00P", 5);
	memcpy(b + 5, ID, 36);
	rejects(b, 5 + 36, "want at least 37");
	/* CANCEL is exactly an id */
	memcpy(b, "\x26\x00\x00\x00" "C", 5);
	rejects(b, 5 + 37, "want exactly 36");
	/* READY of another version */
	rejects("\x05\x00\x00\x00R\x02\x00\x00\x00", 9, "protocol version 2");
	/* an id that is not a text UUID */
	memcpy(b, "\x25\x00\x00\x00O", 5);
	memset(b + 5, 'x', 36);
	rejects(b, 5 + 36, "not a text UUID");
	memcpy(b + 5, ID, 36);
	b[5 + 8] = 'x';
	rejects(b, 5 + 36, "not a text UUID");
	/* progress over 100, a message over 255 bytes */
	ck_assert_int_eq(sf_encode_reply(&f, SF_PROGRESS, ID, 50, "m", 1), 0);
	f.data[SF_HDR + SF_ID_LEN] = (char)101;
	rejects(f.data, f.len, "progress 101 is over 100");
	buf_reset(&f);
	memset(b, 'm', sizeof(b));
	ck_assert_int_eq(sf_encode_reply(&f, SF_PROGRESS, ID, 50, b, 256), 0);
	rejects(f.data, f.len, "message of 256 bytes exceeds 255");
	buf_reset(&f);
	ck_assert_int_eq(sf_encode_reply(&f, SF_PROGRESS, ID, 50, b, 255), 0);
	(void)decode(&f);
	/* TASK whose name runs past the frame */
	buf_reset(&f);
	ck_assert_int_eq(sf_encode_task(&f, ID, 1, 1, 0, "name", "", 0), 0);
	f.data[SF_HDR + SF_ID_LEN + 12] = 9;
	rejects(f.data, f.len, "name of 9 bytes in 4");
	buf_release(&f);
}
END_TEST

/* Random bytes never crash the decoder, and what it accepts it sized. */
START_TEST(test_random_bytes)
{
	uint8_t b[128];
	struct sf_msg m;
	char err[128];
	size_t used, n;
	int i, j, r;

	srandom(16);
	for (i = 0; i < 200000; i++) {
		n = (size_t)(random() % (long)sizeof(b));
		for (j = 0; j < (int)n; j++)
			b[j] = (uint8_t)random();
		if (n >= 4 && (i & 1)) {
			/* plausible lengths, so that bodies get decoded */
			b[0] = (uint8_t)(random() % (long)(n + 1));
			b[1] = b[2] = b[3] = 0;
			b[4] = (uint8_t)"TCRPOE"[random() % 6];
		}
		r = sf_parse(b, n, &m, &used, err, sizeof(err));
		if (r == 1) {
			ck_assert_uint_le(used, n);
			ck_assert_uint_le(m.len, n);
		}
	}
}
END_TEST

Suite *
serve_suite(void)
{
	Suite *s = suite_create("serve");
	TCase *tc = tcase_create("frames");

	tcase_add_test(tc, test_task_roundtrip);
	tcase_add_test(tc, test_empty_payload_and_cancel);
	tcase_add_test(tc, test_replies_roundtrip);
	tcase_add_test(tc, test_partial_and_stream);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_random_bytes);
	suite_add_tcase(s, tc);
	return s;
}
