/*
 * fuzz_url.c: url_parse (lib/url.c) on a NUL-terminated copy of the input.
 * On success: every field is a terminated string within its array, the
 * port is 1..65535, and url_redact never shows the password. "Never shows"
 * is checked two ways: the redacted text must not contain the password,
 * unless the same text also comes out when the password is replaced (then
 * the match is the user, host or path, e.g. the default guest:guest); and
 * the redacted text must not depend on the password at all.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void __attribute__((noreturn))
fail(const char *what, const char *in, const struct url *u, const char *red)
{
	fprintf(stderr, "fuzz_url: invariant violated: %s\n  input: \"%s\"\n",
	    what, in);
	if (u != NULL)
		fprintf(stderr, "  user \"%s\" pass \"%s\" host \"%s\" port %d "
		    "path \"%s\"\n", u->user, u->pass, u->host, u->port,
		    u->path);
	if (red != NULL)
		fprintf(stderr, "  redacted: \"%s\"\n", red);
	abort();
}

#define TERMINATED(a)	(memchr((a), '\0', sizeof(a)) != NULL)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct url u, v;
	char err[256], red[2048], red2[2048], *s;
	size_t i;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	err[0] = '\0';
	if (url_parse(s, &u, err, sizeof(err)) != 0) {
		if (err[0] == '\0')
			fail("failure without a reason", s, NULL, NULL);
		free(s);
		return 0;
	}
	if (!TERMINATED(u.user) || !TERMINATED(u.pass) ||
	    !TERMINATED(u.host) || !TERMINATED(u.path))
		fail("unterminated field", s, NULL, NULL);
	if ((unsigned)u.scheme > URL_MYSQL)
		fail("bad scheme", s, &u, NULL);
	if (u.port < 1 || u.port > 65535)
		fail("port out of range", s, &u, NULL);
	if (u.host[0] == '\0')
		fail("empty host", s, &u, NULL);
	if (u.scheme == URL_MYSQL && u.path[0] == '\0')
		fail("mysql URL without a database", s, &u, NULL);

	url_redact(&u, red, sizeof(red));
	if (strlen(red) + 1 >= sizeof(red))
		fail("redacted text truncated (buffer too small)", s, &u, red);
	if (u.pass[0] != '\0') {
		/* The same URL with another password. */
		v = u;
		memset(v.pass, 0, sizeof(v.pass));
		v.pass[0] = '\x01';
		url_redact(&v, red2, sizeof(red2));
		if (strstr(red, u.pass) != NULL && strstr(red2, u.pass) == NULL)
			fail("url_redact shows the password", s, &u, red);
		if (strcmp(red, red2) != 0)
			fail("url_redact output depends on the password", s,
			    &u, red);
		if (strstr(red, ":***@") == NULL)
			fail("url_redact does not mark the password", s, &u,
			    red);
	}
	url_clear(&u);
	for (i = 0; i < sizeof(u.pass); i++)
		if (u.pass[i] != '\0')
			fail("url_clear left password bytes", s, NULL, NULL);
	free(s);
	return 0;
}
