/*
 * fuzz_progress.c: exec_progress_line (worker/exec.c), the "progress PCT
 * [MESSAGE]" lines a task program writes on fd 3, on a NUL-terminated copy
 * of the input. On success: the line starts with "progress ", the percent
 * is 0..100, and the message points into the line, past the number and
 * the blanks after it. On failure the outputs are untouched.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void __attribute__((noreturn))
fail(const char *what, const char *in)
{
	fprintf(stderr, "fuzz_progress: invariant violated: %s\n"
	    "  input: \"%s\"\n", what, in);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg = NULL;
	unsigned pct = 12345;
	size_t len;
	char *s;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	len = strlen(s);
	if (exec_progress_line(s, &pct, &msg) != 0) {
		if (pct != 12345 || msg != NULL)
			fail("outputs changed on failure", s);
		free(s);
		return 0;
	}
	if (strncmp(s, "progress ", 9) != 0)
		fail("accepted a line not starting with \"progress \"", s);
	if (pct > 100)
		fail("percent above 100", s);
	if (msg == NULL || msg < s + 10 || msg > s + len)
		fail("message does not point into the line", s);
	if (*msg == ' ')
		fail("message starts with a blank", s);
	if (memchr(s + 9, ' ', (size_t)(msg - s - 9)) == NULL &&
	    msg != s + len)
		fail("message not separated from the number", s);
	free(s);
	return 0;
}
