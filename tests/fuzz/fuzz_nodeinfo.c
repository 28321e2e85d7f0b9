/*
 * fuzz_nodeinfo.c: web_node_info (cli/web_nodes.c), which reads what a
 * supervisor wrote of its workers into its node row (tq_nodes.info, any
 * text a node, or whoever can write that table, put there). Whatever the
 * text: an object with the instance as a string, and pools and workers
 * both arrays or both null; every worker a known state and numbers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client.h"
#include "web.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The rest of tq web, which web_util.c names but these do not use. */
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
	fprintf(stderr, "fuzz_nodeinfo: invariant violated: %s\n", what);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *o, *pools, *workers, *w;
	char *s;
	size_t i;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if ((o = web_node_info(s)) == NULL)
		fail("no object");
	if (!json_is_string(json_object_get(o, "instance")))
		fail("instance is not a string");
	pools = json_object_get(o, "pools");
	workers = json_object_get(o, "workers");
	if (json_is_null(pools) != json_is_null(workers))
		fail("pools and workers: one null, one not");
	if (!json_is_null(pools) && (!json_is_array(pools) ||
	    !json_is_array(workers)))
		fail("pools or workers not an array");
	json_array_foreach(workers, i, w)
		if (!json_is_string(json_object_get(w, "state")) ||
		    !json_is_integer(json_object_get(w, "pid")) ||
		    json_integer_value(json_object_get(w, "rss_kb")) < 0)
			fail("a worker without state, pid or rss");
	json_decref(o);
	free(s);
	return 0;
}
