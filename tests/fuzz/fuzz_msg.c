/*
 * fuzz_msg.c: task_msg_decode (lib/task.c), the broker message body.
 * On success the decoded message must describe exactly the input: the
 * payload lies inside it and ends with it, the lengths add up, the name is
 * a valid task name, and task_msg_encode gives back the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task.h"

#define PAYLOAD_MAX	(1u << 20)	/* 1 MiB */

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void __attribute__((noreturn))
fail(const char *what)
{
	fprintf(stderr, "fuzz_msg: invariant violated: %s\n", what);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct task_msg m;
	char err[256];
	uint8_t *out;
	long n;

	memset(&m, 0, sizeof(m));
	err[0] = '\0';
	if (task_msg_decode(data, size, PAYLOAD_MAX, &m, err, sizeof(err)) != 0) {
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
			fail("failure without a reason");
		if (m.has_id && (size < 4 + UUID_LEN ||
		    memcmp(m.id.b, data + 4, UUID_LEN) != 0))
			fail("has_id set but id is not bytes 4..19");
		return 0;
	}
	if (!m.has_id || memcmp(m.id.b, data + 4, UUID_LEN) != 0)
		fail("id is not bytes 4..19");
	if (memchr(m.name, '\0', sizeof(m.name)) == NULL)
		fail("name not NUL-terminated");
	if (!task_name_ok(m.name, TASK_NAME_MAX))
		fail("name fails task_name_ok");
	if (TASK_MSG_OVERHEAD + strlen(m.name) + m.payload_len != size)
		fail("OVERHEAD + strlen(name) + payload_len != len");
	if (m.payload_len > PAYLOAD_MAX)
		fail("payload_len above payload_max");
	if (m.payload == NULL || m.payload < data ||
	    m.payload > data + size ||
	    m.payload_len > (size_t)(data + size - m.payload))
		fail("payload not inside the buffer");
	if (m.payload + m.payload_len != data + size)
		fail("payload does not end with the body");
	if (memcmp(data + 5 + UUID_LEN, m.name, strlen(m.name)) != 0)
		fail("name is not the bytes after the length");

	/* A tighter limit must refuse the same body. */
	if (m.payload_len > 0) {
		struct task_msg m2;

		if (task_msg_decode(data, size, m.payload_len - 1, &m2, err,
		    sizeof(err)) == 0)
			fail("payload_max not enforced");
	}

	/* Round trip: the encoder gives back the very same bytes. */
	if ((out = malloc(size)) == NULL)
		return 0;
	n = task_msg_encode(&m.id, m.name, m.payload, m.payload_len, out,
	    size);
	if (n < 0 || (size_t)n != size)
		fail("re-encode: wrong length");
	if (memcmp(out, data, size) != 0)
		fail("re-encode: bytes differ");
	if (task_msg_encode(&m.id, m.name, m.payload, m.payload_len, out,
	    size - 1) != -1)
		fail("encode into a too small buffer did not fail");
	free(out);
	return 0;
}
