/*
 * plugin.c: a handler plugin. Built as a shared object and loaded with
 *   tq-worker --plugin example-plugin.so
 * it registers "example.reverse": the result is the payload reversed.
 */
#include <stdlib.h>
#include <string.h>

#include "tq.h"

static int
reverse(tq_job *job)
{
	const char *p;
	size_t len, i;
	char *out;

	p = tq_job_payload(job, &len);
	if (len == 0) {
		tq_job_error(job, "nothing to reverse");
		return -1;
	}
	if ((out = malloc(len)) == NULL) {
		tq_job_error(job, "out of memory");
		return -1;
	}
	for (i = 0; i < len; i++) {
		out[i] = p[len - 1 - i];
		if (i == len / 2)
			tq_job_progress(job, 50, "half way");
	}
	i = (size_t)tq_job_result(job, out, len);
	free(out);
	return i == 0 ? 0 : -1;
}

int
tq_plugin_init(tq_register_fn register_handler)
{
	return register_handler("example.reverse", reverse);
}
