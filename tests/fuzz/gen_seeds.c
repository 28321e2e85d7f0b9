/*
 * gen_seeds.c: the binary seeds of tests/fuzz/corpus/{msg,frame}, written
 * by the project's own encoders (task_msg_encode, proto_encode), plus a few
 * edge cases derived from them. Run by tests/fuzz/gen-seeds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "task.h"

static const char *dir;

static void
put(const char *sub, const char *name, const void *p, size_t n)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	if ((fp = fopen(path, "wb")) == NULL || fwrite(p, 1, n, fp) != n ||
	    fclose(fp) != 0) {
		perror(path);
		exit(1);
	}
}

static void
msgs(void)
{
	static uint8_t out[TASK_MSG_OVERHEAD + TASK_NAME_MAX + 4096];
	struct uuid id;
	char name[TASK_NAME_MAX + 1];
	uint8_t payload[1024];
	long n;

	for (int i = 0; i < UUID_LEN; i++)
		id.b[i] = (uint8_t)(0x10 + i);
	id.b[6] = 0x70 | (id.b[6] & 0x0f);	/* looks like a v7 */
	n = task_msg_encode(&id, "echo", "{\"x\":1}", 7, out, sizeof(out));
	put("msg", "valid-echo", out, (size_t)n);
	n = task_msg_encode(&id, "tq.sleep", "", 0, out, sizeof(out));
	put("msg", "valid-empty-payload", out, (size_t)n);
	n = task_msg_encode(&id, "a", "x", 1, out, sizeof(out));
	put("msg", "valid-min-name", out, (size_t)n);
	memset(name, 'n', TASK_NAME_MAX);
	name[TASK_NAME_MAX] = '\0';
	memset(payload, 0xff, sizeof(payload));
	n = task_msg_encode(&id, name, payload, sizeof(payload), out,
	    sizeof(out));
	put("msg", "valid-max-name", out, (size_t)n);
	n = task_msg_encode(&id, "img.resize:v2-x_y", "\0\1\2", 3, out,
	    sizeof(out));
	put("msg", "valid-punct-name", out, (size_t)n);

	/* Edge cases, from a valid body. */
	n = task_msg_encode(&id, "echo", "abc", 3, out, sizeof(out));
	put("msg", "edge-truncated", out, (size_t)n - 1);
	out[n] = 'x';
	put("msg", "edge-trailing-byte", out, (size_t)n + 1);
	out[2] = 2;
	put("msg", "edge-version-2", out, (size_t)n);
	out[2] = 1;
	out[3] = 0x80;
	put("msg", "edge-flags", out, (size_t)n);
	out[3] = 0;
	out[4 + UUID_LEN] = 0xff;		/* name_len past the end */
	put("msg", "edge-name-len", out, (size_t)n);
	out[4 + UUID_LEN] = 4;
	out[5 + UUID_LEN + 1] = '\0';		/* NUL inside the name */
	put("msg", "edge-name-nul", out, (size_t)n);
	out[5 + UUID_LEN + 1] = 'c';
	out[5 + UUID_LEN + 4] = 0x7f;		/* payload_len huge */
	put("msg", "edge-payload-len", out, (size_t)n);
	put("msg", "edge-header-only", out, TASK_MSG_OVERHEAD);
}

static void
frames(void)
{
	uint8_t out[PROTO_MAX];
	struct frame f;
	int n;

	memset(&f, 0, sizeof(f));
	f.type = P_HELLO;
	f.u.hello.pid = 4242;
	snprintf(f.u.hello.owner, sizeof(f.u.hello.owner), "node1:pool-a:3");
	n = proto_encode(&f, out, sizeof(out));
	put("frame", "valid-hello", out, (size_t)n);
	memset(f.u.hello.owner, 'o', PROTO_OWNER_MAX);
	f.u.hello.owner[PROTO_OWNER_MAX] = '\0';
	n = proto_encode(&f, out, sizeof(out));
	put("frame", "valid-hello-max-owner", out, (size_t)n);
	f.u.hello.owner[0] = '\0';
	n = proto_encode(&f, out, sizeof(out));
	put("frame", "valid-hello-empty-owner", out, (size_t)n);

	memset(&f, 0, sizeof(f));
	f.type = P_HEARTBEAT;
	f.u.hb.state = WS_BUSY;
	f.u.hb.progress = 100;
	f.u.hb.inflight = 3;
	for (int i = 0; i < UUID_LEN; i++)
		f.u.hb.task.b[i] = (uint8_t)i;
	f.u.hb.fence = 0x0102030405060708ULL;
	f.u.hb.rss_kb = 65536;
	f.u.hb.loop_age_ms = 12;
	f.u.hb.succeeded = 1000;
	f.u.hb.failed = 2;
	f.u.hb.duplicates = 1;
	n = proto_encode(&f, out, sizeof(out));
	put("frame", "valid-heartbeat", out, (size_t)n);
	out[PROTO_HDR + 1] = 101;		/* progress > 100 */
	put("frame", "edge-heartbeat-progress", out, (size_t)n);

	memset(&f, 0, sizeof(f));
	f.type = P_TASK_BEGIN;
	f.u.task.fence = 7;
	f.u.task.attempt = 2;
	n = proto_encode(&f, out, sizeof(out));
	put("frame", "valid-task-begin", out, (size_t)n);
	f.type = P_TASK_END;
	f.u.task.ok = 1;
	n = proto_encode(&f, out, sizeof(out));
	put("frame", "valid-task-end", out, (size_t)n);
	put("frame", "edge-task-end-short", out, (size_t)n - 1);

	memset(&f, 0, sizeof(f));
	f.type = P_CANCEL;
	memset(f.u.cancel.task.b, 0xab, UUID_LEN);
	n = proto_encode(&f, out, sizeof(out));
	put("frame", "valid-cancel", out, (size_t)n);
	f.type = P_DRAIN;
	n = proto_encode(&f, out, sizeof(out));
	put("frame", "valid-drain", out, (size_t)n);
	f.type = P_SHUTDOWN;
	n = proto_encode(&f, out, sizeof(out));
	put("frame", "valid-shutdown", out, (size_t)n);
	out[0] = 2;				/* version 2 */
	put("frame", "edge-version", out, (size_t)n);
	out[0] = 1;
	out[1] = 99;				/* unknown type */
	put("frame", "edge-type", out, (size_t)n);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds CORPUS_DIR\n");
		return 2;
	}
	dir = argv[1];
	msgs();
	frames();
	return 0;
}
