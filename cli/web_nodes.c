/* web_nodes.c: what a supervisor tells of its workers in its node row
 * (tq_nodes.info after the instance and a '|'; supervisor/db.c writes it),
 * as JSON for the nodes page: the pools' restarts, hang kills and failing
 * mark, and each worker's state, pid, RSS, restarts, hang kills and
 * heartbeat age. Text that does not parse is shown as not reported. */
#include <stdlib.h>
#include <string.h>

#include "util.h"

#include "web.h"

static const char *
state_name(char c)
{
	switch (c) {
	case 'i': return "idle";
	case 'b': return "busy";
	case 'd': return "draining";
	case 'n': return "starting";
	case 's': return "stopping";
	case 'x': return "down";
	case 'f': return "failing";
	default: return NULL;
	}
}

/* n numbers separated by '/' from s (whole): 0, or -1. */
static int
numbers(char *s, long long *v, int n)
{
	const char *errstr;
	char *f;
	int i;

	for (i = 0; i < n; i++) {
		if ((f = strsep(&s, "/")) == NULL ||
		    parse_num(f, 0, 1LL << 40, &v[i], &errstr) == -1)
			return -1;
	}
	return s == NULL ? 0 : -1;
}

/* One pool, "NAME=R/H/F;W,W,...", into pools and workers: 0, or -1. */
static int
pool_parse(char *s, json_t *pools, json_t *workers)
{
	char *name = s, *eq, *semi, *w;
	long long v[5];
	const char *st;
	int slot = 0;

	if ((eq = strchr(s, '=')) == NULL || (semi = strchr(eq, ';')) == NULL)
		return -1;
	*eq = *semi = '\0';
	if (numbers(eq + 1, v, 3) == -1)
		return -1;
	json_array_append_new(pools, json_pack("{s:o, s:I, s:I, s:b}", "name",
	    web_text(name, strlen(name), 64), "restarts", (json_int_t)v[0],
	    "hang_kills", (json_int_t)v[1], "failing", v[2] != 0));
	s = semi + 1;
	while ((w = strsep(&s, ",")) != NULL && *w != '\0') {
		if ((st = state_name(w[0])) == NULL || numbers(w + 1, v, 5) == -1)
			return -1;
		json_array_append_new(workers, json_pack("{s:o, s:i, s:s, s:I, "
		    "s:I, s:I, s:I, s:I}", "pool", web_text(name, strlen(name),
		    64), "slot", slot++, "state", st, "pid", (json_int_t)v[0],
		    "rss_kb", (json_int_t)v[1], "restarts", (json_int_t)v[2],
		    "hang_kills", (json_int_t)v[3], "heartbeat_age_s",
		    (json_int_t)v[4]));
	}
	return 0;
}

json_t *
web_node_info(const char *info)
{
	json_t *o, *pools, *workers;
	char *copy, *bar, *s, *tok;
	long long left = 0;
	const char *errstr;

	if ((o = json_object()) == NULL)
		return NULL;
	if (info == NULL)
		info = "";
	bar = strchr(info, '|');
	json_object_set_new(o, "instance", web_text(info, bar ? (size_t)(bar -
	    info) : strlen(info), 255));
	/* A supervisor that does not tell (an older one): null. */
	json_object_set_new(o, "pools", json_null());
	json_object_set_new(o, "workers", json_null());
	if (bar == NULL || (copy = strdup(bar + 1)) == NULL)
		return o;
	pools = json_array();
	workers = json_array();
	for (s = copy; (tok = strsep(&s, " ")) != NULL;) {
		if (tok[0] == '+') {
			if (parse_num(tok + 1, 0, 1 << 20, &left, &errstr) == -1)
				goto bad;
		} else if (pool_parse(tok, pools, workers) == -1)
			goto bad;
	}
	free(copy);
	json_object_set_new(o, "pools", pools);
	json_object_set_new(o, "workers", workers);
	json_object_set_new(o, "workers_left_out", json_integer(left));
	return o;
bad:
	free(copy);
	json_decref(pools);
	json_decref(workers);
	return o;
}
