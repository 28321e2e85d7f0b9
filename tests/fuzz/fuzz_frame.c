/*
 * fuzz_frame.c: proto_decode (lib/proto.c), the supervisor <-> worker
 * frames. On success proto_encode of the decoded frame must give back the
 * input byte for byte: every accepted frame has one meaning, and the
 * decoder accepts nothing the encoder could not have written.
 * FUZZ_SKIP=hello-padding leaves out the bytes after a hello's owner.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int skip_padding;


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	skip_padding = skipped("hello-padding");
	return 0;
}

static void
hexdump(const char *what, const uint8_t *p, size_t n)
{
	size_t i;

	fprintf(stderr, "%s (%zu bytes):", what, n);
	for (i = 0; i < n; i++)
		fprintf(stderr, "%s%02x", i % 32 ? " " : "\n  ", p[i]);
	fprintf(stderr, "\n");
}

static void __attribute__((noreturn))
fail(const char *what, const uint8_t *in, size_t inlen, const uint8_t *out,
    int outlen)
{
	size_t i;

	fprintf(stderr, "fuzz_frame: invariant violated: %s\n", what);
	hexdump("input", in, inlen);
	if (out != NULL && outlen >= 0) {
		hexdump("re-encoded", out, (size_t)outlen);
		for (i = 0; i < inlen && i < (size_t)outlen; i++)
			if (in[i] != out[i]) {
				fprintf(stderr, "first difference at byte %zu"
				    " (body offset %zu): 0x%02x vs 0x%02x\n",
				    i, i - PROTO_HDR, in[i], out[i]);
				break;
			}
	}
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame f, g;
	uint8_t out[PROTO_MAX], out2[PROTO_MAX];
	char err[256];
	size_t cmp;
	int n, n2;

	err[0] = '\0';
	if (proto_decode(data, size, &f, err, sizeof(err)) != 0) {
		if (err[0] == '\0')
			fail("failure without a reason", data, size, NULL, -1);
		return 0;
	}
	if (size > PROTO_MAX)
		fail("accepted a frame larger than PROTO_MAX", data, size,
		    NULL, -1);
	n = proto_encode(&f, out, sizeof(out));
	if (n < 0 || (size_t)n != size)
		fail("re-encode: wrong length", data, size, out, n);
	/* FUZZ_SKIP=hello-padding: compare a hello only up to its owner's
	 * end (the decoder does not check the zero padding after it). */
	cmp = size;
	if (skip_padding && f.type == P_HELLO)
		cmp = PROTO_HDR + 5 + strlen(f.u.hello.owner);
	if (memcmp(out, data, cmp) != 0)
		fail("re-encode: bytes differ", data, size, out, n);
	/* And the encoding decodes to the same frame (same bytes again). */
	if (proto_decode(out, (size_t)n, &g, err, sizeof(err)) != 0)
		fail("re-encoded frame does not decode", data, size, out, n);
	n2 = proto_encode(&g, out2, sizeof(out2));
	if (n2 != n || memcmp(out, out2, (size_t)n) != 0)
		fail("decode/encode not stable", data, size, out2, n2);
	/* The encoder refuses a buffer one byte short. */
	if (proto_encode(&f, out2, (size_t)n - 1) != -1)
		fail("encode into a too small buffer did not fail", data, size,
		    NULL, -1);
	return 0;
}
