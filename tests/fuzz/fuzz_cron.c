/*
 * fuzz_cron.c: cron_parse (lib/cron.c) on a NUL-terminated copy of the
 * input, then cron_next from fixed times. On success:
 *  - the bit sets stay within their fields' ranges and are not empty;
 *  - cron_next(t) is -1 or a time r > t that matches the expression
 *    (checked by an independent matcher below), and cron_next(r - 1) is r;
 *  - when r is within two days of t, no matching second lies in (t, r);
 *  - -1 only when no month of the expression has any of its days (e.g.
 *    "0 0 30 2 *"): otherwise a match exists within five years.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const time_t starts[] = {
	1700000000,	/* Tue 2023-11-14 22:13:20 UTC */
	1709251199,	/* Thu 2024-02-29 23:59:59 UTC, a leap day */
	1735689599,	/* Tue 2024-12-31 23:59:59 UTC, year end */
};

static void __attribute__((noreturn))
fail(const char *what, const char *in, time_t t, time_t r)
{
	fprintf(stderr, "fuzz_cron: invariant violated: %s\n  expression: "
	    "\"%s\"\n  from %lld, got %lld\n", what, in, (long long)t,
	    (long long)r);
	abort();
}

/* Whether second t matches c (day of month and weekday as in cron). */
static int
matches(const struct cron *c, time_t t)
{
	struct tm tm;
	int m, w, day;

	if (gmtime_r(&t, &tm) == NULL)
		return 0;
	m = (c->mday >> tm.tm_mday) & 1;
	w = (c->wday >> tm.tm_wday) & 1;
	if (c->mday_star && c->wday_star)
		day = 1;
	else if (c->mday_star)
		day = w;
	else if (c->wday_star)
		day = m;
	else
		day = m || w;
	return ((c->sec >> tm.tm_sec) & 1) && ((c->min >> tm.tm_min) & 1) &&
	    ((c->hour >> tm.tm_hour) & 1) && ((c->mon >> (tm.tm_mon + 1)) & 1)
	    && day;
}

/* Whether the hour starting at t matches c, minutes and seconds aside. */
static int
matches_hour(const struct cron *c, time_t t)
{
	struct cron h = *c;

	h.sec = ~0ULL;
	h.min = ~0ULL;
	return matches(&h, t);
}

/* Whether some day of some month of c exists (a match within 5 years). */
static int
satisfiable(const struct cron *c)
{
	static const int mdays[13] = { 0, 31, 29, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };
	int mon, d;

	if (c->mday_star || !c->wday_star)
		return 1;	/* every month has every weekday */
	for (mon = 1; mon <= 12; mon++) {
		if (!((c->mon >> mon) & 1))
			continue;
		for (d = 1; d <= mdays[mon]; d++)
			if ((c->mday >> d) & 1)
				return 1;
	}
	return 0;
}

static void
check_next(const struct cron *c, const char *s, time_t t)
{
	time_t r, q, hour;
	int m, sec;

	r = cron_next(c, t);
	if (r == -1) {
		if (satisfiable(c))
			fail("no next time for a satisfiable expression", s, t,
			    r);
		return;
	}
	if (r <= t)
		fail("next time not later", s, t, r);
	if (r - t > 5LL * 366 * 86400)
		fail("next time beyond five years", s, t, r);
	if (!matches(c, r))
		fail("next time does not match", s, t, r);
	if ((q = cron_next(c, r - 1)) != r)
		fail("cron_next(r - 1) != r", s, r - 1, q);
	/* Nothing earlier matches: hour by hour, then its minutes and
	 * seconds (UTC hours start at multiples of 3600). */
	if (r - t <= 8 * 86400) {
		for (hour = t - t % 3600; hour < r; hour += 3600) {
			if (!matches_hour(c, hour))
				continue;
			for (m = 0; m < 60; m++) {
				if (!((c->min >> m) & 1))
					continue;
				for (sec = 0; sec < 60; sec++) {
					q = hour + m * 60 + sec;
					if (((c->sec >> sec) & 1) && q > t && q < r)
						fail("skipped an earlier match", s,
						    t, q);
				}
			}
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cron c;
	char err[256], *s;
	size_t i;

	if (size > 256 || (s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	err[0] = '\0';
	if (cron_parse(s, &c, err, sizeof(err)) != 0) {
		if (err[0] == '\0')
			fail("failure without a reason", s, 0, 0);
		free(s);
		return 0;
	}
	if (c.sec == 0 || c.sec >> 60 || (!c.has_sec && c.sec != 1))
		fail("seconds out of range", s, 0, 0);
	if (c.min == 0 || c.min >> 60)
		fail("minutes out of range", s, 0, 0);
	if (c.hour == 0 || c.hour >> 24)
		fail("hours out of range", s, 0, 0);
	if (c.mday == 0 || (c.mday & 1))
		fail("days of month out of range", s, 0, 0);
	if (c.mon == 0 || (c.mon & 1) || c.mon >> 13)
		fail("months out of range", s, 0, 0);
	if (c.wday == 0 || c.wday >> 7)
		fail("weekdays out of range", s, 0, 0);
	for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++)
		check_next(&c, s, starts[i]);
	free(s);
	return 0;
}
