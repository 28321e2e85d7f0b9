/* common.c: what every command of tq shares (cli.h): the configuration,
 * dying with an exit status, connecting, and option values. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "config.h"
#include "util.h"
#include "uuid.h"

#include "cli.h"

struct config cfg;

void __attribute__((noreturn))
die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("tq: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

void
need_store(struct client *c)
{
	if (client_store(c) == -1)
		die(c->err_temp ? EXIT_TEMP : EXIT_PERM, "%s", c->err);
}

void
open_client(struct client *c)
{
	if (client_init(c, &cfg) == -1)
		die(EXIT_PERM, "%s", c->err);
}

long long
num_arg(const char *opt, const char *v, long long min, long long max)
{
	const char *errstr;
	long long n;

	if (parse_num(v, min, max, &n, &errstr) == -1)
		die(EXIT_USAGE, "%s: \"%s\" is %s (allowed %lld..%lld)", opt, v,
		    errstr, min, max);
	return n;
}

void
parse_id(const char *s, struct uuid *id)
{
	if (uuid_parse(s, id) == -1)
		die(EXIT_USAGE, "\"%s\" is not a task id", s);
}

long long
secs_to_ms(const char *opt, const char *v)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno || *end != '\0' || end == v || d < 0 || d > 31536000.0)
		die(EXIT_USAGE, "%s: \"%s\" is not a number of seconds", opt, v);
	return (long long)(d * 1000.0 + 0.5);
}

void
check_payload(size_t len)
{
	if (len > (size_t)cfg.payload_max)
		die(EXIT_PERM, "payload of %zu bytes exceeds payload_max "
		    "(%lld bytes); nothing was submitted", len, cfg.payload_max);
}

int
json_flag(int argc, char **argv, void (*usage)(FILE *), int *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	*json = 0;
	while ((ch = getopt_long(argc, argv, "+jh", opts, NULL)) != -1)
		switch (ch) {
		case 'j':
			*json = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(EXIT_USAGE);
		}
	return optind;
}
