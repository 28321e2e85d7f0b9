/* tq workers, and control_query: a supervisor asked over its control socket
 * (tq top asks it too). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "util.h"

#include "cli.h"

/* The supervisor's "workers" answer, or NULL with why. */
json_t *
control_query(const char *path, char *why, size_t whysz)
{
	struct sockaddr_un sa;
	struct buf in = BUF_INIT;
	json_error_t jerr;
	char chunk[4096];
	json_t *j;
	ssize_t n;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(why, whysz, "control socket path too long");
		return NULL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    write(fd, "workers\n", 8) != 8) {
		snprintf(why, whysz, "control socket \"%s\": %s (is "
		    "tq-supervisor running?)", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(&in, chunk, (size_t)n) == -1)
			break;
	close(fd);
	if (in.len == 0) {
		snprintf(why, whysz, "control socket \"%s\": no answer "
		    "(refused?)", path);
		buf_release(&in);
		return NULL;
	}
	j = json_loadb(in.data, in.len, 0, &jerr);
	buf_release(&in);
	if (j == NULL)
		snprintf(why, whysz, "control socket: bad answer: %s",
		    jerr.text);
	return j;
}

static void
usage_workers(FILE *fp)
{
	fprintf(fp,
"usage: tq workers [--json] [--control PATH]\n"
"\n"
"Lists the workers of the supervisor behind the control socket (default\n"
"from control_socket / TQ_CONTROL_SOCKET): node, pool, pid, state, current\n"
"task, last heartbeat age, restarts, RSS.\n");
}

int
cmd_workers(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "control", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = cfg.control_socket;
	json_t *j, *ws, *w, *pools, *p;
	char why[512];
	size_t i;
	int ch, json = 0;

	while ((ch = getopt_long(argc, argv, "+jC:h", opts, NULL)) != -1)
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'C':
			path = optarg;
			break;
		case 'h':
			usage_workers(stdout);
			return 0;
		default:
			usage_workers(stderr);
			return EXIT_USAGE;
		}
	if (optind != argc) {
		usage_workers(stderr);
		return EXIT_USAGE;
	}
	if ((j = control_query(path, why, sizeof(why))) == NULL)
		die(EXIT_TEMP, "%s", why);
	if (json) {
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else {
		pools = json_object_get(j, "pools");
		json_array_foreach(pools, i, p)
			printf("pool %s: queue %s, %d workers%s, %lld restarts, "
			    "%lld hang kills\n",
			    json_string_value(json_object_get(p, "name")),
			    json_string_value(json_object_get(p, "queue")),
			    (int)json_integer_value(json_object_get(p,
			    "workers")),
			    json_is_true(json_object_get(p, "failing")) ?
			    " (FAILING: restarts paused)" : "",
			    (long long)json_integer_value(json_object_get(p,
			    "restarts")),
			    (long long)json_integer_value(json_object_get(p,
			    "hang_kills")));
		printf("%-12s %-10s %7s %-9s %-36s %5s %8s %8s %8s\n", "NODE",
		    "POOL", "PID", "STATE", "TASK", "PROG", "HB_AGE", "RESTARTS",
		    "RSS_KB");
		ws = json_object_get(j, "workers");
		json_array_foreach(ws, i, w) {
			json_t *t = json_object_get(w, "task");
			long long age = json_integer_value(json_object_get(w,
			    "heartbeat_age_ms"));
			char agebuf[32];

			if (age < 0)
				snprintf(agebuf, sizeof(agebuf), "-");
			else
				snprintf(agebuf, sizeof(agebuf), "%lldms", age);
			printf("%-12s %-10s %7lld %-9s %-36s %4lld%% %8s %8lld "
			    "%8lld\n",
			    json_string_value(json_object_get(w, "node")),
			    json_string_value(json_object_get(w, "pool")),
			    (long long)json_integer_value(json_object_get(w,
			    "pid")),
			    json_string_value(json_object_get(w, "state")),
			    json_is_string(t) ? json_string_value(t) : "-",
			    (long long)json_integer_value(json_object_get(w,
			    "progress")), agebuf,
			    (long long)json_integer_value(json_object_get(w,
			    "restarts")),
			    (long long)json_integer_value(json_object_get(w,
			    "rss_kb")));
		}
	}
	json_decref(j);
	return 0;
}
