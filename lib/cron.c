/* cron.c: parse and step cron expressions. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cron.h"

static const char *const months[] = { "jan", "feb", "mar", "apr", "may",
	"jun", "jul", "aug", "sep", "oct", "nov", "dec" };
static const char *const days[] = { "sun", "mon", "tue", "wed", "thu",
	"fri", "sat" };

/* A number or a name; -1 when neither. */
static int
value(const char *s, size_t n, const char *const *names, int nnames,
    int name_base)
{
	char buf[8];
	int i, v = 0;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (isdigit((unsigned char)buf[0])) {
		for (i = 0; buf[i]; i++) {
			if (!isdigit((unsigned char)buf[i]) || v > 1000)
				return -1;
			v = v * 10 + (buf[i] - '0');
		}
		return v;
	}
	for (i = 0; names && i < nnames; i++)
		if (strcasecmp(buf, names[i]) == 0)
			return i + name_base;
	return -1;
}

/* Parses one field into bits lo..hi. */
static int
field(const char *s, size_t n, int lo, int hi, const char *const *names,
    int nnames, int name_base, uint64_t *bits, int *star, char *err,
    size_t errsz, const char *what)
{
	const char *p = s, *end = s + n, *comma, *slash, *dash;
	int a, b, step, v;

	*bits = 0;
	*star = n == 1 && s[0] == '*';
	while (p < end) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (comma == NULL)
			comma = end;
		slash = memchr(p, '/', (size_t)(comma - p));
		step = 1;
		if (slash != NULL) {
			step = value(slash + 1, (size_t)(comma - slash - 1),
			    NULL, 0, 0);
			if (step < 1 || step > hi) {
				snprintf(err, errsz, "%s: bad step", what);
				return -1;
			}
		}
		const char *rend = slash ? slash : comma;
		if (rend - p == 1 && *p == '*') {
			a = lo;
			b = hi;
		} else {
			dash = memchr(p, '-', (size_t)(rend - p));
			a = value(p, (size_t)((dash ? dash : rend) - p), names,
			    nnames, name_base);
			b = dash ? value(dash + 1, (size_t)(rend - dash - 1),
			    names, nnames, name_base) : slash ? hi : a;
			if (a < lo || a > hi || b < lo || b > hi || a > b) {
				snprintf(err, errsz, "%s: \"%.*s\" out of %d-%d",
				    what, (int)(comma - p), p, lo, hi);
				return -1;
			}
		}
		for (v = a; v <= b; v += step)
			*bits |= 1ULL << v;
		p = comma + 1;
	}
	if (*bits == 0) {
		snprintf(err, errsz, "%s: empty", what);
		return -1;
	}
	return 0;
}

int
cron_parse(const char *s, struct cron *c, char *err, size_t errsz)
{
	const char *f[7];
	size_t len[7];
	uint64_t bits;
	int n = 0, k = 0, star;
	const char *p = s;

	memset(c, 0, sizeof(*c));
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (n == 6) {
			snprintf(err, errsz, "too many fields (5 or 6)");
			return -1;
		}
		f[n] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		len[n] = (size_t)(p - f[n]);
		n++;
	}
	if (n != 5 && n != 6) {
		snprintf(err, errsz, "want 5 fields (or 6 with seconds), got %d",
		    n);
		return -1;
	}
	c->has_sec = n == 6;
	if (c->has_sec) {
		if (field(f[k], len[k], 0, 59, NULL, 0, 0, &c->sec, &star, err,
		    errsz, "seconds") == -1)
			return -1;
		k++;
	} else
		c->sec = 1;	/* second 0 */
	if (field(f[k], len[k], 0, 59, NULL, 0, 0, &c->min, &star, err, errsz,
	    "minute") == -1)
		return -1;
	k++;
	if (field(f[k], len[k], 0, 23, NULL, 0, 0, &bits, &star, err, errsz,
	    "hour") == -1)
		return -1;
	c->hour = (uint32_t)bits;
	k++;
	if (field(f[k], len[k], 1, 31, NULL, 0, 0, &bits, &c->mday_star, err,
	    errsz, "day of month") == -1)
		return -1;
	c->mday = (uint32_t)bits;
	k++;
	if (field(f[k], len[k], 1, 12, months, 12, 1, &bits, &star, err, errsz,
	    "month") == -1)
		return -1;
	c->mon = (uint16_t)bits;
	k++;
	if (field(f[k], len[k], 0, 7, days, 7, 0, &bits, &c->wday_star, err,
	    errsz, "day of week") == -1)
		return -1;
	if (bits & (1u << 7))
		bits |= 1;	/* 7 is Sunday too */
	c->wday = (uint8_t)(bits & 0x7f);
	return 0;
}

static int
day_ok(const struct cron *c, const struct tm *tm)
{
	int m = (c->mday >> tm->tm_mday) & 1, w = (c->wday >> tm->tm_wday) & 1;

	if (c->mday_star && c->wday_star)
		return 1;
	if (c->mday_star)
		return w;
	if (c->wday_star)
		return m;
	return m || w;
}

time_t
cron_next(const struct cron *c, time_t t)
{
	time_t limit = t + 5LL * 366 * 86400;
	struct tm tm;

	t++;
	while (t <= limit) {
		gmtime_r(&t, &tm);
		if (!((c->mon >> (tm.tm_mon + 1)) & 1)) {
			/* to the first second of the next month */
			tm.tm_mday = 1;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
			tm.tm_mon++;
			t = timegm(&tm);
			continue;
		}
		if (!day_ok(c, &tm)) {
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
			tm.tm_mday++;
			t = timegm(&tm);
			continue;
		}
		if (!((c->hour >> tm.tm_hour) & 1)) {
			tm.tm_min = tm.tm_sec = 0;
			tm.tm_hour++;
			t = timegm(&tm);
			continue;
		}
		if (!((c->min >> tm.tm_min) & 1)) {
			tm.tm_sec = 0;
			tm.tm_min++;
			t = timegm(&tm);
			continue;
		}
		if (!((c->sec >> tm.tm_sec) & 1)) {
			t++;
			continue;
		}
		return t;
	}
	return -1;
}
