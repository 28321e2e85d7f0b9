/* url.c: a strict URL parser; anything unexpected is an error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "url.h"
#include "util.h"

/* Decodes [s, s+n) into out; -1 on a bad escape, a NUL, or overflow. */
static int
pct_decode(const char *s, size_t n, char *out, size_t outsz)
{
	size_t i, o = 0;
	int hi, lo;
	char c;

	for (i = 0; i < n; i++) {
		c = s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			if ((hi = hexval(s[i + 1])) == -1 ||
			    (lo = hexval(s[i + 2])) == -1)
				return -1;
			c = (char)(hi << 4 | lo);
			if (c == '\0')
				return -1;
			i += 2;
		}
		if (o + 1 >= outsz)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

int
url_parse(const char *s, struct url *u, char *err, size_t errsz)
{
	const char *p, *at, *hostend, *colon, *slash, *portstr;
	char portbuf[8];
	const char *errstr;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (strncmp(s, "amqp://", 7) == 0) {
		u->scheme = URL_AMQP;
		u->port = 5672;
		p = s + 7;
	} else if (strncmp(s, "amqps://", 8) == 0) {
		u->scheme = URL_AMQPS;
		u->port = 5671;
		p = s + 8;
	} else if (strncmp(s, "mysql://", 8) == 0) {
		u->scheme = URL_MYSQL;
		u->port = 3306;
		p = s + 8;
	} else {
		snprintf(err, errsz, "unknown scheme (want amqp://, amqps:// "
		    "or mysql://)");
		return -1;
	}
	slash = strchr(p, '/');
	hostend = slash ? slash : p + strlen(p);
	/* The last '@' before the path ends the credentials. */
	at = NULL;
	for (const char *q = p; q < hostend; q++)
		if (*q == '@')
			at = q;
	if (at != NULL) {
		colon = memchr(p, ':', (size_t)(at - p));
		n = (size_t)((colon ? colon : at) - p);
		if (pct_decode(p, n, u->user, sizeof(u->user)) == -1) {
			snprintf(err, errsz, "bad user name");
			return -1;
		}
		if (colon && pct_decode(colon + 1, (size_t)(at - colon - 1),
		    u->pass, sizeof(u->pass)) == -1) {
			snprintf(err, errsz, "bad password");
			return -1;
		}
		p = at + 1;
	}
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(hostend - p));

		if (rb == NULL) {
			snprintf(err, errsz, "bad IPv6 host");
			return -1;
		}
		n = (size_t)(rb - p - 1);
		if (n == 0 || n >= sizeof(u->host)) {
			snprintf(err, errsz, "bad host");
			return -1;
		}
		memcpy(u->host, p + 1, n);
		u->host[n] = '\0';
		portstr = rb + 1 < hostend && rb[1] == ':' ? rb + 2 : NULL;
		if (rb + 1 < hostend && rb[1] != ':') {
			snprintf(err, errsz, "bad host");
			return -1;
		}
	} else {
		colon = memchr(p, ':', (size_t)(hostend - p));
		n = (size_t)((colon ? colon : hostend) - p);
		if (n == 0 || n >= sizeof(u->host)) {
			snprintf(err, errsz, "missing host");
			return -1;
		}
		memcpy(u->host, p, n);
		u->host[n] = '\0';
		if (strcspn(u->host, " \t%@/?#") != n) {
			snprintf(err, errsz, "bad host");
			return -1;
		}
		portstr = colon ? colon + 1 : NULL;
	}
	if (portstr != NULL) {
		n = (size_t)(hostend - portstr);
		if (n == 0 || n >= sizeof(portbuf)) {
			snprintf(err, errsz, "bad port");
			return -1;
		}
		memcpy(portbuf, portstr, n);
		portbuf[n] = '\0';
		u->port = (int)strtonum(portbuf, 1, 65535, &errstr);
		if (errstr != NULL) {
			snprintf(err, errsz, "port is %s", errstr);
			return -1;
		}
	}
	if (slash != NULL && slash[1] != '\0') {
		if (strpbrk(slash + 1, "?#") != NULL) {
			snprintf(err, errsz, "query strings are not supported");
			return -1;
		}
		if (pct_decode(slash + 1, strlen(slash + 1), u->path,
		    sizeof(u->path)) == -1) {
			snprintf(err, errsz, "bad path");
			return -1;
		}
	}
	if (u->scheme == URL_MYSQL && u->path[0] == '\0') {
		snprintf(err, errsz, "missing database name");
		return -1;
	}
	if (u->scheme != URL_MYSQL && u->path[0] == '\0')
		strlcpy(u->path, "/", sizeof(u->path));
	if (u->user[0] == '\0' && u->scheme != URL_MYSQL) {
		strlcpy(u->user, "guest", sizeof(u->user));
		if (u->pass[0] == '\0')
			strlcpy(u->pass, "guest", sizeof(u->pass));
	}
	return 0;
}

void
url_redact(const struct url *u, char *out, size_t outsz)
{
	static const char *const schemes[] = { "amqp", "amqps", "mysql" };
	int v6 = strchr(u->host, ':') != NULL;

	snprintf(out, outsz, "%s://%s%s%s%s%s%s:%d/%s", schemes[u->scheme],
	    u->user, u->pass[0] ? ":***" : "", u->user[0] || u->pass[0] ? "@" : "",
	    v6 ? "[" : "", u->host, v6 ? "]" : "", u->port,
	    strcmp(u->path, "/") == 0 ? "%2f" : u->path);
}

void
url_clear(struct url *u)
{
	explicit_bzero(u->pass, sizeof(u->pass));
}

int
url_has_password(const char *s)
{
	const char *p, *end, *at, *q;

	while ((p = strstr(s, "://")) != NULL) {
		p += 3;
		end = p + strcspn(p, "/,");
		at = NULL;
		for (q = p; q < end; q++)
			if (*q == '@')
				at = q;
		if (at != NULL && memchr(p, ':', (size_t)(at - p)) != NULL)
			return 1;
		s = end;
	}
	return 0;
}
