/* test_proto.c: supervisor <-> worker frames. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>

#include "proto.h"
#include "suites.h"

static struct frame
roundtrip(const struct frame *in)
{
	uint8_t buf[PROTO_MAX];
	struct frame out;
	char err[128];
	int n;

	n = proto_encode(in, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(proto_decode(buf, (size_t)n, &out, err, sizeof(err)),
	    0);
	return out;
}

START_TEST(test_hello_roundtrip)
{
	struct frame f, g;

	memset(&f, 0, sizeof(f));
	f.type = P_HELLO;
	f.u.hello.pid = 123456;
	strcpy(f.u.hello.owner, "node-1:123456:deadbeef");
	g = roundtrip(&f);
	ck_assert_int_eq(g.type, P_HELLO);
	ck_assert_uint_eq(g.u.hello.pid, 123456);
	ck_assert_str_eq(g.u.hello.owner, "node-1:123456:deadbeef");
}
END_TEST

START_TEST(test_heartbeat_roundtrip)
{
	struct frame f, g;
	int i;

	memset(&f, 0, sizeof(f));
	f.type = P_HEARTBEAT;
	f.u.hb.state = WS_BUSY;
	f.u.hb.progress = 42;
	f.u.hb.inflight = 31;
	for (i = 0; i < UUID_LEN; i++)
		f.u.hb.task.b[i] = (uint8_t)(i * 7 + 1);
	f.u.hb.fence = 0x0102030405060708ULL;
	f.u.hb.rss_kb = 6400;
	f.u.hb.loop_age_ms = 17;
	f.u.hb.succeeded = 1ULL << 40;
	f.u.hb.failed = 3;
	g = roundtrip(&f);
	ck_assert_int_eq(g.type, P_HEARTBEAT);
	ck_assert_int_eq(g.u.hb.state, WS_BUSY);
	ck_assert_int_eq(g.u.hb.progress, 42);
	ck_assert_int_eq(g.u.hb.inflight, 31);
	ck_assert_mem_eq(g.u.hb.task.b, f.u.hb.task.b, UUID_LEN);
	ck_assert_uint_eq(g.u.hb.fence, 0x0102030405060708ULL);
	ck_assert_uint_eq(g.u.hb.rss_kb, 6400);
	ck_assert_uint_eq(g.u.hb.loop_age_ms, 17);
	ck_assert_uint_eq(g.u.hb.succeeded, 1ULL << 40);
	ck_assert_uint_eq(g.u.hb.failed, 3);
}
END_TEST

START_TEST(test_task_and_control_roundtrip)
{
	static const enum proto_type types[] = { P_TASK_BEGIN, P_TASK_END,
	    P_CANCEL, P_DRAIN, P_SHUTDOWN };
	struct frame f, g;
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		memset(&f, 0, sizeof(f));
		f.type = types[i];
		if (f.type == P_CANCEL)
			memset(f.u.cancel.task.b, 0xab, UUID_LEN);
		else if (f.type != P_DRAIN && f.type != P_SHUTDOWN) {
			memset(f.u.task.task.b, 0xcd, UUID_LEN);
			f.u.task.fence = 99;
			f.u.task.attempt = 2;
			f.u.task.ok = 1;
		}
		g = roundtrip(&f);
		ck_assert_int_eq(g.type, types[i]);
		ck_assert_mem_eq(&g.u, &f.u, sizeof(f.u));
	}
}
END_TEST

START_TEST(test_task_done_roundtrip)
{
	uint8_t buf[PROTO_MAX];
	struct frame f, g;
	char err[128];
	int n;

	memset(&f, 0, sizeof(f));
	f.type = P_TASK_DONE;
	f.u.done.outcome = 2;
	f.u.done.timed_out = 1;
	f.u.done.run_us = 123456789;
	f.u.done.wait_us = UINT64_MAX;
	memset(f.u.done.name, 'n', PROTO_NAME_MAX);
	g = roundtrip(&f);
	ck_assert_int_eq(g.type, P_TASK_DONE);
	ck_assert_uint_eq(g.u.done.outcome, 2);
	ck_assert_uint_eq(g.u.done.timed_out, 1);
	ck_assert_uint_eq(g.u.done.run_us, 123456789);
	ck_assert(g.u.done.wait_us == UINT64_MAX);
	ck_assert_uint_eq(strlen(g.u.done.name), PROTO_NAME_MAX);
	/* An unknown outcome, an empty name, padding after it: refused. */
	strcpy(f.u.done.name, "tq.echo");
	n = proto_encode(&f, buf, sizeof(buf));
	buf[PROTO_HDR] = 9;
	ck_assert_int_eq(proto_decode(buf, (size_t)n, &g, err, sizeof(err)),
	    -1);
	buf[PROTO_HDR] = 0;
	buf[PROTO_HDR + 19 + 8] = 'x';
	ck_assert_int_eq(proto_decode(buf, (size_t)n, &g, err, sizeof(err)),
	    -1);
	buf[PROTO_HDR + 19 + 8] = 0;
	buf[PROTO_HDR + 18] = 0;
	ck_assert_int_eq(proto_decode(buf, (size_t)n, &g, err, sizeof(err)),
	    -1);
}
END_TEST

START_TEST(test_decode_rejects)
{
	uint8_t buf[PROTO_MAX + 8];
	struct frame f;
	char err[128];
	int n;

	memset(&f, 0, sizeof(f));
	f.type = P_HEARTBEAT;
	n = proto_encode(&f, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	/* short, header only, one byte less, one byte more */
	ck_assert_int_eq(proto_decode(buf, 2, &f, err, sizeof(err)), -1);
	ck_assert_int_eq(proto_decode(buf, PROTO_HDR, &f, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(proto_decode(buf, (size_t)n - 1, &f, err,
	    sizeof(err)), -1);
	buf[n] = 0;
	ck_assert_int_eq(proto_decode(buf, (size_t)n + 1, &f, err,
	    sizeof(err)), -1);
	/* wrong version */
	buf[0] = PROTO_VERSION + 1;
	ck_assert_int_eq(proto_decode(buf, (size_t)n, &f, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "version"));
	buf[0] = PROTO_VERSION;
	/* unknown type */
	buf[1] = 99;
	ck_assert_int_eq(proto_decode(buf, (size_t)n, &f, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "unknown"));
	buf[1] = P_HEARTBEAT;
	/* length field disagreeing with the packet */
	buf[2]++;
	ck_assert_int_eq(proto_decode(buf, (size_t)n, &f, err, sizeof(err)),
	    -1);
	buf[2]--;
	/* progress past 100 */
	buf[PROTO_HDR + 1] = 101;
	ck_assert_int_eq(proto_decode(buf, (size_t)n, &f, err, sizeof(err)),
	    -1);
	buf[PROTO_HDR + 1] = 100;
	ck_assert_int_eq(proto_decode(buf, (size_t)n, &f, err, sizeof(err)),
	    0);
}
END_TEST

START_TEST(test_hello_bad_owner)
{
	uint8_t buf[PROTO_MAX];
	struct frame f;
	char err[128];
	int n;

	memset(&f, 0, sizeof(f));
	f.type = P_HELLO;
	strcpy(f.u.hello.owner, "abc");
	n = proto_encode(&f, buf, sizeof(buf));
	/* owner length past the field */
	buf[PROTO_HDR + 4] = PROTO_OWNER_MAX + 1;
	ck_assert_int_eq(proto_decode(buf, (size_t)n, &f, err, sizeof(err)),
	    -1);
	/* a NUL inside the owner */
	buf[PROTO_HDR + 4] = 3;
	buf[PROTO_HDR + 6] = '\0';
	ck_assert_int_eq(proto_decode(buf, (size_t)n, &f, err, sizeof(err)),
	    -1);
}
END_TEST

START_TEST(test_fuzz_decode)
{
	uint8_t buf[PROTO_MAX];
	struct frame f;
	char err[128];
	size_t len, i;
	int k;

	srand(7);
	for (k = 0; k < 50000; k++) {
		len = (size_t)rand() % sizeof(buf);
		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)rand();
		if (len >= 2 && (k & 1)) {
			buf[0] = PROTO_VERSION;
			buf[1] = (uint8_t)(1 + rand() % 20);
		}
		(void)proto_decode(buf, len, &f, err, sizeof(err));
	}
}
END_TEST

START_TEST(test_send_over_seqpacket)
{
	uint8_t buf[PROTO_MAX];
	struct frame f, g;
	char err[128];
	ssize_t n;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	memset(&f, 0, sizeof(f));
	f.type = P_TASK_BEGIN;
	f.u.task.fence = 5;
	ck_assert_int_eq(proto_send(sv[0], &f), 0);
	f.type = P_DRAIN;
	ck_assert_int_eq(proto_send(sv[0], &f), 0);
	n = recv(sv[1], buf, sizeof(buf), 0);
	ck_assert_int_eq(proto_decode(buf, (size_t)n, &g, err, sizeof(err)), 0);
	ck_assert_int_eq(g.type, P_TASK_BEGIN);
	ck_assert_uint_eq(g.u.task.fence, 5);
	n = recv(sv[1], buf, sizeof(buf), 0);
	ck_assert_int_eq(proto_decode(buf, (size_t)n, &g, err, sizeof(err)), 0);
	ck_assert_int_eq(g.type, P_DRAIN);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

Suite *
proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("frames");

	tcase_add_test(tc, test_hello_roundtrip);
	tcase_add_test(tc, test_heartbeat_roundtrip);
	tcase_add_test(tc, test_task_and_control_roundtrip);
	tcase_add_test(tc, test_task_done_roundtrip);
	tcase_add_test(tc, test_decode_rejects);
	tcase_add_test(tc, test_hello_bad_owner);
	tcase_add_test(tc, test_fuzz_decode);
	tcase_add_test(tc, test_send_over_seqpacket);
	suite_add_tcase(s, tc);
	return s;
}
