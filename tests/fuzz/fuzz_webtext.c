/*
 * fuzz_webtext.c: web_text (cli/web_util.c), which turns a task's payload,
 * result or error (any bytes a producer or handler wrote) into the JSON
 * string tq web serves. Whatever the bytes: a string (never NULL: jansson
 * refuses invalid UTF-8, so a gap in the cleaner would show here), no
 * longer than max, equal to the input when that is valid UTF-8 and short
 * enough.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client.h"
#include "web.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The rest of tq web, which web_util.c names but web_text does not use. */
struct web W;

int
client_store_failed(struct client *c)
{
	(void)c;
	return -1;
}

static void __attribute__((noreturn))
fail(const char *what)
{
	fprintf(stderr, "fuzz_webtext: invariant violated: %s\n", what);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max = size ? data[0] * 8 + 3 : 64, n;
	const char *s;
	json_t *j;

	if (size > 0) {
		data++;
		size--;
	}
	if ((j = web_text(data, size, max)) == NULL)
		fail("no string (invalid UTF-8 reached jansson)");
	if (!json_is_string(j))
		fail("not a string");
	s = json_string_value(j);
	n = json_string_length(j);
	if (n > max)
		fail("longer than max");
	/* Valid input that fits comes back unchanged. */
	if (size <= max) {
		json_t *v = json_stringn((const char *)data, size);

		if (v != NULL && (n != size || memcmp(s, data, size) != 0))
			fail("valid UTF-8 changed");
		json_decref(v);
	}
	json_decref(j);
	return 0;
}
