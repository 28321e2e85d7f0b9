/* tq web: the dashboard. Serves the pages built into the binary and a
 * JSON API over HTTP (web_http.c), reading the database through lib/store
 * (web_api.c), and acting through the paths of the tq commands
 * (web_act.c) for a caller that presents the write token. Here: options,
 * the token, and the life of the process. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#include "cli.h"
#include "web.h"

#define WEB_LISTEN	"127.0.0.1:8765"
#define WEB_TOKEN_MIN	16

struct web W;

static void
usage_web(FILE *fp)
{
	fprintf(fp,
"usage: tq web [--listen HOST:PORT] [--token-file FILE]\n"
"\n"
"Serves the dashboard and its JSON API over HTTP: queues and their counts,\n"
"throughput by hour, nodes, the leader and running tasks, the task list\n"
"(filtered, paged), each task with its attempts, failed tasks, periodic\n"
"schedules. It reads the database only, so one tq web sees the cluster.\n"
"\n"
"  --listen HOST:PORT  where to listen (default " WEB_LISTEN "; [::1]:PORT\n"
"                      for IPv6). Keep it on loopback, or put a proxy with\n"
"                      TLS in front: tq web speaks plain HTTP.\n"
"  --token-file FILE   the write token (mode 0600, at least %d characters):\n"
"                      cancel, retry and purge need it, sent as\n"
"                      \"Authorization: Bearer TOKEN\" with the CSRF value of\n"
"                      /api/session. Without it tq web is read-only.\n"
"\n"
"Stops on SIGINT or SIGTERM. Actions are logged with the caller's address.\n",
	    WEB_TOKEN_MIN);
}

/* The token from a file that only its owner may read. 0, or -1 with why. */
static int
read_token(const char *path, char *why, size_t whysz)
{
	struct stat sb;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(why, whysz, "token file \"%s\": %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    (sb.st_mode & 077) != 0) {
		snprintf(why, whysz, "token file \"%s\": not a regular file "
		    "of mode 0600 or stricter (chmod 600 it)", path);
		close(fd);
		return -1;
	}
	n = read(fd, W.token, sizeof(W.token) - 1);
	close(fd);
	if (n < 0) {
		snprintf(why, whysz, "token file \"%s\": %s", path,
		    strerror(errno));
		return -1;
	}
	W.token[n] = '\0';
	W.token[strcspn(W.token, "\r\n")] = '\0';
	if (strlen(W.token) < WEB_TOKEN_MIN) {
		explicit_bzero(W.token, sizeof(W.token));
		snprintf(why, whysz, "token file \"%s\": the token is shorter "
		    "than %d characters", path, WEB_TOKEN_MIN);
		return -1;
	}
	return 0;
}

int
cmd_web(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "token-file", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *token_file = NULL;
	unsigned char rnd[WEB_CSRF_LEN / 2];
	char why[TQ_ERRSZ];
	sigset_t set;
	void *d;
	int ch, sig = 0;
	size_t i;

	snprintf(W.listen, sizeof(W.listen), "%s", WEB_LISTEN);
	while ((ch = getopt_long(argc, argv, "+l:t:h", opts, NULL)) != -1)
		switch (ch) {
		case 'l':
			if (strlen(optarg) >= sizeof(W.listen))
				die(EXIT_USAGE, "--listen: \"%s\" is too long",
				    optarg);
			snprintf(W.listen, sizeof(W.listen), "%s", optarg);
			break;
		case 't':
			token_file = optarg;
			break;
		case 'h':
			usage_web(stdout);
			return 0;
		default:
			usage_web(stderr);
			return EXIT_USAGE;
		}
	if (optind != argc) {
		usage_web(stderr);
		return EXIT_USAGE;
	}
	log_setlevel(LOG_LVL_INFO);
	if (token_file && read_token(token_file, why, sizeof(why)) == -1)
		die(EXIT_PERM, "%s", why);
	if (rand_bytes(rnd, sizeof(rnd)) == -1)
		die(EXIT_TEMP, "csrf value: no random bytes");
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(W.csrf + 2 * i, 3, "%02x", rnd[i]);
	if (client_init(&W.c, &cfg) == -1)
		die(EXIT_PERM, "%s", W.c.err);
	/* The database may be away at start: each request connects again. */
	if (client_store(&W.c) == -1)
		log_warnx("event=store_unreachable why=\"%s\"", W.c.err);
	/* The server's thread inherits the mask: signals come here only. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		die(EXIT_TEMP, "sigmask: cannot block signals");
	if ((d = web_http_start(why, sizeof(why))) == NULL)
		die(strncmp(why, "--listen", 8) == 0 ? EXIT_USAGE : EXIT_TEMP,
		    "%s", why);
	log_info("event=web_listening url=http://%s write=%s", W.listen,
	    W.token[0] ? "token" : "off");
	sig = web_sample_loop(&set);
	log_info("event=web_stopping signal=%d", sig);
	web_http_stop(d);
	client_close(&W.c);
	explicit_bzero(W.token, sizeof(W.token));
	return 0;
}
